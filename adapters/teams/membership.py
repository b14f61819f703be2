"""Whether the person clicking on an alert is in the team that owns the desk's Teams channel, for
desks that let their channel's members act (`channel_members_may_act`).

Only a click made in the desk's own channel is vouched for: Teams names the team that owns the
conversation in the activity's channelData, and that is the team asked about. The Bot Connector
answers for the team; the members of a private channel are fewer than its team's, so a desk in
one should list its members instead.

botbuilder 4.17's `TeamsInfo.get_team_member` asks about the activity's conversation whatever
team id it is given, so the team's member is asked for here with the same connector client
(`GET /v3/conversations/{teamId}/members/{userId}`), as the SDK does in C# and JavaScript.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import Activity
from msrest.exceptions import ClientException, HttpOperationError

from adapters.config import DeskSettings

log = logging.getLogger("policybot.teams")
# Teams waits a few seconds for the answer to an invoke: a slow connector must not make the
# click fail, so it is cut short and the configured member list decides alone.
MEMBERSHIP_TIMEOUT_SECONDS = 1.5


def channel_id(conversation_id: str) -> str:
    """A channel's id from a conversation id, which in a channel thread goes on with
    ";messageid=<the thread's first message>"."""
    return conversation_id.split(";", 1)[0]


def clicked_in(activity: Activity) -> str | None:
    """The conversation the click came from, as a channel id (None when Teams did not say)."""
    conversation = activity.conversation
    return channel_id(conversation.id) if conversation is not None and conversation.id else None


def team_of(activity: Activity) -> str | None:
    """The team that owns the conversation, from the activity's channelData."""
    team = (activity.channel_data or {}).get("team") or {}
    return str(team["id"]) if team.get("id") else None


def lets_channel_members_act(desks: Iterable[DeskSettings], channel: str) -> bool:
    """Whether one of `desks` has `channel` as its Teams channel and lets its members act."""
    return any(
        desk.channel_members_may_act
        and desk.teams_channel is not None
        and channel_id(desk.teams_channel) == channel
        for desk in desks
    )


async def in_team(
    turn_context: TurnContext,
    *,
    team_id: str,
    user_id: str,
    timeout_seconds: float = MEMBERSHIP_TIMEOUT_SECONDS,
) -> bool | None:
    """True when the Bot Connector finds `user_id` among the team's members, False when it says
    there is no such member (404), None when it did not say (another error, or too slow)."""
    connector = turn_context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
    if connector is None:
        return None
    try:
        async with asyncio.timeout(timeout_seconds):
            await connector.conversations.get_conversation_member(team_id, user_id)
    except HttpOperationError as error:
        status = getattr(error.response, "status_code", None)
        if status == 404:
            log.info("not a member of the desk channel's team")
            return False
        log.warning("team member lookup failed (%s)", status)
        return None
    except (ClientException, TimeoutError) as error:
        log.warning("team member lookup failed (%s)", type(error).__name__)
        return None
    return True
