"""Incident reports and case actions on Slack, over HTTP: the real server (its outbox worker
included) with signed requests, posting to a local fake of the Slack Web API."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestServer
from slack_sdk.web.async_client import AsyncWebClient

from adapters.config import Settings
from adapters.slack.courier import OUTBOX_EVENT_TYPE, SlackChannel
from adapters.slack.membership import ChannelMembers
from adapters.web.http import SERVICES
from bot.escalation.cases import MAX_REPORTS, Cases
from bot.escalation.delivery import RetryLater
from bot.escalation.model import (
    Actor,
    Delivery,
    EventKind,
    Notice,
    Outcome,
    Purpose,
    Removal,
    Status,
)
from bot.knowledge import Route
from tests.adapters.slack.chat import (
    TEAM,
    SlackUser,
    click,
    ephemerals,
    form,
    interact,
    post,
    report_submission,
    slack_server,
)
from tests.fakes.slack_web_api import FakeSlack

REPORTER = "UREPORTER"
COMMS_MEMBER = "UCOMMS"  # in the comms desk's configured members
HR_GROUP_MEMBER = "UHR"  # in the HR desk's Slack user group only
HR_CHANNEL_MEMBER = "UHRCHANNEL"  # in the HR desk's Slack channel only
OUTSIDER = "UOUTSIDER"


@contextlib.asynccontextmanager
async def serving(tmp_path: Path, fake: FakeSlack, **hr_desk: Any) -> AsyncIterator[TestServer]:
    """The server, with the fake Slack behind it. As the YAML file would give them:
    Wiltshire's comms desk by member list, HR by user group (and whatever `hr_desk` adds)."""
    settings = Settings.model_validate(
        {
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'escalations.sqlite3'}",
            "slack_teams": {TEAM: "wiltshire"},
            "escalations": {
                "wiltshire": {
                    "comms": {"slack_channel": "C0COMMS", "members": [f"slack:{COMMS_MEMBER}"]},
                    "hr": {"slack_channel": "C0HR", "slack_usergroup": "S0HR", **hr_desk},
                }
            },
        }
    )
    async with slack_server(settings, fake) as test_server:
        yield test_server


@pytest.fixture
async def server(tmp_path: Path, fake: FakeSlack) -> AsyncIterator[TestServer]:
    async with serving(tmp_path, fake) as test_server:
        yield test_server


@pytest.fixture
async def channel_desk(tmp_path: Path, fake: FakeSlack) -> AsyncIterator[TestServer]:
    """The server, with HR's desk letting the members of its channel act."""
    async with serving(tmp_path, fake, channel_members_may_act=True) as test_server:
        yield test_server


def cases_of(server: TestServer) -> Cases:
    return server.app[SERVICES].cases


async def test_a_report_opens_one_case_and_alerts_its_team_with_the_text_escaped(
    server: TestServer, fake: FakeSlack
) -> None:
    status, answer = await interact(
        server,
        report_submission(
            user=REPORTER,
            what="<!channel> <script>alert(1)</script> & a colleague is being bullied",
            evidence="https://drive.example/shot?a=1&b=2",
        ),
    )
    assert status == 200
    # Acknowledged at once, before the case is opened (Slack wants it within 3 seconds)...
    assert answer["response_action"] == "update" and "Sending" in json.dumps(answer["view"])
    # ...then the form shows the receipt.
    (receipt_view,) = await fake.wait_for("views.update")
    (case,) = await cases_of(server).find(org="wiltshire")
    assert case.routes == (Route.HR,)  # Wiltshire sends bullying to HR
    assert receipt_view.args["view_id"] == "VREPORT"
    assert case.reference in json.dumps(receipt_view.args["view"])

    (alert,) = await fake.wait_for_post("C0HR")
    shown = json.dumps([alert.text, alert.blocks])
    assert "<!channel>" not in shown and "<script>" not in shown
    assert "&lt;!channel&gt; &lt;script&gt;" in shown and "a=1&amp;b=2" in shown
    assert case.reference in alert.blocks[0]["text"]["text"]
    for fact in ("Sam Jones", "Team leader", "Adult care", "01225 000000", "Yesterday evening"):
        assert fact in shown
    assert "Why it came to you" in shown and "dignity at work policy" in shown  # clause, advice
    (buttons,) = [block for block in alert.blocks if block["type"] == "actions"]
    assert [b["action_id"] for b in buttons["elements"]] == [
        "case_ack",
        "case_assign",
        "case_ask",
        "case_note",
        "case_resolve",
    ]
    assert {b["value"] for b in buttons["elements"]} == {case.reference}
    assert alert.metadata is not None and alert.metadata["event_type"] == OUTBOX_EVENT_TYPE
    assert fake.posted("C0COMMS") == []

    (receipt,) = await fake.wait_for_post(f"D{REPORTER}")
    assert case.reference in receipt.text and "HR" in receipt.text


