"""Escalations on Teams over HTTP: the real server (with its outbox worker) and captured activities
against the fake Bot Connector. A member of staff reports from their personal chat, the alert
reaches the team channel the bot was installed in, the team acts from the card, and the reporter
hears of every change."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from adapters.config import CouncilDesks, DeskSettings, Settings
from adapters.server import build_app
from adapters.teams.mount import TeamsSettings
from bot.escalation.cases import Cases
from bot.escalation.model import Action, Actor, Case, Outcome, Status
from bot.knowledge import Route
from bot.storage import Store
from tests.adapters.teams.fake_connector import FakeConnector
from tests.conftest import captured_payload, shipped_assistant

TEAM_MEMBER = "c5e99701-2a32-49c1-a660-4629ceeb8c61"  # the invoke fixture's user
OUTSIDER = "0a0a0a0a-0000-4000-8000-000000000001"
TEAM_COLLEAGUE = "3b3b3b3b-0000-4000-8000-000000000002"  # in the team, not in the member list
REPORTER = "7faf8ab2-3d56-4244-b585-20c8a42ed2b8"  # the personal message fixture's user
HR_CHANNEL = "19:hr-not-installed@thread.tacv2"
# Written to try to form a link, a mention and bold text in the team's channel.
HOSTILE = "[Click here](https://evil.example/login) <at>Everyone</at> **urgent**"
TEAM_VERBS = {"case_ack", "case_assign", "case_ask", "case_note", "case_resolve"}


def fixture(name: str) -> dict[str, Any]:
    return captured_payload("teams", name)


REPORT_WHAT = "A post about a resident went out on the council's page by mistake."


def report_values(**changes: Any) -> dict[str, Any]:
    """What the report card sends: its inputs' values beside the Submit button's data."""
    return {
        "org": "wiltshire",
        "kind": "posted_by_mistake",
        "what": REPORT_WHAT,
        "where": "https://social.example/council/posts/1",
        "when": "this morning",
        "involved": "the duty officer",
        "evidence": "https://social.example/council/posts/1\nhttps://files.example/shot.png",
        "name": "Megan Bowen",
        "job_title": "Housing officer",
        "area": "Housing",
        "phone": "01225 000000",
        "manager_involved": "false",
        **changes,
    }


def texts_of(node: Any, kind: str) -> Iterator[str]:
    """Every text the card shows in an element of type `kind` (TextRun, TextBlock...)."""
    if isinstance(node, dict):
        if node.get("type") == kind and isinstance(node.get("text"), str):
            yield node["text"]
        for value in node.values():
            yield from texts_of(value, kind)
    elif isinstance(node, list):
        for value in node:
            yield from texts_of(value, kind)


def shown(card: dict[str, Any]) -> str:
    return "\n".join(texts_of(card, "TextRun"))


def card_of(activity: dict[str, Any]) -> dict[str, Any]:
    (attachment,) = activity["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    content: dict[str, Any] = attachment["content"]
    assert content["version"] == "1.5"
    return content


def verbs_of(card: dict[str, Any]) -> set[str]:
    return {action["verb"] for action in card.get("actions", [])}


def input_ids(card: dict[str, Any]) -> list[str]:
    return [part["id"] for part in card["body"] if part["type"].startswith("Input.")]


@dataclass
class Teams:
    """The server, the fake connector, and a second view of the same database to check cases."""

    server: TestServer
    connector: FakeConnector
    cases: Cases
    channel: str
    team: str  # the team that owns `channel`
    personal: str  # the reporter's personal conversation with the bot
    clicks: int = 0

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any]:
        activity["serviceUrl"] = self.connector.url
        async with (
            ClientSession() as http,
            http.post(self.server.make_url("/api/messages"), json=activity) as response,
        ):
            body = await response.json() if response.content_type == "application/json" else None
            return response.status, body

    async def install_in_the_team(self) -> None:
        status, _ = await self.post(fixture("conversation_update_bot_added_team.json"))
        assert status in (200, 201)

    async def click(
        self,
        verb: str,
        data: dict[str, Any],
        *,
        user: str,
        in_channel_thread: str | None = None,
        channel: str | None = None,
        activity_id: str | None = None,
    ) -> dict[str, Any]:
        """An `Action.Execute` click as Teams sends it; returns the card it updates to. With
        `in_channel_thread`, the click is on a message in a channel of the team: the one the
        bot was installed in unless `channel` says another."""
        self.clicks += 1
        invoke = copy.deepcopy(fixture("invoke_adaptive_card_action_execute.json"))
        invoke["id"] = activity_id or f"f:click-{self.clicks}"
        invoke["from"] = {"id": f"29:{user}", "aadObjectId": user}
        if in_channel_thread is not None:
            channel = channel or self.channel
            invoke["conversation"] = {
                "id": f"{channel};messageid={in_channel_thread}",
                "conversationType": "channel",
                "isGroup": True,
                "tenantId": invoke["conversation"]["tenantId"],
            }
            invoke["channelData"] |= {"team": {"id": self.team}, "channel": {"id": channel}}
        invoke["value"]["action"] = {"type": "Action.Execute", "verb": verb, "data": data}
        status, body = await self.post(invoke)
        assert status == 200, body
        assert body["statusCode"] == 200
        card: dict[str, Any] = body["value"]
        assert card["version"] == "1.5"
        return card

    async def report(self, **changes: Any) -> Case:
        card = await self.click("case_report", report_values(**changes), user=REPORTER)
        assert "Thank you, your reference is" in shown(card), shown(card)
        (case,) = await self.cases.find(org="wiltshire")
        assert case.reference in shown(card)
        return case

    async def arrivals(
        self, conversation: str, count: int = 1
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """Posts to `conversation` (a thread of it included), as (message id, path, activity),
        once there are `count` of them."""
        for _ in range(250):
            found = [
                (self.connector.message_id(position), unquote(path), activity)
                for position, (path, activity) in enumerate(self.connector.posted, start=1)
                if f"/v3/conversations/{conversation}" in unquote(path)
            ]
            if len(found) >= count:
                return found
            await asyncio.sleep(0.02)
        raise AssertionError(f"{len(found)} posts to the conversation, wanted {count}")

    async def alert(self) -> tuple[str, dict[str, Any]]:
        """The alert in the team channel: its message id and its card."""
        ((message_id, _, activity), *_) = await self.arrivals(self.channel)
        return message_id, card_of(activity)


@contextlib.asynccontextmanager
async def running(tmp_path: Path, *, channel_members_may_act: bool = False) -> AsyncIterator[Teams]:
    """The server and the fake connector; the comms desk's channel is the one the bot is
    installed in, and `channel_members_may_act` is the comms desk's."""
    installed = fixture("conversation_update_bot_added_team.json")
    channel, team = installed["conversation"]["id"], installed["channelData"]["team"]["id"]
    personal = fixture("invoke_adaptive_card_action_execute.json")["conversation"]["id"]
    url = f"sqlite+aiosqlite:///{tmp_path / 'teams.sqlite3'}"
    settings = Settings(
        default_org="wiltshire",
        database_url=url,
        escalations={
            "wiltshire": CouncilDesks(
                comms=DeskSettings(
                    teams_channel=channel,
                    members=[f"teams:{TEAM_MEMBER}"],
                    channel_members_may_act=channel_members_may_act,
                ),
                hr=DeskSettings(teams_channel=HR_CHANNEL, members=[f"teams:{TEAM_MEMBER}"]),
            )
        },
    )
    connector = FakeConnector()
    await connector.start()
    server = TestServer(
        build_app(
            settings=settings,
            assistant=shipped_assistant(),
            teams=TeamsSettings(app_id=None, app_password=None, dev_anonymous=True),
        ),
        host="127.0.0.1",
    )
    await server.start_server()
    checking = Store.connect(url)
    cases = Cases(checking, shipped_assistant().knowledge.policies, settings.directory())
    try:
        yield Teams(server, connector, cases, channel=channel, team=team, personal=personal)
    finally:
        await checking.close()
        await server.close()
        assert connector.server is not None
        await connector.server.close()


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[Teams]:
    async with running(tmp_path) as started:
        yield started


