"""Both log formats carry the facts passed as `extra`, and nothing a person wrote reaches the
log, whatever a library does."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlencode

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from adapters.config import Settings
from adapters.logs import CHATTY_LIBRARIES, JsonFormatter, ReadableFormatter, configure
from adapters.server import build_app
from adapters.slack.mount import SlackSettings
from adapters.teams.mount import TeamsSettings
from tests.adapters.slack.chat import SECRET, TEAM, report_submission, slack_server
from tests.adapters.teams.fake_connector import FakeConnector
from tests.conftest import captured_payload, shipped_assistant
from tests.fakes.slack_web_api import FakeSlack, signed_headers
from tests.fakes.smtp import Mailbox


def _record() -> logging.LogRecord:
    record = logging.LogRecord("policybot.web", logging.INFO, __file__, 1, "answered", None, None)
    record.org = "derbyshire"
    record.ms = 1.5
    return record


def test_json_lines_are_one_object_with_the_extras() -> None:
    line = JsonFormatter().format(_record())
    entry = json.loads(line)
    assert entry["message"] == "answered" and entry["org"] == "derbyshire" and entry["ms"] == 1.5
    assert entry["level"] == "info" and "\n" not in line


def test_readable_lines_show_the_extras() -> None:
    assert "answered org=derbyshire ms=1.5" in ReadableFormatter().format(_record())


def test_readable_lines_cannot_be_forged_by_what_they_quote() -> None:
    record = _record()
    record.msg = "answered\n12:00:00 ERROR admin signed in\x1b[2J"
    line = ReadableFormatter().format(record)
    assert "\n" not in line and "\x1b" not in line
    assert "answered\\x0a12:00:00 ERROR admin signed in\\x1b[2J" in line


CANARY_NAME = "Zebediah Quillfeather"
CANARY_PHONE = "07700 900461"


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """What the server's own log configuration writes, restored afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in CHATTY_LIBRARIES}
    yield io.StringIO()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, held in levels.items():
        logging.getLogger(name).setLevel(held)


@pytest.mark.parametrize("level", [logging.INFO, logging.DEBUG])
async def test_slack_requests_that_fail_verification_leave_no_personal_data_in_the_log(
    tmp_path: Path, logged: io.StringIO, level: int
) -> None:
    """Security review H1: with a wrong signing secret or a skewed clock, Bolt logged the whole
    body of every request it refused: questions, and reports with names and phone numbers."""
    configure(json_lines=False, level=level, stream=logged)
    report = {
        "type": "view_submission",
        "team": {"id": TEAM},
        "user": {"id": "U1"},
        "view": {
            "id": "V1",
            "callback_id": "case_report",
            "private_metadata": json.dumps({"org": "wiltshire"}),
            "state": {
                "values": {
                    "what": {"value": {"value": f"{CANARY_NAME} harassed a colleague"}},
                    "reporter_phone": {"value": {"value": CANARY_PHONE}},
                }
            },
        },
    }
    form = urlencode({"payload": json.dumps(report)}).encode()
    question = json.dumps(
        {
            "type": "event_callback",
            "team_id": TEAM,
            "event_id": "EvCanary",
            "event": {
                "type": "message",
                "channel_type": "im",
                "user": "U1",
                "text": f"my name is {CANARY_NAME}, call me on {CANARY_PHONE}",
            },
        }
    ).encode()
    fake = FakeSlack()
    await fake.start()
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'logs.sqlite3'}")
    try:
        async with slack_server(settings, fake) as server, ClientSession() as http:
            for body, kind in (
                (form, "application/x-www-form-urlencoded"),
                (question, "application/json"),
            ):
                for headers in (
                    signed_headers("the-wrong-secret", body),
                    signed_headers(SECRET, body, age=600),
                ):
                    async with http.post(
                        server.make_url("/slack/events"),
                        data=body,
                        headers={"Content-Type": kind, **headers},
                    ) as response:
                        assert response.status == 401
    finally:
        await fake.close()
    written = logged.getvalue()
    for canary in (CANARY_NAME, CANARY_PHONE):
        assert canary not in written and quote_plus(canary) not in written, written


@pytest.mark.parametrize("level", [logging.INFO, logging.DEBUG])
async def test_a_request_that_cannot_be_parsed_is_logged_without_its_bytes(
    tmp_path: Path, logged: io.StringIO, level: int
) -> None:
    """Security review L4: aiohttp quoted the offending request line or header in its log."""
    configure(json_lines=True, level=level, stream=logged)
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'logs.sqlite3'}")
    server = TestServer(build_app(settings=settings, assistant=shipped_assistant()))
    await server.start_server()
    try:
        for raw in (
            f"POST /api/escalations HTTP/1.1\r\nX-Reporter: {CANARY_NAME}\x01\r\n\r\n",
            f"{CANARY_NAME.upper()} /api/ask HTTP/1.1\r\n\r\n",
            f"POST /api/ask HTTP/1.1\r\nContent-Length: {CANARY_PHONE}\r\n\r\n",
        ):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(raw.encode())
            await writer.drain()
            assert (await reader.read(12)).startswith(b"HTTP/1.0 400")
            writer.close()
            await writer.wait_closed()
    finally:
        await server.close()
    lines = [json.loads(line) for line in logged.getvalue().splitlines()]
    refused = [line for line in lines if line["message"].startswith("malformed HTTP request")]
    # aiohttp logs a bad method at DEBUG, the others at ERROR: each is now one warning line.
    assert len(refused) == (3 if level == logging.DEBUG else 2)
    assert all(line["level"] == "warning" and "error" not in line for line in refused)
    written = logged.getvalue()
    for canary in (CANARY_NAME, CANARY_NAME.upper(), CANARY_PHONE):
        assert canary not in written, written


