"""Incident reports and the team's case actions on Slack.

A report modal (opened from `/policy report`, an answer's "Report an incident" button or App
Home) becomes a case through the core; the alert's buttons come back here as case actions.
The core writes every change and its notices in one transaction before the modal is closed or
the click answered; the outbox worker posts them, so nothing here sends the alert itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientError
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.config import DeskSettings, Settings
from adapters.slack.notices import ANSWER_BUTTON
from adapters.slack.translate import escape
from bot.escalation.cases import Cases
from bot.escalation.desks import route_name
from bot.escalation.model import (
    Action,
    ActionResult,
    Actor,
    Case,
    Outcome,
    Reporter,
    UnknownCaseError,
)
from bot.escalation.report import ReportError, parse_report
from bot.knowledge import IncidentKind

log = logging.getLogger("policybot.slack")

REPORT_CALLBACK = "case_report"
REPORT_BUTTON = "report_incident"  # App Home
VALUE = "value"  # the action id of every input in these modals: the block id says which
# The membership lookups (user groups, channels) sit on a modal's 3-second acknowledgement: a
# slow Slack must not make the submission fail, so all of them together are cut short and the
# configured member list decides alone.
MEMBERSHIP_TIMEOUT_SECONDS = 1.5
# A burst of clicks on one alert would otherwise ask Slack for the same channel's members each
# time, and conversations.members is rate limited; someone who leaves the channel can still act
# for this long.
CHANNEL_MEMBERS_TTL_SECONDS = 60.0
CHANNEL_MEMBERS_PAGE_SIZE = 200  # Slack's advice for paginated methods

# The report modal's input blocks, named after the report field each one fills: a
# `ReportError`'s field leads straight to the block to mark.
REPORT_BLOCKS = (
    "kind",
    "what",
    "where",
    "when",
    "involved",
    "evidence",
    "reporter_name",
    "reporter_job_title",
    "reporter_area",
    "reporter_phone",
    "manager_involved",
)


@dataclass(frozen=True, slots=True)
class CaseForm:
    """A case action that needs words or an outcome: its modal, and what its submission does."""

    action: Action
    title: str  # at most 24 characters: Slack's limit for a modal title
    label: str
    submit: str


CASE_FORMS = {
    "case_ask": CaseForm(Action.ASK_REPORTER, "Ask the reporter", "Your question", "Send"),
    "case_note": CaseForm(Action.NOTE, "Add a note", "Note for the case", "Add note"),
    "case_resolve": CaseForm(Action.RESOLVE, "Resolve the case", "Outcome", "Resolve"),
    ANSWER_BUTTON: CaseForm(Action.REPORTER_ANSWER, "Answer the team", "Your answer", "Send"),
}
CASE_FORM_IDS = re.compile(f"^({'|'.join(CASE_FORMS)})$")
ACT_AT_ONCE = {"case_ack": Action.ACKNOWLEDGE, "case_assign": Action.ASSIGN}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": _plain(label), "value": value}


def _input(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool = True,
    hint: str | None = None,
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label),
        "element": {**element, "action_id": VALUE},
        "optional": optional,
    }
    if hint:
        block["hint"] = _plain(hint)
    return block


def _text(max_length: int, *, multiline: bool = False) -> dict[str, Any]:
    return {"type": "plain_text_input", "multiline": multiline, "max_length": max_length}


def report_view(org: str) -> dict[str, Any]:
    """The report form, after West Dunbartonshire's record of concern; the council rides in
    `private_metadata` so that the submission is routed by the workspace's own policy."""
    return {
        "type": "modal",
        "callback_id": REPORT_CALLBACK,
        "private_metadata": json.dumps({"org": org}),
        "title": _plain("Report an incident"),
        "submit": _plain("Send report"),
        "close": _plain("Cancel"),
        "blocks": [
            _input(
                "kind",
                "What is it about?",
                {
                    "type": "static_select",
                    "options": [_option(kind.value, kind.label) for kind in IncidentKind],
                },
                hint="Leave it empty if you are not sure: it is worked out from what you write.",
            ),
            _input("what", "What happened", _text(4000, multiline=True), optional=False),
            _input("where", "Where (a link, or where you saw it)", _text(1000)),
            _input("when", "When", _text(200)),
            _input("involved", "Who is involved", _text(1000, multiline=True)),
            _input(
                "evidence",
                "Evidence links",
                _text(4000, multiline=True),
                hint="One link per line: screenshots saved to a shared drive, or the posts.",
            ),
            _input("reporter_name", "Your name", _text(200), optional=False),
            _input("reporter_job_title", "Your job title", _text(200)),
            _input("reporter_area", "Your service area", _text(200)),
            _input("reporter_phone", "Your phone number", _text(50)),
            _input(
                "manager_involved",
                "Line manager",
                {
                    "type": "checkboxes",
                    "options": [_option("yes", "My line manager is involved")],
                },
                hint="The report then goes past your line manager, as the policy asks.",
            ),
        ],
    }


def _typed(values: Mapping[str, Any], block_id: str) -> str:
    entered = values.get(block_id, {}).get(VALUE, {})
    return str(entered.get("value") or "")


