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

A long message is read first (bot/reading.py): its ask and its whole text are scored apart,
so that "can they do that?" after a story is weighed with the story's details, not drowned by them.
The score of a match is a probability that it is the right clause, from weights fitted on
development questions (bot/scoring.py); matches are ranked by it.
"""

from __future__ import annotations

import enum
import heapq
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from rapidfuzz import fuzz

from bot.knowledge import Clause, Policy
from bot.normalise import Normaliser
from bot.reading import Reading, read
from bot.scoring import Evidence, Features, Weights, load_weights, rank
from bot.semantic import Semantics, Vectors

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
    """The matcher's constants, in one place so that evaluation can explore them."""

    quote_term_share: float = 1.0  # how much a term found only in quote/answer text counts
    profile_gain: float = 3.0  # a term in a third of a clause's questions belongs to it fully
    idf_power: float = 1.0
    # Answer when the best clause is right with at least this probability (bot/scoring.py).
    # `policybot calibrate --answer-threshold` shows the trade: on real posts, cross-validated,
    # 0.5 answered more but one answer in three was wrong; 0.6 keeps precision near 0.8 and
    # paraphrases above 0.93; 0.7 costs a quarter of the right answers for little precision.
    answer_threshold: float = 0.6
    # ... in a council still a draft (`Weights.drafted`), whose answers are its policy's own
    # words ("Your policy says: ..."), never a verdict. Leave-one-council-out (`policybot
    # calibrate ... --drafts`), top-1 at answer precision, 0.45 / 0.5 / 0.55 (2026-12-05, with
    # the quote adapter's three pieces of evidence): dev.yaml 0.725 at 0.853 / 0.625 at 0.893 /
    # 0.625 at 0.926; paraphrases 0.664 at 0.865 / 0.640 at 0.889 / 0.608 at 0.927; forum posts
    # 0.333 at 0.645 / 0.300 at 0.750 / 0.283 at 0.773; real posts 0.267 at 0.615 / 0.217 at
    # 0.619 / 0.183 at 0.611; own questions 0.563 at 0.728 / 0.530 at 0.751 / 0.491 at 0.777.
    # The reviewed weights had answered the same drafts' dev.yaml at 0.450, precision 0.600.
    draft_answer_threshold: float = 0.5
    # Below this probability the best clause is not near the question: the policy is silent.
    clarify_threshold: float = 0.05
    max_options: int = 3
    # When the "outside" examples win but a clause is still this likely, the clause is near:
    # offer it ("did you mean"), never answer, rather than say the policy is silent. Since the
    # probe (bot/semantic.py) raised the scores of long messages, cross-validation gives the
    # same in-scope figures from 0.2 to 0.6, and out-of-scope refused 0.933 at 0.2, 0.962 at
    # 0.35, 0.971 from 0.4 to 0.6 (pay and leave questions offered options, then not): the middle.
    outside_near: float = 0.5
    # Messages of more words than this are also compared by meaning (bot/semantic.py); shorter
    # ones skip the embedding (5 ms). None: never. The weights are fitted for one value. With
    # the probe, cross-validated over three seeds, 0 (every message) against 8: paraphrases
    # 0.960 against 0.928-0.944, dev.yaml 0.925 against 0.875-0.900, real posts 0.450-0.500
    # against 0.467-0.500.
    semantic_min_words: int | None = 0
    # ... unless the example questions of one clause alone have nearly its words (weighted F1
    # at least this): then the words decide. Cross-validated, 0.8 to 1.0 change no figure by
    # more than a case; the knowledge base's own questions, as benchmarks send, then take 1 ms,
    # not 20. (When several clauses hold such a question, as a draft's borrowed ones often do,
    # the words cannot choose: leaving one council out, dev.yaml top-1 0.525 -> 0.625.)
    semantic_known_f1: float = 0.9


