"""Subscribers: finding, creating, updating, deleting and counting them."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.db import PageRequest, dialect_insert, utcnow
from konversation.errors import Invalid, NotFound
from konversation.flows.models import Field, FieldScope, Tag
from konversation.ids import Kind, format_ns, number_in_bot
from konversation.labels.models import Label
from konversation.segments.service import find_segment_filter
from konversation.subscribers import filters
from konversation.subscribers.filters import PHONE_TAIL, SubscriberFilter
from konversation.subscribers.models import (
    ConversationStatus,
    StatusCount,
    Subscriber,
    SubscriberChannel,
    SubscriberFieldValue,
    SubscriberLabel,
    SubscriberTag,
)
from konversation.webhooks import service as webhooks
from konversation.webhooks.models import EventType
from konversation.workspaces.service import next_number

NOT_FOUND = "Subscriber not found"
GENDERS = ("male", "female")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


async def get_subscriber(session: AsyncSession, bot_id: int, user_ns: str) -> Subscriber:
    subscriber = await session.scalar(select(Subscriber).where(_named(bot_id, user_ns)))
    if subscriber is None:
        raise NotFound(NOT_FOUND)
    return subscriber


async def subscriber_id(session: AsyncSession, bot_id: int, user_ns: str) -> int:
    """Only the id of a subscriber, for writes that need nothing else of them."""
    found = await session.scalar(select(Subscriber.id).where(_named(bot_id, user_ns)))
    if found is None:
        raise NotFound(NOT_FOUND)
    return found


def _named(bot_id: int, user_ns: str) -> ColumnElement[bool]:
    number = number_in_bot(user_ns, Kind.SUBSCRIBER, bot_id, NOT_FOUND)
    return and_(Subscriber.bot_id == bot_id, Subscriber.number == number)


async def get_by_user_id(session: AsyncSession, bot_id: int, user_id: str) -> Subscriber:
    subscriber = await session.scalar(
        select(Subscriber)
        .where(Subscriber.bot_id == bot_id, Subscriber.user_id == user_id.strip().lstrip("+"))
        .order_by(Subscriber.id)
        .limit(1)
    )
    if subscriber is None:
        raise NotFound(NOT_FOUND)
    return subscriber


@dataclass(frozen=True)
class Details:
    """What a caller may say about a person; None leaves a detail as it is."""

    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    gender: str | None = None
    image: str | None = None


async def create_subscriber(
    session: AsyncSession, bot_id: int, details: Details, *, channel: str = "apichat"
) -> Subscriber:
    """A new, subscribed person reachable by phone or email; both must be new to the bot."""
    if not (details.phone or details.email):
        raise Invalid(
            {
                "phone": ["The phone field is required when email is not present."],
                "email": ["The email field is required when phone is not present."],
            }
        )
    now = utcnow()
    subscriber = Subscriber(
        bot_id=bot_id,
        number=await next_number(session, bot_id, Kind.SUBSCRIBER),
        status=ConversationStatus.OPEN.value,
        is_subscribed=True,
        subscribed_at=now,
        activity_at=now,
        created_at=now,
    )
    await _apply_details(session, subscriber, details)
    subscriber.user_id = subscriber.user_id or _digits(subscriber.phone) or subscriber.email
    session.add(subscriber)
    await session.flush()
    session.add(
        SubscriberChannel(
            subscriber_id=subscriber.id,
            type=channel,
            user_id=subscriber.user_id or str(subscriber.id),
            subscribed_at=now,
        )
    )
    await add_to_status_count(session, bot_id, subscriber.status, 1)
    await _announce(session, subscriber, channel)
    return subscriber


async def find_on_channel(
    session: AsyncSession, bot_id: int, channel: str, user_id: str
) -> Subscriber | None:
    """The bot's subscriber known to `channel` as `user_id`."""
    return await session.scalar(
        select(Subscriber)
        .join(SubscriberChannel, SubscriberChannel.subscriber_id == Subscriber.id)
        .where(
            Subscriber.bot_id == bot_id,
            SubscriberChannel.type == channel,
            SubscriberChannel.user_id == user_id,
        )
        .order_by(Subscriber.id)
        .limit(1)
    )


