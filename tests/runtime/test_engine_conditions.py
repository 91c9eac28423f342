"""The flow engine's condition node: tags, user and bot fields with each operator, the channel,
the time of day and the weekday in a time zone, any/all, and the else branch."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from engine_helpers import Bench, bench_fixture, doc, say  # noqa: F401

from konversation.channels.models import ChannelType
from konversation.flows.models import FieldScope
from konversation.runtime.conditions import WEEKDAYS


def branch(branch_id: str, *conditions: dict[str, Any], match: str = "all") -> dict[str, Any]:
    return {"id": branch_id, "match": match, "conditions": list(conditions), "next": branch_id}


async def decide(bench: Bench, subscriber_id: int, *branches: dict[str, Any]) -> str:
    """Runs a condition node of `branches` for the subscriber: the branch taken, or "else"."""
    names = [b["id"] for b in branches]
    flow = await bench.flow(
        doc(
            {"id": "check", "type": "condition", "branches": list(branches), "else": "else"},
            *(say(name, name) for name in [*names, "else"]),
        )
    )
    before = len(await bench.texts(subscriber_id))
    await bench.start(subscriber_id, flow)
    [taken] = (await bench.texts(subscriber_id))[before:]
    return taken


def tag_is(tag_ns: str, operator: str) -> dict[str, Any]:
    return {"subject": {"type": "tag", "tag_ns": tag_ns}, "operator": operator}


def field_is(var_ns: str, operator: str, value: Any = None, *, bot: bool = False) -> dict[str, Any]:
    condition: dict[str, Any] = {
        "subject": {"type": "bot_field" if bot else "field", "var_ns": var_ns},
        "operator": operator,
    }
    if value is not None:
        condition["value"] = value
    return condition


def time_is(operator: str, value: Any, zone: str | None = None) -> dict[str, Any]:
    subject: dict[str, Any] = {"type": "time"}
    if zone is not None:
        subject["timezone"] = zone
    return {"subject": subject, "operator": operator, "value": value}


async def test_tags_decide_with_has_and_has_not(bench: Bench) -> None:
    vip, lead = await bench.tag("VIP"), await bench.tag("Lead")
    sub = await bench.inbound("hello")
    await bench.add_tag(sub, vip)

    assert (
        await decide(
            bench, sub, branch("lead", tag_is(lead, "has")), branch("vip", tag_is(vip, "has"))
        )
        == "vip"
    )
    assert await decide(bench, sub, branch("no-lead", tag_is(lead, "has_not"))) == "no-lead"
    assert await decide(bench, sub, branch("no-vip", tag_is(vip, "has_not"))) == "else"


FIELD_CASES: list[tuple[str, Any, str, Any, bool]] = [
    ("text", "Gold", "eq", "gold", True),
    ("text", "Gold", "eq", "silver", False),
    ("text", "Gold", "neq", "silver", True),
    ("text", "Gold", "neq", "GOLD", False),
    ("number", 10, "gt", 9, True),
    ("number", 10, "gt", 10, False),
    ("number", 10, "gte", 10, True),
    ("number", 10, "lt", "11", True),
    ("number", 10, "lt", 2, False),
    ("number", 10, "lte", 10, True),
    ("number", 2.5, "eq", "2.50", True),
    ("text", "Premium plan", "contains", "PLAN", True),
    ("text", "Premium plan", "contains", "basic", False),
    ("text", "Premium plan", "not_contains", "basic", True),
    ("text", "Premium plan", "starts_with", "prem", True),
    ("text", "Premium plan", "starts_with", "plan", False),
    ("text", "Gold", "is_set", None, True),
    ("text", None, "is_set", None, False),
    ("text", None, "is_not_set", None, True),
    ("text", None, "eq", "Gold", False),
    ("text", None, "neq", "Gold", True),
    ("boolean", True, "eq", True, True),
    ("boolean", False, "eq", "true", False),
    ("date", "2030-01-31", "gt", "2030-01-30", True),
    ("array", ["red", "blue"], "eq", "blue", True),
    ("array", ["red", "blue"], "neq", "green", True),
    ("array", ["red", "blue"], "neq", "red", False),
]


async def test_user_field_operators(bench: Bench) -> None:
    """Each case is (field type, stored value or None, operator, condition value, holds)."""
    sub = await bench.inbound("hello")
    decided: list[tuple[Any, str, Any, bool]] = []
    for index, (var_type, stored, operator, value, _holds) in enumerate(FIELD_CASES):
        field = await bench.field(f"Field {index}", var_type)
        if stored is not None:
            await bench.set_field(sub, field, stored)
        taken = await decide(bench, sub, branch("yes", field_is(field, operator, value)))
        decided.append((stored, operator, value, taken == "yes"))

    assert decided == [(stored, op, value, holds) for _, stored, op, value, holds in FIELD_CASES]


async def test_a_condition_value_may_be_a_template(bench: Bench) -> None:
    wanted, got = await bench.field("Wanted"), await bench.field("Got")
    sub = await bench.inbound("hello")
    await bench.set_field(sub, wanted, "Blue")
    await bench.set_field(sub, got, "blue")

    assert await decide(bench, sub, branch("same", field_is(got, "eq", "{{wanted}}"))) == "same"


async def test_bot_fields_decide(bench: Bench) -> None:
    open_ = await bench.field("Open", "boolean", scope=FieldScope.BOT, value=True)
    seats = await bench.field("Seats", "number", scope=FieldScope.BOT, value=3)
    sub = await bench.inbound("hello")

    assert (
        await decide(
            bench,
            sub,
            branch("full", field_is(seats, "lt", 1, bot=True)),
            branch(
                "open", field_is(open_, "eq", True, bot=True), field_is(seats, "gte", 3, bot=True)
            ),
        )
        == "open"
    )


async def test_the_channel_decides(bench: Bench) -> None:
    on_web = await bench.inbound("hello", user="w", channel=ChannelType.WEB)
    on_telegram = await bench.inbound("hello", user="t", channel=ChannelType.TELEGRAM)
    web = {"subject": {"type": "channel"}, "operator": "eq", "value": "web"}
    not_telegram = {"subject": {"type": "channel"}, "operator": "neq", "value": "telegram"}

    assert await decide(bench, on_web, branch("web", web)) == "web"
    assert await decide(bench, on_telegram, branch("web", web)) == "else"
    assert await decide(bench, on_web, branch("not-tg", not_telegram)) == "not-tg"
    assert await decide(bench, on_telegram, branch("not-tg", not_telegram)) == "else"


def _hhmm(moment: dt.datetime) -> str:
    return moment.strftime("%H:%M")


async def test_time_between_reads_the_clock_in_the_subjects_time_zone(bench: Bench) -> None:
    sub = await bench.inbound("hello")
    hour = dt.timedelta(hours=1)
    for zone in ["Pacific/Kiritimati", "America/Los_Angeles", "UTC"]:
        local = dt.datetime.now(zoneinfo.ZoneInfo(zone))
        # Ranges around now and well away from it; one of them may span midnight.
        around = {"start": _hhmm(local - hour), "end": _hhmm(local + hour)}
        later = {"start": _hhmm(local + 2 * hour), "end": _hhmm(local + 3 * hour)}

        assert await decide(bench, sub, branch("now", time_is("between", around, zone))) == "now"
        assert await decide(bench, sub, branch("no", time_is("between", later, zone))) == "else"


async def test_time_without_a_zone_is_read_in_the_workspace_time_zone(bench: Bench) -> None:
    zone = "Pacific/Kiritimati"  # 14 hours ahead of UTC, so it differs from UTC most of the day
    await bench.set_time_zone(zone)
    sub = await bench.inbound("hello")
    local = dt.datetime.now(zoneinfo.ZoneInfo(zone))
    hour = dt.timedelta(hours=1)
    around = {"start": _hhmm(local - hour), "end": _hhmm(local + hour)}

    assert await decide(bench, sub, branch("now", time_is("between", around))) == "now"


async def test_weekday_in_reads_the_day_in_the_time_zone(bench: Bench) -> None:
    zone = "Asia/Tokyo"
    sub = await bench.inbound("hello")
    today = dt.datetime.now(zoneinfo.ZoneInfo(zone)).weekday()
    # Today and tomorrow both count, so a test run across midnight decides the same way.
    soon = [WEEKDAYS[today], WEEKDAYS[(today + 1) % 7]]
    other_days = [day for day in WEEKDAYS if day not in soon]

    assert await decide(bench, sub, branch("soon", time_is("weekday_in", soon, zone))) == "soon"
    assert (
        await decide(bench, sub, branch("other", time_is("weekday_in", other_days, zone))) == "else"
    )


async def test_all_needs_every_condition_and_any_needs_one(bench: Bench) -> None:
    vip, lead = await bench.tag("VIP"), await bench.tag("Lead")
    sub = await bench.inbound("hello")
    await bench.add_tag(sub, vip)
    both = (tag_is(vip, "has"), tag_is(lead, "has"))

    assert await decide(bench, sub, branch("all", *both, match="all")) == "else"
    assert await decide(bench, sub, branch("any", *both, match="any")) == "any"
    assert (
        await decide(bench, sub, branch("all", *both), branch("any", *both, match="any")) == "any"
    )


async def test_the_first_branch_that_holds_wins_and_else_may_end_the_flow(bench: Bench) -> None:
    vip = await bench.tag("VIP")
    sub = await bench.inbound("hello")
    await bench.add_tag(sub, vip)
    assert (
        await decide(
            bench, sub, branch("one", tag_is(vip, "has")), branch("two", tag_is(vip, "has"))
        )
        == "one"
    )

    flow = await bench.flow(
        doc(
            {
                "id": "check",
                "type": "condition",
                "branches": [branch("no", tag_is(vip, "has_not"))],
                "else": None,
            },
            say("no", "no"),
        )
    )
    run = await bench.start(sub, flow)
    assert (await bench.run(run)).status == "done"
    assert await bench.texts(sub) == ["one"]


async def test_an_unknown_workspace_time_zone_reads_the_clock_in_utc(bench: Bench) -> None:
    await bench.set_time_zone("Mars/Olympus_Mons")
    sub = await bench.inbound("hello")
    now = dt.datetime.now(dt.UTC)
    hour = dt.timedelta(hours=1)
    around = {"start": _hhmm(now - hour), "end": _hhmm(now + hour)}

    assert await decide(bench, sub, branch("now", time_is("between", around))) == "now"
