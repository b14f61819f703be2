"""Slack on the one aiohttp server: its settings, and the route (or the Socket Mode websocket)
through which Bolt receives events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.replies import REPLY_WAITS, Replies

SLACK_EVENTS_PATH = "/slack/events"
IDENTITY_TASK = web.AppKey("slack_identity_task", asyncio.Task[None])


@dataclass(frozen=True)
class SlackSettings:
    """HTTP mode needs the signing secret; Socket Mode the app-level token instead."""

    bot_token: str
    signing_secret: str | None = None
    app_token: str | None = None  # xapp-... with connections:write: Socket Mode
    api_url: str | None = None  # the Web API base URL; tests point it at a local fake
    # Seconds between tries of an answer Slack would not take (adapters/slack/replies.py).
    reply_waits: tuple[float, ...] = REPLY_WAITS
    # Many workspaces (adapters/slack/install.py): the app's OAuth client, and where Slack's
    # consent page is (tests point it at a fake).
    client_id: str | None = None
    client_secret: str | None = None
    oauth_url: str = "https://slack.com/oauth/v2/authorize"

    @property
    def installs(self) -> bool:
        """Whether workspaces are installed through Slack's OAuth flow (each its own token)."""
        return bool(self.client_id and self.client_secret)

    def __repr__(self) -> str:
        mode = "socket" if self.app_token else "http"
        return f"SlackSettings(mode={mode}, api_url={self.api_url!r}, secrets=***)"


def slack_from_environment(environ: Mapping[str, str]) -> SlackSettings | None:
    """Slack is on when a bot token and either a signing secret (HTTP mode) or an app-level
    token (Socket Mode) are set; Socket Mode wins when both are. With the app's OAuth client
    (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET) and a signing secret, workspaces are installed
    through Slack instead, each with its own token (adapters/slack/install.py)."""
    token = environ.get("SLACK_BOT_TOKEN") or ""
    secret = environ.get("SLACK_SIGNING_SECRET") or None
    app_token = environ.get("SLACK_APP_TOKEN") or None
    client_id = environ.get("SLACK_CLIENT_ID") or None
    client_secret = environ.get("SLACK_CLIENT_SECRET") or None
    installs = bool(client_id and client_secret and secret)
    if not installs and (not token or not (secret or app_token)):
        return None
    return SlackSettings(
        bot_token=token,
        signing_secret=secret,
        app_token=app_token,
        client_id=client_id,
        client_secret=client_secret,
        api_url=environ.get("SLACK_API_URL") or None,
    )


@dataclass(frozen=True)
class SlackBot:
    """The Bolt app, and the startup step that learns the bot's own identity."""

    app: AsyncApp
    learn_identity: Callable[[], Coroutine[Any, Any, None]]
    replies: Replies


def mount(web_app: web.Application, bot: SlackBot, slack: SlackSettings) -> None:
    """Slack on the shared server: `POST /slack/events` (a plain route: Bolt reads the raw body
    to verify the signature, so nothing may parse it first), or in Socket Mode a websocket
    opened on startup and closed on cleanup, for councils with no public URL."""

    async def learn_identity(app: web.Application) -> None:
        # Kept on the app so that the task is not garbage-collected before it finishes.
        app[IDENTITY_TASK] = asyncio.create_task(bot.learn_identity())

    web_app.on_startup.append(learn_identity)

    async def stop_replies(app: web.Application) -> None:
        await bot.replies.close()

    web_app.on_shutdown.append(stop_replies)
    if slack.app_token:
        handler = AsyncSocketModeHandler(
            bot.app,
            slack.app_token,
            web_client=AsyncWebClient(base_url=slack.api_url or AsyncWebClient.BASE_URL),
        )

        async def connect(app: web.Application) -> None:
            await handler.connect_async()  # type: ignore[no-untyped-call]  # start_async() never returns

        async def disconnect(app: web.Application) -> None:
            await handler.close_async()  # type: ignore[no-untyped-call]

        web_app.on_startup.append(connect)
        web_app.on_cleanup.append(disconnect)
        return

    # Checked here before Bolt sees the request: Bolt parses the body first (a 500 for
    # anything that is not Slack's JSON or form) and logs the whole body of a request that
    # fails its own check (security review L1, H1).
    verifier = SignatureVerifier(slack.signing_secret or "")

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {name.lower(): value for name, value in request.headers.items()}
        try:
            signed = verifier.is_valid_request(body, headers)
        except ValueError:  # a timestamp that is not a number
            signed = False
        if not signed:
            return web.json_response({"error": "invalid Slack signature"}, status=401)
        try:
            bolt_request = await to_bolt_request(request)
            bolt_response = await bot.app.async_dispatch(bolt_request)
        except (ValueError, TypeError, AttributeError):  # signed, yet not a Slack payload
            return web.json_response({"error": "not a Slack request"}, status=400)
        return await to_aiohttp_response(bolt_response)

    web_app.router.add_post(SLACK_EVENTS_PATH, handle)
