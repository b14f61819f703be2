"""Scores the assistant on an evaluation file (the format of ../shared/eval/dev.yaml).

A case passes top-1 when the reply is an answer (not a "did you mean", not a fallback) and its
clause's quote contains one of the expected snippets (compared as the file says: case,
whitespace, curly quotes and ** ignored); top-3 when any of the first three matches does. A case
with `expect: []` is outside the policy and passes abstention when the reply is a fallback. A
case with `route` passes route accuracy when the reply's route is that route (`none`: no route).
Answer precision is right answers over all answers; "not covered" is the share of questions the
policy answers that got a fallback.

A case with `verdict` (yes, no, depends, none: the right verdict for the question *as the user
asked it*) scores the reply as staff read it. A reply with no verdict (a rule stated plainly, a
"did you mean", a fallback) passes: it cannot mislead by a Yes or No. A verdict with no `asks`
fails: nothing says which question it answers. Otherwise the verdict is read against its `asks`
and carried over to the user's question: kept when the two are asked the same way round, or when
`bot.verdict` cannot tell (that is how a hurried reader takes it), turned round when they are
asked the other way round ("No" to "Can I accept ...?" is "Yes" to "Should I decline ...?"). It
passes when it then equals the expected verdict. When the expected verdict is `none`, the user
asked no yes/no question and a verdict shown with its question passes.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import yaml
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.assistant import Answer, Assistant, Question, Reply
from bot.audit import loose_key
from bot.knowledge import KnowledgeError
from bot.matcher import Kind, Matcher
from bot.verdict import Verdict, same_polarity

NO_VERDICT = "none"


class Case(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    org: str
    question: str
    expect: list[str] = Field(default_factory=list)
    route: str | None = None
    # optional label (paraphrase, forum, outside...) for per-subset figures; `kind` is its old name
    subset: str | None = Field(default=None, validation_alias=AliasChoices("subset", "kind"))
    verdict: Verdict | Literal["none"] | None = None  # right for the question as asked

    @field_validator("verdict", mode="before")
    @classmethod
    def _yes_and_no_unquoted(cls, value: object) -> object:
        # YAML 1.1 reads an unquoted `verdict: yes` as true: take it as it was meant.
        if isinstance(value, bool):
            return Verdict.YES if value else Verdict.NO
        return value


@dataclass(frozen=True, slots=True)
class CaseResult:
    id: str
    org: str
    label: str | None
    question: str
    expect: tuple[str, ...]
    expected_route: str | None
    kind: Kind
    route: str | None
    clauses: tuple[str, ...]
    quotes: tuple[str, ...]
    top1: bool
    top3: bool
    seconds: float
    expected_verdict: str | None = None
    verdict: Verdict | None = None  # the reply's verdict, on `asks`
    asks: str | None = None
    read_as: Verdict | None = None  # the reply's verdict carried over to the user's question

    @property
    def verdict_ok(self) -> bool | None:
        if self.expected_verdict is None:
            return None
        if self.verdict is None:
            return True
        if not self.asks:
            return False
        return self.expected_verdict == NO_VERDICT or self.read_as == self.expected_verdict

    @property
    def outside(self) -> bool:
        return not self.expect

    @property
    def route_ok(self) -> bool | None:
        if self.expected_route is None:
            return None
        return (self.route or "none") == self.expected_route

    @property
    def passed(self) -> bool:
        ok = (self.kind is Kind.FALLBACK) if self.outside else self.top1
        return ok and self.route_ok is not False and self.verdict_ok is not False


@dataclass(frozen=True, slots=True)
class Report:
    results: tuple[CaseResult, ...]

    @staticmethod
    def _share(flags: Sequence[bool]) -> float | None:
        return sum(flags) / len(flags) if flags else None

    def subset(self, label: str) -> Report:
        return Report(tuple(r for r in self.results if r.label == label))

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(sorted({r.label for r in self.results if r.label}))

    @property
    def answerable(self) -> tuple[CaseResult, ...]:
        return tuple(r for r in self.results if not r.outside)

    @property
    def top1(self) -> float | None:
        return self._share([r.top1 for r in self.answerable])

    @property
    def top3(self) -> float | None:
        return self._share([r.top3 for r in self.answerable])

    @property
    def answers(self) -> tuple[CaseResult, ...]:
        return tuple(r for r in self.results if r.kind is Kind.ANSWER)

    @property
    def answer_precision(self) -> float | None:
        """Right answers / answers: how far staff can trust an answer (outside ones are wrong)."""
        return self._share([r.top1 for r in self.answers])

    @property
    def not_covered(self) -> float | None:
        """Share of questions the policy answers that were told it does not cover them."""
        return self._share([r.kind is Kind.FALLBACK for r in self.answerable])

    @property
    def abstention(self) -> float | None:
        return self._share([r.kind is Kind.FALLBACK for r in self.results if r.outside])

    @property
    def route_accuracy(self) -> float | None:
        return self._share([ok for r in self.results if (ok := r.route_ok) is not None])

    @property
    def unasked_routes(self) -> tuple[int, int]:
        """Replies that offered a report's route where the case expects none, and how many cases
        expect none: route accuracy cannot see a route given to a question that reports nothing
        (in sets that mark every report with `route`, as tests/eval/heldout.yaml does)."""
        quiet = [r for r in self.results if r.expected_route is None]
        return sum(1 for r in quiet if r.route), len(quiet)

    @property
    def verdict_accuracy(self) -> float | None:
        """Share of cases with an expected verdict whose reply reads right (module docstring)."""
        return self._share([ok for r in self.results if (ok := r.verdict_ok) is not None])

    @property
    def verdicts_given(self) -> int:
        """Cases with an expected verdict whose reply gave one: how often the figure above was
        earned by a Yes, No or It depends rather than by saying none."""
        return sum(1 for r in self.results if r.expected_verdict is not None and r.verdict)

    @property
    def bare_verdicts(self) -> int:
        """Replies that opened with a verdict and did not say which question it answers."""
        return sum(1 for r in self.results if r.verdict is not None and not r.asks)

    def latency_ms(self, percentile: int) -> float:
        times = sorted(r.seconds * 1000 for r in self.results)
        if not times:
            return 0.0
        if len(times) == 1:
            return times[0]
        return statistics.quantiles(times, n=100, method="inclusive")[percentile - 1]

    @property
    def failures(self) -> tuple[CaseResult, ...]:
        return tuple(r for r in self.results if not r.passed)


class EvalFileError(ValueError):
    pass


def load_cases(path: Path) -> list[Case]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise EvalFileError(f"{path}: cannot read: {exc}") from None
    if not isinstance(data, list):
        raise EvalFileError(f"{path}: expected a list of cases")
    cases = []
    for number, item in enumerate(data, start=1):
        try:
            cases.append(Case.model_validate(item))
        except ValidationError as exc:
            raise EvalFileError(f"{path}: case {number}: {exc.errors()[0]['msg']}") from None
    return cases


def contains(quote: str, snippets: Sequence[str]) -> bool:
    key = loose_key(quote)
    return any(loose_key(s) in key for s in snippets)


def read_verdict(question: str, reply: Reply) -> tuple[Verdict | None, str | None, Verdict | None]:
    """The reply's verdict, the question it answers, and what it says to `question`."""
    if not isinstance(reply, Answer):
        return None, None, None
    verdict = reply.verdict
    if verdict is None or not reply.asks:
        return verdict, reply.asks, verdict
    turned = same_polarity(question, reply.asks) is False
    return verdict, reply.asks, verdict.flipped() if turned else verdict