@pytest.fixture
async def channel_desk(tmp_path: Path) -> AsyncIterator[Teams]:
    """Teams, with the comms desk letting the members of its channel's team act."""
    async with running(tmp_path, channel_members_may_act=True) as started:
        yield started


async def test_saying_report_in_a_personal_chat_offers_the_report_card(teams: Teams) -> None:
    message = fixture("message_personal.json")
    message["text"] = "report"
    message["attachments"] = []
    await teams.post(message)
    ((_, _, activity),) = await teams.arrivals(message["conversation"]["id"])
    card = card_of(activity)
    assert activity["text"]
    assert input_ids(card) == [
        "kind",
        "what",
        "where",
        "when",
        "involved",
        "evidence",
        "name",
        "job_title",
        "area",
        "phone",
        "manager_involved",
    ]
    kinds = next(part for part in card["body"] if part.get("id") == "kind")
    assert kinds["type"] == "Input.ChoiceSet" and len(kinds["choices"]) == 6
    assert card["body"][-1]["type"] == "Input.Toggle"
    (submit,) = card["actions"]
    assert submit["type"] == "Action.Execute" and submit["verb"] == "case_report"
    assert submit["data"] == {"org": "wiltshire"}


async def test_the_report_button_on_an_answer_card_offers_the_report_card(teams: Teams) -> None:
    card = await teams.click("escalate", {"org": "wiltshire", "route": "comms"}, user=REPORTER)
    assert verbs_of(card) == {"case_report"}
    assert "kind" in input_ids(card)


