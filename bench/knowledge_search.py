"""How fast a knowledge search answers: 10,000 rows of one workspace, 1536-dimensional embeddings.

The rows are written to a throwaway database with the real schema; the real `Searcher` answers
each query (the revision read, the matrix product, the top k and the read of the k rows). The
first search builds the workspace's matrix (cold); the median of the following ones is the warm
figure, which must stay under 50 ms. The same-run baseline is a pure-Python cosine loop over the
same vectors, so the ratio says what NumPy and the kept matrix buy.

    .venv/bin/python bench/knowledge_search.py               # SQLite
    .venv/bin/python bench/knowledge_search.py --postgresql  # a throwaway PostgreSQL database
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import time

import numpy as np
from harness import database_name, machine_line, print_command, throwaway_database

from konversation.db import insert_rows, make_engine, make_session_factory, session_scope, utcnow
from konversation.knowledge.models import KnowledgeRow
from konversation.knowledge.search import Searcher, changed, pack
from konversation.schema import upgrade
from konversation.workspaces.models import Workspace

MODEL = "bench-embedding"
LIMIT_MS = 50.0


def _cosine_loop(rows: list[list[float]], query: list[float], k: int) -> list[int]:
    norm_q = math.sqrt(sum(x * x for x in query))
    scores = []
    for position, row in enumerate(rows):
        dot = sum(a * b for a, b in zip(row, query, strict=True))
        scores.append((dot / (math.sqrt(sum(a * a for a in row)) * norm_q), position))
    return [position for _, position in sorted(scores, reverse=True)[:k]]


async def main(rows: int, dimensions: int, repeat: int, postgresql: bool) -> None:
    generator = np.random.default_rng(7)
    vectors = generator.standard_normal((rows, dimensions)).astype(np.float32)
    async with throwaway_database(postgresql) as url:
        engine = make_engine(url)
        await upgrade(engine)
        sessions = make_session_factory(engine)
        async with session_scope(sessions) as session:
            workspace = Workspace(name="bench")
            session.add(workspace)
            await session.flush()
            now = utcnow()
            await insert_rows(
                session,
                KnowledgeRow.__table__,  # type: ignore[arg-type]
                [
                    {
                        "workspace_id": workspace.id,
                        "type": "",
                        "heading": f"row {i}",
                        "text": f"text {i}",
                        "embedding": pack(vectors[i]),
                        "embedding_model": MODEL,
                        "updated_at": now,
                        "created_at": now,
                    }
                    for i in range(rows)
                ],
            )
            await changed(session, workspace.id)
        searcher = Searcher()
        queries = generator.standard_normal((repeat + 1, dimensions)).astype(np.float32)
        timings = []
        async with sessions() as session:
            for query in queries:
                started = time.perf_counter()
                found = await searcher.nearest(session, workspace.id, MODEL, query, top_k=5)
                timings.append((time.perf_counter() - started) * 1000)
                expected = np.argsort(-(vectors @ query / np.linalg.norm(vectors, axis=1)))[:5]
                assert [m.row.heading for m in found] == [f"row {i}" for i in expected]
        await engine.dispose()
    started = time.perf_counter()
    baseline = _cosine_loop(vectors.tolist(), queries[-1].tolist(), 5)
    loop_ms = (time.perf_counter() - started) * 1000
    assert [f"row {i}" for i in baseline] == [m.row.heading for m in found]
    warm = statistics.median(timings[1:])
    print_command()
    print(machine_line(database_name(url), f"{rows:,} rows x {dimensions} dimensions, top 5"))
    print(f"cold search (builds the matrix): {timings[0]:8.1f} ms")
    print(f"warm search, median of {repeat}:   {warm:8.2f} ms (limit {LIMIT_MS:.0f} ms)")
    print(f"pure-Python cosine loop:        {loop_ms:8.1f} ms (baseline)")
    print(f"warm search / baseline:         {warm / loop_ms:8.4f} ({loop_ms / warm:,.0f}x faster)")
    if warm >= LIMIT_MS:
        raise SystemExit(f"warm search took {warm:.1f} ms, over {LIMIT_MS:.0f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--dimensions", type=int, default=1536)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--postgresql", action="store_true")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.rows, arguments.dimensions, arguments.repeat, arguments.postgresql))
