"""Daily usage figures of a workspace's bots, computed from subscribers and their messages.

Every figure is per UTC day. Counts come from grouped SQL (a handful of queries per request,
whatever the number of days, bots or agents); response times need each conversation in order,
so they come from one ordered pass over the relevant messages.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeGuard, TypeVar

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.conversations.models import Direction, Message
from konversation.db import utcnow
from konversation.errors import NotFound
from konversation.ids import bot_ns
from konversation.subscribers.models import ConversationStatus, Subscriber
from konversation.workspaces.models import Bot

K = TypeVar("K", bound=Hashable)


class Range(StrEnum):
    YESTERDAY = "yesterday"
    LAST_7_DAYS = "last_7_days"
    LAST_WEEK = "last_week"
    LAST_30_DAYS = "last_30_days"
    LAST_MONTH = "last_month"
    LAST_3_MONTHS = "last_3_months"


@dataclass(frozen=True)
class FlowDay:
    """One bot's figures for one UTC day; times are in seconds."""

    flow_ns: str
    summary_date: str
    total_bot_users: int
    day_active_bot_users: int
    day_new_bot_users: int
    day_total_messages: int
    day_in_messages: int
    day_out_messages: int
    day_agent_messages: int
    day_note_messages: int
    day_assigned: int
    day_done: int
    day_email_sent: int
    day_email_open: int
    avg_agent_response_time: int
    avg_resolve_time: int


@dataclass(frozen=True)
class AgentDay:
    """One agent's figures in one bot for one UTC day; times are in seconds."""

    flow_ns: str
    summary_date: str
    agent_id: int
    day_reply_bot_users: int
    day_agent_messages: int
    day_note_messages: int
    day_assigned: int
    day_done: int
    avg_agent_response_time: int
    avg_resolve_time: int