async def test_a_council_without_desks_is_told_whom_to_tell_instead_of_a_form(
    teams: Teams,
) -> None:
    card = await teams.click("escalate", {"org": "derbyshire", "route": "hr"}, user=REPORTER)
    assert verbs_of(card) == set() and not input_ids(card)
    assert "Reports for Derbyshire County Council cannot be taken here yet" in json.dumps(card)
    assert "HR: your manager, or HR" in json.dumps(card)


async def test_a_submitted_report_opens_one_case_routed_by_the_councils_rules(
    teams: Teams,
) -> None:
    case = await teams.report()
    # Wiltshire: something posted by mistake goes to the communications team.
    assert case.routes == (Route.COMMS,)
    assert case.clause == "posted-in-error"
    assert case.reporter.actor == Actor("teams", REPORTER)
    assert case.reporter.address == teams.personal
    assert case.report.evidence == [
        "https://social.example/council/posts/1",
        "https://files.example/shot.png",
    ]
    # The receipt reaches the reporter's personal chat through the reference saved at the report.
    ((_, _, receipt),) = await teams.arrivals(teams.personal)
    assert case.reference in receipt["text"] and "communications team" in receipt["text"]
    assert "Remove the post straight away" in shown(card_of(receipt))


async def test_a_replayed_report_opens_no_second_case(teams: Teams) -> None:
    values = report_values()
    first = await teams.click("case_report", values, user=REPORTER, activity_id="f:report-1")
    again = await teams.click("case_report", values, user=REPORTER, activity_id="f:report-1")
    (case,) = await teams.cases.find(org="wiltshire")
    assert case.reference in shown(first) and case.reference in shown(again)


@pytest.mark.parametrize(
    ("changes", "field_id", "problem"),
    [
        ({"what": "   "}, "what", "Please fill this in."),
        ({"name": ""}, "name", "Please fill this in."),
        ({"evidence": "https://ok.example/1\nmy screenshot"}, "evidence", "not a web link"),
    ],
    ids=["what", "name", "evidence"],
)
async def test_a_report_with_a_problem_comes_back_with_it_shown_by_its_field(
    teams: Teams, changes: dict[str, str], field_id: str, problem: str
) -> None:
    card = await teams.click("case_report", report_values(**changes), user=REPORTER)
    body = card["body"]
    at = next(i for i, part in enumerate(body) if part.get("id") == field_id)
    assert problem in shown(body[at + 1])  # right under the field
    assert body[at + 1]["inlines"][0]["color"] == "Attention"
    kept = next(part for part in body if part.get("id") == "involved")
    assert kept["value"] == "the duty officer"  # what was typed is kept
    assert verbs_of(card) == {"case_report"}
    assert await teams.cases.find(org="wiltshire") == []


