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
from collections.abc import Callable
from typing import Any

from aiohttp import ClientError
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.config import DeskSettings, Settings
from adapters.slack.membership import ChannelMembers
from adapters.slack.translate import escape
from adapters.slack.views import (
    CASE_FORMS,
    REPORT_CALLBACK,
    VALUE,
    block_for_field,
    case_form_view,
    receipt_view,
    refused_view,
    report_data,
    report_view,
    sending_view,
)
from bot.escalation import wording
from bot.escalation.cases import Cases
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

log = logging.getLogger("policybot.slack")

REPORT_BUTTON = "report_incident"  # App Home
# The membership lookups (user groups, channels) sit on a modal's 3-second acknowledgement: a
# slow Slack must not make the submission fail, so all of them together are cut short and the
# configured member list decides alone.
MEMBERSHIP_TIMEOUT_SECONDS = 1.5


CASE_FORM_IDS = re.compile(f"^({'|'.join(CASE_FORMS)})$")
ACT_AT_ONCE = {"case_ack": Action.ACKNOWLEDGE, "case_assign": Action.ASSIGN}


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
        """Whether a council's reports reach a person here; where they would not, the people
        to contact are named instead of offering the form."""
        return self._cases.takes_reports(org)

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

    async def _submit_report(
        self, ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """Checked field by field, then acknowledged at once with "Sending" (security review
        M1: under load, opening the case first missed Slack's 3 seconds, and the person saw
        an error for a report that was made); the receipt, or why it was refused, follows."""
        org = str(json.loads(view["private_metadata"])["org"])
        user = str(body["user"]["id"])
        try:
            report = parse_report(report_data(view["state"]["values"], org=org))
        except ReportError as exc:
            await ack(response_action="errors", errors={block_for_field(exc.field): exc.message})
            return
        await ack(response_action="update", view=sending_view())
        try:
            # A replayed submission carries the same view id: it gets the case it opened.
            case = await self._cases.open(
                report,
                Reporter(Actor("slack", user), address=user),
                dedupe=f"slack:report:{view['id']}",
            )
        except ReportError as exc:
            await _redraw(client, view["id"], refused_view(exc.message))
            return
        log.info("incident reported", extra={"org": case.org, "kind": case.kind.value})
        await _redraw(client, view["id"], receipt_view(case))

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
            return ActionResult(False, wording.NOT_YOUR_CASE)
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


async def _redraw(client: AsyncWebClient, view_id: str, view: dict[str, Any]) -> None:
    """Show `view` in place of a modal the person may have closed meanwhile: then there is
    nothing to redraw, and the receipt reaches them as a direct message anyway."""
    try:
        await client.views_update(view_id=view_id, view=view)
    except SlackApiError as exc:
        log.info("report modal not redrawn (%s)", exc.response.get("error"))
