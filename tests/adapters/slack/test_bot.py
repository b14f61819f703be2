"""The real server with Slack mounted, against a local fake Web API, with correctly signed
requests built from the captured payloads in ../shared/fixtures/slack/."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from adapters.config import Settings
from adapters.slack.install import BOT_SCOPES
from tests.adapters.slack.chat import SECRET, slack_server
from tests.conftest import captured_payload
from tests.fakes.slack_web_api import FakeSlack, signed_headers


def fixture(name: str) -> dict[str, Any]:
    return captured_payload("slack", name)


def signed(body: bytes, *, secret: str = SECRET, age: int = 0, **extra: str) -> dict[str, str]:
    return {**signed_headers(secret, body, age=age), **extra}


@pytest.fixture
async def server(tmp_path: Path, fake: FakeSlack) -> AsyncIterator[TestServer]:
    settings = Settings(
        default_org="derbyshire",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'slack.sqlite3'}",
    )
    async with slack_server(settings, fake) as test_server:
        yield test_server


async def post_event(server: TestServer, payload: dict[str, Any], **headers: str) -> int:
    body = json.dumps(payload).encode()
    async with (
        ClientSession() as http,
        http.post(
            server.make_url("/slack/events"),
            data=body,
            headers={"Content-Type": "application/json", **signed(body), **headers},
        ) as response,
    ):
        return response.status


async def post_form(server: TestServer, body: bytes) -> tuple[int, Any]:
    """A signed form post, as slash commands and interactions arrive; the status and JSON body."""
    async with (
        ClientSession() as http,
        http.post(
            server.make_url("/slack/events"),
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", **signed(body)},
        ) as response,
    ):
        is_json = response.content_type == "application/json"
        return response.status, (await response.json() if is_json else None)


def im(text: str, event_id: str = "Ev1") -> dict[str, Any]:
    payload = fixture("event_message_im.json")
    payload["event"]["text"] = text
    payload["event_id"] = event_id
    return payload


async def test_a_dm_is_answered_with_the_verbatim_quote(
    server: TestServer, fake: FakeSlack
) -> None:
    assert await post_event(server, im("can I friend a service user?")) == 200
    (call,) = await fake.wait_for("chat.postMessage")
    assert call.args["channel"] == "D024BE91L"
    assert "friend" in json.dumps(call.args["blocks"])
    assert call.args["text"]


async def test_a_mention_is_answered_in_its_thread(server: TestServer, fake: FakeSlack) -> None:
    payload = fixture("event_app_mention.json")
    payload["event"]["text"] = "<@U0LAN0Z89> can I post photos of my colleagues?"
    payload["event_id"] = "EvMention"
    assert await post_event(server, payload) == 200
    (call,) = await fake.wait_for("chat.postMessage")
    assert call.args["thread_ts"] == "1515449522.000016"


async def test_a_retry_with_the_same_event_id_posts_nothing_new(
    server: TestServer, fake: FakeSlack
) -> None:
    assert await post_event(server, im("can I go on facebook at lunch?", "EvRetry")) == 200
    await fake.wait_for("chat.postMessage")
    retry = await post_event(
        server,
        im("can I go on facebook at lunch?", "EvRetry"),
        **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert retry == 200
    # A retry of an event whose first delivery never arrived is still answered.
    assert (
        await post_event(server, im("what about twitter?", "EvLost"), **{"X-Slack-Retry-Num": "2"})
        == 200
    )
    await fake.wait_for("chat.postMessage", 2)
    await asyncio.sleep(0.3)  # time for a wrongly answered retry to show up
    assert len(fake.methods("chat.postMessage")) == 2


@pytest.mark.parametrize(("secret", "age"), [("forged-secret", 0), (SECRET, 301)])
async def test_forged_or_stale_signatures_get_401(
    server: TestServer, fake: FakeSlack, secret: str, age: int
) -> None:
    body = json.dumps(im("hello", "EvBad")).encode()
    async with (
        ClientSession() as http,
        http.post(
            server.make_url("/slack/events"),
            data=body,
            headers={"Content-Type": "application/json", **signed(body, secret=secret, age=age)},
        ) as response,
    ):
        assert response.status == 401
    assert fake.methods("chat.postMessage") == []


async def test_user_text_is_posted_escaped(server: TestServer, fake: FakeSlack) -> None:
    assert await post_event(server, im("<!channel> hello", "EvEscape")) == 200
    (call,) = await fake.wait_for("chat.postMessage")
    posted = json.dumps(call.args)
    assert "<!channel>" not in posted


async def test_a_429_is_retried_after_retry_after(server: TestServer, fake: FakeSlack) -> None:
    fake.rate_limit_next = 1
    assert await post_event(server, im("can I use facebook at work?", "Ev429")) == 200
    await fake.wait_for("chat.postMessage", timeout=10)
    assert [c.method for c in fake.calls if c.method.startswith("chat.postMessage")] == [
        "chat.postMessage:429",
        "chat.postMessage",
    ]


async def test_slash_command_answers_ephemerally(server: TestServer) -> None:
    body = urlencode(
        {
            "command": "/policy",
            "text": "can I friend a service user",
            "team_id": "T1",
            "user_id": "U1",
            "channel_id": "C1",
            "response_url": "http://127.0.0.1:9/none",
            "trigger_id": "1.2.3",
        }
    ).encode()
    status, reply = await post_form(server, body)
    assert status == 200
    assert reply["response_type"] == "ephemeral"
    assert "friend" in json.dumps(reply["blocks"])


async def test_a_clarify_button_answers_in_place(server: TestServer, fake: FakeSlack) -> None:
    assert fake.server is not None
    payload = fixture("interaction_block_actions.json")
    payload["actions"] = [
        {
            "type": "button",
            "action_id": "clarify_0",
            "block_id": "b",
            "value": json.dumps({"org": "derbyshire", "clause": "friend-requests-service-users"}),
            "action_ts": "1.2",
        }
    ]
    payload["response_url"] = str(fake.server.make_url("/respond"))
    body = urlencode({"payload": json.dumps(payload)}).encode()
    status, _ = await post_form(server, body)
    assert status == 200
    (call,) = await fake.wait_for("response_url")
    assert call.args["replace_original"] is True
    assert "friend requests" in json.dumps(call.args["blocks"])


def test_the_manifest_asks_for_exactly_what_the_bot_uses() -> None:
    import yaml

    manifest = yaml.safe_load(
        (Path(__file__).parents[3] / "deploy/slack/manifest.yaml").read_text()
    )
    # The same scopes the OAuth install asks for (adapters/slack/install.py).
    assert tuple(manifest["oauth_config"]["scopes"]["bot"]) == BOT_SCOPES
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_home_opened",
        "app_mention",
        "message.im",
    }
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/policy"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    urls = [
        manifest["settings"]["event_subscriptions"]["request_url"],
        manifest["settings"]["interactivity"]["request_url"],
        manifest["features"]["slash_commands"][0]["url"],
    ]
    assert all(url.endswith("/slack/events") for url in urls)


async def test_app_home_shows_examples_for_the_council(server: TestServer, fake: FakeSlack) -> None:
    payload = {
        "type": "event_callback",
        "team_id": "T061EG9R6",
        "event_id": "EvHome",
        "event": {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"},
    }
    assert await post_event(server, payload) == 200
    (call,) = await fake.wait_for("views.publish")
    view = (
        call.args["view"] if isinstance(call.args["view"], dict) else json.loads(call.args["view"])
    )
    shown = json.dumps(view)
    assert view["type"] == "home"
    assert "Derbyshire County Council" in shown and "Try asking" in shown
    assert "/policy" in shown and "To report a problem" in shown


@pytest.mark.parametrize("body", [b"[1, 2, 3]", b"42", b"null", b"\xff\xfe", b"{bad", b""])
async def test_what_is_not_a_slack_request_gets_a_4xx_never_a_500(
    server: TestServer, body: bytes
) -> None:
    """Security review L1: Bolt parsed the body before checking the signature, so any body
    that was not Slack's JSON was a 500 with a traceback."""
    url = server.make_url("/slack/events")
    plain = {"Content-Type": "application/json"}
    stale_clock = {**plain, "X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"}
    async with ClientSession() as http:
        for headers in (plain, stale_clock):
            async with http.post(url, data=body, headers=headers) as response:
                assert response.status == 401, await response.text()
        # Signed, yet not a payload (only Slack could send it): refused, never a 500.
        async with http.post(url, data=body, headers={**plain, **signed(body)}) as response:
            assert 400 <= response.status < 500, await response.text()


async def test_a_dm_asked_while_slack_is_failing_is_answered_after_it(
    tmp_path: Path, fake: FakeSlack
) -> None:
    """Security review L3: the event was claimed and acknowledged, the answer refused by a
    failing Web API, and nothing ever answered it."""
    settings = Settings(
        default_org="derbyshire", database_url=f"sqlite+aiosqlite:///{tmp_path / 'l3.sqlite3'}"
    )
    async with slack_server(settings, fake, reply_waits=(0.05,) * 10) as server:
        fake.failing_posts = 4  # the Web API's client retries a 500 once itself
        assert await post_event(server, im("can I friend a service user?")) == 200
        (answer,) = await fake.wait_for("chat.postMessage")
    assert len(fake.methods("chat.postMessage:500")) == 4
    assert answer.args["channel"] == "D024BE91L" and "friend" in json.dumps(answer.args).lower()
