"""Messages to subscribers: logged and queued in the caller's transaction, delivered after it.

`queue` writes the message log entry and an outbox row (`Delivery`) together, so a message is
sent if and only if the work that produced it committed. `deliver_due` sends what is due, one
message per subscriber at a time so that each subscriber gets their messages in order.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, event, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, aliased

from konversation.channels.base import (
    Cards,
    Channel,
    DeliveryFailed,
    Media,
    Outbound,
    message_from_json,
    message_json,
)
from konversation.channels.directory import ChannelDirectory
from konversation.channels.models import ChannelType
from konversation.channels.service import enabled_types
from konversation.conversations.models import Direction, Message
from konversation.conversations.service import record_message
from konversation.db import session_scope, utcnow
from konversation.ids import Kind, format_ns
from konversation.runtime.models import Delivery, DeliveryStatus
from konversation.subscribers.models import Subscriber, SubscriberChannel

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 300
LEASE = dt.timedelta(seconds=60)
BATCH = 200
CONCURRENT_SENDS = 32

# Set on a session that queued messages, so its commit can wake the deliverers at once.
QUEUED = "konversation.outbox.queued"


async def queue(
    session: AsyncSession,
    subscriber: Subscriber,
    message: Outbound,
    *,
    key: str,
    channel: str | None = None,
) -> Message:
    """Log `message` as sent by the bot and queue it for the subscriber's channel.

    `key` names the step that produced it; queuing the same key twice is an error the caller's
    transaction rolls back with. `channel` prefers a channel over the one the subscriber last
    wrote from.
    """
    route = await _route(session, subscriber, channel)
    data = message_json(message)
    logged = await record_message(
        session,
        subscriber,
        direction=Direction.OUT,
        msg_type=data["type"],
        content=summary(message),
        payload=data,
    )
    session.add(
        Delivery(
            key=key,
            bot_id=subscriber.bot_id,
            subscriber_id=subscriber.id,
            message_id=logged.id,
            channel=route.channel if route else None,
            recipient=route.recipient if route else None,
            body=data,
            status=DeliveryStatus.PENDING if route else DeliveryStatus.UNROUTABLE,
        )
    )
    session.info[QUEUED] = True
    return logged


def summary(message: Outbound) -> str:
    """The message as one line of text for the log and for previews."""
    if isinstance(message, Media):
        return message.caption or message.url
    if isinstance(message, Cards):
        return " | ".join(card.title for card in message.cards)
    return message.text


@dataclass(frozen=True)
class Route:
    channel: str
    recipient: str


async def _route(
    session: AsyncSession, subscriber: Subscriber, preferred: str | None
) -> Route | None:
    """Where the subscriber is reached: the preferred channel, else the one they last wrote
    from, else any of theirs the bot has; a subscriber known only to the API is reached through
    the bot's API channel under their user id."""
    available = await enabled_types(session, subscriber.bot_id)
    identities = dict(
        (
            await session.execute(
                select(SubscriberChannel.type, SubscriberChannel.user_id).where(
                    SubscriberChannel.subscriber_id == subscriber.id
                )
            )
        ).all()
    )
    for type_ in (preferred, subscriber.last_channel, *sorted(identities)):
        if type_ and type_ in identities and type_ in available:
            return Route(type_, identities[type_])
    if ChannelType.API in available:
        ns = format_ns(subscriber.bot_id, Kind.SUBSCRIBER, subscriber.number)
        return Route(ChannelType.API, subscriber.user_id or ns)
    return None


def waking_session_class(wake: Callable[[], None]) -> type[Session]:
    """A Session class that calls `wake` after each commit that queued a message."""

    class WakingSession(Session):
        pass

    @event.listens_for(WakingSession, "after_commit")
    def _after_commit(sync_session: Session) -> None:
        if sync_session.info.pop(QUEUED, False):
            wake()

    return WakingSession


# Delivering


async def deliver_due(
    sessions: async_sessionmaker[AsyncSession],
    directory: ChannelDirectory,
    *,
    limit: int = BATCH,
) -> int:
    """Send the messages due now, each subscriber's oldest first; answers how many were tried.

    The claimed messages go to different subscribers, so they are sent side by side.
    """
    async with session_scope(sessions) as session:
        claimed = await _claim(session, limit)
        channels = {
            (d.bot_id, d.channel): await directory.channel(session, d.bot_id, str(d.channel))
            for d in claimed
        }
    gate = asyncio.Semaphore(CONCURRENT_SENDS)

    async def attempt(delivery: Delivery) -> dict[str, Any]:
        async with gate:
            changes = await _attempt(channels[delivery.bot_id, delivery.channel], delivery)
        return {
            "id": delivery.id,
            "attempts": delivery.attempts + 1,
            "leased_until": None,
        } | changes

    outcomes = await asyncio.gather(*(attempt(delivery) for delivery in claimed))
    if outcomes:
        async with session_scope(sessions) as session:
            for outcome in outcomes:
                await session.execute(
                    update(Delivery).where(Delivery.id == outcome.pop("id")).values(**outcome)
                )
    return len(claimed)


async def _claim(session: AsyncSession, limit: int) -> list[Delivery]:
    now = utcnow()
    earlier = aliased(Delivery)
    due = (
        select(Delivery)
        .where(
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.due_at <= now,
            or_(Delivery.leased_until.is_(None), Delivery.leased_until < now),
            ~exists().where(
                and_(
                    earlier.subscriber_id == Delivery.subscriber_id,
                    earlier.status == DeliveryStatus.PENDING,
                    earlier.id < Delivery.id,
                )
            ),
        )
        .order_by(Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = list((await session.scalars(due)).all())
    if claimed:
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_([d.id for d in claimed]))
            .values(leased_until=now + LEASE)
        )
    return claimed


async def _attempt(channel: Channel | None, delivery: Delivery) -> dict[str, Any]:
    """Send one message; answers the changes to its outbox row."""
    if channel is None:
        return {"status": DeliveryStatus.UNROUTABLE, "error": "The channel is not set up"}
    try:
        external_id = await channel.send(str(delivery.recipient), message_from_json(delivery.body))
    except DeliveryFailed as failure:
        return _after_failure(delivery, failure)
    except Exception as broken:  # a bug in an adapter must not hold the subscriber's queue
        log.exception("Delivery %s could not be sent", delivery.id)
        return {"status": DeliveryStatus.FAILED, "error": f"{type(broken).__name__}: {broken}"}
    return {"status": DeliveryStatus.SENT, "sent_at": utcnow(), "external_id": external_id}


def _after_failure(delivery: Delivery, failure: DeliveryFailed) -> dict[str, Any]:
    attempts = delivery.attempts + 1
    log.warning("Delivery %s failed (attempt %s): %s", delivery.id, attempts, failure.message)
    if not failure.retryable or attempts >= MAX_ATTEMPTS:
        return {"status": DeliveryStatus.FAILED, "error": failure.message}
    wait = failure.retry_after or min(2**attempts, MAX_BACKOFF_SECONDS)
    return {"due_at": utcnow() + dt.timedelta(seconds=wait), "error": failure.message}