@pytest.mark.parametrize(
    ("changes", "block"),
    [
        ({"evidence": "see the screenshot on my desk"}, "evidence"),
        ({"reporter_name": None}, "reporter_name"),
        ({"what": "   "}, "what"),
    ],
)
async def test_a_bad_report_is_refused_naming_its_field(
    server: TestServer, fake: FakeSlack, changes: dict[str, Any], block: str
) -> None:
    status, answer = await interact(server, report_submission(user=REPORTER, **changes))
    assert status == 200
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [block]
    assert await cases_of(server).find(org="wiltshire") == []


async def test_the_report_form_opens_from_the_command_an_answer_and_app_home(
    server: TestServer, fake: FakeSlack
) -> None:
    command = urlencode(
        {
            "command": "/policy",
            "text": "report",
            "team_id": TEAM,
            "user_id": REPORTER,
            "channel_id": "C1",
            "response_url": "http://127.0.0.1:9/none",
            "trigger_id": "trigger-command",
        }
    ).encode()
    assert (await post(server, command, "application/x-www-form-urlencoded"))[0] == 200
    answer_button = click(
        "escalate", json.dumps({"org": "wiltshire", "route": "hr"}), user=REPORTER
    )
    assert (await interact(server, answer_button))[0] == 200

    home_opened = {
        "type": "event_callback",
        "team_id": TEAM,
        "event_id": "EvHome",
        "event": {"type": "app_home_opened", "user": REPORTER, "channel": "D1", "tab": "home"},
    }
    body = json.dumps(home_opened).encode()
    assert (await post(server, body, "application/json"))[0] == 200
    (published,) = await fake.wait_for("views.publish")
    home = json.dumps(published.args["view"])
    assert '"action_id": "report_incident"' in home and "Report an incident" in home
    assert (await interact(server, click("report_incident", "wiltshire", user=REPORTER)))[0] == 200

    opened = await fake.wait_for("views.open", 3)
    assert opened[0].args["trigger_id"] == "trigger-command"
    for call in opened:
        view = call.args["view"]
        assert view["callback_id"] == "case_report"
        assert json.loads(view["private_metadata"]) == {"org": "wiltshire"}
        blocks = {block["block_id"] for block in view["blocks"]}
        assert {"kind", "what", "evidence", "reporter_name", "manager_involved"} <= blocks


async def test_acknowledge_by_a_team_member_changes_the_state_and_tells_the_reporter(
    server: TestServer, fake: FakeSlack
) -> None:
    reporter, comms = SlackUser(server, fake, REPORTER), SlackUser(server, fake, COMMS_MEMBER)
    reference = await reporter.reports(kind="posted_by_mistake")
    # A replay of the same view opens no second case.
    await interact(server, report_submission(user=REPORTER, kind="posted_by_mistake"))
    (alert,) = fake.posted("C0COMMS")

    await comms.clicks("case_ack", reference, in_channel="C0COMMS")
    await fake.wait_for("chat.postEphemeral")
    assert comms.ephemerals() == [f"{reference} acknowledged by {COMMS_MEMBER}"]
    case = await cases_of(server).get(reference)
    assert case.status is Status.ACKNOWLEDGED
    assert len(await cases_of(server).find(org="wiltshire")) == 1

    _receipt, picked_up = await reporter.is_told(2)
    assert "picked up" in picked_up.text
    update = (await fake.wait_for_post("C0COMMS", 2))[1]
    assert update.thread_ts == alert.ts and "acknowledged" in update.text
    # The alert itself is redrawn: its status, and no Acknowledge button any more.
    await fake.wait_for("chat.update")
    assert "status: *acknowledged*" in json.dumps(alert.blocks)
    buttons = [b for block in alert.blocks if block["type"] == "actions" for b in block["elements"]]
    assert "case_ack" not in {button["action_id"] for button in buttons}
    assert "case_resolve" in {button["action_id"] for button in buttons}


