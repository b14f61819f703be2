"""People on Slack, for tests that read like the conversation they check.

A `SlackUser` drives the real server the way Slack does (signed requests, payloads shaped like
the captured ones in tests/fixtures/slack/) and reads what the bot posted from the fake Web API:

    reporter, comms = SlackUser(server, fake, "UREPORTER"), SlackUser(server, fake, "UCOMMS")
    reference = await reporter.reports(kind="posted_by_mistake")
    await comms.clicks("case_ack", reference, in_channel="C0COMMS")
    assert "picked up" in (await reporter.is_told(2))[-1].text
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from adapters.config import Settings
from adapters.server import build_app
from adapters.slack.mount import SlackSettings
from adapters.web.http import SERVICES
from bot.escalation.model import Outcome
from bot.knowledge import Route
from tests.conftest import shipped_assistant
from tests.fakes.slack_web_api import FakeSlack, Message, signed_headers

SECRET = "test-signing-secret"
TEAM = "T0WILTS"  # the Wiltshire Council workspace
_TRIGGERS = itertools.count()


@contextlib.asynccontextmanager
async def slack_server(
    settings: Settings, fake: FakeSlack, *, reply_waits: tuple[float, ...] | None = None
) -> AsyncIterator[TestServer]:
    """The real server with Slack mounted over HTTP, its Web API the fake; `reply_waits`
    shortens the schedule of answers Slack would not take."""
    assert fake.server is not None
    slack = SlackSettings(
        signing_secret=SECRET, bot_token="xoxb-test", api_url=str(fake.server.make_url("/api/"))
    )
    if reply_waits is not None:
        slack = dataclasses.replace(slack, reply_waits=reply_waits)
    server = TestServer(
        build_app(settings=settings, assistant=shipped_assistant(), slack=slack), host="127.0.0.1"
    )
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


async def post(server: TestServer, body: bytes, content_type: str) -> tuple[int, Any]:
    """A signed request to /slack/events; its status and JSON body (None when empty)."""
    async with (
        ClientSession() as http,
        http.post(
            server.make_url("/slack/events"),
            data=body,
            headers={"Content-Type": content_type, **signed_headers(SECRET, body)},
        ) as response,
    ):
        is_json = response.content_type == "application/json"
        return response.status, (await response.json() if is_json else None)


async def interact(server: TestServer, payload: dict[str, Any]) -> tuple[int, Any]:
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return await post(server, body, "application/x-www-form-urlencoded")


def typed(value: str | None) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": value}}


def report_values(kind: str = "bullying", **changes: Any) -> dict[str, Any]:
    """A filled-in report form as `view.state.values`; `changes` replace typed fields."""
    fields = {
        "what": "A colleague is being sent abusive messages about work",
        "where": "https://social.example/post/1",
        "when": "Yesterday evening",
        "involved": "Two members of the public",
        "evidence": "https://drive.example/screenshot-1\nhttps://drive.example/screenshot-2",
        "reporter_name": "Sam Jones",
        "reporter_job_title": "Team leader",
        "reporter_area": "Adult care",
        "reporter_phone": "01225 000000",
        **changes,
    }
    values = {block: typed(value) for block, value in fields.items()}
    values["kind"] = {"value": {"type": "static_select", "selected_option": {"value": kind}}}
    values["manager_involved"] = {"value": {"type": "checkboxes", "selected_options": []}}
    return values


def submission(
    callback_id: str,
    metadata: dict[str, str],
    values: dict[str, Any],
    *,
    user: str,
    view_id: str,
) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": {"id": TEAM},
        "user": {"id": user, "team_id": TEAM},
        "trigger_id": f"trigger-{next(_TRIGGERS)}",
        "view": {
            "id": view_id,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": json.dumps(metadata),
            "state": {"values": values},
            "hash": "1.abc",
        },
    }


def report_submission(
    *, user: str, view_id: str = "VREPORT", kind: str = "bullying", **changes: Any
) -> dict[str, Any]:
    return submission(
        "case_report",
        {"org": "wiltshire"},
        report_values(kind, **changes),
        user=user,
        view_id=view_id,
    )


def click(action_id: str, value: str, *, user: str, channel: str = "C0HR") -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": {"id": user, "team_id": TEAM},
        "trigger_id": f"trigger-{next(_TRIGGERS)}",
        "container": {"type": "message", "channel_id": channel, "message_ts": "1.0"},
        "channel": {"id": channel},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b",
                "value": value,
                "action_ts": "1.2",
            }
        ],
    }


def form(
    callback_id: str,
    reference: str,
    *,
    user: str,
    view_id: str,
    text: str | None = None,
    outcome: Outcome | None = None,
) -> dict[str, Any]:
    entered: dict[str, Any] = {"type": "plain_text_input", "value": text}
    if outcome is not None:
        entered = {"type": "static_select", "selected_option": {"value": outcome.value}}
    values = {callback_id: {"value": entered}}
    return submission(callback_id, {"reference": reference}, values, user=user, view_id=view_id)


@dataclass(frozen=True)
class SlackUser:
    """One person in the Wiltshire workspace."""

    server: TestServer
    fake: FakeSlack
    id: str

    async def reports(self, *, view_id: str = "VREPORT", **changes: Any) -> str:
        """Fills in and submits the report form; the case's reference once its alert is out."""
        status, answer = await interact(
            self.server, report_submission(user=self.id, view_id=view_id, **changes)
        )
        assert status == 200 and answer["response_action"] == "update", answer
        # Acknowledged first; the form shows the receipt once the case is open.
        await self.fake.wait_for("views.update")
        (case,) = await self.server.app[SERVICES].cases.find(org="wiltshire")
        await self.fake.wait_for_post("C0HR" if Route.HR in case.routes else "C0COMMS")
        return case.reference

    async def clicks(self, action_id: str, reference: str, *, in_channel: str) -> Any:
        """Presses a case's button on a message in `in_channel`; Slack's answer to the click."""
        return (
            await interact(
                self.server, click(action_id, reference, user=self.id, channel=in_channel)
            )
        )[1]

    async def submits(
        self,
        form_id: str,
        reference: str,
        *,
        text: str | None = None,
        outcome: Outcome | None = None,
    ) -> Any:
        """Fills in and submits one of a case's forms; None when the form closes, else the
        errors it shows."""
        filled = form(
            form_id, reference, user=self.id, view_id=f"V{form_id}", text=text, outcome=outcome
        )
        return (await interact(self.server, filled))[1]

    async def is_told(self, count: int) -> list[Message]:
        """The bot's direct messages to them, once there are `count`."""
        return await self.fake.wait_for_post(f"D{self.id}", count)

    def ephemerals(self) -> list[str]:
        """What the bot showed only them."""
        return ephemerals(self.fake, self.id)


def ephemerals(fake: FakeSlack, user: str) -> list[str]:
    """What the bot showed only `user`."""
    return [c.args["text"] for c in fake.methods("chat.postEphemeral") if c.args["user"] == user]
