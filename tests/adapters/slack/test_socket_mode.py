"""Socket Mode: the server opens a websocket to a local fake Socket Mode endpoint on startup,
acknowledges the envelope it receives, and answers through the (fake) Web API."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from aiohttp.test_utils import TestServer

from adapters.config import Settings
from adapters.server import build_app
from adapters.slack.mount import SlackSettings, slack_from_environment
from tests.conftest import shipped_assistant
from tests.fakes.slack_web_api import FakeSlack


async def test_socket_mode_answers_an_event_and_acknowledges_it(tmp_path: Path) -> None:
    fake = FakeSlack()
    fake.envelopes.append(
        {
            "envelope_id": "env-1",
            "type": "events_api",
            "accepts_response_payload": False,
            "payload": {
                "type": "event_callback",
                "team_id": "T1",
                "event_id": "EvSocket1",
                "event": {
                    "type": "message",
                    "channel_type": "im",
                    "channel": "D1",
                    "user": "U1",
                    "text": "can I accept a friend request from a service user?",
                    "ts": "1.1",
                },
            },
        }
    )
    await fake.start()
    assert fake.server is not None
    slack = SlackSettings(
        bot_token="xoxb-test", app_token="xapp-test", api_url=str(fake.server.make_url("/api/"))
    )
    settings = Settings(
        default_org="derbyshire", database_url=f"sqlite+aiosqlite:///{tmp_path / 's.sqlite3'}"
    )
    server = TestServer(build_app(settings=settings, assistant=shipped_assistant(), slack=slack))
    await server.start_server()
    try:
        (call,) = await fake.wait_for("chat.postMessage")
        assert call.args["channel"] == "D1" and "friend" in json.dumps(call.args["blocks"])
        for _ in range(100):
            if fake.acks:
                break
            await asyncio.sleep(0.05)
        assert fake.acks[0]["envelope_id"] == "env-1"
        assert fake.methods("apps.connections.open")
    finally:
        await server.close()
        await fake.close()


def test_slack_is_on_only_with_a_token_and_a_way_in() -> None:
    assert slack_from_environment({}) is None
    assert slack_from_environment({"SLACK_BOT_TOKEN": "xoxb"}) is None
    http = slack_from_environment({"SLACK_BOT_TOKEN": "xoxb", "SLACK_SIGNING_SECRET": "s"})
    assert http is not None and http.app_token is None
    socket = slack_from_environment({"SLACK_BOT_TOKEN": "xoxb", "SLACK_APP_TOKEN": "xapp"})
    assert socket is not None and socket.app_token == "xapp"
    assert "xoxb" not in repr(socket) and "xapp" not in repr(socket)
