"""What the runtime looks up in flow documents, kept in tables as flows are saved.

Keyword triggers, so an inbound message finds its flow without reading every document (order
status and mini-app triggers are kept in the same table, matched exactly), and node numbers,
the `f<bot>n<number>` ids that `send-node` and buttons name nodes by.
"""

from __future__ import annotations

import re

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.errors import NotFound
from konversation.flows.models import LISTED_FLOW, Flow, KeywordTrigger, NodeRef
from konversation.ids import Kind, format_ns, number_in_bot
from konversation.workspaces.service import next_number

NODE_NOT_FOUND = "Node not found"
ORDER_STATUS = "order_status"
APP_TRIGGER = "app_trigger"
_SPACES = re.compile(r"\s+")


def normalized(text: str) -> str:
    """Text as keywords are compared: case-folded, spaces collapsed and trimmed."""
    return _SPACES.sub(" ", text).strip().casefold()


async def index_flow(session: AsyncSession, flow: Flow) -> None:
    """Bring the flow's keyword triggers and node numbers in line with its document."""
    await session.execute(delete(KeywordTrigger).where(KeywordTrigger.flow_id == flow.id))
    # A preview copy starts only from the editor: its draft's triggers must not fire live.
    triggers = [] if flow.preview_of is not None else flow.definition.get("triggers", [])
    for trigger in triggers:
        if "order_status" in trigger:
            # Kept alongside the keywords: the status is the "keyword", matched exactly.
            words, match = set(trigger["order_status"]), ORDER_STATUS
        elif "app_ns" in trigger:
            words = {app_trigger_key(trigger["app_ns"], trigger["trigger_name"])}
            match = APP_TRIGGER
        else:
            words = {normalized(k) for k in trigger["keywords"]} - {""}
            match = trigger.get("match", "exact")
        for word in words:
            session.add(
                KeywordTrigger(bot_id=flow.bot_id, flow_id=flow.id, keyword=word, match=match)
            )
    await _number_nodes(session, flow)


async def _number_nodes(session: AsyncSession, flow: Flow) -> None:
    node_ids = {node["id"] for node in flow.definition.get("nodes", [])}
    known = set(
        (await session.scalars(select(NodeRef.node_id).where(NodeRef.flow_id == flow.id))).all()
    )
    gone = known - node_ids
    if gone:
        await session.execute(
            delete(NodeRef).where(NodeRef.flow_id == flow.id, NodeRef.node_id.in_(gone))
        )
    for node_id in sorted(node_ids - known):
        number = await next_number(session, flow.bot_id, Kind.NODE)
        session.add(NodeRef(bot_id=flow.bot_id, number=number, flow_id=flow.id, node_id=node_id))
    await session.flush()


async def keyword_flow(session: AsyncSession, bot_id: int, text: str) -> int | None:
    """The flow whose trigger `text` matches: an exact match first, then the longest keyword
    the text starts with or contains."""
    said = normalized(text)
    if not said:
        return None
    exact = await session.scalar(
        select(KeywordTrigger.flow_id)
        .where(
            KeywordTrigger.bot_id == bot_id,
            KeywordTrigger.keyword == said,
            KeywordTrigger.match == "exact",
        )
        .order_by(KeywordTrigger.id)
        .limit(1)
    )
    if exact is not None:
        return int(exact)
    loose = (
        await session.execute(
            select(KeywordTrigger.flow_id, KeywordTrigger.keyword, KeywordTrigger.match)
            .where(
                KeywordTrigger.bot_id == bot_id,
                KeywordTrigger.match.in_(["contains", "starts_with"]),
            )
            .order_by(KeywordTrigger.id)
        )
    ).all()
    matches = [
        (len(keyword), -index, flow_id)
        for index, (flow_id, keyword, match) in enumerate(loose)
        if (said.startswith(keyword) if match == "starts_with" else keyword in said)
    ]
    return max(matches)[2] if matches else None


def app_trigger_key(app_ns: str, trigger_name: str) -> str:
    return f"{app_ns}:{trigger_name}"


async def order_status_flows(session: AsyncSession, bot_id: int, status: str) -> list[Flow]:
    """The flows that start when an order of the bot moves to `status`."""
    return await _exactly_triggered(session, bot_id, ORDER_STATUS, status)


async def app_trigger_flows(
    session: AsyncSession, bot_id: int, app_ns: str, trigger_name: str
) -> list[Flow]:
    """The flows that start when the mini-app `app_ns` fires `trigger_name`."""
    return await _exactly_triggered(
        session, bot_id, APP_TRIGGER, app_trigger_key(app_ns, trigger_name)
    )


async def _exactly_triggered(
    session: AsyncSession, bot_id: int, match: str, keyword: str
) -> list[Flow]:
    found = await session.scalars(
        select(Flow)
        .join(KeywordTrigger, KeywordTrigger.flow_id == Flow.id)
        .where(
            KeywordTrigger.bot_id == bot_id,
            KeywordTrigger.match == match,
            KeywordTrigger.keyword == keyword,
        )
        .order_by(Flow.number)
    )
    return list(found.unique())


async def node_by_ns(
    session: AsyncSession, bot_id: int, node_ns: str, *, in_previews: bool = False
) -> tuple[Flow, str]:
    """The flow holding the node `node_ns` names, and the node's id in it. A preview copy's
    nodes are found only `in_previews` (for the presses of the preview's own messages)."""
    number = number_in_bot(node_ns, Kind.NODE, bot_id, NODE_NOT_FOUND)
    query = (
        select(Flow, NodeRef.node_id)
        .join(NodeRef, NodeRef.flow_id == Flow.id)
        .where(NodeRef.bot_id == bot_id, NodeRef.number == number)
    )
    if not in_previews:
        query = query.where(LISTED_FLOW)
    found = (await session.execute(query)).first()
    if found is None:
        raise NotFound(NODE_NOT_FOUND)
    return found[0], found[1]


async def node_numbers(session: AsyncSession, flow: Flow) -> dict[str, int]:
    """Each node id of the flow with its number."""
    rows = await session.execute(
        select(NodeRef.node_id, NodeRef.number).where(NodeRef.flow_id == flow.id)
    )
    return dict(rows.all())


def node_ns(bot_id: int, number: int) -> str:
    return format_ns(bot_id, Kind.NODE, number)
