"""Checks a schema cannot make: verbatim quotes, unique and existing ids, and policy coverage.

A quote is verbatim when it stands in the policy text once whitespace is collapsed and markdown
bold markers (`**`) are dropped: the policies came from PDFs and Word files whose line breaks
and emphasis are accidents of conversion, not words.

Coverage is measured per line of the policy. A line is covered when quotes span at least half of
it. Headings, contents entries, FAQ questions and lines without words are exempt; every other
line must be covered or listed in the council's `not_rules` with a reason.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from bot.knowledge import MIN_QUESTIONS, Clause, IncidentRoute, KnowledgeBase, Policy
from bot.verdict import is_question, same_polarity, verdict_of

_BOLD = re.compile(r"\*\*")
_SPACE = re.compile(r"\s+")
_CURLY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_LIST_MARKER = re.compile(r"^\s*(?:[-*\u2022\uf0b7]|o\s|[ivx]+\.|[a-z]\))")
_CONTENTS = re.compile(r"(?:\.{4,}|\t\s*\.?\s*\d+\s*$|</?b>)")
_WORD = re.compile(r"[A-Za-z]{2,}")
HEADING_MAX_WORDS = 10
# "| --- | :--: |": the rule under a Markdown table's header row (never a bare "---").
_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)+\|?$|^\|\s*:?-{3,}:?\s*\|$")
# "3 Purpose", "IV. Scope", "Section 3 \u2013 Personal use ...", "Appendix A: Quick checklist"
_NUMBERED_TITLE = re.compile(
    r"^(?:(?i:section|part|chapter|appendix|annex|schedule)\s+(?:\d+|[IVX]+|[A-Z])\b\.?\s*"
    r"[-\u2013\u2014:]?\s*|(?:\d+|[IVX]+)\.?\s+)[A-Za-z]"
)
NUMBERED_TITLE_MAX_WORDS = 14
COVERED_FRACTION = 0.5


def verbatim_key(text: str) -> str:
    """The form in which a quote must stand in its policy (see the module docstring)."""
    return _SPACE.sub(" ", _BOLD.sub("", text)).strip()


def loose_key(text: str) -> str:
    """The comparison the evaluation files use: case, whitespace, curly quotes and ** ignored."""
    return verbatim_key(text.translate(_CURLY)).casefold()


def is_exempt_line(line: str, next_line: str = "") -> bool:
    """Headings, contents entries, FAQ questions and lines with no words state no rule.

    A short line that the next line continues in lower case is a sentence broken by the
    conversion from PDF, not a heading.
    """
    stripped = line.strip()
    if next_line.strip()[:1].islower() and not stripped.endswith((".", ":", "?")):
        return False
    if _TABLE_RULE.match(next_line.strip()):  # a Markdown table's header row names its columns
        return True
    if not _WORD.search(stripped) or stripped.startswith("#") or _CONTENTS.search(stripped):
        return True
    if stripped.endswith("?"):
        return True
    plain = verbatim_key(stripped)
    if _NUMBERED_TITLE.match(
        _LIST_MARKER.sub("", stripped, count=1).strip()
    ) and not plain.endswith((".", ":", ";", ",", "!")):
        # "3 Purpose", "- 4 The scope", "11. EMPLOYEE GUIDELINES - ...": a numbered title, in
        # the text or in its contents list; no sentence ends in it.
        return len(plain.split()) <= NUMBERED_TITLE_MAX_WORDS
    if _LIST_MARKER.match(stripped):
        return False
    return len(plain.split()) <= HEADING_MAX_WORDS and not plain.endswith((".", ";", ","))


@dataclass(frozen=True, slots=True)
class LineCoverage:
    number: int
    text: str
    status: str  # "quoted", "exempt", "not-a-rule", "uncovered"


@dataclass(frozen=True, slots=True)
class Coverage:
    org: str
    lines: tuple[LineCoverage, ...]

    def count(self, status: str) -> int:
        return sum(1 for line in self.lines if line.status == status)

    @property
    def uncovered(self) -> tuple[LineCoverage, ...]:
        return tuple(line for line in self.lines if line.status == "uncovered")

    @property
    def fraction(self) -> float:
        """Share of rule-bearing lines (neither exempt nor listed as no rule) that are quoted."""
        quoted = self.count("quoted")
        bearing = quoted + self.count("uncovered")
        return quoted / bearing if bearing else 1.0


def coverage(policy: Policy) -> Coverage:
    # Join the lines into one collapsed text, remembering where each line sits in it, so that
    # a quote spanning a line break marks both lines.
    spans: list[tuple[int, int, int, str]] = []
    parts: list[str] = []
    offset = 0
    for number, raw in enumerate(policy.text.splitlines(), start=1):
        key = verbatim_key(raw)
        if not key:
            continue
        spans.append((number, offset, offset + len(key), raw))
        parts.append(key)
        offset += len(key) + 1
    joined = " ".join(parts)
    covered = bytearray(len(joined))
    for clause in policy.clauses:
        quote = verbatim_key(clause.quote)
        start = joined.find(quote)
        while quote and start >= 0:
            covered[start : start + len(quote)] = b"\x01" * len(quote)
            start = joined.find(quote, start + 1)
    not_rules = [verbatim_key(n.text) for n in policy.not_rules]
    lines = []
    for index, (number, start, end, raw) in enumerate(spans):
        following = spans[index + 1][3] if index + 1 < len(spans) else ""
        if sum(covered[start:end]) >= COVERED_FRACTION * (end - start):
            status = "quoted"
        elif any(joined[start:end].startswith(prefix) for prefix in not_rules):
            status = "not-a-rule"
        elif is_exempt_line(raw, following):
            status = "exempt"
        else:
            status = "uncovered"
        lines.append(LineCoverage(number=number, text=raw.strip(), status=status))
    return Coverage(org=policy.org, lines=tuple(lines))


@dataclass(frozen=True, slots=True)
class Problem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def _file(policy: Policy, name: str) -> str:
    """Where a problem sits: the council's file, or just the council for a policy not loaded
    from files."""
    return f"{policy.source / name}" if policy.source else policy.org


def check_policy(policy: Policy) -> list[Problem]:
    """Everything wrong with one council's clauses, each naming its file and clause."""
    where_file = _file(policy, "clauses.yaml")
    text = verbatim_key(policy.text)
    problems: list[Problem] = []
    ids = Counter(clause.id for clause in policy.clauses)
    for clause_id, count in ids.items():
        if count > 1:
            problems.append(Problem(where_file, f"clause {clause_id!r} defined {count} times"))
    for clause in policy.clauses:
        where = f"{where_file}: clause {clause.id!r}"
        if verbatim_key(clause.quote) not in text:
            problems.append(Problem(where, "quote is not verbatim in policy.txt"))
        problems.extend(Problem(where, message) for message in verdict_problems(clause))
        own = len(set(clause.questions) - set(clause.borrowed))
        if not clause.drafted and own < MIN_QUESTIONS:
            problems.append(
                Problem(
                    where,
                    f"{own} example question(s) of its own; an answered clause has "
                    f"at least {MIN_QUESTIONS}",
                )
            )
        for related in clause.related:
            if related not in ids:
                problems.append(Problem(where, f"related clause {related!r} does not exist"))
            elif related == clause.id:
                problems.append(Problem(where, "lists itself as related"))
    if policy.escalations is not None:
        where_rules = _file(policy, "escalations.yaml")
        routes: dict[str, IncidentRoute] = {
            kind.value: route for kind, route in policy.escalations.kinds.items()
        }
        routes["manager_involved"] = policy.escalations.manager_involved
        for kind, route in routes.items():
            if route.clause is not None and route.clause not in ids:
                problems.append(
                    Problem(where_rules, f"{kind}: clause {route.clause!r} does not exist")
                )
    meta_file = _file(policy, "policy.yaml")
    for not_rule in policy.not_rules:
        if verbatim_key(not_rule.text) not in text:
            problems.append(Problem(meta_file, f"not_rules text not in policy: {not_rule.text!r}"))
    return problems


