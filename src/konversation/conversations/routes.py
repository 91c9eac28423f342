"""A subscriber's messages (Subscriber group), closed conversations and the activity log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from konversation.conversations import history
from konversation.conversations.history import ActivityQuery, ChatQuery, ConversationQuery
from konversation.conversations.wire import (
    AgentActivityOut,
    ChatMessageOut,
    ConversationDataOut,
    MidsIn,
    activity_query,
    chat_query,
    conversation_query,
)
from konversation.wire import envelope
from konversation.wire.auth import ManageFlow
from konversation.wire.envelope import ListOut, PageOut
from konversation.wire.errors import wire_errors
from konversation.wire.params import PageParams
from konversation.wire.session import Session

router = APIRouter()

READ = wire_errors(401, 403, 404, 422)


@router.get(
    "/subscriber/chat-messages",
    tags=["Subscriber"],
    responses=READ,
    summary="A subscriber's messages, newest first",
    description=(
        "Only the subscriber's own messages unless `include_bot` (the bot's and the agents' "
        "messages), `include_note` (agents' private notes) or `include_system` is on. "
        "`sender_id` is the subscriber's user_ns for `in`, the agent's id for `agent` and "
        "`note`, `bot` for `out` and `system` for `system`; `ts` is in unix seconds."
    ),
)
async def chat_messages(
    key: ManageFlow,
    session: Session,
    paging: PageParams,
    wanted: Annotated[ChatQuery, Depends(chat_query)],
) -> PageOut[ChatMessageOut]:
    lines, total = await history.chat_messages(session, key.bot_id, wanted, window=paging)
    return envelope.page([ChatMessageOut.of(line) for line in lines], total=total, window=paging)


@router.post(
    "/subscriber/chat-messages-by-mids",
    tags=["Subscriber"],
    responses=READ,
    summary="Messages by their mids",
    description="Up to 100 mids; those of other bots or unknown are left out. Newest first.",
)
async def chat_messages_by_mids(
    body: MidsIn, key: ManageFlow, session: Session
) -> ListOut[ChatMessageOut]:
    lines = await history.messages_by_mids(session, key.bot_id, body.mids)
    return ListOut(data=[ChatMessageOut.of(line) for line in lines])


@router.get(
    "/flow/conversations/data",
    tags=["Flow Conversation"],
    responses=READ,
    summary="Closed conversations, in id order",
    description=(
        "Only closed conversations (moved to done or spam), filtered by when they closed. "
        "To export them all, pass the last id received as `start_id` until fewer than `limit` "
        "come back."
    ),
)
async def flow_conversations_data(
    key: ManageFlow,
    session: Session,
    wanted: Annotated[ConversationQuery, Depends(conversation_query)],
) -> ListOut[ConversationDataOut]:
    found = await history.closed_conversations(session, key.bot_id, wanted)
    return ListOut(data=[ConversationDataOut.of(item) for item in found])


@router.get(
    "/flow/agent-activity-log/data",
    tags=["Flow Conversation"],
    responses=READ,
    summary="What happened to the bot's chats, oldest first",
)
async def flow_agent_activity_log_data(
    key: ManageFlow,
    session: Session,
    wanted: Annotated[ActivityQuery, Depends(activity_query)],
) -> ListOut[AgentActivityOut]:
    lines = await history.activity_log(session, key.bot_id, wanted)
    return ListOut(data=[AgentActivityOut.of(line) for line in lines])
