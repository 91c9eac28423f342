"""Ticket lists: boards with typed columns, their items, and the log of every column change.

Every value is checked against its column's type before anything is written, so a refused
request changes nothing. Each change to a column is logged with who made it and the value
before and after; the log outlives the item it describes.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.db import PageRequest, contains_text, fetch_page, utcnow
from konversation.errors import Invalid, NotFound
from konversation.flows.fieldtypes import TEXT_LIMIT, BadValue, normalize
from konversation.ids import Kind, parse_bot_ns, parse_ns
from konversation.subscribers.models import Subscriber
from konversation.subscribers.service import get_subscriber
from konversation.tickets.models import (
    SLOTS,
    ColumnType,
    Ticket,
    TicketChange,
    TicketColumn,
    TicketList,
    slot_keys,
)
from konversation.workspaces.models import Bot, Membership

LIST_NOT_FOUND = "Ticket list not found"
ITEM_NOT_FOUND = "Ticket not found"
TITLE = "title"
DESCRIPTION = "description"
MAX_READ = 100
DEFAULT_READ = 10
RATINGS = range(1, 6)


Row = TypeVar("Row")


@dataclass(frozen=True)
class Actor:
    """Who changed an item, as the log tells it: an API key, or a flow run."""

    type: str
    name: str | None = None


FLOW = Actor("flow")


@dataclass(frozen=True)
class OptionSpec:
    name: str
    code: str | None = None


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: ColumnType
    options: Sequence[OptionSpec] = ()


@dataclass(frozen=True)
class Item:
    """An item with what its wire shape needs of its subscriber."""

    ticket: Ticket
    bot_id: int
    subscriber_number: int


@dataclass(frozen=True)
class ChangeQuery:
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    flow_ns: str | None = None
    user_ns: str | None = None
    item_id: int | None = None
    column_name: str | None = None
    limit: int = DEFAULT_READ


@dataclass
class _Checked:
    """Values that passed their column's checks, and the messages of those that did not."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def refuse(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)


# Lists and their columns


async def list_lists(
    session: AsyncSession, workspace_id: int, *, name: str | None, window: PageRequest
) -> tuple[Sequence[TicketList], int]:
    query = select(TicketList).where(TicketList.workspace_id == workspace_id)
    if name:
        query = query.where(contains_text(TicketList.name, name))
    return await fetch_page(session, query.order_by(TicketList.id), window)


async def create_list(
    session: AsyncSession,
    workspace_id: int,
    *,
    name: str,
    icon: str | None,
    columns: Sequence[ColumnSpec],
) -> tuple[TicketList, list[TicketColumn]]:
    name = name.strip()
    errors = _Checked()
    if not name:
        errors.refuse("name", "The name field is required.")
    elif await _list_named(session, workspace_id, name) is not None:
        errors.refuse("name", "The name has already been taken.")
    planned = _planned_columns(columns, errors)
    if errors.errors:
        raise Invalid(errors.errors)
    board = TicketList(
        workspace_id=workspace_id, name=name, icon=icon, list_code=secrets.token_hex(4)
    )
    session.add(board)
    await session.flush()
    made = [TicketColumn(list_id=board.id, **column) for column in planned]
    session.add_all(made)
    await session.flush()
    return board, made


def _planned_columns(columns: Sequence[ColumnSpec], errors: _Checked) -> list[dict[str, Any]]:
    """Each column's row, placed in the next free key of its type."""
    free = {kind: slot_keys(kind) for kind in SLOTS}
    names: set[str] = set()
    planned = []
    for index, spec in enumerate(columns):
        where = f"columns.{index}"
        name = spec.name.strip()
        if not name or name.lower() in names or name.lower() in {TITLE, DESCRIPTION}:
            errors.refuse(f"{where}.name", f"The {where}.name field must be a new column name.")
        names.add(name.lower())
        if not free[spec.type]:
            errors.refuse(
                f"{where}.type",
                f"A list holds at most {SLOTS[spec.type]} {spec.type.value} columns.",
            )
            continue
        planned.append(
            {
                "key": free[spec.type].pop(0),
                "name": name,
                "type": spec.type.value,
                "position": index,
                "options": _options(spec, where, errors),
            }
        )
    return planned


