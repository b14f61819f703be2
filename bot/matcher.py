"""Finds the clause of one council's policy that answers a question.

Every clause is indexed twice: each of its example questions on its own, and its whole material
(questions, quote, answer, section) as one profile. A question scores against a clause by

- the best weighted F1 overlap with one of the clause's example questions (close paraphrases), and
- how much of the question the clause's profile explains (new wordings of known topics),

with every term weighted by its rarity across the council's clauses (rare words count more) and
misspelt words corrected with rapidfuzz against the known vocabulary beforehand. The raw score is
then calibrated to 0..1 by a logistic curve so that one threshold means the same in every council.
"""

from __future__ import annotations

import enum
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.knowledge import Clause, Policy
from bot.normalise import Normaliser

# Postings longer than this are not walked: such a term cannot single out a clause, so it is only
# checked against the candidates that rarer terms found. Keeps large knowledge bases fast.
MAX_WALKED_POSTINGS = 2000


class Kind(enum.StrEnum):
    ANSWER = "answer"
    CLARIFY = "clarify"
    FALLBACK = "fallback"


@dataclass(frozen=True, slots=True)
class Match:
    clause: Clause
    score: float  # calibrated: 0 = unrelated, 1 = certainly this clause


@dataclass(frozen=True, slots=True)
class Decision:
    kind: Kind
    matches: tuple[Match, ...]  # best first; for a clarify, the options come first

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None


@dataclass(frozen=True, slots=True)
class Tuning:
    """The matcher's constants, in one place so that evaluation can explore them."""

    profile_weight: float = 0.45
    question_weight: float = 0.55
    quote_term_share: float = 0.5  # how much a term found only in quote/answer text counts
    fuzzy_weight: float = 0.15  # rapidfuzz token ratio against the best example question
    calibration_slope: float = 9.0
    calibration_midpoint: float = 0.42
    answer_threshold: float = 0.5
    clarify_threshold: float = 0.25
    close_margin: float = 0.08  # options this close to the best make the answer uncertain
    max_options: int = 3


@dataclass(frozen=True, slots=True)
class _Doc:
    clause: int
    terms: frozenset[str]
    text: str  # normalised terms joined, for rapidfuzz


class Matcher:
    """Ranks one council's clauses for a question. Immutable after construction."""

    def __init__(
        self, policy: Policy, normaliser: Normaliser, *, tuning: Tuning | None = None
    ) -> None:
        self.policy = policy
        self.tuning = tuning or Tuning()
        self._normaliser = normaliser
        t = self.tuning
        self._clauses = policy.clauses
        docs: list[_Doc] = []
        # profile[c][term] = how strongly the term belongs to clause c, 0..1
        self._profiles: list[dict[str, float]] = []
        for index, clause in enumerate(self._clauses):
            question_terms = [frozenset(normaliser.terms(q)) for q in clause.questions]
            for terms in question_terms:
                docs.append(_Doc(index, terms, " ".join(sorted(terms))))
            counts: Counter[str] = Counter()
            for terms in question_terms:
                counts.update(terms)
            profile = {term: min(1.0, 3.0 * n / len(question_terms)) for term, n in counts.items()}
            for term in normaliser.terms(f"{clause.section} {clause.quote} {clause.answer}"):
                profile[term] = max(profile.get(term, 0.0), t.quote_term_share)
            self._profiles.append(profile)
        self._docs = docs
        clause_count = max(1, len(self._clauses))
        df: Counter[str] = Counter()
        for profile in self._profiles:
            df.update(profile.keys())
        self._idf = {term: _idf(n, clause_count) for term, n in df.items()}
        self._unknown_idf = _idf(0, clause_count)
        self._doc_norm = [sum(self._idf[term] for term in doc.terms) for doc in docs]
        postings: dict[str, list[int]] = defaultdict(list)
        for i, doc in enumerate(docs):
            for term in doc.terms:
                postings[term].append(i)
        self._postings = dict(postings)
        profile_postings: dict[str, list[int]] = defaultdict(list)
        for c, profile in enumerate(self._profiles):
            for term in profile:
                profile_postings[term].append(c)
        self._profile_postings = dict(profile_postings)

    def weight(self, term: str) -> float:
        return self._idf.get(term, self._unknown_idf)

    def rank(self, text: str, *, limit: int = 5) -> tuple[Match, ...]:
        """Clauses that share anything with `text`, best first, at most `limit`."""
        query = set(self._normaliser.terms(text))
        if not query:
            return ()
        t = self.tuning
        weights = {term: self.weight(term) for term in query}
        total = sum(weights.values())
        by_rarity = sorted(query, key=lambda term: -weights[term])

        overlap: dict[int, float] = defaultdict(float)
        walked: list[str] = []
        for term in by_rarity:
            posting = self._postings.get(term)
            if posting is None:
                continue
            if len(posting) <= MAX_WALKED_POSTINGS or not overlap:
                walked.append(term)
                for d in posting:
                    overlap[d] += weights[term]
        skipped = [term for term in query if term in self._postings and term not in walked]
        for d in overlap:
            for term in skipped:
                if term in self._docs[d].terms:
                    overlap[d] += weights[term]

        best_question: dict[int, tuple[float, int]] = {}
        for d, shared in overlap.items():
            recall = shared / total
            precision = shared / self._doc_norm[d] if self._doc_norm[d] else 0.0
            f1 = 2 * recall * precision / (recall + precision) if shared else 0.0
            clause = self._docs[d].clause
            if clause not in best_question or f1 > best_question[clause][0]:
                best_question[clause] = (f1, d)

        explained: dict[int, float] = defaultdict(float)
        for term in query:
            for c in self._profile_postings.get(term, ()):
                explained[c] += weights[term] * self._profiles[c][term]

        query_text = " ".join(sorted(query))
        raw: list[tuple[float, int]] = []
        for c in set(best_question) | set(explained):
            f1, d = best_question.get(c, (0.0, -1))
            fuzzy = fuzz.token_set_ratio(query_text, self._docs[d].text) / 100 if d >= 0 else 0.0
            score = (
                t.question_weight * f1
                + t.profile_weight * explained.get(c, 0.0) / total
                + t.fuzzy_weight * fuzzy * f1
            )
            raw.append((score, c))
        raw.sort(key=lambda item: (-item[0], item[1]))
        return tuple(
            Match(clause=self._clauses[c], score=self._calibrate(score)) for score, c in raw[:limit]
        )

    def _calibrate(self, raw: float) -> float:
        t = self.tuning
        return round(1 / (1 + math.exp(-t.calibration_slope * (raw - t.calibration_midpoint))), 4)

    def decide(self, text: str) -> Decision:
        """Answer, clarify with up to three options, or fall back because the policy is silent."""
        t = self.tuning
        matches = self.rank(text, limit=max(5, t.max_options))
        return decide(matches, t)


def decide(matches: Sequence[Match], tuning: Tuning) -> Decision:
    if not matches or matches[0].score < tuning.clarify_threshold:
        return Decision(Kind.FALLBACK, tuple(matches))
    best = matches[0]
    close = [m for m in matches[1:] if best.score - m.score <= tuning.close_margin]
    if best.score >= tuning.answer_threshold and not close:
        return Decision(Kind.ANSWER, tuple(matches))
    return Decision(Kind.CLARIFY, tuple(matches))


def _idf(df: int, n: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))
