"""The policy owner's desk: what staff asked of their council's policy, and what went
unanswered.

    GET /insights                          the Insights page (static HTML, CSS, JavaScript and
                                           the charting library, all served from here)
    GET /api/insights?org=&days=           a council's insights (bot/insights.py), and the
                                           councils this person may read

Policy owners read only their own council's (settings: sign_in.policy_owners); administrators
and the admin token read every council's.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from adapters.web.access import councils_seen, owners_only
from adapters.web.http import SERVICES, STATIC, BadRequest
from bot.insights import as_json, gather

PERIODS = (7, 30, 90)  # days the page offers; the API takes any from 1 to MAX_DAYS
MAX_DAYS = 366


async def insights_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "insights.html")


async def council_insights(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    knowledge = services.assistant.knowledge
    seen = councils_seen(request)
    councils = [org for org in knowledge.orgs if seen is None or org in seen]
    org = request.query.get("org") or (councils[0] if councils else "")
    if org not in councils:
        # An unknown council and another council's read the same: neither says which exist.
        raise BadRequest("no insights for that council here", status=404, reason="unknown_org")
    try:
        days = int(request.query.get("days", "30"))
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_DAYS:
        raise BadRequest(f"days: a whole number from 1 to {MAX_DAYS}", field="days")
    found = await gather(
        services.store,
        knowledge.policy(org),
        services.insights_encoder,
        days=days,
        now=datetime.now(UTC),
        stopwords=knowledge.vocabulary.stopwords,
    )
    return web.json_response(
        {
            "councils": [
                {"org": each, "council": knowledge.policies[each].council} for each in councils
            ],
            "periods": list(PERIODS),
            "insights": as_json(found),
        }
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/insights", insights_page)
    app.router.add_get("/api/insights", owners_only(council_insights))
