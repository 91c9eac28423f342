"""Claiming an idempotency key, and keeping the answer it was given.

A key is claimed in a transaction of its own before the request is handled, so two requests
with the same key at once cannot both go ahead (the unique constraint decides). The answer is
stored when the request is done; an answer of 5xx, or a crash of the handler, gives the key up,
so a retry is handled afresh. Keys are kept for `RETENTION`.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from konversation.db import session_scope, utcnow
from konversation.idempotency.models import IdempotentRequest

RETENTION = dt.timedelta(hours=24)


class Standing(enum.Enum):
    NEW = "new"  # the caller's first request with this key: handle it
    DONE = "done"  # answered before: give the same answer again
    BUSY = "busy"  # the first request is still being handled
    MISMATCH = "mismatch"  # the key was used for a different request


@dataclass(frozen=True)
class Claim:
    standing: Standing
    status_code: int | None = None
    content_type: str | None = None
    body: bytes | None = None


async def claim(
    sessions: async_sessionmaker[AsyncSession], owner: str, key: str, fingerprint: str
) -> Claim:
    try:
        async with session_scope(sessions) as session:
            return await _claim(session, owner, key, fingerprint)
    except IntegrityError:  # another request claimed the key in the meantime
        return Claim(Standing.BUSY)


async def _claim(session: AsyncSession, owner: str, key: str, fingerprint: str) -> Claim:
    cutoff = utcnow() - RETENTION
    await session.execute(delete(IdempotentRequest).where(IdempotentRequest.created_at < cutoff))
    found = await session.scalar(
        select(IdempotentRequest).where(
            IdempotentRequest.owner == owner, IdempotentRequest.key == key
        )
    )
    if found is None:
        session.add(IdempotentRequest(owner=owner, key=key, fingerprint=fingerprint))
        await session.flush()
        return Claim(Standing.NEW)
    if found.fingerprint != fingerprint:
        return Claim(Standing.MISMATCH)
    if found.status_code is None:
        return Claim(Standing.BUSY)
    return Claim(Standing.DONE, found.status_code, found.content_type, found.body)


async def keep_answer(
    sessions: async_sessionmaker[AsyncSession],
    owner: str,
    key: str,
    *,
    status_code: int,
    content_type: str | None,
    body: bytes,
) -> None:
    async with session_scope(sessions) as session:
        await session.execute(
            update(IdempotentRequest)
            .where(IdempotentRequest.owner == owner, IdempotentRequest.key == key)
            .values(status_code=status_code, content_type=content_type, body=body)
        )


async def give_up(sessions: async_sessionmaker[AsyncSession], owner: str, key: str) -> None:
    async with session_scope(sessions) as session:
        await session.execute(
            delete(IdempotentRequest).where(
                IdempotentRequest.owner == owner, IdempotentRequest.key == key
            )
        )
