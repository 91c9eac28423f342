"""The flow editor's preview: the draft, run for a test subscriber of the owner editing it.

The runtime runs published documents only, so the draft is copied into the flow's preview copy
(a flow with `preview_of` set: without triggers, listed nowhere, its nodes numbered like any
flow's so that its buttons and quick replies work) whenever the preview starts or is spoken to.
The draft must pass the validator first, as it must to be published.

Each owner has one test subscriber per bot, known on the web chat channel by an id that no
visitor can hold (visitor ids are signed and have a dot). What it says answers the preview's
question or choice as any subscriber's message would; a message that answers nothing starts
the draft again rather than a live keyword's flow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.channels.models import ChannelType
from konversation.channels.webchat_service import (
    HISTORY_LIMIT,
    SHOWN,
    Said,
    history_items,
    inbound,
)
from konversation.conversations.models import Message
from konversation.flows import versions
from konversation.flows.index import index_flow
from konversation.flows.models import Flow, FlowKind
from konversation.runtime import trace
from konversation.runtime.engine import Engine
from konversation.runtime.models import LIVE_STATUSES, Run, RunStatus
from konversation.subscribers import service as subscribers
from konversation.subscribers.models import Subscriber

CHANNEL: Final = ChannelType.WEB
# The origin of the run a restart begins: the conversation shown starts with it.
RESTART: Final = "preview"
NOT_PREVIEWABLE: Final = "The draft has problems to fix before it can be previewed."


@dataclass(frozen=True)
class Tester:
    """The owner the test subscriber stands in for."""

    user_id: int
    name: str

    @property
    def visitor(self) -> str:
        return f"preview-{self.user_id}"


@dataclass(frozen=True)
class PreviewState:
    """The preview's conversation since its last restart, as the web chat shows it, and where
    it stands in the draft: `waiting_at` the node waiting for an answer or a delay, `executed`
    the nodes of the draft run by the call that answers this, in order."""

    messages: list[dict[str, Any]]
    waiting_at: str | None
    status: str | None
    executed: list[str]


# Before the first restart: no conversation, nothing run.
NOTHING_YET: Final = PreviewState([], None, None, [])


async def restart(
    session: AsyncSession, engine: Engine, flow: Flow, tester: Tester
) -> PreviewState:
    """Stop whatever runs for the test subscriber and run the draft from its start."""
    copy = await _copy_of_draft(session, flow)
    subscriber = await _test_subscriber(session, flow.bot_id, tester)
    await session.execute(
        update(Run)
        .where(Run.subscriber_id == subscriber.id, Run.status.in_(LIVE_STATUSES))
        .values(status=RunStatus.SUPERSEDED)
    )
    with trace.watching() as executed:
        await engine.start(session, subscriber, copy, origin=RESTART, channel=CHANNEL)
    return await _state(session, copy, subscriber, tester, executed)


async def say(
    session: AsyncSession, engine: Engine, flow: Flow, tester: Tester, said: Said
) -> PreviewState:
    """The test subscriber's message, answered by the current draft."""
    copy = await _copy_of_draft(session, flow)
    with trace.watching() as executed:
        subscriber = await engine.receive(
            session, flow.bot_id, CHANNEL, inbound(tester.visitor, said), unanswered=copy
        )
    return await _state(session, copy, subscriber, tester, executed)


async def state(session: AsyncSession, flow: Flow, tester: Tester) -> PreviewState:
    """The preview as it stands (a delay may have ended since the last call)."""
    copy = await _copy(session, flow)
    subscriber = await subscribers.find_on_channel(session, flow.bot_id, CHANNEL, tester.visitor)
    if copy is None or subscriber is None:
        return NOTHING_YET
    return await _state(session, copy, subscriber, tester, [])


# The copy


async def _copy(session: AsyncSession, flow: Flow) -> Flow | None:
    return await session.scalar(select(Flow).where(Flow.preview_of == flow.id))


async def _copy_of_draft(session: AsyncSession, flow: Flow) -> Flow:
    draft = versions.draft_of(flow)
    problems = versions.problems_of(draft, FlowKind(flow.kind))
    if problems:
        raise versions.Unpublishable(problems, NOT_PREVIEWABLE)
    copy = await _copy(session, flow) or await _new_copy(session, flow, draft)
    if copy.definition != draft:
        copy.definition = draft
        copy.revision += 1
        await index_flow(session, copy)
    return copy


async def _new_copy(session: AsyncSession, flow: Flow, draft: dict[str, Any]) -> Flow:
    copy = Flow(
        bot_id=flow.bot_id,
        # Numbers below zero name no main flow and no sub flow: nobody reaches the copy.
        number=-1 - flow.number,
        kind=flow.kind,
        name=f"{flow.name} (preview)",
        definition=draft,
        preview_of=flow.id,
    )
    try:
        async with session.begin_nested():
            session.add(copy)
            await session.flush()
    except IntegrityError:
        # Another owner's preview of the flow made it first: theirs is the copy.
        made = await _copy(session, flow)
        if made is None:
            raise
        return made
    await index_flow(session, copy)
    return copy


# The test subscriber and what it sees


async def _test_subscriber(session: AsyncSession, bot_id: int, tester: Tester) -> Subscriber:
    found = await subscribers.find_on_channel(session, bot_id, CHANNEL, tester.visitor)
    if found is not None:
        return found
    first_name, _, last_name = tester.name.partition(" ")
    return await subscribers.create_on_channel(
        session,
        bot_id,
        channel=CHANNEL,
        user_id=tester.visitor,
        first_name=first_name,
        last_name=last_name,
    )


async def _state(
    session: AsyncSession,
    copy: Flow,
    subscriber: Subscriber,
    tester: Tester,
    executed: trace.Executed,
) -> PreviewState:
    latest = await session.scalar(
        select(Run).where(Run.subscriber_id == subscriber.id).order_by(Run.id.desc()).limit(1)
    )
    if latest is None:
        return NOTHING_YET
    waits_in_draft = latest.flow_id == copy.id and latest.status == RunStatus.WAITING
    return PreviewState(
        messages=await _conversation(session, copy, subscriber, tester),
        waiting_at=latest.node_id if waits_in_draft else None,
        status=latest.status,
        executed=[node_id for flow_id, node_id in executed if flow_id == copy.id],
    )


async def _conversation(
    session: AsyncSession, copy: Flow, subscriber: Subscriber, tester: Tester
) -> list[dict[str, Any]]:
    began = await session.scalar(
        select(Run.created_at)
        .where(Run.subscriber_id == subscriber.id, Run.flow_id == copy.id, Run.origin == RESTART)
        .order_by(Run.id.desc())
        .limit(1)
    )
    if began is None:
        return []
    found: Sequence[Message] = (
        await session.scalars(
            select(Message)
            .where(
                Message.subscriber_id == subscriber.id,
                Message.direction.in_(SHOWN),
                Message.created_at >= began,
            )
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(HISTORY_LIMIT)
        )
    ).all()
    return history_items(list(reversed(found)), tester.visitor)
