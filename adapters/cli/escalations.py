"""Comms and HR working on cases from a terminal: list, show, acknowledge, resolve, hold, purge
what is past retention, and export what is held about one person."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

import click

from adapters.case_admin import (
    AdminAction,
    AdminActionError,
    act_as_admin,
    case_json,
    event_json,
    person_export,
)
from adapters.cli.context import Context, config_option, fail, load_settings
from adapters.config import Settings
from bot.escalation.cases import Cases
from bot.escalation.model import (
    ActionResult,
    Actor,
    AlertDelivery,
    Case,
    Event,
    Outcome,
    Status,
    UnknownCaseError,
)
from bot.escalation.retention import PurgeReport, RetentionRule, purge
from bot.knowledge import Route
from bot.storage import Store

_T = TypeVar("_T")
LIST_PAGE = 500


def _with_cases(
    ctx: Context, config_file: Path | None, work: Callable[[Cases], Awaitable[_T]]
) -> _T:
    """Run `work` against the configured database (migrated first, as the server does), and
    turn the errors a person can fix into one line and exit 2."""
    return _with_store(ctx, config_file, lambda cases, store, settings: work(cases))


def _with_store(
    ctx: Context,
    config_file: Path | None,
    work: Callable[[Cases, Store, Settings], Awaitable[_T]],
) -> _T:
    """`_with_cases` for work that also needs the store and the settings."""
    settings = load_settings(ctx, config_file)

    async def run() -> _T:
        store = Store.connect(settings.database_url)
        try:
            await store.create_tables()
            cases = Cases(store, ctx.knowledge.policies, settings.directory())
            try:
                return await work(cases, store, settings)
            except UnknownCaseError as exc:
                purged = await cases.purged(str(exc))
                if purged is None:
                    raise
                fail(
                    f"{purged.reference} was purged on {purged.purged_at:%Y-%m-%d}: "
                    "past its council's retention"
                )
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except UnknownCaseError as exc:
        fail(f"no case {str(exc)[:40]!r}")
    except AdminActionError as exc:
        # The CLI calls the note's text --note; the other fields are named as its options.
        fail(f"--{'note' if exc.field == 'text' else exc.field}: {exc.message}")


def _case_lines(case_data: dict[str, Any], timeline: list[dict[str, Any]]) -> Iterator[str]:
    report = case_data["report"]
    reporter = report["reporter"]
    status = case_data["status"]
    if case_data["outcome_label"]:
        status += f": {case_data['outcome_label']}"
    facts = [
        ("Council", case_data["council"]),
        ("About", case_data["kind_label"]),
        ("Status", status),
        ("Sent to", " and ".join(case_data["route_names"])),
        ("Assigned to", case_data["assigned_to"]),
        ("What happened", report["what"]),
        ("Where", report["where"]),
        ("When", report["when"]),
        ("Who is involved", report["involved"]),
        ("Evidence", "\n".join(report["evidence"])),
        ("Manager involved", "yes" if report["manager_involved"] else "no"),
        (
            "Reported by",
            ", ".join(
                part for part in (reporter["name"], reporter["job_title"], reporter["area"]) if part
            ),
        ),
        ("Phone", reporter["phone"]),
        ("Reported at", case_data["created_at"]),
    ]
    yield click.style(case_data["reference"], bold=True)
    for label, value in facts:
        lines = str(value or "-").splitlines() or ["-"]
        yield f"  {label + ':':<17} {lines[0]}"
        yield from (f"  {'':<17} {line}" for line in lines[1:])
    yield ""
    yield click.style("Alerts", bold=True)
    for alert in case_data["alerts"]:
        tried = f", {alert['attempts']} attempts, last error {alert['error']}"
        yield (
            f"  {alert['route'] or '-':<7} {alert['platform']} {alert['address']}: "
            f"{alert['state']}{tried if alert['error'] else ''}"
        )
    if case_data["not_yet_delivered"]:
        yield click.style(
            f"  Not yet delivered to {' and '.join(case_data['not_yet_delivered'])}: "
            "policybot keeps trying while the case is open.",
            fg="red",
        )
    yield ""
    yield click.style("Timeline", bold=True)
    for event in timeline:
        yield f"  {event['at'][:16].replace('T', ' ')}  {event['text']} ({event['by']})"


def _echo_case(
    ctx: Context,
    case: Case,
    timeline: list[Event],
    alerts: list[AlertDelivery],
    *,
    as_json: bool,
) -> None:
    case_data = case_json(case, ctx.knowledge.policies[case.org], alerts)
    events = [event_json(event, case) for event in timeline]
    if as_json:
        click.echo(json.dumps({"case": case_data, "timeline": events}))
    else:
        click.echo("\n".join(_case_lines(case_data, events)))


def _echo_result(
    ctx: Context, result: ActionResult, timeline: list[Event], *, as_json: bool
) -> None:
    assert result.case is not None  # an admin is never refused, so the case comes back
    if as_json:
        click.echo(
            json.dumps(
                {
                    "changed": result.changed,
                    "message": result.message,
                    "case": case_json(result.case, ctx.knowledge.policies[result.case.org]),
                    "timeline": [event_json(event, result.case) for event in timeline],
                }
            )
        )
    else:
        click.echo(result.message)


by_option = click.option(
    "--by", required=True, help="Your name: it goes on the case's record as admin:<name>."
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group()
def escalations() -> None:
    """Read and act on incident cases in the configured database (DATABASE_URL)."""


@escalations.command("list")
@click.option("--org", default=None, help="Only this council.")
@click.option("--status", type=click.Choice([s.value for s in Status]), default=None)
@click.option("--route", type=click.Choice([r.value for r in Route]), default=None)
@json_option
@config_option
@click.pass_obj
def escalations_list(
    ctx: Context,
    org: str | None,
    status: str | None,
    route: str | None,
    as_json: bool,
    config_file: Path | None,
) -> None:
    """Every case, newest first."""
    if org is not None and org not in ctx.knowledge.policies:
        fail(f"unknown council {org!r}; known: {', '.join(ctx.knowledge.orgs)}")

    async def find_with_alerts(cases: Cases) -> tuple[list[Case], dict[str, list[AlertDelivery]]]:
        found: list[Case] = []
        while True:  # page by page, so that none is left out however many there are
            page = await cases.find(
                org=org,
                status=Status(status) if status else None,
                route=Route(route) if route else None,
                before=found[-1].reference if found else None,
                limit=LIST_PAGE,
            )
            found += page
            if len(page) < LIST_PAGE:
                return found, await cases.alerts([case.id for case in found])

    found, alerts = _with_cases(ctx, config_file, find_with_alerts)
    listed = [
        case_json(case, ctx.knowledge.policies[case.org], alerts.get(case.id, ())) for case in found
    ]
    if as_json:
        click.echo(json.dumps(listed))
        return
    if not listed:
        click.echo("no cases", err=True)
    for item in listed:
        click.echo(
            f"{item['reference']:<11} {item['status']:<13} {item['org']:<20} "
            f"{','.join(item['routes']):<11} {item['created_at'][:16].replace('T', ' ')}  "
            f"{item['kind_label']}" + _not_yet_delivered(item)
        )


def _not_yet_delivered(case_data: dict[str, Any]) -> str:
    unreached = case_data["not_yet_delivered"]
    return f"  (not yet delivered to {' and '.join(unreached)})" if unreached else ""


@escalations.command("show")
@click.argument("reference")
@json_option
@config_option
@click.pass_obj
def escalations_show(ctx: Context, reference: str, as_json: bool, config_file: Path | None) -> None:
    """A case's facts and timeline."""

    async def read(cases: Cases) -> tuple[Case, list[Event], list[AlertDelivery]]:
        case = await cases.get(reference)
        alerts = await cases.alerts([case.id])
        return case, await cases.timeline(reference), alerts.get(case.id, [])

    case, timeline, alerts = _with_cases(ctx, config_file, read)
    _echo_case(ctx, case, timeline, alerts, as_json=as_json)


