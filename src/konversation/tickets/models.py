"""Ticket lists: workspace boards of typed columns, their items (one subscriber each) and the
log of every change made to an item's columns."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from konversation.db import Base, JSONDoc, Timestamped, UTCDateTime, utcnow


class ColumnType(StrEnum):
    TEXT = "text"
    SELECT = "select"
    NUMBER = "number"
    RATING = "rating"
    DATE = "date"
    DATETIME = "datetime"
    ASSIGNEE = "assignee"


# How many columns of each type a list holds. On the wire a column is named by its type and
# place, as the original API does (`text1` to `text5`, `select1` ...); the one assignee column
# is plainly `assignee`.
SLOTS: dict[ColumnType, int] = {
    ColumnType.TEXT: 5,
    ColumnType.SELECT: 5,
    ColumnType.NUMBER: 2,
    ColumnType.RATING: 2,
    ColumnType.DATE: 2,
    ColumnType.DATETIME: 2,
    ColumnType.ASSIGNEE: 1,
}


def slot_keys(column_type: ColumnType) -> list[str]:
    if SLOTS[column_type] == 1:
        return [column_type.value]
    return [f"{column_type.value}{n}" for n in range(1, SLOTS[column_type] + 1)]


class TicketList(Timestamped, Base):
    __tablename__ = "ticket_lists"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    icon: Mapped[str | None] = mapped_column(String(64))
    list_code: Mapped[str] = mapped_column(String(32))
    is_live: Mapped[bool] = mapped_column(default=True)


class TicketColumn(Base):
    """One typed column of a list; `options` (select columns only) are
    `{"option_key": int, "option_code": str, "name": str}`."""

    __tablename__ = "ticket_columns"
    __table_args__ = (UniqueConstraint("list_id", "key"), UniqueConstraint("list_id", "name"))

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("ticket_lists.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc)


class Ticket(Timestamped, Base):
    """An item of a list, about one subscriber; `values` holds its columns by key."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_list_id_id", "list_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("ticket_lists.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    values: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class TicketChange(Base):
    """One column of one item changed: by whom, when, from what to what.

    The item and its subscriber are kept as plain numbers, not foreign keys: the log outlives
    a deleted item, so that its history can still be read.
    """

    __tablename__ = "ticket_changes"
    __table_args__ = (
        Index("ix_ticket_changes_list_id_created_at", "list_id", "created_at"),
        Index("ix_ticket_changes_list_id_item_id", "list_id", "item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("ticket_lists.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(Integer)
    bot_id: Mapped[int] = mapped_column(Integer)
    subscriber_number: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    column_name: Mapped[str | None] = mapped_column(String(16))
    old_value: Mapped[Any] = mapped_column(JSONDoc, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSONDoc, nullable=True)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
