"""Fits the scoring weights (bot/scoring.py) on development questions, with cross-validation.

Each development case (an evaluation file's question with its expected clauses, or none when the
policy is silent) gives one example per candidate clause the matcher finds: the clause's evidence,
and whether it is right (the "outside" pseudo-clause is right for a question no policy answers).
A logistic regression of "right" on the evidence gives the weights; its probabilities are
calibrated by construction, so "0.7" means right about seven times in ten on such questions.

The figures that judge the fit come from k-fold cross-validation: every case is answered by
weights fitted on the other folds only, so no figure is earned by a question the fit saw.
Only development material is ever fitted on; the knowledge base's own example questions are
what the evidence is measured against, so fitting on them would learn nothing true. Drafts are
the exception (`cross_validate_drafts`): a council drafted without itself never saw its own
questions, so they are new questions to it, and there are hundreds. A draft's quotes are
compared through a quote adapter learnt from the reviewed councils (`fit_adapter`); measuring a
council's draft, the adapter is one fitted without that council.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from bot.assistant import Assistant, Question
from bot.evaluation import Case, CaseResult, Report, contains, score_case
from bot.knowledge import Clause, KnowledgeBase
from bot.matcher import Tuning
from bot.scoring import CONFIDENCE_FEATURES, FEATURES, Weights, dot, rank, sigmoid
from bot.semantic import AskedAs, Encoder, QuoteAdapter, cached_vectors

# Ridge penalty: keeps the weights of rarely seen evidence near zero, so that a few cases cannot
# pull them far.
L2 = 0.3
_NEWTON_STEPS = 50
Rows = Sequence[tuple[tuple[float, ...], bool]]  # (vector, is right)


@dataclass(frozen=True, slots=True)
class Candidate:
    clause: Clause
    vector: tuple[float, ...]  # its evidence (bot/scoring.py)
    right: bool
    outside: bool


@dataclass(frozen=True, slots=True)
class Sample:
    """One development case as the fit sees it."""

    source: str  # the file it came from
    case: Case
    candidates: tuple[Candidate, ...]
    story: bool
    terms: int


def samples(assistant: Assistant, sources: Mapping[str, Sequence[Case]]) -> list[Sample]:
    out = []
    for source, cases in sources.items():
        for case in cases:
            matcher = assistant.matcher(case.org)
            candidates = []
            evidence = matcher.evidence(case.question)
            for index, e in evidence:
                clause = matcher.clause_at(index)
                if e.outside:
                    right = not case.expect
                else:
                    right = bool(case.expect) and contains(clause.quote, case.expect)
                candidates.append(Candidate(clause, e.vector(), right, e.outside))
            story, terms = (evidence[0][1].story, evidence[0][1].terms) if evidence else (False, 0)
            out.append(Sample(source, case, tuple(candidates), story, terms))
    return out


def fit(
    training: Sequence[Sample],
    *,
    l2: float = L2,
    folds: int = 5,
    seed: int = 1,
    outside: tuple[float, ...] | None = None,
) -> Weights:
    """Both sets of weights: which clause is right, and whether the best one is.

    The second is fitted on rankings of cases made by clause weights that did not see them
    (inner cross-validation): rankings of seen cases would look surer than real ones.

    `outside`: clause weights that score the "outside" examples (the reviewed ones, when these
    are a draft's: see `Weights.probability`); the fit then learns the clauses alone.
    """
    clause = _logistic(_clause_rows(training, outside), len(FEATURES), l2)
    answer_rows: list[tuple[tuple[float, ...], bool]] = []
    for held, seen in _folds(training, folds, seed):
        inner = _logistic(_clause_rows(seen, outside), len(FEATURES), l2)
        answer_rows += [_best_is_right(s, inner, outside) for s in held if _has_clause(s)]
    answer = _logistic(answer_rows, len(CONFIDENCE_FEATURES), l2)
    return Weights(clause, answer)


def _clause_rows(samples: Sequence[Sample], outside: tuple[float, ...] | None = None) -> Rows:
    return [
        (c.vector, c.right)
        for s in samples
        for c in s.candidates
        if not (c.outside and outside is not None)
    ]


def _folds(
    samples: Sequence[Sample], folds: int, seed: int
) -> Iterator[tuple[list[Sample], list[Sample]]]:
    """(held out, seen) for each fold that has both; the same deal for the same seed."""
    rng = random.Random(seed)
    fold_of = [rng.randrange(folds) for _ in samples]
    for fold in range(folds):
        held = [s for s, f in zip(samples, fold_of, strict=True) if f == fold]
        seen = [s for s, f in zip(samples, fold_of, strict=True) if f != fold]
        if held and seen:
            yield held, seen


def _has_clause(sample: Sample) -> bool:
    return any(not c.outside for c in sample.candidates)


def _best_is_right(
    sample: Sample, clause: tuple[float, ...], outside: tuple[float, ...] | None = None
) -> tuple[tuple[float, ...], bool]:
    scored = sorted(
        (
            (sigmoid(dot(outside if c.outside and outside is not None else clause, c.vector)), c)
            for c in sample.candidates
        ),
        key=lambda item: -item[0],
    )
    none_of_them = next((p for p, c in scored if c.outside), 0.0)
    real = [(p, c) for p, c in scored if not c.outside]
    adapted = FEATURES.index("adapted_quote")
    ranking = rank(
        [(p, c.clause) for p, c in real],
        none_of_them,
        story=sample.story,
        terms=sample.terms,
        adapted=[c.vector[adapted] for _, c in real],
    )
    return ranking.vector(), real[0][1].right


def _logistic(rows: Rows, size: int, l2: float) -> tuple[float, ...]:
    """Ridge logistic regression by Newton's method (a few dozen weights: exact and quick)."""
    if not rows:
        return (0.0,) * size
    x = np.array([vector for vector, _ in rows], dtype=np.float64)
    y = np.array([1.0 if right else 0.0 for _, right in rows])
    w = np.zeros(size)
    for _ in range(_NEWTON_STEPS):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -30.0, 30.0)))
        gradient = x.T @ (y - p) - l2 * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + l2 * np.eye(size)
        step = np.linalg.solve(hessian, gradient)
        w += step
        if np.abs(step).max() < 1e-7:
            break
    return tuple(round(float(wi), 4) for wi in w)


