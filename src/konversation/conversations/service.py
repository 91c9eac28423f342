"""The conversation log: every message, each conversation from open to close, and who did what.

The flow runtime, agents and the API all record through here, so that a subscriber's activity
times, the per-status counts, the conversation's counters and the activity log stay in step.

A conversation is open while the chat is live (status open or pending) and closes when the chat
is moved to done or spam; a later message or move to open starts a new one. Moving from pending
back to open re-opens the same conversation (`number_of_opens`, `last_open_at`).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.conversations.models import (
    AgentActivity,
    Conversation,
    Direction,
    Message,
    new_mid,
)
from konversation.db import utcnow
from konversation.subscribers import service as subscribers
from konversation.subscribers.models import ConversationStatus, Subscriber


class ActivitySource(StrEnum):
    """Who caused a change: an agent, the bot, the subscriber, an API call or a webhook."""

    AGENT = "agent"
    BOT = "bot"
    BOT_USER = "bot_user"
    API = "api"
    WEBHOOK = "webhook"


class ActivityAction(StrEnum):
    OPEN = "open"
    CLOSE = "close"
    ASSIGN = "assign"
    REPLY = "reply"
    NOTE = "note"
    PENDING = "pending"
    SPAM = "spam"
    INVALID = "invalid"
    # Collaborators are not kept yet; the values exist so that filtering by them finds nothing.
    ADD_COLLABORATOR = "add_collaborator"
    REMOVE_COLLABORATOR = "remove_collaborator"
    SUBSCRIBE_TO_BOT = "subscribe_to_bot"
    UNSUBSCRIBE_FROM_BOT = "unsubscribe_from_bot"
    OPT_IN_SMS = "opt_in_sms"
    OPT_OUT_SMS = "opt_out_sms"
    OPT_IN_EMAIL = "opt_in_email"
    OPT_OUT_EMAIL = "opt_out_email"


class Opener(StrEnum):
    """How a conversation began: its `source_type`."""

    AGENT = "agent"  # the team (an agent, the bot, an API call or a webhook) opened it
    NEW_USER = "new_user"  # the subscriber wrote, and never had a conversation before
    RETURN_USER = "return_user"  # the subscriber wrote, and had conversations before


ENDING_STATUSES = frozenset({ConversationStatus.DONE, ConversationStatus.SPAM})
ACTION_OF_STATUS = {
    ConversationStatus.OPEN: ActivityAction.OPEN,
    ConversationStatus.PENDING: ActivityAction.PENDING,
    ConversationStatus.SPAM: ActivityAction.SPAM,
    ConversationStatus.DONE: ActivityAction.CLOSE,
}


# Recording


async def record_message(
    session: AsyncSession,
    subscriber: Subscriber,
    *,
    direction: Direction,
    msg_type: str,
    content: str,
    payload: dict[str, Any],
    agent_id: int | None = None,
    at: dt.datetime | None = None,
    mid: str | None = None,
) -> Message:
    """Log a message and everything it changes: the subscriber's times, the open conversation.

    A subscriber's message opens a conversation when none is open (a done chat comes back to
    open), unless the chat is spam; the other kinds only count in a conversation already open.
    `mid` gives the message a known id (unique on the server) instead of a random one.
    """
    message = _new_message(subscriber, direction, msg_type, content, payload, agent_id, at)
    if mid is not None:
        message.mid = mid
    await _record(session, subscriber, message)
    return message


def bot_message(
    subscriber: Subscriber,
    conversation: Conversation | None,
    *,
    msg_type: str,
    content: str,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """A message of the bot, counted on the subscriber and their open `conversation` as
    `record_message` would, but left to the caller to store (these are its `messages`
    columns): for callers that store many at once."""
    at = utcnow()
    _touch_subscriber(subscriber, Direction.OUT, at, msg_type, content)
    if conversation is not None:
        _count(conversation, Direction.OUT, at, None)
    return {
        "mid": new_mid(),
        "bot_id": subscriber.bot_id,
        "subscriber_id": subscriber.id,
        "direction": Direction.OUT.value,
        "msg_type": msg_type,
        "content": content,
        "payload": payload,
        "agent_id": None,
        "created_at": at,
    }


async def reply(
    session: AsyncSession,
    subscriber: Subscriber,
    *,
    agent_id: int,
    content: str,
    msg_type: str = "text",
    payload: dict[str, Any] | None = None,
    source: ActivitySource = ActivitySource.AGENT,
    at: dt.datetime | None = None,
) -> Message:
    """An agent's message to the subscriber, logged as the agent's reply."""
    return await _agent_message(
        session,
        subscriber,
        Direction.AGENT,
        agent_id=agent_id,
        content=content,
        msg_type=msg_type,
        payload=payload,
        source=source,
        at=at,
    )


async def note(
    session: AsyncSession,
    subscriber: Subscriber,
    *,
    agent_id: int,
    content: str,
    source: ActivitySource = ActivitySource.AGENT,
    at: dt.datetime | None = None,
) -> Message:
    """A private note an agent leaves on the chat; the subscriber never sees it."""
    return await _agent_message(
        session,
        subscriber,
        Direction.NOTE,
        agent_id=agent_id,
        content=content,
        msg_type="text",
        payload=None,
        source=source,
        at=at,
    )


async def _agent_message(
    session: AsyncSession,
    subscriber: Subscriber,
    direction: Direction,
    *,
    agent_id: int,
    content: str,
    msg_type: str,
    payload: dict[str, Any] | None,
    source: ActivitySource,
    at: dt.datetime | None,
) -> Message:
    body = {"text": content} if payload is None else payload
    message = _new_message(subscriber, direction, msg_type, content, body, agent_id, at)
    conversation = await _record(session, subscriber, message)
    action = ActivityAction.REPLY if direction is Direction.AGENT else ActivityAction.NOTE
    await log_activity(
        session,
        subscriber,
        action,
        source=source,
        agent_id=agent_id,
        conversation=conversation,
        at=message.created_at,
    )
    return message


def _new_message(
    subscriber: Subscriber,
    direction: Direction,
    msg_type: str,
    content: str,
    payload: dict[str, Any],
    agent_id: int | None,
    at: dt.datetime | None,
) -> Message:
    return Message(
        bot_id=subscriber.bot_id,
        subscriber_id=subscriber.id,
        direction=direction.value,
        msg_type=msg_type,
        content=content,
        payload=payload,
        agent_id=agent_id,
        created_at=at or utcnow(),
    )


async def _record(
    session: AsyncSession, subscriber: Subscriber, message: Message
) -> Conversation | None:
    """Store the message; answer the conversation it counted in, if any."""
    session.add(message)
    direction = Direction(message.direction)
    _touch_subscriber(subscriber, direction, message.created_at, message.msg_type, message.content)
    conversation = await _conversation_for(session, subscriber, message)
    if conversation is not None:
        _count(conversation, direction, message.created_at, message.agent_id)
    await session.flush()
    return conversation


def _touch_subscriber(
    subscriber: Subscriber, direction: Direction, at: dt.datetime, msg_type: str, content: str
) -> None:
    # Notes and system lines are the team's own: they are not part of the exchange.
    if direction in {Direction.IN, Direction.OUT, Direction.AGENT}:
        subscriber.last_message_at = at
        subscriber.last_message_type = msg_type
    if direction is Direction.IN:
        subscriber.last_interaction_at = at
        subscriber.activity_at = at
        subscriber.last_input_text = content
    elif direction is Direction.OUT:
        subscriber.last_bot_interaction_at = at


async def _conversation_for(
    session: AsyncSession, subscriber: Subscriber, message: Message
) -> Conversation | None:
    if message.direction == Direction.IN and subscriber.status != ConversationStatus.SPAM:
        return await open_conversation(
            session, subscriber, source=ActivitySource.BOT_USER, at=message.created_at
        )
    return await current_conversation(session, subscriber)


def _count(
    conversation: Conversation, direction: Direction, at: dt.datetime, agent_id: int | None
) -> None:
    if direction is Direction.IN:
        conversation.in_messages += 1
        # The wait runs from the earliest message nobody on the team has answered yet.
        conversation.waiting_since = conversation.waiting_since or at
    elif direction is Direction.OUT:
        conversation.bot_messages += 1
    elif direction is Direction.NOTE:
        conversation.number_of_notes += 1
    elif direction is Direction.AGENT:
        _count_reply(conversation, agent_id, at)


def _count_reply(conversation: Conversation, agent_id: int | None, at: dt.datetime) -> None:
    conversation.agent_messages += 1
    if conversation.first_reply_at is None:
        conversation.first_reply_at = at
        conversation.first_reply_agent_id = agent_id
    if conversation.last_assign_at is not None:
        conversation.first_reply_after_last_assign_at = (
            conversation.first_reply_after_last_assign_at or at
        )
    # JSON columns are stored when reassigned, not when changed in place.
    if agent_id is not None and agent_id not in conversation.agent_ids:
        conversation.agent_ids = [*conversation.agent_ids, agent_id]
    if conversation.waiting_since is not None:
        waited = round((at - conversation.waiting_since).total_seconds())
        conversation.response_seconds = [*conversation.response_seconds, max(0, waited)]
        conversation.waiting_since = None


async def current_conversation(
    session: AsyncSession, subscriber: Subscriber
) -> Conversation | None:
    """The subscriber's open conversation, if any (there is at most one)."""
    return await session.scalar(
        select(Conversation)
        .where(Conversation.subscriber_id == subscriber.id, Conversation.closed.is_(False))
        .order_by(Conversation.id.desc())
        .limit(1)
    )


