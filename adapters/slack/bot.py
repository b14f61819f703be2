"""The assistant's conversation logic on Slack, as a slack-bolt (async) app.

DMs and @mentions are answered with `chat.postMessage` (mentions in a thread under the
question), `/policy` ephemerally through its acknowledgement, "did you mean" buttons in place.
Bolt verifies every request's signature and 5-minute window (401 otherwise) and acknowledges
events before the listeners run, so a slow Web API never delays the 200. `mount.py` puts the
app on the server.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, cast

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.config import Settings
from adapters.slack.escalations import REPORT_BUTTON, SlackEscalations
from adapters.slack.mount import SlackBot, SlackSettings
from adapters.slack.replies import Replies
from adapters.slack.translate import blocks_for, escape, question_from_event, thread_of
from bot.answering import Answered, Answering
from bot.assistant import Assistant, Question, QuestionError
from bot.escalation.cases import Cases
from bot.storage import Store, UnknownQuestionError

log = logging.getLogger("policybot.slack")


def create_bolt_app(
    *,
    slack: SlackSettings,
    assistant: Assistant,
    store: Store,
    settings: Settings,
    cases: Cases | None = None,
    on_answered: Callable[[Answered], None] | None = None,
) -> SlackBot:
    """The Bolt app; with `cases`, incident reports and the team's case actions too;
    `on_answered` hears of every question answered."""
    client = AsyncWebClient(
        token=slack.bot_token or None,
        base_url=slack.api_url or AsyncWebClient.BASE_URL,
        # 429s wait for Retry-After and 5xx are retried, inside the listener tasks: the
        # acknowledgement has already gone.
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=1),
        ],
    )
    # Bolt would call auth.test on the first request and make it wait for the Web API; the
    # bot's identity is fetched once at startup instead, and requests never wait for it.
    identity: list[AuthorizeResult] = []

    # Workspaces installed through Slack (adapters/slack/install.py): their councils, learnt
    # as their requests are authorized.
    installed_orgs: dict[str, str] = {}

    async def authorize(
        enterprise_id: str | None, team_id: str | None, **_: Any
    ) -> AuthorizeResult | None:
        if slack.installs and team_id:
            workspace = await store.workspace(platform="slack", team_id=team_id)
            if workspace is not None:
                installed_orgs[team_id] = workspace.org
                return AuthorizeResult(
                    enterprise_id=enterprise_id,
                    team_id=team_id,
                    bot_token=workspace.bot_token,
                    bot_user_id=workspace.bot_user_id,
                )
        if not slack.bot_token:
            return None  # a workspace nobody installed: Bolt refuses it
        if identity:
            return identity[0]
        return AuthorizeResult(
            enterprise_id=enterprise_id, team_id=team_id, bot_token=slack.bot_token
        )

    # Bolt answers a None from authorize as "not installed in this workspace".
    authorizer = cast("Callable[..., Awaitable[AuthorizeResult]]", authorize)
    app = AsyncApp(signing_secret=slack.signing_secret, client=client, authorize=authorizer)

    async def learn_identity() -> None:
        if not slack.bot_token:
            return  # each installed workspace has its own identity, from its install
        try:
            found = await client.auth_test()
        except Exception:  # the Web API is away: answers still go out with the token alone
            log.warning("auth.test failed; carrying on without the bot's user id")
            return
        identity.append(
            AuthorizeResult(
                enterprise_id=found.get("enterprise_id"),
                team_id=found.get("team_id"),
                bot_token=slack.bot_token,
                bot_id=found.get("bot_id"),
                bot_user_id=found.get("user_id"),
            )
        )

    answering = Answering(
        assistant,
        store,
        salt=settings.configured_asker_salt,
        keeps_text=settings.keeps_question_text,
        channel="slack",
        on_answered=on_answered,
    )

    replies = Replies(slack.reply_waits)

    def org_for(team_id: str | None) -> str | None:
        team = team_id or ""
        return settings.slack_teams.get(team) or installed_orgs.get(team) or settings.default_org

    async def on_question(body: dict[str, Any], event: dict[str, Any], say: Any) -> None:
        org = org_for(body.get("team_id"))
        if org is None:
            await say(text="This Slack workspace is not linked to a council yet: ask your IT team.")
            return
        question = question_from_event(event, org=org)
        if question is None:
            return
        # Slack retries (X-Slack-Retry-Num) carry the same event_id: whichever delivery claims it
        # first answers, across restarts and replicas. Claiming here, after Bolt's 200, keeps
        # the database off the acknowledgement's path.
        event_id = body.get("event_id")
        if event_id and not await store.claim_event(f"slack:{event_id}"):
            log.info("duplicate event ignored", extra={"retry": True})
            return
        thread = thread_of(event)
        try:
            answered = await answering.answer(question)
        except QuestionError as exc:
            refusal = escape(str(exc)).capitalize()
            await replies.send(lambda: say(text=refusal, thread_ts=thread))
            return
        text, blocks = blocks_for(
            answered.reply, asked_id=answered.id, public_url=settings.public_url
        )
        # Sent again later if Slack will not take it now: the event is already claimed.
        await replies.send(lambda: say(text=escape(text), blocks=blocks, thread_ts=thread))

    escalations = None
    if cases is not None:
        escalations = SlackEscalations(cases=cases, settings=settings, org_for=org_for)
        escalations.register(app)

    app.event("message")(on_question)
    app.event("app_mention")(on_question)

    @app.command("/policy")
    async def policy_command(ack: Any, command: dict[str, Any], client: AsyncWebClient) -> None:
        org = org_for(command.get("team_id"))
        if org is None:
            await ack(text="This Slack workspace is not linked to a council yet.")
            return
        wants_report = str(command.get("text") or "").strip().casefold() == "report"
        if wants_report and escalations is not None and escalations.takes_reports(org):
            await ack()
            await escalations.open_report(client, trigger_id=command["trigger_id"], org=org)
            return
        question = Question(
            org=org,
            text=str(command.get("text") or ""),
            asker=str(command.get("user_id") or ""),
            where=str(command.get("channel_id") or ""),
        )
        try:
            answered = await answering.answer(question)
        except QuestionError:
            await ack(
                text="Type your question after /policy, e.g. `/policy can I friend a client?`"
            )
            return
        text, blocks = blocks_for(
            answered.reply, asked_id=answered.id, public_url=settings.public_url
        )
        await ack(response_type="ephemeral", text=escape(text), blocks=blocks)

    @app.action(re.compile(r"^clarify_\d$"))
    async def clarify_option(
        ack: Any, action: dict[str, Any], body: dict[str, Any], respond: Any
    ) -> None:
        await ack()
        chosen = json.loads(action["value"])
        user = body.get("user", {}).get("id", "")
        question = Question(org=chosen["org"], text=chosen["clause"], asker=user)
        answered = await answering.explain(question, chosen["clause"])
        text, blocks = blocks_for(
            answered.reply, asked_id=answered.id, public_url=settings.public_url
        )
        await respond(replace_original=True, text=escape(text), blocks=blocks)

    @app.action(re.compile(r"^feedback_(up|down)$"))
    async def feedback(ack: Any, action: dict[str, Any], respond: Any) -> None:
        await ack()
        try:
            await answering.feedback(action["value"], helpful=action["action_id"] == "feedback_up")
        except UnknownQuestionError:
            return
        await respond(
            response_type="ephemeral", replace_original=False, text="Thanks for the feedback."
        )

    @app.action("escalate")
    async def escalate(
        ack: Any, action: dict[str, Any], body: dict[str, Any], respond: Any, client: AsyncWebClient
    ) -> None:
        await ack()
        org = org_for((body.get("team") or {}).get("id"))
        if escalations is not None and org is not None and escalations.takes_reports(org):
            await escalations.open_report(client, trigger_id=body["trigger_id"], org=org)
            return
        chosen = json.loads(action["value"])
        policy = assistant.knowledge.policy(chosen["org"])
        contact = policy.contacts.hr if chosen["route"] == "hr" else policy.contacts.comms
        await respond(
            response_type="ephemeral",
            replace_original=False,
            text=escape(f"Please contact {contact}; they will take it from here."),
        )

    @app.event("app_home_opened")
    async def home(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        org = org_for(body.get("team_id"))
        can_report = escalations is not None and escalations.takes_reports(org)
        await client.views_publish(
            user_id=event["user"], view=home_view(assistant, org, can_report=can_report)
        )

    return SlackBot(app=app, learn_identity=learn_identity, replies=replies)


def home_view(assistant: Assistant, org: str | None, *, can_report: bool = False) -> dict[str, Any]:
    """The App Home tab: what the bot does, example questions for the council, how to report
    (with a button to open the report form where the council's teams take reports here)."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Social media policy assistant"}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "verbatim": True,
                "text": "Ask me about your council's social media policy: send me a direct "
                "message, mention me in a channel, or type `/policy` and your question. "
                "I quote the policy itself and tell you who to ask when it is silent.",
            },
        },
    ]
    if org is not None:
        policy = assistant.knowledge.policy(org)
        examples = [c.questions[0] for c in policy.clauses[:: max(1, len(policy.clauses) // 5)]][:5]
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "verbatim": True,
                    "text": escape(f"{policy.council}: {policy.title}")
                    + "\n*Try asking:*\n"
                    + "\n".join(f"• {escape(q)}" for q in examples),
                },
            }
        )
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "verbatim": True,
                    "text": "*To report a problem:* "
                    + escape(f"HR: {policy.contacts.hr}. Communications: {policy.contacts.comms}."),
                },
            }
        )
        if can_report:
            blocks.append(
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": REPORT_BUTTON,
                            "style": "primary",
                            "text": {"type": "plain_text", "text": "Report an incident"},
                            "value": org,
                        }
                    ],
                }
            )
    return {"type": "home", "blocks": blocks}
