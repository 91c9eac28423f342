"""The Subscriber group's state operations: chat status, agents, pause, subscription, opt-ins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import Field

from konversation.subscribers import state
from konversation.subscribers.models import ConversationStatus
from konversation.subscribers.state import DEFAULT_PAUSE_MINUTES, MAX_PAUSE_MINUTES, Reach
from konversation.subscribers.wire import UserNsIn
from konversation.wire import envelope
from konversation.wire.auth import ManageFlow
from konversation.wire.envelope import OkOut
from konversation.wire.errors import wire_errors
from konversation.wire.params import BlankIsNone
from konversation.wire.session import Session

router = APIRouter(tags=["Subscriber"])

WRITE = wire_errors(401, 403, 404, 422)


class MoveChatIn(UserNsIn):
    status: ConversationStatus = Field(
        description="open, pending, spam or done; done and spam close the conversation.",
        examples=["done"],
    )


class AssignAgentIn(UserNsIn):
    agent_id: int = Field(description="A member of the bot's workspace.", examples=[123])


class AssignAgentGroupIn(UserNsIn):
    agent_group_id: int = Field(description="A group of the bot's workspace.", examples=[7])


class PauseBotIn(UserNsIn):
    minutes: Annotated[int | None, BlankIsNone] = Field(
        default=None,
        description=f"1 to {MAX_PAUSE_MINUTES}; {DEFAULT_PAUSE_MINUTES} when left out.",
        examples=[30],
    )

    def pause_minutes(self) -> int:
        return DEFAULT_PAUSE_MINUTES if self.minutes is None else self.minutes


@router.post("/subscriber/move-chat-to", responses=WRITE, summary="Change the chat's status")
async def move_chat_to(body: MoveChatIn, key: ManageFlow, session: Session) -> OkOut:
    await state.move_chat_to(session, key.bot_id, user_ns=body.user_ns, status=body.status)
    return envelope.ok()


@router.post(
    "/subscriber/assign-agent",
    responses=WRITE,
    summary="Assign the chat to an agent",
    description="Opens a conversation when none is open (a done or spam chat becomes open).",
)
async def assign_agent(body: AssignAgentIn, key: ManageFlow, session: Session) -> OkOut:
    await state.assign_agent(session, key.bot_id, user_ns=body.user_ns, agent_id=body.agent_id)
    return envelope.ok()


@router.post(
    "/subscriber/assign-agent-group", responses=WRITE, summary="Assign the chat to an agent group"
)
async def assign_agent_group(body: AssignAgentGroupIn, key: ManageFlow, session: Session) -> OkOut:
    await state.assign_agent_group(
        session, key.bot_id, user_ns=body.user_ns, agent_group_id=body.agent_group_id
    )
    return envelope.ok()


@router.post(
    "/subscriber/unassign-agent",
    responses=WRITE,
    summary="Take the chat away from its agent",
    description="An agent group the chat was assigned to keeps it.",
)
async def unassign_agent(body: UserNsIn, key: ManageFlow, session: Session) -> OkOut:
    await state.unassign_agent(session, key.bot_id, user_ns=body.user_ns)
    return envelope.ok()


@router.post(
    "/subscriber/pause-bot",
    responses=WRITE,
    summary="Pause the bot for the subscriber",
    description=(
        f"The bot stops answering the subscriber for `minutes` (1 to {MAX_PAUSE_MINUTES}); "
        f"without `minutes`, for {DEFAULT_PAUSE_MINUTES}. Agents can still write."
    ),
)
async def pause_bot(body: PauseBotIn, key: ManageFlow, session: Session) -> OkOut:
    await state.pause_bot(session, key.bot_id, user_ns=body.user_ns, minutes=body.pause_minutes())
    return envelope.ok()


@router.post("/subscriber/resume-bot", responses=WRITE, summary="Resume the bot for the subscriber")
async def resume_bot(body: UserNsIn, key: ManageFlow, session: Session) -> OkOut:
    await state.resume_bot(session, key.bot_id, user_ns=body.user_ns)
    return envelope.ok()


@router.post("/subscriber/subscribe-to-bot", responses=WRITE, summary="Subscribe to the bot")
async def subscribe_to_bot(body: UserNsIn, key: ManageFlow, session: Session) -> OkOut:
    await state.set_subscribed(session, key.bot_id, user_ns=body.user_ns, subscribed=True)
    return envelope.ok()


@router.delete(
    "/subscriber/unsubscribe-from-bot", responses=WRITE, summary="Unsubscribe from the bot"
)
async def unsubscribe_from_bot(body: UserNsIn, key: ManageFlow, session: Session) -> OkOut:
    await state.set_subscribed(session, key.bot_id, user_ns=body.user_ns, subscribed=False)
    return envelope.ok()


@router.post(
    "/subscriber/opt-in-email",
    responses=WRITE,
    summary="Opt in to email",
    description="The subscriber needs an email address (422 otherwise).",
)
async def opt_in_email(body: UserNsIn, key: ManageFlow, session: Session) -> OkOut:
    await state.set_opted_in(
        session, key.bot_id, user_ns=body.user_ns, reach=Reach.EMAIL, opted_in=True
    )
    return envelope.ok()


@router.post(
    "/subscriber/opt-in-sms",
    responses=WRITE,
    summary="Opt in to SMS",
    description="The subscriber needs a phone number (422 otherwise).",
)
async def opt_in_sms(body: UserNsIn, key: ManageFlow, session: Session) -> OkOut:
    await state.set_opted_in(
        session, key.bot_id, user_ns=body.user_ns, reach=Reach.SMS, opted_in=True
    )
    return envelope.ok()


@router.delete("/subscriber/opt-out-email", responses=WRITE, summary="Opt out of email")
async def opt_out_email(body: UserNsIn, key: ManageFlow, session: Session) -> OkOut:
    await state.set_opted_in(
        session, key.bot_id, user_ns=body.user_ns, reach=Reach.EMAIL, opted_in=False
    )
    return envelope.ok()


@router.delete("/subscriber/opt-out-sms", responses=WRITE, summary="Opt out of SMS")
async def opt_out_sms(body: UserNsIn, key: ManageFlow, session: Session) -> OkOut:
    await state.set_opted_in(
        session, key.bot_id, user_ns=body.user_ns, reach=Reach.SMS, opted_in=False
    )
    return envelope.ok()
