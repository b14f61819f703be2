"""The whole server (`build_app`): the web chat, Slack and Teams on one application, counted in
one set of metrics with the escalation pipeline behind them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families

from adapters.config import Settings
from adapters.server import build_app
from adapters.slack.mount import SlackSettings
from adapters.teams.mount import TeamsSettings
from tests.adapters.teams.fake_connector import FakeConnector
from tests.conftest import captured_payload, shipped_assistant
from tests.fakes.slack_web_api import FakeSlack, signed_headers
from tests.fakes.smtp import Mailbox

SECRET = "test-signing-secret"


def metric(exposed: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format (0 when it is not there)."""
    for family in text_string_to_metric_families(exposed):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


async def test_metrics_count_every_platforms_questions_and_the_pipeline(
    tmp_path: Path, desks_by_email: dict[str, Any], mailbox: Mailbox
) -> None:
    slack_api, connector = FakeSlack(), FakeConnector()
    await slack_api.start()
    await connector.start()
    assert slack_api.server is not None and connector.server is not None
    settings = Settings(
        default_org="derbyshire",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'all.sqlite3'}",
        **desks_by_email,
    )
    app = build_app(
        settings=settings,
        assistant=shipped_assistant(),
        slack=SlackSettings(
            signing_secret=SECRET,
            bot_token="xoxb-test",
            api_url=str(slack_api.server.make_url("/api/")),
        ),
        teams=TeamsSettings(app_id=None, app_password=None, dev_anonymous=True),
    )
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with ClientSession() as http:
            question = {"org": "derbyshire", "question": "can I friend a service user?"}
            async with http.post(server.make_url("/api/ask"), json=question) as asked:
                assert asked.status == 200
            dm = captured_payload("slack", "event_message_im.json")
            dm["event"]["text"] = "can I friend a service user?"
            body = json.dumps(dm).encode()
            headers = {"Content-Type": "application/json", **signed_headers(SECRET, body)}
            async with http.post(server.make_url("/slack/events"), data=body, headers=headers):
                pass
            await slack_api.wait_for("chat.postMessage")
            message = captured_payload("teams", "message_personal.json")
            message["serviceUrl"] = str(connector.server.make_url("/"))
            message["text"] = "can I friend a service user?"
            message["attachments"] = []
            async with http.post(server.make_url("/api/messages"), json=message):
                pass
            await connector.wait()
            report = {
                "org": "derbyshire",
                "kind": "bullying",
                "what": "Someone is posting about a colleague",
                "reporter": {"name": "Sam"},
            }
            async with http.post(server.make_url("/api/escalations"), json=report) as filed:
                assert filed.status == 201
            for _ in range(100):  # the worker mails the alert
                if mailbox.received:
                    break
                await asyncio.sleep(0.05)
            async with http.get(server.make_url("/metrics")) as scraped:
                exposed = await scraped.text()
    finally:
        await server.close()
        await slack_api.close()
        await connector.server.close()
    for platform in ("web", "slack", "teams"):
        counted = metric(
            exposed, "policybot_questions_total", platform=platform, org="derbyshire", kind="answer"
        )
        assert counted == 1, platform
    assert metric(exposed, "policybot_outbox_rows", state="sent") == 1
    assert metric(exposed, "policybot_outbox_rows", state="dead") == 0
    assert metric(exposed, "policybot_outbox_oldest_undelivered_seconds") == 0
    sent = {"org": "derbyshire", "route": "hr", "platform": "email", "result": "sent"}
    assert metric(exposed, "policybot_deliveries_total", **sent) == 1
