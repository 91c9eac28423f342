"""Making the queued integration calls (see `calls`): claimed with a lease, each made by its
service's handler with the integration's current settings, retried with the event webhooks'
backoff (or the wait the service asked for) until it succeeds, the service refuses it for good,
or `MAX_ATTEMPTS` are spent. A workspace that disconnected the service in the meantime gets
its remaining calls marked failed, never made with stale credentials."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import exists, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from konversation.db import session_scope, utcnow
from konversation.integrations.calls import (
    Call,
    CallStatus,
    Context,
    Failure,
    Handler,
    IntegrationCall,
)
from konversation.integrations.conversions import send_purchase
from konversation.integrations.dropi import create_order
from konversation.integrations.kinds import Kind
from konversation.integrations.media import store
from konversation.integrations.service import load
from konversation.webhooks.delivery import BACKOFF, MAX_RETRY_AFTER

log = logging.getLogger(__name__)

MAX_ATTEMPTS = len(BACKOFF) + 1
LEASE = dt.timedelta(seconds=60)
BATCH = 100
CONCURRENT_CALLS = 8
ERROR_CHARS = 500

HANDLERS: Mapping[Kind, Handler] = {
    Kind.META_CONVERSIONS: send_purchase,
    Kind.DROPI: create_order,
    Kind.S3: store,
}


def due_now(now: dt.datetime) -> ColumnElement[bool]:
    return exists().where(
        IntegrationCall.status == CallStatus.PENDING, IntegrationCall.next_attempt_at <= now
    )


async def deliver_due(
    context: Context,
    server_secret: bytes,
    *,
    handlers: Mapping[Kind, Handler] = HANDLERS,
    lease: dt.timedelta = LEASE,
    now: dt.datetime | None = None,
    limit: int = BATCH,
) -> int:
    """Make the calls due at `now`; answers how many were tried."""
    now = now or utcnow()
    async with session_scope(context.sessions) as session:
        rows = await _claim(session, now, lease, limit)
        calls = [await _call(session, server_secret, row) for row in rows]
    if not calls:
        return 0
    gate = asyncio.Semaphore(CONCURRENT_CALLS)

    async def attempt(row: IntegrationCall, call: Call | None) -> dict[str, Any]:
        async with gate:
            return await _attempt(context, handlers, row, call, now)

    outcomes = await asyncio.gather(*(attempt(r, c) for r, c in zip(rows, calls, strict=True)))
    async with session_scope(context.sessions) as session:
        await session.execute(update(IntegrationCall), list(outcomes))
    return len(rows)


async def _claim(
    session: Any, now: dt.datetime, lease: dt.timedelta, limit: int
) -> list[IntegrationCall]:
    clock = utcnow()  # leases are about workers, so they follow the real clock
    due = (
        select(IntegrationCall)
        .where(
            IntegrationCall.status == CallStatus.PENDING,
            IntegrationCall.next_attempt_at <= now,
            or_(IntegrationCall.leased_until.is_(None), IntegrationCall.leased_until < clock),
        )
        .order_by(IntegrationCall.next_attempt_at, IntegrationCall.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(await session.scalars(due))
    for row in rows:
        row.leased_until = clock + lease
    return rows


async def _call(session: Any, server_secret: bytes, row: IntegrationCall) -> Call | None:
    """The call as its handler sees it, or None when the workspace disconnected the service."""
    kind = Kind(row.kind)
    settings = await load(session, server_secret, row.workspace_id, kind)
    if settings is None:
        return None
    return Call(row.id, row.workspace_id, kind, row.key, dict(row.subject), row.attempts, settings)


async def _attempt(
    context: Context,
    handlers: Mapping[Kind, Handler],
    row: IntegrationCall,
    call: Call | None,
    now: dt.datetime,
) -> dict[str, Any]:
    tried: dict[str, Any] = {
        "id": row.id,
        "attempts": row.attempts + 1,
        "leased_until": None,
    }
    handler = handlers.get(Kind(row.kind))
    if call is None or handler is None:
        error = "The integration is not connected any more."
        return tried | {"status": CallStatus.FAILED, "last_error": error}
    try:
        done = await handler(context, call)
    except Failure as failure:
        log.warning("Integration call %s (%s) failed: %s", row.id, row.kind, failure.message)
        return tried | _retry(row.attempts + 1, now, failure)
    return tried | {
        "status": CallStatus.DONE,
        "done_at": utcnow(),
        "external_id": done.external_id,
        "result": done.result,
        "last_error": None,
    }


def _retry(attempts: int, now: dt.datetime, failure: Failure) -> dict[str, Any]:
    changes: dict[str, Any] = {
        "last_error": failure.message[:ERROR_CHARS],
        "last_status_code": failure.status_code,
    }
    if not failure.retryable or attempts >= MAX_ATTEMPTS:
        return changes | {"status": CallStatus.FAILED}
    asked = failure.retry_after
    wait = min(asked, MAX_RETRY_AFTER) if asked else BACKOFF[attempts - 1]
    return changes | {"next_attempt_at": now + dt.timedelta(seconds=wait)}
