"""Messages to subscribers: logged and queued in the caller's transaction, delivered after it.

`Outbox.queue` writes the message log entry and an outbox row (`Delivery`) together, so a
message is sent if and only if the work that produced it committed; `OutboxBatch` does the same
for many turns at once, in a few statements. `deliver_due` sends what is due, each subscriber's
messages in order.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, cast, event, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from konversation.channels.base import (
    Addressed,
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
from konversation.conversations.models import Direction, Message
from konversation.conversations.service import bot_message, record_message
from konversation.db import QUEUED, insert_rows, session_scope, table_of, utcnow
from konversation.metrics import MESSAGE_DELIVERIES
from konversation.runtime.lookups import Lookups, Route
from konversation.runtime.models import Delivery, DeliveryStatus
from konversation.subscribers.models import Subscriber

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 300
LEASE = dt.timedelta(seconds=60)
BATCH = 1000
# Messages of one subscriber sent in one round: the rest wait for the next.
PER_SUBSCRIBER = 20
CONCURRENT_SENDS = 32


class Outbox:
    """Queues a unit of work's messages: each logged and queued at once."""

    def __init__(self, session: AsyncSession, lookups: Lookups) -> None:
        self.session = session
        self.lookups = lookups

    async def queue(
        self,
        subscriber: Subscriber,
        message: Outbound,
        *,
        key: str,
        channel: str | None = None,
        note: Mapping[str, Any] | None = None,
    ) -> None:
        """Log `message` as sent by the bot and queue it for the subscriber's channel.

        `key` names the step that produced it; queuing the same key twice is an error the
        caller's transaction rolls back with. `channel` prefers a channel over the one the
        subscriber last wrote from. `note` goes into the log entry's payload only (what a
        knowledge answer was drawn from, say), never to the channel.
        """
        route = await self.lookups.route(subscriber, channel)
        data = message_json(message)
        logged = await record_message(
            self.session,
            subscriber,
            direction=Direction.OUT,
            msg_type=data["type"],
            content=summary(message),
            payload={**data, **(note or {})},
        )
        self.session.add(Delivery(**_delivery(subscriber, route, data, key), message_id=logged.id))
        self.session.info[QUEUED] = True

    async def flush(self) -> None:
        """Nothing is held back here."""


class OutboxBatch(Outbox):
    """Queues the messages of many turns and stores them all at once, with `flush`: a few
    statements for thousands of messages. The turns must not read the log back meanwhile."""

    def __init__(self, session: AsyncSession, lookups: Lookups) -> None:
        super().__init__(session, lookups)
        self._messages: list[dict[str, Any]] = []
        self._deliveries: list[dict[str, Any]] = []

    async def queue(
        self,
        subscriber: Subscriber,
        message: Outbound,
        *,
        key: str,
        channel: str | None = None,
        note: Mapping[str, Any] | None = None,
    ) -> None:
        route = await self.lookups.route(subscriber, channel)
        data = message_json(message)
        conversation = await self.lookups.conversation(subscriber)
        logged = bot_message(
            subscriber,
            conversation,
            msg_type=data["type"],
            content=summary(message),
            payload={**data, **(note or {})},
        )
        self._messages.append(logged)
        self._deliveries.append(_delivery(subscriber, route, data, key) | {"mid": logged["mid"]})

    async def flush(self) -> None:
        if not self._messages:
            return
        # One executemany, then the new ids by their mids: far cheaper than INSERT ...
        # RETURNING row by row.
        await insert_rows(self.session, MESSAGES, self._messages)
        mids = [m["mid"] for m in self._messages]
        found = await self.session.execute(
            select(MESSAGES.c.mid, MESSAGES.c.id).where(MESSAGES.c.mid.in_(mids))
        )
        ids = {mid: id_ for mid, id_ in found}
        for delivery in self._deliveries:
            delivery["message_id"] = ids[delivery.pop("mid")]
        await insert_rows(self.session, DELIVERIES, self._deliveries)
        self._messages, self._deliveries = [], []
        self.session.info[QUEUED] = True


