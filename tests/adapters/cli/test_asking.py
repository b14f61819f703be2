"""`policybot ask`, `eval`, `calibrate` and `orgs`, run as real processes."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from adapters.cli.asking import render_text
from bot.assistant import Answer, Assistant, Clarify, Question
from bot.scoring import load_weights
from tests.adapters.cli.invoke import run, run_process
from tests.bot.made_up import FRIENDS, PHOTOS, TAGGING, made_up_answer


def test_ask_prints_a_readable_answer() -> None:
    result = run_process("ask", "--org", "derbyshire", "can I friend a service user?")
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "Derbyshire County Council" in out
    assert "Acceptable Use of Social Media Policy" in out
    assert "friend" in out
    assert "\u2502" in out  # the quote block


def test_an_answer_is_shown_under_the_question_its_verdict_answers(assistant: Assistant) -> None:
    reply = assistant.ask(Question(org="derbyshire", text="can I friend a service user"))
    assert isinstance(reply, Answer) and reply.asks
    lines = click.unstyle(render_text(reply)).splitlines()
    at = lines.index(f"Q: {reply.asks}")
    assert lines[at + 1] == reply.text


def test_clauses_that_also_apply_are_quoted_under_the_answer() -> None:
    alone = click.unstyle(render_text(made_up_answer()))
    assert alone.splitlines() == [
        "Testshire Council, Social Media Policy (2024)",
        "",
        f"Q: {FRIENDS.asks}",
        FRIENDS.answer,
        "",
        f"  \u2502 {FRIENDS.quote}",
        "    3.1",
    ]
    shown = render_text(made_up_answer(TAGGING, PHOTOS))
    assert click.style(f"Q: {TAGGING.asks}", italic=True) in shown
    assert click.unstyle(shown) == "\n".join(
        [
            alone,
            "",
            "Also relevant:",
            "",
            f"Q: {TAGGING.asks}",
            f"  \u2502 {TAGGING.quote}",
            "    4.2",
            "",
            "  \u2502 Ask before you post a photo of anyone.",
            "  \u2502 That includes colleagues.",
            "    Appendix A",
        ]
    )


def test_did_you_mean_options_are_the_questions_their_clauses_answer(
    assistant: Assistant,
) -> None:
    reply = assistant.ask(Question(org="west-dunbartonshire", text="social media"))
    assert isinstance(reply, Clarify)
    shown = click.unstyle(render_text(reply))
    for number, option in enumerate(reply.options, start=1):
        assert option.clause.asks
        assert f"  {number}. {option.clause.asks}" in shown


def test_ask_json_has_the_documented_shape() -> None:
    result = run(
        "ask", "--org", "gloucestershire", "--json", "I'm being cyber bullied by a colleague"
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert {"org", "question", "kind", "answer", "route", "matches"} <= set(body)
    assert body["kind"] in {"answer", "clarify", "fallback"}
    assert body["route"] == "hr"
    assert len(body["matches"]) >= 3
    assert {"clause", "section", "asks", "label", "quote", "score"} <= set(body["matches"][0])
    if body["kind"] == "answer":
        assert body["asks"] == body["matches"][0]["asks"] and body["asks"]


def test_council_can_come_from_the_environment() -> None:
    # A real process: the installed script, reading its council from the environment.
    result = run_process(
        "ask",
        "--json",
        "can I use the council wifi on my phone?",
        env={"POLICYBOT_ORG": "wiltshire"},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["org"] == "wiltshire"


def test_ask_reads_one_question_per_line_from_stdin() -> None:
    lines = b"can I go on facebook at lunch?\n\nhow do I book annual leave?\n"
    result = run("ask", "--org", "chelmsford", stdin=lines)
    assert result.returncode == 0, result.stderr
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question"] for r in replies] == [
        "can I go on facebook at lunch?",
        "how do I book annual leave?",
    ]
    assert replies[1]["kind"] == "fallback"


def test_stdin_with_bad_lines_answers_the_good_ones_and_exits_2() -> None:
    lines = b"can I post photos of colleagues?\n\x00\x01\xff\xfe\n" + b"x" * 200_000 + b"\nok?\n"
    result = run("ask", "--org", "chelmsford", stdin=lines)
    assert result.returncode == 2
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(replies) == 4
    assert "kind" in replies[0] and "kind" in replies[3]
    assert "binary" in replies[1]["error"]
    assert "too long" in replies[2]["error"]
    assert b"Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ask", "--org", "atlantis", "hello"), b"unknown council 'atlantis'"),
        (("ask", "--org", "derbyshire", "   "), b"the question is empty"),
        (("ask", "--org", "derbyshire", "y" * 100_000), b"the question is too long"),
        (("ask", "--org", "derbyshire", b"\xff\xfe\x01binary"), b"not text"),
        (("ask", "--org", "derbyshire", b"caf\xe9 au lait"), b"not text"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: tuple[str | bytes, ...], message: bytes) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert b"Traceback" not in result.stderr


def test_orgs_lists_the_five_councils() -> None:
    result = run("orgs", "--json")
    assert result.returncode == 0
    orgs = json.loads(result.stdout)
    assert [o["org"] for o in orgs] == [
        "chelmsford",
        "derbyshire",
        "gloucestershire",
        "west-dunbartonshire",
        "wiltshire",
    ]
    assert all(o["title"] and o["date"] for o in orgs)


def test_eval_reports_figures_and_failures(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "- id: x1\n  org: wiltshire\n  question: can I use the council wifi on my own phone\n"
        '  expect: ["Words nowhere in the policy"]\n'
        "- id: x2\n  org: wiltshire\n  question: how do I claim my mileage\n  expect: []\n"
        "  verdict: none\n",
        encoding="utf-8",
    )
    result = run("eval", str(cases))
    out = result.stdout.decode()
    assert result.returncode == 0
    assert "FAIL x1" in out and "expected: Words nowhere" in out
    header = next(line for line in out.splitlines() if "precision" in line).split()
    assert " ".join(header) == "cases top-1 top-3 answers precision not cov. abstain route"
    row = next(line for line in out.splitlines() if line.split()[:1] == ["all"]).split()
    assert row[1:3] == ["2", "0.000"]  # 2 cases, top-1 0
    assert row[-2] == "1.000"  # abstention
    assert "latency p50/p99" in out
    assert "verdict accuracy 1.000 (0 replies gave a verdict)" in out
    assert "unasked routes  0 of 2" in out  # neither question reports anything
    assert "calibration error" in out
    strict = run("eval", str(cases), "--json", "--min-top1", "0.5")
    assert strict.returncode == 1
    body = json.loads(strict.stdout)
    assert body["top1"] == 0.0 and [f["id"] for f in body["failures"]] == ["x1"]
    assert body["verdict_accuracy"] == 1.0 and body["bare_verdicts"] == 0
    assert body["unasked_routes"] == {"routed": 0, "of": 2}
    assert body["not_covered"] in (0.0, 1.0) and "answer_precision" in body
    (only,) = body["reliability"]["bins"]  # the one in-scope case
    assert only["count"] == 1 and only["right"] == 0.0
    assert body["reliability"]["error"] == pytest.approx(only["confidence"])


def test_calibrate_prints_cross_validated_figures_and_writes_weights(tmp_path: Path) -> None:
    questions = [
        ("derbyshire", "can I accept a friend request from a service user", "friend requests"),
        ("derbyshire", "am I allowed on facebook during working hours", "working time"),
        ("wiltshire", "I posted something in error, what now?", "posted something in error"),
        ("chelmsford", "can I post pics of my colleagues", "colleagues"),
    ]
    lines = []
    for number, (org, question, snippet) in enumerate(questions * 3):
        lines.append(
            f"- {{id: c{number}, org: {org}, question: '{question}', expect: [{snippet}]}}"
        )
    lines.append("- {id: o1, org: wiltshire, question: how do I claim my mileage, expect: []}")
    cases = tmp_path / "dev.yaml"
    cases.write_text("\n".join(lines) + "\n", encoding="utf-8")
    weights = tmp_path / "weights.json"
    result = run("calibrate", str(cases), "--folds", "2", "--write", str(weights))
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "cross-validated over 2 folds" in out and "dev.yaml" in out
    assert next(line for line in out.splitlines() if line.split()[:2] == ["all", "13"])
    body = json.loads(weights.read_text(encoding="utf-8"))
    assert body["fitted_on"] == ["dev.yaml"] and set(body) >= {"clause", "answer"}
    assert load_weights(weights) != load_weights()  # fitted anew, not copied


def test_eval_of_a_missing_or_bad_file(tmp_path: Path) -> None:
    assert run("eval", str(tmp_path / "none.yaml")).returncode == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {org: wiltshire}", encoding="utf-8")
    result = run("eval", str(bad))
    assert result.returncode == 2 and b"case 1" in result.stderr