@dataclass(frozen=True, slots=True)
class _Question:
    norm: float  # the summed weight of its terms
    text: str  # its terms joined, for rapidfuzz


@dataclass(frozen=True, slots=True)
class Query:
    """A question as the matcher sees it: its terms weighted by rarity."""

    weights: dict[str, float]
    total: float  # the summed weight of its terms
    known: float  # share of its terms the council's knowledge base knows, 0..1
    text: str  # its terms joined, for rapidfuzz


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
        weights: Weights | None = None,
        semantics: Semantics | None = None,
    ) -> None:
        self.policy = policy
        self._semantics = semantics
        self.weights = weights = weights or load_weights()
        self._draft = weights.as_draft(policy)
        tuning = tuning or Tuning()
        if self._draft:
            tuning = replace(tuning, answer_threshold=tuning.draft_answer_threshold)
        self.tuning = tuning
        self._normaliser = normaliser
        # The outside pseudo-clause, when there is one, is the last index.
        self._clauses = (*policy.clauses, OUTSIDE) if outside else policy.clauses
        self._outside_index = len(policy.clauses) if outside else -1
        # At least one: in a drafted council most clauses may have no questions yet.
        typical = max(
            1, statistics.median(len(c.questions) for c in policy.clauses) if policy.clauses else 1
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
            tuple(_Question(sum(self._idf[t] for t in q), " ".join(sorted(q))) for q in terms)
            for terms in question_terms
        ]
        # Per clause, which of its example questions hold each term: a question's overlap is
        # summed over the few terms a message has, not over every term of every question.
        self._holding: list[dict[str, tuple[int, ...]]] = []
        for terms in question_terms:
            holding: dict[str, list[int]] = defaultdict(list)
            for i, question in enumerate(terms):
                for term in question:
                    holding[term].append(i)
            self._holding.append({term: tuple(ids) for term, ids in holding.items()})
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for c, profile in enumerate(self._profiles):
            for term, strength in profile.items():
                postings[term].append((c, strength))
        self._postings = dict(postings)

    def clause_at(self, index: int) -> Clause:
        """The clause at `index` of the evidence (the "outside" pseudo-clause included)."""
        return self._clauses[index]

    def weight(self, term: str) -> float:
        return self._idf.get(term, self._unknown_idf)

    def evidence(self, message: str | Reading) -> list[tuple[int, Evidence]]:
        """The most promising clause indexes for `text` with their evidence, in no order."""
        reading = message if isinstance(message, Reading) else read(message)
        whole = self.query(reading.text)
        if not whole.weights:
            return []
        ask = self.query(reading.ask) if reading.has_story else whole
        candidates = dict.fromkeys(self.candidates(whole))
        if ask is not whole:
            candidates.update(dict.fromkeys(self.candidates(ask)))
        lexical = []
        for c in candidates:
            features = self.clause_features(whole, c)
            lexical.append(
                (c, features, features if ask is whole else self.clause_features(ask, c))
            )
        meaning = self._meaning(reading, lexical)
        # Per candidate; a message with no story has one meaning, compared once.
        semantic: dict[int, float] = {}
        ask_semantic = semantic
        probe: dict[int, float] = {}
        draft_quote: dict[int, float] = {}
        adapted_quote: dict[int, float] = {}
        adapted_with_section: dict[int, float] = {}
        if self._semantics and meaning:
            vectors, (whole_meaning, ask_meaning) = self._semantics.vectors, meaning
            semantic = {c: vectors.similarity(whole_meaning, c) for c, _, _ in lexical}
            ask_semantic = (
                semantic
                if ask_meaning is whole_meaning
                else {c: vectors.similarity(ask_meaning, c) for c, _, _ in lexical}
            )
            direction = vectors.probe_direction(whole_meaning)
            chosen = [c for c, _, _ in lexical]
            probe = dict(zip(chosen, vectors.probes(direction, chosen).tolist(), strict=True))
            drafted = [c for c, _, _ in lexical if self._clauses[c].drafted]
            draft_quote = {c: vectors.quote_similarity(whole_meaning, c) for c in drafted}
            if self._semantics.adapter is not None and drafted:
                adapted = self._semantics.adapter.adapt(whole_meaning)
                adapted_quote = {c: vectors.quote_similarity(adapted, c) for c in drafted}
                headed = self._semantics.headed_quotes
                if headed is not None:
                    adapted_with_section = {c: float(headed[c] @ adapted) for c in drafted}
        on_subject = not self._normaliser.subject.isdisjoint(whole.weights)
        return [
            (
                c,
                Evidence(
                    whole=whole_features,
                    ask=ask_features,
                    outside=c == self._outside_index,
                    story=reading.has_story,
                    terms=len(whole.weights),
                    on_subject=on_subject,
                    semantic=semantic.get(c),
                    ask_semantic=ask_semantic.get(c),
                    probe=probe.get(c),
                    draft_quote=draft_quote.get(c),
                    adapted_quote=adapted_quote.get(c),
                    adapted_with_section=adapted_with_section.get(c),
                ),
            )
            for c, whole_features, ask_features in lexical
        ]

    def _meaning(
        self, reading: Reading, lexical: list[tuple[int, Features, Features]]
    ) -> tuple[Vectors, Vectors] | None:
        """The message's and its ask's vectors, when comparing meanings is worth its time: the
        message is long, and it is not, word for word, nearly a question of one clause alone
        (then its words already say which clause it is, and the embedding would add 10-30 ms).
        In a draft several clauses often borrowed the same question: its words cannot choose."""
        semantics, limit = self._semantics, self.tuning.semantic_min_words
        if semantics is None or limit is None or len(reading.text.split()) <= limit:
            return None
        known = [
            c
            for c, whole, _ in lexical
            if c != self._outside_index and whole.best_f1 >= self.tuning.semantic_known_f1
        ]
        if len(known) == 1:
            return None
        if not reading.has_story:
            whole = semantics.encoder.encode([reading.text])[0]
            return whole, whole
        encoded = semantics.encoder.encode([reading.text, reading.ask])
        return encoded[0], encoded[1]

    def query(self, text: str) -> Query:
        terms = set(self._normaliser.terms(text))
        weights = {term: self.weight(term) for term in terms}
        known = sum(1 for term in terms if term in self._idf) / len(terms) if terms else 0.0
        return Query(weights, sum(weights.values()), known, " ".join(sorted(terms)))

    def candidates(self, query: Query, *, limit: int = CANDIDATES) -> list[int]:
        """The clause indexes whose profiles share the most weight with `query`, best first.

        Candidates come from the rarer words of the question: a word in more clauses than
        MAX_WALKED_POSTINGS cannot single one out, so its postings are not walked (it still
        counts in the features of the candidates found).
        """
        weights = query.weights
        reach: dict[int, float] = defaultdict(float)
        for term in sorted(weights, key=lambda term: -weights[term]):
            posting = self._postings.get(term)
            if posting is None or (len(posting) > MAX_WALKED_POSTINGS and reach):
                continue
            weight = weights[term]
            for c, strength in posting:
                reach[c] += weight * strength
        best = heapq.nlargest(limit, reach.items(), key=lambda item: item[1])
        return [c for c, _ in best]

    def clause_features(self, query: Query, c: int) -> Features:
        weights, total = query.weights, query.total
        if not total:
            return Features(0.0, 0.0, 0.0, 0.0, query.known)
        profile = self._profiles[c]
        evidence = sum(weight * profile.get(t, 0.0) for t, weight in weights.items())
        overlap: dict[int, float] = defaultdict(float)
        holding = self._holding[c]
        for term, weight in weights.items():
            for i in holding.get(term, ()):
                overlap[i] += weight
        best_f1, closest = 0.0, None
        questions = self._questions[c]
        for i in sorted(overlap):  # in the clause's order, so that the first of equals wins
            shared, question = overlap[i], questions[i]
            recall, precision = shared / total, shared / question.norm
            f1 = 2 * recall * precision / (recall + precision)
            if f1 > best_f1:
                best_f1, closest = f1, question
        fuzzy = fuzz.token_set_ratio(query.text, closest.text) / 100 if closest else 0.0
        return Features(best_f1, evidence / total, fuzzy, evidence, query.known)

    def assess(self, message: str | Reading, *, limit: int = 5) -> Assessment:
        """The best clauses for `message` (at most `limit`), and what else decides the reply.
        A message already read (`bot.reading.read`) is not read again."""
        evidence = self.evidence(message)
        scored = self.score(evidence)
        adapted = {self._clauses[c].id: e.adapted_quote or 0.0 for c, e in evidence}
        outside = next((p for p, c in scored if c is OUTSIDE), 0.0)
        matches = tuple(Match(clause=c, score=p) for p, c in scored if c is not OUTSIDE)
        first = evidence[0][1] if evidence else None
        ranking = rank(
            [(m.score, m.clause) for m in matches],
            outside,
            story=bool(first and first.story),
            terms=first.terms if first else 0,
            adapted=[adapted[m.clause.id] for m in matches],
        )
        return Assessment(
            matches=matches[:limit],
            outside_wins=bool(scored) and scored[0][1] is OUTSIDE,
            fully_known=first is not None and first.whole.known == 1.0,
            on_subject=bool(first and first.on_subject),
            confidence=self.weights.confidence(ranking, draft=self._draft),
        )

    def score(self, evidence: list[tuple[int, Evidence]]) -> list[tuple[float, Clause]]:
        """Each clause's probability, best first (ties in the knowledge base's order)."""
        scored = sorted(
            ((self.weights.probability(e, draft=self._draft), c) for c, e in evidence),
            key=lambda item: (-item[0], item[1]),
        )
        return [(p, self._clauses[c]) for p, c in scored]

    def rank(self, text: str, *, limit: int = 5) -> tuple[Match, ...]:
        """Clauses that share anything with `text`, best first, at most `limit`."""
        return self.assess(text, limit=limit).matches

    def decide(self, message: str | Reading) -> Decision:
        """Answer, clarify with up to three options, or fall back because the policy is silent."""
        return decide(self.assess(message, limit=max(5, self.tuning.max_options)), self.tuning)


