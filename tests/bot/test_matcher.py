"""The matcher on the shipped councils and on small made-up knowledge bases."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bot.assistant import Assistant
from bot.knowledge import Clause, Contacts, Policy, Vocabulary
from bot.matcher import Assessment, Kind, Match, Matcher, Tuning, decide
from bot.normalise import Normaliser
from bot.scoring import load_weights, rank
from bot.semantic import DIMENSIONS, ClauseVectors, QuoteAdapter, Semantics
from tests.fakes.encoder import Counting

VOCABULARY = Vocabulary(
    synonyms=(("friend", "add", "connect"), ("service user", "client")),
    broader={"facebook": "social media"},
    spellings={},
    stopwords=frozenset({"can", "i", "a", "the", "on", "my", "do", "is", "it", "to", "what"}),
)


def _clause(clause_id: str, quote: str, *questions: str) -> Clause:
    return Clause(id=clause_id, section=clause_id, quote=quote, answer="Yes.", questions=questions)


TOY = Policy(
    org="toy",
    council="Toy Council",
    title="Policy",
    date="2024",
    contacts=Contacts(hr="HR", comms="Comms"),
    text="",
    clauses=(
        _clause(
            "friends",
            "Never accept friend requests from service users.",
            "can I friend a service user",
            "client sent me a friend request",
            "should I connect with clients on facebook",
        ),
        _clause(
            "breaks",
            "Personal use is allowed during lunch breaks only.",
            "can I use facebook at lunch",
            "social media on my break",
            "scrolling instagram during lunch break",
        ),
    ),
)


@pytest.fixture(scope="module")
def toy() -> Matcher:
    return Matcher(TOY, Normaliser(VOCABULARY), outside=["how much annual leave do I get"])


def test_a_council_whose_clauses_mostly_have_no_questions_yet_is_matched() -> None:
    """A drafted council before anyone writes questions: only some clauses borrowed any."""
    bare = _clause("photos", "Ask before posting photos of colleagues.")
    more = (replace(bare, id=f"bare-{n}") for n in range(3))
    drafted = replace(TOY, clauses=(*TOY.clauses, *more))  # most have none
    matcher = Matcher(drafted, Normaliser(VOCABULARY), outside=["how much annual leave do I get"])
    assert matcher.rank("can I friend a service user")[0].clause.id == "friends"


def test_a_council_still_a_draft_answers_its_quotes_from_the_draft_threshold() -> None:
    drafted = replace(TOY, clauses=tuple(replace(c, drafted=True) for c in TOY.clauses))
    tuning = Tuning(answer_threshold=0.6, draft_answer_threshold=0.5)
    weights = load_weights()
    assert weights.drafted is not None  # shipped: fitted on the shipped councils' drafts
    as_drafted = Matcher(drafted, Normaliser(VOCABULARY), tuning=tuning, weights=weights)
    reviewed = Matcher(TOY, Normaliser(VOCABULARY), tuning=tuning, weights=weights)
    assert (as_drafted.tuning.answer_threshold, reviewed.tuning.answer_threshold) == (0.5, 0.6)
    question = "can I friend a service user"
    assert as_drafted.rank(question)[0].score != reviewed.rank(question)[0].score
    assert as_drafted.rank(question)[0].clause.id == "friends"


def _toy_with_meanings(
    encoder: Counting,
    policy: Policy = TOY,
    adapter: QuoteAdapter | None = None,
    headed_quotes: list[str] | None = None,
) -> Matcher:
    clauses = len(policy.clauses) + 1  # and "outside"
    texts = [text for clause in policy.clauses for text in clause.questions]
    owners = [c for c, clause in enumerate(policy.clauses) for _ in clause.questions]
    vectors = ClauseVectors(Counting().encode(texts), owners, clauses)
    headed = None if headed_quotes is None else Counting().encode(headed_quotes)
    return Matcher(
        policy,
        Normaliser(VOCABULARY),
        outside=["how much annual leave do I get"],
        semantics=Semantics(encoder, vectors, adapter, headed),
    )


def test_a_drafted_clauses_quote_is_also_compared_through_the_quote_adapter() -> None:
    story = "A client I support sent me a friend request online. Am I allowed to accept it?"
    friends, breaks = TOY.clauses
    drafted = replace(TOY, clauses=(replace(friends, drafted=True), breaks))
    # a clause's last text stands for its quote; the adapter moves the message's one word of
    # meaning (bot/semantic.py) onto the words of the quote of "friends"
    message_at, quote_at = len(story) % DIMENSIONS, len(friends.questions[-1]) % DIMENSIONS
    assert message_at != quote_at
    matrix = np.eye(DIMENSIONS, dtype=np.float32)
    matrix[message_at] = 0.0
    matrix[message_at, quote_at] = 1.0
    # each clause's quote under its section: the first one's text is where the message lands
    headed = ["x" * quote_at, "y" * (quote_at + 1)]
    matcher = _toy_with_meanings(Counting(), drafted, QuoteAdapter(matrix), headed)
    evidence = dict(matcher.evidence(story))
    assert (evidence[0].draft_quote, evidence[0].adapted_quote) == (0.0, 1.0)
    assert evidence[0].adapted_with_section == 1.0
    reviewed = [e for c, e in evidence.items() if c != 0]
    assert reviewed and all(e.adapted_quote is e.adapted_with_section is None for e in reviewed)
    assert all(e.draft_quote is None for e in reviewed)
    plain = dict(_toy_with_meanings(Counting(), drafted).evidence(story))
    assert plain[0].draft_quote == 0.0 and plain[0].adapted_quote is None


def test_a_long_message_is_compared_by_meaning_whole_and_by_its_ask() -> None:
    encoder = Counting()
    story = (
        "A lady whose family I support at work found me online last week. "
        "She sent me a request and I have not answered yet. Am I allowed to accept it?"
    )
    evidence = _toy_with_meanings(encoder).evidence(story)
    assert encoder.encoded == [story, "Am I allowed to accept it?"]
    assert all(e.semantic is not None and e.ask_semantic is not None for _, e in evidence)


def test_messages_whose_words_name_their_clause_skip_the_embedding() -> None:
    encoder = Counting()
    matcher = _toy_with_meanings(encoder)
    short = matcher.evidence("can I friend a service user")
    known = matcher.evidence("what is it, can I do it: can I friend a service user?")
    assert encoder.encoded == []  # too short; nearly a clause's own question
    assert all(e.semantic is None for _, e in [*short, *known])


def test_a_question_several_clauses_hold_is_compared_by_meaning() -> None:
    # a draft's clauses borrow the same questions: then the words cannot choose between them
    shared = "can I friend a service user"
    first, second, *rest = TOY.clauses
    both = replace(TOY, clauses=(first, replace(second, questions=(shared,)), *rest))
    encoder = Counting()
    evidence = _toy_with_meanings(encoder, both).evidence(shared)
    assert encoder.encoded == [shared]
    assert all(e.semantic is not None for _, e in evidence)


def test_ranks_the_clause_whose_questions_match(toy: Matcher) -> None:
    matches = toy.rank("Can I add a client on Facebook?")
    assert [m.clause.id for m in matches][:1] == ["friends"]
    assert all(0.0 <= m.score <= 1.0 for m in matches)
    assert matches[0].score > matches[-1].score


def test_outside_questions_fall_back(toy: Matcher) -> None:
    assert toy.decide("how much annual leave do I get this year").kind is Kind.FALLBACK
    assert toy.decide("zebra crossings").kind is Kind.FALLBACK
    assert toy.decide("").matches == ()


def test_decide_answers_only_a_likely_right_clause() -> None:
    tuning = Tuning(answer_threshold=0.6, clarify_threshold=0.05, outside_near=0.2)
    a, b = _clause("a", "a"), _clause("b", "b")

    def kind(
        *matches: Match,
        confidence: float = 0.0,
        outside: bool = False,
        known: bool = False,
        on_subject: bool = False,
    ) -> Kind:
        return decide(Assessment(matches, outside, known, confidence, on_subject), tuning).kind

    assert kind(Match(a, 0.9), Match(b, 0.2), confidence=0.8) is Kind.ANSWER
    assert kind(Match(a, 0.9), Match(b, 0.87), confidence=0.4) is Kind.CLARIFY
    assert kind(Match(a, 0.2), confidence=0.1) is Kind.CLARIFY  # near, but not sure
    assert kind(Match(a, 0.02)) is Kind.FALLBACK  # no clause near
    assert kind(Match(a, 0.02), known=True) is Kind.CLARIFY  # vague, but about the policy
    # "outside" fits better: the policy is silent unless a clause is still near, and then
    # the clause is only offered, never answered.
    assert kind(Match(a, 0.1), confidence=0.9, outside=True) is Kind.FALLBACK
    assert kind(Match(a, 0.3), confidence=0.9, outside=True) is Kind.CLARIFY
    # A message about social media is always near a social media policy.
    assert kind(Match(a, 0.02), on_subject=True) is Kind.CLARIFY
    assert kind(Match(a, 0.02), confidence=0.9, outside=True, on_subject=True) is Kind.CLARIFY
    assert kind() is Kind.FALLBACK


def test_a_message_naming_the_policys_subject_is_never_told_it_is_not_covered() -> None:
    vocabulary = replace(VOCABULARY, subject=("social media",))
    toy = Matcher(TOY, Normaliser(vocabulary), outside=["how much annual leave do I get"])
    assert toy.decide("how much annual leave do I get").kind is Kind.FALLBACK
    on_facebook = toy.decide("how much annual leave do I get to spend on facebook")
    assert on_facebook.kind is Kind.CLARIFY
    assert toy.assess("annual leave on facebook").on_subject  # broader: facebook is social media


def test_a_story_about_facebook_posts_is_offered_clauses_not_told_it_is_not_covered(
    assistant: Assistant,
) -> None:
    story = (
        "I got pulled into the HR office on Friday and they showed me screenshots of posts I "
        "made on my own Facebook about my team, can they do that?"
    )
    assert assistant.matcher("derbyshire").decide(story).kind is Kind.CLARIFY


def test_a_related_runner_up_does_not_make_the_best_clause_less_sure() -> None:
    a = Clause(id="a", section="1", quote="q", answer="A.", questions=(), related=("b",))
    b, c = _clause("b", "b"), _clause("c", "c")
    with_related = rank([(0.9, a), (0.89, b), (0.1, c)], 0.0, story=False, terms=5)
    with_other = rank([(0.9, a), (0.89, c), (0.1, b)], 0.0, story=False, terms=5)
    assert with_related.runner_up == 0.1
    assert with_other.runner_up == 0.89
    weights = load_weights()
    assert weights.confidence(with_related) > weights.confidence(with_other)


@pytest.mark.parametrize(
    ("org", "question", "clause_words"),
    [
        ("derbyshire", "can I accept a friend request from a service user", "friend requests"),
        ("gloucestershire", "somebody at work is cyberbullying me", "cyber-bullying"),
        ("wiltshire", "I posted something in error, what now?", "posted something in error"),
        ("chelmsford", "can I post pics of my colleagues", "colleagues"),
    ],
)
def test_shipped_councils_answer_common_questions(
    assistant: Assistant, org: str, question: str, clause_words: str
) -> None:
    decision = assistant.matcher(org).decide(question)
    assert decision.kind is not Kind.FALLBACK
    assert decision.best is not None
    assert clause_words.casefold() in decision.best.clause.quote.casefold()


def test_the_same_question_gets_each_councils_own_clause(assistant: Assistant) -> None:
    question = "can I be facebook friends with a service user"
    quotes = {
        org: assistant.matcher(org).rank(question)[0].clause.quote
        for org in ("derbyshire", "gloucestershire")
    }
    assert "inappropriate" in quotes["derbyshire"] or "Do not under any" in quotes["derbyshire"]
    assert "consider carefully" in quotes["gloucestershire"]
