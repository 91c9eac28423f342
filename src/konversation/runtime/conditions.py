"""Deciding a condition node's branch: tags, user and bot fields, the channel and the time."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.flows import format as fmt
from konversation.flows.models import Tag
from konversation.ids import Kind, parse_ns
from konversation.runtime.templates import as_text, render
from konversation.subscribers.models import Subscriber, SubscriberTag

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Facts:
    """What conditions look at for one subscriber at one moment."""

    def __init__(
        self,
        session: AsyncSession,
        subscriber: Subscriber,
        variables: Mapping[str, Any],
        *,
        now: dt.datetime,
        timezone: str,
    ) -> None:
        self.session = session
        self.subscriber = subscriber
        self.variables = variables
        self.now = now
        self.timezone = timezone

    async def has_tag(self, tag_ns: str) -> bool:
        parsed = parse_ns(tag_ns, Kind.TAG)
        if parsed is None or parsed[0] != self.subscriber.bot_id:
            return False
        found = await self.session.scalar(
            select(SubscriberTag.tag_id)
            .join(Tag, Tag.id == SubscriberTag.tag_id)
            .where(
                SubscriberTag.subscriber_id == self.subscriber.id,
                Tag.bot_id == self.subscriber.bot_id,
                Tag.number == parsed[1],
            )
        )
        return found is not None


async def branch_taken(branch: fmt.Branch, facts: Facts) -> bool:
    results = [await holds(condition, facts) for condition in branch.conditions]
    return all(results) if branch.match == "all" else any(results)


async def holds(condition: Any, facts: Facts) -> bool:
    if isinstance(condition, fmt.TagCondition):
        has = await facts.has_tag(condition.subject.tag_ns)
        return has if condition.operator == "has" else not has
    if isinstance(condition, (fmt.FieldCondition, fmt.BotFieldCondition)):
        value = facts.variables.get(condition.subject.var_ns)
        expected = condition.value
        if isinstance(expected, str):
            expected = render(expected, facts.variables)
        return compare(condition.operator, value, expected)
    if isinstance(condition, fmt.ChannelCondition):
        same = facts.subscriber.last_channel == condition.value
        return same if condition.operator == "eq" else not same
    if isinstance(condition, fmt.TimeCondition):
        return _time_holds(condition, facts)
    raise TypeError(f"Unknown condition {type(condition).__name__}")


def compare(operator: str, value: Any, expected: Any) -> bool:
    """A field's value against a condition's value; numbers compare as numbers, text without
    regard to case, a list holds when any of its items does."""
    if operator == "is_set":
        return value not in (None, "", [])
    if operator == "is_not_set":
        return value in (None, "", [])
    if isinstance(value, list) and operator not in ("neq", "not_contains"):
        return any(compare(operator, item, expected) for item in value)
    if isinstance(value, list):
        return all(compare(operator, item, expected) for item in value)
    if value is None:
        return operator in ("neq", "not_contains")
    left, right = _comparable(value), _comparable(expected)
    match operator:
        case "eq":
            return bool(left == right)
        case "neq":
            return bool(left != right)
        case "contains":
            return as_text(right).casefold() in as_text(left).casefold()
        case "not_contains":
            return as_text(right).casefold() not in as_text(left).casefold()
        case "starts_with":
            return as_text(left).casefold().startswith(as_text(right).casefold())
    if type(left) is not type(right):
        return False
    match operator:
        case "gt":
            return bool(left > right)
        case "gte":
            return bool(left >= right)
        case "lt":
            return bool(left < right)
        case "lte":
            return bool(left <= right)
    raise ValueError(f"Unknown operator {operator}")


def _comparable(value: Any) -> Any:
    """A number as a float (also when written as text), anything else as case-folded text."""
    if isinstance(value, bool):
        return as_text(value)
    if isinstance(value, (int, float)):
        return float(value)
    text = as_text(value).strip()
    try:
        return float(text)
    except ValueError:
        return text.casefold()


def _time_holds(condition: fmt.TimeCondition, facts: Facts) -> bool:
    local = facts.now.astimezone(_zone(condition.subject.timezone or facts.timezone))
    if condition.operator == "weekday_in":
        assert isinstance(condition.value, list)
        return WEEKDAYS[local.weekday()] in condition.value
    assert isinstance(condition.value, fmt.TimeRange)
    current = local.strftime("%H:%M")
    start, end = condition.value.start, condition.value.end
    if start < end:
        return start <= current < end
    return current >= start or current < end


def _zone(name: str) -> dt.tzinfo:
    """The time zone `name`; UTC when it names none (a workspace's zone is not checked), so
    that a condition decides rather than failing the subscriber's whole turn."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC
