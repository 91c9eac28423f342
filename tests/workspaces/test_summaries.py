"""Daily usage figures: which days a range covers and how each figure is computed.

The service is called with a fixed `today` (Wednesday 2026-03-04), so every day is explicit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from builders import Tenant, make_bot, make_member, make_message, make_subscriber, make_tenant
from konversation.errors import NotFound
from konversation.workspaces.models import Role
from konversation.workspaces.summaries import Range, agent_summary, days_of, flow_summary

TODAY = dt.date(2026, 3, 4)  # a Wednesday
YESTERDAY = "2026-03-03"


def at(day: str, time: str = "12:00:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}+00:00")


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


async def flow_rows(
    session: AsyncSession,
    tenant: Tenant,
    range_: Range = Range.YESTERDAY,
    bot_id: int | None = None,
) -> list[dict[str, Any]]:
    days = await flow_summary(
        session, tenant.workspace_id, range_=range_, bot_id=bot_id, today=TODAY
    )
    return [dataclasses.asdict(day) for day in days]


async def agent_rows(
    session: AsyncSession,
    tenant: Tenant,
    range_: Range = Range.YESTERDAY,
    bot_id: int | None = None,
) -> list[dict[str, Any]]:
    days = await agent_summary(
        session, tenant.workspace_id, range_=range_, bot_id=bot_id, today=TODAY
    )
    return [dataclasses.asdict(day) for day in days]


@contextmanager
def counting_queries(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


class TestDaysOf:
    def test_yesterday_is_the_single_day_before_today(self) -> None:
        assert days_of(Range.YESTERDAY, TODAY) == (d("2026-03-03"), d("2026-03-03"))

    def test_last_7_days_are_the_seven_days_before_today(self) -> None:
        assert days_of(Range.LAST_7_DAYS, TODAY) == (d("2026-02-25"), d("2026-03-03"))

    def test_last_30_days_are_the_thirty_days_before_today(self) -> None:
        assert days_of(Range.LAST_30_DAYS, TODAY) == (d("2026-02-02"), d("2026-03-03"))

    def test_last_week_is_the_previous_monday_to_sunday(self) -> None:
        assert days_of(Range.LAST_WEEK, TODAY) == (d("2026-02-23"), d("2026-03-01"))

    def test_last_week_on_a_monday_is_the_week_just_ended(self) -> None:
        assert days_of(Range.LAST_WEEK, d("2026-01-05")) == (d("2025-12-29"), d("2026-01-04"))

    def test_last_month_is_the_previous_calendar_month(self) -> None:
        assert days_of(Range.LAST_MONTH, TODAY) == (d("2026-02-01"), d("2026-02-28"))

    def test_last_month_crosses_the_year_boundary(self) -> None:
        assert days_of(Range.LAST_MONTH, d("2026-01-15")) == (d("2025-12-01"), d("2025-12-31"))

    def test_last_3_months_are_the_three_previous_calendar_months(self) -> None:
        assert days_of(Range.LAST_3_MONTHS, TODAY) == (d("2025-12-01"), d("2026-02-28"))

    def test_last_month_on_the_first_of_a_month(self) -> None:
        assert days_of(Range.LAST_MONTH, d("2024-03-01")) == (d("2024-02-01"), d("2024-02-29"))

    @pytest.mark.parametrize("range_", list(Range))
    def test_every_range_ends_before_today(self, range_: Range) -> None:
        first, last = days_of(range_, TODAY)
        assert first <= last < TODAY


class TestFlowSummary:
    async def test_one_row_per_bot_and_day_ordered_by_date_then_bot(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        other_bot = await make_bot(session, tenant.workspace_id, name="Second bot")

        rows = await flow_rows(session, tenant, Range.LAST_7_DAYS)

        days = [f"2026-02-{n}" for n in (25, 26, 27, 28)] + [f"2026-03-0{n}" for n in (1, 2, 3)]
        assert [(r["summary_date"], r["flow_ns"]) for r in rows] == [
            (day, ns) for day in days for ns in (tenant.flow_ns, f"f{other_bot}")
        ]

    async def test_a_day_without_activity_is_all_zeros(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        rows = await flow_rows(session, tenant)

        assert rows == [
            {
                "flow_ns": tenant.flow_ns,
                "summary_date": YESTERDAY,
                "total_bot_users": 0,
                "day_active_bot_users": 0,
                "day_new_bot_users": 0,
                "day_total_messages": 0,
                "day_in_messages": 0,
                "day_out_messages": 0,
                "day_agent_messages": 0,
                "day_note_messages": 0,
                "day_assigned": 0,
                "day_done": 0,
                "day_email_sent": 0,
                "day_email_open": 0,
                "avg_agent_response_time": 0,
                "avg_resolve_time": 0,
            }
        ]

    async def test_total_bot_users_counts_everyone_created_before_the_day_ends(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_subscriber(session, tenant.bot_id, created_at=at("2026-01-10"))
        await make_subscriber(session, tenant.bot_id, created_at=at("2026-02-26", "00:00:00"))
        await make_subscriber(session, tenant.bot_id, created_at=at("2026-02-28", "23:59:59"))
        await make_subscriber(session, tenant.bot_id, created_at=at("2026-02-28", "08:00:00"))
        await make_subscriber(session, tenant.bot_id, created_at=at("2026-03-04", "00:00:00"))

        rows = await flow_rows(session, tenant, Range.LAST_7_DAYS)

        assert [
            (r["summary_date"], r["total_bot_users"], r["day_new_bot_users"]) for r in rows
        ] == [
            ("2026-02-25", 1, 0),
            ("2026-02-26", 2, 1),
            ("2026-02-27", 2, 0),
            ("2026-02-28", 4, 2),
            ("2026-03-01", 4, 0),
            ("2026-03-02", 4, 0),
            ("2026-03-03", 4, 0),
        ]

    async def test_assigned_and_done_count_subscribers_created_that_day(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        agent = await make_member(session, tenant, name="Alice Agent", role=Role.AGENT)
        created = at(YESTERDAY, "09:00:00")
        await make_subscriber(session, tenant.bot_id, created_at=created, assigned_agent_id=agent)
        await make_subscriber(
            session,
            tenant.bot_id,
            created_at=created,
            assigned_agent_id=agent,
            status="done",
            done_at=at(YESTERDAY, "10:00:00"),
        )
        await make_subscriber(session, tenant.bot_id, created_at=created, status="done")
        await make_subscriber(session, tenant.bot_id, created_at=created)
        # Created before the range: neither new, nor assigned, nor done that day.
        await make_subscriber(
            session,
            tenant.bot_id,
            created_at=at("2026-03-01"),
            assigned_agent_id=agent,
            status="done",
        )

        (row,) = await flow_rows(session, tenant)

        assert row["day_new_bot_users"] == 4
        assert row["day_assigned"] == 2
        assert row["day_done"] == 2
        assert row["total_bot_users"] == 5

    async def test_messages_are_counted_by_direction_with_notes_apart(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        agent = await make_member(session, tenant, name="Alice Agent", role=Role.AGENT)
        person = await make_subscriber(session, tenant.bot_id, created_at=at("2026-01-01"))
        for direction, count in (("in", 3), ("out", 4), ("agent", 2), ("note", 1), ("system", 5)):
            for n in range(count):
                await make_message(
                    session,
                    person,
                    direction=direction,
                    at=at(YESTERDAY, f"10:0{n}:00"),
                    agent_id=agent if direction in {"agent", "note"} else None,
                )

        (row,) = await flow_rows(session, tenant)

        assert row["day_in_messages"] == 3
        assert row["day_out_messages"] == 4
        assert row["day_agent_messages"] == 2
        assert row["day_note_messages"] == 1
        assert row["day_total_messages"] == 9

    async def test_active_users_are_distinct_subscribers_who_wrote_in(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        chatty = await make_subscriber(session, tenant.bot_id, created_at=at("2026-01-01"))
        quiet = await make_subscriber(session, tenant.bot_id, created_at=at("2026-01-01"))
        for minute in range(3):
            await make_message(
                session, chatty, direction="in", at=at(YESTERDAY, f"10:0{minute}:00")
            )
        await make_message(session, quiet, direction="out", at=at(YESTERDAY))

        (row,) = await flow_rows(session, tenant)

        assert row["day_active_bot_users"] == 1

    async def test_days_are_utc_days(self, session: AsyncSession, tenant: Tenant) -> None:
        person = await make_subscriber(session, tenant.bot_id, created_at=at("2026-01-01"))
        plus_ten = dt.timezone(dt.timedelta(hours=10))
        # 2026-03-04 08:00 in UTC+10 is 2026-03-03 22:00 UTC: yesterday.
        await make_message(
            session, person, direction="in", at=dt.datetime(2026, 3, 4, 8, tzinfo=plus_ten)
        )
        await make_message(session, person, direction="in", at=at(YESTERDAY, "00:00:00"))
        await make_message(session, person, direction="in", at=at(YESTERDAY, "23:59:59"))
        await make_message(session, person, direction="in", at=at("2026-03-02", "23:59:59"))
        await make_message(session, person, direction="in", at=at("2026-03-04", "00:00:00"))

        (row,) = await flow_rows(session, tenant)

        assert row["day_in_messages"] == 3

    async def test_response_time_runs_from_the_earliest_unanswered_message(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        agent = await make_member(session, tenant, name="Alice Agent", role=Role.AGENT)
        person = await make_subscriber(session, tenant.bot_id, created_at=at("2026-01-01"))
        await make_message(session, person, direction="in", at=at(YESTERDAY, "10:00:00"))
        await make_message(session, person, direction="in", at=at(YESTERDAY, "10:00:30"))
        # The bot answering does not end the wait for a person.
        await make_message(session, person, direction="out", at=at(YESTERDAY, "10:00:31"))
        await make_message(
            session, person, direction="agent", at=at(YESTERDAY, "10:02:00"), agent_id=agent
        )

        (row,) = await flow_rows(session, tenant)

        assert row["avg_agent_response_time"] == 120

    async def test_response_time_is_the_mean_over_replies(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        agent = await make_member(session, tenant, name="Alice Agent", role=Role.AGENT)
        person = await make_subscriber(session, tenant.bot_id, created_at=at("2026-01-01"))
        await make_message(session, person, direction="in", at=at(YESTERDAY, "10:00:00"))
        await make_message(
            session, person, direction="agent", at=at(YESTERDAY, "10:01:40"), agent_id=agent
        )
        # A second reply in a row answers nothing and is left out of the mean.
        await make_message(
            session, person, direction="agent", at=at(YESTERDAY, "10:30:00"), agent_id=agent
        )
        await make_message(session, person, direction="in", at=at(YESTERDAY, "11:00:00"))
        await make_message(
            session, person, direction="agent", at=at(YESTERDAY, "11:05:00"), agent_id=agent
        )

        (row,) = await flow_rows(session, tenant)

        assert row["avg_agent_response_time"] == 200  # (100 + 300) / 2

    async def test_a_wait_that_began_before_the_range_counts_on_the_reply_day(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        agent = await make_member(session, tenant, name="Alice Agent", role=Role.AGENT)
        person = await make_subscriber(session, tenant.bot_id, created_at=at("2026-01-01"))
        await make_message(session, person, direction="in", at=at("2026-03-02", "23:50:00"))
        await make_message(
            session, person, direction="agent", at=at(YESTERDAY, "00:10:00"), agent_id=agent
        )

        (row,) = await flow_rows(session, tenant)

        assert row["avg_agent_response_time"] == 1200

    async def test_replies_after_the_range_are_not_counted(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        agent = await make_member(session, tenant, name="Alice Agent", role=Role.AGENT)
        person = await make_subscriber(session, tenant.bot_id, created_at=at("2026-01-01"))
        await make_message(session, person, direction="in", at=at(YESTERDAY, "23:00:00"))
        await make_message(
            session, person, direction="agent", at=at("2026-03-04", "01:00:00"), agent_id=agent
        )

        (row,) = await flow_rows(session, tenant)

        assert row["avg_agent_response_time"] == 0

    async def test_resolve_time_is_averaged_on_the_day_of_resolution(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_subscriber(
            session,
            tenant.bot_id,
            created_at=at("2026-03-02", "12:00:00"),
            status="done",
            done_at=at(YESTERDAY, "12:00:00"),
        )
        await make_subscriber(
            session,
            tenant.bot_id,
            created_at=at(YESTERDAY, "10:00:00"),
            status="done",
            done_at=at(YESTERDAY, "10:10:00"),
        )
        await make_subscriber(
            session,
            tenant.bot_id,
            created_at=at("2026-03-01"),
            status="done",
            done_at=at("2026-03-02"),
        )

        rows = await flow_rows(session, tenant, Range.LAST_7_DAYS)

        resolve = {r["summary_date"]: r["avg_resolve_time"] for r in rows}
        assert resolve[YESTERDAY] == (86_400 + 600) // 2
        assert resolve["2026-03-02"] == 86_400
        assert resolve["2026-03-01"] == 0

    async def test_only_the_named_bot_when_a_bot_is_given(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        other_bot = await make_bot(session, tenant.workspace_id, name="Second bot")
        await make_subscriber(session, other_bot, created_at=at(YESTERDAY))

        rows = await flow_rows(session, tenant, bot_id=other_bot)

        assert [(r["flow_ns"], r["day_new_bot_users"]) for r in rows] == [(f"f{other_bot}", 1)]

    async def test_another_workspace_is_never_counted(
        self,
        session: AsyncSession,
        sessions: async_sessionmaker[AsyncSession],
        server_secret: bytes,
        tenant: Tenant,
    ) -> None:
        stranger = await make_tenant(sessions, server_secret, email="stranger@example.com")
        person = await make_subscriber(session, stranger.bot_id, created_at=at(YESTERDAY))
        await make_message(session, person, direction="in", at=at(YESTERDAY))

        rows = await flow_rows(session, tenant)

        assert [r["flow_ns"] for r in rows] == [tenant.flow_ns]
        assert rows[0]["day_new_bot_users"] == 0
        assert rows[0]["day_in_messages"] == 0

    async def test_a_bot_of_another_workspace_is_not_found(
        self,
        session: AsyncSession,
        sessions: async_sessionmaker[AsyncSession],
        server_secret: bytes,
        tenant: Tenant,
    ) -> None:
        stranger = await make_tenant(sessions, server_secret, email="stranger@example.com")

        with pytest.raises(NotFound, match="Flow not found"):
            await flow_rows(session, tenant, bot_id=stranger.bot_id)

    async def test_an_unknown_bot_is_not_found(self, session: AsyncSession, tenant: Tenant) -> None:
        with pytest.raises(NotFound, match="Flow not found"):
            await flow_rows(session, tenant, bot_id=tenant.bot_id + 1000)

    async def test_today_defaults_to_the_current_utc_date(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        days = await flow_summary(session, tenant.workspace_id, range_=Range.YESTERDAY, bot_id=None)

        yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
        assert [day.summary_date for day in days] == [yesterday.isoformat()]

    async def test_the_number_of_queries_does_not_grow_with_days_or_bots(
        self, session: AsyncSession, engine: AsyncEngine, tenant: Tenant
    ) -> None:
        agent = await make_member(session, tenant, name="Alice Agent", role=Role.AGENT)
        person = await make_subscriber(session, tenant.bot_id, created_at=at("2026-01-01"))
        await make_message(session, person, direction="in", at=at(YESTERDAY, "10:00:00"))
        await make_message(
            session, person, direction="agent", at=at(YESTERDAY, "10:01:00"), agent_id=agent
        )
        with counting_queries(engine) as few:
            await flow_rows(session, tenant)
            await agent_rows(session, tenant)
        for n in range(3):
            bot = await make_bot(session, tenant.workspace_id, name=f"Bot {n}")
            person = await make_subscriber(session, bot, created_at=at("2026-02-10"))
            await make_message(session, person, direction="in", at=at("2026-02-11", "10:00:00"))
            await make_message(
                session, person, direction="agent", at=at("2026-02-12", "10:00:00"), agent_id=agent
            )

        with counting_queries(engine) as many:
            await flow_rows(session, tenant, Range.LAST_3_MONTHS)
            await agent_rows(session, tenant, Range.LAST_3_MONTHS)

        assert len(many) == len(few)


class TestAgentSummary:
    async def test_no_rows_when_no_agent_did_anything(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        person = await make_subscriber(session, tenant.bot_id, created_at=at(YESTERDAY))
        await make_message(session, person, direction="in", at=at(YESTERDAY))
        await make_message(session, person, direction="out", at=at(YESTERDAY))

        assert await agent_rows(session, tenant) == []

    async def test_one_row_per_bot_agent_and_active_day(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        alice = await make_member(session, tenant, name="Alice Agent", role=Role.AGENT)
        bob = await make_member(session, tenant, name="Bob Agent", role=Role.AGENT)
        other_bot = await make_bot(session, tenant.workspace_id, name="Second bot")
        here = await make_subscriber(session, tenant.bot_id, created_at=at("2026-01-01"))
        there = await make_subscriber(session, other_bot, created_at=at("2026-01-01"))
        await make_message(session, here, direction="agent", at=at("2026-03-01"), agent_id=bob)
        await make_message(session, here, direction="agent", at=at(YESTERDAY), agent_id=alice)
        await make_message(session, there, direction="note", at=at(YESTERDAY), agent_id=alice)
        await make_message(session, here, direction="agent", at=at(YESTERDAY), agent_id=bob)

        rows = await agent_rows(session, tenant, Range.LAST_7_DAYS)

        assert [(r["summary_date"], r["flow_ns"], r["agent_id"]) for r in rows] == [
            ("2026-03-01", tenant.flow_ns, bob),
            (YESTERDAY, tenant.flow_ns, alice),
            (YESTERDAY, tenant.flow_ns, bob),
            (YESTERDAY, f"f{other_bot}", alice),
        ]

    async def test_figures_are_the_agents_own(self, session: AsyncSession, tenant: Tenant) -> None:
        alice = await make_member(session, tenant, name="Alice Agent", role=Role.AGENT)
        bob = await make_member(session, tenant, name="Bob Agent", role=Role.AGENT)
        first = await make_subscriber(
            session,
            tenant.bot_id,
            created_at=at(YESTERDAY, "09:00:00"),
            assigned_agent_id=alice,
            status="done",
            done_at=at(YESTERDAY, "11:00:00"),
        )
        second = await make_subscriber(
            session, tenant.bot_id, created_at=at(YESTERDAY, "09:00:00"), assigned_agent_id=alice
        )
        third = await make_subscriber(
            session, tenant.bot_id, created_at=at(YESTERDAY, "09:00:00"), assigned_agent_id=bob
        )
        await make_message(session, first, direction="in", at=at(YESTERDAY, "09:00:00"))
        await make_message(
            session, first, direction="agent", at=at(YESTERDAY, "09:01:00"), agent_id=alice
        )
        await make_message(
            session, first, direction="agent", at=at(YESTERDAY, "09:02:00"), agent_id=alice
        )
        await make_message(session, second, direction="in", at=at(YESTERDAY, "09:00:00"))
        await make_message(
            session, second, direction="agent", at=at(YESTERDAY, "09:03:00"), agent_id=alice
        )
        await make_message(
            session, second, direction="note", at=at(YESTERDAY, "09:04:00"), agent_id=alice
        )
        await make_message(session, third, direction="in", at=at(YESTERDAY, "09:00:00"))
        await make_message(
            session, third, direction="agent", at=at(YESTERDAY, "09:10:00"), agent_id=bob
        )

        rows = {r["agent_id"]: r for r in await agent_rows(session, tenant)}

        assert rows[alice] == {
            "flow_ns": tenant.flow_ns,
            "summary_date": YESTERDAY,
            "agent_id": alice,
            "day_reply_bot_users": 2,
            "day_agent_messages": 3,
            "day_note_messages": 1,
            "day_assigned": 2,
            "day_done": 1,
            "avg_agent_response_time": 120,  # (60 + 180) / 2
            "avg_resolve_time": 7200,
        }
        assert rows[bob] == {
            "flow_ns": tenant.flow_ns,
            "summary_date": YESTERDAY,
            "agent_id": bob,
            "day_reply_bot_users": 1,
            "day_agent_messages": 1,
            "day_note_messages": 0,
            "day_assigned": 1,
            "day_done": 0,
            "avg_agent_response_time": 600,
            "avg_resolve_time": 0,
        }

    async def test_an_assignment_alone_gives_the_agent_a_row(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        alice = await make_member(session, tenant, name="Alice Agent", role=Role.AGENT)
        await make_subscriber(
            session, tenant.bot_id, created_at=at(YESTERDAY), assigned_agent_id=alice
        )

        rows = await agent_rows(session, tenant)

        assert [(r["agent_id"], r["day_assigned"], r["day_agent_messages"]) for r in rows] == [
            (alice, 1, 0)
        ]

    async def test_a_resolution_alone_gives_the_agent_a_row(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        alice = await make_member(session, tenant, name="Alice Agent", role=Role.AGENT)
        await make_subscriber(
            session,
            tenant.bot_id,
            created_at=at("2026-03-02", "12:00:00"),
            assigned_agent_id=alice,
            status="done",
            done_at=at(YESTERDAY, "12:00:00"),
        )

        rows = await agent_rows(session, tenant)

        assert [(r["agent_id"], r["avg_resolve_time"], r["day_done"]) for r in rows] == [
            (alice, 86_400, 0)
        ]

    async def test_messages_without_an_agent_belong_to_no_agent(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        person = await make_subscriber(session, tenant.bot_id, created_at=at("2026-01-01"))
        await make_message(session, person, direction="in", at=at(YESTERDAY, "10:00:00"))
        await make_message(session, person, direction="agent", at=at(YESTERDAY, "10:01:00"))

        assert await agent_rows(session, tenant) == []
        (flow,) = await flow_rows(session, tenant)
        assert flow["day_agent_messages"] == 1
        assert flow["avg_agent_response_time"] == 60

    async def test_a_bot_of_another_workspace_is_not_found(
        self,
        session: AsyncSession,
        sessions: async_sessionmaker[AsyncSession],
        server_secret: bytes,
        tenant: Tenant,
    ) -> None:
        stranger = await make_tenant(sessions, server_secret, email="stranger@example.com")

        with pytest.raises(NotFound, match="Flow not found"):
            await agent_rows(session, tenant, bot_id=stranger.bot_id)