def cross_validate(
    knowledge: KnowledgeBase,
    sources: Mapping[str, Sequence[Case]],
    *,
    folds: int = 5,
    seed: int = 1,
    l2: float = L2,
    tuning: Tuning | None = None,
) -> dict[str, Report]:
    """Each source's report, every case answered with weights fitted without its fold."""
    measuring = unweighted(knowledge, tuning)
    all_samples = samples(measuring, sources)
    results: dict[str, list[CaseResult]] = {source: [] for source in sources}
    for held, seen in _folds(all_samples, folds, seed):
        weights = fit(seen, l2=l2, folds=folds, seed=seed)
        assistant = Assistant(knowledge, tuning=tuning, weights=weights, encoder=measuring.encoder)
        _answer(assistant, held, results)
    return {source: Report(tuple(r)) for source, r in results.items()}


def _answer(
    assistant: Assistant, held: Sequence[Sample], results: dict[str, list[CaseResult]]
) -> None:
    """Ask `assistant` each held-out case, adding its result to its source's."""
    for sample in held:
        case = sample.case
        reply = assistant.ask(Question(org=case.org, text=case.question))
        results[sample.source].append(score_case(case, reply, 0.0))


def own_questions(
    reviewed: KnowledgeBase, drafts: KnowledgeBase, *, per_clause: int = 3, seed: int = 1
) -> list[Case]:
    """Cases for each council of `drafts` from its reviewed clauses' own example questions (up
    to `per_clause` of each), expecting the drafted clause that holds the reviewed quote's
    longest line.

    A draft borrows only from the other councils, so its council's own questions are new to it:
    they measure and fit a draft as questions staff write would, and there are hundreds."""
    rng = random.Random(seed)
    cases = []
    for org, draft in drafts.policies.items():
        if org not in reviewed.policies:
            continue
        for clause in reviewed.policy(org).clauses:
            line = max(_LINES.split(clause.quote), key=len).lstrip("-*\u2022 0123456789.").strip()
            if not line or not any(contains(d.quote, [line]) for d in draft.clauses):
                continue
            own = [q for q in clause.questions if q not in clause.borrowed]
            for number, question in enumerate(rng.sample(own, min(per_clause, len(own)))):
                case = Case(id=f"{clause.id}-{number}", org=org, question=question, expect=[line])
                cases.append(case)
    return cases


_LINES = re.compile(r"\n|(?<=[.;:])\s")


def fit_adapter(
    knowledge: KnowledgeBase, encoder: Encoder, *, leave_out: Collection[str] = ()
) -> QuoteAdapter:
    """The quote adapter (bot/semantic.py) learnt from every reviewed clause's own example
    questions and quote, in each council of `knowledge` but those in `leave_out`: never from a
    borrowed question, nor from a drafted clause."""
    councils = []
    for org, policy in knowledge.policies.items():
        clauses = [clause for clause in policy.clauses if not clause.drafted]
        if org in leave_out or not clauses:
            continue
        asked = [
            (question, index)
            for index, clause in enumerate(clauses)
            for question in clause.questions
            if question not in clause.borrowed
        ]
        councils.append(
            AskedAs(
                cached_vectors(encoder, [question for question, _ in asked]),
                np.array([index for _, index in asked], dtype=np.int64),
                cached_vectors(encoder, [clause.quote for clause in clauses]),
            )
        )
    return QuoteAdapter.fit(councils)


