"""Finding a bot's namespaced, named items (tags, fields, sub flows) by id, by name, or by page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from konversation.db import PageRequest, contains_text, fetch_page
from konversation.errors import NotFound
from konversation.ids import Kind, number_in_bot


class Named(Protocol):
    bot_id: InstrumentedAttribute[int]
    number: InstrumentedAttribute[int]
    name: InstrumentedAttribute[str]


M = TypeVar("M")


@dataclass(frozen=True)
class Catalog(Generic[M]):
    model: type[M]
    kind: Kind
    label: str
    where: tuple[ColumnElement[bool], ...] = field(default=())

    @property
    def _columns(self) -> Named:
        return self.model  # type: ignore[return-value]

    @property
    def not_found(self) -> str:
        return f"{self.label} not found"

    def query(self, bot_id: int) -> Select[M]:
        return select(self.model).where(self._columns.bot_id == bot_id, *self.where)

    async def page(
        self, session: AsyncSession, bot_id: int, *, name: str | None, window: PageRequest
    ) -> tuple[Sequence[M], int]:
        query = self.query(bot_id).order_by(self._columns.number)
        if name:
            query = query.where(contains_text(self._columns.name, name))
        return await fetch_page(session, query, window)

    async def all(self, session: AsyncSession, bot_id: int) -> Sequence[M]:
        return (await session.scalars(self.query(bot_id).order_by(self._columns.number))).all()

    async def by_ns(self, session: AsyncSession, bot_id: int, ns: str) -> M:
        number = number_in_bot(ns, self.kind, bot_id, self.not_found)
        return await self._one(session, self.query(bot_id).where(self._columns.number == number))

    async def by_name(self, session: AsyncSession, bot_id: int, name: str) -> M:
        return await self._one(session, self._named(bot_id, name))

    async def find_by_name(self, session: AsyncSession, bot_id: int, name: str) -> M | None:
        return await session.scalar(self._named(bot_id, name))

    def _named(self, bot_id: int, name: str) -> Select[M]:
        # Sub flow names may repeat: the oldest one wins, the same one every time.
        query = self.query(bot_id).where(self._columns.name == name)
        return query.order_by(self._columns.number).limit(1)

    async def _one(self, session: AsyncSession, query: Select[M]) -> M:
        item = await session.scalar(query)
        if item is None:
            raise NotFound(self.not_found)
        return item
