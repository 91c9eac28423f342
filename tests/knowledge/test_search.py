"""Searching a workspace's knowledge by cosine similarity, with each process's matrix kept until
a write moves the workspace's revision on."""

from __future__ import annotations

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from builders import Tenant, make_tenant
from konversation.db import session_scope
from konversation.knowledge.models import KnowledgeRow
from konversation.knowledge.search import Searcher, changed, pack, unpack

MODEL = "test-embedding"


def _vector(*values: float) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


async def _add(
    sessions: async_sessionmaker[AsyncSession], workspace_id: int, heading: str, vector: np.ndarray
) -> None:
    async with session_scope(sessions) as session:
        session.add(
            KnowledgeRow(
                workspace_id=workspace_id,
                heading=heading,
                text=f"About {heading}",
                embedding=pack(vector),
                embedding_model=MODEL,
            )
        )
        await session.flush()
        await changed(session, workspace_id)


def test_vectors_are_stored_as_little_endian_float32() -> None:
    blob = pack(_vector(1.0, -2.5))
    assert blob == np.asarray([1.0, -2.5], dtype="<f4").tobytes()
    assert unpack(blob).tolist() == [1.0, -2.5]


async def test_the_nearest_rows_come_first_and_only_of_the_workspace(
    sessions: async_sessionmaker[AsyncSession], tenant: Tenant, server_secret: bytes
) -> None:
    other = await make_tenant(sessions, server_secret)
    await _add(sessions, tenant.workspace_id, "hours", _vector(1, 0, 0))
    await _add(sessions, tenant.workspace_id, "returns", _vector(0, 1, 0))
    await _add(sessions, tenant.workspace_id, "shipping", _vector(0.7, 0.7, 0))
    await _add(sessions, other.workspace_id, "theirs", _vector(1, 0, 0))
    searcher = Searcher()
    async with sessions() as session:
        found = await searcher.nearest(
            session, tenant.workspace_id, MODEL, _vector(0.9, 0.1, 0), top_k=2
        )
    assert [m.row.heading for m in found] == ["hours", "shipping"]
    assert found[0].score > found[1].score
    assert abs(found[0].score - 0.9 / np.hypot(0.9, 0.1)) < 1e-5


async def test_a_write_in_another_session_is_seen_by_the_next_search(
    sessions: async_sessionmaker[AsyncSession], tenant: Tenant
) -> None:
    await _add(sessions, tenant.workspace_id, "hours", _vector(1, 0))
    searcher = Searcher()
    query = _vector(0, 1)
    async with sessions() as session:
        first = await searcher.nearest(session, tenant.workspace_id, MODEL, query, top_k=1)
    assert [m.row.heading for m in first] == ["hours"]
    await _add(sessions, tenant.workspace_id, "returns", _vector(0, 1))
    async with sessions() as session:
        second = await searcher.nearest(session, tenant.workspace_id, MODEL, query, top_k=1)
    assert [m.row.heading for m in second] == ["returns"]


async def test_rows_of_another_model_or_without_embedding_are_not_searched(
    sessions: async_sessionmaker[AsyncSession], tenant: Tenant
) -> None:
    async with session_scope(sessions) as session:
        session.add(KnowledgeRow(workspace_id=tenant.workspace_id, heading="bare", text="x"))
        session.add(
            KnowledgeRow(
                workspace_id=tenant.workspace_id,
                heading="old",
                text="y",
                embedding=pack(_vector(1, 0)),
                embedding_model="older-model",
            )
        )
    async with sessions() as session:
        found = await Searcher().nearest(
            session, tenant.workspace_id, MODEL, _vector(1, 0), top_k=5
        )
    assert found == []
