"""The filters of the Connect API's subscriber searches, and the queries that answer them at scale.

A page has to cost about the same in a bot of a thousand subscribers as in one of millions, so
the shape of the query follows the filters:

- a whole phone number or email address is looked up in its index, and the few found are sorted;
- a filter with an index of its own subscribers (a tag, a team label, a custom event, a user
  field's value) that matches few of them drives the query: those few are fetched and sorted;
- otherwise the subscribers are walked in activity order, through the index kept for it, each
  checked against the filters until the page is full: a filter that matches many of them fills
  it soon.

SQLite plans without statistics: shown an ORDER BY that an index can answer, it walks that index
whatever the filters. `unindexed` hides a column from it where another index should be used.
PostgreSQL plans from its statistics and is left to choose.

A tag, field, event or segment that is not one of the searched bots' (deleted, or never made)
matches nobody: a client filtering by a deleted tag gets an empty page rather than an error.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, exists, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from konversation.db import PageRequest, contains_text
from konversation.errors import Invalid, NotFound
from konversation.events.models import CustomEvent, CustomEventLog
from konversation.flows import fieldtypes
from konversation.flows.catalog import Catalog
from konversation.flows.models import Field, Tag, VarType
from konversation.flows.service import TAGS, USER_FIELDS
from konversation.ids import Kind, parse_ns
from konversation.subscribers.models import (
    StatusCount,
    Subscriber,
    SubscriberChannel,
    SubscriberFieldValue,
    SubscriberLabel,
    SubscriberTag,
    value_key,
)

DAY = dt.timedelta(hours=24)
PHONE_TAIL = 9
# Up to this many matches, a filter's own index finds them all and they are sorted; beyond it,
# walking the activity order fills a page sooner.
NARROW = 5_000

# The events service has its own, but it builds on the subscriber service, which builds on this.
EVENTS = Catalog(CustomEvent, Kind.EVENT, "Custom event")

M = TypeVar("M")
Q = TypeVar("Q", bound=Select[Any])


@dataclass(frozen=True)
class SubscriberFilter:
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    channel: str | None = None
    opted_in_email: bool | None = None
    opted_in_sms: bool | None = None
    interacted_in_last_24h: bool | None = None
    bot_interacted_in_last_24h: bool | None = None
    last_message_in_last_24h: bool | None = None
    # Within one bot only:
    tag_ns: str | None = None
    label_id: int | None = None
    event_ns: str | None = None
    user_field_ns: str | None = None
    user_field_value: str | None = None
    segment_ns: str | None = None


# Saved filters: a segment keeps its filters by the query parameter names of `GET /subscribers`.


class _Unreadable(ValueError):
    """The rest of a message that starts 'The conditions.X field ...'."""


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _Unreadable("must be a string")
    return value


def _yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in {"yes", "true", "1"}:
        return True
    if lowered in {"no", "false", "0"}:
        return False
    raise _Unreadable("must be yes or no")


def _integer(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise _Unreadable("must be an integer")


def _any_value(value: Any) -> str:
    """A value as a client would type it into the query string: `12`, `true`, `Lisbon`."""
    if isinstance(value, (str, int, float, bool)):
        return str(fieldtypes.normalize(VarType.TEXT, value))
    raise _Unreadable("must be a string, number or boolean")


_PARAMETERS = {
    "name": ("name", _text),
    "phone": ("phone", _text),
    "email": ("email", _text),
    "is_channel": ("channel", _text),
    "is_opt_in_email": ("opted_in_email", _yes_no),
    "is_opt_in_sms": ("opted_in_sms", _yes_no),
    "is_interacted_in_last_24h": ("interacted_in_last_24h", _yes_no),
    "is_bot_interacted_in_last_24h": ("bot_interacted_in_last_24h", _yes_no),
    "is_last_message_in_last_24h": ("last_message_in_last_24h", _yes_no),
    "tag_ns": ("tag_ns", _text),
    "label_id": ("label_id", _integer),
    "event_ns": ("event_ns", _text),
    "user_field_ns": ("user_field_ns", _text),
    "user_field_value": ("user_field_value", _any_value),
}
_PARAMETER_OF = {attribute: name for name, (attribute, _) in _PARAMETERS.items()}


def from_parameters(parameters: Mapping[str, Any], *, path: str) -> SubscriberFilter:
    """The filter saved as `GET /subscribers` query parameters; every unreadable one is named.

    Empty values are left out, as in a query string. A segment cannot name another segment.
    """
    chosen: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, value in parameters.items():
        where = f"{path}.{name}"
        if name not in _PARAMETERS:
            errors[where] = [f"The {where} field is not a subscriber filter."]
            continue
        if value is None or value == "":
            continue
        attribute, read = _PARAMETERS[name]
        try:
            chosen[attribute] = read(value)
        except _Unreadable as problem:
            errors[where] = [f"The {where} field {problem}."]
    if errors:
        raise Invalid(errors)
    wanted = SubscriberFilter(**chosen)
    check(wanted, path=f"{path}.")
    return wanted


def to_parameters(wanted: SubscriberFilter) -> dict[str, Any]:
    """The inverse of `from_parameters`, leaving out what is not set."""
    return {
        _PARAMETER_OF[f.name]: getattr(wanted, f.name)
        for f in fields(wanted)
        if f.name in _PARAMETER_OF and getattr(wanted, f.name) is not None
    }


def check(wanted: SubscriberFilter, *, path: str = "") -> None:
    """Filters that only make sense together."""
    if wanted.user_field_value and not wanted.user_field_ns:
        field_ns, value = f"{path}user_field_ns", f"{path}user_field_value"
        raise Invalid.field(field_ns, f"The {field_ns} field is required when {value} is present.")


# Looking up what the filters name


def bot_of(ns: str, kind: Kind, bot_ids: Sequence[int]) -> int | None:
    """The bot an id of `kind` belongs to, when it is one of `bot_ids`."""
    parsed = parse_ns(ns, kind)
    return parsed[0] if parsed is not None and parsed[0] in bot_ids else None


async def find(
    session: AsyncSession, catalog: Catalog[M], ns: str | None, bot_ids: Sequence[int]
) -> M | None:
    """The item `ns` names in its bot, when that is one of `bot_ids` and the item exists."""
    bot_id = bot_of(ns, catalog.kind, bot_ids) if ns else None
    if ns is None or bot_id is None:
        return None
    try:
        return await catalog.by_ns(session, bot_id, ns)
    except NotFound:
        return None


@dataclass(frozen=True)
class References:
    """The bot's items a filter names, looked up; None where the filter names nothing."""

    tag: Tag | None = None
    field: Field | None = None
    event: CustomEvent | None = None
    # The parameters whose id names nothing in the bots.
    missing: tuple[str, ...] = ()


