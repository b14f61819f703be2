"""What a council's staff asked, for the people who own its policy.

Counts come from every stored question (council, kind of reply, clause, platform, day); the
themes come from the redacted text kept of questions the bot did not answer or that staff
marked not helpful (bot/answering.py). Similar questions are grouped by meaning, with the
sentence-embedding model the matcher uses, so that "14 people asked about live streaming"
reads as one line however each of them put it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

import numpy as np

from bot.knowledge import Clause, Policy
from bot.matcher import Kind, Matcher
from bot.normalise import words
from bot.semantic import Encoder, Vectors
from bot.storage import KeptQuestion, Store

# Questions a theme's members are, on average, at least this similar to each other (cosine of
# their sentence vectors). With the shipped model, wordings of one subject average 0.47 and
# questions on different subjects 0.11 (tests/bot/test_insights.py's questions).
THEME_SIMILARITY = 0.3
STRAY_SIMILARITY = 0.25
# The newest kept questions grouped into themes: grouping costs the square of their number.
MAX_THEMED = 600
TOP_CLAUSES = 10
KEYWORDS = 3
# Words that say nothing of a theme's subject, besides the knowledge base's stop words: never
# its label ("can I ... at work?").
_PLAIN = frozenset({"work", "council", "staff", "employee", "employees", "job"})


@dataclass(frozen=True, slots=True)
class Day:
    day: str  # YYYY-MM-DD
    kinds: dict[str, int]  # answer / clarify / fallback -> questions
    platforms: dict[str, int]  # web / slack / teams -> questions


@dataclass(frozen=True, slots=True)
class ClauseUse:
    clause: str
    section: str
    label: str  # what the clause answers, as "did you mean" shows it
    answered: int
    not_helpful: int


@dataclass(frozen=True, slots=True)
class Theme:
    """Questions asked in different words about one subject."""

    label: str  # its commonest words ("live, streaming")
    example: str  # the question most like the others
    questions: tuple[str, ...]  # every wording, newest first, repeats once
    people: int  # distinct askers
    asked: int
    not_helpful: int  # of them, answers marked not helpful (the rest went unanswered)


@dataclass(frozen=True, slots=True)
class Insights:
    org: str
    council: str
    since: date
    until: date
    days: tuple[Day, ...]  # every day of the period, oldest first, empty ones included
    asked: int
    answered: int
    clarified: int
    not_covered: int
    top_clauses: tuple[ClauseUse, ...]  # answered most
    unhelpful_clauses: tuple[ClauseUse, ...]  # marked not helpful most
    themes: tuple[Theme, ...]  # most people first

    @property
    def answer_rate(self) -> float:
        return self.answered / self.asked if self.asked else 0.0


async def gather(
    store: Store,
    policy: Policy,
    encoder: Encoder,
    *,
    days: int,
    now: datetime,
    stopwords: frozenset[str] = frozenset(),
) -> Insights:
    """The last `days` days of `policy`'s council; `stopwords` are never a theme's label."""
    since = (now - timedelta(days=days - 1)).date()
    start = datetime(since.year, since.month, since.day, tzinfo=now.tzinfo)
    counts = await store.day_counts(policy.org, start)
    clauses = await store.clause_counts(policy.org, start)
    kept = await store.kept_questions(policy.org, start, limit=MAX_THEMED)
    themes = await asyncio.to_thread(group_into_themes, kept, encoder, stopwords=stopwords)

    names = [(since + timedelta(days=offset)).isoformat() for offset in range(days)]
    by_day = {name: Day(day=name, kinds={}, platforms={}) for name in names}
    kinds: Counter[str] = Counter()
    for count in counts:
        day = by_day.setdefault(count.day, Day(day=count.day, kinds={}, platforms={}))
        day.kinds[count.kind] = day.kinds.get(count.kind, 0) + count.count
        day.platforms[count.channel] = day.platforms.get(count.channel, 0) + count.count
        kinds[count.kind] += count.count
    known = {clause.id: clause for clause in policy.clauses}
    uses = [
        ClauseUse(
            clause=count.clause,
            section=known[count.clause].section,
            label=known[count.clause].label,
            answered=count.answered,
            not_helpful=count.not_helpful,
        )
        for count in clauses
        if count.clause in known  # a clause since removed from the knowledge base
    ]
    return Insights(
        org=policy.org,
        council=policy.council,
        since=since,
        until=now.date(),
        days=tuple(day for _, day in sorted(by_day.items())),
        asked=sum(kinds.values()),
        answered=kinds[Kind.ANSWER.value],
        clarified=kinds[Kind.CLARIFY.value],
        not_covered=kinds[Kind.FALLBACK.value],
        top_clauses=tuple(
            sorted((use for use in uses if use.answered), key=lambda u: (-u.answered, u.clause))[
                :TOP_CLAUSES
            ]
        ),
        unhelpful_clauses=tuple(
            sorted(
                (use for use in uses if use.not_helpful),
                key=lambda u: (-u.not_helpful, u.clause),
            )[:TOP_CLAUSES]
        ),
        themes=themes,
    )


def group_into_themes(
    kept: Sequence[KeptQuestion], encoder: Encoder, *, stopwords: frozenset[str] = frozenset()
) -> tuple[Theme, ...]:
    """Average-linkage clustering of the questions' sentence vectors, stopped where groups are
    no longer `THEME_SIMILARITY` alike; most people first. `stopwords` are never a label."""
    if not kept:
        return ()
    vectors = encoder.encode([question.text for question in kept])
    groups = _attach_strays(_average_linkage(vectors, THEME_SIMILARITY), vectors)
    plain = _PLAIN | stopwords
    themes = [_theme([kept[i] for i in group], vectors[group], plain) for group in groups]
    return tuple(sorted(themes, key=lambda t: (-t.people, -t.asked, t.example)))


def _average_linkage(vectors: Vectors, threshold: float) -> list[list[int]]:
    """Merge the two most alike groups while their mean pairwise similarity is over
    `threshold` (Lance-Williams update of the similarity matrix)."""
    n = len(vectors)
    similarity = (vectors @ vectors.T).astype(np.float64)
    np.fill_diagonal(similarity, -np.inf)
    sizes = np.ones(n)
    members: list[list[int]] = [[i] for i in range(n)]
    alive = np.ones(n, dtype=bool)
    while alive.sum() > 1:
        flat = int(np.argmax(similarity))
        a, b = divmod(flat, n)
        if similarity[a, b] < threshold:
            break
        merged = (sizes[a] * similarity[a] + sizes[b] * similarity[b]) / (sizes[a] + sizes[b])
        similarity[a, :] = merged
        similarity[:, a] = merged
        similarity[a, a] = -np.inf
        similarity[b, :] = -np.inf
        similarity[:, b] = -np.inf
        sizes[a] += sizes[b]
        members[a].extend(members[b])
        alive[b] = False
    return [sorted(members[i]) for i in range(n) if alive[i]]


def _attach_strays(groups: list[list[int]], vectors: Vectors) -> list[list[int]]:
    """A question left on its own joins the theme of the question most like it, when that is
    `STRAY_SIMILARITY` alike: one odd wording ("xmas do") should not hide among the one-offs."""
    themes = [group for group in groups if len(group) > 1]
    strays = [group[0] for group in groups if len(group) == 1]
    if not themes or not strays:
        return groups
    owner = {member: number for number, group in enumerate(themes) for member in group}
    members = np.array(sorted(owner))
    alone = []
    for stray in strays:
        similarity = vectors[members] @ vectors[stray]
        best = int(np.argmax(similarity))
        if similarity[best] >= STRAY_SIMILARITY:
            themes[owner[int(members[best])]].append(stray)
        else:
            alone.append([stray])
    return [sorted(group) for group in themes] + alone


def _theme(questions: list[KeptQuestion], vectors: Vectors, plain: frozenset[str]) -> Theme:
    centre = vectors.mean(axis=0)
    example = questions[int(np.argmax(vectors @ centre))].text
    return Theme(
        label=_keywords([q.text for q in questions], example, plain),
        example=example,
        questions=tuple(dict.fromkeys(q.text for q in questions)),
        people=len({q.asker for q in questions}),
        asked=len(questions),
        not_helpful=sum(q.not_helpful for q in questions),
    )


def _keywords(texts: Sequence[str], example: str, plain: frozenset[str]) -> str:
    """The words most of a theme's questions use, in the order the example uses them."""
    seen: Counter[str] = Counter()
    for text in texts:
        seen.update({word for word in words(text) if len(word) > 2 and word not in plain})
    common = [word for word, count in seen.most_common() if count * 2 >= len(texts)][:KEYWORDS]
    if not common:
        common = [word for word, _ in seen.most_common(KEYWORDS)]
    first: dict[str, int] = {}
    for place, word in enumerate(words(example)):
        first.setdefault(word, place)
    return ", ".join(sorted(common, key=lambda word: first.get(word, len(first)))) or example


