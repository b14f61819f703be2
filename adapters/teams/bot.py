"""The assistant's conversation logic on Teams, as a botbuilder `ActivityHandler`.

Questions become cards; `Action.Execute` clicks (invoke `adaptiveCard/action`) answer in place
by returning the updated card; re-delivered activities (same id) are answered once, the claim
living in the database.
"""

from __future__ import annotations

import json
import logging
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
from adapters.teams.translate import activity_for, card_for, question_from_activity, tenant_of
from bot.assistant import Assistant, Question, QuestionError, Reply
from bot.storage import Asked, Store, UnknownQuestionError, opaque_asker

log = logging.getLogger("policybot.teams")
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
WELCOME = (
    "Hello! Ask me anything about your council's social media policy, for example "
    "\u201ccan I accept a friend request from a service user?\u201d. I quote the policy "
    "itself, and tell you who to ask when it says nothing."
)


def _message_card(text: str) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": text}]}],
    }


class PolicyBot(ActivityHandler):  # type: ignore[misc]
    def __init__(self, *, assistant: Assistant, store: Store, settings: Settings) -> None:
        self._assistant = assistant
        self._store = store
        self._settings = settings
        self._salt = settings.asker_salt.get_secret_value()

    def _org(self, turn_context: TurnContext) -> str | None:
        tenant = tenant_of(turn_context.activity) or ""
        return self._settings.teams_tenants.get(tenant) or self._settings.default_org

    async def _record(self, reply: Reply) -> str:
        asker = opaque_asker(reply.question.asker, salt=self._salt)
        return await self._store.record_asked(Asked.of(reply, asker=asker, channel="teams"))

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
        try:
            reply = self._assistant.ask(question)
        except QuestionError as exc:
            await turn_context.send_activity(str(exc).capitalize())
            return
        asked_id = await self._record(reply)
        log.info("answered", extra={"org": org, "kind": reply.kind.value})
        await turn_context.send_activity(activity_for(reply, asked_id=asked_id))

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
        action = invoke_value.action or {}
        verb = action.get("verb")
        data = action.get("data") or {}
        user = turn_context.activity.from_property or ChannelAccount()
        asker = str(user.aad_object_id or user.id or "")
        if verb == "clarify":
            question = Question(org=data["org"], text=data["clause"], asker=asker)
            reply = self._assistant.explain(question, data["clause"])
            card = card_for(reply, asked_id=await self._record(reply))
        elif verb == "feedback":
            try:
                await self._store.record_feedback(str(data["id"]), helpful=bool(data["helpful"]))
                card = _message_card("Thank you for the feedback.")
            except UnknownQuestionError:
                card = _message_card("That answer is no longer known; thank you all the same.")
        elif verb == "escalate":
            policy = self._assistant.knowledge.policy(data["org"])
            contact = policy.contacts.hr if data["route"] == "hr" else policy.contacts.comms
            card = _message_card(f"Please contact {contact}; they will take it from here.")
        else:
            card = _message_card("Sorry, that button is not one I know.")
        return AdaptiveCardInvokeResponse(status_code=200, type=CARD_TYPE, value=card)