async def open_conversation(
    session: AsyncSession,
    subscriber: Subscriber,
    *,
    source: ActivitySource,
    agent_id: int | None = None,
    at: dt.datetime | None = None,
) -> Conversation:
    """The subscriber's open conversation, started now if there is none.

    An open conversation means a live chat, so a done or spam chat moves back to open.
    """
    conversation = await current_conversation(session, subscriber)
    if conversation is not None:
        return conversation
    at = at or utcnow()
    if subscriber.status in ENDING_STATUSES:
        await subscribers.change_status(session, subscriber, ConversationStatus.OPEN)
    first = await _never_had_a_conversation(session, subscriber)
    conversation = Conversation(
        bot_id=subscriber.bot_id,
        subscriber_id=subscriber.id,
        source_type=_opener(source, first=first).value,
        is_new_bot_user=first,
        closed=False,
        opened_source=source.value,
        first_open_at=at,
        last_open_at=at,
        number_of_opens=1,
        created_at=at,
    )
    session.add(conversation)
    await session.flush()
    await log_activity(
        session,
        subscriber,
        ActivityAction.OPEN,
        source=source,
        agent_id=agent_id,
        conversation=conversation,
        at=at,
    )
    return conversation


def _opener(source: ActivitySource, *, first: bool) -> Opener:
    if source is not ActivitySource.BOT_USER:
        return Opener.AGENT
    return Opener.NEW_USER if first else Opener.RETURN_USER