async def test_a_member_of_the_configured_user_group_may_act(
    server: TestServer, fake: FakeSlack
) -> None:
    fake.usergroups["S0HR"] = [HR_GROUP_MEMBER]
    reference = await SlackUser(server, fake, REPORTER).reports()
    await SlackUser(server, fake, HR_GROUP_MEMBER).clicks(
        "case_assign", reference, in_channel="C0HR"
    )
    await fake.wait_for("chat.postEphemeral")
    assert ephemerals(fake, HR_GROUP_MEMBER) == [f"{reference} assigned to {HR_GROUP_MEMBER}"]
    case = await cases_of(server).get(reference)
    assert case.assigned_to == Actor("slack", HR_GROUP_MEMBER)
    assert case.status is Status.ACKNOWLEDGED
    assert fake.methods("usergroups.users.list")[0].args["usergroup"] == "S0HR"


async def test_an_outsider_is_refused_and_nothing_changes(
    server: TestServer, fake: FakeSlack
) -> None:
    fake.usergroups["S0HR"] = [HR_GROUP_MEMBER]
    reference = await SlackUser(server, fake, REPORTER).reports()
    await SlackUser(server, fake, OUTSIDER).clicks("case_ack", reference, in_channel="C0HR")
    await fake.wait_for("chat.postEphemeral")
    assert ephemerals(fake, OUTSIDER) == ["Only the team this case was sent to can act on it."]

    status, answer = await interact(
        server,
        form(
            "case_resolve",
            reference,
            user=OUTSIDER,
            view_id="VOUT",
            outcome=Outcome.NO_FURTHER_ACTION,
        ),
    )
    assert status == 200 and answer["response_action"] == "errors"
    assert answer["errors"] == {
        "case_resolve": "Only the team this case was sent to can act on it."
    }
    case = await cases_of(server).get(reference)
    assert case.status is Status.OPEN and case.outcome is None
    timeline = await cases_of(server).timeline(reference)
    assert [event.kind for event in timeline] == ["reported", "refused", "refused"]

    # A reference that is no case gets the same words: clicking through references tells
    # nobody which cases exist (security review L7).
    await SlackUser(server, fake, OUTSIDER).clicks("case_ack", "WIL-NOCASE", in_channel="C0HR")
    await fake.wait_for("chat.postEphemeral", 2)
    assert ephemerals(fake, OUTSIDER)[-1] == "Only the team this case was sent to can act on it."


def members_asked(fake: FakeSlack) -> list[dict[str, Any]]:
    return [call.args for call in fake.methods("conversations.members")]


async def kinds_of(server: TestServer, reference: str) -> list[str]:
    return [event.kind for event in await cases_of(server).timeline(reference)]


async def test_a_member_of_the_desks_channel_may_act_when_the_desk_says_so(
    channel_desk: TestServer, fake: FakeSlack
) -> None:
    fake.usergroups["S0HR"] = [HR_GROUP_MEMBER]
    fake.channel_members["C0HR"] = ["UBOT", HR_CHANNEL_MEMBER]
    reference = await SlackUser(channel_desk, fake, REPORTER).reports()
    await SlackUser(channel_desk, fake, HR_CHANNEL_MEMBER).clicks(
        "case_ack", reference, in_channel="C0HR"
    )
    await fake.wait_for("chat.postEphemeral")
    assert ephemerals(fake, HR_CHANNEL_MEMBER) == [
        f"{reference} acknowledged by {HR_CHANNEL_MEMBER}"
    ]
    assert (await cases_of(channel_desk).get(reference)).status is Status.ACKNOWLEDGED
    assert await kinds_of(channel_desk, reference) == ["reported", "acknowledged"]
    assert [asked["channel"] for asked in members_asked(fake)] == ["C0HR"]
    _receipt, picked_up = await fake.wait_for_post(f"D{REPORTER}", 2)
    assert "picked up" in picked_up.text


