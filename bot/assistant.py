"""The platform-neutral assistant: a `Question` in, a `Reply` out.

Adapters translate their platform's events into `Question`s and render `Reply`s; nothing here
knows about Slack, Teams, the web or the terminal.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.comparison import comparison_path
from bot.knowledge import Clause, Contacts, KnowledgeBase, Policy, Route, Topic
from bot.matcher import Decision, Kind, Match, Matcher, Tuning
from bot.normalise import Normaliser, words
from bot.reading import Reading, read
from bot.scoring import Weights, load_weights
from bot.semantic import (
    Encoder,
    QuoteAdapter,
    Semantics,
    cached_vectors,
    council_semantics,
    headed_quote,
    shipped_adapter,
    shipped_model,
)
from bot.verdict import Verdict, verdict_of

MAX_QUESTION_CHARS = 4000
# NUL and other control characters, lone surrogates (undecodable bytes from argv) and U+FFFD
# (undecodable bytes replaced by a decoder) only come from binary data, never from typing.
_BINARY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffd]")
# "How do other councils handle this?", "what do neighbouring authorities say?"
_OTHER_COUNCILS = re.compile(
    r"\b(?:other|different|neighbou?ring|another)\s+(?:local\s+)?(?:councils?|authorit(?:y|ies))\b"
    r"|\belsewhere\b|\bcompared?\b",
    re.IGNORECASE,
)
# What "how do other councils handle this?" says besides "other councils": no subject of its own.
_ABOUT_THIS = frozenset(
    {"handle", "handles", "deal", "deals", "treat", "approach", "rule", "rules", "policy"}
    | {"policies", "council", "councils", "it", "this", "that", "same", "thing", "does", "say"}
)


class QuestionError(ValueError):
    """The question cannot be answered as sent (empty, too long, not text)."""


@dataclass(frozen=True, slots=True)
class Question:
    org: str
    text: str
    asker: str = ""  # an opaque id, never a name
    where: str = ""  # the adapter's own label for the conversation; the core never reads it
    # The clause the conversation's last answer quoted, where the front end keeps it: what
    # "how do other councils handle this?" is about.
    follows: str | None = None


@dataclass(frozen=True, slots=True)
class PolicyRef:
    org: str
    council: str
    title: str
    date: str
    contacts: Contacts

    @classmethod
    def of(cls, policy: Policy) -> PolicyRef:
        return cls(
            org=policy.org,
            council=policy.council,
            title=policy.title,
            date=policy.date,
            contacts=policy.contacts,
        )


@dataclass(frozen=True, slots=True)
class Answer:
    question: Question
    policy: PolicyRef
    clause: Clause
    matches: tuple[Match, ...]
    # Up to two more clauses that also bear on the question: a post that touches several rules
    # gets them all in one reply, each with its own quote and section.
    also: tuple[Match, ...] = ()
    report: bool = False  # the message reports what someone else did (Reading.about_someone)
    # The shared topic this clause is on, where other councils rule on it too: every front end
    # links to the comparison (bot/comparison.py).
    compare: Topic | None = None
    kind: Kind = Kind.ANSWER

    @property
    def text(self) -> str:
        return self.clause.answer

    @property
    def asks(self) -> str | None:
        """The question the answer answers; every front end shows it with the answer."""
        return self.clause.asks

    @property
    def verdict(self) -> Verdict | None:
        return verdict_of(self.clause.answer)

    @property
    def route(self) -> Route | None:
        return route_of(self.matches, report=self.report)


@dataclass(frozen=True, slots=True)
class Clarify:
    question: Question
    policy: PolicyRef
    options: tuple[Match, ...]
    matches: tuple[Match, ...]
    report: bool = False  # the message reports what someone else did (Reading.about_someone)
    kind: Kind = Kind.CLARIFY

    @property
    def text(self) -> str:
        return "I'm not sure which part of the policy you mean. Did you mean one of these?"

    @property
    def route(self) -> Route | None:
        return route_of(self.options, report=self.report)


@dataclass(frozen=True, slots=True)
class Fallback:
    question: Question
    policy: PolicyRef
    contact: str
    matches: tuple[Match, ...]
    kind: Kind = Kind.FALLBACK

    @property
    def text(self) -> str:
        return (
            f"The {self.policy.council} {self.policy.title} doesn't cover this. "
            f"Please ask {self.contact}."
        )

    @property
    def route(self) -> Route | None:
        return None


Reply = Answer | Clarify | Fallback

# A report of an incident often matches the rule that was broken first and the clause on
# reporting it second or third: the reply offers the route of a routed runner-up that scores at
# least half as well as the best (measured on tests/eval/heldout.yaml: route accuracy 0.625 with
# the best two at 0.7, 0.688 with the best three at 0.5, nothing lost on the other sets).
ROUTE_DEPTH = 3
ROUTE_SHARE = 0.5
# A message that reports what someone else did is an incident: any reporting clause among the
# best three gives its route (heldout route accuracy 0.750 -> 0.812; 3 more routed replies among
# the 281 development questions that expect none).
REPORT_ROUTE_SHARE = 0.1
# A runner-up that is likely right on its own is shown with the answer as a rule that also applies.
ALSO_MIN_SCORE = 0.4
ALSO_MAX = 2
# A clause that says what follows a breach.
_WHAT_HAPPENS_NEXT = re.compile(r"\b(?:disciplinary|misconduct|dismissal)\b", re.IGNORECASE)


def also_of(
    matches: tuple[Match, ...],
    reading: Reading,
    rank: Callable[[str], tuple[Match, ...]] = lambda _: (),
) -> tuple[Match, ...]:
    """Up to ALSO_MAX runners-up that apply too: the likely ones, and, when the message tells of
    disciplinary steps after a post, the rule that was broken and what the policy says happens
    next, whichever of the two the answer is not.

    The rule broken is looked for first among the clauses `rank` finds for what the message says
    was posted (`Reading.what_was_posted`): the whole message also matches its consequences.
    `rank` is called only then (it compares meanings again, tens of milliseconds).
    """
    also = [m for m in matches[1:] if m.score >= ALSO_MIN_SCORE]
    if reading.after_a_post and matches:
        answer = matches[0]
        # the nearest clause of the kind the answer is not: what follows, or the rule broken
        answer_says_next = bool(_WHAT_HAPPENS_NEXT.search(answer.clause.quote))
        posted = reading.what_was_posted if answer_says_next else ""
        looked_in = (*(rank(posted) if posted else ()), *matches[1:])
        other = next(
            (
                m
                for m in looked_in
                if m.clause.id != answer.clause.id
                and bool(_WHAT_HAPPENS_NEXT.search(m.clause.quote)) is not answer_says_next
            ),
            None,
        )
        if other is not None:
            also = [other, *(m for m in also if m.clause.id != other.clause.id)]
    return tuple(also[:ALSO_MAX])


def route_of(matches: tuple[Match, ...], *, report: bool = False) -> Route | None:
    """Who to tell, when a clause near the top of the matches is about reporting; a weaker one
    will do when the message reports what someone else did (`Reading.about_someone`)."""
    if not matches:
        return None
    share = REPORT_ROUTE_SHARE if report else ROUTE_SHARE
    for match in matches[:ROUTE_DEPTH]:
        if match.clause.route and match.score >= share * matches[0].score:
            return match.clause.route
    return None


def validate_text(text: str) -> str:
    """The question stripped, or `QuestionError` saying plainly what is wrong with it."""
    if _BINARY.search(text):
        raise QuestionError("the question is not text (it contains binary data)")
    stripped = text.strip()
    if not stripped:
        raise QuestionError("the question is empty")
    if len(stripped) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"the question is too long ({len(stripped)} characters; the limit is "
            f"{MAX_QUESTION_CHARS})"
        )
    return stripped


class Assistant:
    """Answers questions for every council in a knowledge base."""

    def __init__(
        self,
        knowledge: KnowledgeBase,
        *,
        tuning: Tuning | None = None,
        weights: Weights | None = None,
        encoder: Encoder | None = None,
        adapters: Mapping[str, QuoteAdapter] | None = None,
    ) -> None:
        """`adapters`: per council, the quote adapter its drafted clauses are compared through
        (bot/semantic.py); the shipped one for the others. A council with no drafted clause
        needs none, and none is read for it."""
        self.knowledge = knowledge
        weights = weights or load_weights()
        self.encoder = encoder = encoder or shipped_model()
        semantics = council_semantics(
            encoder,
            {
                org: [(*c.questions, c.quote) for c in policy.clauses]
                for org, policy in knowledge.policies.items()
            },
            knowledge.outside,
        )
        clauses = [c for policy in knowledge.policies.values() for c in policy.clauses]
        self.normaliser = normaliser = Normaliser(
            knowledge.vocabulary,
            known_text=[text for c in clauses for text in (c.quote, c.answer, c.section)],
            typed_text=[*(q for c in clauses for q in c.questions), *knowledge.outside],
        )
        # The topic each clause is compared on: its first that another council addresses too.
        self._topics: dict[tuple[str, str], Topic] = {}
        for topic in knowledge.topics.values():
            addressing = knowledge.addressing(topic.id)
            if len(addressing) > 1:
                for policy, on_topic in addressing:
                    for clause in on_topic:
                        self._topics.setdefault((policy.org, clause.id), topic)
        self._matchers = {
            org: Matcher(
                policy,
                normaliser,
                outside=knowledge.outside,
                tuning=tuning,
                weights=weights,
                semantics=(
                    self._as_draft(semantics[org], policy, (adapters or {}).get(org))
                    if any(clause.drafted for clause in policy.clauses)
                    else semantics[org]
                ),
            )
            for org, policy in knowledge.policies.items()
        }

    def _as_draft(
        self, semantics: Semantics, policy: Policy, adapter: QuoteAdapter | None
    ) -> Semantics:
        """What comparing a council with drafted clauses also needs: the quote adapter (the
        shipped one unless given), and each clause's quote under its section, encoded."""
        headed = [headed_quote(clause.section, clause.quote) for clause in policy.clauses]
        return replace(
            semantics,
            adapter=adapter or shipped_adapter(),
            headed_quotes=cached_vectors(self.encoder, headed),
        )

    def matcher(self, org: str) -> Matcher:
        self.knowledge.policy(org)  # raises UnknownOrgError with the known councils
        return self._matchers[org]

    def ask(self, question: Question) -> Reply:
        """Raises `UnknownOrgError` for a council not in the knowledge base, `QuestionError`
        for a question that cannot be answered as sent."""
        matcher = self.matcher(question.org)
        # Read once: the matcher weighs the ask and the story, the reply takes the route of a
        # report about someone else and the rules that also apply.
        text = validate_text(question.text)
        if question.follows and self._asks_only_about_others(text):
            # "How do other councils handle this?" after an answer: that answer again, with
            # the way to the comparison its topic has.
            try:
                return self.explain(question, question.follows)
            except KeyError:
                pass  # not a clause of this council: read the question as it stands
        reading = read(text)
        return self._reply(question, matcher.policy, matcher.decide(reading), reading)

    def _asks_only_about_others(self, text: str) -> bool:
        """The message asks how other councils see something, and names nothing else: what it
        is about is whatever the conversation was about."""
        if not _OTHER_COUNCILS.search(text):
            return False
        rest = words(_OTHER_COUNCILS.sub(" ", text))
        stop = self.knowledge.vocabulary.stopwords | _ABOUT_THIS
        return len([word for word in rest if word not in stop]) <= 1

    async def ask_async(self, question: Question) -> Reply:
        """`ask` off the event loop, for servers: a long post's embedding takes tens of
        milliseconds, which would hold up every other request."""
        return await asyncio.to_thread(self.ask, question)

    def explain(self, question: Question, clause_id: str) -> Answer:
        """The answer from one chosen clause: a "did you mean" option the asker picked.

        Raises `UnknownOrgError` or `KeyError` (unknown clause)."""
        matcher = self.matcher(question.org)
        clause = matcher.policy.clause(clause_id)
        return Answer(
            question,
            PolicyRef.of(matcher.policy),
            clause,
            (Match(clause, 1.0),),
            compare=self.topic_of(question.org, clause),
        )

    def topic_of(self, org: str, clause: Clause) -> Topic | None:
        """The topic `clause` is compared with other councils' on, if any addresses it too."""
        return self._topics.get((org, clause.id))

    def _reply(
        self, question: Question, policy: Policy, decision: Decision, reading: Reading
    ) -> Reply:
        ref = PolicyRef.of(policy)
        report = reading.about_someone
        if decision.kind is Kind.ANSWER and decision.best is not None:
            matches = decision.matches
            also = also_of(matches, reading, self.matcher(policy.org).rank)
            clause = decision.best.clause
            compare = self.topic_of(policy.org, clause)
            return Answer(question, ref, clause, matches, also, report, compare)
        if decision.kind is Kind.CLARIFY:
            tuning = self.matcher(policy.org).tuning
            # The best clause, and those of the next that are near at all: an option with no
            # chance of being meant only makes the list harder to read.
            best, *rest = decision.matches[: tuning.max_options]
            options = (best, *(m for m in rest if m.score >= tuning.clarify_threshold))
            return Clarify(question, ref, options, decision.matches, report)
        return Fallback(question, ref, policy.contacts.hr, decision.matches)