def as_json(insights: Insights) -> dict[str, object]:
    """Plain data for `policybot insights --json` and the Insights page."""
    shown = asdict(insights)
    shown["since"] = insights.since.isoformat()
    shown["until"] = insights.until.isoformat()
    shown["answer_rate"] = round(insights.answer_rate, 3)
    return shown


@dataclass(frozen=True, slots=True)
class Suggestion:
    """What to do about one theme: add its questions to a clause, or tell the policy owner that
    the policy does not cover it. A person decides; nothing is changed by making one."""

    theme: Theme
    clause: Clause | None  # None: no clause is near
    score: float  # the matcher's probability for that clause, mean over the theme's questions
    new_questions: tuple[str, ...]  # the theme's wordings the clause does not already have


def suggest(themes: Sequence[Theme], matcher: Matcher) -> list[Suggestion]:
    """For each theme, the clause most of its questions rank first, or none when the matcher
    gives that clause less than its own "near" probability (Tuning.outside_near)."""
    suggestions = []
    for theme in themes:
        votes: Counter[str] = Counter()
        scores: dict[str, list[float]] = {}
        clauses: dict[str, Clause] = {}
        for question in theme.questions:
            for match in matcher.rank(question, limit=1):
                votes[match.clause.id] += 1
                scores.setdefault(match.clause.id, []).append(match.score)
                clauses[match.clause.id] = match.clause
        best = votes.most_common(1)[0][0] if votes else None
        score = sum(scores[best]) / len(scores[best]) if best else 0.0
        clause = clauses[best] if best and score >= matcher.tuning.outside_near else None
        known = {q.casefold() for q in clause.questions} if clause else set()
        suggestions.append(
            Suggestion(
                theme=theme,
                clause=clause,
                score=score,
                new_questions=tuple(q for q in theme.questions if q.casefold() not in known),
            )
        )
    return suggestions
