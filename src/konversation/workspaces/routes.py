"""The Workspace group of the Connect API: workspace-wide reads for keys with Manage Team."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from konversation.db import utcnow
from konversation.errors import NotFound
from konversation.ids import parse_bot_ns
from konversation.subscribers import service as subscribers
from konversation.subscribers.filters import SubscriberFilter
from konversation.subscribers.wire import SubscriberOut, common_filters
from konversation.wire import envelope
from konversation.wire.auth import ManageTeam
from konversation.wire.envelope import DataOut, ListOut, PageOut
from konversation.wire.errors import wire_errors
from konversation.wire.params import PageParams
from konversation.wire.session import Session
from konversation.workspaces import service, summaries
from konversation.workspaces.summaries import AgentDay, FlowDay, Range
from konversation.workspaces.wire import (
    AgentOut,
    FlowOut,
    RangeParam,
    RoleFilter,
    TeamInfoOut,
)

router = APIRouter(tags=["Workspace"])

READ = wire_errors(401, 403, 404, 422)
Text = Annotated[str | None, Query()]
YesNo = Annotated[str | None, Query(description="`yes` or `no` (also `true` or `false`).")]
FlowNs = Annotated[
    str | None, Query(description="Only this bot, by its namespace (`f<id>`).", examples=["f1"])
]


@router.get("/team-info", responses=READ, summary="Workspace details")
async def workspace_info(key: ManageTeam, session: Session) -> DataOut[TeamInfoOut]:
    return envelope.one(TeamInfoOut.of(await service.team_info(session, key.workspace_id)))


@router.get("/team-members", responses=READ, summary="List workspace members")
async def workspace_members(
    key: ManageTeam,
    session: Session,
    paging: PageParams,
    name: Annotated[str | None, Query(description="Only members whose name contains this.")] = None,
    role: RoleFilter = None,
) -> PageOut[AgentOut]:
    members, total = await service.list_members(
        session, key.workspace_id, name=name, role=role, window=paging
    )
    return envelope.page([AgentOut.of(m) for m in members], total=total, window=paging)


@router.get("/team-flows", responses=READ, summary="List the workspace's bots")
async def workspace_bots(
    key: ManageTeam,
    session: Session,
    paging: PageParams,
    name: Annotated[str | None, Query(description="Only bots whose name contains this.")] = None,
    type: Annotated[str | None, Query(description="Only bots on this channel type.")] = None,
) -> PageOut[FlowOut]:
    bots, total = await service.list_bots(
        session, key.workspace_id, name=name, channel=type, window=paging
    )
    return envelope.page([FlowOut.of(b) for b in bots], total=total, window=paging)


@router.get("/team-bot-users", responses=READ, summary="Search subscribers across the workspace")
async def team_bot_users(
    key: ManageTeam,
    session: Session,
    paging: PageParams,
    wanted: Annotated[SubscriberFilter, Depends(common_filters)],
) -> PageOut[SubscriberOut]:
    bot_ids = await service.bot_ids(session, key.workspace_id)
    now = utcnow()
    found, total = await subscribers.search(session, bot_ids, wanted, window=paging, now=now)
    return envelope.page([SubscriberOut.of(p, now) for p in found], total=total, window=paging)


@router.get("/flow-summary", responses=READ, summary="Daily usage figures per bot")
async def analytics_flow_summary(
    key: ManageTeam,
    session: Session,
    range: RangeParam = None,
    flow_ns: FlowNs = None,
) -> ListOut[FlowDay]:
    days = await summaries.flow_summary(
        session, key.workspace_id, range_=range or Range.YESTERDAY, bot_id=_bot_filter(flow_ns)
    )
    return ListOut(data=days)


@router.get("/flow-agent-summary", responses=READ, summary="Daily figures per agent and bot")
async def analytics_flow_agent_summary(
    key: ManageTeam,
    session: Session,
    range: RangeParam = None,
    flow_ns: FlowNs = None,
) -> ListOut[AgentDay]:
    days = await summaries.agent_summary(
        session, key.workspace_id, range_=range or Range.YESTERDAY, bot_id=_bot_filter(flow_ns)
    )
    return ListOut(data=days)


def _bot_filter(flow_ns: str | None) -> int | None:
    if not flow_ns:
        return None
    bot_id = parse_bot_ns(flow_ns)
    if bot_id is None:
        raise NotFound("Flow not found")
    return bot_id
