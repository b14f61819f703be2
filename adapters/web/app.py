"""The local web chat and its JSON API, as an aiohttp application.

`create_app` builds everything from what it is given (no globals, nothing at import time):

    GET  /               the chat page (static HTML, CSS and JavaScript; works offline)
    GET  /api/orgs       the councils to pick from
    POST /api/ask        {"org", "question", "asker"?} -> the reply, as `policybot ask --json`
    POST /api/feedback   {"id", "helpful"} -> {"ok": true}
    GET  /healthz        the process is alive
    GET  /readyz         knowledge loaded and database reachable
    GET  /metrics        Prometheus text format
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from aiohttp import web
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from adapters.config import Settings
from adapters.web import compare, escalations, insights
from adapters.web.http import (
    MAX_BODY_BYTES,
    SERVICES,
    STATIC,
    BadRequest,
    Metrics,
    Services,
    add_security_headers,
    bears_admin_token,
    json_body,
    json_errors,
)
from adapters.web.limits import REPORTS_PER_ADDRESS, REPORTS_PER_ADDRESS_WINDOW, RateLimit
from adapters.web.signin import SignIn
from bot.answering import Answering
from bot.assistant import MAX_QUESTION_CHARS, Assistant, Question, QuestionError, reply_json
from bot.escalation.cases import Cases
from bot.escalation.desks import report_elsewhere
from bot.knowledge import UnknownOrgError
from bot.semantic import Remembering
from bot.storage import Store, UnknownQuestionError

log = logging.getLogger("policybot.web")

_T = TypeVar("_T")


def _field(body: dict[str, Any], name: str, kind: type[_T], *, required: bool = True) -> _T | None:
    value = body.get(name)
    if value is None:
        if required:
            raise BadRequest(f"missing field {name!r}", reason="missing_field")
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise BadRequest(f"field {name!r} must be a {kind.__name__}", reason="bad_field")
    return value


async def ask(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    body = await json_body(request)
    org = _field(body, "org", str) or ""
    text = _field(body, "question", str) or ""
    # The page sends a random id it keeps; without one the asker is anonymous, never the
    # client's address, which the salted hash would not hide (security review M5).
    asker = _field(body, "asker", str, required=False) or "web"
    # The clause the page's last answer quoted: what "how do other councils handle this?" is
    # about. Only a clause id of the council is used; anything else is ignored.
    follows = (_field(body, "follows", str, required=False) or "")[:128] or None
    if len(text) > MAX_QUESTION_CHARS:
        raise BadRequest(
            f"the question is too long ({len(text)} characters; the limit is {MAX_QUESTION_CHARS})",
            reason="too_long",
        )
    try:
        answered = await services.answering.answer(
            Question(org=org, text=text, asker=asker, where="web", follows=follows)
        )
    except UnknownOrgError as exc:
        raise BadRequest(str(exc), reason="unknown_org") from None
    except QuestionError as exc:
        raise BadRequest(str(exc), reason="bad_question") from None
    services.metrics.latency.observe(answered.seconds)
    return web.json_response({**reply_json(answered.reply), "id": answered.id})


async def feedback(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    body = await json_body(request)
    asked_id = _field(body, "id", str)
    helpful = _field(body, "helpful", bool)
    assert asked_id is not None and helpful is not None  # required fields
    try:
        await services.answering.feedback(asked_id, helpful=helpful)
    except UnknownQuestionError:
        raise BadRequest(
            f"no question with id {asked_id}", status=404, reason="unknown_id"
        ) from None
    return web.json_response({"ok": True})


async def orgs(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    knowledge = services.assistant.knowledge
    return web.json_response(
        {
            "default": services.settings.default_org,
            "orgs": [
                {
                    "org": org,
                    "council": knowledge.policies[org].council,
                    "title": knowledge.policies[org].title,
                    "date": knowledge.policies[org].date,
                    # The report form is offered only where a report reaches a person.
                    "takes_reports": services.cases.takes_reports(org),
                    "report_elsewhere": report_elsewhere(knowledge.policies[org]).message,
                }
                for org in knowledge.orgs
            ],
        }
    )


async def me(request: web.Request) -> web.Response:
    """Who is signed in, and what this server asks of the web form and the escalations page:
    the pages show "Sign in" from it."""
    services = request.app[SERVICES]
    person = services.person(request)
    return web.json_response(
        {
            "sign_in_required": services.public,
            "sign_in": "/auth/login" if services.sign_in is not None else None,
            "signed_in": person is not None,
            "name": person.name if person else None,
            "admin": bool(person and services.sign_in and services.sign_in.is_admin(person)),
            "policy_owner": bool(
                person and services.sign_in and services.sign_in.owns_a_policy(person)
            ),
        },
        headers={"Cache-Control": "no-store"},
    )


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    checks = {"knowledge": bool(services.assistant.knowledge.policies)}
    try:
        await services.store.ping()
        checks["database"] = True
    except Exception:  # any driver error means "not ready", never a 500
        log.warning("database not reachable")
        checks["database"] = False
    # Reachable is not enough: a database that refuses writes (read-only, full) loses every
    # question and report while reads still work (security review M4).
    checks["database_writes"] = services.store.writes_failing_since is None
    ready = all(checks.values())
    # A council whose reports would reach nobody is named, but does not make the server
    # unready: that would stop every council's questions for one council's missing desk.
    unreachable = [str(problem) for problem in services.cases.desk_problems()]
    return web.json_response(
        {
            "status": "ready" if ready else "not ready",
            "checks": checks,
            "reports_reach_nobody": unreachable,
        },
        status=200 if ready else 503,
    )


async def metrics(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    if services.public and not bears_admin_token(request, services.settings):
        # Reachable beyond this machine: the figures say how busy each council's desks are,
        # for the monitoring that holds the admin token (bearer_token in Prometheus).
        return web.json_response(
            {"error": "metrics need the admin token (Authorization: Bearer <token>)"},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="policybot"'},
        )
    try:
        services.metrics.pipeline(await services.cases.pipeline())
    except Exception as exc:  # the database is away: /readyz says so; counters still answer
        log.warning("could not read the escalation pipeline for /metrics (%s)", type(exc).__name__)
    response = web.Response(body=generate_latest(services.metrics.registry))
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


def create_app(
    *,
    assistant: Assistant,
    store: Store,
    settings: Settings,
    cases: Cases | None = None,
    public: bool = False,
) -> web.Application:
    """The web chat, its API, health and metrics. The caller owns the store's lifecycle.
    `public`: reachable beyond this machine, so the report form and the escalations page need
    sign-in (settings.sign_in); on this machine alone they are account-free."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[json_errors])
    app.on_response_prepare.append(add_security_headers)
    if cases is None:
        cases = Cases(store, assistant.knowledge.policies, settings.directory())
    counters = Metrics()
    sign_in = None
    if settings.sign_in is not None:
        sign_in = SignIn(settings.sign_in, public_url=settings.public_url)
    answering = Answering(
        assistant,
        store,
        salt=settings.configured_asker_salt,
        keeps_text=settings.keeps_question_text,
        channel="web",
        on_answered=counters.answered_on("web"),
    )
    for problem in cases.desk_problems():
        route = problem.route.value if problem.route else "all"
        counters.unreachable_desks.labels(org=problem.org, route=route).set(1)
    app[SERVICES] = Services(
        assistant=assistant,
        store=store,
        settings=settings,
        metrics=counters,
        cases=cases,
        answering=answering,
        report_limit=RateLimit(REPORTS_PER_ADDRESS, REPORTS_PER_ADDRESS_WINDOW),
        insights_encoder=Remembering(assistant.encoder),
        public=public,
        sign_in=sign_in,
    )
    if sign_in is not None:
        sign_in.add_routes(app)
    app.router.add_get("/api/me", me)
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC)
    app.router.add_get("/api/orgs", orgs)
    app.router.add_post("/api/ask", ask)
    app.router.add_post("/api/feedback", feedback)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    # Imported here: the escalation routes build on this module's helpers.

    escalations.add_routes(app)
    insights.add_routes(app)
    compare.add_routes(app)
    return app
