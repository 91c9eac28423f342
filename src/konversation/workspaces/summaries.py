"""Daily usage figures of a workspace's bots, computed from subscribers and their messages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class Range(StrEnum):
    YESTERDAY = "yesterday"
    LAST_7_DAYS = "last_7_days"
    LAST_WEEK = "last_week"
    LAST_30_DAYS = "last_30_days"
    LAST_MONTH = "last_month"
    LAST_3_MONTHS = "last_3_months"


@dataclass(frozen=True)
class FlowDay:
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
