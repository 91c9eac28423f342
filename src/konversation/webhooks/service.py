"""Outbound event webhooks: a bot's owner names URLs and the event types each one takes.

Whatever happens to the bot that some URL listens for (a subscriber created, a tag added...) is
queued for each such URL by `emit`, in the transaction that made it happen: an event is posted
if and only if its change was stored. The workers then post it (`delivery`), signed, and try
again with backoff until the receiver takes it; every attempt's outcome stays in the delivery
log, from which the owner can have any event sent again (`replay`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.db import QUEUED, PageRequest, fetch_page, insert_rows, table_of, utcnow
from konversation.errors import Invalid, NotFound
from konversation.webhooks.addresses import Network, check_webhook_url
from konversation.webhooks.models import (
    DeliveryStatus,
    EventType,
    WebhookDelivery,
    WebhookEndpoint,
)

MAX_ENDPOINTS_PER_BOT = 20
ENDPOINT_NOT_FOUND = "Webhook not found"
DELIVERY_NOT_FOUND = "Webhook delivery not found"
# Per session: the bot's active endpoints and their event types, read once per unit of work
# rather than once per event.
LISTENERS = "konversation.webhooks.listeners"
DELIVERIES = table_of(WebhookDelivery)


# The owner's endpoints


async def create_endpoint(
    session: AsyncSession,
    bot_id: int,
    *,
    url: str,
    events: Sequence[str],
    description: str = "",
    allowed: Sequence[Network],
) -> WebhookEndpoint:
    count = await session.scalar(
        select(func.count()).select_from(WebhookEndpoint).where(WebhookEndpoint.bot_id == bot_id)
    )
    if (count or 0) >= MAX_ENDPOINTS_PER_BOT:
        raise Invalid.field("url", f"A bot can have at most {MAX_ENDPOINTS_PER_BOT} webhooks.")
    await check_webhook_url(url, allowed)
    endpoint = WebhookEndpoint(
        bot_id=bot_id, url=url, events=_event_types(events), description=description
    )
    session.add(endpoint)
    await session.flush()
    session.info.pop(LISTENERS, None)
    return endpoint


async def update_endpoint(
    session: AsyncSession,
    bot_id: int,
    endpoint_id: int,
    *,
    allowed: Sequence[Network],
    url: str | None = None,
    events: Sequence[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> WebhookEndpoint:
    """Change what is given; an endpoint switched off keeps its queued events until it is
    switched on again."""
    endpoint = await get_endpoint(session, bot_id, endpoint_id)
    if url is not None:
        await check_webhook_url(url, allowed)
        endpoint.url = url
    if events is not None:
        endpoint.events = _event_types(events)
    if description is not None:
        endpoint.description = description
    if active is not None:
        endpoint.active = active
    session.info.pop(LISTENERS, None)
    return endpoint


async def delete_endpoint(session: AsyncSession, bot_id: int, endpoint_id: int) -> None:
    """Remove an endpoint, its queue and its log."""
    await session.delete(await get_endpoint(session, bot_id, endpoint_id))
    session.info.pop(LISTENERS, None)


async def get_endpoint(session: AsyncSession, bot_id: int, endpoint_id: int) -> WebhookEndpoint:
    endpoint = await session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.bot_id == bot_id
        )
    )
    if endpoint is None:
        raise NotFound(ENDPOINT_NOT_FOUND)
    return endpoint


async def list_endpoints(
    session: AsyncSession, bot_id: int, window: PageRequest
) -> tuple[Sequence[WebhookEndpoint], int]:
    query = (
        select(WebhookEndpoint).where(WebhookEndpoint.bot_id == bot_id).order_by(WebhookEndpoint.id)
    )
    return await fetch_page(session, query, window)


def _event_types(events: Sequence[str]) -> list[str]:
    known = {kind.value for kind in EventType}
    unknown = [event for event in events if event not in known]
    if not events or unknown:
        names = ", ".join(sorted(known))
        raise Invalid.field("events", f"The events field must list event types among: {names}.")
    return sorted(set(events))


# Events


async def listening(session: AsyncSession, bot_id: int, event_type: EventType) -> bool:
    """Whether any active endpoint of the bot takes `event_type`: events nobody listens for
    cost one query a unit of work, and building their bodies costs nothing."""
    return bool(await _listeners(session, bot_id, event_type))


async def emit(
    session: AsyncSession, bot_id: int, event_type: EventType, data: dict[str, Any]
) -> None:
    """Queue the event for every active endpoint of the bot that takes it."""
    endpoints = await _listeners(session, bot_id, event_type)
    if not endpoints:
        return
    now = utcnow()
    event_id = f"evt_{uuid.uuid4().hex}"
    payload = {
        "id": event_id,
        "type": event_type.value,
        "created_at": now.isoformat(),
        "bot_id": bot_id,
        "data": data,
    }
    rows = [
        {
            "endpoint_id": endpoint_id,
            "bot_id": bot_id,
            "event_id": event_id,
            "event_type": event_type.value,
            "payload": payload,
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for endpoint_id in endpoints
    ]
    await insert_rows(session, DELIVERIES, rows)
    session.info[QUEUED] = True


async def _listeners(session: AsyncSession, bot_id: int, event_type: EventType) -> list[int]:
    known: dict[int, list[tuple[int, list[str]]]] = session.info.setdefault(LISTENERS, {})
    if bot_id not in known:
        rows = await session.execute(
            select(WebhookEndpoint.id, WebhookEndpoint.events).where(
                WebhookEndpoint.bot_id == bot_id, WebhookEndpoint.active.is_(True)
            )
        )
        known[bot_id] = [(endpoint_id, list(events)) for endpoint_id, events in rows]
    return [endpoint_id for endpoint_id, events in known[bot_id] if event_type in events]


# The delivery log


async def list_deliveries(
    session: AsyncSession,
    bot_id: int,
    window: PageRequest,
    *,
    endpoint_id: int | None = None,
    status: DeliveryStatus | None = None,
    event_type: EventType | None = None,
) -> tuple[Sequence[WebhookDelivery], int]:
    """The bot's deliveries, newest first."""
    query = select(WebhookDelivery).where(WebhookDelivery.bot_id == bot_id)
    if endpoint_id is not None:
        query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if event_type is not None:
        query = query.where(WebhookDelivery.event_type == event_type)
    return await fetch_page(session, query.order_by(WebhookDelivery.id.desc()), window)


async def replay(session: AsyncSession, bot_id: int, delivery_id: int) -> WebhookDelivery:
    """Queue a delivery's event again for its endpoint, under the same event id, as a new
    entry of the log (the first keeps its own outcome)."""
    original = await session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.bot_id == bot_id
        )
    )
    if original is None:
        raise NotFound(DELIVERY_NOT_FOUND)
    again = WebhookDelivery(
        endpoint_id=original.endpoint_id,
        bot_id=bot_id,
        event_id=original.event_id,
        event_type=original.event_type,
        payload=original.payload,
        replay_of=original.id,
    )
    session.add(again)
    await session.flush()
    session.info[QUEUED] = True
    return again
