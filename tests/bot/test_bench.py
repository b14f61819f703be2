"""The benchmark runs end to end on a small synthetic knowledge base (figures are not asserted:
performance targets are measured by `policybot bench`, not by timed unit tests)."""

from __future__ import annotations

from bot.bench import run, synthetic_policy
from bot.knowledge import KnowledgeBase, default_root


def test_synthetic_policy_is_deterministic(knowledge: KnowledgeBase) -> None:
    first = synthetic_policy(knowledge, clauses=20)
    assert first == synthetic_policy(knowledge, clauses=20)
    assert len(first.clauses) == 20 and all(len(c.questions) == 5 for c in first.clauses)


def test_bench_reports_every_figure() -> None:
    report = run(
        default_root(), synthetic_clauses=200, synthetic_questions=40, council_questions=100
    )
    assert report.councils.count == 100
    assert report.synthetic.count == 40
    assert report.load_seconds > 0 and report.synthetic.p99_ms >= report.synthetic.p50_ms
