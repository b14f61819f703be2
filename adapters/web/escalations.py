"""Incident reports from the web form: `POST /api/escalations`.

The case, its alerts and the reporter's receipt are written in one transaction by the core; the
outbox worker posts the alerts. The answer is the reference to quote, the route, the status.
"""

from __future__ import annotations

import logging
import uuid

from aiohttp import web

from adapters.web.app import SERVICES, BadRequest, json_body
from bot.cases import Reporter, ReportError, parse_report, route_name

log = logging.getLogger("policybot.web")


async def report(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    body = await json_body(request)
    if body.get("org") is not None and body.get("org") not in services.assistant.knowledge.orgs:
        raise _bad_field("org", f"unknown council {body.get('org')!r}")
    try:
        incident = parse_report(body)
        # The web chat has no sign-in: each report is its own reporter, told by its reference.
        case = await services.cases.open(
            incident, Reporter(id=f"web:{uuid.uuid4().hex}", platform="web")
        )
    except ReportError as exc:
        raise _bad_field(exc.field, exc.message) from None
    log.info("incident reported", extra={"org": case.org, "kind": case.kind.value})
    return web.json_response(
        {
            "reference": case.reference,
            "route": [route.value for route in case.routes],
            "route_names": [route_name(route) for route in case.routes],
            "status": case.status.value,
        },
        status=201,
    )


def _bad_field(field: str, message: str) -> BadRequest:
    return BadRequest(f"{field}: {message}", reason="bad_field", field=field)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/escalations", report)
