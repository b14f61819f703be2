"""The assistant's conversation logic on Teams, as a botbuilder `ActivityHandler`.

Questions become cards; `Action.Execute` clicks (invoke `adaptiveCard/action`) answer in place
by returning the updated card; re-delivered activities (same id) are answered once, the claim
living in the database.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
    Attachment,
    ChannelAccount,
)

from adapters.config import Settings
from adapters.teams.cards import (
    REPORT_VERB,
    CaseClick,
    alert_card,
    case_click,
    report_card,
    report_data,
    reported_card,
    reporter_message_card,
)
from adapters.teams.membership import clicked_in, in_team, lets_channel_members_act, team_of
from adapters.teams.translate import (
    activity_for,
    adaptive_card,
    card_for,
    plain_text,
    question_from_activity,
    tenant_of,
)
from bot.answering import Answered, Answering
from bot.assistant import Assistant, Question, QuestionError
from bot.escalation import wording
from bot.escalation.cases import Cases
from bot.escalation.desks import report_elsewhere
from bot.escalation.model import Action, Actor, Case, Notice, Purpose, Reporter, UnknownCaseError
from bot.escalation.report import ReportError, parse_report
from bot.knowledge import UnknownOrgError
from bot.storage import Store, UnknownQuestionError

log = logging.getLogger("policybot.teams")
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
WELCOME = (
    "Hello! Ask me anything about your council's social media policy, for example "
    "\u201ccan I accept a friend request from a service user?\u201d. I quote the policy "
    "itself, and tell you who to ask when it says nothing. To report an incident, say "
    "\u201creport\u201d."
)
REPORT_COMMANDS = frozenset({"report", "report an incident"})
REPORT_IN_PRIVATE = (
    "Reports are made in a personal chat, so that only the team they go to sees them: "
    "open a chat with me and say \u201creport\u201d."
)


def _message_card(text: str) -> dict[str, Any]:
    return adaptive_card([plain_text(text)])


def _is_personal(activity: Activity) -> bool:
    scope = activity.conversation.conversation_type if activity.conversation else None
    return (scope or "personal") == "personal"


def _actor(activity: Activity) -> Actor:
    """A person as the core knows them, the way desk members are configured: "teams:<id>"."""
    user = activity.from_property or ChannelAccount()
    return Actor("teams", str(user.aad_object_id or user.id or ""))


def _click_id(activity: Activity) -> str | None:
    """The click's activity id, which Teams keeps when it re-delivers: a replay changes nothing."""
    return f"teams:{activity.id}" if activity.id else None