def score_case(case: Case, reply: Reply, seconds: float) -> CaseResult:
    quotes = tuple(m.clause.quote for m in reply.matches)
    answered = reply.kind is Kind.ANSWER and bool(quotes)
    verdict, asks, read_as = read_verdict(case.question, reply)
    return CaseResult(
        id=case.id,
        org=case.org,
        label=case.subset,
        question=case.question,
        expect=tuple(case.expect),
        expected_route=case.route,
        kind=reply.kind,
        route=reply.route.value if reply.route else None,
        clauses=tuple(m.clause.id for m in reply.matches),
        quotes=quotes,
        top1=bool(case.expect) and answered and contains(quotes[0], case.expect),
        top3=bool(case.expect) and any(contains(q, case.expect) for q in quotes[:3]),
        seconds=seconds,
        expected_verdict=case.verdict,
        verdict=verdict,
        asks=asks,
        read_as=read_as,
    )


def evaluate(
    assistant: Assistant,
    path: Path,
    *,
    clock: Callable[[], float] = time.perf_counter,
) -> Report:
    """Raises `EvalFileError` for a bad file and `KnowledgeError` for an unknown council."""
    results = []
    for case in load_cases(path):
        if case.org not in assistant.knowledge.policies:
            raise KnowledgeError(f"{path}: case {case.id}: unknown council {case.org!r}")
        started = clock()
        reply = assistant.ask(Question(org=case.org, text=case.question))
        results.append(score_case(case, reply, clock() - started))
    return Report(tuple(results))


@dataclass(frozen=True, slots=True)
class Confusion:
    """An example question that, held out, finds another clause first."""

    question: str
    clause: str  # the clause it belongs to
    found: str  # the clause the matcher ranks first without it
    rank: int  # where its own clause came (0 when outside the top five)


def cross_validate(
    assistant: Assistant, org: str, *, folds: int = 5, seed: int = 1
) -> tuple[float, tuple[Confusion, ...]]:
    """Hold out each example question in turn (k-fold) and see whether its clause is found.

    Tells a policy owner which clauses their questions cannot tell apart, before anyone asks.
    Returns the share of held-out questions whose own clause came first, and the confusions.
    """
    policy = assistant.matcher(org).policy
    rng = random.Random(seed)
    assignment = {c.id: [rng.randrange(folds) for _ in c.questions] for c in policy.clauses}
    found_first = 0
    total = 0
    confusions: list[Confusion] = []
    for fold in range(folds):
        held: list[tuple[str, str]] = []
        kept = []
        for clause in policy.clauses:
            pairs = list(zip(clause.questions, assignment[clause.id], strict=True))
            keep = [q for q, f in pairs if f != fold]
            held += [(q, clause.id) for q, f in pairs if f == fold]
            kept.append(replace(clause, questions=tuple(keep) or clause.questions[:1]))
        matcher = Matcher(
            replace(policy, clauses=tuple(kept)),
            assistant.normaliser,
            outside=assistant.knowledge.outside,
            tuning=assistant.matcher(org).tuning,
        )
        for question, clause_id in held:
            ranked = [m.clause.id for m in matcher.rank(question)]
            total += 1
            if ranked[:1] == [clause_id]:
                found_first += 1
                continue
            rank = ranked.index(clause_id) + 1 if clause_id in ranked else 0
            confusions.append(Confusion(question, clause_id, ranked[0] if ranked else "-", rank))
    return (found_first / total if total else 1.0), tuple(confusions)