def _act(
    ctx: Context,
    config_file: Path | None,
    reference: str,
    action: AdminAction,
    *,
    by: str,
    text: str = "",
    outcome: Outcome | None = None,
) -> tuple[ActionResult, list[Event]]:
    async def act(cases: Cases) -> tuple[ActionResult, list[Event]]:
        result = await act_as_admin(cases, reference, action, by=by, text=text, outcome=outcome)
        return result, await cases.timeline(reference)

    return _with_cases(ctx, config_file, act)


@escalations.command("ack")
@click.argument("reference")
@by_option
@json_option
@config_option
@click.pass_obj
def escalations_ack(
    ctx: Context, reference: str, by: str, as_json: bool, config_file: Path | None
) -> None:
    """Acknowledge a case: the team has picked it up, and reminders stop."""
    result, timeline = _act(ctx, config_file, reference, AdminAction.ACKNOWLEDGE, by=by)
    _echo_result(ctx, result, timeline, as_json=as_json)


@escalations.command("resolve")
@click.argument("reference")
@click.option("--outcome", required=True, type=click.Choice([o.value for o in Outcome]))
@click.option("--note", default="", help="Why, recorded as a note before the resolution.")
@by_option
@json_option
@config_option
@click.pass_obj
def escalations_resolve(
    ctx: Context,
    reference: str,
    outcome: str,
    note: str,
    by: str,
    as_json: bool,
    config_file: Path | None,
) -> None:
    """Resolve a case with its outcome."""
    result, timeline = _act(
        ctx,
        config_file,
        reference,
        AdminAction.RESOLVE,
        by=by,
        text=note,
        outcome=Outcome(outcome),
    )
    _echo_result(ctx, result, timeline, as_json=as_json)


