"""Custom events: logging what subscribers did, reading the log back, and its daily figures.

An event is defined the first time it is logged under a new name, as users of a chatbot
platform expect: flows and integrations log `purchase` without creating it anywhere first.
Numbers and prices are kept as exact decimal text, never through binary floating point.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.db import PageRequest, dialect_insert, utcnow
from konversation.errors import Invalid
from konversation.events.models import CustomEvent, CustomEventLog
from konversation.flows.catalog import Catalog
from konversation.flows.fieldtypes import TEXT_LIMIT, BadValue
from konversation.ids import Kind
from konversation.subscribers.models import Subscriber
from konversation.subscribers.service import get_subscriber
from konversation.workspaces.service import next_number
from konversation.workspaces.summaries import Range, days_of

EVENTS = Catalog(CustomEvent, Kind.EVENT, "Custom event")

NAME_LIMIT = 255
NUMBER_LIMIT = 64  # the width of the columns that keep numbers and prices as text
MAX_READ = 100
DEFAULT_READ = 10
TOP_TEXT_VALUES = 100

# Plain decimal notation with an optional exponent; Decimal() alone would also take `NaN`,
# `Infinity` and `1_000`, which no client means as a number.
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


# Logging


async def log_event(
    session: AsyncSession,
    bot_id: int,
    *,
    user_ns: str,
    event_name: str,
    text_value: str | None = None,
    number_value: Any = None,
    price_value: Any = None,
) -> CustomEventLog:
    """Record one occurrence for the subscriber, defining the event if its name is new."""
    name, number, price = _checked(event_name, number_value, price_value)
    subscriber = await get_subscriber(session, bot_id, user_ns)
    event = await _event_named(session, bot_id, name)
    log = CustomEventLog(
        bot_id=bot_id,
        event_id=event.id,
        subscriber_id=subscriber.id,
        text_value=None if text_value is None else text_value[:TEXT_LIMIT],
        number_value=number,
        price_value=price,
    )
    session.add(log)
    await session.flush()
    return log


def _exact_decimal(value: Any) -> str:
    """`value` as decimal text without exponent: `12.50` stays `12.50`, `1e3` becomes `1000`.

    Integers, decimal strings and Decimals are exact. A float is read through its shortest
    representation, which is the text a JSON client sent for up to 15 significant digits.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise BadValue("must be a number")
    text = str(value).strip()
    if not _DECIMAL.fullmatch(text):
        raise BadValue("must be a number")
    number = Decimal(text)
    too_long = BadValue(f"must not be greater than {NUMBER_LIMIT} characters")
    # Checked before writing it out, or `1e999999999` would be spelled out in full first.
    if abs(number.adjusted()) > NUMBER_LIMIT:
        raise too_long
    written = f"{number:f}"
    if len(written) > NUMBER_LIMIT:
        raise too_long
    return written


def _checked(
    event_name: str, number_value: Any, price_value: Any
) -> tuple[str, str | None, str | None]:
    """The stripped name and both numbers as text, or every problem with them at once."""
    errors: dict[str, list[str]] = {}
    name = event_name.strip()
    if not name:
        errors["event_name"] = ["The event_name field is required."]
    elif len(name) > NAME_LIMIT:
        errors["event_name"] = [
            f"The event_name field must not be greater than {NAME_LIMIT} characters."
        ]
    numbers: dict[str, str | None] = {}
    for path, value in (("number_value", number_value), ("price_value", price_value)):
        try:
            numbers[path] = None if value is None else _exact_decimal(value)
        except BadValue as bad:
            errors[path] = [f"The {path} field {bad}."]
    if errors:
        raise Invalid(errors)
    return name, numbers["number_value"], numbers["price_value"]


async def _event_named(session: AsyncSession, bot_id: int, name: str) -> CustomEvent:
    """The bot's event of that name, defined now when this is its first occurrence."""
    event = await EVENTS.find_by_name(session, bot_id, name)
    if event is not None:
        return event
    number = await next_number(session, bot_id, Kind.EVENT)
    insert = dialect_insert(session)
    # Two first occurrences may race: the loser uses the winner's definition, and its own
    # number is simply never used (ids need to be unique, not contiguous).
    await session.execute(
        insert(CustomEvent)
        .values(bot_id=bot_id, number=number, name=name)
        .on_conflict_do_nothing(index_elements=[CustomEvent.bot_id, CustomEvent.name])
    )
    return await EVENTS.by_name(session, bot_id, name)


# Definitions


async def list_events(
    session: AsyncSession, bot_id: int, *, name: str | None, window: PageRequest
) -> tuple[Sequence[CustomEvent], int]:
    return await EVENTS.page(session, bot_id, name=name, window=window)


# Occurrences


