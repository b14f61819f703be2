"""What every route of the web edge shares: the services a handler reaches through the app, its
metrics, reading a JSON body, and turning every refusal into a JSON error."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from adapters.config import Settings
from adapters.web.limits import RateLimit
from adapters.web.signin import Person, SignIn
from bot.answering import Answered, Answering
from bot.assistant import Assistant
from bot.escalation.cases import Cases
from bot.escalation.delivery import Result
from bot.escalation.model import Delivery, OutboxState, PipelineState
from bot.semantic import Encoder
from bot.storage import Store

log = logging.getLogger("policybot.web")

MAX_BODY_BYTES = 64 * 1024
STATIC = Path(__file__).resolve().parent / "static"
# On every response: the pages load only their own scripts and styles, cannot be framed by
# another site, and are not sniffed into another type (security review L7: only the admin page
# had them).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """An `on_response_prepare` signal: static files and errors included."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Metrics:
    """The server's metrics, in its own registry so that two apps in one process (tests) never
    share counters: questions from every platform, the escalation pipeline, refusals."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.questions = Counter(
            "policybot_questions",
            "Questions answered, by platform (slack, teams, web), council and kind of reply",
            ["platform", "org", "kind"],
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
        self.unreachable_desks = Gauge(
            "policybot_unreachable_desks",
            "Councils' routes whose reports would reach nobody, so are refused (1 each)",
            ["org", "route"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "policybot_deliveries",
            "Attempts to deliver alerts and notices, by desk (council, route), platform and "
            "result (sent, failed: tried again later, gave_up)",
            ["org", "route", "platform", "result"],
            registry=self.registry,
        )
        self.outbox = Gauge(
            "policybot_outbox_rows",
            "Outbox rows by state (pending, sent, dead, superseded)",
            ["state"],
            registry=self.registry,
        )
        self.oldest_undelivered = Gauge(
            "policybot_outbox_oldest_undelivered_seconds",
            "How long the oldest undelivered outbox row has waited (0 when none)",
            registry=self.registry,
        )
        self.overdue = Gauge(
            "policybot_cases_unacknowledged_overdue",
            "Open cases nobody acknowledged within their desk's reminder schedule, by council",
            ["org"],
            registry=self.registry,
        )
        self.failing = Gauge(
            "policybot_deliveries_failing",
            "Undelivered alerts and notices whose last attempt failed, by desk: a desk that "
            "cannot be reached",
            ["org", "route"],
            registry=self.registry,
        )

    def answered_on(self, platform: str) -> Callable[[Answered], None]:
        """What a platform's `Answering` calls with each answer, to count it."""

        def count(answered: Answered) -> None:
            question = answered.reply.question
            self.questions.labels(platform, question.org, answered.reply.kind.value).inc()

        return count

    def delivery(self, delivery: Delivery, result: Result) -> None:
        """What the outbox worker calls with each attempt's result."""
        route = delivery.route.value if delivery.route else "reporter"
        org = delivery.notice.org
        self.deliveries.labels(org, route, delivery.platform, result.value).inc()

    def pipeline(self, state: PipelineState) -> None:
        """Set the pipeline's gauges from the database's view of it (read at each scrape)."""
        self.outbox.clear()
        for each in OutboxState:
            self.outbox.labels(each.value).set(state.outbox.get(each, 0))
        waited = state.oldest_undelivered
        self.oldest_undelivered.set(waited.total_seconds() if waited else 0)
        self.overdue.clear()
        for org, count in state.overdue.items():
            self.overdue.labels(org).set(count)
        self.failing.clear()
        for (org, route), count in state.failing.items():
            self.failing.labels(org, route.value if route else "reporter").set(count)


@dataclass(frozen=True)
class Services:
    assistant: Assistant
    store: Store
    settings: Settings
    metrics: Metrics
    cases: Cases
    answering: Answering
    # Web reports per client address (adapters/web/limits.py).
    report_limit: RateLimit
    # The Insights page's: it groups the same kept questions at every visit (bot/semantic.py).
    insights_encoder: Encoder
    # Reachable beyond this machine: the report form and the escalations page need sign-in.
    public: bool = False
    sign_in: SignIn | None = None

    def person(self, request: web.Request) -> Person | None:
        """Who the request's session says is signed in (None without sign-in)."""
        return self.sign_in.person(request) if self.sign_in is not None else None


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


def bears_admin_token(request: web.Request, settings: Settings) -> bool:
    """Whether the request carries the configured admin token (`Authorization: Bearer`)."""
    configured = settings.admin_token
    if configured is None:
        return False
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # compare_digest takes as long for a near miss as for a wild guess.
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), configured.get_secret_value().encode()
    )


def check_same_origin(request: web.Request, public_url: str | None) -> None:
    """Refuse a browser request sent from another site (security review H5: a `text/plain`
    POST from any page filed reports). Browsers name the page's origin on every POST; a request
    without `Origin` is not a browser's, so not a cross-site forgery. Our own origin is this
    request's Host (what the browser reached), or the configured public URL."""
    origin = request.headers.get("Origin")
    if origin is None:
        return
    host = urlsplit(origin).netloc
    ours = {request.host, urlsplit(public_url).netloc if public_url else None}
    if origin == "null" or host not in ours:
        raise BadRequest("requests from other sites are not accepted", 403, "cross_origin")


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, sent as `application/json` from this site (a browser cannot
    send that type across sites without asking first), or `BadRequest`."""
    check_same_origin(request, request.app[SERVICES].settings.public_url)
    if request.content_type != "application/json":
        raise BadRequest("send the body as application/json", status=415, reason="not_json")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise BadRequest(
            f"the request body is over {MAX_BODY_BYTES} bytes", status=413, reason="too_large"
        )
    raw = await request.read()
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        # ValueError: malformed, or a number of more digits than Python converts;
        # RecursionError: nested thousands deep (security review L1: both were 500s).
        raise BadRequest("the request body is not valid JSON", reason="bad_json") from None
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object", reason="bad_json")
    return body
