"""Broadcasts: a sub flow sent to many subscribers in the background, paced, exactly once each.

A request is checked and stored as a `Broadcast` (the `broadcast_to_*` functions); the job pump
calls `run_due_broadcasts`, which works through the broadcasts that are due.

- Audience: a list of up to 200 subscribers (by `user_ns` or by their channel `user_id`), up to
  10 tags (subscribers with any of them and none of up to 10 `exclude_tags`), or up to 10
  segments (subscribers matching any of them). Tags and segments are read when each batch is
  taken, so subscribers tagged after the request are reached too, if their turn is still ahead.
- Order and resuming: recipients are taken in subscriber id order after the broadcast's
  `cursor`, so a broadcast goes on where it stopped, in whichever process.
- Exactly once: each recipient is written as a `BroadcastRecipient` in the same transaction
  that starts their flow; its primary key stops a second run from reaching them again.
- Pacing: by `now`, a broadcast may have reached `elapsed seconds * max_per_minute / 60`
  recipients since it started, and at least one batch (a second's worth, at least one) at once;
  `next_run_at` says when the next batch is allowed.
- Recipients the bot may not run flows for (unsubscribed, paused) are recorded as skipped, and
  those whose flow could not start as failed; the counts are kept on the broadcast.
- `type`: a `WHATSAPP_TEMPLATE` broadcast reaches WhatsApp subscribers outside the 24-hour
  window only through a sub flow that opens with a `whatsapp_template` node (checked, with the
  template approved, when the broadcast is asked for); with any other sub flow they are recorded
  as `outside_window` and counted skipped, as WhatsApp would refuse its messages. Inside the
  window, and on other channels, the sub flow runs as usual. `EMAIL`, `SMS` and
  `FACEBOOK_NOTIFICATION` are kept as given and change nothing: the sub flow goes out on each
  recipient's channel (there is no email, SMS or Facebook channel for flows).
- `user_fields` are set on each recipient before their flow starts; `bot_fields` once, when
  the broadcast starts.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    false,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from konversation.channels.whatsapp import window_closed
from konversation.db import QUEUED, insert_rows, session_scope, table_of, utcnow
from konversation.errors import Invalid, KonversationError, NotFound
from konversation.flows import fieldtypes
from konversation.flows import service as flows
from konversation.flows.catalog import Catalog
from konversation.flows.models import Field, Flow
from konversation.flows.service import BOT_FIELDS, SUB_FLOWS, TAGS, USER_FIELDS
from konversation.ids import MAX_ID, Kind, format_ns, parse_ns
from konversation.runtime.engine import Engine, refusal
from konversation.segments.models import Segment
from konversation.segments.service import SEGMENTS
from konversation.sending.models import Broadcast, BroadcastRecipient, BroadcastStatus, Outcome
from konversation.subscribers import attributes, filters
from konversation.subscribers.attributes import Pick
from konversation.subscribers.models import Subscriber, SubscriberChannel, SubscriberTag
from konversation.subscribers.service import NOT_FOUND as SUBSCRIBER_NOT_FOUND
from konversation.whatsapp.service import approved_template, opening_template

log = logging.getLogger(__name__)

M = TypeVar("M")

NOT_FOUND = "Broadcast not found"
ORIGIN = "broadcast"
MAX_LISTED = 200
MAX_TAGS = 10
MAX_SEGMENTS = 10
MAX_FIELDS = 10
DEFAULT_PER_MINUTE = 60
MAX_PER_MINUTE = 600_000
WHATSAPP_TEMPLATE = "WHATSAPP_TEMPLATE"
MESSAGE_TYPES = ("EMAIL", "SMS", WHATSAPP_TEMPLATE, "FACEBOOK_NOTIFICATION")
# The last second a unix timestamp may name (9999-12-31 23:59:59 UTC).
LAST_TIME = 253_402_300_799
# Recipients one call of run_due_broadcasts handles at most, and one transaction at most.
BATCH = 1000
CHUNK = 250
# How long a worker holds a broadcast before another may take it over (after a crash).
LEASE = dt.timedelta(minutes=2)
LIVE = (BroadcastStatus.SCHEDULED, BroadcastStatus.RUNNING)


# Asking for a broadcast


@dataclass(frozen=True)
class FieldSetting:
    """A field (`var_ns`) and the value a broadcast gives it."""

    var_ns: str
    value: Any


@dataclass(frozen=True)
class Request:
    """What every broadcast request says besides its audience."""

    sub_flow_ns: str
    name: str | None = None
    message_type: str | None = None
    scheduled_time: int | None = None  # unix seconds; None or past: now
    max_per_minute: int | None = None  # DEFAULT_PER_MINUTE when None
    user_fields: Sequence[FieldSetting] = ()
    bot_fields: Sequence[FieldSetting] = ()


async def broadcast_to_subscribers(
    session: AsyncSession, bot_id: int, user_ns_list: Sequence[str], request: Request
) -> Broadcast:
    """To the listed subscribers; ids that name no subscriber of the bot are left out."""
    flow = await SUB_FLOWS.by_ns(session, bot_id, request.sub_flow_ns)
    errors = _check_list("user_ns_list", user_ns_list, MAX_LISTED, "user ns")
    settings = await _check_settings(session, bot_id, request, errors)
    numbers = [
        parsed[1]
        for ns in user_ns_list
        if (parsed := parse_ns(ns, Kind.SUBSCRIBER)) is not None and parsed[0] == bot_id
    ]
    found = select(Subscriber.id).where(Subscriber.bot_id == bot_id, Subscriber.number.in_(numbers))
    ids = await _listed(session, found, errors)
    return await _store(session, bot_id, flow, {"subscriber_ids": ids}, settings)


async def broadcast_to_user_ids(
    session: AsyncSession, bot_id: int, user_ids: Sequence[str], request: Request
) -> Broadcast:
    """To the subscribers with these channel user ids (a phone's `+` is ignored)."""
    flow = await SUB_FLOWS.by_ns(session, bot_id, request.sub_flow_ns)
    errors = _check_list("user_id_list", user_ids, MAX_LISTED, "user ids")
    settings = await _check_settings(session, bot_id, request, errors)
    wanted = {user_id.strip().lstrip("+") for user_id in user_ids}
    found = select(Subscriber.id).where(Subscriber.bot_id == bot_id, Subscriber.user_id.in_(wanted))
    ids = await _listed(session, found, errors)
    return await _store(session, bot_id, flow, {"subscriber_ids": ids}, settings)


async def broadcast_to_tags(
    session: AsyncSession,
    bot_id: int,
    tags: Sequence[str],
    exclude_tags: Sequence[str],
    request: Request,
) -> Broadcast:
    """To the subscribers with any of `tags` and none of `exclude_tags` (tag ids)."""
    flow = await SUB_FLOWS.by_ns(session, bot_id, request.sub_flow_ns)
    errors = _check_list("tags", tags, MAX_TAGS, "tag ns")
    errors.update(_check_list("exclude_tags", exclude_tags, MAX_TAGS, "tag ns", required=False))
    settings = await _check_settings(session, bot_id, request, errors)
    included = await _items(session, TAGS, bot_id, "tags.{}", tags, errors)
    excluded = await _items(session, TAGS, bot_id, "exclude_tags.{}", exclude_tags, errors)
    if errors:
        raise Invalid(errors)
    audience = {"tags": [t.id for t in included], "exclude_tags": [t.id for t in excluded]}
    return await _store(session, bot_id, flow, audience, settings)


async def broadcast_to_segments(
    session: AsyncSession, bot_id: int, segment_ns_list: Sequence[str], request: Request
) -> Broadcast:
    """To the subscribers matching any of the segments, as they are when their turn comes."""
    flow = await SUB_FLOWS.by_ns(session, bot_id, request.sub_flow_ns)
    errors = _check_list("segment_ns", segment_ns_list, MAX_SEGMENTS, "segment ns")
    settings = await _check_settings(session, bot_id, request, errors)
    segments = await _items(session, SEGMENTS, bot_id, "segment_ns.{}", segment_ns_list, errors)
    if errors:
        raise Invalid(errors)
    return await _store(session, bot_id, flow, {"segments": [s.id for s in segments]}, settings)


def _check_list(
    name: str, items: Sequence[str], limit: int, unit: str, *, required: bool = True
) -> dict[str, list[str]]:
    if required and not items:
        return {name: [f"The {name} field is required."]}
    if len(items) > limit:
        return {name: [f"The {name} field must not have more than {limit} {unit}."]}
    return {}


@dataclass(frozen=True)
class _Settings:
    name: str
    message_type: str | None
    when: dt.datetime
    max_per_minute: int
    user_fields: list[dict[str, Any]]
    bot_fields: list[dict[str, Any]]


async def _check_settings(
    session: AsyncSession, bot_id: int, request: Request, errors: dict[str, list[str]]
) -> _Settings:
    """The request's settings, checked; problems are added to `errors`."""
    now = utcnow()
    when = now
    if request.scheduled_time is not None:
        if not 0 <= request.scheduled_time <= LAST_TIME:
            errors["scheduled_time"] = [
                "The scheduled_time field must be a unix timestamp in seconds."
            ]
        else:
            when = max(now, dt.datetime.fromtimestamp(request.scheduled_time, dt.UTC))
    per_minute = request.max_per_minute
    if per_minute is None:
        per_minute = DEFAULT_PER_MINUTE
    elif not 1 <= per_minute <= MAX_PER_MINUTE:
        errors["max_per_minute"] = [
            f"The max_per_minute field must be between 1 and {MAX_PER_MINUTE}."
        ]
    if request.message_type is not None and request.message_type not in MESSAGE_TYPES:
        errors["type"] = [f"The selected type is invalid: use one of {', '.join(MESSAGE_TYPES)}."]
    return _Settings(
        name=(request.name or "").strip(),
        message_type=request.message_type,
        when=when,
        max_per_minute=per_minute,
        user_fields=await _field_settings(
            session, USER_FIELDS, bot_id, "user_fields", request.user_fields, errors
        ),
        bot_fields=await _field_settings(
            session, BOT_FIELDS, bot_id, "bot_fields", request.bot_fields, errors
        ),
    )


async def _field_settings(
    session: AsyncSession,
    catalog: Catalog[Field],
    bot_id: int,
    name: str,
    settings: Sequence[FieldSetting],
    errors: dict[str, list[str]],
) -> list[dict[str, Any]]:
    """The settings as stored, `{"var_ns", "value"}` with each value typed by its field."""
    if len(settings) > MAX_FIELDS:
        errors[name] = [f"The {name} field must not have more than {MAX_FIELDS} items."]
        return []
    refs = [s.var_ns for s in settings]
    found = await _items(session, catalog, bot_id, name + ".{}.var_ns", refs, errors)
    by_ns = {format_ns(bot_id, Kind.FIELD, f.number): f for f in found}
    stored: list[dict[str, Any]] = []
    for position, setting in enumerate(settings):
        definition = by_ns.get(setting.var_ns.strip())
        if definition is None:
            continue
        try:
            value = fieldtypes.normalize(definition.var_type, setting.value)
        except fieldtypes.BadValue as bad:
            path = f"{name}.{position}.value"
            errors[path] = [f"The {path} field {bad}."]
            continue
        stored.append({"var_ns": setting.var_ns.strip(), "value": value})
    return stored


async def _items(
    session: AsyncSession,
    catalog: Catalog[M],
    bot_id: int,
    at: str,
    refs: Sequence[str],
    errors: dict[str, list[str]],
) -> list[M]:
    """The bot's items `refs` name, in order; an id naming nothing is an error at its path,
    `at` with the item's index in place of `{}`."""
    found: list[M] = []
    if at.split(".")[0] in errors:  # the list as a whole is refused already
        return found
    for position, ref in enumerate(refs):
        try:
            found.append(await catalog.by_ns(session, bot_id, ref.strip()))
        except NotFound:
            path = at.format(position)
            errors[path] = [f"The selected {path} is invalid."]
    return found


async def _listed(
    session: AsyncSession, found: Select[int], errors: dict[str, list[str]]
) -> list[int]:
    """The ids of the listed subscribers, in id order; NotFound when none exists."""
    if errors:
        raise Invalid(errors)
    ids = sorted(set((await session.scalars(found)).all()))
    if not ids:
        raise NotFound(SUBSCRIBER_NOT_FOUND)
    return ids


async def _store(
    session: AsyncSession, bot_id: int, flow: Flow, audience: dict[str, Any], settings: _Settings
) -> Broadcast:
    if settings.message_type == WHATSAPP_TEMPLATE:
        await _check_opening_template(session, bot_id, flow)
    broadcast = Broadcast(
        bot_id=bot_id,
        name=settings.name,
        flow_id=flow.id,
        audience=audience,
        message_type=settings.message_type,
        user_fields=settings.user_fields,
        bot_fields=settings.bot_fields,
        status=BroadcastStatus.SCHEDULED,
        scheduled_at=settings.when,
        next_run_at=settings.when,
        max_per_minute=settings.max_per_minute,
        cursor=0,
        sent=0,
        skipped=0,
        failed=0,
    )
    session.add(broadcast)
    # Wakes the job pump when the request commits, as queued messages do, so that a broadcast
    # for now starts at once rather than at the pump's next look.
    session.info[QUEUED] = True
    await session.flush()
    return broadcast


async def _check_opening_template(session: AsyncSession, bot_id: int, flow: Flow) -> None:
    """A template broadcast's opening template must be one WhatsApp will take, or it would reach
    nobody outside the window."""
    opening = opening_template(flow)
    if opening is None:
        return
    try:
        await approved_template(session, bot_id, opening.template_name, opening.language)
    except (NotFound, Invalid) as refused:
        raise Invalid.field(
            "sub_flow_ns",
            f"The sub flow opens with the WhatsApp template {opening.template_name} "
            f"({opening.language}), which cannot be sent: {refused.message}",
        ) from None


# Reading one


async def get_broadcast(session: AsyncSession, bot_id: int, broadcast_id: int) -> Broadcast:
    broadcast = None
    if 0 < broadcast_id <= MAX_ID:
        broadcast = await session.scalar(
            select(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.bot_id == bot_id)
        )
    if broadcast is None:
        raise NotFound(NOT_FOUND)
    return broadcast


def total(broadcast: Broadcast) -> int | None:
    """How many recipients the broadcast has in all, once that is known."""
    listed = broadcast.audience.get("subscriber_ids")
    if listed is not None:
        return len(listed)
    if broadcast.status == BroadcastStatus.DONE:
        return reached(broadcast)
    return None


def reached(broadcast: Broadcast) -> int:
    return broadcast.sent + broadcast.skipped + broadcast.failed


async def sub_flow_ns(session: AsyncSession, broadcast: Broadcast) -> str | None:
    number = await session.scalar(select(Flow.number).where(Flow.id == broadcast.flow_id))
    return None if number is None else format_ns(broadcast.bot_id, Kind.SUB_FLOW, number)


async def next_due(session: AsyncSession) -> dt.datetime | None:
    """When the next broadcast step is due, for a pump that sleeps until then."""
    return await session.scalar(
        select(Broadcast.next_run_at)
        .where(Broadcast.status.in_(LIVE))
        .order_by(Broadcast.next_run_at)
        .limit(1)
    )


# Running them


async def run_due_broadcasts(
    sessions: async_sessionmaker[AsyncSession],
    engine: Engine,
    *,
    now: dt.datetime | None = None,
    limit: int = BATCH,
    lease: dt.timedelta = LEASE,
) -> int:
    """Reach the recipients of the broadcasts due at `now` (at most `limit` in all), as their
    pace allows; answers how many were handled (sent, skipped or failed). Each broadcast is
    leased for `lease` while this worker handles its next recipients."""
    now = now or utcnow()
    handled = 0
    tried: set[int] = set()
    while handled < limit:
        broadcast_id = await _claim(sessions, now, tried, lease)
        if broadcast_id is None:
            break
        tried.add(broadcast_id)
        try:
            handled += await _work_on(sessions, engine, broadcast_id, now, limit - handled)
        finally:
            await _release(sessions, broadcast_id)
    return handled


async def _claim(
    sessions: async_sessionmaker[AsyncSession],
    now: dt.datetime,
    tried: set[int],
    lease: dt.timedelta,
) -> int | None:
    """A due broadcast nobody else works on, leased to this worker."""
    clock = utcnow()  # leases are about workers, so they follow the real clock
    async with session_scope(sessions) as session:
        found = await session.scalar(
            select(Broadcast.id)
            .where(
                Broadcast.status.in_(LIVE),
                Broadcast.next_run_at <= now,
                or_(Broadcast.leased_until.is_(None), Broadcast.leased_until < clock),
                Broadcast.id.not_in(tried) if tried else true(),
            )
            .order_by(Broadcast.next_run_at, Broadcast.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if found is not None:
            await session.execute(
                update(Broadcast).where(Broadcast.id == found).values(leased_until=clock + lease)
            )
    return found


async def _release(sessions: async_sessionmaker[AsyncSession], broadcast_id: int) -> None:
    async with session_scope(sessions) as session:
        await session.execute(
            update(Broadcast).where(Broadcast.id == broadcast_id).values(leased_until=None)
        )


@dataclass(frozen=True)
class _Step:
    handled: int
    more_now: bool  # recipients are left that the pace allows now


async def _work_on(
    sessions: async_sessionmaker[AsyncSession],
    engine: Engine,
    broadcast_id: int,
    now: dt.datetime,
    budget: int,
) -> int:
    """Reach recipients of one broadcast, a short transaction per chunk."""
    handled = 0
    while budget > handled:
        async with session_scope(sessions) as session:
            step = await _step(session, engine, broadcast_id, now, min(CHUNK, budget - handled))
        handled += step.handled
        if not step.more_now:
            break
    return handled


async def _step(
    session: AsyncSession, engine: Engine, broadcast_id: int, now: dt.datetime, most: int
) -> _Step:
    broadcast = await session.scalar(
        select(Broadcast).where(Broadcast.id == broadcast_id).with_for_update()
    )
    if broadcast is None or broadcast.status not in LIVE:
        return _Step(0, more_now=False)
    if broadcast.status == BroadcastStatus.SCHEDULED:
        await _begin(session, broadcast, now)
    allowed = _allowance(broadcast, now) - reached(broadcast)
    if allowed <= 0:
        broadcast.next_run_at = _next_slot(broadcast)
        return _Step(0, more_now=False)
    take = min(allowed, most)
    audience = await _audience(session, broadcast, now)
    candidates = (
        await session.scalars(
            select(Subscriber)
            .where(
                Subscriber.bot_id == broadcast.bot_id,
                Subscriber.id > broadcast.cursor,
                audience,
            )
            .order_by(Subscriber.id)
            .limit(take + 1)
        )
    ).all()
    batch, more = candidates[:take], len(candidates) > take
    if batch:
        broadcast.cursor = batch[-1].id
    flow = await session.get_one(Flow, broadcast.flow_id)
    fields = await _user_field_settings(session, broadcast)
    outcomes = await _reach(session, engine, broadcast, flow, batch, fields)
    for outcome in outcomes:
        _count(broadcast, outcome)
    handled = len(outcomes)
    if not more:
        broadcast.status = BroadcastStatus.DONE
        broadcast.finished_at = now
        return _Step(handled, more_now=False)
    if reached(broadcast) >= _allowance(broadcast, now):
        broadcast.next_run_at = _next_slot(broadcast)
        return _Step(handled, more_now=False)
    broadcast.next_run_at = now
    return _Step(handled, more_now=True)


async def _begin(session: AsyncSession, broadcast: Broadcast, now: dt.datetime) -> None:
    """The broadcast starts: its bot fields are set, once."""
    broadcast.status = BroadcastStatus.RUNNING
    broadcast.started_at = now
    for setting in broadcast.bot_fields:
        try:
            await flows.set_bot_field(
                session, broadcast.bot_id, var_ns=setting["var_ns"], value=setting["value"]
            )
        except KonversationError as refused:  # deleted or retyped since the request
            log.warning("Broadcast %s left bot field %s: %s", broadcast.id, setting, refused)


def _count(broadcast: Broadcast, outcome: Outcome) -> None:
    if outcome == Outcome.SENT:
        broadcast.sent += 1
    elif outcome in (Outcome.SKIPPED, Outcome.OUTSIDE_WINDOW):
        broadcast.skipped += 1
    else:
        broadcast.failed += 1


async def _reach(
    session: AsyncSession,
    engine: Engine,
    broadcast: Broadcast,
    flow: Flow,
    batch: Sequence[Subscriber],
    fields: list[FieldSetting],
) -> list[Outcome]:
    """Start the flow for the recipients the broadcast had not reached yet; answers the
    outcome of each of them."""
    held = {s.id: Outcome.SKIPPED for s in batch if refusal(s) is not None}
    for subscriber_id in await _outside_window(session, broadcast, flow, batch):
        held.setdefault(subscriber_id, Outcome.OUTSIDE_WINDOW)
    claimed = await _claim_recipients(session, broadcast, batch, held)
    ready = [s for s in batch if s.id in claimed and s.id not in held]
    failed = await _start_flows(session, engine, broadcast, flow, ready, fields)
    if failed:
        await session.execute(
            update(BroadcastRecipient)
            .where(
                BroadcastRecipient.broadcast_id == broadcast.id,
                BroadcastRecipient.subscriber_id.in_(failed),
            )
            .values(outcome=Outcome.FAILED)
        )
    return [
        held.get(i) or (Outcome.FAILED if i in failed else Outcome.SENT) for i in sorted(claimed)
    ]


async def _outside_window(
    session: AsyncSession, broadcast: Broadcast, flow: Flow, batch: Sequence[Subscriber]
) -> set[int]:
    """For a template broadcast whose flow does not open with a WhatsApp template, those of
    `batch` that only a template reaches now: WhatsApp would refuse the flow's messages.
    Other broadcasts send to everyone as they are."""
    if broadcast.message_type != WHATSAPP_TEMPLATE or opening_template(flow) is not None:
        return set()
    types: dict[int, set[str]] = {s.id: set() for s in batch}
    for subscriber_id, type_ in await session.execute(
        select(SubscriberChannel.subscriber_id, SubscriberChannel.type).where(
            SubscriberChannel.subscriber_id.in_(types)
        )
    ):
        types[subscriber_id].add(type_)
    now = utcnow()
    return {s.id for s in batch if window_closed(s, types[s.id], now)}


async def _claim_recipients(
    session: AsyncSession,
    broadcast: Broadcast,
    batch: Sequence[Subscriber],
    held: dict[int, Outcome],
) -> set[int]:
    """Record the batch as reached, but for those reached already; answers who is new.

    The caller holds the broadcast's row lock, so nobody else records its recipients meanwhile.
    """
    if not batch:
        return set()
    reached = set(
        await session.scalars(
            select(BroadcastRecipient.subscriber_id).where(
                BroadcastRecipient.broadcast_id == broadcast.id,
                BroadcastRecipient.subscriber_id.in_([s.id for s in batch]),
            )
        )
    )
    now = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "broadcast_id": broadcast.id,
            "subscriber_id": s.id,
            "outcome": held.get(s.id, Outcome.SENT),
            "at": now,
        }
        for s in batch
        if s.id not in reached
    ]
    if rows:
        await insert_rows(session, table_of(BroadcastRecipient), rows)
    return {int(row["subscriber_id"]) for row in rows}


async def _start_flows(
    session: AsyncSession,
    engine: Engine,
    broadcast: Broadcast,
    flow: Flow,
    ready: Sequence[Subscriber],
    fields: list[FieldSetting],
) -> set[int]:
    """Start the flow for all of `ready` at once; should any fail, undo that and start them one
    by one, each in its own savepoint. Answers the ids of those whose flow failed."""
    if not ready:
        return set()
    try:
        async with session.begin_nested():
            for subscriber in ready:
                await _set_user_fields(session, subscriber, fields)
            await engine.start_many(
                session, ready, flow, origin=ORIGIN, key=f"{ORIGIN}:{broadcast.id}"
            )
        return set()
    except Exception:
        log.warning("A batch of broadcast recipients failed: starting them one by one")
    # The rollback expired what the batch loaded: read the recipients afresh.
    again = await session.scalars(
        select(Subscriber)
        .where(Subscriber.id.in_([s.id for s in ready]))
        .order_by(Subscriber.id)
        .execution_options(populate_existing=True)
    )
    failed: set[int] = set()
    for subscriber in again:
        subscriber_id = subscriber.id
        try:
            # Whatever the flow did so far is undone with the savepoint when it fails.
            async with session.begin_nested():
                await _set_user_fields(session, subscriber, fields)
                await engine.start(session, subscriber, flow, origin=ORIGIN)
        except Exception:  # one recipient's failure must not hold up the others
            log.exception("Broadcast flow %s failed for subscriber %s", flow.id, subscriber_id)
            failed.add(subscriber_id)
    return failed


async def _user_field_settings(session: AsyncSession, broadcast: Broadcast) -> list[FieldSetting]:
    """The broadcast's user field settings whose fields still exist."""
    wanted = [FieldSetting(s["var_ns"], s["value"]) for s in broadcast.user_fields]
    if not wanted:
        return []
    existing = {
        format_ns(broadcast.bot_id, Kind.FIELD, definition.number)
        for definition in await USER_FIELDS.all(session, broadcast.bot_id)
    }
    return [setting for setting in wanted if setting.var_ns in existing]


async def _set_user_fields(
    session: AsyncSession, subscriber: Subscriber, fields: list[FieldSetting]
) -> None:
    if not fields:
        return
    await attributes.set_fields(
        session,
        subscriber.bot_id,
        user_ns=format_ns(subscriber.bot_id, Kind.SUBSCRIBER, subscriber.number),
        fields=Pick.many("var_ns", [f.var_ns for f in fields]),
        values=[f.value for f in fields],
    )


# Who is in the audience


async def _audience(
    session: AsyncSession, broadcast: Broadcast, now: dt.datetime
) -> ColumnElement[bool]:
    audience = broadcast.audience
    if "subscriber_ids" in audience:
        return Subscriber.id.in_(audience["subscriber_ids"])
    if "tags" in audience:
        return _tagged(audience["tags"], audience.get("exclude_tags", []))
    return await _in_segments(session, broadcast.bot_id, audience.get("segments", []), now)


def _tagged(tag_ids: list[int], excluded: list[int]) -> ColumnElement[bool]:
    """Subscribers with any of `tag_ids` and none of `excluded`."""
    condition = exists().where(
        SubscriberTag.subscriber_id == Subscriber.id, SubscriberTag.tag_id.in_(tag_ids)
    )
    if not excluded:
        return condition
    return and_(
        condition,
        ~exists().where(
            SubscriberTag.subscriber_id == Subscriber.id, SubscriberTag.tag_id.in_(excluded)
        ),
    )


async def _in_segments(
    session: AsyncSession, bot_id: int, segment_ids: list[int], now: dt.datetime
) -> ColumnElement[bool]:
    """Subscribers matching any of the segments' filters as they are saved now; a segment
    deleted since, or naming a tag or field since deleted, matches nobody."""
    segments = await session.scalars(
        select(Segment).where(Segment.bot_id == bot_id, Segment.id.in_(segment_ids))
    )
    matching: list[ColumnElement[bool]] = []
    for segment in segments:
        try:
            wanted = filters.from_parameters(segment.conditions, path="conditions")
        except Invalid:
            continue
        search = await filters.prepare(session, [bot_id], [wanted], now)
        if search is not None:
            holds = [membership.holds for membership in search.memberships]
            matching.append(and_(true(), *search.checks, *holds))
    return or_(false(), *matching)


# Pacing


def _per_batch(broadcast: Broadcast) -> int:
    """A second's worth of recipients, and at least one."""
    return max(1, broadcast.max_per_minute // 60)


def _allowance(broadcast: Broadcast, now: dt.datetime) -> int:
    """How many recipients the broadcast may have reached by `now`."""
    started = broadcast.started_at or now
    elapsed = max(0.0, (now - started).total_seconds())
    # The tiny addition keeps a time exactly on a slot from rounding to just before it.
    paced = int(elapsed * broadcast.max_per_minute / 60 + 1e-9)
    return max(_per_batch(broadcast), paced)


def _next_slot(broadcast: Broadcast) -> dt.datetime:
    """When the pace allows the next batch."""
    started = broadcast.started_at or utcnow()
    seconds = (reached(broadcast) + _per_batch(broadcast)) * 60 / broadcast.max_per_minute
    return started + dt.timedelta(seconds=seconds)
