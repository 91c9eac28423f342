"""Subscribers: reading and counting them (their full management builds on these)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.db import PageRequest, fetch_page, utcnow
from konversation.flows.models import Field, FieldScope, Tag
from konversation.subscribers import filters
from konversation.subscribers.filters import SubscriberFilter
from konversation.subscribers.models import (
    ConversationStatus,
    Subscriber,
    SubscriberChannel,
    SubscriberFieldValue,
    SubscriberTag,
)


async def count_by_status(session: AsyncSession, bot_id: int) -> dict[ConversationStatus, int]:
    """How many of a bot's subscribers are in each conversation state, zero included."""
    rows = await session.execute(
        select(Subscriber.status, func.count())
        .where(Subscriber.bot_id == bot_id)
        .group_by(Subscriber.status)
    )
    counts: dict[str, int] = {status: count for status, count in rows}
    return {status: int(counts.get(status.value, 0)) for status in ConversationStatus}


@dataclass(frozen=True)
class Profile:
    """A subscriber with everything the wire shows of them."""

    subscriber: Subscriber
    tags: list[Tag]
    fields: list[tuple[Field, Any]]
    channels: list[SubscriberChannel]


async def search(
    session: AsyncSession,
    bot_ids: list[int],
    wanted: SubscriberFilter,
    *,
    window: PageRequest,
    now: dt.datetime | None = None,
) -> tuple[list[Profile], int]:
    """One page of the subscribers of `bot_ids` matching `wanted`, latest interaction first."""
    query = filters.newest_interaction_first(
        filters.apply(filters.in_bots(bot_ids), wanted, now or utcnow())
    )
    subscribers, total = await fetch_page(session, query, window)
    return await profiles(session, subscribers), total


async def profiles(session: AsyncSession, subscribers: Sequence[Subscriber]) -> list[Profile]:
    """Tags, field values and channels of many subscribers, in four queries however many."""
    ids = [s.id for s in subscribers]
    bot_ids = {s.bot_id for s in subscribers}
    tags: dict[int, list[Tag]] = defaultdict(list)
    for subscriber_id, tag in await session.execute(
        select(SubscriberTag.subscriber_id, Tag)
        .join(Tag, Tag.id == SubscriberTag.tag_id)
        .where(SubscriberTag.subscriber_id.in_(ids))
        .order_by(Tag.number)
    ):
        tags[subscriber_id].append(tag)
    values: dict[tuple[int, int], Any] = {
        (row.subscriber_id, row.field_id): row.value
        for row in await session.scalars(
            select(SubscriberFieldValue).where(SubscriberFieldValue.subscriber_id.in_(ids))
        )
    }
    fields_by_bot: dict[int, list[Field]] = defaultdict(list)
    for field in await session.scalars(
        select(Field)
        .where(Field.bot_id.in_(bot_ids), Field.scope == FieldScope.USER)
        .order_by(Field.number)
    ):
        fields_by_bot[field.bot_id].append(field)
    channels: dict[int, list[SubscriberChannel]] = defaultdict(list)
    for channel in await session.scalars(
        select(SubscriberChannel)
        .where(SubscriberChannel.subscriber_id.in_(ids))
        .order_by(SubscriberChannel.id)
    ):
        channels[channel.subscriber_id].append(channel)
    return [
        Profile(
            subscriber=s,
            tags=tags[s.id],
            fields=[(f, values.get((s.id, f.id))) for f in fields_by_bot[s.bot_id]],
            channels=channels[s.id],
        )
        for s in subscribers
    ]
