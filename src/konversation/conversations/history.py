"""Reading the conversation log: chat messages, closed conversations and agent activity."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import mean
from typing import Any

from sqlalchemy import ColumnElement, false, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from konversation.conversations.models import AgentActivity, Conversation, Direction, Message
from konversation.conversations.service import ActivityAction, ActivitySource
from konversation.db import PageRequest, fetch_page
from konversation.errors import Invalid
from konversation.ids import MAX_ID, Kind, format_ns
from konversation.subscribers import service as subscribers
from konversation.subscribers.models import Subscriber

DATA_LIMIT = 1000
# The actions that open or suspend a conversation: what its handling time is read from.
STATUS_ACTIONS = frozenset(
    {ActivityAction.OPEN, ActivityAction.PENDING, ActivityAction.SPAM, ActivityAction.CLOSE}
)


@dataclass(frozen=True)
class Period:
    """A span of unix seconds, both ends included; None leaves that end open."""

    start: int | None = None
    end: int | None = None

    def conditions(self, column: QueryableAttribute[Any]) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.start is not None:
            conditions.append(column >= _moment(self.start, "start_time"))
        if self.end is not None:
            # Stored times carry fractions of a second: the whole last second is included.
            conditions.append(column < _moment(self.end + 1, "end_time"))
        return conditions


def _moment(seconds: int, name: str) -> dt.datetime:
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (OverflowError, ValueError, OSError):
        raise Invalid.field(name, f"The {name} field must be a valid unix timestamp.") from None


def _id_is(column: QueryableAttribute[Any], value: int) -> ColumnElement[bool]:
    return column == value if 0 <= value <= MAX_ID else false()


def _user_ns(bot_id: int, number: int) -> str:
    return format_ns(bot_id, Kind.SUBSCRIBER, number)


@dataclass(frozen=True)
class ChatQuery:
    """Whose messages, which kinds and when. Incoming messages are always shown."""

    user_ns: str | None = None
    user_id: str | None = None
    include_bot: bool = False
    include_note: bool = False
    include_system: bool = False
    period: Period = Period()

    def directions(self) -> list[str]:
        # The bot's and the agents' messages are both outgoing: `include_bot` shows them all.
        shown = {
            Direction.IN: True,
            Direction.OUT: self.include_bot,
            Direction.AGENT: self.include_bot,
            Direction.NOTE: self.include_note,
            Direction.SYSTEM: self.include_system,
        }
        return [direction.value for direction, show in shown.items() if show]


NEWEST_FIRST = (Message.created_at.desc(), Message.id.desc())


@dataclass(frozen=True)
class ChatLine:
    message: Message
    user_ns: str


async def chat_messages(
    session: AsyncSession, bot_id: int, wanted: ChatQuery, *, window: PageRequest
) -> tuple[list[ChatLine], int]:
    """One page of a subscriber's messages, newest first."""
    subscriber = await _one_subscriber(session, bot_id, wanted)
    query = (
        select(Message)
        .where(
            Message.subscriber_id == subscriber.id,
            Message.direction.in_(wanted.directions()),
            *wanted.period.conditions(Message.created_at),
        )
        .order_by(*NEWEST_FIRST)
    )
    messages, total = await fetch_page(session, query, window)
    user_ns = _user_ns(bot_id, subscriber.number)
    return [ChatLine(message, user_ns) for message in messages], total


async def _one_subscriber(session: AsyncSession, bot_id: int, wanted: ChatQuery) -> Subscriber:
    if wanted.user_ns:
        return await subscribers.get_subscriber(session, bot_id, wanted.user_ns)
    if wanted.user_id:
        return await subscribers.get_by_user_id(session, bot_id, wanted.user_id)
    raise Invalid(
        {
            "user_ns": ["The user_ns field is required when user_id is not present."],
            "user_id": ["The user_id field is required when user_ns is not present."],
        }
    )


async def messages_by_mids(
    session: AsyncSession, bot_id: int, mids: Sequence[str]
) -> list[ChatLine]:
    """The bot's messages with these mids, newest first; unknown mids are simply left out."""
    rows = await session.execute(
        select(Message, Subscriber.number)
        .join(Subscriber, Subscriber.id == Message.subscriber_id)
        .where(Message.bot_id == bot_id, Message.mid.in_(set(mids)))
        .order_by(*NEWEST_FIRST)
    )
    return [ChatLine(message, _user_ns(bot_id, number)) for message, number in rows]


@dataclass(frozen=True)
class ConversationQuery:
    """Closed conversations, by the time they closed, after the conversation id `start_id`."""

    user_ns: str | None = None
    period: Period = Period()
    start_id: int | None = None
    limit: int = 100


