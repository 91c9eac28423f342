"""The Ticket List group: the workspace's boards, their items and change log, for keys with
Manage Team; creating and deleting boards is ours."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from konversation.keys.service import KeyContext
from konversation.tickets import service
from konversation.tickets.service import Actor, ChangeQuery
from konversation.tickets.wire import (
    BUILT_IN,
    ColumnOut,
    CreateTicketIn,
    CreateTicketListIn,
    TicketChangeOut,
    TicketListOut,
    TicketListWithColumnsOut,
    TicketOut,
    UpdateTicketIn,
    change_query,
)
from konversation.wire import envelope
from konversation.wire.auth import ManageTeam
from konversation.wire.envelope import DataOut, ListOut, OkOut, PageOut
from konversation.wire.errors import wire_errors
from konversation.wire.params import BlankIsNone, PageParams
from konversation.wire.session import Session

router = APIRouter(tags=["Ticket List"])

ERRORS = wire_errors(401, 403, 404, 422)
# A create can lose a race for a unique name to a concurrent create.
CREATE = wire_errors(401, 403, 409, 422)
ListId = Annotated[int, Path(alias="listId", description="The list's id.", examples=[1])]
ItemId = Annotated[int, Path(alias="listItemId", description="The item's id.", examples=[1])]
Text = Annotated[str | None, BlankIsNone]
_VALUES = (
    "Each column's value is checked against its type: text (cut to 20,000 characters), "
    "number, rating (1 to 5), date (`YYYY-MM-DD`), datetime (ISO 8601), select (an option's "
    "`option_key` or `option_code`) and assignee (the user id of a workspace member). A value "
    "that does not fit, or a column the list does not have, answers 422 and nothing is written. "
    "Every column set is recorded in the change log."
)


def _actor(key: KeyContext) -> Actor:
    return Actor("api_key", key.name)


async def _item_out(session: Session, item: service.Item) -> TicketOut:
    return TicketOut.of(item, await service.columns_of(session, item.ticket.list_id))


@router.get("/team/ticket-lists", responses=ERRORS, summary="List the workspace's ticket lists")
async def team_ticket_lists(
    key: ManageTeam,
    session: Session,
    paging: PageParams,
    name: Annotated[Text, Query(description="Only lists whose name contains this.")] = None,
) -> PageOut[TicketListOut]:
    boards, total = await service.list_lists(session, key.workspace_id, name=name, window=paging)
    return envelope.page([TicketListOut.of(b) for b in boards], total=total, window=paging)


@router.post(
    "/team/ticket-lists/create",
    responses=CREATE,
    summary="Create a ticket list (ours)",
    description="A list with its typed columns, each given the next free key of its type "
    "(`text1` to `text5`, `select1` to `select5`, `number1`, `number2`, `rating1`, `rating2`, "
    "`date1`, `date2`, `datetime1`, `datetime2`, `assignee`). Select columns need options; an "
    "option's `option_key` counts from 1. List names are unique in the workspace.",
)
async def team_create_ticket_list(
    body: CreateTicketListIn, key: ManageTeam, session: Session
) -> DataOut[TicketListWithColumnsOut]:
    board, columns = await service.create_list(
        session,
        key.workspace_id,
        name=body.name,
        icon=body.icon,
        columns=[column.spec() for column in body.columns],
    )
    out = TicketListWithColumnsOut(
        **TicketListOut.of(board).model_dump(), columns=[ColumnOut.of(c) for c in columns]
    )
    return envelope.one(out)


@router.delete(
    "/team/ticket-lists/{listId}/delete",
    responses=ERRORS,
    summary="Delete a ticket list (ours)",
    description="Its items and change log go with it.",
)
async def team_delete_ticket_list(list_id: ListId, key: ManageTeam, session: Session) -> OkOut:
    await service.delete_list(session, key.workspace_id, list_id)
    return envelope.ok()


@router.get(
    "/team/ticket-lists/{listId}/fields",
    responses=ERRORS,
    summary="A ticket list's columns",
    description="The title and description every item has, then the list's own columns with "
    "their type and, for selects, their options.",
)
async def team_ticket_list_fields(
    list_id: ListId, key: ManageTeam, session: Session
) -> ListOut[ColumnOut]:
    board = await service.get_list(session, key.workspace_id, list_id)
    columns = await service.columns_of(session, board.id)
    return ListOut(data=[*BUILT_IN, *(ColumnOut.of(c) for c in columns)])


@router.get(
    "/team/ticket-lists/{listId}/items",
    responses=ERRORS,
    summary="A ticket list's items",
    description="Newest first. `flow_ns` and `user_ns` that name nothing give an empty page.",
)
async def team_ticket_list_items(
    list_id: ListId,
    key: ManageTeam,
    session: Session,
    paging: PageParams,
    title: Annotated[Text, Query(description="Only items whose title contains this.")] = None,
    flow_ns: Annotated[Text, Query(description="Only items of this bot's subscribers.")] = None,
    user_ns: Annotated[Text, Query(description="Only items of this subscriber.")] = None,
) -> PageOut[TicketOut]:
    items, total = await service.list_items(
        session,
        key.workspace_id,
        list_id,
        title=title,
        flow_ns=flow_ns,
        user_ns=user_ns,
        window=paging,
    )
    columns = await service.columns_of(session, list_id)
    return envelope.page([TicketOut.of(i, columns) for i in items], total=total, window=paging)


@router.get(
    "/team/ticket-lists/{listId}/log-data",
    responses=ERRORS,
    summary="A ticket list's change log",
    description="Every column an item was given or changed to, newest first: who made the "
    "change (`actor_type` `api_key` with the key's name, or `flow`), when, the value before "
    "(`old_value`) and after (`value`; a select's `option_key`). Deleting an item is logged "
    "too, without a column. The log stays when the item is deleted.",
)
async def team_ticket_list_log_data(
    list_id: ListId,
    key: ManageTeam,
    session: Session,
    query: Annotated[ChangeQuery, Depends(change_query)],
) -> ListOut[TicketChangeOut]:
    changes = await service.read_changes(session, key.workspace_id, list_id, query)
    return ListOut(data=[TicketChangeOut.of(c) for c in changes])


@router.post(
    "/team/ticket-lists/{listId}/create",
    responses=ERRORS,
    summary="Open a ticket",
    description="A new item for the subscriber `user_ns` (of any bot of the workspace). " + _VALUES,
)
async def team_create_ticket_list_item(
    list_id: ListId, body: CreateTicketIn, key: ManageTeam, session: Session
) -> DataOut[TicketOut]:
    values = body.sent()
    values.pop("user_ns", None)
    item = await service.create_item(
        session,
        key.workspace_id,
        list_id,
        user_ns=body.user_ns,
        values=values,
        actor=_actor(key),
    )
    return envelope.one(await _item_out(session, item))


@router.put(
    "/team/ticket-lists/{listId}/update/{listItemId}",
    responses=ERRORS,
    summary="Change a ticket",
    description="Only the fields sent change; null or an empty text clears a column (the "
    "title cannot be cleared). " + _VALUES,
)
async def team_update_ticket_list_item(
    list_id: ListId, item_id: ItemId, body: UpdateTicketIn, key: ManageTeam, session: Session
) -> DataOut[TicketOut]:
    item = await service.update_item(
        session, key.workspace_id, list_id, item_id, changes=body.sent(), actor=_actor(key)
    )
    return envelope.one(await _item_out(session, item))


@router.delete(
    "/team/ticket-lists/{listId}/delete/{listItemId}",
    responses=ERRORS,
    summary="Delete a ticket",
    description="The item goes; its change log stays, with the deletion as its last entry.",
)
async def team_delete_ticket_list_item(
    list_id: ListId, item_id: ItemId, key: ManageTeam, session: Session
) -> OkOut:
    await service.delete_item(session, key.workspace_id, list_id, item_id, actor=_actor(key))
    return envelope.ok()
