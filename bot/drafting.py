"""A first draft of a council's clauses from its policy document, for a person to review.

Every rule-bearing paragraph, numbered point or bullet becomes a clause whose quote is that
text exactly as the document has it, under the document's own section number or heading.
Headings, contents entries and FAQ questions are exempt as `kb check` exempts them; lines that
repeat through the document (page headers and footers) are listed as `not_rules` with the
reason. Clause ids come from the quote's own words, so drafting the same document again gives
the same ids.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

import numpy as np

from bot.audit import is_exempt_line, verbatim_key
from bot.knowledge import Clause, IncidentKind, KnowledgeBase, NotRule, Route
from bot.semantic import Encoder, cached_vectors, council_semantics

# A numbered point: "1.1.", "2.3", "- 1.4.", "4)", "12.10": its number is its section.
_NUMBERED = re.compile(r"^\s*(?:[-*\u2022]\s*)?(\d+(?:\s?\.\s?\d+)*)(?:\.|\))?\s+\S")
_BULLET = re.compile(r"^\s*(?:[-*\u2022\uf0b7]|o\s|[ivx]+\.|[a-z]\))\s*")
_ID_WORD = re.compile(r"[a-z0-9]+")
# A step of a numbered list: "1. ...", "2) ..." (not "1.1 ...", a paragraph's number).
_STEP = re.compile(r"^\s*\d{1,2}[.)]\s+\S")
_FIRST_STEP = re.compile(r"^\s*1[.)]\s")
# A page number ending a line: "Page 3", "3 of 12".
_TRAILING_PAGE_NUMBER = re.compile(r"\d+(?:\s*(?:of|/)\s*\d+)?\s*$")
# Lines repeated this often are a page's header or footer, not the policy's words.
REPEATED_LINE = 3
# Headings of a policy's own summary of its rules, and of the lists in it. Not an FAQ: its
# answers say more than the rules they start from, and measured on a council's FAQ, linking
# them to its nearest rules linked different things.
_SUMMARY = re.compile(
    r"\b(?:quick\s+guide|summary|at\s+a\s+glance|do'?s\s+and\s+don'?ts)\b", re.IGNORECASE
)
_SUMMARY_LIST = re.compile(r"^\W*(?:do|don'?t|do not|never|always)\W*$", re.IGNORECASE)
# A line of at least this many words that stops mid-sentence was wrapped (a PDF's text).
WRAPPED_LINE_WORDS = 8
# A document is wrapped at a width when at least half its long lines come within a fifth of the
# longest, and that is no wider than a page's line: a policy whose lines are its paragraphs has
# long lines of every length (the five shipped ones' longest are 475 to 708 characters).
WRAP_FILL = 0.8
MAX_WRAP_WIDTH = 120
ID_WORDS = 6


@dataclass(frozen=True, slots=True)
class DraftClause:
    id: str
    section: str
    quote: str
    # the sentence a bullet completes ("Do not post:"): what the bullet means is read with it
    context: str = ""
    # it stands in the policy's own summary (a quick guide, do's and don'ts), which says again
    # in short what the policy has said
    in_summary: bool = False

    @property
    def in_context(self) -> str:
        """The quote read with the sentence it completes: what it means, for pairing it with
        other rules."""
        return f"{self.context} {self.quote}".strip()


@dataclass(frozen=True, slots=True)
class Draft:
    clauses: tuple[DraftClause, ...]
    not_rules: tuple[NotRule, ...]


def draft_clauses(text: str, *, stopwords: frozenset[str] = frozenset()) -> Draft:
    """One clause per rule-bearing paragraph, numbered point or bullet of `text`; a clause's id
    is its first words that are not `stopwords` (the knowledge base's)."""
    lines = text.splitlines()
    width = wrap_width(lines)
    # A footer's page number changes from page to page: lines are compared without it.
    keys = [_TRAILING_PAGE_NUMBER.sub("#", line.strip()) for line in lines]
    seen: dict[str, list[str]] = {}
    for raw, key in zip(lines, keys, strict=True):
        if raw.strip():
            seen.setdefault(key, []).append(raw.strip())
    repeated = {key for key, times in seen.items() if len(times) >= REPEATED_LINE}
    # ... and listed without it only when it does change: "Revised 2019" keeps its year
    numbered = {key for key in repeated if len(set(seen[key])) > 1}
    heading = lead_in = ""
    in_summary = False
    clauses: list[DraftClause] = []  # their ids are given last, from all their quotes
    not_rules: list[NotRule] = []
    pending: list[str] = []  # a rule's lines, while the document breaks it over several
    page_break = False  # a page's footer or header has come since the last line of text
    # The clause a page break cut off mid-sentence, when its sentence goes on in `pending`:
    # no quote can hold both halves (the footer stands between them), so the second half
    # keeps the first's section and reads with it as its context.
    cut_off: DraftClause | None = None
    # Numbered steps ("1. Do not accept it.") after a lead-in ("If you receive a request:") are
    # its list, not the policy's paragraphs 1, 2, 3: read with it, under the section's heading.
    steps = False

    def finish() -> None:
        nonlocal cut_off
        if pending:
            step = steps and _STEP.match(pending[0])
            context = lead_in if _BULLET.match(pending[0]) or step else ""
            section = (heading or "Introduction") if step else section_of(pending[0], heading)
            if cut_off is not None:
                section, context = cut_off.section, cut_off.in_context
            clauses.append(DraftClause("", section, "\n".join(pending), context, in_summary))
            pending.clear()
        cut_off = None

    for number, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            finish()
            continue
        following = next((later for later in lines[number + 1 :] if later.strip()), "")
        key = keys[number]
        # "You must not:" recurs too, but introduces the bullets after it: no page's header.
        if key in repeated and len(line.split()) <= 12 and not line.endswith(":"):
            finish()
            # Listed without its page number: as a prefix, it covers the line on every page.
            constant = line
            if key in numbered:
                constant = _TRAILING_PAGE_NUMBER.sub("", line).rstrip() or line
            if not any(rule.text == constant for rule in not_rules):
                not_rules.append(NotRule(text=constant, why="repeated page header or footer"))
            page_break = True
            continue
        if page_break and not pending and clauses:
            last = clauses[-1].quote.splitlines()[-1]
            cut_off = clauses[-1] if _continues(last, line, width) else None
        page_break = False
        # The line before stopped mid-sentence: this line goes on with it, whatever it looks
        # like; and a line that stops mid-sentence is no heading ("39. Staff ... use the").
        carried_on = bool(pending) and not _starts_anew(line)
        below = lines[number + 1] if number + 1 < len(lines) else ""
        # (a line that goes on past a blank one is finished there all the same)
        runs_on = _continues(line, below, width)
        titled = not carried_on and not runs_on and is_exempt_line(line, following)
        if not carried_on and _STEP.match(line):
            steps = steps or bool(
                _FIRST_STEP.match(line) and lead_in and not _NUMBERED.match(lead_in)
            )
        elif not carried_on and not _BULLET.match(line):
            steps = False
        if not (_BULLET.match(line) or carried_on or (steps and _STEP.match(line))):
            # a line ending "...:" introduces the bullets that follow; any other ends that
            lead_in = line if line.endswith(":") else ""
        if titled:
            finish()
            named = _heading(line)
            # An FAQ's question heads its answer; any other heading names a section.
            heading = (named or line) if line.endswith("?") else (named or heading)
            # A summary runs over its own questions and lists ("Don't:"); any other heading
            # begins the next part. A contents entry that names a summary begins none, nor
            # does a lead-in ("The policy in summary:").
            if _SUMMARY.search(line) and named and not line.endswith(":"):
                in_summary = True
            elif not (line.endswith(("?", ":")) or _SUMMARY_LIST.match(line)):
                in_summary = False
            continue
        if pending and _starts_anew(line):
            finish()
        pending.append(line)
        if not runs_on:
            finish()
    finish()
    return Draft(clauses=_with_ids(clauses, stopwords), not_rules=tuple(not_rules))


def section_of(line: str, heading: str) -> str:
    numbered = _NUMBERED.match(line)
    if numbered:
        return numbered.group(1).replace(" ", "")
    return heading or "Introduction"


def _heading(line: str) -> str:
    """A heading as a section: markdown marks and contents leaders dropped. A contents entry
    ("Scope ..... 3") and a table's row ("HR | hr@..."), exempt as headings are, name none."""
    text = line.strip().lstrip("#").strip()
    if not re.search(r"[A-Za-z]{2,}", text) or re.search(r"\.{4,}|\t|\|", text):
        return ""
    return " ".join(text.split())


def _starts_anew(line: str) -> bool:
    return bool(_NUMBERED.match(line) or _BULLET.match(line))


# Tabs or a run of spaces set a line out in columns: a table's row or a cover's "Owner:   ...".
_SET_OUT = re.compile(r"\t| {3}")
# No heading holds the end of a sentence ("... the employee. Where the abuse") ...
_SENTENCE_END = re.compile(r"[a-z)][.;]\s+[A-Z(]")
# ... nor ends mid-sentence, however short it is ("... Policy and the").
_OPEN_END = re.compile(
    r"(?:,|\b(?:a|an|and|are|as|at|be|but|by|for|from|in|is|its|not|of|on|or|that|the|their|"
    r"to|which|who|with|your))$",
    re.IGNORECASE,
)


def wrap_width(lines: Sequence[str]) -> int | None:
    """The width a document's text was wrapped at (a PDF's lines), or None when its lines are
    its paragraphs."""
    lengths = [len(line.strip()) for line in lines if len(line.split()) >= WRAPPED_LINE_WORDS]
    if not lengths or max(lengths) > MAX_WRAP_WIDTH:
        return None
    widest = max(lengths)
    filled = sum(1 for length in lengths if length >= WRAP_FILL * widest)
    return widest if filled * 2 >= len(lengths) else None


def _continues(line: str, following: str, width: int | None = None) -> bool:
    """The next line carries on this paragraph: the document broke it (from a PDF). It does
    when it begins in lower case, or when this line is as long as a wrapped line of a paragraph
    and stops mid-sentence before a name ("... the UK General Data Protection" / "Regulation,
    the Data Protection Act 2018 ..."), or, in a document wrapped at `width`, when the next
    line's first word would not have fitted on this one, though it ends a sentence ("... social
    media accounts." / "However, the council may ..."); unless the next line is a point, a
    bullet or a heading (a footer, "Page 4 of 9 Acceptable Use of Social Media Policy") of its
    own. A short line, or one set out in columns, is a table's or a heading's."""
    nxt = following.strip()
    if not nxt or line.endswith(":"):
        return False
    wrapped = len(line.split()) >= WRAPPED_LINE_WORDS and not _SET_OUT.search(line)
    if line.endswith((".", ";", "?", "!")):
        filled = width is not None and len(line) + 1 + len(nxt.split()[0]) > width
        if not (wrapped and filled):
            return False
    elif nxt[:1].islower():
        return True
    heading = is_exempt_line(nxt) and not _OPEN_END.search(nxt) and not _SENTENCE_END.search(nxt)
    return wrapped and not _starts_anew(nxt) and not heading


def _with_ids(clauses: list[DraftClause], stopwords: frozenset[str]) -> tuple[DraftClause, ...]:
    seen: Counter[str] = Counter()
    drafted = []
    for clause in clauses:
        words = [
            word
            for word in _ID_WORD.findall(verbatim_key(clause.quote).lower())
            if len(word) > 2 and word not in stopwords and not word.isdigit()
        ][:ID_WORDS] or ["clause"]
        base = "-".join(words)[:60].rstrip("-")
        seen[base] += 1
        clause_id = base if seen[base] == 1 else f"{base}-{seen[base]}"
        drafted.append(replace(clause, id=clause_id))
    return tuple(drafted)


# In each other council, a drafted clause is paired with the clause its quote is most like by
# the cosine with that clause's quote plus what that council's probe says (bot/semantic.py: fitted
# on all of its example questions, it knows what each of its rules is asked as). It borrows when
# the cosine is at least BORROW_SIMILARITY and the probe at least BORROW_PROBE. Leave-one-out
# (tools/leave_one_out.sh, dev and real posts), against the cosine alone at 0.55: top-3 53 -> 65
# of 100 cases, top-1 23 -> 26.
BORROW_SIMILARITY = 0.45
BORROW_PROBE = 0.2
BORROW_FROM = 3  # nearest clauses, each from a different council
BORROW_QUESTIONS = 12  # questions taken from each


@dataclass(frozen=True, slots=True)
class Borrowed:
    topics: tuple[str, ...]
    questions: tuple[str, ...]
    sources: tuple[str, ...]  # "derbyshire/friend-requests-service-users"
    # the team most of those clauses send a report to, when more than half of them route one:
    # a draft's rule on abuse or on posting by mistake routes like the other councils' do
    route: Route | None = None


def borrow(
    drafts: Sequence[DraftClause],
    knowledge: KnowledgeBase,
    encoder: Encoder,
    *,
    leave_out: Collection[str] = (),
) -> dict[str, Borrowed]:
    """For each drafted clause, the topics and example questions of the clause that says the
    same in each of up to BORROW_FROM other councils (never those in `leave_out`), with those
    councils' names made "the council", and the route most of those clauses give a report.
    A clause no other council's is near borrows nothing.

    Leaving one council out, borrowed routes raised the drafts' route accuracy (`calibrate
    --drafts`) on dev.yaml, real.yaml and heldout.yaml from 0.714, 0.500 and 0.219 to 0.857,
    1.000 and 0.562, and gave a route to 28 of the 281 questions there that report nothing
    (tools/leave_one_out.sh: 7 before; the reviewed councils give one to 34). Taking any of the
    clauses' routes instead routed more than twice as many."""
    lenders = {
        org: [clause for clause in policy.clauses if not clause.drafted]
        for org, policy in knowledge.policies.items()
        if org not in leave_out
    }
    lenders = {org: clauses for org, clauses in lenders.items() if clauses}
    if not drafts or not lenders:
        return {}
    # through the cache: `restatements` compares the same texts
    ours = cached_vectors(encoder, [draft.in_context for draft in drafts])
    names = _council_names(knowledge)
    peculiar = _peculiar_words(knowledge, leave_out, [draft.quote for draft in drafts])
    # per drafted clause: (council, its clause paired with the drafted one, how alike the two)
    picks: list[list[tuple[str, Clause, float]]] = [[] for _ in drafts]
    semantics = council_semantics(
        encoder,
        {org: [(*c.questions, c.quote) for c in clauses] for org, clauses in lenders.items()},
    )
    for org, clauses in lenders.items():
        probe = semantics[org].vectors
        similarity = ours @ cached_vectors(encoder, [clause.quote for clause in clauses]).T
        for row in range(len(drafts)):
            direction = probe.probe_direction(ours[row])
            said = probe.probes(direction)[: len(clauses)]
            best = int(np.argmax(similarity[row] + said))
            if similarity[row, best] >= BORROW_SIMILARITY and said[best] >= BORROW_PROBE:
                picks[row].append((org, clauses[best], float(similarity[row, best] + said[best])))
    found: dict[str, Borrowed] = {}
    for row, draft in enumerate(drafts):
        chosen = sorted(picks[row], key=lambda pick: -pick[2])[:BORROW_FROM]
        if not chosen:
            continue
        topics: dict[str, None] = {}
        questions: dict[str, str] = {}
        for org, clause, _ in chosen:
            topics.update(dict.fromkeys(clause.topics))
            own = [q for q in clause.questions if q not in clause.borrowed]
            taken = 0
            for question in own:
                adjusted = names.sub("the council", question)
                if taken == BORROW_QUESTIONS or peculiar[org] & _words(adjusted):
                    continue  # about something only that council's policy has ("Appendix A")
                taken += 1
                # Distinct as kb check counts them: "Can I ...?" and "can I ...?" are one.
                questions.setdefault(adjusted.casefold(), adjusted)
        sources = tuple(f"{org}/{clause.id}" for org, clause, _ in chosen)
        routes = Counter(clause.route for _, clause, _ in chosen if clause.route)
        route, routed = routes.most_common(1)[0] if routes else (None, 0)
        found[draft.id] = Borrowed(
            tuple(topics),
            tuple(questions.values()),
            sources,
            route if routed * 2 > len(chosen) else None,
        )
    return found


# A clause of the policy's summary restates the rule elsewhere in it whose quote is nearest
# its own, when the cosine is at least this. A council's own quick guide, measured: "Ask a
# colleague before posting a photo of them" and its rule 0.74 ... "Don't post about cases,
# complaints or anything else that is confidential" and its bullet 0.62; rules of the same
# section that say different things reach 0.8 too, which is why only a summary's are linked.
RESTATES_SIMILARITY = 0.6
# ... and the rules nearly as near as that one (a paragraph a page break cut in two is two).
RESTATES_MARGIN = 0.1
RESTATES_AT_MOST = 2


def restatements(drafts: Sequence[DraftClause], encoder: Encoder) -> dict[str, tuple[str, ...]]:
    """Clauses that say the same rule, each with the others: every clause of the policy's own
    summary with the rule it restates. As `related` clauses, neither counts as the other's rival
    when the bot weighs how sure it is (bot/scoring.py), and each is offered beside the other."""
    summary = [row for row, draft in enumerate(drafts) if draft.in_summary]
    rules = [row for row, draft in enumerate(drafts) if not draft.in_summary]
    if not summary or not rules:
        return {}
    vectors = cached_vectors(encoder, [draft.in_context for draft in drafts])
    similarity = vectors[summary] @ vectors[rules].T
    links: dict[str, dict[str, None]] = {}
    for row, alike in zip(summary, similarity, strict=True):
        best = float(alike.max())
        for column in np.argsort(-alike)[:RESTATES_AT_MOST]:
            if alike[column] < max(RESTATES_SIMILARITY, best - RESTATES_MARGIN):
                break
            short, rule = drafts[row].id, drafts[rules[column]].id
            links.setdefault(short, {})[rule] = None
            links.setdefault(rule, {})[short] = None
    return {clause: tuple(related) for clause, related in links.items()}


def _council_names(knowledge: KnowledgeBase) -> re.Pattern[str]:
    """Other councils' names as staff write them: "Derbyshire County Council", "Wiltshire",
    "WDC" (the initials of a name of three words or more)."""
    places = {
        " ".join(word for word in policy.council.split() if word not in _COUNCIL_WORDS)
        for policy in knowledge.policies.values()
    }
    initials = {
        "".join(word[0] for word in policy.council.split())
        for policy in knowledge.policies.values()
        if len(policy.council.split()) >= 3
    }
    alternatives = "|".join(re.escape(place) for place in sorted(places, key=len, reverse=True))
    short = "|".join(sorted(initials))
    return re.compile(
        rf"\b(?:the\s+)?(?:(?:{alternatives})(?:\s+(?:county|city|borough|district))?"
        rf"(?:\s+council)?|(?:{short}))\b",
        re.IGNORECASE,
    )


def _words(text: str) -> set[str]:
    return set(_ID_WORD.findall(text.casefold()))


def _peculiar_words(
    knowledge: KnowledgeBase, leave_out: Collection[str], document: Sequence[str]
) -> dict[str, set[str]]:
    """Per council, the names its policy uses that no other council's policy and not the
    document being drafted use: its own schemes, systems and appendices ("LMS", "RIPA"). A
    borrowed question that names one is about that council's own arrangements.

    A name is a word the policy writes with a capital inside a sentence and never in lower case
    ("Appendix", "LMS"); ordinary words one policy happens to use are kept."""
    used = {org: _words(policy.text) for org, policy in knowledge.policies.items()}
    drafted = _words(" ".join(document))
    peculiar = {}
    for org, policy in knowledge.policies.items():
        capitalised = {w.casefold() for w in _NAME.findall(policy.text)}
        lower = set(_LOWER_WORD.findall(policy.text))
        others = set().union(
            *(words for name, words in used.items() if name not in (org, *leave_out))
        )
        peculiar[org] = capitalised - lower - others - drafted
    return peculiar


# A word written with a capital after a sentence's first word, and a word in lower case.
_NAME = re.compile(r"(?<=[a-z,;:] )[A-Z][A-Za-z]+\b|\b[A-Z]{2,}[a-z]?\b")
_LOWER_WORD = re.compile(r"\b[a-z][a-z0-9]*\b")


_COUNCIL_WORDS = frozenset({"County", "City", "Borough", "District", "Council"})


# Who a policy names for staff to ask: its communications team, its HR, and their mailboxes.
_COMMS_TEAM = re.compile(
    r"\b(?:(?:Corporate|Digital|Strategic)\s+)?Communications(?:\s+and\s+Marketing)?"
    r"(?:\s+(?:Team|Unit|Department|Service|Office))?\b|\bPress\s+Office\b|\bMedia\s+Team\b",
    re.IGNORECASE,
)
_HR_TEAM = re.compile(
    # "HR" only in capitals: "hr" is also an hour
    r"\b(?i:human\s+resources|people\s+(?:and|&)\s+(?:technology|culture|development)|personnel)\b"
    r"|\bHR(?:\s+(?i:team|department|service|advisory|business\s+partner))?\b",
)
_MAILBOX = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
_COMMS_MAILBOX = re.compile(r"comm|media|press|digital|web", re.IGNORECASE)
_HR_MAILBOX = re.compile(r"\bhr\b|^hr|people|personnel|workforce|employee", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class FoundContacts:
    hr: str | None  # "your line manager or Human Resources (hr@council.gov.uk)"
    comms: str | None  # "the Corporate Communications team (comms@council.gov.uk)"


def find_contacts(text: str) -> FoundContacts:
    """The teams a policy names for HR and communications, as it names them most often, with a
    team mailbox it gives. A person's own address (jo.smith@...) is never taken: it is personal
    data, and people move on."""
    mailboxes = list(dict.fromkeys(_MAILBOX.findall(text)))
    comms_box = next((m for m in mailboxes if _COMMS_MAILBOX.search(m.split("@")[0])), None)
    hr_box = next((m for m in mailboxes if _HR_MAILBOX.search(m.split("@")[0])), None)
    comms = _most_named(_COMMS_TEAM.findall(text))
    hr = _most_named(_HR_TEAM.findall(text))
    if comms is None and comms_box is not None:
        comms = "communications"
    if hr is None and hr_box is not None:
        hr = "HR"
    return FoundContacts(
        hr=f"your line manager or {hr}{_mailbox(hr_box)}" if hr else None,
        comms=f"the {_team(comms)}{_mailbox(comms_box)}" if comms else None,
    )


def _most_named(names: Sequence[str]) -> str | None:
    """The name used most often (ignoring case and spacing), the longer of equals ("Human
    Resources" over "HR"), as first written other than in capitals (a heading's)."""
    if not names:
        return None
    written: dict[str, list[str]] = {}
    for name in names:
        written.setdefault(" ".join(name.split()).casefold(), []).append(" ".join(name.split()))
    best = max(written, key=lambda key: (len(written[key]), len(key)))
    return next((name for name in written[best] if not name.isupper()), written[best][0])


def _team(name: str) -> str:
    last = name.split()[-1].lower()
    if last in {"team", "unit", "department", "service", "office"}:
        return name
    return f"{name} team"


def _mailbox(address: str | None) -> str:
    return f" ({address})" if address else ""


@dataclass(frozen=True, slots=True)
class Details:
    """What policy.yaml says of the document, as far as its text tells."""

    council: str
    title: str
    date: str
    hr: str  # whom staff ask, as the policy names them (FoundContacts)
    comms: str


_DATE = re.compile(
    r"\b(?:\d{1,2}(?:st|nd|rd|th)?\s+)?(?:January|February|March|April|May|June|July|August|"
    r"September|October|November|December)\s+\d{4}\b|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b",
    re.IGNORECASE,
)


# A council's name: a place of capitalised words ("Kessock and Ardmore", "Stockton-on-Tees"),
# perhaps its kind ("District"), then "Council"; "the Council" is no name.
_COUNCIL_NAME = re.compile(
    r"\b((?:[A-Z][\w'\u2019-]*\s+(?:(?:and|of|upon|on|in)\s+)?){1,6})(Council|COUNCIL)\b"
)
_NOT_A_PLACE = frozenset(
    {"the", "this", "that", "your", "our", "a", "an", "each", "every", "any", "all", "no"}
    | {"city", "county", "district", "borough", "town", "parish", "metropolitan"}
)
# The words of a policy's title, and what a title never holds: a date, or a full stop.
_TITLE_WORDS = re.compile(r"\bpolic|\bsocial media\b|\bguidance\b|\bcode of conduct\b", re.I)
TITLE_MAX_WORDS = 14


def _named_council(text: str) -> str | None:
    """The council the document names most, by the longest form of its name that is named as
    often ("Lindum County Council", not "Official Lindum County Council" from a heading that
    runs into it); a name in the document's first lines counts more. In capitals only if the
    document never writes it otherwise."""
    counts: Counter[str] = Counter()
    written: dict[str, str] = {}
    opening = " ".join(text.split("\n", 30)[:30])
    for match in _COUNCIL_NAME.finditer(text):
        words = match.group(1).split()
        # each run of the words before "Council" that could be a place: "Official Lindum
        # County Council" counts for "Lindum County Council" too
        for start in range(len(words)):
            place = words[start:]
            if place[0].lower() in _NOT_A_PLACE or not place[0][:1].isupper():
                continue
            name = " ".join([*place, match.group(2)])
            key = name.casefold()
            counts[key] += 1
            if key not in written or written[key].isupper():
                written[key] = name
    if not counts:
        return None
    scored = {key: n + (3 if key in opening.casefold() else 0) for key, n in counts.items()}
    best = max(scored.values())
    # of the equally named, the longest: "Thornbury Fells County Council", not "Fells ..."
    key = max((k for k, n in scored.items() if n == best), key=len)
    name = written[key]
    return name.title() if name.isupper() else name


def _title_among(lines: Sequence[str], council: str | None) -> str:
    """The policy's title among the document's first lines: a line, or the part of a running
    header beside the council's name, that names a policy, social media or guidance, and is no
    sentence, date or field ("Date approved: ..."). One naming social media and a policy first."""
    parts = []
    for line in lines[:25]:
        for field in line.split("\t"):  # "Title<tab>Social Media Policy"
            header = re.split(r"\s+[|\u2013\u2014-]\s+", field)
            # "Lindum County Council | Employee Social Media ... Policy": the title beside it
            beside = [p for p in header if council is None or p.casefold() != council.casefold()]
            parts.append(" ".join(beside) if len(beside) < len(header) else field)
    parts = [part.strip(" &-\u2013|") for part in parts]
    titles = [
        part
        for part in parts
        if part
        and _TITLE_WORDS.search(part)
        and len(part.split()) <= TITLE_MAX_WORDS
        and not part.endswith(".")
        and not _DATE.search(part)
    ]
    both = [
        t
        for t in titles
        if re.search(r"social media", t, re.I) and re.search(r"polic|guidance|code", t, re.I)
    ]
    return next(iter(both or titles), "Social media policy")


def find_details(text: str, council: str | None = None) -> Details:
    """The council's name (`council` when given), the title, the first date and the contacts
    the document gives; what it does not give says it needs a person."""
    lines = [line.strip().lstrip("#").strip(" *") for line in text.splitlines() if line.strip()]
    named = council or _named_council(text)
    title = _title_among(lines, named)
    date = _DATE.search(text)
    contacts = find_contacts(text)
    return Details(
        council=named or "Your council (needs a person)",
        title=title,
        date=" ".join(date.group(0).split()) if date else "not stated (needs a person)",
        hr=contacts.hr or "your line manager or HR",
        comms=contacts.comms or "the communications team",
    )


# A clause that tells staff whom to tell: the route a report takes. "Contact your line manager"
# for help reading the policy is not a report; "contact the communications team" is.
_TELLS = re.compile(
    r"\b(?:report|tell|inform|raise|notify|make)\b.{0,80}\b(?:manager|HR|human resources|"
    r"communications|comms)\b|\bcontact\b.{0,40}\b(?:communications|comms|press office)\b",
    re.IGNORECASE | re.DOTALL,
)
# "Do not use social media to raise a grievance about your manager" names no one to tell, nor
# does a bullet under "Employees must not:".
_FORBIDS = re.compile(r"\W*(?:do not|don't|never|must not|you must not)\b", re.IGNORECASE)
_FORBIDDING_LEAD = re.compile(r"\b(?:not|never)\b[^.]*:\s*$", re.IGNORECASE)
_COMMS = re.compile(r"\bcommunications\b|\bcomms\b|\bpress office\b", re.IGNORECASE)
# What a clause about each kind of incident names: of the clauses that tell a team, one about
# the incident is cited before the first.
_ABOUT = {
    IncidentKind.BULLYING: re.compile(r"bull|harass|abus|threat|troll|victimis|intimidat", re.I),
    IncidentKind.POSTED_BY_MISTAKE: re.compile(r"mistake|in error|\berror|accident", re.I),
    IncidentKind.CONFIDENTIAL_LEAK: re.compile(r"breach|leak|disclos", re.I),
    IncidentKind.UNWANTED_CONTACT: re.compile(
        r"unwanted contact|tries to contact|contacts? you|friend request|approach", re.I
    ),
    IncidentKind.REPUTATION: re.compile(r"reputation|disrepute|negative|media enquir|press", re.I),
}
# What the communications team handles; every other incident is HR's.
_COMMS_KINDS = frozenset({IncidentKind.POSTED_BY_MISTAKE, IncidentKind.REPUTATION})


def whom_to_tell(clause: DraftClause) -> Route | None:
    """The team a clause tells staff to tell: comms ("contact the communications team") or HR
    ("raise this with your line manager"); None when it tells no one, or forbids."""
    told = _TELLS.search(clause.quote)
    if not told or _FORBIDS.match(clause.quote) or _FORBIDDING_LEAD.search(clause.context):
        return None
    return Route.COMMS if _COMMS.search(clause.quote) else Route.HR


@dataclass(frozen=True, slots=True)
class DraftRoute:
    route: Route
    clause: str | None  # the id of the clause that says so; None: the policy does not say


def draft_routes(clauses: Sequence[DraftClause]) -> dict[IncidentKind, DraftRoute]:
    """Each incident's route: the communications team for a post made by mistake and the
    council's reputation when a clause says to tell it, HR otherwise; each citing the first
    clause that says to tell that team about that kind of incident, else the first that says
    to tell that team, else none (a person must find it, or the policy is silent)."""
    telling: dict[Route, list[DraftClause]] = {}
    for clause in clauses:
        route = whom_to_tell(clause)
        if route is not None:
            telling.setdefault(route, []).append(clause)
    routes = {}
    for kind in IncidentKind:
        route = Route.COMMS if kind in _COMMS_KINDS and Route.COMMS in telling else Route.HR
        candidates = telling.get(route, [])
        about = _ABOUT.get(kind)
        # a bullet is about what its lead-in is about ("If you are abused ..., you should:")
        cited = next((c for c in candidates if about and about.search(c.in_context)), None)
        cited = cited or (candidates[0] if candidates else None)
        routes[kind] = DraftRoute(route, cited.id if cited else None)
    return routes
