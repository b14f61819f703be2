"""IT running the server: serve, check its settings, package the Teams app. The web server and
chat SDKs are imported only by the command that runs the server."""

from __future__ import annotations

import os
from pathlib import Path

import click
import yaml

from adapters.cli.context import Context, config_option, fail, load_settings
from adapters.hosts import is_loopback


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@config_option
@click.option(
    "--log-format", type=click.Choice(["readable", "json"]), default="readable", show_default=True
)
@click.option(
    "--no-migrate",
    is_flag=True,
    help="Leave the tables to `policybot db upgrade` (a migration job); refuse a database that "
    "is not at this release's revision.",
)
@click.pass_obj
def serve(
    ctx: Context,
    host: str,
    port: int,
    config_file: Path | None,
    log_format: str,
    no_migrate: bool,
) -> None:
    """Run the server: the web chat at /, its JSON API, health checks and metrics."""
    from aiohttp import web

    from adapters.logs import configure as configure_logging
    from adapters.server import build_app
    from adapters.slack.mount import slack_from_environment
    from adapters.teams.mount import TeamsConfigError, teams_from_environment
    from bot.migrate import MigrationError
    from bot.storage import DatabaseFileError

    settings = load_settings(ctx, config_file)
    configure_logging(json_lines=log_format == "json")
    slack = slack_from_environment(os.environ)
    try:
        teams = teams_from_environment(os.environ)
        if teams is not None and teams.dev_anonymous and not is_loopback(host):
            fail("TEAMS_DEV_ANONYMOUS=1 is for a local emulator: serve on 127.0.0.1 with it")
        app = build_app(
            settings=settings,
            assistant=ctx.assistant,
            slack=slack,
            teams=teams,
            public=not is_loopback(host),
            migrate=not no_migrate,
        )
    except (TeamsConfigError, DatabaseFileError) as exc:
        fail(str(exc))
    if teams is not None:
        click.echo("Teams activities are served at /api/messages", err=True)
    if slack is not None:
        where = "over Socket Mode" if slack.app_token else "at /slack/events"
        click.echo(f"Slack is connected {where}", err=True)
    if not is_loopback(host) and settings.sign_in is None:
        click.echo(
            "Reachable beyond this machine without sign_in: the web report form and the "
            "escalations page stay closed (set sign_in in the settings to open them).",
            err=True,
        )
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host
    click.echo(f"policybot is running: open http://{shown}:{port}/ (Ctrl-C to stop)", err=True)
    # run_app stops gracefully on SIGINT and SIGTERM: it finishes requests, then runs cleanup.
    try:
        web.run_app(app, host=host, port=port, print=None, access_log=None)
    except MigrationError as exc:
        fail(str(exc), status=1)


@click.group()
def config() -> None:
    """Check the server's settings."""


@config.command("check")
@config_option
@click.pass_obj
def config_check(ctx: Context, config_file: Path | None) -> None:
    """Validate the settings and print the effective ones, secrets masked. Fails when a
    council's reports would reach nobody: a route without a desk this server can post to."""
    from adapters.slack.mount import slack_from_environment
    from adapters.teams.mount import TeamsConfigError, teams_from_environment

    settings = load_settings(ctx, config_file)
    click.echo(yaml.safe_dump(settings.masked(), sort_keys=False).rstrip())
    try:
        teams = teams_from_environment(os.environ)
    except TeamsConfigError as exc:
        fail(str(exc))
    platforms = settings.alert_platforms(
        slack=slack_from_environment(os.environ) is not None, teams=teams is not None
    )
    problems = settings.directory(platforms).problems(ctx.knowledge.policies)
    if problems:
        for problem in problems:
            click.echo(f"error: {problem}", err=True)
        fail(f"{len(problems)} route(s) would take reports that reach nobody", status=1)
    click.echo("ok")


@click.command("teams-package")
@click.option("--app-id", required=True, help="The Teams app id (a GUID of your choosing, kept).")
@click.option(
    "--bot-id",
    envvar="MicrosoftAppId",
    required=True,
    help="The bot's Microsoft app id (default $MicrosoftAppId).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("policybot-teams.zip"),
    show_default=True,
)
def teams_package(app_id: str, bot_id: str, out: Path) -> None:
    """Write the Teams app package (manifest and icons) to upload to Teams."""
    from adapters.teams.package import TEMPLATE, PackageError, build_package

    try:
        written = build_package(template_dir=TEMPLATE, app_id=app_id, bot_id=bot_id, out=out)
    except PackageError as exc:
        fail(f"the Teams manifest is not valid: {exc}")
    click.echo(f"wrote {written}: upload it in Teams > Apps > Manage your apps > Upload an app")


@click.command("slack-install")
@click.option("--org", required=True, help="The council whose Slack workspace installs the bot.")
@config_option
@click.pass_obj
def slack_install(ctx: Context, org: str, config_file: Path | None) -> None:
    """Print a one-time link that installs the Slack app in a council's workspace."""
    from adapters.cli.db import on_database
    from adapters.slack.install import INSTALL_LINK_SECONDS
    from bot.storage import Store

    if org not in ctx.knowledge.policies:
        fail(f"unknown council {org!r}; known: {', '.join(ctx.knowledge.orgs)}")
    settings = load_settings(ctx, config_file)

    async def start(store: Store) -> str:
        await store.create_tables()
        return await store.start_install(platform="slack", org=org, seconds=INSTALL_LINK_SECONDS)

    state = on_database(ctx, config_file, start)
    base = (settings.public_url or "http://127.0.0.1:8080").rstrip("/")
    council = ctx.knowledge.policies[org].council
    click.echo(f"{base}/slack/install?state={state}")
    click.echo(f"Open it signed in to {council}'s Slack workspace, within a day.", err=True)
