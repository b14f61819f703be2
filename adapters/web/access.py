"""Who may read and act on what the server keeps: cases (administrators) and a council's
insights (its policy owners and administrators).

A person signed in through the council's identity provider is checked against the settings
(`sign_in.admins`, `sign_in.policy_owners`). The CLI and automation bring the admin token
instead; a public server takes the token only from them, never from a browser page. Answers
are never cached: they hold personal data.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from aiohttp import web

from adapters.web.http import SERVICES, Handler, Services, bears_admin_token
from adapters.web.signin import Person, SignIn
from bot.escalation.model import Actor

# The signed-in person acting, set on the request by the guards below.
ACTOR = web.RequestKey("actor", Actor)
PERSON = web.RequestKey("person", Person)


def signed_in_or_token(
    allowed: Callable[[SignIn, Person], bool], refusal: str
) -> Callable[[Handler], Handler]:
    """A guard answering only someone signed in whom `allowed` lets in (`refusal` tells anyone
    else why not), or a request bearing the admin token."""

    def guard(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            services = request.app[SERVICES]
            bearer = "Authorization" in request.headers
            if not bearer and (person := services.person(request)) is not None:
                assert services.sign_in is not None
                if not allowed(services.sign_in, person):
                    services.metrics.errors.labels("not_admin").inc()
                    return web.json_response({"error": refusal}, status=403)
                request[ACTOR] = person.actor
                request[PERSON] = person
                return await _uncached(handler, request)
            if services.public and (not bearer or "Origin" in request.headers):
                return sign_in_needed(services, "Sign in with your council account.")
            if services.settings.admin_token is None:
                services.metrics.errors.labels("admin_disabled").inc()
                return web.json_response(
                    {"error": "the admin API is off: set POLICYBOT_ADMIN_TOKEN to turn it on"},
                    status=404,
                )
            if not bears_admin_token(request, services.settings):
                services.metrics.errors.labels("unauthorized").inc()
                return web.json_response(
                    {"error": "a valid admin token is needed (Authorization: Bearer <token>)"},
                    status=401,
                    headers={"WWW-Authenticate": 'Bearer realm="policybot"'},
                )
            return await _uncached(handler, request)

        return guarded

    return guard


# Cases: someone the settings name as an administrator, or the admin token.
admin_only = signed_in_or_token(
    lambda sign_in, person: sign_in.is_admin(person),
    "You are signed in, but not as an administrator of cases.",
)
# A council's insights: its policy owners and administrators, or the admin token.
owners_only = signed_in_or_token(
    lambda sign_in, person: sign_in.owns_a_policy(person),
    "You are signed in, but not as the owner of any council's policy.",
)


def councils_seen(request: web.Request) -> frozenset[str] | None:
    """The councils whose insights this request may see: None for all (the admin token, an
    administrator)."""
    person = request.get(PERSON)
    services = request.app[SERVICES]
    if person is None or services.sign_in is None:
        return None
    return services.sign_in.owns(person)


async def _uncached(handler: Handler, request: web.Request) -> web.StreamResponse:
    response = await handler(request)
    response.headers["Cache-Control"] = "no-store"
    return response


def sign_in_needed(services: Services, message: str) -> web.Response:
    """401 naming where to sign in; 403 where this public server has no sign-in set up."""
    if services.sign_in is None:
        return web.json_response(
            {
                "error": "This needs sign-in, which this server does not have set up: ask your "
                "IT team (sign_in in the settings).",
                "field": "report",
            },
            status=403,
        )
    return web.json_response(
        {"error": message, "field": "report", "sign_in": "/auth/login"}, status=401
    )