CANARY_EMAIL = "zebediah.q@canary.example"


@pytest.mark.parametrize("level", [logging.INFO, logging.DEBUG])
async def test_canary_data_through_every_path_reaches_no_log_line(
    tmp_path: Path,
    logged: io.StringIO,
    level: int,
    desks_by_email: dict[str, Any],
    mailbox: Mailbox,
) -> None:
    """Issue 14: personal details sent through every path a person uses (questions and
    reports on the web, Slack and Teams, a bad request, the team's notes, the follow page, the
    alerts delivered) appear in no log line, at INFO or DEBUG, whatever the libraries do."""
    configure(json_lines=True, level=level, stream=logged)
    fake, connector = FakeSlack(), FakeConnector()
    await fake.start()
    await connector.start()
    assert fake.server is not None and connector.server is not None
    secret_text = f"{CANARY_NAME} on {CANARY_PHONE} posted {CANARY_EMAIL}"
    settings = Settings.model_validate(
        {
            "default_org": "wiltshire",
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'canary.sqlite3'}",
            "admin_token": "canary-admin-token-0123456789",
            **desks_by_email,
        }
    )
    app = build_app(
        settings=settings,
        assistant=shipped_assistant(),
        slack=SlackSettings(
            signing_secret=SECRET, bot_token="xoxb-test", api_url=str(fake.server.make_url("/api/"))
        ),
        teams=TeamsSettings(app_id=None, app_password=None, dev_anonymous=True),
    )
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    admin = {"Authorization": "Bearer canary-admin-token-0123456789"}
    report = {
        "org": "wiltshire",
        "what": secret_text,
        "involved": CANARY_NAME,
        "reporter": {"name": CANARY_NAME, "phone": CANARY_PHONE},
    }
    try:
        async with ClientSession() as http:
            url = server.make_url
            ask = {"org": "wiltshire", "question": secret_text, "asker": CANARY_EMAIL}
            async with http.post(url("/api/ask"), json=ask) as asked:
                asked_id = (await asked.json())["id"]
            async with http.post(url("/api/feedback"), json={"id": asked_id, "helpful": False}):
                pass
            async with http.post(url("/api/escalations"), json=report) as filed:
                receipt = await filed.json()
            bad = {**report, "evidence": [f"not a link {CANARY_NAME}"]}
            async with http.post(url("/api/escalations"), json=bad) as refused:
                assert refused.status == 400
            async with http.post(
                url("/api/ask"),
                data=f'{{"org": "{CANARY_NAME}'.encode(),
                headers={"Content-Type": "application/json"},
            ) as broken:
                assert broken.status == 400
            actions = url(f"/api/escalations/{receipt['reference']}/actions")
            note = {"action": "note", "by": "Priya", "text": secret_text}
            async with http.post(actions, json=note, headers=admin) as noted:
                assert noted.status == 200
            follow = {"tokens": [receipt["follow"]]}
            async with http.post(url("/api/escalations/follow"), json=follow):
                pass
            # Slack: a question, and a report form.
            dm = {
                "type": "event_callback",
                "team_id": TEAM,
                "event_id": "EvCanaryPath",
                "event": {
                    "type": "message",
                    "channel_type": "im",
                    "channel": "D1",
                    "user": "U1",
                    "text": secret_text,
                    "ts": "1.000100",
                },
            }
            body = json.dumps(dm).encode()
            async with http.post(
                url("/slack/events"),
                data=body,
                headers={"Content-Type": "application/json", **signed_headers(SECRET, body)},
            ):
                pass
            submission = report_submission(
                user="UCANARY", what=secret_text, reporter_name=CANARY_NAME
            )
            form = urlencode({"payload": json.dumps(submission)}).encode()
            async with http.post(
                url("/slack/events"),
                data=form,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    **signed_headers(SECRET, form),
                },
            ):
                pass
            # Teams: a question in a personal chat.
            message = captured_payload("teams", "message_personal.json")
            message["serviceUrl"] = str(connector.server.make_url("/"))
            message["text"] = secret_text
            message["attachments"] = []
            async with http.post(url("/api/messages"), json=message):
                pass
            await fake.wait_for("views.update")  # the Slack report's receipt: its case is open
            await connector.wait()
            for _ in range(100):  # the alerts are mailed
                if len(mailbox.received) >= 2:
                    break
                await asyncio.sleep(0.05)
    finally:
        await server.close()
        await fake.close()
        await connector.server.close()
    written = logged.getvalue()
    assert "incident reported" in written and "answered" in written  # the facts are logged
    assert len(mailbox.received) >= 2  # the alerts went out, through the email desks
    for canary in (CANARY_NAME, CANARY_PHONE, CANARY_EMAIL, "Zebediah"):
        assert canary not in written and quote_plus(canary) not in written, canary
