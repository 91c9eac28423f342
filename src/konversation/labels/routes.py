"""The Team Label group: the workspace's labels, for keys with Manage Team."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from konversation.labels import service
from konversation.labels.wire import CreateLabelIn, LabelIdIn, LabelNameIn, TeamLabelOut
from konversation.wire import envelope
from konversation.wire.auth import ManageTeam
from konversation.wire.envelope import DataOut, OkOut, PageOut
from konversation.wire.errors import wire_errors
from konversation.wire.params import PageParams
from konversation.wire.session import Session

router = APIRouter(tags=["Team Label"])

READ = wire_errors(401, 403, 422)
# A create can lose a race for a unique name to a concurrent create.
CREATE = wire_errors(401, 403, 409, 422)
DELETE = wire_errors(401, 403, 404, 422)


@router.get("/team/labels", responses=READ, summary="List the workspace's labels")
async def team_labels(
    key: ManageTeam,
    session: Session,
    paging: PageParams,
    name: Annotated[str | None, Query(description="Only labels whose name contains this.")] = None,
) -> PageOut[TeamLabelOut]:
    labels, total = await service.list_labels(session, key.workspace_id, name=name, window=paging)
    return envelope.page([TeamLabelOut.of(label) for label in labels], total=total, window=paging)


@router.post(
    "/team/create-label",
    responses=CREATE,
    summary="Create a label",
    description="Label names are unique in the workspace; a name in use answers 422.",
)
async def team_create_label(
    body: CreateLabelIn, key: ManageTeam, session: Session
) -> DataOut[TeamLabelOut]:
    label = await service.create_label(session, key.workspace_id, name=body.name)
    return envelope.one(TeamLabelOut.of(label))


@router.delete(
    "/team/delete-label",
    responses=DELETE,
    summary="Delete a label",
    description="The label is also taken off every subscriber that had it.",
)
async def team_delete_label(body: LabelIdIn, key: ManageTeam, session: Session) -> OkOut:
    await service.delete_label(session, key.workspace_id, label_id=body.id)
    return envelope.ok()


@router.delete(
    "/team/delete-label-by-name",
    responses=DELETE,
    summary="Delete a label by name",
    description="The label is also taken off every subscriber that had it.",
)
async def team_delete_label_by_name(body: LabelNameIn, key: ManageTeam, session: Session) -> OkOut:
    await service.delete_label_by_name(session, key.workspace_id, name=body.name)
    return envelope.ok()