async def create_on_channel(
    session: AsyncSession,
    bot_id: int,
    *,
    channel: str,
    user_id: str,
    first_name: str | None = None,
    last_name: str | None = None,
    language: str | None = None,
) -> Subscriber:
    """A new, subscribed person who just wrote to the bot on `channel` as `user_id`."""
    now = utcnow()
    first, last = (first_name or "").strip(), (last_name or "").strip()
    subscriber = Subscriber(
        bot_id=bot_id,
        number=await next_number(session, bot_id, Kind.SUBSCRIBER),
        user_id=user_id,
        first_name=first,
        last_name=last,
        name=f"{first} {last}".strip(),
        language=language,
        status=ConversationStatus.OPEN.value,
        is_subscribed=True,
        subscribed_at=now,
        activity_at=now,
        created_at=now,
        last_channel=channel,
    )
    session.add(subscriber)
    await session.flush()
    session.add(
        SubscriberChannel(
            subscriber_id=subscriber.id, type=channel, user_id=user_id, subscribed_at=now
        )
    )
    await add_to_status_count(session, bot_id, subscriber.status, 1)
    await _announce(session, subscriber, channel)
    return subscriber


async def _announce(session: AsyncSession, subscriber: Subscriber, channel: str) -> None:
    """Tell the bot's event webhooks of a new subscriber."""
    if not await webhooks.listening(session, subscriber.bot_id, EventType.SUBSCRIBER_CREATED):
        return
    profile = {
        "user_ns": format_ns(subscriber.bot_id, Kind.SUBSCRIBER, subscriber.number),
        "user_id": subscriber.user_id,
        "first_name": subscriber.first_name,
        "last_name": subscriber.last_name,
        "name": subscriber.name,
        "email": subscriber.email,
        "phone": subscriber.phone,
        "channel": channel,
        "subscribed": subscriber.is_subscribed,
        "created_at": subscriber.created_at.isoformat(),
    }
    await webhooks.emit(
        session, subscriber.bot_id, EventType.SUBSCRIBER_CREATED, {"subscriber": profile}
    )


async def update_subscriber(
    session: AsyncSession, bot_id: int, user_ns: str, details: Details
) -> Subscriber:
    subscriber = await get_subscriber(session, bot_id, user_ns)
    await _apply_details(session, subscriber, details)
    await session.flush()
    return subscriber


async def delete_subscriber(session: AsyncSession, bot_id: int, user_ns: str) -> None:
    subscriber = await get_subscriber(session, bot_id, user_ns)
    await session.execute(
        update(Tag)
        .where(
            Tag.id.in_(
                select(SubscriberTag.tag_id).where(SubscriberTag.subscriber_id == subscriber.id)
            )
        )
        .values(subscriber_count=Tag.subscriber_count - 1)
    )
    await add_to_status_count(session, bot_id, subscriber.status, -1)
    await session.delete(subscriber)
    await session.flush()


async def _apply_details(session: AsyncSession, subscriber: Subscriber, details: Details) -> None:
    errors: dict[str, list[str]] = {}
    if details.phone is not None:
        digits = _digits(details.phone)
        if not 6 <= len(digits) <= 15:
            errors["phone"] = ["The phone field must be a valid phone number."]
        elif await _taken(session, subscriber, Subscriber.phone_tail == digits[-PHONE_TAIL:]):
            errors["phone"] = ["The phone has already been taken."]
        else:
            subscriber.phone = "+" + digits
            subscriber.phone_tail = digits[-PHONE_TAIL:]
    if details.email is not None:
        email = details.email.strip().lower()
        if not _EMAIL.match(email) or len(email) > 255:
            errors["email"] = ["The email field must be a valid email address."]
        elif await _taken(session, subscriber, Subscriber.email == email):
            errors["email"] = ["The email has already been taken."]
        else:
            subscriber.email = email
    if details.gender is not None and details.gender not in GENDERS:
        errors["gender"] = ["The selected gender is invalid."]
    if errors:
        raise Invalid(errors)
    _apply_names(subscriber, details)
    if details.gender is not None:
        subscriber.gender = details.gender
    if details.image is not None:
        subscriber.profile_pic = details.image


def _apply_names(subscriber: Subscriber, details: Details) -> None:
    for attribute in ("first_name", "last_name"):
        value = getattr(details, attribute)
        if value is not None:
            setattr(subscriber, attribute, value.strip())
    if details.name is not None:
        subscriber.name = details.name.strip()
    elif details.first_name is not None or details.last_name is not None or not subscriber.name:
        subscriber.name = " ".join(p for p in (subscriber.first_name, subscriber.last_name) if p)


