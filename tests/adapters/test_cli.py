"""The `policybot` command, run as a real process the way staff and CI run it."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import jsonschema
import pytest
import yaml

from adapters.cli.asking import render_text
from bot.assistant import Answer, Assistant, Clarify, Question
from bot.cases import Action, Cases, Directory, Outcome, Reporter, parse_report
from bot.knowledge import default_root, load_knowledge
from bot.scoring import load_weights
from bot.storage import Store
from tests.bot.made_up import FRIENDS, PHOTOS, TAGGING, made_up_answer

POLICYBOT = str(Path(sys.executable).with_name("policybot"))


def run(*args: str | bytes, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [POLICYBOT, *args], input=stdin, capture_output=True, timeout=120, check=False, env=env
    )


def test_ask_prints_a_readable_answer() -> None:
    result = run("ask", "--org", "derbyshire", "can I friend a service user?")
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "Derbyshire County Council" in out
    assert "Acceptable Use of Social Media Policy" in out
    assert "friend" in out
    assert "\u2502" in out  # the quote block


@pytest.mark.parametrize(
    ("args", "unloaded"),
    [
        (["--help"], {"slack_bolt", "slack_sdk", "botbuilder"}),
        (
            ["ask", "--org", "derbyshire", "can I post at lunch?"],
            {"slack_bolt", "slack_sdk", "botbuilder", "aiohttp", "sqlalchemy"},
        ),
    ],
)
def test_a_command_loads_only_what_it_needs(args: list[str], unloaded: set[str]) -> None:
    # A fresh interpreter: this one has imported everything the other tests use.
    probe = (
        "import sys\n"
        "from adapters.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        "print(sorted({name.partition('.')[0] for name in sys.modules}), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, timeout=120, check=True
    )
    loaded = set(json.loads(result.stderr.decode().splitlines()[-1].replace("'", '"')))
    assert "click" in loaded
    assert not loaded & unloaded


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
    env = {**os.environ, "NO_COLOR": "1", "POLICYBOT_ORG": "wiltshire"}
    result = subprocess.run(
        [POLICYBOT, "ask", "--json", "can I use the council wifi on my phone?"],
        capture_output=True,
        timeout=120,
        check=False,
        env=env,
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


def test_kb_check_passes_on_the_shipped_knowledge() -> None:
    result = run("kb", "check")
    assert result.returncode == 0, result.stderr
    assert b"coverage 100.0%" in result.stdout


def test_kb_check_names_the_file_and_clause_of_a_problem(tmp_path: Path) -> None:
    root = tmp_path / "knowledge"
    shutil.copytree(default_root(), root)
    clauses = root / "wiltshire" / "clauses.yaml"
    text = clauses.read_text(encoding="utf-8")
    clause_id = text.split("- id: ", 1)[1].split("\n", 1)[0].strip()
    quote_start = text.index("quote: |-\n") + len("quote: |-\n")
    clauses.write_text(
        text[:quote_start] + "      Words the policy never says.\n" + text[quote_start:],
        encoding="utf-8",
    )
    result = run("--knowledge", str(root), "kb", "check")
    assert result.returncode == 1
    assert f"{clauses}: clause '{clause_id}': quote is not verbatim".encode() in result.stderr


def test_kb_check_refuses_a_bare_verdict_and_warns_of_questions_asked_the_other_way_round(
    tmp_path: Path,
) -> None:
    root = tmp_path / "knowledge"
    shutil.copytree(default_root(), root)
    path = root / "wiltshire" / "clauses.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    bare, warned = data["clauses"][:2]
    bare["answer"] = "No. " + bare["answer"]
    bare.pop("asks", None)
    warned["asks"] = "Can I post about work on my personal account?"
    warned["answer"] = "Yes. " + warned["answer"]
    warned["questions"].append("is posting about work a breach of the policy?")
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = run("--knowledge", str(root), "kb", "check", "--org", "wiltshire")
    assert result.returncode == 1
    err = result.stderr.decode()
    assert f"clause '{bare['id']}': answer opens with a verdict (no) but the clause has no" in err
    assert (
        f"warning: {path}: clause '{warned['id']}': question 'is posting about work a breach "
        "of the policy?' is asked the other way round from asks 'Can I post about work on my "
        "personal account?'"
    ) in err


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
    strict = run("eval", str(cases), "--json", "--min-top1", "0.5")
    assert strict.returncode == 1
    body = json.loads(strict.stdout)
    assert body["top1"] == 0.0 and [f["id"] for f in body["failures"]] == ["x1"]
    assert body["verdict_accuracy"] == 1.0 and body["bare_verdicts"] == 0
    assert body["not_covered"] in (0.0, 1.0) and "answer_precision" in body


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


def test_bench_reports_latency_and_load_time() -> None:
    result = run("bench", "--clauses", "300", "--questions", "100", "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["councils"]["count"] == 100
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


def test_teams_package_writes_a_zip_whose_manifest_validates(tmp_path: Path) -> None:
    out = tmp_path / "teams.zip"
    app_id, bot_id = "11111111-2222-3333-4444-555555555555", "66666666-7777-8888-9999-000000000000"
    result = run("teams-package", "--app-id", app_id, "--bot-id", bot_id, "--out", str(out))
    assert result.returncode == 0, result.stderr
    schema_file = Path(__file__).resolve().parents[2] / "deploy" / "teams"
    schema = json.loads((schema_file / "MicrosoftTeams.schema.json").read_text(encoding="utf-8"))
    with zipfile.ZipFile(out) as package:
        manifest = json.loads(package.read("manifest.json"))
    jsonschema.Draft7Validator(schema).validate(manifest)
    assert (manifest["id"], manifest["bots"][0]["botId"]) == (app_id, bot_id)

    refused = run("teams-package", "--app-id", "not-a-guid", "--bot-id", bot_id, "--out", str(out))
    assert refused.returncode == 2 and b"not valid" in refused.stderr


# --- escalations ------------------------------------------------------------------------------


def file_report(database: Path, *, resolved_days_ago: int | None = None, **changes: object) -> str:
    """A case in the database at `database`, opened by the core as the server would (and
    resolved by an administrator that many days ago)."""

    async def open_case() -> str:
        store = Store.connect(f"sqlite+aiosqlite:///{database}")
        await store.create_tables()
        cases = Cases(store, load_knowledge(default_root()).policies, Directory())
        report = {
            "org": "derbyshire",
            "what": "Someone is harassing a colleague in the comments",
            "where": "https://social.example/post/9",
            "involved": "A member of the public",
            "evidence": ["https://social.example/post/9"],
            "reporter": {"name": "Sam Jones", "job_title": "Officer", "phone": "0123"},
            **changes,
        }
        case = await cases.open(parse_report(report), Reporter(id="slack:U1", platform="slack"))
        if resolved_days_ago is not None:
            await cases.act(
                case.reference,
                Action.RESOLVE,
                actor="admin:Priya",
                outcome=Outcome.ADVICE_GIVEN,
                now=datetime.now(UTC) - timedelta(days=resolved_days_ago),
            )
        await store.close()
        return case.reference

    return asyncio.run(open_case())


def run_on(database: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "NO_COLOR": "1", "DATABASE_URL": f"sqlite:///{database}"}
    env.pop("POLICYBOT_CONFIG", None)
    return subprocess.run(
        [POLICYBOT, *args], capture_output=True, timeout=120, check=False, env=env
    )


def test_escalations_list_filters_and_prints_json(tmp_path: Path) -> None:
    database = tmp_path / "cases.sqlite3"
    derbyshire = file_report(database)
    wiltshire = file_report(database, org="wiltshire")
    everything = run_on(database, "escalations", "list", "--json")
    assert everything.returncode == 0, everything.stderr
    assert {case["reference"] for case in json.loads(everything.stdout)} == {derbyshire, wiltshire}

    only = run_on(
        database, "escalations", "list", "--org", "wiltshire", "--status", "open", "--json"
    )
    assert [case["reference"] for case in json.loads(only.stdout)] == [wiltshire]
    readable = run_on(database, "escalations", "list", "--status", "resolved")
    assert readable.returncode == 0 and readable.stdout == b""


def test_escalations_show_ack_and_resolve(tmp_path: Path) -> None:
    database = tmp_path / "cases.sqlite3"
    reference = file_report(database)

    shown = run_on(database, "escalations", "show", reference.lower(), "--json")
    assert shown.returncode == 0, shown.stderr
    body = json.loads(shown.stdout)
    assert body["case"]["reference"] == reference and body["case"]["status"] == "open"
    assert body["case"]["report"]["reporter"]["name"] == "Sam Jones"
    assert [event["kind"] for event in body["timeline"]] == ["reported"]
    readable = run_on(database, "escalations", "show", reference).stdout.decode()
    assert "Sam Jones" in readable and "Timeline" in readable

    acked = run_on(database, "escalations", "ack", reference, "--by", "Priya", "--json")
    assert acked.returncode == 0, acked.stderr
    body = json.loads(acked.stdout)
    assert body["changed"] and body["case"]["status"] == "acknowledged"
    assert body["timeline"][-1]["actor"] == "admin:Priya"

    resolved = run_on(
        database,
        "escalations",
        "resolve",
        reference,
        "--outcome",
        "content_removed",
        "--note",
        "The post was taken down",
        "--by",
        "Priya",
        "--json",
    )
    assert resolved.returncode == 0, resolved.stderr
    body = json.loads(resolved.stdout)
    assert body["case"]["status"] == "resolved" and body["case"]["outcome"] == "content_removed"
    assert [event["kind"] for event in body["timeline"]] == [
        "reported",
        "acknowledged",
        "note",
        "resolved",
    ]
    assert body["timeline"][2]["detail"] == {"note": "The post was taken down"}

    again = run_on(database, "escalations", "ack", reference, "--by", "Priya")
    assert again.returncode == 0 and b"already resolved" in again.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("escalations", "show", "DER-NOTHERE"),
        ("escalations", "ack", "DER-NOTHERE", "--by", "Priya"),
        ("escalations", "resolve", "DER-NOTHERE", "--outcome", "advice_given", "--by", "Priya"),
    ],
)
def test_escalations_unknown_reference_is_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    result = run_on(tmp_path / "empty.sqlite3", *args)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [b"policybot: no case 'DER-NOTHERE'"]


def test_escalations_purge_keeps_what_retention_and_legal_holds_keep(tmp_path: Path) -> None:
    database = tmp_path / "cases.sqlite3"
    old = file_report(database, resolved_days_ago=800)  # the default keeps cases 730 days
    held = file_report(database, resolved_days_ago=800)
    recent = file_report(database, resolved_days_ago=10)
    still_open = file_report(database)
    hold = run_on(database, "escalations", "hold", held, "--reason", "tribunal", "--by", "DPO")
    assert hold.returncode == 0 and b"legal hold" in hold.stdout

    dry = run_on(database, "escalations", "purge", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["started"] == [old]
    assert run_on(database, "escalations", "show", old).returncode == 0

    done = run_on(database, "escalations", "purge")
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert f"{old} deleted" in out and f"kept under legal hold: {held}" in out
    gone = run_on(database, "escalations", "show", old)
    assert gone.returncode == 2 and b"was purged on" in gone.stderr
    for kept in (held, recent, still_open):
        assert run_on(database, "escalations", "show", kept).returncode == 0

    released = run_on(database, "escalations", "hold", held, "--release", "--by", "DPO", "--json")
    assert json.loads(released.stdout)["case"]["legal_hold"] is False
    again = json.loads(run_on(database, "escalations", "purge", "--json").stdout)
    assert [record["reference"] for record in again["finished"]] == [held]


def test_escalations_export_writes_everything_about_one_person(tmp_path: Path) -> None:
    database = tmp_path / "cases.sqlite3"
    reference = file_report(database)
    file_report(database, reporter={"name": "Alex Smith"})
    out = tmp_path / "export.json"
    done = run_on(database, "escalations", "export", "--user", "slack:U1", "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    exported = json.loads(out.read_text())
    assert exported["person"] == "slack:U1"
    names = [item["case"]["report"]["reporter"]["name"] for item in exported["reported_cases"]]
    assert names == ["Sam Jones", "Alex Smith"]  # both filed from slack:U1
    assert exported["reported_cases"][0]["case"]["reference"] == reference
    assert exported["questions"] == []
    nobody = json.loads(run_on(database, "escalations", "export", "--user", "slack:U9").stdout)
    assert nobody["reported_cases"] == nobody["actions_on_other_cases"] == []
    bad = run_on(database, "escalations", "export", "--user", "U1")
    assert bad.returncode == 2 and b"--user" in bad.stderr


def test_escalations_bad_options_exit_2(tmp_path: Path) -> None:
    database = tmp_path / "cases.sqlite3"
    reference = file_report(database)
    for args in (
        ("escalations", "resolve", reference, "--outcome", "sacked", "--by", "Priya"),
        ("escalations", "ack", reference, "--by", "  "),
        ("escalations", "list", "--org", "atlantis"),
    ):
        result = run_on(database, *args)
        assert result.returncode == 2, args
        assert b"Traceback" not in result.stderr
    shown = json.loads(run_on(database, "escalations", "show", reference, "--json").stdout)
    assert shown["case"]["status"] == "open"