async def look_up(
    session: AsyncSession, bot_ids: Sequence[int], wanted: SubscriberFilter
) -> References:
    tag = await find(session, TAGS, wanted.tag_ns, bot_ids)
    field = await find(session, USER_FIELDS, wanted.user_field_ns, bot_ids)
    event = await find(session, EVENTS, wanted.event_ns, bot_ids)
    named = {
        "tag_ns": (wanted.tag_ns, tag),
        "user_field_ns": (wanted.user_field_ns, field),
        "event_ns": (wanted.event_ns, event),
    }
    missing = tuple(name for name, (ns, item) in named.items() if ns and item is None)
    return References(tag=tag, field=field, event=event, missing=missing)


# The conditions


@dataclass(frozen=True)
class Membership:
    """A filter with an index of its own listing the subscribers it matches."""

    holds: ColumnElement[bool]  # for one subscriber, as the walk in activity order checks it
    ids: Select[int]  # every matching subscriber's id, from the filter's index
    size: int  # how many match, exactly or past NARROW
    # The exact number of matches, when this filter is the only one and it can tell cheaply.
    alone: int | Select[int] | None = None


async def _membership(
    session: AsyncSession,
    subscriber_id: QueryableAttribute[int],
    *where: ColumnElement[bool],
    size: int | None = None,
    alone: int | Select[int] | None = None,
) -> Membership:
    """The filter `where` on a table listing subscribers by `subscriber_id`; its size is counted
    no further than just past NARROW unless it is known."""
    ids = select(subscriber_id).where(*where)
    if size is None:
        capped = select(func.count()).select_from(ids.limit(NARROW + 1).subquery())
        size = int(await session.scalar(capped) or 0)
    return Membership(
        holds=exists().where(subscriber_id == Subscriber.id, *where),
        ids=ids,
        size=size,
        alone=alone,
    )