async def test_someone_not_in_the_desks_channel_is_refused_and_nothing_changes(
    channel_desk: TestServer, fake: FakeSlack
) -> None:
    fake.channel_members["C0HR"] = [HR_CHANNEL_MEMBER]
    reference = await SlackUser(channel_desk, fake, REPORTER).reports()
    await SlackUser(channel_desk, fake, OUTSIDER).clicks("case_ack", reference, in_channel="C0HR")
    await fake.wait_for("chat.postEphemeral")
    assert ephemerals(fake, OUTSIDER) == ["Only the team this case was sent to can act on it."]
    assert (await cases_of(channel_desk).get(reference)).status is Status.OPEN
    assert await kinds_of(channel_desk, reference) == ["reported", "refused"]
    assert len(members_asked(fake)) == 1  # Slack was asked, and said no


async def test_without_the_desks_say_so_its_channel_members_may_not_act(
    server: TestServer, fake: FakeSlack
) -> None:
    fake.channel_members["C0HR"] = [HR_CHANNEL_MEMBER]
    reference = await SlackUser(server, fake, REPORTER).reports()
    await SlackUser(server, fake, HR_CHANNEL_MEMBER).clicks(
        "case_ack", reference, in_channel="C0HR"
    )
    await fake.wait_for("chat.postEphemeral")
    assert ephemerals(fake, HR_CHANNEL_MEMBER) == [
        "Only the team this case was sent to can act on it."
    ]
    assert (await cases_of(server).get(reference)).status is Status.OPEN
    assert await kinds_of(server, reference) == ["reported", "refused"]
    assert members_asked(fake) == []


async def test_the_channels_members_are_read_page_by_page_and_remembered(
    channel_desk: TestServer, fake: FakeSlack
) -> None:
    # Three pages of Slack's 200, the member on the last.
    fake.channel_members["C0HR"] = [f"U{n:04d}" for n in range(450)] + [HR_CHANNEL_MEMBER]
    reference = await SlackUser(channel_desk, fake, REPORTER).reports()
    await SlackUser(channel_desk, fake, HR_CHANNEL_MEMBER).clicks(
        "case_assign", reference, in_channel="C0HR"
    )
    await fake.wait_for("chat.postEphemeral")
    case = await cases_of(channel_desk).get(reference)
    assert case.assigned_to == Actor("slack", HR_CHANNEL_MEMBER)
    assert [asked.get("cursor") for asked in members_asked(fake)] == [None, "next:200", "next:400"]
    assert {asked["limit"] for asked in members_asked(fake)} == {"200"}

    # A second click straight after is answered from what Slack said a moment ago.
    note = form("case_note", reference, user=HR_CHANNEL_MEMBER, view_id="VNOTE", text="Called")
    assert (await interact(channel_desk, note))[1] is None  # the modal closes: it was done
    assert len(members_asked(fake)) == 3
    assert await kinds_of(channel_desk, reference) == ["reported", "assigned", "note"]


async def test_a_slow_slack_shows_no_membership_and_the_click_is_refused(
    channel_desk: TestServer, fake: FakeSlack
) -> None:
    fake.channel_members["C0HR"] = [HR_CHANNEL_MEMBER]
    reference = await SlackUser(channel_desk, fake, REPORTER).reports()
    fake.delay_seconds = 2.0  # past the membership lookups' time limit
    await SlackUser(channel_desk, fake, HR_CHANNEL_MEMBER).clicks(
        "case_ack", reference, in_channel="C0HR"
    )
    await fake.wait_for("chat.postEphemeral")
    assert ephemerals(fake, HR_CHANNEL_MEMBER) == [
        "Only the team this case was sent to can act on it."
    ]
    assert await kinds_of(channel_desk, reference) == ["reported", "refused"]


async def test_channel_members_are_remembered_for_their_time_only(fake: FakeSlack) -> None:
    assert fake.server is not None
    client = AsyncWebClient(token="xoxb-test", base_url=str(fake.server.make_url("/api/")))
    now = [1000.0]
    members = ChannelMembers(clock=lambda: now[0], ttl_seconds=60, page_size=2)
    # Slack cannot say (the bot is not in the channel, say): nothing is remembered.
    assert await members.includes(client, channel="C0HR", user="U1") is None
    fake.channel_members["C0HR"] = ["U1", "U2", "U3"]
    assert await members.includes(client, channel="C0HR", user="U3") is True
    asked = len(members_asked(fake))
    assert asked == 3  # the failed lookup, then two pages

    fake.channel_members["C0HR"] = ["U1"]  # U3 left the channel
    now[0] += 59
    assert await members.includes(client, channel="C0HR", user="U3") is True
    assert len(members_asked(fake)) == asked
    now[0] += 2
    assert await members.includes(client, channel="C0HR", user="U3") is False
    assert len(members_asked(fake)) == asked + 1


