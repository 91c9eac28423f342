"""The Connect API's shapes for the message log, closed conversations and the activity log."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel, Field

from konversation.conversations.history import (
    DATA_LIMIT,
    ActivityLine,
    ActivityQuery,
    ChatLine,
    ChatQuery,
    ClosedConversation,
    ConversationQuery,
    Period,
    mean_seconds,
    seconds_between,
)
from konversation.conversations.models import Direction
from konversation.conversations.service import ActivityAction, ActivitySource
from konversation.ids import bot_ns
from konversation.subscribers.wire import wire_time
from konversation.wire.params import BlankIsNone, yes_no

DEFAULT_DATA_LIMIT = 100

UserNsFilter = Annotated[
    str | None, BlankIsNone, Query(description="The subscriber's id.", examples=["f1u1"])
]
UnixTime = Annotated[
    int | None, BlankIsNone, Query(description="Unix seconds.", examples=[1786123679])
]
Flag = Annotated[str | None, Query(description="`1|0`, `yes|no` or `true|false`; off if unset.")]


# Chat messages


class ChatPayloadOut(BaseModel):
    text: str | None = Field(examples=["Hello!"])
    url: str | None = Field(description="Where an image, audio, video or file lies.")


class ChatMessageOut(BaseModel):
    id: int = Field(examples=[123])
    mid: str = Field(description="The id `chat-messages-by-mids` takes.", examples=["9f2c..."])
    type: Literal["in", "out", "agent", "note", "system"] = Field(
        description=(
            "`in` from the subscriber, `out` from the bot, `agent` from a person of the team, "
            "`note` an agent's private note, `system` a line the platform added."
        ),
        examples=["in"],
    )
    msg_type: str = Field(description="text, image, audio, video or file.", examples=["text"])
    content: str = Field(examples=["Hello!"])
    payload: ChatPayloadOut
    sender_id: str | None = Field(
        description=(
            "Who sent it: the subscriber's user_ns for `in`, the agent's id as text for `agent` "
            "and `note`, `bot` for `out`, `system` for `system`."
        ),
        examples=["f1u1"],
    )
    agent_id: int | None = Field(description="The agent, for `agent` and `note`.")
    ts: int = Field(description="When, in unix seconds.", examples=[1636073956])

    @classmethod
    def of(cls, line: ChatLine) -> ChatMessageOut:
        message = line.message
        return cls(
            id=message.id,
            mid=message.mid,
            type=Direction(message.direction).value,
            msg_type=message.msg_type,
            content=message.content,
            payload=ChatPayloadOut(
                text=_text(message.payload.get("text")), url=_text(message.payload.get("url"))
            ),
            sender_id=_sender(line),
            agent_id=message.agent_id,
            ts=int(message.created_at.timestamp()),
        )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _sender(line: ChatLine) -> str | None:
    direction = Direction(line.message.direction)
    if direction is Direction.IN:
        return line.user_ns
    if direction in {Direction.AGENT, Direction.NOTE}:
        return _text(line.message.agent_id)
    return "bot" if direction is Direction.OUT else "system"


async def chat_query(
    user_ns: Annotated[
        str | None,
        BlankIsNone,
        Query(description="The subscriber's id; required without `user_id`.", examples=["f1u1"]),
    ] = None,
    user_id: Annotated[
        str | None,
        BlankIsNone,
        Query(description="The subscriber's id on their channel; required without `user_ns`."),
    ] = None,
    include_bot: Flag = None,
    include_note: Flag = None,
    include_system: Flag = None,
    start_time: UnixTime = None,
    end_time: UnixTime = None,
) -> ChatQuery:
    """Whose messages, which kinds and when."""
    return ChatQuery(
        user_ns=user_ns,
        user_id=user_id,
        include_bot=bool(yes_no(include_bot, "include_bot")),
        include_note=bool(yes_no(include_note, "include_note")),
        include_system=bool(yes_no(include_system, "include_system")),
        period=Period(start_time, end_time),
    )


class MidsIn(BaseModel):
    mids: list[str] = Field(max_length=100, examples=[["9f2c41d07a8e4b55b1e0c3f6a2d9e871"]])


# Data exports


def _data_limit(limit: int | None) -> int:
    # Clamped, never refused, like every list's `limit`.
    return DEFAULT_DATA_LIMIT if limit is None else min(DATA_LIMIT, max(1, limit))


DataLimit = Annotated[
    int | None,
    BlankIsNone,
    Query(description=f"How many rows: 1 to {DATA_LIMIT}, {DEFAULT_DATA_LIMIT} if unset."),
]


async def conversation_query(
    user_ns: UserNsFilter = None,
    start_time: UnixTime = None,
    end_time: UnixTime = None,
    start_id: Annotated[
        int | None,
        BlankIsNone,
        Query(description="Only conversations with a larger id: the last id of the prior call."),
    ] = None,
    limit: DataLimit = None,
) -> ConversationQuery:
    """Closed conversations, by the time they closed (`start_time`, `end_time`)."""
    return ConversationQuery(
        user_ns=user_ns,
        period=Period(start_time, end_time),
        start_id=start_id,
        limit=_data_limit(limit),
    )


async def activity_query(
    user_ns: UserNsFilter = None,
    agent_id: Annotated[int | None, BlankIsNone, Query(description="The agent's id.")] = None,
    conv_id: Annotated[int | None, BlankIsNone, Query(description="The conversation's id.")] = None,
    action: Annotated[
        ActivityAction | None, BlankIsNone, Query(description="Only this action.")
    ] = None,
    source_type: Annotated[
        ActivitySource | None, BlankIsNone, Query(description="Only changes from this source.")
    ] = None,
    start_time: UnixTime = None,
    end_time: UnixTime = None,
    limit: DataLimit = None,
) -> ActivityQuery:
    return ActivityQuery(
        user_ns=user_ns,
        agent_id=agent_id,
        conv_id=conv_id,
        action=action,
        source_type=source_type,
        period=Period(start_time, end_time),
        limit=_data_limit(limit),
    )


SourceT = Literal["agent", "bot", "bot_user", "api", "webhook"]
# Every timestamp a conversation keeps, and the spans derived from them.
_MOMENTS = (
    "first_open_at",
    "first_close_at",
    "last_open_at",
    "last_close_at",
    "first_assign_at",
    "first_reply_at",
    "last_assign_at",
    "first_reply_after_last_assign_at",
)
_SPANS = {
    "first_open_to_first_assign": ("first_open_at", "first_assign_at"),
    "first_open_to_first_reply": ("first_open_at", "first_reply_at"),
    "first_reply_after_first_assign": ("first_assign_at", "first_reply_at"),
    "first_reply_after_last_assign": ("last_assign_at", "first_reply_after_last_assign_at"),
    "first_assign_to_first_close": ("first_assign_at", "first_close_at"),
    "first_reply_to_first_close": ("first_reply_at", "first_close_at"),
    "first_open_to_first_close": ("first_open_at", "first_close_at"),
    "last_assign_to_last_close": ("last_assign_at", "last_close_at"),
    "first_open_to_last_close": ("first_open_at", "last_close_at"),
}
_COPIED = (
    "first_assign_agent_id",
    "first_reply_agent_id",
    "last_assign_agent_id",
    "first_close_agent_id",
    "last_close_agent_id",
    "source_type",
    "in_messages",
    "agent_messages",
    "bot_messages",
    "number_of_notes",
    "number_of_assignments",
    "number_of_opens",
    "number_of_closes",
    "opened_source",
    "closed_source",
)
Seconds = Annotated[
    int | None,
    Field(description="Seconds between the two moments; null when one is unknown."),
]
Moment = Annotated[str | None, Field(examples=["2026-01-31 10:00:00"])]


class ConversationDataOut(BaseModel):
    """A closed conversation. Times are UTC `YYYY-MM-DD HH:MM:SS`; spans are in seconds."""

    id: int
    flow_ns: str = Field(examples=["f1"])
    user_ns: str = Field(examples=["f1u1"])
    first_assign_agent_id: int | None
    first_reply_agent_id: int | None
    last_assign_agent_id: int | None
    first_close_agent_id: int | None = Field(
        description="Who closed it; when the bot or the API closed it, the assigned agent."
    )
    last_close_agent_id: int | None
    is_new_bot_user: int = Field(description="1 for the subscriber's first conversation.")
    created_at: Moment
    source_type: Literal["agent", "new_user", "return_user"] = Field(
        description=(
            "`new_user` or `return_user` when the subscriber's message opened it (first "
            "conversation or not), `agent` when the team, the bot or the API did."
        )
    )
    first_open_at: Moment
    first_close_at: Moment
    last_open_at: Moment
    last_close_at: Moment
    first_assign_at: Moment
    first_reply_at: Moment
    last_assign_at: Moment
    first_reply_after_last_assign_at: Moment
    first_open_to_first_assign: Seconds
    first_open_to_first_reply: Seconds
    first_reply_after_first_assign: Seconds
    first_reply_after_last_assign: Seconds
    first_assign_to_first_close: Seconds
    first_reply_to_first_close: Seconds
    first_open_to_first_close: Seconds
    last_assign_to_last_close: Seconds
    first_open_to_last_close: Seconds
    handling_time: int | None = Field(
        description="Seconds it spent open (not pending) from its first assignment to its close."
    )
    avg_response_time: int | None = Field(
        description="Mean seconds from a subscriber's unanswered message to an agent's reply."
    )
    avg_subsequent_response_time: int | None = Field(
        description="The same mean, leaving out the first response."
    )
    in_messages: int
    agent_messages: int
    bot_messages: int
    number_of_agent_replies: int = Field(description="Agent messages that answered a wait.")
    number_of_notes: int
    number_of_unique_agents: int = Field(description="How many agents replied.")
    number_of_assignments: int
    number_of_opens: int = Field(description="1, plus one per return from pending to open.")
    number_of_closes: int
    opened_source: SourceT | None
    closed_source: SourceT | None

    @classmethod
    def of(cls, item: ClosedConversation) -> ConversationDataOut:
        c = item.conversation
        spans = {
            name: seconds_between(getattr(c, start), getattr(c, end))
            for name, (start, end) in _SPANS.items()
        }
        return cls(
            id=c.id,
            flow_ns=bot_ns(c.bot_id),
            user_ns=item.user_ns,
            is_new_bot_user=int(c.is_new_bot_user),
            created_at=wire_time(c.created_at),
            handling_time=item.handling_seconds,
            avg_response_time=mean_seconds(c.response_seconds),
            avg_subsequent_response_time=mean_seconds(c.response_seconds[1:]),
            number_of_agent_replies=len(c.response_seconds),
            number_of_unique_agents=len(c.agent_ids),
            **{name: getattr(c, name) for name in _COPIED},
            **{name: wire_time(getattr(c, name)) for name in _MOMENTS},
            **spans,
        )


class AgentActivityOut(BaseModel):
    agent_id: int | None = Field(
        description="The agent who acted, or who was assigned; null for the bot or the API."
    )
    user_ns: str = Field(examples=["f1u1"])
    created_at: str = Field(examples=["2026-01-31 10:00:00"])
    source_type: SourceT
    action: str = Field(examples=["assign"])
    conv_id: int | None = Field(description="The conversation it happened in, if one was open.")

    @classmethod
    def of(cls, line: ActivityLine) -> AgentActivityOut:
        activity = line.activity
        return cls(
            agent_id=activity.agent_id,
            user_ns=line.user_ns,
            created_at=wire_time(activity.created_at) or "",
            source_type=ActivitySource(activity.source_type).value,
            action=activity.action,
            conv_id=activity.conversation_id,
        )
