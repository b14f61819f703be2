"""Accuracy on the evaluation sets, and the scoring rules of `policybot eval`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.assistant import Answer, Assistant, PolicyRef, Question
from bot.evaluation import CaseResult, EvalFileError, Report, evaluate, load_cases, score_case
from bot.knowledge import Clause
from bot.matcher import Kind, Match
from tests.bot.made_up import made_up_policy
from tests.conftest import DEV_EVAL

HELDOUT = Path(__file__).parents[1] / "eval" / "heldout.yaml"
VERDICTS = Path(__file__).parents[1] / "eval" / "verdicts.yaml"


def test_dev_set_meets_the_targets(assistant: Assistant) -> None:
    report = evaluate(assistant, DEV_EVAL)
    assert report.top1 is not None
    # top-1 counts answers only: a right "did you mean" is not enough
    assert report.top1 >= 0.9, [f.id for f in report.failures]
    assert report.abstention == 1.0
    assert report.route_accuracy == 1.0


def test_independent_heldout_set_meets_the_targets(assistant: Assistant) -> None:
    """Written by someone who never saw the knowledge base's questions."""
    report = evaluate(assistant, HELDOUT)
    paraphrase, forum, outside = (report.subset(k) for k in ("paraphrase", "forum", "outside"))
    assert paraphrase.top1 is not None and paraphrase.top1 >= 0.90
    assert forum.top3 is not None and forum.top3 >= 0.75
    assert outside.abstention is not None and outside.abstention >= 0.90


def test_rules_asked_both_ways_round_are_never_answered_upside_down(
    assistant: Assistant,
) -> None:
    """The rules the knowledge reviews found inverted, asked both ways round (written from the
    policies and the reviews, not from the knowledge base)."""
    report = evaluate(assistant, VERDICTS)
    assert len(report.results) >= 150
    assert report.bare_verdicts == 0
    assert report.verdict_accuracy == 1.0, [
        (r.id, r.question, r.asks, r.read_as) for r in report.results if r.verdict_ok is False
    ]
    assert report.top3 is not None and report.top3 >= 0.9


def test_scoring_rules(assistant: Assistant, tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        """
- id: a
  org: derbyshire
  question: Can I accept a friend request from a service user?
  expect: ["DO NOT under any   circumstances accept friend requests"]
- id: b
  org: derbyshire
  question: How do I book annual leave?
  expect: []
- id: c
  org: derbyshire
  question: Can I accept a friend request from a service user?
  expect: ["a snippet that is nowhere"]
  route: comms
""",
        encoding="utf-8",
    )
    report = evaluate(assistant, cases)
    a, b, c = report.results
    assert a.top1 and a.top3 and a.passed
    assert b.outside and b.passed
    assert not c.top1 and not c.passed and c.route_ok is False
    assert report.top1 == 0.5 and report.abstention == 1.0 and report.route_accuracy == 0.0
    # a and b report nothing, and neither reply offers a route no one asked for
    assert report.unasked_routes == (0, 2)
    assert [r.id for r in report.failures] == ["c"]
    assert report.latency_ms(50) > 0


def _result(id: str, kind: Kind, *, right: bool, subset: str | None = None) -> CaseResult:
    return CaseResult(
        id=id,
        org="testshire",
        label=subset,
        question="q",
        expect=("snippet",) if id != "outside" else (),
        expected_route=None,
        kind=kind,
        route=None,
        clauses=("c",),
        quotes=("q",),
        top1=right and kind is Kind.ANSWER,
        top3=right,
        seconds=0.001,
    )


def test_a_route_offered_to_a_question_that_reports_nothing_is_counted() -> None:
    quiet = _result("quiet", Kind.ANSWER, right=True)
    routed = replace(_result("routed", Kind.ANSWER, right=True), route="hr")
    report_ = replace(_result("report", Kind.ANSWER, right=True), expected_route="hr", route="hr")
    report = Report((quiet, routed, report_))
    assert report.unasked_routes == (1, 2)
    assert report.route_accuracy == 1.0  # which cannot see it


def test_answer_precision_not_covered_and_subsets() -> None:
    report = Report(
        (
            _result("right", Kind.ANSWER, right=True, subset="forum"),
            _result("wrong", Kind.ANSWER, right=False, subset="forum"),
            _result("offered", Kind.CLARIFY, right=True, subset="forum"),
            _result("silent", Kind.FALLBACK, right=False, subset="paraphrase"),
            _result("outside", Kind.ANSWER, right=False),  # answered a question no policy covers
        )
    )
    assert report.top1 == 0.25  # only answers count: a right "did you mean" is not top-1
    assert report.top3 == 0.5
    assert len(report.answers) == 3 and report.answer_precision == pytest.approx(1 / 3)
    assert report.not_covered == 0.25
    assert report.abstention == 0.0
    assert report.labels == ("forum", "paraphrase")
    assert report.subset("forum").answer_precision == 0.5
    assert report.subset("paraphrase").not_covered == 1.0


