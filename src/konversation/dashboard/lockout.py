"""Locking an address out after repeated failed sign-ins, counted in the database."""

from __future__ import annotations

import datetime as dt
import math
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.dashboard.models import LoginFailure
from konversation.db import utcnow

MAX_FAILURES: Final = 5
WINDOW: Final = dt.timedelta(minutes=15)


def normalise(email: str) -> str:
    return email.strip().lower()


async def locked_for(session: AsyncSession, email: str) -> dt.timedelta | None:
    """How long `email` stays locked out, or None when it may try to sign in.

    Locked while the last `MAX_FAILURES` failures all lie within `WINDOW`; the lock lifts
    `WINDOW` after the oldest of them.
    """
    now = utcnow()
    recent = list(
        await session.scalars(
            select(LoginFailure.created_at)
            .where(LoginFailure.email == normalise(email), LoginFailure.created_at > now - WINDOW)
            .order_by(LoginFailure.created_at.desc())
            .limit(MAX_FAILURES)
        )
    )
    if len(recent) < MAX_FAILURES:
        return None
    return recent[-1] + WINDOW - now


def minutes(remaining: dt.timedelta) -> int:
    return max(1, math.ceil(remaining.total_seconds() / 60))


async def record_failure(session: AsyncSession, email: str, ip: str | None) -> None:
    now = utcnow()
    # Failures older than the window count for nothing: drop them as new ones come in.
    await session.execute(delete(LoginFailure).where(LoginFailure.created_at <= now - WINDOW))
    session.add(LoginFailure(email=normalise(email), ip=(ip or "")[:64] or None, created_at=now))
    await session.flush()


async def clear_failures(session: AsyncSession, email: str) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.email == normalise(email)))
