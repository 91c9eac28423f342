"""Finding a workspace's rows nearest in meaning to a question: cosine similarity over the
rows' embeddings, computed with NumPy on a matrix each process keeps per workspace.

A matrix holds the workspace's embeddings of one model, each row scaled to length 1, so that
one matrix-vector product gives every row's cosine. It is built on the first search and kept
while the workspace's revision (see `KnowledgeRevision`, moved on by every write in the write's
own transaction) stays the same: a write in any process makes every process build it again, and
a search costs one small read besides the product. Matrices are dropped least recently used
first once together they pass `MAX_CACHED_BYTES`.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.db import dialect_insert, table_of
from konversation.knowledge.models import KnowledgeRevision, KnowledgeRow

# Little-endian float32, whatever the machine: the bytes mean the same on every server.
STORED = np.dtype("<f4")
MAX_CACHED_BYTES = 512 * 1024 * 1024

Vector = npt.NDArray[np.float32]


def pack(vector: npt.NDArray[np.floating]) -> bytes:
    return np.asarray(vector, dtype=STORED).tobytes()


def unpack(blob: bytes) -> Vector:
    return np.frombuffer(blob, dtype=STORED).astype(np.float32)


@dataclass(frozen=True)
class Match:
    row: KnowledgeRow
    score: float


@dataclass(frozen=True)
class _Matrix:
    revision: int
    model: str
    ids: npt.NDArray[np.int64]
    vectors: Vector  # one unit-length row per id

    @property
    def size(self) -> int:
        return int(self.ids.nbytes + self.vectors.nbytes)


class Searcher:
    """The matrices of one process, and searches over them."""

    def __init__(self, max_bytes: int = MAX_CACHED_BYTES) -> None:
        self.max_bytes = max_bytes
        self._matrices: OrderedDict[int, _Matrix] = OrderedDict()

    async def nearest(
        self,
        session: AsyncSession,
        workspace_id: int,
        model: str,
        query: Vector,
        *,
        top_k: int,
    ) -> list[Match]:
        """The `top_k` rows most like `query` (embedded by `model`), best first."""
        matrix = await self._matrix(session, workspace_id, model)
        if not len(matrix.ids) or matrix.vectors.shape[1] != query.shape[0]:
            return []
        scores = matrix.vectors @ _unit(query)
        best = _top(scores, top_k)
        ids = [int(matrix.ids[i]) for i in best]
        rows = {
            row.id: row
            for row in await session.scalars(select(KnowledgeRow).where(KnowledgeRow.id.in_(ids)))
        }
        found = zip(ids, best, strict=True)
        return [Match(rows[i], float(scores[b])) for i, b in found if i in rows]

    async def _matrix(self, session: AsyncSession, workspace_id: int, model: str) -> _Matrix:
        # The revision is read before the rows: a write between the two only makes the next
        # search build the matrix again.
        revision = await current_revision(session, workspace_id)
        cached = self._matrices.get(workspace_id)
        if cached is not None and (cached.revision, cached.model) == (revision, model):
            self._matrices.move_to_end(workspace_id)
            return cached
        matrix = await _load(session, workspace_id, model, revision)
        self._matrices[workspace_id] = matrix
        self._matrices.move_to_end(workspace_id)
        while sum(m.size for m in self._matrices.values()) > self.max_bytes:
            if len(self._matrices) == 1:
                break
            self._matrices.popitem(last=False)
        return matrix


async def _load(session: AsyncSession, workspace_id: int, model: str, revision: int) -> _Matrix:
    rows = (
        await session.execute(
            select(KnowledgeRow.id, KnowledgeRow.embedding)
            .where(
                KnowledgeRow.workspace_id == workspace_id,
                KnowledgeRow.embedding_model == model,
                KnowledgeRow.embedding.is_not(None),
            )
            .order_by(KnowledgeRow.id)
        )
    ).all()
    # Vectors of another length than the first (a model that changed its size) are left out.
    blobs = [(row_id, blob) for row_id, blob in rows if blob is not None]
    width = len(blobs[0][1]) if blobs else 0
    kept = [(row_id, blob) for row_id, blob in blobs if len(blob) == width]
    ids = np.fromiter((row_id for row_id, _ in kept), dtype=np.int64, count=len(kept))
    dimensions = width // STORED.itemsize
    flat = np.frombuffer(b"".join(blob for _, blob in kept), dtype=STORED)
    vectors = flat.astype(np.float32).reshape(len(kept), dimensions)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    return _Matrix(revision, model, ids, vectors)


def _unit(vector: Vector) -> Vector:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def _top(scores: Vector, k: int) -> Sequence[int]:
    """The positions of the `k` highest scores, highest first."""
    everything = np.arange(len(scores))
    picked = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else everything
    return [int(i) for i in picked[np.argsort(-scores[picked], kind="stable")]]


async def current_revision(session: AsyncSession, workspace_id: int) -> int:
    found = await session.scalar(
        select(KnowledgeRevision.revision).where(KnowledgeRevision.workspace_id == workspace_id)
    )
    return int(found or 0)


REVISIONS = table_of(KnowledgeRevision)
# Room above a first revision for a billion writes within a 32-bit column.
FIRST_REVISIONS = 2**30


async def changed(session: AsyncSession, workspace_id: int) -> None:
    """Move the workspace's revision on, in the caller's transaction (after any write).

    A first revision is drawn at random: a workspace made anew under the id of a deleted one
    (SQLite hands out ids again) then never meets the matrix the deleted one left behind.
    """
    first = secrets.randbelow(FIRST_REVISIONS) + 1
    insert = dialect_insert(session)(REVISIONS).values(workspace_id=workspace_id, revision=first)
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[REVISIONS.c.workspace_id],
            set_={"revision": REVISIONS.c.revision + 1},
        )
    )
