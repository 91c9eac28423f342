"""A workspace's own rows of one kind (shop locations, flow templates): a page of them,
optionally narrowed by name, and one of them by its key, or NotFound."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from konversation.db import PageRequest, contains_text, fetch_page
from konversation.errors import NotFound


class Owned(Protocol):
    id: InstrumentedAttribute[int]
    workspace_id: InstrumentedAttribute[int]
    name: InstrumentedAttribute[str]


M = TypeVar("M")


@dataclass(frozen=True)
class WorkspaceItems(Generic[M]):
    """The rows of `model`, listed in id order and found by `key` (a column of `model`)."""

    model: type[M]
    key: InstrumentedAttribute[Any]
    not_found: str

    @property
    def _columns(self) -> Owned:
        return self.model  # type: ignore[return-value]

    def _query(self, workspace_id: int) -> Select[M]:
        return select(self.model).where(self._columns.workspace_id == workspace_id)

    async def page(
        self, session: AsyncSession, workspace_id: int, *, name: str | None, window: PageRequest
    ) -> tuple[Sequence[M], int]:
        query = self._query(workspace_id).order_by(self._columns.id)
        if name:
            query = query.where(contains_text(self._columns.name, name))
        return await fetch_page(session, query, window)

    async def get(self, session: AsyncSession, workspace_id: int, key: Any) -> M:
        found = await session.scalar(self._query(workspace_id).where(self.key == key))
        if found is None:
            raise NotFound(self.not_found)
        return found
