"""Accuracy on the evaluation sets, and the scoring rules of `policybot eval`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.evaluation import EvalFileError, evaluate

HELDOUT = Path(__file__).parents[1] / "eval" / "heldout.yaml"


def test_dev_set_meets_the_targets(assistant: Assistant, dev_eval: Path) -> None:
    report = evaluate(assistant, dev_eval)
    assert report.top1 is not None
    assert report.top1 >= 0.95, [f.id for f in report.failures]
    assert report.abstention == 1.0
    assert report.route_accuracy == 1.0


def test_independent_heldout_set_meets_the_targets(assistant: Assistant) -> None:
    """Written by someone who never saw the knowledge base's questions."""
    report = evaluate(assistant, HELDOUT)
    paraphrase, forum, outside = (report.subset(k) for k in ("paraphrase", "forum", "outside"))
    assert paraphrase.top1 is not None and paraphrase.top1 >= 0.90
    assert forum.top3 is not None and forum.top3 >= 0.75
    assert outside.abstention is not None and outside.abstention >= 0.90


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
    assert [r.id for r in report.failures] == ["c"]
    assert report.latency_ms(50) > 0


@pytest.mark.parametrize(
    ("content", "message"),
    [("{", "cannot read"), ("a: 1", "list of cases"), ("- {id: x}", "case 1")],
)
def test_bad_eval_files(assistant: Assistant, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(EvalFileError, match=message):
        evaluate(assistant, path)
