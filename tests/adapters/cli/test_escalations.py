"""`policybot escalations`, run as real processes against a SQLite database."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.escalation.cases import Cases
from bot.escalation.delivery import OutboxWorker
from bot.escalation.model import Action, Actor, Outcome, Reporter
from bot.escalation.report import parse_report
from bot.storage import Store
from tests.adapters.cli.invoke import Ran, run
from tests.bot.escalation.case_fixtures import RecordingChannel, directory
from tests.conftest import shipped_assistant


def file_report(database: Path, *, resolved_days_ago: int | None = None, **changes: object) -> str:
    """A case in the database at `database`, opened by the core as the server would (and, that
    many days ago, opened and resolved by an administrator)."""

    async def open_case() -> str:
        store = Store.connect(f"sqlite+aiosqlite:///{database}")
        await store.create_tables()
        then = datetime.now(UTC) - timedelta(days=resolved_days_ago or 0)
        cases = Cases(
            store, shipped_assistant().knowledge.policies, directory(), clock=lambda: then
        )
        report = {
            "org": "derbyshire",
            "what": "Someone is harassing a colleague in the comments",
            "where": "https://social.example/post/9",
            "involved": "A member of the public",
            "evidence": ["https://social.example/post/9"],
            "reporter": {"name": "Sam Jones", "job_title": "Officer", "phone": "0123"},
            **changes,
        }
        case = await cases.open(parse_report(report), Reporter(Actor("slack", "U1")))
        if resolved_days_ago is not None:
            await cases.act(
                case.reference,
                Action.RESOLVE,
                actor=Actor("admin", "Priya"),
                outcome=Outcome.ADVICE_GIVEN,
            )
        await store.close()
        return case.reference

    return asyncio.run(open_case())


def run_on(database: Path, *args: str) -> Ran:
    return run(*args, env={"DATABASE_URL": f"sqlite:///{database}", "POLICYBOT_CONFIG": None})


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


def test_escalations_show_and_list_say_which_team_has_not_been_reached(tmp_path: Path) -> None:
    database = tmp_path / "cases.sqlite3"
    reference = file_report(database, kind="bullying")  # Derbyshire: HR

    async def slack_is_down() -> None:
        store = Store.connect(f"sqlite+aiosqlite:///{database}")
        cases = Cases(store, shipped_assistant().knowledge.policies, directory())
        slack = RecordingChannel()
        slack.fail_next = 10
        await OutboxWorker(cases, {"slack": slack}).run_once()
        await store.close()

    asyncio.run(slack_is_down())
    shown = run_on(database, "escalations", "show", reference)
    assert shown.returncode == 0, shown.stderr
    readable = shown.stdout.decode()
    assert "hr      slack C0HR: pending, 1 attempts, last error ConnectionError" in readable
    assert "Not yet delivered to HR: policybot keeps trying while the case is open." in readable
    listed = run_on(database, "escalations", "list").stdout.decode()
    assert listed.rstrip().endswith("(not yet delivered to HR)")
