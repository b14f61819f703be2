"""How likely a clause is to answer a message: the evidence, and the weights that turn it into a
probability.

The weights are fitted by `policybot calibrate` (bot/calibration.py) on development questions
only, never on the knowledge base's own example questions, and committed as bot/weights.json.
A logistic model of a dozen numbers cannot learn individual questions; it learns how much each
kind of evidence is worth, and how much less the same overlap means in a long story than in a
short question. A council still a draft gets its own: what its borrowed questions say is worth
less than what a council's own say.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from bot.knowledge import Clause, Policy

# The order of the numbers in `Evidence.vector`, and of the weights in bot/weights.json.
FEATURES = (
    "bias",
    "f1",
    "explained",
    "fuzzy",
    "evidence",
    "ask_f1",
    "ask_explained",
    "ask_fuzzy",
    "outside",
    "known",
    "length",
    "story_f1",
    "story_explained",
    "story_ask_f1",
    "story_ask_explained",
    "story_outside",
    "semantic",
    "semantic_used",
    "ask_semantic",
    "probe",
    "draft_quote",
    "adapted_quote",
    "adapted_with_section",
)
# The order of the numbers in `Ranking.vector`: what says whether the best clause is right.
CONFIDENCE_FEATURES = (
    "bias",
    "best",
    "lead",
    "outside",
    "top3",
    "story",
    "length",
    "story_best",
    "adapted_lead",
)
# Beyond this summed term weight, more shared words say nothing more about a clause.
EVIDENCE_CAP = 10.0
# Messages with this many distinct terms or more count as fully long.
LONG_TERMS = 40


@dataclass(frozen=True, slots=True)
class Features:
    """How one text (a whole message, or just its ask) overlaps one clause."""

    best_f1: float  # weighted F1 overlap with the closest example question, 0..1
    explained: float  # share of the text's weight the clause's profile accounts for, 0..1
    fuzzy: float  # rapidfuzz token-set ratio with the closest example question, 0..1
    evidence: float  # the text's weight the clause accounts for, not divided by its length
    known: float  # share of the text's terms the council's knowledge base knows, 0..1


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything the score of one clause for one message is made of."""

    whole: Features  # the whole message
    ask: Features  # the sentences that ask (the whole message when nothing else stands out)
    outside: bool  # the clause is the "none of the above" of questions no policy answers
    story: bool  # the message tells a story around its ask
    terms: int  # distinct terms in the message
    on_subject: bool = False  # the message names what the policies are about (vocabulary.yaml)
    # cosine of the message, and of its ask alone, with the clause's closest example question
    # or quote (bot/semantic.py); None for messages that do not need it
    semantic: float | None = None
    ask_semantic: float | None = None
    # what the council's probe says of the message and the clause (bot/semantic.py), when the
    # message is compared by meaning
    probe: float | None = None
    # the cosine of the message with the clause's quote, for a drafted clause only: its example
    # questions are borrowed, its quote is its council's own words
    draft_quote: float | None = None
    # ... and their score through the quote adapter (bot/semantic.py), learnt from how the
    # reviewed councils' staff ask about their rules
    adapted_quote: float | None = None
    # ... and of the quote read under its section heading: a bullet ("- tell your manager
    # straight away") says what it is about only there ("Posting by mistake")
    adapted_with_section: float | None = None

    def vector(self) -> tuple[float, ...]:
        whole, ask = self.whole, self.ask
        story = 1.0 if self.story else 0.0
        outside = 1.0 if self.outside else 0.0
        return (
            1.0,
            whole.best_f1,
            whole.explained,
            whole.fuzzy * whole.best_f1,
            min(whole.evidence, EVIDENCE_CAP) / EVIDENCE_CAP,
            ask.best_f1,
            ask.explained,
            ask.fuzzy * ask.best_f1,
            outside,
            whole.known,
            min(self.terms, LONG_TERMS) / LONG_TERMS,
            story * whole.best_f1,
            story * whole.explained,
            story * ask.best_f1,
            story * ask.explained,
            story * outside,
            self.semantic or 0.0,
            0.0 if self.semantic is None else 1.0,
            self.ask_semantic or 0.0,
            self.probe or 0.0,
            self.draft_quote or 0.0,
            self.adapted_quote or 0.0,
            self.adapted_with_section or 0.0,
        )


