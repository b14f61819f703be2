"""Incident reports from the web form, and the admin API and page for the team's cases.

    POST /api/escalations                        a report -> 201 {"reference", "route", ...,
                                                 "follow"}
    POST /api/escalations/follow                 {"tokens": [follow, ...]} -> what happened since
    GET  /api/escalation-choices                 the kinds, outcomes, statuses, routes, labelled
    GET  /escalations                            the admin page (static HTML, CSS and JavaScript)
    GET  /api/escalations?org=&status=&route=&before=
                                                 admin: a page of cases, newest first, and
                                                 "next" (the `before` of the page after)
    GET  /api/escalations/{reference}            admin: one case and its timeline
    POST /api/escalations/{reference}/actions    admin: {"action", "by", "text"?, "outcome"?}

The case, its alerts and the reporter's receipt are written in one transaction by the core; the
outbox worker posts the alerts. The admin routes want `Authorization: Bearer <admin token>`; the
page keeps the token in sessionStorage and sends it as that header, never as a cookie, so another
site cannot make a browser act on a case (no CSRF).
"""

from __future__ import annotations

import enum
import hashlib
import logging
import math
import re
import secrets
from typing import TypeVar

from aiohttp import web

from adapters.case_admin import (
    AdminAction,
    AdminActionError,
    act_as_admin,
    case_json,
    choices_json,
    event_json,
)
from adapters.web.access import ACTOR, admin_only, sign_in_needed
from adapters.web.http import (
    SERVICES,
    STATIC,
    BadRequest,
    Services,
    json_body,
)
from adapters.web.limits import client_address
from bot.escalation import wording
from bot.escalation.cases import TooManyReportsError
from bot.escalation.desks import NoDeskError, route_name
from bot.escalation.model import (
    Actor,
    Case,
    Outcome,
    Reporter,
    Status,
    UnknownCaseError,
    unreached,
)
from bot.escalation.report import ReportError, parse_report
from bot.knowledge import Route

log = logging.getLogger("policybot.web")
_Choice = TypeVar("_Choice", bound=enum.StrEnum)


# The admin page is ours alone: no other origin may frame it or feed it scripts.
async def report(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    body = await json_body(request)
    person = services.person(request)
    if services.public and person is None:
        return sign_in_needed(services, "Sign in with your council account to report.")
    address = client_address(request, services.settings.trusted_proxies)
    if (wait := services.report_limit.wait_for(address)) is not None:
        services.metrics.errors.labels("too_many_reports").inc()
        return _too_many("Too many reports from this network just now", wait)
    if body.get("org") is not None and body.get("org") not in services.assistant.knowledge.orgs:
        raise _bad_field("org", f"unknown council {body.get('org')!r}")
    try:
        incident = parse_report(body)
        # Signed in, the reporter is the person. Without sign-in (on this machine alone) each
        # report is its own reporter, and the browser that sent it keeps a secret to follow
        # it by (only its hash is stored).
        follow = secrets.token_hex(16) if person is None else None
        reporter = person.actor if person is not None else web_reporter(follow or "")
        case = await services.cases.open(incident, Reporter(reporter))
    except NoDeskError as exc:
        # Not the reporter's mistake, and nothing was promised: who to tell instead.
        log.warning("report refused: no desk would see it", extra={"org": incident.org})
        return web.json_response(
            {"error": exc.message, "field": exc.field, "contacts": list(exc.contacts)},
            status=503,
        )
    except TooManyReportsError as exc:
        return _too_many(exc.message, exc.retry_after.total_seconds())
    except ReportError as exc:
        raise _bad_field(exc.field, exc.message) from None
    log.info("incident reported", extra={"org": case.org, "kind": case.kind.value})
    return web.json_response(
        {
            "reference": case.reference,
            "route": [route.value for route in case.routes],
            "route_names": [route_name(route) for route in case.routes],
            "status": case.status.value,
            "follow": follow,
        },
        status=201,
    )


def _too_many(message: str, wait: float) -> web.Response:
    return web.json_response(
        {"error": message, "field": "report"},
        status=429,
        headers={"Retry-After": str(max(1, math.ceil(wait)))},
    )


MAX_FOLLOWED = 50
PAGE = 100  # cases per page of the admin list
FOLLOW_TOKEN = re.compile(r"[0-9a-f]{32}")  # the whole string: `$` would let "\n" follow


def web_reporter(follow: str) -> Actor:
    """The reporter of a web report: a hash of its follow token, so the database alone
    cannot be used to read a reporter's updates."""
    return Actor("web", hashlib.sha256(follow.encode()).hexdigest()[:32])


async def follow_reports(request: web.Request) -> web.Response:
    """What the reporter of each followed report is told: its status and the updates meant for
    them (not the team's notes). Tokens travel in the body, never in a URL that gets logged."""
    services = request.app[SERVICES]
    body = await json_body(request)
    tokens = body.get("tokens")
    if not isinstance(tokens, list) or len(tokens) > MAX_FOLLOWED:
        raise _bad_field("tokens", f"a list of at most {MAX_FOLLOWED} follow tokens")
    if not all(isinstance(token, str) and FOLLOW_TOKEN.fullmatch(token) for token in tokens):
        raise _bad_field("tokens", "each token as the report's answer gave it")
    reports = []
    # A signed-in person's own reports come with the ones their browser follows by token.
    person = services.person(request)
    followed = [(token, web_reporter(token)) for token in dict.fromkeys(tokens)]
    if person is not None:
        followed.append((None, person.actor))
    records = [
        (token, record)
        for token, reporter in followed
        for record in await services.cases.reported_by(reporter)
    ]
    # One look at every followed case's alerts, not one per case.
    alerts = await services.cases.alerts([record.case.id for _, record in records])
    for token, record in records:
        case = record.case
        updates = [
            {"at": event.at.isoformat(), "text": text}
            for event in record.events
            if (text := wording.reporter_update(event.kind, event.detail, case.routes)) is not None
        ]
        reports.append(
            {
                "follow": token,
                "reference": case.reference,
                "status": case.status.value,
                "outcome_label": case.outcome.label if case.outcome else None,
                "updates": updates,
                # An outage must not read as silence: the reporter knows to chase it.
                "not_yet_delivered": [
                    route_name(route) for route in unreached(alerts.get(case.id, []))
                ],
            }
        )
    return web.json_response({"reports": reports}, headers={"Cache-Control": "no-store"})


async def choices(request: web.Request) -> web.Response:
    return web.json_response(choices_json())


async def admin_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "escalations.html")