async def test_a_replayed_submission_changes_nothing(server: TestServer, fake: FakeSlack) -> None:
    reference = await SlackUser(server, fake, REPORTER).reports(kind="posted_by_mistake")
    note = form("case_note", reference, user=COMMS_MEMBER, view_id="VNOTE", text="Post removed")
    status, first = await interact(server, note)
    assert status == 200 and first is None  # the modal closes
    _, replay = await interact(server, note)
    assert replay == {"response_action": "errors", "errors": {"case_note": "Already done."}}
    kinds = [event.kind for event in await cases_of(server).timeline(reference)]
    assert kinds.count(EventKind.NOTE) == 1
    await fake.wait_for_post("C0COMMS", 2)
    assert len(fake.posted("C0COMMS")) == 2  # the alert and one note in its thread


async def test_the_team_asks_the_reporter_answers_and_the_team_resolves(
    server: TestServer, fake: FakeSlack
) -> None:
    reporter, comms = SlackUser(server, fake, REPORTER), SlackUser(server, fake, COMMS_MEMBER)
    reference = await reporter.reports(kind="posted_by_mistake")

    assert await comms.submits("case_ask", reference, text="Which account, <@U1>?") is None
    asked = (await reporter.is_told(2))[1]
    assert "Which account, &lt;@U1&gt;?" in asked.text
    (answer_button,) = asked.blocks[-1]["elements"]
    assert answer_button["action_id"] == "case_answer" and answer_button["value"] == reference

    await reporter.clicks("case_answer", reference, in_channel=f"D{REPORTER}")
    (opened,) = await fake.wait_for("views.open")
    assert json.loads(opened.args["view"]["private_metadata"]) == {"reference": reference}
    assert await reporter.submits("case_answer", reference, text="The main one") is None
    resolved = await comms.submits("case_resolve", reference, outcome=Outcome.CONTENT_REMOVED)
    assert resolved is None

    case = await cases_of(server).get(reference)
    assert case.status is Status.RESOLVED and case.outcome is Outcome.CONTENT_REMOVED
    thread = await fake.wait_for_post("C0COMMS", 4)
    assert "The reporter answered: The main one" in thread[2].text
    told = await reporter.is_told(3)
    assert "resolved: Content removed" in told[2].text


def delivery(outbox_id: str, *, purpose: Purpose = Purpose.THREAD, **where: Any) -> Delivery:
    notice = Notice(
        purpose=purpose,
        reference="WIL-ABC234",
        org="wiltshire",
        council="Wiltshire Council",
        kind="other",
        kind_label="Something else",
        routes=("hr",),
        status="open",
        summary="Note from UHR: <b>checked</b>",
        facts={},
        clause=None,
    )
    return Delivery(
        id=outbox_id,
        platform="slack",
        address=where.get("address", "C0HR"),
        notice=notice,
        attempts=2,
        thread=where.get("thread"),
        direct=purpose is Purpose.REPORTER,
        removes=where.get("removes"),
    )


async def test_already_sent_finds_a_message_posted_before_a_crash(fake: FakeSlack) -> None:
    assert fake.server is not None
    channel = SlackChannel(
        AsyncWebClient(token="xoxb-test", base_url=str(fake.server.make_url("/api/")))
    )
    alert = delivery("out-alert", purpose=Purpose.ALERT)
    assert await channel.already_sent(alert) is None
    alert_ts = await channel.send(alert)
    assert await channel.already_sent(alert) == alert_ts  # posted, then the worker died

    in_thread = delivery("out-thread", thread=alert_ts)
    assert await channel.already_sent(in_thread) is None
    reply_ts = await channel.send(in_thread)
    assert reply_ts != alert_ts
    assert await channel.already_sent(in_thread) == reply_ts
    assert fake.posted("C0HR")[1].thread_ts == alert_ts

    to_reporter = delivery("out-dm", purpose=Purpose.REPORTER, address=REPORTER)
    assert await channel.already_sent(to_reporter) is None
    dm_ts = await channel.send(to_reporter)
    assert await channel.already_sent(to_reporter) == dm_ts
    assert [m.ts for m in fake.posted(f"D{REPORTER}")] == [dm_ts]
    assert await channel.already_sent(delivery("out-never")) is None