@dataclass(frozen=True, slots=True)
class Ranking:
    """The probabilities of a message's best clauses, as a whole: is the best one right?

    A clause's probability says how well it fits on its own; whether to answer also depends on
    how far it leads the next clause that says something else, and on how well "none of the
    above" fits.
    """

    best: float  # the best clause's probability
    runner_up: float  # the best clause's not related to it (a related one says the same)
    outside: float  # the "none of the above" pseudo-clause's probability
    top3: float  # the summed probability of the best three
    story: bool
    terms: int
    # in a draft: how far the best clause's adapted score (`Evidence.adapted_quote`) leads the
    # next best's, evidence of its own words apart from its probability; 0 in a reviewed council
    adapted_lead: float = 0.0

    def vector(self) -> tuple[float, ...]:
        best = _logit(self.best)
        story = 1.0 if self.story else 0.0
        return (
            1.0,
            best,
            best - _logit(self.runner_up),
            self.outside,
            self.top3,
            story,
            min(self.terms, LONG_TERMS) / LONG_TERMS,
            story * best,
            self.adapted_lead,
        )


def rank(
    scored: list[tuple[float, Clause]],
    outside: float,
    *,
    story: bool,
    terms: int,
    adapted: Sequence[float] = (),
) -> Ranking:
    """The `Ranking` of clauses `scored` best first (the "outside" pseudo-clause left out);
    `adapted`, in a draft, their adapted scores in the same order."""
    if not scored:
        return Ranking(0.0, 0.0, outside, 0.0, story, terms)
    adapted_lead = adapted[0] - max(adapted[1:]) if len(adapted) > 1 else 0.0
    best_score, best = scored[0]
    runner_up = next(
        (
            score
            for score, clause in scored[1:]
            if clause.id not in best.related and best.id not in clause.related
        ),
        0.0,
    )
    top3 = sum(score for score, _ in scored[:3])
    return Ranking(best_score, runner_up, outside, top3, story, terms, adapted_lead)


class WeightsError(ValueError):
    """The weights file is missing, malformed, or was fitted for other features."""


@dataclass(frozen=True, slots=True)
class Weights:
    clause: tuple[float, ...]  # one per name in FEATURES: is this clause right?
    answer: tuple[float, ...]  # one per name in CONFIDENCE_FEATURES: is the best clause right?
    # For a council still a draft (`kb draft`, not yet reviewed): its clauses' examples are
    # borrowed from other councils, and the same evidence means less. Fitted apart, on the
    # shipped councils drafted leaving each one out (`policybot calibrate --drafts`).
    drafted: Weights | None = None

    def __post_init__(self) -> None:
        if len(self.clause) != len(FEATURES) or len(self.answer) != len(CONFIDENCE_FEATURES):
            raise WeightsError("the scoring weights do not match the features")

    def as_draft(self, policy: Policy) -> bool:
        """Whether `policy` is scored by the drafted weights: while it is mostly a draft."""
        drafted = sum(clause.drafted for clause in policy.clauses)
        return self.drafted is not None and drafted * 2 > len(policy.clauses)

    def probability(self, evidence: Evidence, *, draft: bool = False) -> float:
        """The estimated probability that the clause answers the message. In a draft, by the
        drafted weights, but for the "outside" examples: the same in every council, they mean
        what they mean in a reviewed one."""
        weights = self.clause
        if draft and self.drafted is not None and not evidence.outside:
            weights = self.drafted.clause
        return round(sigmoid(dot(weights, evidence.vector())), 4)

    def confidence(self, ranking: Ranking, *, draft: bool = False) -> float:
        """The estimated probability that the best clause answers the message."""
        weights = self.drafted.answer if draft and self.drafted is not None else self.answer
        return round(sigmoid(dot(weights, ranking.vector())), 4)

    def to_json(self, **about: object) -> str:
        return json.dumps(self._data(about), indent=2) + "\n"

    def _data(self, about: dict[str, object]) -> dict[str, object]:
        data = {
            **about,
            "clause": dict(zip(FEATURES, self.clause, strict=True)),
            "answer": dict(zip(CONFIDENCE_FEATURES, self.answer, strict=True)),
        }
        if self.drafted is not None:
            data["drafted"] = self.drafted._data({})
        return data


def dot(weights: Sequence[float], vector: Sequence[float]) -> float:
    return sum(w * x for w, x in zip(weights, vector, strict=True))


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def load_weights(path: Path | None = None) -> Weights:
    """The weights in `path`, or the ones shipped with policybot."""
    try:
        if path is None:
            text = resources.files("bot").joinpath("weights.json").read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        data = json.loads(text)
        drafted = data.get("drafted")
        return _weights(data, _weights(drafted) if drafted is not None else None)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise WeightsError(f"cannot read the scoring weights: {exc}") from None


def _weights(data: dict[str, dict[str, float]], drafted: Weights | None = None) -> Weights:
    clause, answer = data["clause"], data["answer"]
    if set(clause) != set(FEATURES) or set(answer) != set(CONFIDENCE_FEATURES):
        raise WeightsError("they were fitted for other features: run `policybot calibrate`")
    return Weights(
        tuple(float(clause[name]) for name in FEATURES),
        tuple(float(answer[name]) for name in CONFIDENCE_FEATURES),
        drafted,
    )
