"""The Connect API's shapes for ticket lists, their columns, items and change log."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel, Field

from konversation.ids import Kind, bot_ns, format_ns
from konversation.subscribers.wire import wire_time
from konversation.tickets.models import ColumnType, TicketChange, TicketColumn, TicketList
from konversation.tickets.service import DEFAULT_READ, MAX_READ, ChangeQuery, ColumnSpec, Item
from konversation.tickets.service import OptionSpec as DomainOption
from konversation.wire.params import BlankIsNone, UnixTime, unix_moment, unix_moment_after

ColumnTypeT = Literal["text", "select", "number", "rating", "date", "datetime", "assignee"]
Value = str | int | float | None


class TicketListOut(BaseModel):
    id: int = Field(examples=[1])
    name: str = Field(examples=["Support"])
    icon: str | None = Field(examples=["🎫"])
    list_code: str = Field(examples=["3fa9c1d2"])
    is_live: int = Field(examples=[1], description="1 while the list is in use.")

    @classmethod
    def of(cls, board: TicketList) -> TicketListOut:
        return cls(
            id=board.id,
            name=board.name,
            icon=board.icon,
            list_code=board.list_code,
            is_live=int(board.is_live),
        )


class OptionOut(BaseModel):
    option_key: int = Field(examples=[1])
    option_code: str = Field(examples=["open"])
    name: str = Field(examples=["Open"])


class ColumnOut(BaseModel):
    key: str = Field(examples=["select1"], description="The column's name in item bodies.")
    name: str = Field(examples=["Status"])
    type: ColumnTypeT = Field(examples=["select"])
    required: bool = Field(examples=[False])
    options: list[OptionOut] = Field(description="A select column's choices.")

    @classmethod
    def of(cls, column: TicketColumn) -> ColumnOut:
        return cls(
            key=column.key,
            name=column.name,
            type=ColumnType(column.type).value,
            required=False,
            options=[OptionOut(**option) for option in column.options],
        )


# Every list has a title (required) and a description besides its own columns.
BUILT_IN = [
    ColumnOut(key="title", name="Title", type="text", required=True, options=[]),
    ColumnOut(key="description", name="Description", type="text", required=False, options=[]),
]


class TicketListWithColumnsOut(TicketListOut):
    columns: list[ColumnOut]


class OptionIn(BaseModel):
    name: str = Field(min_length=1, max_length=255, examples=["Open"])
    option_code: str | None = Field(
        default=None,
        max_length=64,
        examples=["open"],
        description="What item bodies may send; made from the name when left out.",
    )


class ColumnIn(BaseModel):
    name: str = Field(min_length=1, max_length=255, examples=["Status"])
    type: ColumnTypeT = Field(examples=["select"])
    options: list[OptionIn] = Field(default=[], max_length=50)

    def spec(self) -> ColumnSpec:
        return ColumnSpec(
            name=self.name,
            type=ColumnType(self.type),
            options=[DomainOption(o.name, o.option_code) for o in self.options],
        )


class CreateTicketListIn(BaseModel):
    name: str = Field(min_length=1, max_length=255, examples=["Support"])
    icon: str | None = Field(default=None, max_length=64, examples=["🎫"])
    columns: list[ColumnIn] = Field(default=[], max_length=19)


class TicketColumnsIn(BaseModel):
    """The columns an item body may carry; each is checked against the list's column type."""

    description: str | None = Field(default=None, examples=["The parcel has not arrived."])
    assignee: int | None = Field(default=None, examples=[1], description="A member's user id.")
    text1: str | None = Field(default=None, examples=["Order 1001"])
    text2: str | None = Field(default=None, examples=["DHL"])
    text3: str | None = Field(default=None, examples=["note"])
    text4: str | None = Field(default=None, examples=["note"])
    text5: str | None = Field(default=None, examples=["note"])
    select1: str | int | None = Field(
        default=None, examples=["open"], description="An option's option_key or option_code."
    )
    select2: str | int | None = Field(default=None, examples=["high"])
    select3: str | int | None = Field(default=None, examples=[1])
    select4: str | int | None = Field(default=None, examples=[1])
    select5: str | int | None = Field(default=None, examples=[1])
    number1: int | float | None = Field(default=None, examples=[42])
    number2: int | float | None = Field(default=None, examples=[7])
    rating1: int | None = Field(default=None, examples=[5], description="1 to 5.")
    rating2: int | None = Field(default=None, examples=[4])
    date1: str | None = Field(default=None, examples=["2024-10-15"], description="YYYY-MM-DD.")
    date2: str | None = Field(default=None, examples=["2024-10-16"])
    datetime1: str | None = Field(
        default=None, examples=["2024-10-15T09:30:00+00:00"], description="ISO 8601 (ours)."
    )
    datetime2: str | None = Field(default=None, examples=["2024-10-15T17:00:00+00:00"])

    def sent(self) -> dict[str, Any]:
        """Only the fields the client sent, so that an update leaves the others alone."""
        return self.model_dump(include=self.model_fields_set)


