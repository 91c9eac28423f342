"""A subscriber's state on the bot: chat status, assignment, bot pause, subscription, opt-ins.

These are the API's changes: the activity log records them with the source `api`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.conversations import service as conversations
from konversation.conversations.service import ActivityAction, ActivitySource
from konversation.db import utcnow
from konversation.errors import Invalid, NotFound
from konversation.ids import MAX_ID
from konversation.subscribers.models import ConversationStatus, Subscriber
from konversation.subscribers.service import get_subscriber
from konversation.workspaces.models import AgentGroup, Membership
from konversation.workspaces.service import get_bot

DEFAULT_PAUSE_MINUTES = 60
MAX_PAUSE_MINUTES = 525_600  # a year
OPTED_IN_THROUGH_API = "api"


async def move_chat_to(
    session: AsyncSession, bot_id: int, *, user_ns: str, status: ConversationStatus
) -> None:
    subscriber = await get_subscriber(session, bot_id, user_ns)
    await conversations.move_chat(session, subscriber, status, source=ActivitySource.API)


async def assign_agent(session: AsyncSession, bot_id: int, *, user_ns: str, agent_id: int) -> None:
    """Hand the chat to a member of the bot's workspace, whatever their role."""
    subscriber = await get_subscriber(session, bot_id, user_ns)
    workspace_id = (await get_bot(session, bot_id)).workspace_id
    member = None
    if 0 < agent_id <= MAX_ID:
        member = await session.scalar(
            select(Membership.id).where(
                Membership.workspace_id == workspace_id, Membership.user_id == agent_id
            )
        )
    if member is None:
        raise NotFound("Agent not found")
    await conversations.assign_agent(
        session, subscriber, agent_id=agent_id, source=ActivitySource.API
    )


async def assign_agent_group(
    session: AsyncSession, bot_id: int, *, user_ns: str, agent_group_id: int
) -> None:
    subscriber = await get_subscriber(session, bot_id, user_ns)
    workspace_id = (await get_bot(session, bot_id)).workspace_id
    group = None
    if 0 < agent_group_id <= MAX_ID:
        group = await session.scalar(
            select(AgentGroup.id).where(
                AgentGroup.workspace_id == workspace_id, AgentGroup.id == agent_group_id
            )
        )
    if group is None:
        raise NotFound("Agent group not found")
    subscriber.agent_group_id = group


async def unassign_agent(session: AsyncSession, bot_id: int, *, user_ns: str) -> None:
    """The chat goes back to nobody in particular; a group it was handed to keeps it."""
    subscriber = await get_subscriber(session, bot_id, user_ns)
    subscriber.assigned_agent_id = None


async def pause_bot(session: AsyncSession, bot_id: int, *, user_ns: str, minutes: int) -> None:
    """Stop the bot's automation for this subscriber for a while; agents can still write."""
    if not 1 <= minutes <= MAX_PAUSE_MINUTES:
        raise Invalid.field(
            "minutes", f"The minutes field must be between 1 and {MAX_PAUSE_MINUTES}."
        )
    subscriber = await get_subscriber(session, bot_id, user_ns)
    subscriber.paused_until = utcnow() + dt.timedelta(minutes=minutes)


async def resume_bot(session: AsyncSession, bot_id: int, *, user_ns: str) -> None:
    subscriber = await get_subscriber(session, bot_id, user_ns)
    subscriber.paused_until = None


async def set_subscribed(
    session: AsyncSession, bot_id: int, *, user_ns: str, subscribed: bool
) -> None:
    """Whether the bot may message the subscriber; only a real change is logged."""
    subscriber = await get_subscriber(session, bot_id, user_ns)
    if subscriber.is_subscribed == subscribed:
        return
    subscriber.is_subscribed = subscribed
    subscriber.subscribed_at = utcnow() if subscribed else None
    action = ActivityAction.SUBSCRIBE_TO_BOT if subscribed else ActivityAction.UNSUBSCRIBE_FROM_BOT
    await conversations.log_activity(session, subscriber, action, source=ActivitySource.API)


class Reach(StrEnum):
    """The channels a subscriber opts in to separately from the chat."""

    EMAIL = "email"
    SMS = "sms"


@dataclass(frozen=True)
class _OptIn:
    contact: str  # the subscriber's attribute the channel needs
    since: str  # the attribute holding when they opted in
    opt_in: ActivityAction
    opt_out: ActivityAction
    missing: str


_OPT_INS = {
    Reach.EMAIL: _OptIn(
        "email",
        "opted_in_email_at",
        ActivityAction.OPT_IN_EMAIL,
        ActivityAction.OPT_OUT_EMAIL,
        "The subscriber has no email address to opt in: set one with subscriber/update.",
    ),
    Reach.SMS: _OptIn(
        "phone",
        "opted_in_sms_at",
        ActivityAction.OPT_IN_SMS,
        ActivityAction.OPT_OUT_SMS,
        "The subscriber has no phone number to opt in: set one with subscriber/update.",
    ),
}


async def set_opted_in(
    session: AsyncSession, bot_id: int, *, user_ns: str, reach: Reach, opted_in: bool
) -> None:
    """Opt the subscriber in to (or out of) email or SMS; only a real change is logged."""
    subscriber = await get_subscriber(session, bot_id, user_ns)
    opt = _OPT_INS[reach]
    if opted_in and not getattr(subscriber, opt.contact):
        raise Invalid.field("user_ns", opt.missing)
    if (getattr(subscriber, opt.since) is not None) == opted_in:
        return
    setattr(subscriber, opt.since, utcnow() if opted_in else None)
    if opted_in:
        subscriber.opted_in_through = OPTED_IN_THROUGH_API
    elif not _opted_in_anywhere(subscriber):
        subscriber.opted_in_through = None
    action = opt.opt_in if opted_in else opt.opt_out
    await conversations.log_activity(session, subscriber, action, source=ActivitySource.API)


def _opted_in_anywhere(subscriber: Subscriber) -> bool:
    return any(getattr(subscriber, opt.since) is not None for opt in _OPT_INS.values())