# The tables themselves: a Core INSERT skips the ORM's bulk machinery.
MESSAGES = table_of(Message)
DELIVERIES = table_of(Delivery)


def _delivery(
    subscriber: Subscriber, route: Route | None, data: dict[str, Any], key: str
) -> dict[str, Any]:
    """The outbox row of a message, but for the log entry it belongs to."""
    return {
        "key": key,
        "bot_id": subscriber.bot_id,
        "subscriber_id": subscriber.id,
        "channel": route.channel if route else None,
        "recipient": route.recipient if route else None,
        "body": data,
        "status": DeliveryStatus.PENDING if route else DeliveryStatus.UNROUTABLE,
        "attempts": 0,
        "due_at": utcnow(),
        "created_at": utcnow(),
    }


def summary(message: Outbound) -> str:
    """The message as one line of text for the log and for previews."""
    if isinstance(message, Media):
        return message.caption or message.url
    if isinstance(message, Cards):
        return " | ".join(card.title for card in message.cards)
    return message.text


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


@dataclass(frozen=True, slots=True)
class Claimed:
    """An outbox row leased for sending: what sending it needs."""

    id: int
    bot_id: int
    subscriber_id: int
    channel: str | None
    recipient: str | None
    body: dict[str, Any]
    attempts: int


@dataclass
class Outcomes:
    """What became of tried messages: those a batch call took, and each other one's changes."""

    sent: list[int] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)


async def deliver_due(
    sessions: async_sessionmaker[AsyncSession],
    directory: ChannelDirectory,
    *,
    limit: int = BATCH,
    lease: dt.timedelta = LEASE,
) -> int:
    """Send the messages due now, each subscriber's in order; answers how many were tried.
    The messages are leased for `lease`: should this worker die, another sends them after.

    Different subscribers' messages go out side by side; a channel that takes many messages in
    one call (`BatchChannel`) gets them so.
    """
    async with session_scope(sessions) as session:
        claimed = await _claim(session, limit, lease)
        channels = {
            key: await directory.channel(session, key[0], str(key[1]))
            for key in {(d.bot_id, d.channel) for d in claimed}
        }
    gate = asyncio.Semaphore(CONCURRENT_SENDS)

    async def send(channel: Channel | None, queues: list[list[Claimed]]) -> Outcomes:
        async with gate:
            if isinstance(channel, BatchChannel):
                return await _attempt_batch(channel, [d for queue in queues for d in queue])
            return Outcomes(changes=await _attempt_in_order(channel, queues[0]))

    work = [
        send(channel, queues)
        for (bot_id, type_), channel in channels.items()
        for queues in _shares(channel, _queues(claimed, bot_id, type_))
    ]
    done = await asyncio.gather(*work)
    if claimed:
        async with session_scope(sessions) as session:
            await _record_outcomes(session, done)
    return len(claimed)


async def _record_outcomes(session: AsyncSession, done: list[Outcomes]) -> None:
    sent = [delivery_id for outcome in done for delivery_id in outcome.sent]
    for start in range(0, len(sent), BATCH):
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(sent[start : start + BATCH]))
            .values(
                status=DeliveryStatus.SENT,
                sent_at=utcnow(),
                attempts=Delivery.attempts + 1,
                leased_until=None,
                external_id=cast(Delivery.id, String),  # the event id a batch channel got
            )
            .execution_options(synchronize_session=False)
        )
    changes = [change for outcome in done for change in outcome.changes]
    if changes:
        await session.execute(update(Delivery), changes)
    _count(len(sent), changes)


def _count(sent: int, changes: list[dict[str, Any]]) -> None:
    MESSAGE_DELIVERIES.labels(DeliveryStatus.SENT).inc(sent)
    for change in changes:
        if "status" in change:
            MESSAGE_DELIVERIES.labels(change["status"]).inc()
        elif "due_at" in change:
            MESSAGE_DELIVERIES.labels("retry").inc()