def _selected(values: Mapping[str, Any], block_id: str) -> str | None:
    option = values.get(block_id, {}).get(VALUE, {}).get("selected_option")
    return str(option["value"]) if option else None


def report_data(values: Mapping[str, Any], *, org: str) -> dict[str, Any]:
    """The submitted form (`view.state.values`) as the data `parse_report` validates."""
    checked = values.get("manager_involved", {}).get(VALUE, {}).get("selected_options") or []
    return {
        "org": org,
        "kind": _selected(values, "kind"),
        "what": _typed(values, "what"),
        "where": _typed(values, "where"),
        "when": _typed(values, "when"),
        "involved": _typed(values, "involved"),
        "evidence": _typed(values, "evidence").splitlines(),
        "reporter": {
            "name": _typed(values, "reporter_name"),
            "job_title": _typed(values, "reporter_job_title"),
            "area": _typed(values, "reporter_area"),
            "phone": _typed(values, "reporter_phone"),
        },
        "manager_involved": bool(checked),
    }


def block_for_field(field: str) -> str:
    """The form block to mark for a `ReportError` field ("what", "evidence.2",
    "reporter.name"); errors about the report as a whole go on its first required block."""
    parts = field.split(".")
    block = "_".join(parts[:2]) if parts[0] == "reporter" else parts[0]
    if block == "reporter":  # the whole reporter missing: the name is what is required
        block = "reporter_name"
    return block if block in REPORT_BLOCKS else "what"


def receipt_view(case: Case) -> dict[str, Any]:
    sent_to = " and ".join(route_name(route) for route in case.routes)
    return {
        "type": "modal",
        "title": _plain("Report sent"),
        "close": _plain("Close"),
        "blocks": [
            {
                "type": "section",
                "text": _plain(
                    f"Your report is {case.reference}; it has gone to {sent_to}. "
                    "I will message you here whenever anything changes."
                ),
            }
        ],
    }


def case_form_view(form_id: str, reference: str) -> dict[str, Any]:
    form = CASE_FORMS[form_id]
    if form.action is Action.RESOLVE:
        element: dict[str, Any] = {
            "type": "static_select",
            "options": [_option(outcome.value, outcome.label) for outcome in Outcome],
        }
    else:
        element = _text(3000, multiline=True)
    return {
        "type": "modal",
        "callback_id": form_id,
        "private_metadata": json.dumps({"reference": reference}),
        "title": _plain(form.title),
        "submit": _plain(form.submit),
        "close": _plain("Cancel"),
        "blocks": [
            {"type": "context", "elements": [_plain(f"Case {reference}")]},
            _input(form_id, form.label, element, optional=False),
        ],
    }