def reply_json(reply: Reply) -> dict[str, Any]:
    """The one JSON shape of a reply, shared by `policybot ask --json` and the HTTP API."""
    answer = reply if isinstance(reply, Answer) else None
    verdict = answer.verdict if answer else None

    def clause_json(m: Match) -> dict[str, Any]:
        return {
            "clause": m.clause.id,
            "section": m.clause.section,
            "asks": m.clause.asks,
            "label": m.clause.label,
            "quote": m.clause.quote,
            "answer": m.clause.answer,
            "score": m.score,
        }

    return {
        "org": reply.question.org,
        "question": reply.question.text,
        "kind": reply.kind.value,
        "asks": answer.asks if answer else None,
        "verdict": verdict.value if verdict else None,
        "answer": reply.text,
        "route": reply.route.value if reply.route else None,
        "contact": reply.policy.contacts.for_route(reply.route) if reply.route else None,
        "policy": {"council": reply.policy.council, "title": reply.policy.title},
        "matches": [clause_json(m) for m in reply.matches],
        "also": [clause_json(m) for m in answer.also] if answer else [],
        "compare": (
            {
                "topic": answer.compare.id,
                "title": answer.compare.title,
                "path": comparison_path(answer.compare),
            }
            if answer and answer.compare
            else None
        ),
    }