async def _taken(session: AsyncSession, subscriber: Subscriber, same: ColumnElement[bool]) -> bool:
    query = select(Subscriber.id).where(Subscriber.bot_id == subscriber.bot_id, same)
    if subscriber.id is not None:
        query = query.where(Subscriber.id != subscriber.id)
    return await session.scalar(query.limit(1)) is not None


def _digits(phone: str | None) -> str:
    return re.sub(r"\D", "", phone or "")


def phone_tail(phone: str) -> str:
    return _digits(phone)[-PHONE_TAIL:]


async def add_to_status_count(session: AsyncSession, bot_id: int, status: str, delta: int) -> None:
    """Keep the per-status counts in step with a subscriber arriving, leaving or moving."""
    insert = dialect_insert(session)
    await session.execute(
        insert(StatusCount)
        .values(bot_id=bot_id, status=status, count=delta)
        .on_conflict_do_update(
            index_elements=[StatusCount.bot_id, StatusCount.status],
            set_={"count": StatusCount.count + delta},
        )
    )


async def change_status(
    session: AsyncSession, subscriber: Subscriber, status: ConversationStatus
) -> None:
    if subscriber.status == status.value:
        return
    await add_to_status_count(session, subscriber.bot_id, subscriber.status, -1)
    await add_to_status_count(session, subscriber.bot_id, status.value, 1)
    subscriber.status = status.value
    subscriber.done_at = utcnow() if status is ConversationStatus.DONE else None


async def count_by_status(session: AsyncSession, bot_id: int) -> dict[ConversationStatus, int]:
    """How many of a bot's subscribers are in each conversation state, zero included."""
    rows = await session.execute(
        select(StatusCount.status, StatusCount.count).where(StatusCount.bot_id == bot_id)
    )
    counts: dict[str, int] = {status: count for status, count in rows}
    return {status: int(counts.get(status.value, 0)) for status in ConversationStatus}


async def get_profile(session: AsyncSession, subscriber: Subscriber) -> Profile:
    return (await profiles(session, [subscriber]))[0]


async def labels_of(session: AsyncSession, subscriber_ids: list[int]) -> dict[int, list[Label]]:
    """The team labels of each subscriber (every id is a key), oldest label first, in one query."""
    found: dict[int, list[Label]] = {subscriber_id: [] for subscriber_id in subscriber_ids}
    rows = await session.execute(
        select(SubscriberLabel.subscriber_id, Label)
        .join(Label, Label.id == SubscriberLabel.label_id)
        .where(SubscriberLabel.subscriber_id.in_(subscriber_ids))
        .order_by(Label.id)
    )
    for subscriber_id, label in rows:
        found[subscriber_id].append(label)
    return found


@dataclass(frozen=True)
class Profile:
    """A subscriber with everything the wire shows of them."""

    subscriber: Subscriber
    tags: list[Tag]
    fields: list[tuple[Field, Any]]
    channels: list[SubscriberChannel]
    labels: list[Label]


async def search(
    session: AsyncSession,
    bot_ids: list[int],
    wanted: SubscriberFilter,
    *,
    window: PageRequest,
    now: dt.datetime | None = None,
) -> tuple[list[Profile], int]:
    """One page of the subscribers of `bot_ids` matching `wanted`, latest interaction first, and
    how many match in all. A segment adds its saved filters to the others; a segment, tag, field
    or event that the bots do not have matches nobody."""
    chosen = [wanted]
    if wanted.segment_ns:
        saved = await find_segment_filter(session, bot_ids, wanted.segment_ns)
        if saved is None:
            return [], 0
        chosen.append(saved)
    found = await filters.prepare(session, bot_ids, chosen, now or utcnow())
    if found is None:
        return [], 0
    page = await found.page(session, window)
    return await profiles(session, page), await found.total(session)


async def profiles(session: AsyncSession, subscribers: Sequence[Subscriber]) -> list[Profile]:
    """Tags, fields, channels and labels of many subscribers, in five queries however many."""
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
    labels = await labels_of(session, ids)
    return [
        Profile(
            subscriber=s,
            labels=labels[s.id],
            tags=tags[s.id],
            fields=[(f, values.get((s.id, f.id))) for f in fields_by_bot[s.bot_id]],
            channels=channels[s.id],
        )
        for s in subscribers
    ]
