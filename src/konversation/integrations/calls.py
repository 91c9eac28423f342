"""Calls to a workspace's connected services, made in the background and retried.

Whatever should reach an outside service because of a change here (a subscriber's photo to
store in the workspace's bucket, a paid order to announce to Meta or to hand to Dropi) is queued
by `queue` as one row, in the transaction of the change: the call is made if and only if the
change was stored, and never inside the request that made it. Each row's `key` says what it is
about (`order:12`), unique per workspace and service, so the same change queued twice is one
call. The workers (`delivery`) then make it with the integration's settings as saved at that
moment, and keep what the service answered (`external_id`, `result`) or why it failed.

A service's *handler* makes one call: it answers `Done`, or raises `Failure`, saying whether the
same call may succeed later.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx
from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from konversation.channels.telegram import API_BASE as TELEGRAM_API_BASE
from konversation.db import QUEUED, Base, JSONDoc, Leased, UTCDateTime, dialect_insert, utcnow
from konversation.integrations.kinds import Kind
from konversation.integrations.models import Integration
from konversation.webhooks.addresses import Network


class CallStatus(StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt
    DONE = "done"
    FAILED = "failed"  # every attempt failed, the service refused it, or it was disconnected


class IntegrationCall(Leased, Base):
    """One call to make to a workspace's service, and what became of it."""

    __tablename__ = "integration_calls"
    __table_args__ = (
        UniqueConstraint("workspace_id", "kind", "key"),
        Index("ix_integration_calls_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    # The service (`Kind` value) and what the call is about, such as `order:12`.
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(191))
    # What the handler needs to know beyond the key (ids, an original URL).
    subject: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=CallStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The service's own id of what the call made (a Dropi order's id), and what else it said.
    external_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


@dataclass(frozen=True, slots=True)
class Call:
    """A claimed call, as its handler sees it; `settings` are the integration's, decrypted."""

    id: int
    workspace_id: int
    kind: Kind
    key: str
    subject: dict[str, Any]
    attempts: int
    settings: dict[str, Any]


@dataclass(frozen=True)
class Context:
    """What handlers may use: the database, the shared HTTP client, where Meta's Graph API and
    Telegram's Bot API are, and the networks beyond the public internet that owners' URLs may
    lead into."""

    sessions: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    graph_api_base: str
    allowed: Sequence[Network] = ()
    telegram_api_base: str = TELEGRAM_API_BASE


@dataclass(frozen=True)
class Done:
    external_id: str | None = None
    result: dict[str, Any] = field(default_factory=dict)


class Failure(Exception):
    """The call did not succeed. `retryable` says whether the same call may succeed later
    (network failures, rate limits, server errors); `retry_after` is the wait the service asked
    for, in seconds. The message never holds a secret."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status_code: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status_code = status_code
        self.retry_after = retry_after


Handler = Callable[[Context, Call], Awaitable[Done]]


async def connected(session: AsyncSession, workspace_id: int, kinds: Iterable[Kind]) -> list[Kind]:
    """Which of `kinds` the workspace has saved, in the order given."""
    wanted = [kind.value for kind in kinds]
    saved = set(
        await session.scalars(
            select(Integration.kind).where(
                Integration.workspace_id == workspace_id, Integration.kind.in_(wanted)
            )
        )
    )
    return [Kind(kind) for kind in wanted if kind in saved]


async def queue(
    session: AsyncSession,
    workspace_id: int,
    kind: Kind,
    key: str,
    subject: dict[str, Any] | None = None,
) -> None:
    """Queue one call in the caller's transaction; one already queued under `key` stays as it
    is (the change it is about happened once)."""
    now = utcnow()
    row = {
        "workspace_id": workspace_id,
        "kind": kind.value,
        "key": key,
        "subject": subject or {},
        "status": CallStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    insert = dialect_insert(session)(IntegrationCall).values(row)
    await session.execute(
        insert.on_conflict_do_nothing(index_elements=["workspace_id", "kind", "key"])
    )
    session.info[QUEUED] = True


async def find(
    session: AsyncSession, workspace_id: int, kind: Kind, key: str
) -> IntegrationCall | None:
    return await session.scalar(
        select(IntegrationCall).where(
            IntegrationCall.workspace_id == workspace_id,
            IntegrationCall.kind == kind.value,
            IntegrationCall.key == key,
        )
    )