@dataclass(frozen=True)
class LogQuery:
    """Which occurrences to read: after a cursor, within a time span, at most `limit`."""

    after_id: int | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    limit: int = DEFAULT_READ


@dataclass(frozen=True)
class Occurrence:
    log: CustomEventLog
    event: CustomEvent
    subscriber_number: int


async def read_log(
    session: AsyncSession, bot_id: int, *, event_ns: str, query: LogQuery
) -> list[Occurrence]:
    """Occurrences by id, oldest first; `since` is inclusive, `until` exclusive.

    Exporters page with the id as a cursor: pass the last id read as `after_id` for the next
    batch. Unlike page numbers, the cursor neither skips nor repeats rows logged meanwhile.
    """
    if query.since is not None and query.until is not None and query.until < query.since:
        raise Invalid.field("end_time", "The end_time field must be a time after start_time.")
    event = await EVENTS.by_ns(session, bot_id, event_ns)
    statement = (
        select(CustomEventLog, Subscriber.number)
        .join(Subscriber, Subscriber.id == CustomEventLog.subscriber_id)
        .where(CustomEventLog.event_id == event.id)
        .order_by(CustomEventLog.id)
        .limit(max(1, min(MAX_READ, query.limit)))
    )
    if query.after_id is not None:
        statement = statement.where(CustomEventLog.id > query.after_id)
    if query.since is not None:
        statement = statement.where(CustomEventLog.created_at >= query.since)
    if query.until is not None:
        statement = statement.where(CustomEventLog.created_at < query.until)
    rows = await session.execute(statement)
    return [Occurrence(log, event, number) for log, number in rows]


# Daily figures


@dataclass(frozen=True)
class Count:
    """How often the event was logged, and by how many different subscribers."""

    num: int
    unique_user_num: int


@dataclass(frozen=True)
class DayCount(Count):
    date: str


@dataclass(frozen=True)
class TextCount(Count):
    text_value: str


@dataclass(frozen=True)
class EventSummary:
    event: CustomEvent
    first: dt.date
    last: dt.date
    days: list[DayCount]
    total: Count
    text_values: list[TextCount]


async def summarize(
    session: AsyncSession,
    bot_id: int,
    *,
    event_ns: str,
    range_: Range,
    today: dt.date | None = None,
) -> EventSummary:
    """Per UTC day of the range (days without occurrences included), the whole range's totals,
    and the most frequent text values (at most 100, most frequent first)."""
    event = await EVENTS.by_ns(session, bot_id, event_ns)
    first, last = days_of(range_, today or utcnow().date())
    start = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    in_range = (
        CustomEventLog.event_id == event.id,
        CustomEventLog.created_at >= start,
        CustomEventLog.created_at < end,
    )
    per_day = await _count_per_day(session, in_range)
    days = [
        per_day.get(day) or DayCount(num=0, unique_user_num=0, date=day)
        for day in _dates(first, last)
    ]
    return EventSummary(
        event=event,
        first=first,
        last=last,
        days=days,
        total=await _count_total(session, in_range),
        text_values=await _count_text_values(session, in_range),
    )


_Conditions = tuple[ColumnElement[bool], ...]
_UNIQUE_USERS = func.count(CustomEventLog.subscriber_id.distinct())


async def _count_per_day(session: AsyncSession, in_range: _Conditions) -> dict[str, DayCount]:
    day = func.date(CustomEventLog.created_at)
    rows = await session.execute(
        select(day, func.count(), _UNIQUE_USERS).where(*in_range).group_by(day)
    )
    counts = (DayCount(num=n, unique_user_num=users, date=_iso_day(raw)) for raw, n, users in rows)
    return {count.date: count for count in counts}


async def _count_total(session: AsyncSession, in_range: _Conditions) -> Count:
    num, users = (await session.execute(select(func.count(), _UNIQUE_USERS).where(*in_range))).one()
    return Count(num=num, unique_user_num=users)


async def _count_text_values(session: AsyncSession, in_range: _Conditions) -> list[TextCount]:
    value = CustomEventLog.text_value
    rows = await session.execute(
        select(value, func.count(), _UNIQUE_USERS)
        .where(*in_range, value.is_not(None))
        .group_by(value)
        .order_by(func.count().desc(), value)
        .limit(TOP_TEXT_VALUES)
    )
    counts: list[TextCount] = []
    for text, n, users in rows:
        assert text is not None  # the query excludes NULL
        counts.append(TextCount(num=n, unique_user_num=users, text_value=text))
    return counts


def _dates(first: dt.date, last: dt.date) -> list[str]:
    return [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def _iso_day(value: object) -> str:
    """`date()` answers a string on SQLite and a date on PostgreSQL; both become `YYYY-MM-DD`."""
    return value.isoformat() if isinstance(value, dt.date) else str(value)[:10]