def cross_validate_drafts(
    drafts: KnowledgeBase,
    sources: Mapping[str, Sequence[Case]],
    reviewed: Weights,
    adapters: Mapping[str, QuoteAdapter],
    *,
    seed: int = 1,
    l2: float = L2,
    tuning: Tuning | None = None,
) -> tuple[dict[str, Report], Weights]:
    """Leave one council out: each drafted council's cases answered with drafted weights fitted
    on the other councils' drafts only, as a council nobody has drafted before would be. Also
    the weights with drafted ones fitted on every case.

    `adapters`: per drafted council, a quote adapter fitted without it (`fit_adapter`), so that
    it compares that council's quotes as it would a new council's."""
    measuring = unweighted(drafts, tuning, adapters)
    all_samples = samples(measuring, sources)
    results: dict[str, list[CaseResult]] = {source: [] for source in sources}
    for org in sorted({s.case.org for s in all_samples}):
        held = [s for s in all_samples if s.case.org == org]
        seen = [s for s in all_samples if s.case.org != org]
        drafted = fit(seen, l2=l2, seed=seed, outside=reviewed.clause)
        weights = replace(reviewed, drafted=drafted)
        assistant = Assistant(
            drafts, tuning=tuning, weights=weights, encoder=measuring.encoder, adapters=adapters
        )
        _answer(assistant, held, results)
    every = replace(reviewed, drafted=fit(all_samples, l2=l2, seed=seed, outside=reviewed.clause))
    return {source: Report(tuple(r)) for source, r in results.items()}, every


@dataclass(frozen=True, slots=True)
class Bin:
    lower: float  # confidences from this ...
    upper: float  # ... up to (not including) this; the last bin includes 1.0
    count: int
    confidence: float  # their mean confidence
    right: float  # the share whose best clause is right


@dataclass(frozen=True, slots=True)
class Reliability:
    """How often the best clause is right at each level of the assistant's confidence in it.
    Calibrated confidence says "0.7" of what is right seven times in ten."""

    bins: tuple[Bin, ...]  # the bins that hold any case

    @property
    def cases(self) -> int:
        return sum(b.count for b in self.bins)

    @property
    def error(self) -> float:
        """Expected calibration error: the gap between confidence and accuracy, averaged
        over the cases."""
        return sum(b.count * abs(b.confidence - b.right) for b in self.bins) / (self.cases or 1)

    def right_above(self, threshold: float) -> float | None:
        """The share right among the cases the assistant is at least this confident about
        (at the answer threshold: its answers' precision)."""
        above = [b for b in self.bins if b.lower >= threshold]
        count = sum(b.count for b in above)
        return sum(b.count * b.right for b in above) / count if count else None


def reliability(
    assistant: Assistant, cases: Sequence[Case], *, edges: Sequence[float] = (0.2, 0.4, 0.6, 0.8)
) -> Reliability:
    """The assistant's confidence against the truth on the in-scope `cases`, in bins split at
    `edges`. Meaningful only on cases its weights were not fitted on."""
    scored: list[tuple[float, bool]] = []
    for case in cases:
        if not case.expect:
            continue
        assessment = assistant.matcher(case.org).assess(case.question)
        if assessment.matches:
            best = assessment.matches[0].clause
            scored.append((assessment.confidence, contains(best.quote, case.expect)))
    bounds = [0.0, *edges, 1.0]
    bins = []
    for lower, upper in itertools.pairwise(bounds):
        inside = [(p, r) for p, r in scored if lower <= p < upper or (upper == 1.0 and p == 1.0)]
        if inside:
            bins.append(
                Bin(
                    lower,
                    upper,
                    len(inside),
                    sum(p for p, _ in inside) / len(inside),
                    sum(r for _, r in inside) / len(inside),
                )
            )
    return Reliability(tuple(bins))


def unweighted(
    knowledge: KnowledgeBase,
    tuning: Tuning | None = None,
    adapters: Mapping[str, QuoteAdapter] | None = None,
) -> Assistant:
    """An assistant for measuring evidence, which does not depend on the weights."""
    return Assistant(
        knowledge,
        tuning=tuning,
        weights=Weights((0.0,) * len(FEATURES), (0.0,) * len(CONFIDENCE_FEATURES)),
        adapters=adapters,
    )