async def _claim(session: AsyncSession, limit: int, lease: dt.timedelta) -> list[Claimed]:
    """Lease due messages: of each subscriber, the oldest waiting and up to `PER_SUBSCRIBER`
    after it, and none while an older one of theirs is still on its way elsewhere."""
    now = utcnow()
    due = (
        select(
            Delivery.id,
            Delivery.bot_id,
            Delivery.subscriber_id,
            Delivery.channel,
            Delivery.recipient,
            Delivery.body,
            Delivery.attempts,
        )
        .where(
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.due_at <= now,
            or_(Delivery.leased_until.is_(None), Delivery.leased_until < now),
        )
        .order_by(Delivery.due_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    candidates = sorted((Claimed(*row) for row in await session.execute(due)), key=lambda d: d.id)
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
            .values(leased_until=now + lease)
            .execution_options(synchronize_session=False)
        )
    return claimed


def _in_turn(candidates: list[Claimed], oldest: dict[int, int]) -> list[Claimed]:
    """The candidates whose turn it is: a subscriber's, from their oldest waiting message on."""
    taken: dict[int, list[Claimed]] = {}
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


def _queues(claimed: list[Claimed], bot_id: int, type_: str | None) -> list[list[Claimed]]:
    """The claimed messages for one bot's channel, a list per subscriber, each in order."""
    queues: dict[int, list[Claimed]] = {}
    for delivery in claimed:
        if delivery.bot_id == bot_id and delivery.channel == type_:
            queues.setdefault(delivery.subscriber_id, []).append(delivery)
    return list(queues.values())


def _shares(channel: Channel | None, queues: list[list[Claimed]]) -> list[list[list[Claimed]]]:
    """How the queues are sent: one at a time, or whole queues packed into batches."""
    if not isinstance(channel, BatchChannel):
        return [[queue] for queue in queues]
    batches: list[list[list[Claimed]]] = []
    size, filled = channel.max_batch, 0
    for queue in queues:
        if not batches or filled + len(queue) > size:
            batches.append([])
            filled = 0
        batches[-1].append(queue)
        filled += len(queue)
    return batches


async def _attempt_in_order(channel: Channel | None, queue: list[Claimed]) -> list[dict[str, Any]]:
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


async def _attempt_batch(channel: BatchChannel, batch: list[Claimed]) -> Outcomes:
    """Send many subscribers' messages in one call; it succeeds or fails for all of them. Each
    message's id on the channel is its outbox id, the same whenever it is tried again."""
    items = [Addressed(str(d.id), str(d.recipient), message_from_json(d.body)) for d in batch]
    try:
        await channel.send_many(items)
    except DeliveryFailed as failure:
        return Outcomes(changes=[_outcome(d, _after_failure(d, failure)) for d in batch])
    except Exception as broken:  # a bug in an adapter must not hold the subscribers' queues
        log.exception("A batch of %s deliveries could not be sent", len(batch))
        error = {"status": DeliveryStatus.FAILED, "error": f"{type(broken).__name__}: {broken}"}
        return Outcomes(changes=[_outcome(d, error) for d in batch])
    return Outcomes(sent=[d.id for d in batch])


def _outcome(delivery: Claimed, changes: dict[str, Any]) -> dict[str, Any]:
    """The update of a tried message's outbox row."""
    return {"id": delivery.id, "attempts": delivery.attempts + 1, "leased_until": None} | changes


async def _attempt(channel: Channel | None, delivery: Claimed) -> dict[str, Any]:
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


def _after_failure(delivery: Claimed, failure: DeliveryFailed) -> dict[str, Any]:
    attempts = delivery.attempts + 1
    log.warning("Delivery %s failed (attempt %s): %s", delivery.id, attempts, failure.message)
    if not failure.retryable or attempts >= MAX_ATTEMPTS:
        return {"status": DeliveryStatus.FAILED, "error": failure.message}
    wait = failure.retry_after or min(2**attempts, MAX_BACKOFF_SECONDS)
    return {"due_at": utcnow() + dt.timedelta(seconds=wait), "error": failure.message}
