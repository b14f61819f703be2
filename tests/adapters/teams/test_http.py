"""Teams over HTTP: the real server with the captured activities against a local fake Bot
Connector (an aiohttp server on a free port standing in for `serviceUrl`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from botbuilder.schema import Activity, ActivityTypes

from adapters.config import Settings
from adapters.server import build_app
from adapters.teams.connector import ConnectorRetry
from adapters.teams.courier import TeamsChannel, UnknownConversationError
from adapters.teams.mount import (
    TEAMS_OUTBOX,
    TeamsConfigError,
    TeamsSettings,
    teams_from_environment,
)
from bot.escalation.delivery import RetryLater
from bot.escalation.model import Delivery
from tests.adapters.cli.invoke import run
from tests.adapters.teams.fake_connector import FakeConnector
from tests.bot.escalation.case_fixtures import alert_notice
from tests.conftest import captured_payload, shipped_assistant


def fixture(name: str) -> dict[str, Any]:
    return captured_payload("teams", name)


async def _server(tmp_path: Path, teams: TeamsSettings) -> TestServer:
    settings = Settings(
        default_org="derbyshire", database_url=f"sqlite+aiosqlite:///{tmp_path / 't.sqlite3'}"
    )
    server = TestServer(
        build_app(settings=settings, assistant=shipped_assistant(), teams=teams), host="127.0.0.1"
    )
    await server.start_server()
    return server


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    await fake.start()
    yield fake
    assert fake.server is not None
    await fake.server.close()


async def post(server: TestServer, body: dict[str, Any], **headers: str) -> int:
    async with (
        ClientSession() as http,
        http.post(server.make_url("/api/messages"), json=body, headers=headers) as response,
    ):
        return response.status


async def test_a_personal_question_gets_a_card_with_the_verbatim_quote(
    tmp_path: Path, connector: FakeConnector
) -> None:
    server = await _server(
        tmp_path, TeamsSettings(app_id=None, app_password=None, dev_anonymous=True)
    )
    try:
        message = fixture("message_personal.json")
        message["serviceUrl"] = str(connector.server.make_url("/")) if connector.server else ""
        message["text"] = "can I accept a friend request from a service user?"
        message["attachments"] = []
        assert await post(server, message) in (200, 201)
        ((path, reply),) = await connector.wait()
        assert path.startswith("/v3/conversations/")
        card = reply["attachments"][0]["content"]
        assert card["version"] == "1.5" and "friend" in json.dumps(card).lower()
        # Re-delivered with the same activity id: no second reply.
        assert await post(server, message) in (200, 201)
        await asyncio.sleep(0.3)
        assert len(connector.posted) == 1
    finally:
        await server.close()


async def test_a_channel_mention_gets_a_threaded_reply_without_the_mention(
    tmp_path: Path, connector: FakeConnector
) -> None:
    server = await _server(
        tmp_path, TeamsSettings(app_id=None, app_password=None, dev_anonymous=True)
    )
    try:
        message = fixture("message_channel_mention.json")
        message["serviceUrl"] = str(connector.server.make_url("/")) if connector.server else ""
        assert await post(server, message) in (200, 201)
        ((path, reply),) = await connector.wait()
        # The reply goes into the message's thread: the conversation id carries ;messageid=.
        assert "messageid" in path.replace("%3B", ";")
        assert reply["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    finally:
        await server.close()


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic abc", "Bearer a.b.c"])
async def test_unsigned_or_malformed_requests_get_401_when_an_app_id_is_set(
    tmp_path: Path, connector: FakeConnector, authorization: str | None
) -> None:
    teams = TeamsSettings(
        app_id="00000000-0000-0000-0000-000000000001",
        app_password="secret",
        tenant_id="00000000-0000-0000-0000-000000000002",
    )
    server = await _server(tmp_path, teams)
    try:
        message = fixture("message_personal.json")
        message["serviceUrl"] = str(connector.server.make_url("/")) if connector.server else ""
        headers = {"Authorization": authorization} if authorization else {}
        assert await post(server, message, **headers) == 401
        assert connector.posted == []
    finally:
        await server.close()


@pytest.mark.parametrize(
    ("failures", "attempts", "delivered"),
    [
        ([(429, {"Retry-After": "0"}), (429, {"Retry-After": "0"})], 3, True),
        ([(503, {}), (500, {})], 3, True),
        ([(502, {})] * 5, 3, False),  # gives up after the third attempt
        ([(403, {})], 1, False),  # not transient: never retried
    ],
    ids=["throttled", "server-errors", "gives-up", "forbidden"],
)
async def test_throttling_and_server_errors_from_the_connector_are_retried(
    tmp_path: Path,
    connector: FakeConnector,
    failures: list[tuple[int, dict[str, str]]],
    attempts: int,
    delivered: bool,
) -> None:
    retry = ConnectorRetry(attempts=3, first_wait=0.01, max_wait=0.05)
    server = await _server(
        tmp_path,
        TeamsSettings(app_id=None, app_password=None, dev_anonymous=True, connector_retry=retry),
    )
    connector.failures = list(failures)
    try:
        message = fixture("message_personal.json")
        message["serviceUrl"] = str(connector.server.make_url("/")) if connector.server else ""
        message["text"] = "can I use Facebook at lunch?"
        message["attachments"] = []
        await post(server, message)
        for _ in range(100):
            if connector.attempts >= attempts:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
        assert connector.attempts == attempts
        assert len(connector.posted) == (1 if delivered else 0)
    finally:
        await server.close()


def test_no_app_id_is_refused_unless_dev_anonymous_is_explicit() -> None:
    assert teams_from_environment({}) is None
    anonymous = teams_from_environment({"TEAMS_DEV_ANONYMOUS": "1"})
    assert anonymous is not None and anonymous.dev_anonymous
    with pytest.raises(TeamsConfigError, match="MicrosoftAppPassword"):
        teams_from_environment({"MicrosoftAppId": "x"})
    with pytest.raises(TeamsConfigError, match="MicrosoftAppCertificateKeyFile"):
        teams_from_environment(
            {
                "MicrosoftAppId": "x",
                "MicrosoftAppTenantId": "t",
                "MicrosoftAppCertificateThumbprint": "AB12",
                "MicrosoftAppCertificateKeyFile": "/nonexistent/key.pem",
            }
        )
    with pytest.raises(TeamsConfigError, match="MicrosoftAppTenantId"):
        teams_from_environment({"MicrosoftAppId": "x", "MicrosoftAppPassword": "p"})
    settings = Settings(database_url="sqlite+aiosqlite:///:memory:")
    with pytest.raises(TeamsConfigError, match="TEAMS_DEV_ANONYMOUS"):
        build_app(
            settings=settings,
            assistant=shipped_assistant(),
            teams=TeamsSettings(app_id=None, app_password=None),
        )


async def test_an_install_stores_a_reference_that_a_proactive_send_then_uses(
    tmp_path: Path, connector: FakeConnector
) -> None:
    server = await _server(
        tmp_path, TeamsSettings(app_id=None, app_password=None, dev_anonymous=True)
    )
    try:
        installed = fixture("conversation_update_bot_added_team.json")
        installed["serviceUrl"] = str(connector.server.make_url("/")) if connector.server else ""
        assert await post(server, installed) in (200, 201)
        assert connector.posted == []  # nothing said in the team on install
        assert server.app is not None
        outbox = server.app[TEAMS_OUTBOX]
        message_id = await outbox.post(
            installed["conversation"]["id"],
            Activity(type=ActivityTypes.message, text="A new incident was reported."),
        )
        assert message_id == connector.message_id(1)  # the connector's id for the message
        ((path, activity),) = await connector.wait()
        assert installed["conversation"]["id"] in path.replace("%3A", ":").replace("%40", "@")
        assert activity["text"] == "A new incident was reported."
        with pytest.raises(UnknownConversationError):
            await outbox.post("19:unknown@thread.tacv2", Activity(type="message"))
    finally:
        await server.close()


async def test_teams_still_throttling_says_how_long_to_wait(
    tmp_path: Path, connector: FakeConnector
) -> None:
    """A 429 the connector's own retries did not outlast: the outbox is told the connector's
    Retry-After, and does not try again sooner."""
    retry = ConnectorRetry(attempts=2, first_wait=0.01, max_wait=0.05)
    server = await _server(
        tmp_path,
        TeamsSettings(app_id=None, app_password=None, dev_anonymous=True, connector_retry=retry),
    )
    try:
        installed = fixture("conversation_update_bot_added_team.json")
        installed["serviceUrl"] = str(connector.server.make_url("/")) if connector.server else ""
        assert await post(server, installed) in (200, 201)
        assert server.app is not None
        channel = TeamsChannel(server.app[TEAMS_OUTBOX])
        connector.failures = [(429, {"Retry-After": "90"})] * 2
        alert = Delivery(
            id="out-1",
            platform="teams",
            address=installed["conversation"]["id"],
            notice=alert_notice(),
            attempts=1,
        )
        with pytest.raises(RetryLater) as asked:
            await channel.send(alert)
        assert asked.value.seconds == 90.0
        assert await channel.send(alert) == connector.message_id(1)
    finally:
        await server.close()


async def test_without_authentication_replies_go_only_to_this_machine(
    tmp_path: Path, connector: FakeConnector
) -> None:
    """Security review L7: with TEAMS_DEV_ANONYMOUS=1 a reply went to whatever serviceUrl the
    request named: a request from the server to any address."""
    server = await _server(
        tmp_path, TeamsSettings(app_id=None, app_password=None, dev_anonymous=True)
    )
    try:
        message = fixture("message_personal.json")
        message["serviceUrl"] = "http://169.254.169.254/latest/"
        assert await post(server, message) == 400
        await asyncio.sleep(0.2)
        assert connector.attempts == 0
    finally:
        await server.close()


def test_serve_refuses_anonymous_teams_beyond_this_machine() -> None:
    refused = run("serve", "--host", "0.0.0.0", env={"TEAMS_DEV_ANONYMOUS": "1"})
    assert refused.returncode == 2 and b"local emulator" in refused.stderr
