"""`policybot bench`, run as a real process: it reports every figure. Speed is judged by
running the benchmark, never by a timed test."""

from __future__ import annotations

import json
from pathlib import Path

from tests.adapters.cli.invoke import run


def test_bench_reports_latency_and_load_time() -> None:
    result = run(
        "bench", "--clauses", "300", "--questions", "100", "--synthetic-questions", "50", "--json"
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["councils"]["count"] == 100
    assert body["synthetic"]["count"] == 50
    assert body["synthetic"]["p99_ms"] >= body["synthetic"]["p50_ms"] > 0
    assert body["load_seconds"] > 0


POSTS = """
- id: p1
  org: derbyshire
  question: >-
    My sister's friend is a service user I look after at work and she added me on
    Facebook last night, what should I do about it?
- id: p2
  org: wiltshire
  question: "I got pulled into a meeting about something I posted on my own page, can they do that?"
"""


def test_bench_times_posts_staff_write_beside_the_known_questions(tmp_path: Path) -> None:
    posts = tmp_path / "posts.yaml"
    posts.write_text(POSTS, encoding="utf-8")
    result = run(
        "bench",
        "--clauses",
        "300",
        "--questions",
        "20",
        "--synthetic-questions",
        "10",
        "--posts",
        str(posts),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["posts"]["count"] == 2 and body["councils"]["count"] == 20
    (tmp_path / "broken.yaml").write_text("{not a list", encoding="utf-8")
    broken = run("bench", "--posts", str(tmp_path / "broken.yaml"))
    assert broken.returncode == 2 and b"broken.yaml" in broken.stderr


def test_bench_http_loads_a_real_server() -> None:
    result = run("bench", "--http", "--seconds", "1", "--concurrency", "2", "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["requests"] > 0 and body["errors"] == 0
    assert body["p99_ms"] >= body["p50_ms"] > 0


def test_bench_slack_times_acknowledgements_against_a_slow_fake() -> None:
    result = run("bench", "--slack", "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["requests"] == 300 and body["errors"] == 0
    assert body["target_p99_ms"] == 100.0


def test_bench_reports_times_slack_report_forms_under_mixed_load() -> None:
    """Security review M1: under load, Slack report forms missed Slack's 3 s and showed an
    error though the case was made. The figure for 200 connections is in the README."""
    result = run("bench", "--reports", "--concurrency", "24", "--seconds", "3", "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["slack_reports"]["requests"] > 0 and body["slack_reports"]["errors"] == 0
    assert body["slowest_ack_ms"] < body["target_slowest_ack_ms"] == 3000
    assert body["asks"]["requests"] > 0 and body["web_reports"] > 0
