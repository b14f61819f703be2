"""Many councils' Slack workspaces on one server, installed through Slack's OAuth flow against
the fake Web API (its oauth.v2.access): each workspace maps to the council its install link was
made for, and is answered from that council's policy with its own token (issue 15)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from adapters.config import Settings
from adapters.server import build_app
from adapters.slack.install import BOT_SCOPES
from adapters.slack.mount import SlackSettings
from adapters.web.http import SERVICES
from tests.adapters.cli.invoke import run
from tests.adapters.slack.chat import SECRET
from tests.conftest import shipped_assistant
from tests.fakes.slack_web_api import OAUTH_CLIENT_SECRET, FakeSlack, signed_headers

CONSENT = "https://slack.test/oauth/v2/authorize"


@pytest.fixture
async def server(tmp_path: Path, fake: FakeSlack) -> AsyncIterator[TestServer]:
    assert fake.server is not None
    settings = Settings.model_validate(
        {
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'install.sqlite3'}",
            "escalations": {"derbyshire": {"hr": {"slack_channel": "C0DERBYHR"}}},
        }
    )
    slack = SlackSettings(
        bot_token="",
        signing_secret=SECRET,
        client_id="1234.5678",
        client_secret=OAUTH_CLIENT_SECRET,
        oauth_url=CONSENT,
        api_url=str(fake.server.make_url("/api/")),
    )
    test_server = TestServer(
        build_app(settings=settings, assistant=shipped_assistant(), slack=slack),
        host="127.0.0.1",
    )
    await test_server.start_server()
    yield test_server
    await test_server.close()


async def install(server: TestServer, org: str, code: str) -> tuple[int, str]:
    """IT makes the link; the person opens it, consents at Slack, and comes back."""
    assert server.app is not None
    store = server.app[SERVICES].store
    state = await store.start_install(platform="slack", org=org, seconds=60)
    async with ClientSession() as http:
        async with http.get(
            server.make_url("/slack/install"), params={"state": state}, allow_redirects=False
        ) as to_slack:
            assert to_slack.status == 302
            consent = urlsplit(to_slack.headers["Location"])
        asked = parse_qs(consent.query)
        assert f"{consent.scheme}://{consent.netloc}{consent.path}" == CONSENT
        assert asked["state"] == [state] and asked["client_id"] == ["1234.5678"]
        assert asked["scope"] == [",".join(BOT_SCOPES)]
        back = server.make_url("/slack/oauth_redirect")
        async with http.get(back, params={"code": code, "state": state}) as landed:
            return landed.status, await landed.text()


def dm(team: str, text: str, number: int) -> bytes:
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": f"D{team}",
        "user": f"U{team}",
        "text": text,
        "ts": f"{number}.000100",
    }
    payload = {"type": "event_callback", "team_id": team, "event_id": f"Ev{team}{number}"}
    return json.dumps({**payload, "event": event}).encode()


async def post_event(server: TestServer, body: bytes) -> int:
    headers = {"Content-Type": "application/json", **signed_headers(SECRET, body)}
    async with (
        ClientSession() as http,
        http.post(server.make_url("/slack/events"), data=body, headers=headers) as response,
    ):
        return response.status


async def test_two_workspaces_each_answered_from_their_own_council_with_their_own_token(
    server: TestServer, fake: FakeSlack
) -> None:
    fake.installs = {"code-1": ("T0DERBY", "xoxb-derby"), "code-2": ("T0WILTS", "xoxb-wilts")}
    status, page = await install(server, "derbyshire", "code-1")
    assert status == 200 and "installed in Workspace T0DERBY for Derbyshire County Council" in page
    status, page = await install(server, "wiltshire", "code-2")
    assert status == 200 and "for Wiltshire Council" in page

    for number, team in enumerate(("T0DERBY", "T0WILTS")):
        assert await post_event(server, dm(team, "can I friend a service user?", number)) == 200
    answers = await fake.wait_for("chat.postMessage", 2)
    by_channel = {call.args["channel"]: call for call in answers}
    derby, wilts = by_channel["DT0DERBY"], by_channel["DT0WILTS"]
    assert derby.token == "xoxb-derby" and wilts.token == "xoxb-wilts"
    assert "Derbyshire County Council" in json.dumps(derby.args["blocks"])
    assert "Wiltshire Council" in json.dumps(wilts.args["blocks"])


async def test_an_alert_goes_out_with_the_token_of_the_councils_workspace(
    server: TestServer, fake: FakeSlack
) -> None:
    fake.installs = {"code-1": ("T0DERBY", "xoxb-derby")}
    await install(server, "derbyshire", "code-1")
    report: dict[str, Any] = {
        "org": "derbyshire",
        "kind": "bullying",
        "what": "Someone is posting about a colleague",
        "reporter": {"name": "Sam"},
    }
    async with (
        ClientSession() as http,
        http.post(server.make_url("/api/escalations"), json=report) as filed,
    ):
        assert filed.status == 201
    (alert,) = await fake.wait_for_post("C0DERBYHR")
    (posted,) = [c for c in fake.methods("chat.postMessage") if c.args["channel"] == "C0DERBYHR"]
    assert posted.token == "xoxb-derby"
    assert alert.text


async def test_a_link_works_once_and_an_uninstalled_workspace_is_not_answered(
    server: TestServer, fake: FakeSlack
) -> None:
    assert server.app is not None
    fake.installs = {"code-1": ("T0DERBY", "xoxb-derby")}
    store = server.app[SERVICES].store
    state = await store.start_install(platform="slack", org="derbyshire", seconds=60)
    back = server.make_url("/slack/oauth_redirect")
    async with ClientSession() as http:
        async with http.get(back, params={"code": "code-1", "state": state}) as first:
            assert first.status == 200
        async with http.get(back, params={"code": "code-1", "state": state}) as again:
            assert again.status == 400
        async with http.get(back, params={"code": "code-1", "state": "forged"}) as forged:
            assert forged.status == 400
    await post_event(server, dm("T0NOBODY", "can I friend a service user?", 9))
    assert fake.methods("chat.postMessage") == []


def test_it_makes_a_one_time_install_link_for_a_known_council(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'link.sqlite3'}", "POLICYBOT_CONFIG": None}
    made = run("slack-install", "--org", "derbyshire", env=env)
    assert made.returncode == 0, made.stderr
    link = urlsplit(made.stdout.decode().strip())
    assert link.path == "/slack/install" and len(parse_qs(link.query)["state"][0]) >= 32
    assert b"Derbyshire County Council" in made.stderr
    unknown = run("slack-install", "--org", "atlantis", env=env)
    assert unknown.returncode == 2 and b"unknown council" in unknown.stderr