def _options(spec: ColumnSpec, where: str, errors: _Checked) -> list[dict[str, Any]]:
    if spec.type != ColumnType.SELECT:
        if spec.options:
            errors.refuse(f"{where}.options", "Only select columns have options.")
        return []
    if not spec.options:
        errors.refuse(f"{where}.options", "A select column needs at least one option.")
    options: list[dict[str, Any]] = []
    for number, option in enumerate(spec.options, start=1):
        code = (option.code or _code_of(option.name)).strip()
        if not code or code in {o["option_code"] for o in options}:
            errors.refuse(
                f"{where}.options.{number - 1}.option_code",
                "Each option needs a code of its own.",
            )
        options.append({"option_key": number, "option_code": code, "name": option.name.strip()})
    return options


def _code_of(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


async def delete_list(session: AsyncSession, workspace_id: int, list_id: int) -> None:
    """Delete a list; the database takes its columns, items and log with it."""
    await session.delete(await get_list(session, workspace_id, list_id))
    await session.flush()


async def get_list(session: AsyncSession, workspace_id: int, list_id: int) -> TicketList:
    board = await session.scalar(
        select(TicketList).where(TicketList.workspace_id == workspace_id, TicketList.id == list_id)
    )
    if board is None:
        raise NotFound(LIST_NOT_FOUND)
    return board


async def _list_named(session: AsyncSession, workspace_id: int, name: str) -> TicketList | None:
    return await session.scalar(
        select(TicketList).where(TicketList.workspace_id == workspace_id, TicketList.name == name)
    )


async def columns_of(session: AsyncSession, list_id: int) -> list[TicketColumn]:
    found = await session.scalars(
        select(TicketColumn).where(TicketColumn.list_id == list_id).order_by(TicketColumn.position)
    )
    return list(found)


# Items


async def list_items(
    session: AsyncSession,
    workspace_id: int,
    list_id: int,
    *,
    title: str | None,
    flow_ns: str | None,
    user_ns: str | None,
    window: PageRequest,
) -> tuple[list[Item], int]:
    """The list's items, newest first; a `flow_ns` or `user_ns` naming nothing matches none."""
    board = await get_list(session, workspace_id, list_id)
    query = (
        select(Ticket)
        .join(Subscriber, Subscriber.id == Ticket.subscriber_id)
        .where(Ticket.list_id == board.id)
    )
    if title:
        query = query.where(contains_text(Ticket.title, title))
    query = _of_subscriber(query, Subscriber.bot_id, Subscriber.number, flow_ns, user_ns)
    tickets, total = await fetch_page(session, query.order_by(Ticket.id.desc()), window)
    owners = await session.execute(
        select(Subscriber.id, Subscriber.bot_id, Subscriber.number).where(
            Subscriber.id.in_({ticket.subscriber_id for ticket in tickets})
        )
    )
    where = {id_: (bot, number) for id_, bot, number in owners}
    return [Item(ticket, *where[ticket.subscriber_id]) for ticket in tickets], total


def _items_of(list_id: int) -> Select[*tuple[Any, ...]]:
    return (
        select(Ticket, Subscriber.bot_id, Subscriber.number)
        .join(Subscriber, Subscriber.id == Ticket.subscriber_id)
        .where(Ticket.list_id == list_id)
    )


def _of_subscriber(
    query: Select[Row], bot: Any, number: Any, flow_ns: str | None, user_ns: str | None
) -> Select[Row]:
    if flow_ns:
        query = query.where(bot == (parse_bot_ns(flow_ns) or 0))
    if user_ns:
        parsed = parse_ns(user_ns, Kind.SUBSCRIBER) or (0, 0)
        query = query.where(bot == parsed[0], number == parsed[1])
    return query


async def create_item(
    session: AsyncSession,
    workspace_id: int,
    list_id: int,
    *,
    user_ns: str,
    values: Mapping[str, Any],
    actor: Actor,
) -> Item:
    """A new item for the subscriber (of any bot of the workspace); `values` holds the title,
    the description and columns by key."""
    board = await get_list(session, workspace_id, list_id)
    subscriber = await _subscriber_in(session, workspace_id, user_ns)
    return await _create(session, board, subscriber, values, actor)


async def _create(
    session: AsyncSession,
    board: TicketList,
    subscriber: Subscriber,
    values: Mapping[str, Any],
    actor: Actor,
) -> Item:
    checked = await _check(session, board, values)
    if checked.values.get(TITLE) is None:
        checked.refuse(TITLE, "The title field is required.")
    if checked.errors:
        raise Invalid(checked.errors)
    fields = checked.values
    ticket = Ticket(
        list_id=board.id,
        subscriber_id=subscriber.id,
        title=fields.pop(TITLE),
        description=fields.pop(DESCRIPTION, None),
        values={key: value for key, value in fields.items() if value is not None},
    )
    session.add(ticket)
    await session.flush()
    item = Item(ticket, subscriber.bot_id, subscriber.number)
    shown = {TITLE: ticket.title, DESCRIPTION: ticket.description, **fields}
    _log(session, item, "create", {k: (None, v) for k, v in shown.items() if v is not None}, actor)
    return item


async def update_item(
    session: AsyncSession,
    workspace_id: int,
    list_id: int,
    item_id: int,
    *,
    changes: Mapping[str, Any],
    actor: Actor,
) -> Item:
    """Change only the columns in `changes`; None (or an empty text) clears a column."""
    board = await get_list(session, workspace_id, list_id)
    item = await _item(session, board.id, item_id)
    checked = await _check(session, board, changes)
    if TITLE in checked.values and checked.values[TITLE] is None:
        checked.refuse(TITLE, "The title field is required.")
    if checked.errors:
        raise Invalid(checked.errors)
    ticket = item.ticket
    before = {TITLE: ticket.title, DESCRIPTION: ticket.description, **ticket.values}
    diff = {
        key: (before.get(key), value)
        for key, value in checked.values.items()
        if before.get(key) != value
    }
    if not diff:
        return item
    stored = dict(ticket.values)
    for key, (_old, new) in diff.items():
        if key == TITLE:
            ticket.title = str(new)
        elif key == DESCRIPTION:
            ticket.description = new
        elif new is None:
            stored.pop(key, None)
        else:
            stored[key] = new
    ticket.values = stored
    ticket.updated_at = utcnow()
    _log(session, item, "update", diff, actor)
    await session.flush()
    return item


async def delete_item(
    session: AsyncSession, workspace_id: int, list_id: int, item_id: int, *, actor: Actor
) -> None:
    board = await get_list(session, workspace_id, list_id)
    item = await _item(session, board.id, item_id)
    _log(session, item, "delete", {None: (None, None)}, actor)
    await session.delete(item.ticket)
    await session.flush()


async def _item(session: AsyncSession, list_id: int, item_id: int) -> Item:
    row = (await session.execute(_items_of(list_id).where(Ticket.id == item_id))).one_or_none()
    if row is None:
        raise NotFound(ITEM_NOT_FOUND)
    return Item(*row)


async def _subscriber_in(session: AsyncSession, workspace_id: int, user_ns: str) -> Subscriber:
    """The subscriber named by `user_ns`, if its bot belongs to the workspace."""
    parsed = parse_ns(user_ns, Kind.SUBSCRIBER)
    bot = None if parsed is None else await session.get(Bot, parsed[0])
    if bot is None or bot.workspace_id != workspace_id:
        raise NotFound("Subscriber not found")
    return await get_subscriber(session, bot.id, user_ns)


# Checking values by column type


async def _check(session: AsyncSession, board: TicketList, values: Mapping[str, Any]) -> _Checked:
    columns = {column.key: column for column in await columns_of(session, board.id)}
    checked = _Checked()
    for key, value in values.items():
        if key in {TITLE, DESCRIPTION}:
            text = None if value is None else str(value).strip() or None
            checked.values[key] = text if key == TITLE or text is None else text[:TEXT_LIMIT]
        elif key not in columns:
            if value not in (None, ""):
                checked.refuse(key, f"The list has no {key} column.")
        else:
            await _check_column(session, board.workspace_id, columns[key], value, checked)
    return checked


async def _check_column(
    session: AsyncSession, workspace_id: int, column: TicketColumn, value: Any, checked: _Checked
) -> None:
    key = column.key
    if value is None or (isinstance(value, str) and not value.strip()):
        checked.values[key] = None
        return
    kind = ColumnType(column.type)
    try:
        if kind == ColumnType.SELECT:
            checked.values[key] = _option_key(column, value)
        elif kind == ColumnType.RATING:
            checked.values[key] = _rating(value)
        elif kind == ColumnType.ASSIGNEE:
            checked.values[key] = await _member(session, workspace_id, value)
        else:
            checked.values[key] = normalize(kind.value, value)
    except BadValue as refused:
        checked.refuse(key, f"The {key} field {refused}.")


def _option_key(column: TicketColumn, value: Any) -> int:
    """The option named by its key (a number) or its code."""
    wanted = str(value).strip()
    for option in column.options:
        if wanted in {str(option["option_key"]), option["option_code"]}:
            return int(option["option_key"])
    codes = ", ".join(option["option_code"] for option in column.options)
    raise BadValue(f"must be one of the column's options ({codes})")


def _rating(value: Any) -> int:
    number = normalize(ColumnType.NUMBER.value, value)
    if not isinstance(number, int) or number not in RATINGS:
        raise BadValue("must be a whole number from 1 to 5")
    return number


async def _member(session: AsyncSession, workspace_id: int, value: Any) -> int:
    user_id = normalize(ColumnType.NUMBER.value, value)
    found = None
    if isinstance(user_id, int) and 0 < user_id < 2**31:
        found = await session.scalar(
            select(Membership.user_id).where(
                Membership.workspace_id == workspace_id, Membership.user_id == user_id
            )
        )
    if found is None:
        raise BadValue("must be the id of a member of the workspace")
    return found


# The change log


def _log(
    session: AsyncSession,
    item: Item,
    action: str,
    changes: Mapping[Any, tuple[Any, Any]],  # by column key; None for the whole item
    actor: Actor,
) -> None:
    session.add_all(
        TicketChange(
            list_id=item.ticket.list_id,
            item_id=item.ticket.id,
            bot_id=item.bot_id,
            subscriber_number=item.subscriber_number,
            action=action,
            column_name=column,
            old_value=old,
            new_value=new,
            actor_type=actor.type,
            actor=actor.name,
        )
        for column, (old, new) in changes.items()
    )


async def read_changes(
    session: AsyncSession, workspace_id: int, list_id: int, query: ChangeQuery
) -> list[TicketChange]:
    """The list's changes, newest first; `since` is inclusive, `until` exclusive."""
    if query.since is not None and query.until is not None and query.until < query.since:
        raise Invalid.field("end_time", "The end_time field must be a time after start_time.")
    board = await get_list(session, workspace_id, list_id)
    statement = select(TicketChange).where(TicketChange.list_id == board.id)
    if query.since is not None:
        statement = statement.where(TicketChange.created_at >= query.since)
    if query.until is not None:
        statement = statement.where(TicketChange.created_at < query.until)
    if query.item_id is not None:
        statement = statement.where(TicketChange.item_id == query.item_id)
    if query.column_name:
        statement = statement.where(TicketChange.column_name == query.column_name)
    statement = _of_subscriber(
        statement,
        TicketChange.bot_id,
        TicketChange.subscriber_number,
        query.flow_ns,
        query.user_ns,
    )
    limit = max(1, min(MAX_READ, query.limit))
    found = await session.scalars(statement.order_by(TicketChange.id.desc()).limit(limit))
    return list(found)


# From flows


async def open_for_subscriber(
    session: AsyncSession,
    subscriber: Subscriber,
    *,
    list_name: str,
    title: str,
    description: str | None,
    values: Mapping[str, Any],
) -> Item:
    """Open an item on the subscriber's workspace list called `list_name`; `values` names
    columns by their name or their key."""
    workspace_id = await session.scalar(select(Bot.workspace_id).where(Bot.id == subscriber.bot_id))
    board = await _list_named(session, workspace_id or 0, list_name)
    if board is None:
        raise NotFound(LIST_NOT_FOUND)
    keys = {column.name: column.key for column in await columns_of(session, board.id)}
    by_key = {keys.get(name, name): value for name, value in values.items()}
    return await _create(
        session, board, subscriber, {**by_key, TITLE: title, DESCRIPTION: description}, FLOW
    )
