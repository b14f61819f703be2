"""The assistant on Teams: botbuilder's CloudAdapter at `POST /api/messages` on the one server.

Every inbound activity's token is validated before the SDK sees the activity; anything wrong
with it (missing, malformed, forged, expired) is a 401, never a 500. With no app id the SDK
would accept anyone and reply to whatever `serviceUrl` the caller sent, so the server refuses to
start that way unless TEAMS_DEV_ANONYMOUS=1 says it is local testing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.integration.aiohttp import (
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticationConstants,
    CertificateServiceClientCredentialsFactory,
    JwtTokenExtractor,
    ServiceClientCredentialsFactory,
)
from msrest.serialization import Model

from adapters.hosts import is_loopback
from adapters.teams.bot import PolicyBot
from adapters.teams.connector import ConnectorRetry, RetryingCloudAdapter
from adapters.teams.courier import TeamsOutbox
from adapters.teams.tokens import TOKEN_TIMEOUT_SECONDS, OffLoopTokens, TokenUnavailable
from bot.storage import Store

log = logging.getLogger("policybot.teams")
TEAMS_MESSAGES_PATH = "/api/messages"


TEAMS_OUTBOX = web.AppKey("teams_outbox", TeamsOutbox)


class TeamsConfigError(ValueError):
    pass


@dataclass(frozen=True)
class TeamsSettings:
    app_id: str | None
    app_password: str | None
    app_type: str = "SingleTenant"
    tenant_id: str | None = None
    # Instead of a password: the certificate registered on the app, as its thumbprint and the
    # path of its PEM private key.
    certificate_thumbprint: str | None = None
    certificate_key_file: str | None = None
    dev_anonymous: bool = False
    # Where channel tokens' signing keys are published, and who issues them: Microsoft's by
    # default; other values for sovereign clouds, and for tests with keys of their own.
    openid_metadata_url: str | None = None
    token_issuer: str | None = None
    connector_retry: ConnectorRetry = field(default_factory=ConnectorRetry)
    # How long a reply or an alert waits for the login endpoint to give the bot its token.
    token_timeout: float = TOKEN_TIMEOUT_SECONDS

    def __repr__(self) -> str:
        return f"TeamsSettings(app_id={self.app_id!r}, app_type={self.app_type!r}, password=***)"


def teams_from_environment(environ: Mapping[str, str]) -> TeamsSettings | None:
    """Teams is on with an app id, its password and tenant, or with TEAMS_DEV_ANONYMOUS=1."""
    app_id = environ.get("MicrosoftAppId") or None
    anonymous = environ.get("TEAMS_DEV_ANONYMOUS") == "1"
    if not app_id and not anonymous:
        return None
    settings = TeamsSettings(
        app_id=app_id,
        app_password=environ.get("MicrosoftAppPassword") or None,
        certificate_thumbprint=environ.get("MicrosoftAppCertificateThumbprint") or None,
        certificate_key_file=environ.get("MicrosoftAppCertificateKeyFile") or None,
        app_type=environ.get("MicrosoftAppType") or "SingleTenant",
        tenant_id=environ.get("MicrosoftAppTenantId") or None,
        dev_anonymous=anonymous,
    )
    certificate = settings.certificate_thumbprint and settings.certificate_key_file
    if app_id and not settings.app_password and not certificate:
        raise TeamsConfigError(
            "MicrosoftAppId is set but neither MicrosoftAppPassword nor a certificate "
            "(MicrosoftAppCertificateThumbprint and MicrosoftAppCertificateKeyFile) is"
        )
    if settings.certificate_key_file and not Path(settings.certificate_key_file).is_file():
        raise TeamsConfigError("MicrosoftAppCertificateKeyFile is not a readable file")
    if app_id and settings.app_type == "SingleTenant" and not settings.tenant_id:
        raise TeamsConfigError("a SingleTenant bot needs MicrosoftAppTenantId")
    return settings


class _SdkConfig:
    """The attribute names ConfigurationBotFrameworkAuthentication reads."""

    def __init__(self, teams: TeamsSettings) -> None:
        self.APP_ID = teams.app_id or ""
        self.APP_PASSWORD = teams.app_password or ""
        # SingleTenant needs credentials; the anonymous local mode has none to give.
        self.APP_TYPE = teams.app_type if teams.app_id else "MultiTenant"
        self.APP_TENANTID = teams.tenant_id or ""
        if teams.openid_metadata_url:
            self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = teams.openid_metadata_url
        if teams.token_issuer:
            self.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = teams.token_issuer


SIGNING_KEYS_REFRESH_SECONDS = 6 * 3600


def _signing_keys_kept_fresh(metadata_url: str) -> Any:
    """The SDK fetches the channel's signing keys with blocking `requests` (no timeout) when its
    copy is a day old, on the event loop Slack and the web chat share. Fetch them in a thread at
    startup and every few hours, so the inline fetch never comes due."""

    def refresh() -> None:
        metadata = JwtTokenExtractor.get_open_id_metadata(metadata_url)
        # `_refresh` is synchronous inside despite `async def`: run it on this thread's loop.
        asyncio.run(metadata._refresh())

    async def keep_fresh() -> None:
        while True:
            try:
                await asyncio.to_thread(refresh)
                log.info("Teams signing keys fetched")
            except Exception as exc:
                log.warning("could not fetch Teams signing keys (%s)", type(exc).__name__)
            await asyncio.sleep(SIGNING_KEYS_REFRESH_SECONDS)

    async def context(_: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(keep_fresh())
        yield
        task.cancel()

    return context


def mount(web_app: web.Application, bot: PolicyBot, teams: TeamsSettings, store: Store) -> None:
    if not teams.app_id:
        if not teams.dev_anonymous:
            raise TeamsConfigError(
                "refusing to start Teams without MicrosoftAppId: set TEAMS_DEV_ANONYMOUS=1 only "
                "for local testing"
            )
        log.warning(
            "TEAMS_DEV_ANONYMOUS=1: Teams requests are NOT authenticated; never run like this "
            "where anyone else can reach the server"
        )
    config = _SdkConfig(teams)
    credentials: ServiceClientCredentialsFactory
    if teams.app_id and teams.certificate_thumbprint and teams.certificate_key_file:
        credentials = CertificateServiceClientCredentialsFactory(
            teams.certificate_thumbprint,
            Path(teams.certificate_key_file).read_text(encoding="utf-8"),
            teams.app_id,
            teams.tenant_id,
        )
    else:
        credentials = ConfigurationServiceClientCredentialFactory(config)
    authentication = ConfigurationBotFrameworkAuthentication(
        config, credentials_factory=OffLoopTokens(credentials, teams.token_timeout)
    )
    adapter = RetryingCloudAdapter(authentication, teams.connector_retry)
    if teams.app_id:
        web_app.cleanup_ctx.append(
            _signing_keys_kept_fresh(
                teams.openid_metadata_url
                or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
            )
        )
    web_app[TEAMS_OUTBOX] = TeamsOutbox(adapter=adapter, store=store, app_id=teams.app_id)

    async def messages(request: web.Request) -> web.StreamResponse:
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.json_response({"error": "expected application/json"}, status=415)
        try:
            activity = Activity().deserialize(await request.json())
        except Exception:
            return web.json_response({"error": "the body is not an activity"}, status=400)
        if teams.app_id:
            header = request.headers.get("Authorization", "")
            try:
                await authentication.authenticate_request(activity, header)
            except Exception as exc:  # missing, malformed, forged, expired: all one to a caller
                log.warning(
                    "Teams request refused: its token did not validate (%s)", type(exc).__name__
                )
                log.debug("token validation failed", exc_info=True)
                return web.json_response({"error": "unauthorized"}, status=401)
        if not activity.type:
            return web.json_response({"error": "the body is not an activity"}, status=400)
        if not teams.app_id and not is_loopback(
            urlsplit(activity.service_url or "").hostname or ""
        ):
            # Unauthenticated, a reply would go wherever the request said (security review
            # L7: a server-side request to any address): the local emulator only.
            return web.json_response(
                {"error": "TEAMS_DEV_ANONYMOUS answers only a serviceUrl on this machine"},
                status=400,
            )
        # Not `adapter.process`: in botbuilder 4.17.1 it serializes an invoke's body a second
        # time, and the body ActivityHandler hands back is already a dict, so every
        # `Action.Execute` click would be a 500.
        try:
            invoke = await adapter.process_activity(
                request.headers.get("Authorization", ""), activity, bot.on_turn
            )
        except PermissionError:
            return web.json_response({"error": "unauthorized"}, status=401)
        except TokenUnavailable:
            # Nothing was answered: Teams delivers the activity again after a 5xx.
            return web.json_response(
                {"error": "the Teams login endpoint is not answering"}, status=503
            )
        if invoke is None:
            return web.Response(status=201)
        body = invoke.body if not isinstance(invoke.body, Model) else serializer_helper(invoke.body)
        return web.json_response(body, status=invoke.status)

    web_app.router.add_post(TEAMS_MESSAGES_PATH, messages)