@dataclass(frozen=True)
class ClosedConversation:
    conversation: Conversation
    user_ns: str
    handling_seconds: int | None


async def closed_conversations(
    session: AsyncSession, bot_id: int, wanted: ConversationQuery
) -> list[ClosedConversation]:
    """The bot's closed conversations in id order, for exports that resume after an id."""
    query = (
        select(Conversation, Subscriber.number)
        .join(Subscriber, Subscriber.id == Conversation.subscriber_id)
        .where(
            Conversation.bot_id == bot_id,
            Conversation.closed.is_(True),
            *wanted.period.conditions(Conversation.last_close_at),
        )
        .order_by(Conversation.id)
        .limit(wanted.limit)
    )
    if wanted.user_ns:
        subscriber = await subscribers.get_subscriber(session, bot_id, wanted.user_ns)
        query = query.where(Conversation.subscriber_id == subscriber.id)
    if wanted.start_id is not None:
        query = query.where(Conversation.id > min(wanted.start_id, MAX_ID))
    rows = list(await session.execute(query))
    handling = await _handling_seconds(session, [conversation for conversation, _ in rows])
    return [
        ClosedConversation(conversation, _user_ns(bot_id, number), handling.get(conversation.id))
        for conversation, number in rows
    ]


async def _handling_seconds(
    session: AsyncSession, conversations: Sequence[Conversation]
) -> dict[int, int]:
    """Seconds each assigned conversation spent open (not pending) from its first assignment."""
    assigned = {c.id: c.first_assign_at for c in conversations if c.first_assign_at is not None}
    events: dict[int | None, list[tuple[str, dt.datetime]]] = defaultdict(list)
    for conversation_id, action, at in await session.execute(
        select(AgentActivity.conversation_id, AgentActivity.action, AgentActivity.created_at)
        .where(
            AgentActivity.conversation_id.in_(assigned),
            AgentActivity.action.in_([a.value for a in STATUS_ACTIONS]),
        )
        .order_by(AgentActivity.conversation_id, AgentActivity.created_at, AgentActivity.id)
    ):
        events[conversation_id].append((action, at))
    return {
        conversation_id: _open_seconds(events[conversation_id], since=since)
        for conversation_id, since in assigned.items()
    }


def _open_seconds(events: Iterable[tuple[str, dt.datetime]], *, since: dt.datetime) -> int:
    total = 0.0
    open_since: dt.datetime | None = None
    for action, at in events:
        if action == ActivityAction.OPEN:
            open_since = open_since or at
        elif open_since is not None:
            total += max(0.0, (at - max(open_since, since)).total_seconds())
            open_since = None
    return round(total)


def seconds_between(start: dt.datetime | None, end: dt.datetime | None) -> int | None:
    """Whole seconds from `start` to `end`; None when either is unknown or `end` came first."""
    if start is None or end is None or end < start:
        return None
    return round((end - start).total_seconds())


def mean_seconds(seconds: Sequence[int]) -> int | None:
    return round(mean(seconds)) if seconds else None


@dataclass(frozen=True)
class ActivityQuery:
    user_ns: str | None = None
    agent_id: int | None = None
    conv_id: int | None = None
    action: ActivityAction | None = None
    source_type: ActivitySource | None = None
    period: Period = Period()
    limit: int = 100


@dataclass(frozen=True)
class ActivityLine:
    activity: AgentActivity
    user_ns: str


async def activity_log(
    session: AsyncSession, bot_id: int, wanted: ActivityQuery
) -> list[ActivityLine]:
    """The bot's activity log, oldest first."""
    query = (
        select(AgentActivity, Subscriber.number)
        .join(Subscriber, Subscriber.id == AgentActivity.subscriber_id)
        .where(AgentActivity.bot_id == bot_id, *wanted.period.conditions(AgentActivity.created_at))
        .order_by(AgentActivity.created_at, AgentActivity.id)
        .limit(wanted.limit)
    )
    if wanted.user_ns:
        subscriber = await subscribers.get_subscriber(session, bot_id, wanted.user_ns)
        query = query.where(AgentActivity.subscriber_id == subscriber.id)
    if wanted.agent_id is not None:
        query = query.where(_id_is(AgentActivity.agent_id, wanted.agent_id))
    if wanted.conv_id is not None:
        query = query.where(_id_is(AgentActivity.conversation_id, wanted.conv_id))
    if wanted.action is not None:
        query = query.where(AgentActivity.action == wanted.action.value)
    if wanted.source_type is not None:
        query = query.where(AgentActivity.source_type == wanted.source_type.value)
    rows = await session.execute(query)
    return [ActivityLine(activity, _user_ns(bot_id, number)) for activity, number in rows]