def test_subset_is_read_from_subset_or_its_old_name_kind(tmp_path: Path) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(
        "- {id: a, org: x, question: q, subset: forum}\n"
        "- {id: b, org: x, question: q, kind: old}\n",
        encoding="utf-8",
    )
    assert [c.subset for c in load_cases(path)] == ["forum", "old"]


@pytest.mark.parametrize(
    ("content", "message"),
    [("{", "cannot read"), ("a: 1", "list of cases"), ("- {id: x}", "case 1")],
)
def test_bad_eval_files(assistant: Assistant, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(EvalFileError, match=message):
        evaluate(assistant, path)


def _answer(question: str, *, answer: str, asks: str | None) -> Answer:
    clause = Clause(
        id="friends", section="6.4", quote=FRIENDS, answer=answer, questions=(), asks=asks
    )
    policy = made_up_policy(clause, text=FRIENDS)
    return Answer(
        Question("testshire", question), PolicyRef.of(policy), clause, (Match(clause, 1),)
    )


FRIENDS = "Do not under any circumstances accept friend requests from service users."
ACCEPT = "Can I accept a friend request from a service user?"
DECLINE = "Should I decline a friend request from a client?"


def _scored(tmp_path: Path, question: str, expected: str, reply: Answer) -> CaseResult:
    path = tmp_path / "case.yaml"
    path.write_text(
        f"- {{id: v, org: testshire, question: {question!r}, expect: [friend], "
        f"verdict: {expected!r}}}",
        encoding="utf-8",
    )
    (case,) = load_cases(path)
    return score_case(case, reply, 0.001)


@pytest.mark.parametrize(
    ("question", "expected", "answer", "asks", "ok"),
    [
        # "No" to "Can I accept?" is right for "can I add a client?" ...
        ("can I add a client on facebook?", "no", "No. Never.", ACCEPT, True),
        # ... and, read against its asks, is "yes" to "should I decline?"
        (DECLINE, "yes", "No. Never.", ACCEPT, True),
        (DECLINE, "no", "No. Never.", ACCEPT, False),
        # A verdict with nothing to say which question it answers fails whatever it says.
        ("can I add a client on facebook?", "no", "No. Never.", None, False),
        # A rule stated plainly cannot mislead by a Yes or No.
        (DECLINE, "yes", "Never accept one.", ACCEPT, True),
        # "It depends" where the policy is plain is wrong both ways round.
        (DECLINE, "yes", "It depends.", ACCEPT, False),
        # The user asked no yes/no question: a verdict shown with its question is fine.
        ("what do I do about a friend request from a client?", "none", "No.", ACCEPT, True),
    ],
)
def test_verdicts_are_read_against_their_asks(
    tmp_path: Path, question: str, expected: str, answer: str, asks: str | None, ok: bool
) -> None:
    result = _scored(tmp_path, question, expected, _answer(question, answer=answer, asks=asks))
    assert result.verdict_ok is ok
    assert result.passed is ok  # the quote matched, so the verdict decides


def test_an_unquoted_yes_or_no_is_a_verdict(tmp_path: Path) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(
        "- {id: a, org: x, question: q, verdict: yes}\n"
        "- {id: b, org: x, question: q, verdict: no}\n"
        "- {id: c, org: x, question: q, verdict: none}\n"
        "- {id: d, org: x, question: q}\n",
        encoding="utf-8",
    )
    assert [case.verdict for case in load_cases(path)] == ["yes", "no", "none", None]
    path.write_text("- {id: a, org: x, question: q, verdict: maybe}\n", encoding="utf-8")
    with pytest.raises(EvalFileError, match="case 1"):
        load_cases(path)


def test_the_report_counts_verdicts_and_bare_verdicts(tmp_path: Path) -> None:
    results = (
        _scored(tmp_path, DECLINE, "yes", _answer(DECLINE, answer="No.", asks=ACCEPT)),
        _scored(tmp_path, DECLINE, "yes", _answer(DECLINE, answer="No.", asks=None)),
        _scored(tmp_path, DECLINE, "yes", _answer(DECLINE, answer="Never.", asks=ACCEPT)),
    )
    report = Report(results)
    assert report.verdict_accuracy == pytest.approx(2 / 3)
    assert report.verdicts_given == 2
    assert report.bare_verdicts == 1