@escalations.command("hold")
@click.argument("reference")
@click.option("--reason", default="", help="Why: a claim, a tribunal, an investigation.")
@click.option("--release", is_flag=True, help="Lift the hold instead.")
@by_option
@json_option
@config_option
@click.pass_obj
def escalations_hold(
    ctx: Context,
    reference: str,
    reason: str,
    release: bool,
    by: str,
    as_json: bool,
    config_file: Path | None,
) -> None:
    """Put a case under legal hold (it is never purged while held), or --release it."""
    action = AdminAction.RELEASE if release else AdminAction.HOLD
    result, timeline = _act(ctx, config_file, reference, action, by=by, text=reason)
    _echo_result(ctx, result, timeline, as_json=as_json)


@escalations.command("purge")
@click.option("--dry-run", is_flag=True, help="Say what would be deleted; delete nothing.")
@json_option
@config_option
@click.pass_obj
def escalations_purge(ctx: Context, dry_run: bool, as_json: bool, config_file: Path | None) -> None:
    """Delete what is past each council's retention (settings: retention).

    Question records are deleted at once. A resolved case past retention first has its
    alerts, thread updates and the reporter's messages deleted from Slack and Teams (or
    blanked, where the platform will not delete) by the running server's outbox worker; then
    the case is deleted, leaving only a record that it existed. Cases under legal hold and
    open cases are kept. Run it daily (cron, or a Kubernetes CronJob)."""

    async def run(cases: Cases, store: Store, settings: Settings) -> PurgeReport:
        def rule_for(org: str) -> RetentionRule:
            kept = settings.retention_for(org)
            return RetentionRule(
                cases=kept.cases, questions=kept.questions, question_text=kept.question_text
            )

        return await purge(cases, store, rule_for, ctx.knowledge.orgs, dry_run=dry_run)

    done = _with_store(ctx, config_file, run)
    if as_json:
        click.echo(json.dumps(asdict(done), default=str))
        return
    would = "would delete" if dry_run else "deleted"
    questions = sum(done.questions_deleted.values())
    click.echo(f"questions: {would} {questions} record(s) past retention")
    for org, count in sorted(done.questions_deleted.items()):
        click.echo(f"  {org}: {count}")
    texts = sum(done.texts_forgotten.values())
    forget = "would forget" if dry_run else "forgot"
    click.echo(f"question texts: {forget} {texts} kept past their retention")
    for org, count in sorted(done.texts_forgotten.items()):
        click.echo(f"  {org}: {count}")
    click.echo(f"re-delivery claims: {would} {done.claims_deleted} older than a day")
    click.echo(f"reporters' own chats: {would} {done.chats_deleted} no case needs any more")
    if dry_run:
        click.echo(f"cases: would purge {len(done.started)}: {', '.join(done.started) or '-'}")
    else:
        click.echo(
            f"cases: purging {len(done.started)} (their chat messages are removed by the "
            f"server's outbox worker): {', '.join(done.started) or '-'}"
        )
    if done.postponed:
        click.echo(f"cases: sending right now, purged next time: {', '.join(done.postponed)}")
    if done.held:
        click.echo(f"cases: kept under legal hold: {', '.join(done.held)}")
    for record in done.finished:
        click.echo(
            f"  {record.reference} deleted; its messages: {record.messages_deleted} deleted, "
            f"{record.messages_tombstoned} blanked, {record.messages_kept} out of reach "
            f"(email), {record.messages_failed} failed"
        )


@escalations.command("export")
@click.option("--user", "person", required=True, help="Their id: slack:U123, teams:<id>, web:<id>.")
@click.option("--name", default=None, help="Also reports filed under this name (web reports).")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write to this file (default: standard output).",
)
@config_option
@click.pass_obj
def escalations_export(
    ctx: Context, person: str, name: str | None, output: Path | None, config_file: Path | None
) -> None:
    """Everything held about one person, as JSON (for a subject access request)."""
    actor = Actor.parse(person)
    if not actor.platform:
        fail("--user: write it as slack:<user id>, teams:<user id> or web:<id>")

    async def run(cases: Cases, store: Store, settings: Settings) -> dict[str, Any]:
        return await person_export(
            cases,
            store,
            ctx.knowledge.policies,
            actor,
            name=name,
            salt=await store.asker_salt(settings.configured_asker_salt),
        )

    exported = json.dumps(_with_store(ctx, config_file, run), indent=2)
    if output is None:
        click.echo(exported)
        return
    output.write_text(exported + "\n", encoding="utf-8")
    output.chmod(0o600)  # personal data: readable by its owner only
    click.echo(f"wrote {output}", err=True)