# --- the admin API -------------------------------------------------------------------------------


async def _cases_json(services: Services, cases: list[Case]) -> list[dict[str, object]]:
    """Cases as the admin page shows them, each with how its alerts are doing."""
    alerts = await services.cases.alerts([case.id for case in cases])
    policies = services.assistant.knowledge.policies
    return [case_json(case, policies[case.org], alerts.get(case.id, ())) for case in cases]


async def list_cases(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    query = request.query
    org = query.get("org") or None
    if org is not None and org not in services.assistant.knowledge.orgs:
        raise _bad_field("org", f"unknown council {org!r}")
    status = _choice(Status, "status", query.get("status"))
    route = _choice(Route, "route", query.get("route"))
    before = query.get("before") or None
    try:
        found = await services.cases.find(
            org=org, status=status, route=route, before=before, limit=PAGE + 1
        )
    except UnknownCaseError:
        raise _bad_field("before", "the reference of a case in the list") from None
    page = found[:PAGE]
    more = len(found) > PAGE
    return web.json_response(
        {
            "cases": await _cases_json(services, page),
            # The next page starts after this page's last case: GET again with before=<it>.
            "next": page[-1].reference if more else None,
        }
    )


async def show_case(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    reference = request.match_info["reference"]
    try:
        case = await services.cases.get(reference)
        timeline = await services.cases.timeline(reference)
    except UnknownCaseError:
        raise _unknown(reference) from None
    (shown,) = await _cases_json(services, [case])
    return web.json_response({"case": shown, "timeline": [event_json(e, case) for e in timeline]})


async def act_on_case(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    reference = request.match_info["reference"]
    body = await json_body(request)
    action = _choice(AdminAction, "action", _text(body, "action"))
    if action is None:
        raise _bad_field("action", f"choose one of {', '.join(AdminAction)}")
    outcome = _choice(Outcome, "outcome", _text(body, "outcome"))
    try:
        result = await act_as_admin(
            services.cases,
            reference,
            action,
            # Signed in, the person is the actor: no name to type, none to make up.
            by=request.get(ACTOR) or _text(body, "by") or "",
            text=_text(body, "text") or "",
            outcome=outcome,
        )
        timeline = await services.cases.timeline(reference)
    except AdminActionError as exc:
        raise _bad_field(exc.field, exc.message) from None
    except UnknownCaseError:
        raise _unknown(reference) from None
    assert result.case is not None  # an admin is never refused, so the case comes back
    log.info(
        "case action",
        extra={
            "reference": result.case.reference,
            "action": action.value,
            "changed": result.changed,
        },
    )
    return web.json_response(
        {
            "changed": result.changed,
            "message": result.message,
            "case": (await _cases_json(services, [result.case]))[0],
            "timeline": [event_json(e, result.case) for e in timeline],
        }
    )


def _text(body: dict[str, object], name: str) -> str | None:
    value = body.get(name)
    if value is None or isinstance(value, str):
        return value
    raise _bad_field(name, "must be a string")


def _choice(kind: type[_Choice], name: str, value: str | None) -> _Choice | None:
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        raise _bad_field(name, f"choose one of {', '.join(kind)}") from None


def _unknown(reference: str) -> BadRequest:
    return BadRequest(f"no case {reference[:40]!r}", status=404, reason="unknown_case")


def _bad_field(field: str, message: str) -> BadRequest:
    return BadRequest(f"{field}: {message}", reason="bad_field", field=field)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/escalations", report)
    app.router.add_post("/api/escalations/follow", follow_reports)
    app.router.add_get("/api/escalation-choices", choices)
    app.router.add_get("/escalations", admin_page)
    app.router.add_get("/api/escalations", admin_only(list_cases))
    app.router.add_get("/api/escalations/{reference}", admin_only(show_case))
    app.router.add_post("/api/escalations/{reference}/actions", admin_only(act_on_case))