async def test_a_purged_cases_messages_are_deleted_or_else_blanked(fake: FakeSlack) -> None:
    assert fake.server is not None
    channel = SlackChannel(
        AsyncWebClient(token="xoxb-test", base_url=str(fake.server.make_url("/api/")))
    )
    alert_ts = await channel.send(delivery("out-alert", purpose=Purpose.ALERT))
    reply_ts = await channel.send(delivery("out-thread", thread=alert_ts))
    dm_ts = await channel.send(delivery("out-dm", purpose=Purpose.REPORTER, address=REPORTER))
    fake.undeletable = {reply_ts}

    def removal(ts: str, **where: Any) -> Delivery:
        return delivery(f"out-remove-{ts}", purpose=Purpose.REMOVAL, removes=ts, **where)

    assert await channel.remove(removal(alert_ts)) is Removal.DELETED
    assert await channel.remove(removal(reply_ts, thread=alert_ts)) is Removal.TOMBSTONED
    dm = dataclasses.replace(removal(dm_ts, address=REPORTER), direct=True)
    assert await channel.remove(dm) is Removal.DELETED
    assert fake.posted(f"D{REPORTER}") == []
    (blanked,) = fake.posted("C0HR")
    assert blanked.ts == reply_ts and "checked" in blanked.text
    assert "&lt;b&gt;" in blanked.text  # the tombstone is escaped like every message
    # Gone already (someone deleted it in Slack, or a retry after a crash): counts as deleted.
    assert await channel.remove(removal(alert_ts)) is Removal.DELETED


async def test_the_resend_check_reads_back_to_when_the_delivery_was_queued(
    fake: FakeSlack,
) -> None:
    """Security review M2: only the newest 200 messages were read, so a crash before a busy
    channel's next 200 posts were recorded meant the alert went out twice."""
    assert fake.server is not None
    channel = SlackChannel(
        AsyncWebClient(token="xoxb-test", base_url=str(fake.server.make_url("/api/")))
    )
    alert = dataclasses.replace(
        delivery("out-busy", purpose=Purpose.ALERT), queued_at=datetime.now(UTC)
    )
    alert_ts = await channel.send(alert)
    for number in range(450):  # the channel goes on without us
        await channel.send(delivery(f"chatter-{number}", purpose=Purpose.ALERT))
    assert await channel.already_sent(alert) == alert_ts
    pages = [c for c in fake.methods("conversations.history") if c.args.get("oldest")]
    assert len(pages) == 3  # 200 + 200 + the rest, and no further back than the queueing
    long_ago = dataclasses.replace(alert, id="out-older", queued_at=datetime.now(UTC))
    assert await channel.already_sent(long_ago) is None


async def test_slack_still_throttling_says_how_long_to_wait(fake: FakeSlack) -> None:
    """A 429 the client's own retries did not outlast: the outbox is told Slack's Retry-After,
    and does not try again sooner."""
    assert fake.server is not None
    channel = SlackChannel(
        AsyncWebClient(token="xoxb-test", base_url=str(fake.server.make_url("/api/")))
    )
    fake.rate_limit_next, fake.retry_after = 1, "120"
    with pytest.raises(RetryLater) as asked:
        await channel.send(delivery("out-throttled", purpose=Purpose.ALERT))
    assert asked.value.seconds == 120.0
    assert await channel.send(delivery("out-throttled", purpose=Purpose.ALERT))


async def test_a_report_refused_after_the_form_was_acknowledged_says_why(
    server: TestServer, fake: FakeSlack
) -> None:
    for number in range(MAX_REPORTS + 1):
        status, answer = await interact(
            server, report_submission(user=REPORTER, view_id=f"VREPORT{number}")
        )
        assert status == 200 and answer["response_action"] == "update"
    updates = await fake.wait_for("views.update", MAX_REPORTS + 1)
    (refused,) = [u for u in updates if "Report not sent" in json.dumps(u.args["view"])]
    assert "contact them directly" in json.dumps(refused.args["view"])
    assert len(await cases_of(server).find(org="wiltshire")) == MAX_REPORTS