async def test_the_alert_reaches_the_team_channel_with_its_buttons_and_escaped_text(
    teams: Teams,
) -> None:
    await teams.install_in_the_team()
    case = await teams.report(what=HOSTILE, involved="@channel")
    _, card = await teams.alert()
    assert verbs_of(card) == TEAM_VERBS
    assert all(action["data"] == {"reference": case.reference} for action in card["actions"])
    assert {"question", "note", "outcome"} <= set(input_ids(card))
    outcomes = next(part for part in card["body"] if part.get("id") == "outcome")
    assert {choice["value"] for choice in outcomes["choices"]} == {
        "advice_given",
        "content_removed",
        "investigation_opened",
        "no_further_action",
    }
    # What the reporter wrote is shown as typed, only ever in a TextRun (never markdown).
    assert HOSTILE in shown(card)
    assert not any(HOSTILE in text for text in texts_of(card, "TextBlock"))
    assert "FactSet" not in json.dumps(card)
    # The facts, the clause that routed it with its section and policy, and the advice.
    text = shown(card)
    assert case.reference in text and "Megan Bowen" in text and "01225 000000" in text
    assert "https://files.example/shot.png" in text
    assert "Wiltshire" in text and "Remove the post straight away" in text
    policy = shipped_assistant().knowledge.policy("wiltshire")
    clause = policy.clause("posted-in-error")
    assert clause.quote in text and clause.section in text and policy.title in text
    ((_, _, activity),) = await teams.arrivals(teams.channel)
    assert activity["textFormat"] == "plain" and case.reference in activity["text"]


async def test_acknowledged_by_the_team_the_thread_and_the_reporter_are_told(
    teams: Teams,
) -> None:
    await teams.install_in_the_team()
    case = await teams.report()
    alert_id, _ = await teams.alert()
    await teams.arrivals(teams.personal)  # the receipt
    card = await teams.click(
        "case_ack", {"reference": case.reference}, user=TEAM_MEMBER, in_channel_thread=alert_id
    )
    assert f"acknowledged by {TEAM_MEMBER}" in shown(card)
    assert verbs_of(card) == TEAM_VERBS  # the card is redrawn, buttons and all
    assert (await teams.cases.get(case.reference)).status is Status.ACKNOWLEDGED
    # The update goes into the alert's thread...
    (_, (_, path, update)) = await teams.arrivals(teams.channel, 2)
    assert f"/v3/conversations/{teams.channel};messageid={alert_id}/" in path
    assert "acknowledged" in update["text"]
    # ...and to the reporter, in their personal chat.
    (_, (_, _, told)) = await teams.arrivals(teams.personal, 2)
    assert "picked up" in told["text"]


async def test_an_outsiders_click_changes_nothing(teams: Teams) -> None:
    await teams.install_in_the_team()
    case = await teams.report()
    alert_id, _ = await teams.alert()
    await teams.arrivals(teams.personal)
    posted = len(teams.connector.posted)
    card = await teams.click(
        "case_ack", {"reference": case.reference}, user=OUTSIDER, in_channel_thread=alert_id
    )
    assert "Only the team this case was sent to can act on it." in shown(card)
    # Nothing of the case (security review M3), and no sign whether a reference exists.
    assert REPORT_WHAT not in json.dumps(card) and case.reference not in json.dumps(card)
    guessed = await teams.click(
        "case_ack", {"reference": "WIL-ZZZZZZ"}, user=OUTSIDER, in_channel_thread=alert_id
    )
    assert shown(guessed) == shown(card)
    typed_nothing = await teams.click(
        "case_note", {"reference": case.reference}, user=OUTSIDER, in_channel_thread=alert_id
    )
    assert REPORT_WHAT not in json.dumps(typed_nothing)
    assert (await teams.cases.get(case.reference)).status is Status.OPEN
    await asyncio.sleep(0.3)
    assert len(teams.connector.posted) == posted