class PolicyBot(ActivityHandler):  # type: ignore[misc]
    def __init__(
        self,
        *,
        assistant: Assistant,
        store: Store,
        settings: Settings,
        cases: Cases,
        on_answered: Callable[[Answered], None] | None = None,
    ) -> None:
        self._assistant = assistant
        self._store = store
        self._settings = settings
        self._cases = cases
        self._answering = Answering(
            assistant,
            store,
            salt=settings.configured_asker_salt,
            keeps_text=settings.keeps_question_text,
            channel="teams",
            on_answered=on_answered,
        )

    def _org(self, turn_context: TurnContext) -> str | None:
        tenant = tenant_of(turn_context.activity) or ""
        return self._settings.teams_tenants.get(tenant) or self._settings.default_org

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        org = self._org(turn_context)
        if org is None:
            await turn_context.send_activity("This Teams tenant is not linked to a council yet.")
            return
        question = question_from_activity(activity, org=org)
        if question is None:
            return
        # Teams re-delivers an activity with the same id when it did not see our answer in
        # time: whichever delivery claims the id first answers.
        if activity.id and not await self._store.claim_event(f"teams:{activity.id}"):
            log.info("duplicate activity ignored")
            return
        if question.text.casefold() in REPORT_COMMANDS:
            await self._offer_report(turn_context, org)
            return
        try:
            answered = await self._answering.answer(question)
        except QuestionError as exc:
            await turn_context.send_activity(str(exc).capitalize())
            return
        await turn_context.send_activity(
            activity_for(answered.reply, asked_id=answered.id, public_url=self._settings.public_url)
        )

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._installed(turn_context)

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(member.id == bot_id for member in members_added):
            await self._installed(turn_context)

    async def _installed(self, turn_context: TurnContext) -> None:
        """In a team, remember the conversation so that alerts can be posted there later; in a
        personal chat, say hello and what the bot does."""
        activity = turn_context.activity
        reference = TurnContext.get_conversation_reference(activity)
        scope = activity.conversation.conversation_type if activity.conversation else None
        if scope in ("channel", "groupChat") or (activity.channel_data or {}).get("team"):
            await self._store.save_conversation(
                platform="teams",
                conversation_id=str(reference.conversation.id),
                org=self._org(turn_context),
                reference=json.dumps(reference.serialize()),
            )
            log.info("installed in a team; conversation stored")
            return
        await turn_context.send_activity(
            Activity(
                type=ActivityTypes.message,
                text=WELCOME,
                attachments=[Attachment(content_type=CARD_TYPE, content=_message_card(WELCOME))],
            )
        )

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        action = invoke_value.action if isinstance(invoke_value.action, dict) else {}
        verb = action.get("verb")
        given = action.get("data")
        data: dict[str, Any] = given if isinstance(given, dict) else {}
        try:
            card = await self._card_for_click(turn_context, str(verb), data)
        except (KeyError, TypeError, ValueError, LookupError, UnknownOrgError) as exc:
            # A button's data made by another version of the bot, or by hand (security review
            # L1: each was a 500): said plainly, and nothing changes. Logged by kind only.
            log.warning(
                "unusable card click", extra={"verb": str(verb), "error": type(exc).__name__}
            )
            card = _message_card("Sorry, that button is out of date: ask again, or say report.")
        return AdaptiveCardInvokeResponse(status_code=200, type=CARD_TYPE, value=card)

    async def _card_for_click(
        self, turn_context: TurnContext, verb: str, data: dict[str, Any]
    ) -> dict[str, Any]:
        user = turn_context.activity.from_property or ChannelAccount()
        asker = str(user.aad_object_id or user.id or "")
        if verb == "clarify":
            question = Question(org=data["org"], text=data["clause"], asker=asker)
            answered = await self._answering.explain(question, data["clause"])
            card = card_for(
                answered.reply, asked_id=answered.id, public_url=self._settings.public_url
            )
        elif verb == "feedback":
            try:
                await self._answering.feedback(str(data["id"]), helpful=bool(data["helpful"]))
                card = _message_card("Thank you for the feedback.")
            except UnknownQuestionError:
                card = _message_card("That answer is no longer known; thank you all the same.")
        elif verb == "escalate":
            policy = self._assistant.knowledge.policy(data["org"])
            contact = policy.contacts.hr if data["route"] == "hr" else policy.contacts.comms
            if not self._cases.takes_reports(policy.org):
                card = _message_card(report_elsewhere(policy).message)
            elif _is_personal(turn_context.activity):
                card = report_card(policy, contact=contact)
            else:
                card = _message_card(f"Please contact {contact}. {REPORT_IN_PRIVATE}")
        elif verb == REPORT_VERB:
            card = await self._report(turn_context, data)
        elif (click := case_click(verb, data)) is not None:
            card = await self._act(turn_context, click)
        else:
            card = _message_card("Sorry, that button is not one I know.")
        return card

    async def _offer_report(self, turn_context: TurnContext, org: str) -> None:
        policy = self._assistant.knowledge.policy(org)
        if not self._cases.takes_reports(org):
            await turn_context.send_activity(report_elsewhere(policy).message)
            return
        if not _is_personal(turn_context.activity):
            await turn_context.send_activity(REPORT_IN_PRIVATE)
            return
        card = report_card(policy)
        await turn_context.send_activity(
            Activity(
                type=ActivityTypes.message,
                text="Report an incident",
                attachments=[Attachment(content_type=CARD_TYPE, content=card)],
            )
        )

    async def _report(self, turn_context: TurnContext, data: dict[str, Any]) -> dict[str, Any]:
        """A submitted report card: the case, or the card again with the problem shown."""
        activity = turn_context.activity
        # The tenant decides the council, whatever the card's data says.
        org = self._org(turn_context)
        policy = self._assistant.knowledge.policies.get(org) if org else None
        if org is None or policy is None:
            return _message_card("This Teams tenant is not linked to a council yet.")
        if not _is_personal(activity):
            return _message_card(REPORT_IN_PRIVATE)
        try:
            report = parse_report(report_data(org, data))
        except ReportError as error:
            return report_card(policy, values=data, error=error)
        # Stored before the case is opened: the worker posts the receipt to this chat at once.
        reference = TurnContext.get_conversation_reference(activity)
        conversation_id = str(reference.conversation.id)
        await self._store.save_conversation(
            platform="teams",
            conversation_id=conversation_id,
            org=org,
            reference=json.dumps(reference.serialize()),
            personal=True,
        )
        try:
            # A re-delivered submission (same activity id) gets the case it opened.
            case = await self._cases.open(
                report,
                Reporter(_actor(activity), address=conversation_id),
                dedupe=f"teams:report:{activity.id}" if activity.id else None,
            )
        except ReportError as error:  # the council takes no reports: shown at the top
            return report_card(policy, values=data, error=error)
        log.info("incident reported", extra={"org": case.org, "kind": case.kind.value})
        return reported_card(case)

    async def _act(self, turn_context: TurnContext, click: CaseClick) -> dict[str, Any]:
        """A click on an alert: the card redrawn with what happened, or with why nothing did."""
        if click.action is Action.REPORTER_ANSWER:
            return await self._answer(turn_context, click)
        # Someone not on the case's team sees nothing of it, nor whether the reference exists
        # (security review M3): the same words as a refusal.
        actor = _actor(turn_context.activity)
        try:
            case = await self._cases.get(click.reference)
        except UnknownCaseError:
            return _message_card(wording.NOT_YOUR_CASE)
        member = await self._shown_member(turn_context, case)
        if click.missing:
            if not (member or self._cases.may_act(case, actor)):
                return _message_card(wording.NOT_YOUR_CASE)
            message = click.missing
        else:
            result = await self._cases.act(
                click.reference,
                click.action,
                actor=actor,
                member=member,
                text=click.text,
                outcome=click.outcome,
                dedupe=_click_id(turn_context.activity),
            )
            log.info("case action", extra={"action": click.action.value, "changed": result.changed})
            if result.refused:
                return _message_card(result.message)
            case = result.case or await self._cases.get(click.reference)
            message = result.message
        policy = self._assistant.knowledge.policy(case.org)
        return alert_card(Notice.of(case, policy, Purpose.ALERT, message))

    async def _shown_member(self, turn_context: TurnContext, case: Case) -> bool | None:
        """True when the click came from the Teams channel of a desk (of one of the case's
        routes) that lets its channel's members act, and the Bot Connector says the person is
        in the team that owns it; None otherwise, so that the core checks its member list."""
        activity = turn_context.activity
        if self._cases.may_act(case, _actor(activity)):
            return None  # the member list already admits them: no need to ask Teams
        council = self._settings.escalations.get(case.org)
        channel, team = clicked_in(activity), team_of(activity)
        user = (activity.from_property or ChannelAccount()).id
        if council is None or channel is None or team is None or not user:
            return None
        desks = [
            desk for route in case.routes if (desk := getattr(council, route.value)) is not None
        ]
        if not lets_channel_members_act(desks, channel):
            return None
        return await in_team(turn_context, team_id=team, user_id=user) or None

    async def _answer(self, turn_context: TurnContext, click: CaseClick) -> dict[str, Any]:
        """The reporter's answer to the team's question."""
        if click.missing:
            return reporter_message_card(click.reference, click.missing, answerable=True)
        try:
            result = await self._cases.act(
                click.reference,
                Action.REPORTER_ANSWER,
                actor=_actor(turn_context.activity),
                text=click.text,
                dedupe=_click_id(turn_context.activity),
            )
        except UnknownCaseError:
            return _message_card("That case is not known here.")
        log.info("reporter answered", extra={"changed": result.changed})
        if result.changed:
            return reporter_message_card(
                click.reference, "Thank you, your answer has gone to the team."
            )
        return reporter_message_card(click.reference, result.message)
