"""Councils side by side, public like the chat: every council's policy is published.

GET /compare                   the Compare page (/compare?topic=ID opens one topic)
GET /api/topics                the shared topics, each with the councils that address it
GET /api/compare/{topic}       each council's clauses on the topic, with verdict and
                               section, and the councils silent on it
"""

from __future__ import annotations

from aiohttp import web

from adapters.web.http import SERVICES, STATIC, BadRequest
from bot.comparison import UnknownTopicError, compare, comparison_json, find_topic, topics_json


async def compare_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "compare.html")


async def topics(request: web.Request) -> web.Response:
    knowledge = request.app[SERVICES].assistant.knowledge
    return web.json_response({"topics": topics_json(knowledge)})


async def comparison(request: web.Request) -> web.Response:
    knowledge = request.app[SERVICES].assistant.knowledge
    try:
        topic = find_topic(knowledge, request.match_info["topic"])
    except UnknownTopicError as exc:
        raise BadRequest(str(exc), status=404, reason="unknown_topic") from None
    return web.json_response(comparison_json(compare(knowledge, topic)))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/compare", compare_page)
    app.router.add_get("/api/topics", topics)
    app.router.add_get("/api/compare/{topic}", comparison)