async def test_a_replayed_click_changes_nothing(teams: Teams) -> None:
    await teams.install_in_the_team()
    case = await teams.report()
    alert_id, _ = await teams.alert()
    note = {"reference": case.reference, "note": "Called the duty officer."}
    for _ in range(2):
        card = await teams.click(
            "case_note",
            note,
            user=TEAM_MEMBER,
            in_channel_thread=alert_id,
            activity_id="f:same-click",
        )
    assert "Already done." in shown(card)
    notes = [event for event in await teams.cases.timeline(case.reference) if event.kind == "note"]
    assert len(notes) == 1
    await teams.arrivals(teams.channel, count=2)  # the alert and the note's thread update
    await asyncio.sleep(0.3)  # time for a second update, were the replay to send one
    assert len(await teams.arrivals(teams.channel)) == 2


async def test_the_team_asks_the_reporter_answers_and_the_team_resolves(teams: Teams) -> None:
    await teams.install_in_the_team()
    case = await teams.report()
    alert_id, _ = await teams.alert()
    await teams.arrivals(teams.personal)
    in_thread = {"user": TEAM_MEMBER, "in_channel_thread": alert_id}
    empty = await teams.click("case_ask", {"reference": case.reference}, **in_thread)
    assert "Write the question" in shown(empty) and verbs_of(empty) == TEAM_VERBS
    await teams.click(
        "case_ask", {"reference": case.reference, "question": "Who else saw it?"}, **in_thread
    )
    (_, (_, _, asked)) = await teams.arrivals(teams.personal, 2)
    question = card_of(asked)
    assert "Who else saw it?" in shown(question)
    assert input_ids(question) == ["answer"] and verbs_of(question) == {"case_answer"}
    thanks = await teams.click(
        "case_answer", {"reference": case.reference, "answer": "Only my team."}, user=REPORTER
    )
    assert "your answer has gone to the team" in shown(thanks)
    resolved = await teams.click(
        "case_resolve", {"reference": case.reference, "outcome": "content_removed"}, **in_thread
    )
    assert verbs_of(resolved) == {"case_note"}  # a resolved case only takes notes
    case = await teams.cases.get(case.reference)
    assert case.status is Status.RESOLVED and case.outcome is not None
    thread = [activity["text"] for _, _, activity in await teams.arrivals(teams.channel, 4)]
    assert any("The reporter answered: Only my team." in text for text in thread)
    (*_, (_, _, told)) = await teams.arrivals(teams.personal, 3)
    assert "resolved" in told["text"]


def team_member_json(user: str) -> dict[str, Any]:
    """A member of a team as the Bot Connector gives one (TeamsChannelAccount)."""
    return {
        "id": f"29:{user}",
        "aadObjectId": user,
        "name": "Alex Wilber",
        "givenName": "Alex",
        "surname": "Wilber",
        "email": "alex@wiltshire.example",
        "userPrincipalName": "alex@wiltshire.example",
        "tenantId": "56653e9d-2158-46ee-90d7-675c39642038",
        "userRole": "user",
    }


async def alert_out(teams: Teams) -> tuple[Case, str]:
    """Installed in the team, a report made, its alert in the channel and the receipt sent."""
    await teams.install_in_the_team()
    case = await teams.report()
    alert_id, _ = await teams.alert()
    await teams.arrivals(teams.personal)
    return case, alert_id


async def kinds_of(teams: Teams, reference: str) -> list[str]:
    return [event.kind for event in await teams.cases.timeline(reference)]


async def test_a_member_of_the_team_owning_the_desks_channel_may_act(channel_desk: Teams) -> None:
    channel_desk.connector.team_members[channel_desk.team] = [team_member_json(TEAM_COLLEAGUE)]
    case, alert_id = await alert_out(channel_desk)
    card = await channel_desk.click(
        "case_ack", {"reference": case.reference}, user=TEAM_COLLEAGUE, in_channel_thread=alert_id
    )
    assert f"acknowledged by {TEAM_COLLEAGUE}" in shown(card)
    assert (await channel_desk.cases.get(case.reference)).status is Status.ACKNOWLEDGED
    assert await kinds_of(channel_desk, case.reference) == ["reported", "acknowledged"]
    assert channel_desk.connector.member_lookups == [(channel_desk.team, f"29:{TEAM_COLLEAGUE}")]
    (_, (_, _, told)) = await channel_desk.arrivals(channel_desk.personal, 2)
    assert "picked up" in told["text"]