def days_of(range_: Range, today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day (inclusive) a range covers; every range ends before today."""
    yesterday = today - dt.timedelta(days=1)
    if range_ is Range.YESTERDAY:
        return yesterday, yesterday
    if range_ is Range.LAST_7_DAYS:
        return today - dt.timedelta(days=7), yesterday
    if range_ is Range.LAST_30_DAYS:
        return today - dt.timedelta(days=30), yesterday
    if range_ is Range.LAST_WEEK:
        monday = today - dt.timedelta(days=today.weekday() + 7)
        return monday, monday + dt.timedelta(days=6)
    first_of_month = today.replace(day=1)
    months = 1 if range_ is Range.LAST_MONTH else 3
    start = first_of_month
    for _ in range(months):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    return start, first_of_month - dt.timedelta(days=1)


async def flow_summary(
    session: AsyncSession,
    workspace_id: int,
    *,
    range_: Range,
    bot_id: int | None,
    today: dt.date | None = None,
) -> list[FlowDay]:
    """One row per bot and day of the range, by date then bot; days without activity are zeros."""
    bots = await _bots(session, workspace_id, bot_id)
    window = _Window.of(range_, today)
    facts = await _gather(session, bots, window)
    users_before = await _users_before(session, bots, window)
    active = await _active_users(session, bots, window)

    rows: list[FlowDay] = []
    running_total = dict(users_before)
    for day in window.dates():
        for bot in bots:
            key = (bot, day)
            running_total[bot] = running_total.get(bot, 0) + facts.new_users.get(key, 0)
            rows.append(_flow_day(facts, key, total=running_total[bot], active=active.get(key, 0)))
    return rows


async def agent_summary(
    session: AsyncSession,
    workspace_id: int,
    *,
    range_: Range,
    bot_id: int | None,
    today: dt.date | None = None,
) -> list[AgentDay]:
    """One row per bot, agent and day on which that agent did anything; by date, bot, agent."""
    bots = await _bots(session, workspace_id, bot_id)
    window = _Window.of(range_, today)
    facts = await _gather(session, bots, window)
    replied = await _replied_users(session, bots, window)

    keys: set[_AgentKey] = set(replied)
    for per_agent in (
        facts.agent_messages,
        facts.note_messages,
        facts.assigned,
        facts.done,
        facts.response_times.sums,
        facts.resolve_times.sums,
    ):
        keys.update(k for k in per_agent if _is_agent_key(k))
    ordered = sorted(keys, key=lambda k: (k[1], k[0], k[2]))
    return [_agent_day(facts, key, replied=replied.get(key, 0)) for key in ordered]


# --- Keys --------------------------------------------------------------------------------------
#
# Figures are stored under (bot, day) for the whole bot and (bot, day, agent) for one agent, in
# the same dictionaries: every grouped query feeds both summaries at once, so they always agree.

_BotKey = tuple[int, str]
_AgentKey = tuple[int, str, int]
_Key = _BotKey | _AgentKey


def _is_agent_key(key: _Key) -> TypeGuard[_AgentKey]:
    return len(key) == 3


@dataclass(frozen=True)
class _Window:
    """The range as UTC instants: `start` inclusive, `end` exclusive."""

    first: dt.date
    last: dt.date

    @classmethod
    def of(cls, range_: Range, today: dt.date | None) -> _Window:
        first, last = days_of(range_, today or utcnow().date())
        return cls(first, last)

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time(), tzinfo=dt.UTC)

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)

    def contains(self, column: Any) -> ColumnElement[bool]:
        condition: ColumnElement[bool] = (column >= self.start) & (column < self.end)
        return condition

    def dates(self) -> list[str]:
        count = (self.last - self.first).days + 1
        return [(self.first + dt.timedelta(days=n)).isoformat() for n in range(count)]


def _day(value: object) -> str:
    """`date()` answers a string on SQLite and a date on PostgreSQL; both become `YYYY-MM-DD`."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)[:10]


@dataclass
class _Means(Generic[K]):
    """Running sums and counts, so averages can be taken per bot and per agent alike."""

    sums: dict[K, float] = field(default_factory=lambda: defaultdict(float))
    counts: dict[K, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, keys: Iterable[K], seconds: float) -> None:
        for key in keys:
            self.sums[key] += seconds
            self.counts[key] += 1

    def mean(self, key: K) -> int:
        count = self.counts.get(key, 0)
        return round(self.sums.get(key, 0.0) / count) if count else 0


@dataclass
class _Facts:
    """Every figure both summaries share, under bot keys and agent keys (see above)."""

    new_users: dict[_Key, int] = field(default_factory=lambda: defaultdict(int))
    assigned: dict[_Key, int] = field(default_factory=lambda: defaultdict(int))
    done: dict[_Key, int] = field(default_factory=lambda: defaultdict(int))
    in_messages: dict[_Key, int] = field(default_factory=lambda: defaultdict(int))
    out_messages: dict[_Key, int] = field(default_factory=lambda: defaultdict(int))
    agent_messages: dict[_Key, int] = field(default_factory=lambda: defaultdict(int))
    note_messages: dict[_Key, int] = field(default_factory=lambda: defaultdict(int))
    response_times: _Means[_Key] = field(default_factory=_Means)
    resolve_times: _Means[_Key] = field(default_factory=_Means)


def _keys(bot: int, day: str, agent_id: int | None) -> list[_Key]:
    """The bot's key, and the agent's too when someone is responsible."""
    keys: list[_Key] = [(bot, day)]
    if agent_id is not None:
        keys.append((bot, day, agent_id))
    return keys


# --- Queries -----------------------------------------------------------------------------------


async def _bots(session: AsyncSession, workspace_id: int, bot_id: int | None) -> list[int]:
    query = select(Bot.id).where(Bot.workspace_id == workspace_id).order_by(Bot.id)
    if bot_id is not None:
        query = query.where(Bot.id == bot_id)
    bots = list(await session.scalars(query))
    if bot_id is not None and not bots:
        # Another workspace's bot is as unknown to this key as a bot that never existed.
        raise NotFound("Flow not found")
    return bots


async def _gather(session: AsyncSession, bots: list[int], window: _Window) -> _Facts:
    facts = _Facts()
    await _count_new_users(session, bots, window, facts)
    await _count_messages(session, bots, window, facts)
    await _time_responses(session, bots, window, facts)
    await _time_resolutions(session, bots, window, facts)
    return facts


async def _count_new_users(
    session: AsyncSession, bots: list[int], window: _Window, facts: _Facts
) -> None:
    """New, assigned and done subscribers, by the day they were created and their agent."""
    day = func.date(Subscriber.created_at)
    is_done = Subscriber.status == ConversationStatus.DONE.value
    rows = await session.execute(
        select(
            Subscriber.bot_id,
            day,
            Subscriber.assigned_agent_id,
            func.count(),
            func.count(case((is_done, 1))),
        )
        .where(Subscriber.bot_id.in_(bots), window.contains(Subscriber.created_at))
        .group_by(Subscriber.bot_id, day, Subscriber.assigned_agent_id)
    )
    for bot, raw_day, agent_id, created, done in rows:
        for key in _keys(bot, _day(raw_day), agent_id):
            facts.new_users[key] += created
            facts.done[key] += done
            if agent_id is not None:
                facts.assigned[key] += created


async def _count_messages(
    session: AsyncSession, bots: list[int], window: _Window, facts: _Facts
) -> None:
    """Messages by day, direction and (for agent replies and notes) their author."""
    day = func.date(Message.created_at)
    rows = await session.execute(
        select(Message.bot_id, day, Message.direction, Message.agent_id, func.count())
        .where(Message.bot_id.in_(bots), window.contains(Message.created_at))
        .group_by(Message.bot_id, day, Message.direction, Message.agent_id)
    )
    by_direction = {
        Direction.IN.value: facts.in_messages,
        Direction.OUT.value: facts.out_messages,
        Direction.AGENT.value: facts.agent_messages,
        Direction.NOTE.value: facts.note_messages,
    }
    for bot, raw_day, direction, agent_id, count in rows:
        counts = by_direction.get(direction)
        if counts is None:  # system messages are nobody's work and no one's conversation
            continue
        # Only replies and notes are an agent's own work; an agent id elsewhere is incidental.
        author = agent_id if direction in {Direction.AGENT, Direction.NOTE} else None
        for key in _keys(bot, _day(raw_day), author):
            counts[key] += count


async def _time_responses(
    session: AsyncSession, bots: list[int], window: _Window, facts: _Facts
) -> None:
    """Seconds from the earliest incoming message an agent had not yet answered to the reply.

    A subscriber's incoming messages stay unanswered until an agent replies; bot replies do not
    count, since the wait measured is for a person. Agent messages with nothing pending (a second
    reply in a row, or an agent writing first) are not responses and are left out of the mean.
    The waiting may have started before the range, so earlier messages are read too, but only
    those of subscribers an agent replied to within the range.
    """
    replied_to = (
        select(Message.subscriber_id)
        .where(
            Message.bot_id.in_(bots),
            Message.direction == Direction.AGENT.value,
            window.contains(Message.created_at),
        )
        .distinct()
    )
    rows = await session.execute(
        select(
            Message.subscriber_id,
            Message.bot_id,
            Message.direction,
            Message.agent_id,
            Message.created_at,
        )
        .where(
            Message.subscriber_id.in_(replied_to),
            Message.direction.in_([Direction.IN.value, Direction.AGENT.value]),
            Message.created_at < window.end,
        )
        .order_by(Message.subscriber_id, Message.created_at, Message.id)
    )
    current: int | None = None
    waiting_since: dt.datetime | None = None
    for subscriber_id, bot, direction, agent_id, at in rows:
        if subscriber_id != current:
            current, waiting_since = subscriber_id, None
        if direction == Direction.IN:
            waiting_since = waiting_since or at
            continue
        if waiting_since is not None and at >= window.start:
            seconds = (at - waiting_since).total_seconds()
            facts.response_times.add(_keys(bot, at.date().isoformat(), agent_id), seconds)
        waiting_since = None


async def _time_resolutions(
    session: AsyncSession, bots: list[int], window: _Window, facts: _Facts
) -> None:
    """Seconds from creation to resolution, on the day of resolution, for the assigned agent."""
    rows = await session.execute(
        select(
            Subscriber.bot_id,
            Subscriber.assigned_agent_id,
            Subscriber.created_at,
            Subscriber.done_at,
        ).where(Subscriber.bot_id.in_(bots), window.contains(Subscriber.done_at))
    )
    for bot, agent_id, created_at, done_at in rows:
        assert done_at is not None  # the window condition excludes NULL
        # Imported subscribers may carry a creation time later than their resolution.
        seconds = max(0.0, (done_at - created_at).total_seconds())
        facts.resolve_times.add(_keys(bot, done_at.date().isoformat(), agent_id), seconds)


async def _users_before(session: AsyncSession, bots: list[int], window: _Window) -> dict[int, int]:
    """Each bot's subscribers created before the range, where the running total starts."""
    rows = await session.execute(
        select(Subscriber.bot_id, func.count())
        .where(Subscriber.bot_id.in_(bots), Subscriber.created_at < window.start)
        .group_by(Subscriber.bot_id)
    )
    return {bot: count for bot, count in rows}


async def _active_users(
    session: AsyncSession, bots: list[int], window: _Window
) -> dict[_BotKey, int]:
    """Distinct subscribers who wrote in, per bot and day."""
    return await _distinct_subscribers(session, bots, window, Direction.IN, by_agent=False)


async def _replied_users(
    session: AsyncSession, bots: list[int], window: _Window
) -> dict[_AgentKey, int]:
    """Distinct subscribers each agent replied to, per bot and day."""
    return await _distinct_subscribers(session, bots, window, Direction.AGENT, by_agent=True)


async def _distinct_subscribers(
    session: AsyncSession, bots: list[int], window: _Window, direction: Direction, *, by_agent: bool
) -> dict[Any, int]:
    day = func.date(Message.created_at)
    group = [Message.bot_id, day, *([Message.agent_id] if by_agent else [])]
    query = (
        select(*group, func.count(Message.subscriber_id.distinct()))
        .where(
            Message.bot_id.in_(bots),
            Message.direction == direction.value,
            window.contains(Message.created_at),
        )
        .group_by(*group)
    )
    if by_agent:
        query = query.where(Message.agent_id.is_not(None))
    counts: dict[Any, int] = {}
    for row in await session.execute(query):
        bot, raw_day, *agent, count = row
        counts[(bot, _day(raw_day), *agent)] = count
    return counts


# --- Rows --------------------------------------------------------------------------------------


def _flow_day(facts: _Facts, key: _BotKey, *, total: int, active: int) -> FlowDay:
    bot, day = key
    in_, out, agent = facts.in_messages, facts.out_messages, facts.agent_messages
    return FlowDay(
        flow_ns=bot_ns(bot),
        summary_date=day,
        total_bot_users=total,
        day_active_bot_users=active,
        day_new_bot_users=facts.new_users.get(key, 0),
        # Notes are private to the team, not part of the conversation: reported on their own.
        day_total_messages=in_.get(key, 0) + out.get(key, 0) + agent.get(key, 0),
        day_in_messages=in_.get(key, 0),
        day_out_messages=out.get(key, 0),
        day_agent_messages=agent.get(key, 0),
        day_note_messages=facts.note_messages.get(key, 0),
        day_assigned=facts.assigned.get(key, 0),
        day_done=facts.done.get(key, 0),
        # There is no email channel yet, so nothing is ever sent or opened by email.
        day_email_sent=0,
        day_email_open=0,
        avg_agent_response_time=facts.response_times.mean(key),
        avg_resolve_time=facts.resolve_times.mean(key),
    )


def _agent_day(facts: _Facts, key: _AgentKey, *, replied: int) -> AgentDay:
    bot, day, agent_id = key
    return AgentDay(
        flow_ns=bot_ns(bot),
        summary_date=day,
        agent_id=agent_id,
        day_reply_bot_users=replied,
        day_agent_messages=facts.agent_messages.get(key, 0),
        day_note_messages=facts.note_messages.get(key, 0),
        day_assigned=facts.assigned.get(key, 0),
        day_done=facts.done.get(key, 0),
        avg_agent_response_time=facts.response_times.mean(key),
        avg_resolve_time=facts.resolve_times.mean(key),
    )
