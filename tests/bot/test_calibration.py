"""Fitting the scoring weights: it learns from the cases, and judges itself on unseen folds."""

from __future__ import annotations

import json
from dataclasses import replace
from importlib import resources
from pathlib import Path

import pytest

from bot.assistant import Assistant, Question
from bot.calibration import (
    Bin,
    Reliability,
    cross_validate,
    fit,
    fit_adapter,
    own_questions,
    reliability,
    samples,
    unweighted,
)
from bot.evaluation import Case, evaluate, load_cases
from bot.knowledge import Clause, KnowledgeBase
from bot.scoring import FEATURES, load_weights
from bot.semantic import DIMENSIONS
from tests.bot.made_up import made_up_draft, made_up_policy
from tests.fakes.encoder import Counting

VERDICTS = Path(__file__).parents[1] / "eval" / "verdicts.yaml"

# Written for this test from the policies, not taken from any evaluation file.
ASKED = [
    ("derbyshire", "can I accept a friend request from a service user", "friend requests"),
    ("derbyshire", "am I allowed on facebook during working hours", "working time"),
    ("wiltshire", "I posted something in error, what now?", "posted something in error"),
    ("chelmsford", "can I post pics of my colleagues", "colleagues"),
    ("gloucestershire", "somebody at work is cyberbullying me", "cyber-bullying"),
]
OUTSIDE = [("wiltshire", "how do I claim my mileage"), ("derbyshire", "when is payday")]


def _cases() -> list[Case]:
    cases = [
        Case(id=f"a{n}", org=org, question=q, expect=[snippet])
        for n, (org, q, snippet) in enumerate(ASKED * 2)
    ]
    cases += [Case(id=f"o{n}", org=org, question=q) for n, (org, q) in enumerate(OUTSIDE * 2)]
    return cases


def test_every_candidate_is_labelled_by_the_expected_snippets(knowledge: KnowledgeBase) -> None:
    found = samples(unweighted(knowledge), {"dev": _cases()})
    for sample in found:
        rights = [c for c in sample.candidates if c.right]
        if sample.case.expect:
            assert rights and all(not c.outside for c in rights)
            assert all(len(c.vector) == len(FEATURES) for c in sample.candidates)
        else:
            assert [c.outside for c in rights] == [True]


def test_the_fit_learns_to_put_right_clauses_first(knowledge: KnowledgeBase) -> None:
    weights = fit(samples(unweighted(knowledge), {"dev": _cases()}), folds=2)
    assistant = Assistant(knowledge, weights=weights)
    for org, question, snippet in ASKED:
        best = assistant.matcher(org).rank(question)[0]
        assert snippet.casefold() in best.clause.quote.casefold()
    for org, question in OUTSIDE:
        assert assistant.matcher(org).decide(question).kind.value == "fallback"


def test_a_drafts_fit_leaves_the_outside_examples_to_the_weights_given(
    knowledge: KnowledgeBase,
) -> None:
    found = samples(unweighted(knowledge), {"dev": _cases()})
    assert fit(found, folds=2).clause[FEATURES.index("outside")] != 0.0
    # only the "outside" pseudo-clause has that evidence: unseen, its weight stays 0
    drafted = fit(found, folds=2, outside=load_weights().clause)
    assert drafted.clause[FEATURES.index("outside")] == 0.0


def test_cross_validation_answers_every_case_once_from_unseen_folds(
    knowledge: KnowledgeBase,
) -> None:
    cases = _cases()
    reports = cross_validate(knowledge, {"dev": cases[:8], "more": cases[8:]}, folds=2)
    assert [len(r.results) for r in reports.values()] == [8, len(cases) - 8]
    assert sorted(r.id for report in reports.values() for r in report.results) == sorted(
        c.id for c in cases
    )


def test_a_question_asked_of_a_fitted_assistant_gets_a_probability(
    assistant: Assistant,
) -> None:
    reply = assistant.ask(Question(org="derbyshire", text="can I friend a service user?"))
    assert all(0.0 <= m.score <= 1.0 for m in reply.matches)
    assert [m.score for m in reply.matches] == sorted(
        (m.score for m in reply.matches), reverse=True
    )


@pytest.mark.parametrize("folds", [2, 3])
def test_an_empty_source_gives_an_empty_report(knowledge: KnowledgeBase, folds: int) -> None:
    reports = cross_validate(knowledge, {"dev": _cases()[:4], "none": []}, folds=folds)
    assert len(reports["none"].results) == 0