class CreateTicketIn(TicketColumnsIn):
    title: str = Field(max_length=255, examples=["Parcel missing"])
    user_ns: str = Field(max_length=64, examples=["f1u1"])


class UpdateTicketIn(TicketColumnsIn):
    title: str | None = Field(default=None, max_length=255, examples=["Parcel found"])


class TicketOut(BaseModel):
    id: int = Field(examples=[1])
    list_id: int = Field(examples=[1])
    title: str = Field(examples=["Parcel missing"])
    description: str | None = Field(examples=["The parcel has not arrived."])
    user_ns: str = Field(examples=["f1u1"])
    flow_ns: str = Field(examples=["f1"])
    values: dict[str, Value] = Field(
        examples=[{"select1": "open", "date1": "2024-10-15"}],
        description="The list's columns by key; select columns show the option_code.",
    )
    created_at: str | None = Field(examples=["2024-10-15 09:30:00"])
    updated_at: str | None = Field(examples=["2024-10-15 09:30:00"])

    @classmethod
    def of(cls, item: Item, columns: list[TicketColumn]) -> TicketOut:
        ticket = item.ticket
        codes = {
            column.key: {o["option_key"]: o["option_code"] for o in column.options}
            for column in columns
        }
        return cls(
            id=ticket.id,
            list_id=ticket.list_id,
            title=ticket.title,
            description=ticket.description,
            user_ns=format_ns(item.bot_id, Kind.SUBSCRIBER, item.subscriber_number),
            flow_ns=bot_ns(item.bot_id),
            values={
                column.key: codes[column.key].get(ticket.values.get(column.key))
                if codes[column.key]
                else ticket.values.get(column.key)
                for column in columns
            },
            created_at=wire_time(ticket.created_at),
            updated_at=wire_time(ticket.updated_at),
        )


class TicketChangeOut(BaseModel):
    id: int = Field(examples=[1])
    list_id: int = Field(examples=[1])
    list_item_id: int = Field(examples=[1])
    flow_ns: str = Field(examples=["f1"])
    user_ns: str = Field(examples=["f1u1"])
    action: Literal["create", "update", "delete"] = Field(examples=["update"])
    column_name: str | None = Field(examples=["select1"])
    value: Value = Field(examples=[2], description="The new value; an option_key for selects.")
    old_value: Value = Field(examples=[1], description="The value before (ours).")
    actor_type: Literal["api_key", "flow"] = Field(examples=["api_key"])
    actor: str | None = Field(examples=["Zapier"], description="The API key's name.")
    created_at: str | None = Field(examples=["2024-10-15 09:30:00"])

    @classmethod
    def of(cls, change: TicketChange) -> TicketChangeOut:
        return cls(
            id=change.id,
            list_id=change.list_id,
            list_item_id=change.item_id,
            flow_ns=bot_ns(change.bot_id),
            user_ns=format_ns(change.bot_id, Kind.SUBSCRIBER, change.subscriber_number),
            action=change.action,
            column_name=change.column_name,
            value=change.new_value,
            old_value=change.old_value,
            actor_type=change.actor_type,
            actor=change.actor,
            created_at=wire_time(change.created_at),
        )


Text = Annotated[str | None, BlankIsNone]


async def change_query(
    start_time: Annotated[
        UnixTime, Query(description="Only changes at or after this time, in unix seconds.")
    ] = None,
    end_time: Annotated[
        UnixTime, Query(description="Only changes up to this time (inclusive), unix seconds.")
    ] = None,
    flow_ns: Annotated[Text, Query(description="Only items of this bot.")] = None,
    user_ns: Annotated[Text, Query(description="Only items of this subscriber.")] = None,
    list_item_id: Annotated[
        int | None, BlankIsNone, Query(description="Only this item's changes.")
    ] = None,
    column_name: Annotated[
        Text, Query(description="Only changes of this column, by key (`select1`, `title`...).")
    ] = None,
    limit: Annotated[
        int | None,
        BlankIsNone,
        Query(description=f"How many changes: 1 to {MAX_READ}, {DEFAULT_READ} if unset."),
    ] = None,
) -> ChangeQuery:
    return ChangeQuery(
        since=unix_moment(start_time, "start_time"),
        until=unix_moment_after(end_time, "end_time"),
        flow_ns=flow_ns,
        user_ns=user_ns,
        item_id=list_item_id,
        column_name=column_name,
        limit=DEFAULT_READ if limit is None else limit,
    )