def verdict_problems(clause: Clause) -> list[str]:
    """A verdict with nothing to say what it is a verdict on, or an `asks` that asks nothing."""
    problems = []
    verdict = verdict_of(clause.answer)
    if verdict is not None and not clause.asks:
        problems.append(
            f"answer opens with a verdict ({verdict.value}) but the clause has no `asks`: "
            "say which question the verdict answers, or state the rule without Yes/No/It depends"
        )
    if clause.asks is not None and not is_question(clause.asks):
        problems.append(f"asks {clause.asks!r} is not a question (words ending with '?')")
    return problems


def polarity_warnings(policy: Policy) -> list[Problem]:
    """Example questions asked the other way round from their clause's verdict.

    "Should I decline ...?" under a "No." to "Can I accept ...?" will be matched to that clause
    and read as "no, don't decline". Not an error (the reply shows `asks`), but the risk a
    policy owner should see before publishing: move the question to the clause that answers it
    that way round, or state the rule without a verdict.
    """
    where_file = _file(policy, "clauses.yaml")
    warnings = []
    for clause in policy.clauses:
        if clause.asks is None or verdict_of(clause.answer) is None:
            continue
        for question in clause.questions:
            if same_polarity(question, clause.asks) is False:
                warnings.append(
                    Problem(
                        f"{where_file}: clause {clause.id!r}",
                        f"question {question!r} is asked the other way round from asks "
                        f"{clause.asks!r}",
                    )
                )
    return warnings