async def test_someone_not_in_the_team_is_refused_and_nothing_changes(channel_desk: Teams) -> None:
    channel_desk.connector.team_members[channel_desk.team] = [team_member_json(TEAM_COLLEAGUE)]
    case, alert_id = await alert_out(channel_desk)
    posted = len(channel_desk.connector.posted)
    card = await channel_desk.click(
        "case_ack", {"reference": case.reference}, user=OUTSIDER, in_channel_thread=alert_id
    )
    assert "Only the team this case was sent to can act on it." in shown(card)
    assert (await channel_desk.cases.get(case.reference)).status is Status.OPEN
    assert await kinds_of(channel_desk, case.reference) == ["reported", "refused"]
    assert channel_desk.connector.member_lookups == [(channel_desk.team, f"29:{OUTSIDER}")]
    await asyncio.sleep(0.3)
    assert len(channel_desk.connector.posted) == posted


async def test_without_the_desks_say_so_team_members_may_not_act(teams: Teams) -> None:
    teams.connector.team_members[teams.team] = [team_member_json(TEAM_COLLEAGUE)]
    case, alert_id = await alert_out(teams)
    card = await teams.click(
        "case_ack", {"reference": case.reference}, user=TEAM_COLLEAGUE, in_channel_thread=alert_id
    )
    assert "Only the team this case was sent to can act on it." in shown(card)
    assert (await teams.cases.get(case.reference)).status is Status.OPEN
    assert await kinds_of(teams, case.reference) == ["reported", "refused"]
    assert teams.connector.member_lookups == []


async def test_a_click_from_another_channel_is_not_vouched_for(channel_desk: Teams) -> None:
    channel_desk.connector.team_members[channel_desk.team] = [team_member_json(TEAM_COLLEAGUE)]
    case, alert_id = await alert_out(channel_desk)
    card = await channel_desk.click(
        "case_ack",
        {"reference": case.reference},
        user=TEAM_COLLEAGUE,
        in_channel_thread=alert_id,
        channel="19:elsewhere@thread.tacv2",
    )
    assert "Only the team this case was sent to can act on it." in shown(card)
    assert (await channel_desk.cases.get(case.reference)).status is Status.OPEN
    assert await kinds_of(channel_desk, case.reference) == ["reported", "refused"]
    assert channel_desk.connector.member_lookups == []


async def test_a_purged_cases_messages_are_deleted_from_teams_or_else_blanked(
    teams: Teams,
) -> None:
    await teams.install_in_the_team()
    case = await teams.report()
    alert_id, _ = await teams.alert()
    await teams.arrivals(teams.personal)  # the receipt
    resolved = await teams.cases.act(
        case.reference, Action.RESOLVE, actor=Actor("admin", "DPO"), outcome=Outcome.ADVICE_GIVEN
    )
    assert resolved.changed
    (_, (reply_id, _, _)) = await teams.arrivals(teams.channel, 2)  # "resolved", in the thread
    await teams.arrivals(teams.personal, 2)
    teams.connector.undeletable = {reply_id}

    (due,), _ = await teams.cases.past_retention(lambda org: timedelta(0))
    assert await teams.cases.request_purge(due.id)
    for _ in range(250):  # the server's outbox worker removes them, then deletes the case
        if await teams.cases.purged(case.reference) is not None:
            break
        await asyncio.sleep(0.02)
    record = await teams.cases.purged(case.reference)
    assert record is not None
    assert (record.messages_deleted, record.messages_tombstoned) == (3, 1)
    assert alert_id in teams.connector.deleted and reply_id not in teams.connector.deleted
    # The resolution redrew the alert; the purge blanked the reply it could not delete.
    (redrawn_id, redrawn), (blanked_id, tombstone) = teams.connector.updated
    assert redrawn_id == alert_id and verbs_of(card_of(redrawn)) == {"case_note"}
    assert blanked_id == reply_id and "retention" in tombstone["text"]
