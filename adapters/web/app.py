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

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from adapters.config import Settings
from bot.assistant import MAX_QUESTION_CHARS, Assistant, Question, QuestionError, reply_json
from bot.escalation.cases import Cases
from bot.knowledge import UnknownOrgError
from bot.storage import Asked, Store, UnknownQuestionError, opaque_asker

log = logging.getLogger("policybot.web")

MAX_BODY_BYTES = 64 * 1024
STATIC = Path(__file__).resolve().parent / "static"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Metrics:
    """The app's own registry, so that two apps in one process (tests) never share counters."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.questions = Counter(
            "policybot_questions",
            "Questions answered, by council and kind of reply",
            ["org", "kind"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "policybot_ask_seconds",
            "Time to answer a question over HTTP, including storing it",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=self.registry,
        )
        self.errors = Counter(
            "policybot_errors",
            "Requests refused or failed, by reason",
            ["reason"],
            registry=self.registry,
        )


@dataclass(frozen=True)
class Services:
    assistant: Assistant
    store: Store
    settings: Settings
    metrics: Metrics
    cases: Cases


SERVICES = web.AppKey("services", Services)


class BadRequest(Exception):
    def __init__(
        self,
        message: str,
        status: int = 400,
        reason: str = "bad_request",
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.field = field


def _error(status: int, message: str, *, field: str | None = None) -> web.Response:
    body = {"error": message} if field is None else {"error": message, "field": field}
    return web.json_response(body, status=status)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every refusal is a JSON error with the right status; nothing becomes a bare 500."""
    metrics = request.app[SERVICES].metrics
    try:
        return await handler(request)
    except BadRequest as exc:
        metrics.errors.labels(exc.reason).inc()
        return _error(exc.status, str(exc), field=exc.field)
    except web.HTTPRequestEntityTooLarge:
        metrics.errors.labels("too_large").inc()
        return _error(413, f"the request body is over {MAX_BODY_BYTES} bytes")
    except web.HTTPException as exc:
        if exc.status >= 400:
            metrics.errors.labels(f"http_{exc.status}").inc()
            return _error(exc.status, exc.reason)
        raise
    except Exception:
        metrics.errors.labels("internal").inc()
        log.exception("request failed", extra={"path": request.path})
        return _error(500, "something went wrong on our side; please try again")


async def json_body(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise BadRequest(
            f"the request body is over {MAX_BODY_BYTES} bytes", status=413, reason="too_large"
        )
    raw = await request.read()
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequest("the request body is not valid JSON", reason="bad_json") from None
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object", reason="bad_json")
    return body


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
    started = time.perf_counter()
    body = await json_body(request)
    org = _field(body, "org", str) or ""
    text = _field(body, "question", str) or ""
    asker = _field(body, "asker", str, required=False) or request.remote or "web"
    if len(text) > MAX_QUESTION_CHARS:
        raise BadRequest(
            f"the question is too long ({len(text)} characters; the limit is {MAX_QUESTION_CHARS})",
            reason="too_long",
        )
    try:
        question = Question(org=org, text=text, asker=asker, where="web")
        reply = await services.assistant.ask_async(question)
    except UnknownOrgError as exc:
        raise BadRequest(str(exc), reason="unknown_org") from None
    except QuestionError as exc:
        raise BadRequest(str(exc), reason="bad_question") from None
    salt = services.settings.asker_salt.get_secret_value()
    asked_id = await services.store.record_asked(
        Asked.of(reply, asker=opaque_asker(asker[:200], salt=salt), channel="web")
    )
    best = reply.matches[0] if reply.matches else None
    elapsed = time.perf_counter() - started
    services.metrics.questions.labels(org, reply.kind.value).inc()
    services.metrics.latency.observe(elapsed)
    log.info(
        "answered",
        extra={
            "org": org,
            "kind": reply.kind.value,
            "clause": best.clause.id if best else None,
            "ms": round(elapsed * 1000, 2),
        },
    )
    return web.json_response({**reply_json(reply), "id": asked_id})


async def feedback(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    body = await json_body(request)
    asked_id = _field(body, "id", str)
    helpful = _field(body, "helpful", bool)
    assert asked_id is not None and helpful is not None  # required fields
    try:
        await services.store.record_feedback(asked_id, helpful=helpful)
    except UnknownQuestionError:
        raise BadRequest(
            f"no question with id {asked_id}", status=404, reason="unknown_id"
        ) from None
    log.info("feedback", extra={"helpful": helpful})
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
                }
                for org in knowledge.orgs
            ],
        }
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
    ready = all(checks.values())
    return web.json_response(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status=200 if ready else 503,
    )


async def metrics(request: web.Request) -> web.Response:
    registry = request.app[SERVICES].metrics.registry
    response = web.Response(body=generate_latest(registry))
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


def create_app(
    *, assistant: Assistant, store: Store, settings: Settings, cases: Cases | None = None
) -> web.Application:
    """The web chat, its API, health and metrics. The caller owns the store's lifecycle."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[json_errors])
    if cases is None:
        cases = Cases(store, assistant.knowledge.policies, settings.directory())
    app[SERVICES] = Services(
        assistant=assistant, store=store, settings=settings, metrics=Metrics(), cases=cases
    )
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC)
    app.router.add_get("/api/orgs", orgs)
    app.router.add_post("/api/ask", ask)
    app.router.add_post("/api/feedback", feedback)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    # Imported here: the escalation routes build on this module's helpers.
    from adapters.web import escalations

    escalations.add_routes(app)
    return app
