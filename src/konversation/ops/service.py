"""What an operator asks of a running process: is it ready for traffic, and how much work is
waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass

import redis.asyncio as redis
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from konversation.runtime.models import Delivery, DeliveryStatus, Run, RunStatus
from konversation.sending.broadcasts import LIVE
from konversation.sending.models import Broadcast
from konversation.webhooks.models import DeliveryStatus as WebhookStatus
from konversation.webhooks.models import WebhookDelivery

CHECK_SECONDS = 2.0


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]  # each part: "ok", or what is wrong with it

    @property
    def ready(self) -> bool:
        return all(outcome == "ok" for outcome in self.checks.values())


async def readiness(
    engine: AsyncEngine, redis_url: str | None, *, stopping: bool = False
) -> Readiness:
    """Whether the database (and Redis, when configured) answers within `CHECK_SECONDS`, and
    the process is not on its way out."""
    checks = {"database": await _check(_database(engine))}
    if redis_url:
        checks["redis"] = await _check(_redis(redis_url))
    if stopping:
        checks["process"] = "stopping"
    return Readiness(checks)


async def _check(probe: Awaitable[None]) -> str:
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            await probe
    except TimeoutError:
        return "no answer"
    except Exception as failure:  # any failure means not ready; its kind is what helps
        return type(failure).__name__
    return "ok"


async def _database(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _redis(url: str) -> None:
    connection = redis.from_url(url)
    try:
        await connection.ping()
    finally:
        await connection.aclose()


async def queue_depths(session: AsyncSession) -> dict[str, int]:
    """The work waiting now, by kind: messages to send, runs waiting for a time or a reply,
    broadcasts under way, event webhook posts to make."""
    counts = select(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.status == DeliveryStatus.PENDING)
        .scalar_subquery(),
        select(func.count())
        .select_from(Run)
        .where(Run.status == RunStatus.WAITING)
        .scalar_subquery(),
        select(func.count())
        .select_from(Broadcast)
        .where(Broadcast.status.in_(LIVE))
        .scalar_subquery(),
        select(func.count())
        .select_from(WebhookDelivery)
        .where(WebhookDelivery.status == WebhookStatus.PENDING)
        .scalar_subquery(),
    )
    row = (await session.execute(counts)).one()
    kinds = ("deliveries", "waiting_runs", "broadcasts", "webhook_posts")
    return dict(zip(kinds, (int(n) for n in row), strict=True))
