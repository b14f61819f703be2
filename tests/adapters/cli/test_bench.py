"""`policybot bench`, run as a real process: it reports every figure. Speed is judged by
running the benchmark, never by a timed test."""

from __future__ import annotations

import json

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
