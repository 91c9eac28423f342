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

from sqlalchemy import event, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from konversation.channels.base import (
    BatchChannel,
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
BATCH = 1000
# Messages of one subscriber sent in one round: the rest wait for the next.
PER_SUBSCRIBER = 20
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
    """Send the messages due now, each subscriber's in order; answers how many were tried.

    Different subscribers' messages go out side by side; a channel that takes many messages in
    one call (`BatchChannel`) gets them so.
    """
    async with session_scope(sessions) as session:
        claimed = await _claim(session, limit)
        channels = {
            key: await directory.channel(session, key[0], str(key[1]))
            for key in {(d.bot_id, d.channel) for d in claimed}
        }
    gate = asyncio.Semaphore(CONCURRENT_SENDS)

    async def send(channel: Channel | None, queues: list[list[Delivery]]) -> list[dict[str, Any]]:
        async with gate:
            if isinstance(channel, BatchChannel):
                return await _attempt_batch(channel, [d for queue in queues for d in queue])
            return await _attempt_in_order(channel, queues[0])

    work = [
        send(channel, queues)
        for (bot_id, type_), channel in channels.items()
        for queues in _shares(channel, _queues(claimed, bot_id, type_))
    ]
    outcomes = [outcome for done in await asyncio.gather(*work) for outcome in done]
    if outcomes:
        async with session_scope(sessions) as session:
            await session.execute(update(Delivery), outcomes)
    return len(claimed)


async def _claim(session: AsyncSession, limit: int) -> list[Delivery]:
    """Lease due messages: of each subscriber, the oldest waiting and up to `PER_SUBSCRIBER`
    after it, and none while an older one of theirs is still on its way elsewhere."""
    now = utcnow()
    due = (
        select(Delivery)
        .where(
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.due_at <= now,
            or_(Delivery.leased_until.is_(None), Delivery.leased_until < now),
        )
        .order_by(Delivery.due_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    candidates = sorted((await session.scalars(due)).all(), key=lambda d: d.id)
    if not candidates:
        return []
    oldest = dict(
        (
            await session.execute(
                select(Delivery.subscriber_id, func.min(Delivery.id))
                .where(
                    Delivery.status == DeliveryStatus.PENDING,
                    Delivery.subscriber_id.in_({d.subscriber_id for d in candidates}),
                )
                .group_by(Delivery.subscriber_id)
            )
        ).all()
    )
    claimed = _in_turn(candidates, oldest)
    if claimed:
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_([d.id for d in claimed]))
            .values(leased_until=now + LEASE)
        )
    return claimed


def _in_turn(candidates: list[Delivery], oldest: dict[int, int]) -> list[Delivery]:
    """The candidates whose turn it is: a subscriber's, from their oldest waiting message on."""
    taken: dict[int, list[Delivery]] = {}
    for delivery in candidates:  # in id order
        queue = taken.get(delivery.subscriber_id)
        if queue is None:
            if oldest.get(delivery.subscriber_id) != delivery.id:
                taken[delivery.subscriber_id] = []  # an older one is not ours to send
                continue
            queue = taken[delivery.subscriber_id] = []
        elif not queue:
            continue
        if len(queue) < PER_SUBSCRIBER:
            queue.append(delivery)
    return [delivery for queue in taken.values() for delivery in queue]


def _queues(claimed: list[Delivery], bot_id: int, type_: str | None) -> list[list[Delivery]]:
    """The claimed messages for one bot's channel, a list per subscriber, each in order."""
    queues: dict[int, list[Delivery]] = {}
    for delivery in claimed:
        if delivery.bot_id == bot_id and delivery.channel == type_:
            queues.setdefault(delivery.subscriber_id, []).append(delivery)
    return list(queues.values())


def _shares(channel: Channel | None, queues: list[list[Delivery]]) -> list[list[list[Delivery]]]:
    """How the queues are sent: one at a time, or whole queues packed into batches."""
    if not isinstance(channel, BatchChannel):
        return [[queue] for queue in queues]
    batches: list[list[list[Delivery]]] = []
    size = channel.max_batch
    for queue in queues:
        if not batches or sum(map(len, batches[-1])) + len(queue) > size:
            batches.append([])
        batches[-1].append(queue)
    return batches


async def _attempt_in_order(channel: Channel | None, queue: list[Delivery]) -> list[dict[str, Any]]:
    """Send one subscriber's messages one after another; behind one to be tried again later,
    the rest wait too, so that they keep their order."""
    outcomes: list[dict[str, Any]] = []
    for position, delivery in enumerate(queue):
        changes = await _attempt(channel, delivery)
        outcomes.append(_outcome(delivery, changes))
        if "status" not in changes:
            outcomes.extend({"id": d.id, "leased_until": None} for d in queue[position + 1 :])
            break
    return outcomes


async def _attempt_batch(channel: BatchChannel, batch: list[Delivery]) -> list[dict[str, Any]]:
    """Send many subscribers' messages in one call; it succeeds or fails for all of them."""
    items = [(str(d.recipient), message_from_json(d.body)) for d in batch]
    try:
        external_ids = await channel.send_many(items)
    except DeliveryFailed as failure:
        return [_outcome(d, _after_failure(d, failure)) for d in batch]
    except Exception as broken:  # a bug in an adapter must not hold the subscribers' queues
        log.exception("A batch of %s deliveries could not be sent", len(batch))
        error = {"status": DeliveryStatus.FAILED, "error": f"{type(broken).__name__}: {broken}"}
        return [_outcome(d, error) for d in batch]
    sent_at = utcnow()
    return [
        _outcome(d, {"status": DeliveryStatus.SENT, "sent_at": sent_at, "external_id": sent})
        for d, sent in zip(batch, external_ids, strict=True)
    ]


def _outcome(delivery: Delivery, changes: dict[str, Any]) -> dict[str, Any]:
    """The update of a tried message's outbox row."""
    return {"id": delivery.id, "attempts": delivery.attempts + 1, "leased_until": None} | changes


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
