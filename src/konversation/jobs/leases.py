"""Taking long-running background jobs (imports, embedding runs) one at a time under a lease.

A job row has `id` and `leased_until` columns. A worker claims a ready job by setting its lease,
does one step of it, then lets it go; a worker that dies mid-step holds the job only until the
lease runs out, after which any worker takes it over. `skip_locked` keeps two PostgreSQL workers
from waiting on each other's claim.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from konversation.db import session_scope, utcnow


async def step_each(
    sessions: async_sessionmaker[AsyncSession],
    model: Any,
    *,
    ready: ColumnElement[bool],
    order_by: Sequence[Any],
    lease: dt.timedelta,
    step: Callable[[int], Awaitable[int]],
) -> int:
    """Run `step` on each ready job of `model` in turn, the job leased meanwhile and let go
    after, even when the step fails; answers the sum of what the steps answered. Each job gets
    one step per call, so a job that stays ready does not starve the others."""
    done = 0
    given: set[int] = set()
    while (job_id := await _claim(sessions, model, ready, order_by, given, lease)) is not None:
        given.add(job_id)
        try:
            done += await step(job_id)
        finally:
            async with session_scope(sessions) as session:
                await session.execute(
                    update(model).where(model.id == job_id).values(leased_until=None)
                )
    return done


async def _claim(
    sessions: async_sessionmaker[AsyncSession],
    model: Any,
    ready: ColumnElement[bool],
    order_by: Sequence[Any],
    given: set[int],
    lease: dt.timedelta,
) -> int | None:
    now = utcnow()
    query = (
        select(model.id)
        .where(ready, or_(model.leased_until.is_(None), model.leased_until < now))
        .order_by(*order_by)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if given:
        query = query.where(model.id.not_in(given))
    async with session_scope(sessions) as session:
        found: int | None = await session.scalar(query)
        if found is not None:
            await session.execute(
                update(model).where(model.id == found).values(leased_until=now + lease)
            )
    return found