@dataclass(frozen=True, slots=True)
class Assessment:
    matches: tuple[Match, ...]
    outside_wins: bool  # the "outside" examples beat every clause
    fully_known: bool  # every word of the question is known to the council's clauses
    confidence: float = 0.0  # the estimated probability that the best match is right
    on_subject: bool = False  # it names what the policy is about: "Facebook", "social media"


def decide(assessment: Assessment, tuning: Tuning) -> Decision:
    """Answer when the best clause is likely right; say the policy is silent only when no clause
    is near; otherwise offer the nearest clauses.

    A message that names the policy's subject ("I put something on Facebook ...") is never told
    the policy is silent: a social media policy is always near a question about social media,
    even when no clause's words are. On the development sets this leaves out-of-scope questions
    (pay, leave, IT: none names social media) refused as before.
    """
    matches = assessment.matches
    if not matches:
        return Decision(Kind.FALLBACK, matches)
    near = assessment.on_subject or matches[0].score >= tuning.outside_near
    if assessment.outside_wins:
        return Decision(Kind.CLARIFY if near else Kind.FALLBACK, matches)
    if matches[0].score < tuning.clarify_threshold and not (
        assessment.fully_known or assessment.on_subject
    ):
        return Decision(Kind.FALLBACK, matches)
    if assessment.confidence >= tuning.answer_threshold:
        return Decision(Kind.ANSWER, matches)
    return Decision(Kind.CLARIFY, matches)


def _idf(df: int, n: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))