async def _never_had_a_conversation(session: AsyncSession, subscriber: Subscriber) -> bool:
    earlier = await session.scalar(
        select(Conversation.id).where(Conversation.subscriber_id == subscriber.id).limit(1)
    )
    return earlier is None


async def move_chat(
    session: AsyncSession,
    subscriber: Subscriber,
    status: ConversationStatus,
    *,
    source: ActivitySource,
    agent_id: int | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Change the chat's status, keeping the conversation and the activity log in step.

    Done and spam close the open conversation; open and pending need one, so they open it.
    A move to the status the chat already has changes nothing and logs nothing.
    """
    at = at or utcnow()
    if status in ENDING_STATUSES:
        await _end_chat(session, subscriber, status, source=source, agent_id=agent_id, at=at)
    else:
        await _keep_chat_live(session, subscriber, status, source=source, agent_id=agent_id, at=at)


async def _end_chat(
    session: AsyncSession,
    subscriber: Subscriber,
    status: ConversationStatus,
    *,
    source: ActivitySource,
    agent_id: int | None,
    at: dt.datetime,
) -> None:
    conversation = await current_conversation(session, subscriber)
    changed = subscriber.status != status.value
    if conversation is not None:
        # Closed by the bot or the API, the conversation is credited to whoever had the chat.
        _close(conversation, source, closer=agent_id or subscriber.assigned_agent_id, at=at)
    await subscribers.change_status(session, subscriber, status)
    if conversation is not None or changed:
        await log_activity(
            session,
            subscriber,
            ACTION_OF_STATUS[status],
            source=source,
            agent_id=agent_id,
            conversation=conversation,
            at=at,
        )


def _close(
    conversation: Conversation, source: ActivitySource, *, closer: int | None, at: dt.datetime
) -> None:
    if conversation.first_close_at is None:
        conversation.first_close_at = at
        conversation.first_close_agent_id = closer
    conversation.closed = True
    conversation.closed_source = source.value
    conversation.last_close_at = at
    conversation.last_close_agent_id = closer
    conversation.number_of_closes += 1
    conversation.waiting_since = None


async def _keep_chat_live(
    session: AsyncSession,
    subscriber: Subscriber,
    status: ConversationStatus,
    *,
    source: ActivitySource,
    agent_id: int | None,
    at: dt.datetime,
) -> None:
    conversation = await open_conversation(
        session, subscriber, source=source, agent_id=agent_id, at=at
    )
    if subscriber.status == status.value:
        return
    await subscribers.change_status(session, subscriber, status)
    if status is ConversationStatus.OPEN:
        conversation.number_of_opens += 1
        conversation.last_open_at = at
    await log_activity(
        session,
        subscriber,
        ACTION_OF_STATUS[status],
        source=source,
        agent_id=agent_id,
        conversation=conversation,
        at=at,
    )


async def assign_agent(
    session: AsyncSession,
    subscriber: Subscriber,
    *,
    agent_id: int,
    source: ActivitySource,
    at: dt.datetime | None = None,
) -> None:
    """Hand the chat to an agent, opening a conversation if none is open.

    Assigning the agent who already has the open conversation changes nothing.
    """
    at = at or utcnow()
    conversation = await open_conversation(session, subscriber, source=source, at=at)
    if subscriber.assigned_agent_id == agent_id and conversation.last_assign_agent_id == agent_id:
        return
    subscriber.assigned_agent_id = agent_id
    if conversation.first_assign_at is None:
        conversation.first_assign_at = at
        conversation.first_assign_agent_id = agent_id
    conversation.last_assign_at = at
    conversation.last_assign_agent_id = agent_id
    conversation.first_reply_after_last_assign_at = None
    conversation.number_of_assignments += 1
    await log_activity(
        session,
        subscriber,
        ActivityAction.ASSIGN,
        source=source,
        agent_id=agent_id,
        conversation=conversation,
        at=at,
    )


async def log_activity(
    session: AsyncSession,
    subscriber: Subscriber,
    action: ActivityAction,
    *,
    source: ActivitySource,
    agent_id: int | None = None,
    conversation: Conversation | None = None,
    at: dt.datetime | None = None,
) -> AgentActivity:
    """One line of the activity log; without a conversation, the open one (if any) is named."""
    if conversation is None:
        conversation = await current_conversation(session, subscriber)
    activity = AgentActivity(
        bot_id=subscriber.bot_id,
        subscriber_id=subscriber.id,
        conversation_id=conversation.id if conversation else None,
        agent_id=agent_id,
        action=action.value,
        source_type=source.value,
        created_at=at or utcnow(),
    )
    session.add(activity)
    await session.flush()
    return activity