def check_knowledge(knowledge: KnowledgeBase) -> list[Problem]:
    problems: list[Problem] = []
    for org in knowledge.orgs:
        policy = knowledge.policies[org]
        problems.extend(check_policy(policy))
        for line in coverage(policy).uncovered:
            problems.append(
                Problem(
                    f"{_file(policy, 'policy.txt')}:{line.number}",
                    f"line states a rule but no clause quotes it: {line.text[:80]!r}",
                )
            )
    problems.extend(topic_problems(knowledge))
    return problems


# A topic is for setting councils side by side: one that a single council addresses compares
# nothing. Checked only when at least this many councils are loaded (a lone council checked on
# its own addresses every topic alone).
TOPIC_MIN_COUNCILS = 2


def topic_problems(knowledge: KnowledgeBase) -> list[Problem]:
    """Clauses linked to topics that do not exist, and topics too few councils address."""
    problems: list[Problem] = []
    topics_file = str(knowledge.root / "topics.yaml") if knowledge.root else "topics"
    for org in knowledge.orgs:
        policy = knowledge.policies[org]
        for clause in policy.clauses:
            for topic_id in clause.topics:
                if topic_id not in knowledge.topics:
                    problems.append(
                        Problem(
                            f"{_file(policy, 'clauses.yaml')}: clause {clause.id!r}",
                            f"topic {topic_id!r} is not in {topics_file}",
                        )
                    )
    if len(knowledge.orgs) >= TOPIC_MIN_COUNCILS:
        for topic in knowledge.topics.values():
            councils = len(knowledge.addressing(topic.id))
            if councils < TOPIC_MIN_COUNCILS:
                problems.append(
                    Problem(
                        topics_file,
                        f"topic {topic.id!r} is addressed by {councils} council(s); "
                        f"a topic compares at least {TOPIC_MIN_COUNCILS}",
                    )
                )
    return problems


@dataclass(frozen=True, slots=True)
class NeedsAPerson:
    """What a council's knowledge still needs a person to write or decide before it is
    published: none of it fails the check, all of it is counted."""

    org: str
    without_answer: tuple[str, ...]  # drafted clauses: the bot answers with the quote
    without_asks: tuple[str, ...]  # clauses with no `asks`: no verdict, a quote for a label
    routes_without_clause: tuple[str, ...]  # incident kinds whose route no clause backs
    borrowed: int  # example questions borrowed from other councils, not yet reviewed

    @property
    def count(self) -> int:
        return (
            len(self.without_answer)
            + len(self.without_asks)
            + len(self.routes_without_clause)
            + self.borrowed
        )


def needs_a_person(policy: Policy) -> NeedsAPerson:
    routes: list[str] = []
    if policy.escalations is not None:
        routes = [kind.value for kind, rule in policy.escalations.kinds.items() if not rule.clause]
        if not policy.escalations.manager_involved.clause:
            routes.append("manager_involved")
    return NeedsAPerson(
        org=policy.org,
        without_answer=tuple(clause.id for clause in policy.clauses if clause.drafted),
        without_asks=tuple(clause.id for clause in policy.clauses if not clause.asks),
        routes_without_clause=tuple(routes),
        borrowed=sum(len(clause.borrowed) for clause in policy.clauses),
    )


def escalation_problems(knowledge: KnowledgeBase, configured: Iterable[str]) -> list[Problem]:
    """Councils the deployment takes reports for (`configured`: settings' escalations) whose
    knowledge has no escalations.yaml: their report form would refuse every report."""
    return [
        Problem(
            _file(knowledge.policies[org], "escalations.yaml"),
            "missing: the settings take reports for this council, but without its routes "
            "every report would be refused (see knowledge/README.md)",
        )
        for org in sorted(configured)
        if org in knowledge.policies and knowledge.policies[org].escalations is None
    ]