def test_reliability_compares_confidence_with_how_often_it_is_right() -> None:
    measured = Reliability((Bin(0.4, 0.6, 10, 0.5, 0.3), Bin(0.8, 1.0, 30, 0.9, 0.9)))
    assert measured.cases == 40
    assert measured.error == pytest.approx(10 * 0.2 / 40)
    assert measured.right_above(0.6) == pytest.approx(0.9)
    assert measured.right_above(0.0) == pytest.approx((3 + 27) / 40)
    assert Reliability(()).right_above(0.6) is None


def test_confidence_means_what_it_says_on_questions_the_weights_never_saw(
    assistant: Assistant,
) -> None:
    """tests/eval/verdicts.yaml (both polarities of each rule, written from the policies and the
    reviews) is never fitted on: there, the answers' confidence must match how often they are
    right, and answers must be right at least as often as the answer threshold promises."""
    shipped = json.loads(resources.files("bot").joinpath("weights.json").read_text("utf-8"))
    assert VERDICTS.name not in shipped["fitted_on"]
    measured = reliability(assistant, load_cases(VERDICTS))
    assert measured.cases >= 150
    assert measured.error <= 0.10, measured.bins
    threshold = assistant.matcher("derbyshire").tuning.answer_threshold
    answers_right = measured.right_above(threshold)
    assert answers_right is not None and answers_right >= 0.85, measured.bins


def test_answers_are_right_on_questions_the_weights_never_saw(assistant: Assistant) -> None:
    """The same never-fitted questions, as staff would get them: before the probe
    (bot/semantic.py) 0.769 of them got a right answer, at precision 0.909."""
    report = evaluate(assistant, VERDICTS)
    assert (report.top1 or 0.0) >= 0.80, report.top1
    assert (report.answer_precision or 0.0) >= 0.92, report.answer_precision


def test_own_questions_ask_a_draft_its_councils_questions_of_the_clause_holding_the_quote(
    knowledge: KnowledgeBase,
) -> None:
    friends = Clause(
        id="friends",
        section="3",
        quote="Do not accept friend requests from service users.\nAsk your manager if unsure.",
        answer="No.",
        questions=("can I friend a client", "service user added me", "friend a carer?", "old"),
        borrowed=("old",),
    )
    gone = Clause(
        id="gone", section="4", quote="A rule the draft lacks.", answer="-", questions=("x",)
    )
    reviewed = replace(knowledge, policies={"testshire": made_up_policy(friends, gone)})
    drafted = Clause(
        id="accept-friend-requests",
        section="3",
        quote="- Do not accept friend requests from service users.",
        answer="",
        questions=(),
        drafted=True,
    )
    drafts = replace(knowledge, policies={"testshire": made_up_policy(drafted)})
    cases = own_questions(reviewed, drafts, per_clause=2)
    assert len(cases) == 2 and {c.org for c in cases} == {"testshire"}
    assert {c.question for c in cases} < {
        "can I friend a client",
        "service user added me",
        "friend a carer?",
    }
    assert all(c.expect == ["Do not accept friend requests from service users."] for c in cases)


def test_the_quote_adapter_learns_from_reviewed_clauses_own_questions_only(
    knowledge: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICYBOT_CACHE_DIR", str(tmp_path))
    reviewed = Clause(
        id="friends",
        section="3",
        quote="Do not accept friend requests from service users.",
        answer="No.",
        questions=("can I friend a client", "borrowed from elsewhere"),
        borrowed=("borrowed from elsewhere",),
    )
    drafted = made_up_draft("drafted", "4", "A rule nobody has reviewed.", "a borrowed question")
    left_out = Clause(
        id="photos", section="5", quote="Ask before posting photos.", answer="-", questions=("x?",)
    )
    councils = replace(
        knowledge,
        policies={
            "testshire": made_up_policy(reviewed, drafted),
            "otherton": replace(made_up_policy(left_out), org="otherton"),
        },
    )
    encoder = Counting()
    adapter = fit_adapter(councils, encoder, leave_out={"otherton"})
    assert set(encoder.encoded) == {"can I friend a client", reviewed.quote}
    assert adapter.matrix.shape == (DIMENSIONS, DIMENSIONS)
    with pytest.raises(ValueError, match="needs example questions"):
        fit_adapter(councils, encoder, leave_out={"otherton", "testshire"})