def value_keys(field: Field, text: str) -> set[str]:
    """What a field's stored `value_key` may be for a value typed as `text`: the text itself, and
    the text read as the field's type (`12.0` for a number field is kept as 12, keyed `12`)."""
    keys = {value_key(text)}
    with contextlib.suppress(fieldtypes.BadValue):
        keys.add(value_key(fieldtypes.normalize(field.var_type, text)))
    return {key for key in keys if key is not None}


async def _memberships(
    session: AsyncSession, wanted: SubscriberFilter, found: References
) -> list[Membership]:
    chosen: list[Membership] = []
    if found.tag is not None:
        count = found.tag.subscriber_count
        chosen.append(
            await _membership(
                session,
                SubscriberTag.subscriber_id,
                SubscriberTag.tag_id == found.tag.id,
                size=count,
                alone=count,
            )
        )
    if found.field is not None:
        # Without a value, the filter is on holding any value at all.
        text = wanted.user_field_value
        key = SubscriberFieldValue.value_key
        where = (
            SubscriberFieldValue.field_id == found.field.id,
            key.in_(value_keys(found.field, text)) if text else key.is_not(None),
        )
        # A field's values belong to its own bot's subscribers: its index alone counts them.
        alone = select(func.count()).where(*where)
        chosen.append(
            await _membership(session, SubscriberFieldValue.subscriber_id, *where, alone=alone)
        )
    if found.event is not None:
        logged = CustomEventLog.event_id == found.event.id
        chosen.append(await _membership(session, CustomEventLog.subscriber_id, logged))
    if wanted.label_id is not None:
        labelled = SubscriberLabel.label_id == wanted.label_id
        chosen.append(await _membership(session, SubscriberLabel.subscriber_id, labelled))
    return chosen


def _column_checks(wanted: SubscriberFilter, now: dt.datetime) -> list[ColumnElement[bool]]:
    checks: list[ColumnElement[bool]] = []
    if wanted.name:
        checks.append(contains_text(Subscriber.name, wanted.name))
    if wanted.email:
        checks.append(_email_matches(wanted.email))
    if wanted.phone:
        checks.append(_phone_matches(wanted.phone))
    if wanted.channel:
        checks.append(
            exists().where(
                SubscriberChannel.subscriber_id == Subscriber.id,
                SubscriberChannel.type == wanted.channel,
            )
        )
    since = now - DAY
    for flag, column in (
        (wanted.opted_in_email, Subscriber.opted_in_email_at),
        (wanted.opted_in_sms, Subscriber.opted_in_sms_at),
    ):
        if flag is not None:
            checks.append(column.is_not(None) if flag else column.is_(None))
    for flag, column in (
        (wanted.interacted_in_last_24h, Subscriber.last_interaction_at),
        (wanted.bot_interacted_in_last_24h, Subscriber.last_bot_interaction_at),
        (wanted.last_message_in_last_24h, Subscriber.last_message_at),
    ):
        if flag is not None:
            recent = column >= since
            checks.append(recent if flag else (column.is_(None) | ~recent))
    return checks


def _phone_matches(phone: str) -> ColumnElement[bool]:
    """Numbers compare by their last digits, so a number matches with or without `+` and its
    country code; a full number uses the index, a shorter piece matches the number's end."""
    digits = re.sub(r"\D", "", phone)
    if not digits:
        return false()
    if len(digits) >= PHONE_TAIL:
        return Subscriber.phone_tail == digits[-PHONE_TAIL:]
    return Subscriber.phone.like(f"%{digits}")


def _email_matches(email: str) -> ColumnElement[bool]:
    """A whole address is looked up exactly (addresses are kept lower case); a part is searched."""
    if "@" in email:
        return Subscriber.email == email.strip().lower()
    return contains_text(Subscriber.email, email)  # type: ignore[arg-type]


