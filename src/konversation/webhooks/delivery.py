"""Posting queued events to their endpoints.

Each request carries one event as its JSON body, with the headers receivers check:

    X-Konversation-Event: subscriber.tag_added
    X-Konversation-Event-Id: evt_...        (the same on every retry and replay)
    X-Konversation-Delivery: 1841           (this entry of the delivery log)
    X-Konversation-Timestamp: 1714564800
    X-Konversation-Signature: sha256=<hex>

signed as the API channel's requests are (see `channels.api_channel`): the lowercase hex
HMAC-SHA256, keyed with the endpoint's secret, of the timestamp, a dot and the raw body. Any 2xx
answer takes the event; anything else, or no answer, is tried again after `BACKOFF` (or the
answer's `Retry-After`, up to an hour), at most `MAX_ATTEMPTS` times in all. The URL is checked
again before every attempt, so a host that has come to resolve to a private address is refused.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from konversation import __version__
from konversation.channels.api_channel import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from konversation.db import session_scope, utcnow
from konversation.metrics import WEBHOOK_DELIVERIES
from konversation.webhooks.addresses import Network, Refused, check_reachable
from konversation.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

EVENT_HEADER = "X-Konversation-Event"
EVENT_ID_HEADER = "X-Konversation-Event-Id"
DELIVERY_HEADER = "X-Konversation-Delivery"
# Seconds to wait after the first, second... failed attempt: about a day and a half in all.
BACKOFF = (10, 60, 300, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600)
MAX_ATTEMPTS = len(BACKOFF) + 1
MAX_RETRY_AFTER = 3600
LEASE = dt.timedelta(seconds=60)
BATCH = 200
CONCURRENT_POSTS = 16
ERROR_CHARS = 500


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    event_id: str
    event_type: str
    payload: dict[str, Any]
    attempts: int
    url: str
    secret: str


def due_now(now: dt.datetime) -> ColumnElement[bool]:
    """Whether any delivery is waiting for an attempt at `now`, for an endpoint switched on."""
    return exists().where(
        WebhookDelivery.status == DeliveryStatus.PENDING,
        WebhookDelivery.next_attempt_at <= now,
        WebhookEndpoint.id == WebhookDelivery.endpoint_id,
        WebhookEndpoint.active.is_(True),
    )


async def deliver_due(
    sessions: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    *,
    allowed: Sequence[Network],
    lease: dt.timedelta = LEASE,
    now: dt.datetime | None = None,
    limit: int = BATCH,
) -> int:
    """Post the events due at `now`; answers how many were tried. They are leased for
    `lease`: should this worker die, another posts them after."""
    now = now or utcnow()
    async with session_scope(sessions) as session:
        claimed = await _claim(session, now, lease, limit)
    if not claimed:
        return 0
    gate = asyncio.Semaphore(CONCURRENT_POSTS)

    async def attempt(delivery: Claimed) -> dict[str, Any]:
        async with gate:
            return await _attempt(http, delivery, allowed, now)

    outcomes = await asyncio.gather(*(attempt(delivery) for delivery in claimed))
    async with session_scope(sessions) as session:
        await session.execute(update(WebhookDelivery), list(outcomes))
    for outcome in outcomes:
        WEBHOOK_DELIVERIES.labels(outcome.get("status", "retry")).inc()
    return len(claimed)


async def _claim(
    session: AsyncSession, now: dt.datetime, lease: dt.timedelta, limit: int
) -> list[Claimed]:
    clock = utcnow()  # leases are about workers, so they follow the real clock
    due = (
        select(
            WebhookDelivery.id,
            WebhookDelivery.event_id,
            WebhookDelivery.event_type,
            WebhookDelivery.payload,
            WebhookDelivery.attempts,
            WebhookEndpoint.url,
            WebhookEndpoint.secret,
        )
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.leased_until.is_(None), WebhookDelivery.leased_until < clock),
            WebhookEndpoint.active.is_(True),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    )
    claimed = [Claimed(*row) for row in await session.execute(due)]
    if claimed:
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_([d.id for d in claimed]))
            .values(leased_until=clock + lease)
            .execution_options(synchronize_session=False)
        )
    return claimed


async def _attempt(
    http: httpx.AsyncClient, delivery: Claimed, allowed: Sequence[Network], now: dt.datetime
) -> dict[str, Any]:
    """Post one event; answers the changes to its log entry."""
    tried = {
        "id": delivery.id,
        "attempts": delivery.attempts + 1,
        "last_attempt_at": utcnow(),
        "leased_until": None,
    }
    try:
        await check_reachable(delivery.url, allowed)
    except Refused as refused:
        return tried | {"status": DeliveryStatus.FAILED, "last_error": str(refused)}
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    try:
        answer = await http.post(delivery.url, content=body, headers=_headers(delivery, body))
    except httpx.HTTPError as failure:
        # The URL stays out of the message: owners may put a token in it.
        error = f"The webhook could not be reached ({type(failure).__name__})"
        return tried | _retry(delivery, now, error, None)
    if answer.is_success:
        return tried | {
            "status": DeliveryStatus.DELIVERED,
            "delivered_at": utcnow(),
            "last_status_code": answer.status_code,
            "last_error": None,
        }
    error = f"The webhook answered {answer.status_code}"
    return tried | {"last_status_code": answer.status_code} | _retry(delivery, now, error, answer)


def _headers(delivery: Claimed, body: bytes) -> dict[str, str]:
    timestamp = int(utcnow().timestamp())
    return {
        "Content-Type": "application/json",
        "User-Agent": f"Konversation-Webhooks/{__version__}",
        EVENT_HEADER: delivery.event_type,
        EVENT_ID_HEADER: delivery.event_id,
        DELIVERY_HEADER: str(delivery.id),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(delivery.secret, timestamp, body),
    }


def _retry(
    delivery: Claimed, now: dt.datetime, error: str, answer: httpx.Response | None
) -> dict[str, Any]:
    attempts = delivery.attempts + 1
    log.warning("Webhook delivery %s failed (attempt %s): %s", delivery.id, attempts, error)
    if attempts >= MAX_ATTEMPTS:
        return {"status": DeliveryStatus.FAILED, "last_error": error[:ERROR_CHARS]}
    wait = _retry_after(answer) or BACKOFF[attempts - 1]
    return {"next_attempt_at": now + dt.timedelta(seconds=wait), "last_error": error[:ERROR_CHARS]}


def _retry_after(answer: httpx.Response | None) -> int | None:
    value = answer.headers.get("Retry-After", "") if answer is not None else ""
    return min(int(value), MAX_RETRY_AFTER) if value.isdigit() and int(value) > 0 else None
