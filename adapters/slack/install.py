"""Many councils' Slack workspaces on one server: Slack's OAuth install flow.

    policybot slack-install --org derbyshire   a one-time install link for that council (IT)
    GET /slack/install?state=...               to Slack's consent page for the bot's scopes
    GET /slack/oauth_redirect?code&state=...   back from it: the code exchanged for the
                                               workspace's bot token, kept with its council

The council is fixed when IT makes the link, so whoever installs cannot choose another. Each
workspace's token is kept in the database (`installed_workspace`); requests from a workspace are
answered with its own token and its own council's policy, and alerts go out with the token of
the workspace the council installed. One workspace can still run on SLACK_BOT_TOKEN alone.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
from urllib.parse import urlencode

from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.mount import SlackSettings
from bot.storage import Store, Workspace

log = logging.getLogger("policybot.slack")

# What deploy/slack/manifest.yaml asks for (a test keeps the two the same).
BOT_SCOPES = (
    "app_mentions:read",
    "channels:history",
    "channels:read",
    "chat:write",
    "commands",
    "groups:history",
    "groups:read",
    "im:history",
    "im:write",
    "usergroups:read",
)
INSTALL_LINK_SECONDS = 24 * 3600


def add_install_routes(
    app: web.Application,
    slack: SlackSettings,
    *,
    store: Store,
    councils: Mapping[str, str],
    public_url: str | None,
) -> None:
    """The install routes on the server; `councils` names each council by its id."""

    def redirect_uri(request: web.Request) -> str:
        base = public_url or f"{request.scheme}://{request.host}"
        return f"{base.rstrip('/')}/slack/oauth_redirect"

    async def install(request: web.Request) -> web.Response:
        query = {
            "client_id": slack.client_id or "",
            "scope": ",".join(BOT_SCOPES),
            "state": request.query.get("state", ""),
            "redirect_uri": redirect_uri(request),
        }
        return web.Response(
            status=302, headers={"Location": f"{slack.oauth_url}?{urlencode(query)}"}
        )

    async def installed(request: web.Request) -> web.Response:
        org = await store.finish_install(platform="slack", state=request.query.get("state", ""))
        if org is None or "code" not in request.query:
            return _page("This install link is not known, was used already, or has expired.", 400)
        client = AsyncWebClient(base_url=slack.api_url or AsyncWebClient.BASE_URL)
        try:
            # The app's credentials as POST parameters, which Slack takes as well as Basic
            # auth (the SDK's own method builds a Basic auth aiohttp has deprecated).
            granted = await client.api_call(
                "oauth.v2.access",
                data={
                    "client_id": slack.client_id or "",
                    "client_secret": slack.client_secret or "",
                    "code": request.query["code"],
                    "redirect_uri": redirect_uri(request),
                },
            )
        except SlackApiError as exc:
            log.warning("Slack install refused (%s)", exc.response.get("error"))
            return _page("Slack did not complete the install; try the link again.", 400)
        team = granted.get("team") or {}
        await store.save_workspace(
            Workspace(
                platform="slack",
                team_id=str(team.get("id")),
                org=org,
                bot_token=str(granted["access_token"]),
                bot_user_id=granted.get("bot_user_id"),
            )
        )
        council = councils[org]
        log.info("installed in a Slack workspace", extra={"org": org})
        return _page(
            f"policybot is installed in {team.get('name') or 'your workspace'} for {council}."
        )

    app.router.add_get("/slack/install", install)
    app.router.add_get("/slack/oauth_redirect", installed)


def _page(message: str, status: int = 200) -> web.Response:
    body = (
        f"<!doctype html><meta charset=utf-8><title>policybot</title><p>{html.escape(message)}</p>"
    )
    return web.Response(text=body, content_type="text/html", status=status)