def _finds_few(wanted: SubscriberFilter) -> bool:
    """Whether a unique column's index finds the few matches: a whole number, a whole address."""
    whole_phone = len(re.sub(r"\D", "", wanted.phone or "")) >= PHONE_TAIL
    return whole_phone or "@" in (wanted.email or "")


# The search


class unindexed(FunctionElement[Any]):  # noqa: N801 - reads as a function in a query
    """A column SQLite's planner may not use an index for (`+column`); elsewhere the column."""

    inherit_cache = True

    def __init__(self, column: QueryableAttribute[Any]) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(unindexed)
def _plain_column(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(unindexed, "sqlite")
def _hidden_column(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


@dataclass(frozen=True)
class Search:
    """A search whose names are looked up, ready to answer pages and the total."""

    bot_ids: tuple[int, ...]
    checks: tuple[ColumnElement[bool], ...]
    memberships: tuple[Membership, ...] = ()  # the smallest first
    finds_few: bool = False

    async def page(self, session: AsyncSession, window: PageRequest) -> Sequence[Subscriber]:
        driver = self._driver(at_most=NARROW)
        query = self._matching(select(Subscriber), driver)
        if self.finds_few or driver is not None:
            # The matches are few: sort them, instead of walking the activity order to them.
            order = unindexed(Subscriber.activity_at).desc()
        else:
            order = Subscriber.activity_at.desc()
        query = query.order_by(order, Subscriber.id.desc())
        return (await session.scalars(query.limit(window.limit).offset(window.offset))).all()

    async def total(self, session: AsyncSession) -> int:
        """How many match in all: from the maintained counts when they can tell, else counted."""
        if not self.checks and not self.memberships:
            counts = select(func.coalesce(func.sum(StatusCount.count), 0)).where(
                StatusCount.bot_id.in_(self.bot_ids)
            )
            return int(await session.scalar(counts) or 0)
        if not self.checks and len(self.memberships) == 1:
            alone = self.memberships[0].alone
            if isinstance(alone, int):
                return alone
            if alone is not None:
                return int(await session.scalar(alone) or 0)
        counted = self._matching(select(func.count()).select_from(Subscriber), self._driver())
        return int(await session.scalar(counted) or 0)

    def _driver(self, *, at_most: int | None = None) -> Membership | None:
        """The filter whose own index lists the matches: the smallest, unless it has more than
        `at_most` or a unique column's index finds the matches already."""
        if self.finds_few or not self.memberships:
            return None
        smallest = self.memberships[0]
        return smallest if at_most is None or smallest.size <= at_most else None

    def _matching(self, query: Q, driver: Membership | None) -> Q:
        """`query` narrowed to the matches; `driver`'s own index, if given, lists them."""
        if driver is None:
            probes = [m.holds for m in self.memberships]
            return query.where(Subscriber.bot_id.in_(self.bot_ids), *self.checks, *probes)
        probes = [m.holds for m in self.memberships if m is not driver]
        return query.where(
            Subscriber.id.in_(driver.ids),
            unindexed(Subscriber.bot_id).in_(self.bot_ids),
            *self.checks,
            *probes,
        )


async def prepare(
    session: AsyncSession,
    bot_ids: Sequence[int],
    wanted: Sequence[SubscriberFilter],
    now: dt.datetime,
) -> Search | None:
    """The search for subscribers of `bot_ids` matching every filter of `wanted`; None when a
    filter names a tag, field or event the bots do not have, so that nobody can match."""
    checks: list[ColumnElement[bool]] = []
    memberships: list[Membership] = []
    for one in wanted:
        check(one)
        found = await look_up(session, bot_ids, one)
        if found.missing:
            return None
        checks += _column_checks(one, now)
        memberships += await _memberships(session, one, found)
    return Search(
        bot_ids=tuple(bot_ids),
        checks=tuple(checks),
        memberships=tuple(sorted(memberships, key=lambda m: m.size)),
        finds_few=any(_finds_few(one) for one in wanted),
    )