class ChannelMembers:
    """Who is in a Slack channel, as `conversations.members` says (every page of it),
    remembered for `ttl_seconds` by `clock`. A lookup that fails or is cut short is not
    remembered."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        ttl_seconds: float = CHANNEL_MEMBERS_TTL_SECONDS,
        page_size: int = CHANNEL_MEMBERS_PAGE_SIZE,
    ) -> None:
        self._clock = clock
        self._ttl_seconds = ttl_seconds
        self._page_size = page_size
        self._known: dict[str, tuple[float, frozenset[str]]] = {}

    async def includes(self, client: AsyncWebClient, *, channel: str, user: str) -> bool | None:
        """Whether `user` is in `channel`; None when Slack did not say (an error, such as the
        bot not being in a private channel)."""
        members = await self._members(client, channel)
        return None if members is None else user in members

    async def _members(self, client: AsyncWebClient, channel: str) -> frozenset[str] | None:
        asked_at = self._clock()
        known = self._known.get(channel)
        if known is not None and asked_at - known[0] < self._ttl_seconds:
            return known[1]
        members: set[str] = set()
        cursor: str | None = None
        try:
            while True:
                page = await client.conversations_members(
                    channel=channel, limit=self._page_size, cursor=cursor
                )
                members.update(page.get("members") or [])
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if cursor is None:
                    break
        except (SlackClientError, ClientError) as exc:
            log.warning("channel %s members lookup failed (%s)", channel, type(exc).__name__)
            return None
        found = frozenset(members)
        self._known[channel] = (asked_at, found)
        return found


class SlackEscalations:
    """The Bolt listeners for reports and case actions, around the core's `Cases`."""

    def __init__(
        self,
        *,
        cases: Cases,
        settings: Settings,
        org_for: Callable[[str | None], str | None],
        channel_members: ChannelMembers | None = None,
    ) -> None:
        self._cases = cases
        self._settings = settings
        self._org_for = org_for
        self._channel_members = channel_members or ChannelMembers()

    def takes_reports(self, org: str | None) -> bool:
        """Whether a council has teams configured to receive reports; without them a case
        would reach nobody, so the people to contact are named instead."""
        return org is not None and org in self._settings.escalations

    async def open_report(self, client: AsyncWebClient, *, trigger_id: str, org: str) -> None:
        await client.views_open(trigger_id=trigger_id, view=report_view(org))

    def register(self, app: AsyncApp) -> None:
        app.action(REPORT_BUTTON)(self._report_button)
        app.view(REPORT_CALLBACK)(self._submit_report)
        for action_id in ACT_AT_ONCE:
            app.action(action_id)(self._act_at_once)
        app.action(CASE_FORM_IDS)(self._open_case_form)
        app.view(CASE_FORM_IDS)(self._submit_case_form)

    # -- reports

    async def _report_button(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        org = self._org_for((body.get("team") or {}).get("id"))
        if org is not None and self.takes_reports(org):  # a stale Home tab may outlive it
            await self.open_report(client, trigger_id=body["trigger_id"], org=org)

    async def _submit_report(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        org = str(json.loads(view["private_metadata"])["org"])
        user = str(body["user"]["id"])
        try:
            report = parse_report(report_data(view["state"]["values"], org=org))
        except ReportError as exc:
            await ack(response_action="errors", errors={block_for_field(exc.field): exc.message})
            return
        try:
            # A replayed submission carries the same view id: it gets the case it opened.
            case = await self._cases.open(
                report,
                Reporter(Actor("slack", user), address=user),
                dedupe=f"slack:report:{view['id']}",
            )
        except ReportError as exc:
            await ack(response_action="errors", errors={block_for_field(exc.field): exc.message})
            return
        log.info("incident reported", extra={"org": case.org, "kind": case.kind.value})
        await ack(response_action="update", view=receipt_view(case))

    # -- case actions

    async def _act_at_once(
        self, ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        user = str(body["user"]["id"])
        result = await self._act(
            client,
            reference=str(action["value"]),
            action=ACT_AT_ONCE[action["action_id"]],
            user=user,
            dedupe=f"slack:action:{body['trigger_id']}" if body.get("trigger_id") else None,
        )
        channel = (body.get("container") or {}).get("channel_id") or (
            body.get("channel") or {}
        ).get("id")
        if channel:
            await client.chat_postEphemeral(channel=channel, user=user, text=escape(result.message))

    async def _open_case_form(
        self, ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await client.views_open(
            trigger_id=body["trigger_id"],
            view=case_form_view(action["action_id"], str(action["value"])),
        )

    async def _submit_case_form(
        self, ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        form_id = str(view["callback_id"])
        form = CASE_FORMS[form_id]
        entered = view["state"]["values"].get(form_id, {}).get(VALUE, {})
        chosen = entered.get("selected_option")
        result = await self._act(
            client,
            reference=str(json.loads(view["private_metadata"])["reference"]),
            action=form.action,
            user=str(body["user"]["id"]),
            text=str(entered.get("value") or ""),
            outcome=Outcome(chosen["value"]) if chosen else None,
            dedupe=f"slack:view:{view['id']}",
        )
        if result.changed:
            await ack()
        else:  # refused, or nothing to change: said on the form, which stays open
            await ack(response_action="errors", errors={form_id: result.message})

    async def _act(
        self,
        client: AsyncWebClient,
        *,
        reference: str,
        action: Action,
        user: str,
        dedupe: str | None,
        text: str = "",
        outcome: Outcome | None = None,
    ) -> ActionResult:
        actor = Actor("slack", user)
        try:
            case = await self._cases.get(reference)
        except UnknownCaseError:
            return ActionResult(False, f"There is no case {reference}.")
        member = None
        if action is not Action.REPORTER_ANSWER:
            member = await self._shown_member(client, case, user)
        return await self._cases.act(
            reference,
            action,
            actor=actor,
            member=member,
            text=text,
            outcome=outcome,
            dedupe=dedupe,
        )

    async def _shown_member(self, client: AsyncWebClient, case: Case, user: str) -> bool | None:
        """True when Slack says the user is in a user group, or a channel, through which a desk
        of one of the case's routes lets people act; None otherwise, so that the core checks
        its configured member list."""
        if self._cases.may_act(case, Actor("slack", user)):
            return None  # the member list already admits them: no need to ask Slack
        council = self._settings.escalations.get(case.org)
        if council is None:
            return None
        desks = [
            desk for route in case.routes if (desk := getattr(council, route.value)) is not None
        ]
        try:
            async with asyncio.timeout(MEMBERSHIP_TIMEOUT_SECONDS):
                return await self._slack_says_member(client, desks, user)
        except TimeoutError:
            log.warning("membership lookups took over %ss", MEMBERSHIP_TIMEOUT_SECONDS)
            return None

    async def _slack_says_member(
        self, client: AsyncWebClient, desks: list[DeskSettings], user: str
    ) -> bool | None:
        for group in (desk.slack_usergroup for desk in desks if desk.slack_usergroup):
            try:
                found = await client.usergroups_users_list(usergroup=group)
            except (SlackClientError, ClientError) as exc:
                log.warning("usergroup %s lookup failed (%s)", group, type(exc).__name__)
                continue
            if user in (found.get("users") or []):
                return True
        for desk in desks:
            if desk.channel_members_may_act and desk.slack_channel:
                channel = desk.slack_channel
                if await self._channel_members.includes(client, channel=channel, user=user):
                    return True
        return None
