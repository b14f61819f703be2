"""The composition root of `policybot serve`: settings, knowledge, database and web app wired
into one aiohttp application. Slack and Teams mount on the same application later."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiohttp import web

from adapters.config import Settings
from adapters.email.channel import EmailChannel
from adapters.slack.bot import create_bolt_app
from adapters.slack.courier import SlackChannel
from adapters.slack.install import add_install_routes
from adapters.slack.mount import SlackSettings, mount
from adapters.teams.bot import PolicyBot
from adapters.teams.courier import TeamsChannel
from adapters.teams.mount import TEAMS_OUTBOX, TeamsSettings
from adapters.teams.mount import mount as mount_teams
from adapters.web.app import create_app
from adapters.web.http import SERVICES
from bot.assistant import Assistant
from bot.escalation.cases import Cases
from bot.escalation.delivery import Channel, OutboxWorker, RetrySchedule
from bot.migrate import check_current
from bot.storage import Store

log = logging.getLogger("policybot.server")

# How long a stopping server lets the outbox worker finish its pass (a send, with its retries).
WORKER_STOP_SECONDS = 10.0


def build_app(
    *,
    settings: Settings,
    assistant: Assistant,
    slack: SlackSettings | None = None,
    teams: TeamsSettings | None = None,
    public: bool = False,
    migrate: bool = True,
) -> web.Application:
    """Everything the server needs; the database is opened on startup and closed on cleanup.
    Slack (/slack/events or Socket Mode) and Teams (/api/messages) are mounted when their
    settings are given. `assistant` holds the councils' knowledge, loaded by the caller.
    `public`: the server listens beyond this machine (see `create_app`). Without `migrate`,
    the database must already be at this release's revision (`policybot db upgrade`)."""
    store = Store.connect(settings.database_url)
    platforms = settings.alert_platforms(slack=slack is not None, teams=teams is not None)
    cases = Cases(
        store,
        assistant.knowledge.policies,
        settings.directory(platforms),
        lease=timedelta(seconds=settings.outbox_lease_seconds),
    )
    app = create_app(
        assistant=assistant, store=store, settings=settings, cases=cases, public=public
    )
    # Where the outbox worker posts, by platform; each chat platform adds itself when mounted.
    channels: dict[str, Channel] = {}
    if settings.smtp is not None:
        channels["email"] = EmailChannel(
            smtp=settings.smtp, public_url=settings.public_url, clock=cases.clock
        )
    metrics = app[SERVICES].metrics
    retry = settings.outbox_retry
    worker = OutboxWorker(
        cases,
        channels,
        on_result=metrics.delivery,
        schedule=RetrySchedule(
            first_wait=retry.first_wait,
            fast_attempts=retry.fast_attempts,
            slow_every=retry.slow_every,
        ),
    )
    cases.on_queued(worker.wake)
    worker_task: list[asyncio.Task[None]] = []

    async def open_database(app: web.Application) -> None:
        if migrate:
            await store.create_tables()
        else:  # a migration job does it; a server of another release must not start on it
            await check_current(store.engine)
        await store.start()
        # Loud, once: reports there are refused, and /readyz and /metrics keep saying so.
        for problem in cases.desk_problems():
            log.error("reports would reach nobody, so they are refused: %s", problem)

    async def start_worker(app: web.Application) -> None:
        worker_task.append(asyncio.create_task(worker.run_forever(), name="policybot-outbox"))

    async def close_database(app: web.Application) -> None:
        worker.stop()
        for task in worker_task:
            # On a timeout wait_for cancels it: its claims come back when their lease runs out.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(task, timeout=WORKER_STOP_SECONDS)
        await store.close()

    # The database opens before Slack connects and closes after it disconnects: a Socket Mode
    # event can arrive the moment the socket opens, and its answer is still being stored when
    # the socket closes.
    app.on_startup.append(open_database)

    async def load_model(app: web.Application) -> None:
        # Loaded before the first long post arrives rather than while it waits.
        await asyncio.to_thread(assistant.encoder.load)

    app.on_startup.append(load_model)
    if slack is not None:
        bolt = create_bolt_app(
            slack=slack,
            assistant=assistant,
            store=store,
            settings=settings,
            cases=cases,
            on_answered=metrics.answered_on("slack"),
        )
        mount(app, bolt, slack)
        if slack.installs:  # many workspaces, each installed for its council
            add_install_routes(
                app,
                slack,
                store=store,
                councils={org: p.council for org, p in assistant.knowledge.policies.items()},
                public_url=settings.public_url,
            )
        channels["slack"] = SlackChannel(
            bolt.app.client, tokens=_installed_tokens(store) if slack.installs else None
        )
    if teams is not None:
        bot = PolicyBot(
            assistant=assistant,
            store=store,
            settings=settings,
            cases=cases,
            on_answered=metrics.answered_on("teams"),
        )
        mount_teams(app, bot, teams, store)
        channels["teams"] = TeamsChannel(app[TEAMS_OUTBOX])
    app.on_startup.append(start_worker)
    app.on_cleanup.append(close_database)
    return app


def _installed_tokens(store: Store) -> Callable[[str], Awaitable[str | None]]:
    """The bot token of the Slack workspace a council installed the bot in."""

    async def token_for(org: str) -> str | None:
        workspace = await store.workspace_of_org(platform="slack", org=org)
        return workspace.bot_token if workspace else None

    return token_for
