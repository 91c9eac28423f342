"""`GET /subscribers`: every filter, alone and together, in activity order, at any bot size."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from builders import Sessions, Tenant, make_field, make_subscriber, make_tag, make_tenant
from konversation.db import utcnow
from konversation.flows.models import FieldScope
from konversation.labels.service import create_label
from konversation.segments.service import create_segment
from konversation.subscribers import filters
from konversation.subscribers.filters import NARROW
from konversation.subscribers.models import Subscriber

NOW = utcnow()
HOUR = dt.timedelta(hours=1)


def _ns(subscriber: Subscriber) -> str:
    return f"f{subscriber.bot_id}u{subscriber.number}"


async def _search(api: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await api.get("/subscribers", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _names(api: httpx.AsyncClient, **params: Any) -> list[str]:
    return [s["name"] for s in (await _search(api, **params))["data"]]


async def _person(session: AsyncSession, tenant: Tenant, name: str, **columns: Any) -> str:
    return _ns(await make_subscriber(session, tenant.bot_id, name=name, **columns))


async def _tag(api: httpx.AsyncClient, user_ns: str, tag_ns: str) -> None:
    response = await api.post("/subscriber/add-tag", json={"user_ns": user_ns, "tag_ns": tag_ns})
    assert response.json() == {"status": "ok"}


async def _set(api: httpx.AsyncClient, user_ns: str, var_ns: str, value: Any) -> None:
    body = {"user_ns": user_ns, "var_ns": var_ns, "value": value}
    response = await api.put("/subscriber/set-user-field", json=body)
    assert response.json() == {"status": "ok"}


async def _log(api: httpx.AsyncClient, user_ns: str, event_name: str) -> None:
    body = {"user_ns": user_ns, "event_name": event_name}
    response = await api.post("/subscriber/log-custom-event", json=body)
    assert response.json() == {"status": "ok"}


class TestOrderAndPaging:
    async def test_most_recent_interaction_first(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await _person(session, tenant, "Old", last_interaction_at=NOW - 30 * HOUR)
        await _person(session, tenant, "Recent", last_interaction_at=NOW - HOUR)
        # Someone who never wrote sorts by when they arrived.
        await _person(session, tenant, "Silent", created_at=NOW - 2 * HOUR)
        assert await _names(api) == ["Recent", "Silent", "Old"]

    async def test_limit_is_honoured_exactly_with_an_honest_meta(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        for n in range(7):
            await _person(session, tenant, f"P{n}", last_interaction_at=NOW - n * HOUR)
        body = await _search(api, limit=3, page=3)
        assert [s["name"] for s in body["data"]] == ["P6"]
        assert body["meta"] == {
            "current_page": 3,
            "last_page": 3,
            "per_page": 3,
            "total": 7,
            "from": 7,
            "to": 7,
        }

    async def test_at_most_100_per_page(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await _person(session, tenant, "Only")
        assert (await _search(api, limit=500))["meta"]["per_page"] == 100

    async def test_the_total_follows_arrivals_and_departures(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        gone = await _person(session, tenant, "Gone")
        await _person(session, tenant, "Stays", status="done")
        await api.request("DELETE", "/subscriber/delete", json={"user_ns": gone})
        body = await _search(api)
        assert [s["name"] for s in body["data"]] == ["Stays"]
        assert body["meta"]["total"] == 1

    async def test_another_bots_subscribers_never_appear(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
        tenant: Tenant,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        await make_subscriber(session, other.bot_id, name="Theirs", phone="+61400000009")
        await _person(session, tenant, "Ours")
        assert await _names(api) == ["Ours"]
        assert await _names(api, phone="+61400000009") == []
        assert (await _search(api))["meta"]["total"] == 1

    async def test_stray_parameters_are_ignored(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await _person(session, tenant, "Ann")
        assert await _names(api, per_page=5, search="x", offset=3, start_id=9) == ["Ann"]


class TestContactFilters:
    async def test_name_matches_any_part_in_any_case(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await _person(session, tenant, "Sam Smith")
        await _person(session, tenant, "Ann Lee")
        assert await _names(api, name="SMI") == ["Sam Smith"]

    @pytest.mark.parametrize(
        "typed", ["+61400000001", "61400000001", "0400000001", "400 000 001", "+61 (400) 000-001"]
    )
    async def test_phone_matches_with_or_without_plus_and_country_code(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, typed: str
    ) -> None:
        await _person(session, tenant, "Sam", phone="+61400000001")
        await _person(session, tenant, "Ann", phone="+61400000002")
        body = await _search(api, phone=typed)
        assert [s["name"] for s in body["data"]] == ["Sam"]
        assert body["meta"]["total"] == 1

    async def test_a_short_phone_piece_matches_the_end_of_numbers(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await _person(session, tenant, "Sam", phone="+61400000001")
        await _person(session, tenant, "Ann", phone="+61400000992")
        assert await _names(api, phone="0001") == ["Sam"]

    async def test_email_whole_in_any_case_or_a_part(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await _person(session, tenant, "Sam", email="sam@example.com")
        await _person(session, tenant, "Ann", email="ann@elsewhere.org")
        assert await _names(api, email="SAM@Example.com") == ["Sam"]
        assert await _names(api, email="elsewhere") == ["Ann"]

    async def test_channel(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await _person(session, tenant, "Tg", channel="telegram")
        await _person(session, tenant, "Web", channel="web")
        assert await _names(api, is_channel="telegram") == ["Tg"]


class TestStateFilters:
    @pytest.mark.parametrize(
        ("parameter", "column"),
        [("is_opt_in_email", "opted_in_email_at"), ("is_opt_in_sms", "opted_in_sms_at")],
    )
    async def test_opt_ins(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        parameter: str,
        column: str,
    ) -> None:
        await _person(session, tenant, "In", **{column: NOW - 900 * HOUR})
        await _person(session, tenant, "Out")
        for yes, no in (("yes", "no"), ("true", "false")):
            assert await _names(api, **{parameter: yes}) == ["In"]
            assert await _names(api, **{parameter: no}) == ["Out"]

    @pytest.mark.parametrize(
        ("parameter", "column"),
        [
            ("is_interacted_in_last_24h", "last_interaction_at"),
            ("is_bot_interacted_in_last_24h", "last_bot_interaction_at"),
            ("is_last_message_in_last_24h", "last_message_at"),
        ],
    )
    async def test_the_last_24_hours(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        parameter: str,
        column: str,
    ) -> None:
        await _person(session, tenant, "Today", **{column: NOW - HOUR})
        await _person(session, tenant, "Last week", **{column: NOW - 170 * HOUR})
        await _person(session, tenant, "Never")
        assert await _names(api, **{parameter: "yes"}) == ["Today"]
        assert sorted(await _names(api, **{parameter: "no"})) == ["Last week", "Never"]

    async def test_a_flag_that_is_not_yes_or_no_answers_422(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/subscribers", params={"is_opt_in_email": "maybe"})
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "is_opt_in_email": ["The is_opt_in_email field must be yes or no."]
        }

    async def test_an_empty_flag_is_no_filter(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await _person(session, tenant, "Ann")
        assert await _names(api, is_opt_in_sms="", tag_ns="", user_field_value="") == ["Ann"]


class TestTagFilter:
    async def test_lists_the_tagged_and_counts_them(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        vip = await make_tag(session, tenant.bot_id, "VIP")
        for n in range(4):
            user_ns = await _person(session, tenant, f"P{n}", last_interaction_at=NOW - n * HOUR)
            if n != 1:
                await _tag(api, user_ns, vip)
        body = await _search(api, tag_ns=vip, limit=2)
        assert [s["name"] for s in body["data"]] == ["P0", "P2"]
        assert body["data"][0]["tags"] == [{"name": "VIP", "tag_ns": vip}]
        assert body["meta"]["total"] == 3
        assert body["meta"]["last_page"] == 2

    async def test_untagging_takes_them_out(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        vip = await make_tag(session, tenant.bot_id, "VIP")
        sam = await _person(session, tenant, "Sam")
        await _tag(api, sam, vip)
        await api.request("DELETE", "/subscriber/remove-tag", json={"user_ns": sam, "tag_ns": vip})
        body = await _search(api, tag_ns=vip)
        assert body["data"] == []
        assert body["meta"]["total"] == 0

    async def test_a_deleted_tag_gives_an_empty_page_not_an_error(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        vip = await make_tag(session, tenant.bot_id, "VIP")
        await _tag(api, await _person(session, tenant, "Sam"), vip)
        await api.request("DELETE", "/flow/delete-tag", json={"tag_ns": vip})
        body = await _search(api, tag_ns=vip)
        assert body["data"] == []
        assert body["meta"]["total"] == 0

    async def test_another_bots_tag_matches_nobody(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
        tenant: Tenant,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        theirs = await make_tag(session, other.bot_id, "VIP")
        await make_tag(session, tenant.bot_id, "VIP")  # the same number in this bot
        await _person(session, tenant, "Sam")
        assert (await _search(api, tag_ns=theirs))["data"] == []

    async def test_a_malformed_id_matches_nobody(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await _person(session, tenant, "Sam")
        for ns in ("VIP", "f1", "t1", f"f{tenant.bot_id}v1"):
            assert (await _search(api, tag_ns=ns))["meta"]["total"] == 0


class TestLabelAndEventFilters:
    async def test_team_label(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        label = await create_label(session, tenant.workspace_id, name="Priority")
        await session.commit()
        sam = await _person(session, tenant, "Sam")
        await _person(session, tenant, "Ann")
        body = {"user_ns": sam, "data": [{"label_name": "Priority"}]}
        assert (await api.post("/subscriber/add-labels-by-name", json=body)).status_code == 200
        assert await _names(api, label_id=label.id) == ["Sam"]
        assert await _names(api, label_id=label.id + 1000) == []

    async def test_custom_event_logged(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        sam = await _person(session, tenant, "Sam")
        ann = await _person(session, tenant, "Ann")
        await _log(api, sam, "purchase")
        await _log(api, sam, "purchase")
        await _log(api, ann, "signup")
        events = (await api.get("/flow/custom-events")).json()["data"]
        purchase = next(e["event_ns"] for e in events if e["name"] == "purchase")
        body = await _search(api, event_ns=purchase)
        assert [s["name"] for s in body["data"]] == ["Sam"]
        assert body["meta"]["total"] == 1
        assert await _names(api, event_ns=f"f{tenant.bot_id}e99") == []


class TestUserFieldFilter:
    async def test_a_text_value_finds_its_holder_like_a_crm_lookup(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        customer = await make_field(session, tenant.bot_id, "customer_id")
        for n in range(3):
            await _set(api, await _person(session, tenant, f"P{n}"), customer, f"CUST-{n}")
        body = await _search(api, user_field_ns=customer, user_field_value="CUST-1")
        assert [s["name"] for s in body["data"]] == ["P1"]
        assert body["meta"]["total"] == 1
        assert await _names(api, user_field_ns=customer, user_field_value="cust-1") == []

    @pytest.mark.parametrize(
        ("var_type", "stored", "typed"),
        [
            ("number", 12, "12"),
            ("number", 12, "12.0"),
            ("number", 2.5, "2.50"),
            ("boolean", True, "true"),
            ("boolean", True, "yes"),
            ("date", "2026-01-31", "2026-01-31"),
            ("datetime", "2026-01-31T10:00:00+00:00", "2026-01-31 10:00:00"),
            ("array", ["a", 1], '["a", 1]'),
        ],
    )
    async def test_a_typed_value_matches_as_the_field_reads_it(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        var_type: str,
        stored: Any,
        typed: str,
    ) -> None:
        field = await make_field(session, tenant.bot_id, "f", var_type=var_type)
        await _set(api, await _person(session, tenant, "Holder"), field, stored)
        await _person(session, tenant, "Other")
        assert await _names(api, user_field_ns=field, user_field_value=typed) == ["Holder"]

    async def test_a_number_field_does_not_match_another_number(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        age = await make_field(session, tenant.bot_id, "age", var_type="number")
        await _set(api, await _person(session, tenant, "Sam"), age, 12)
        assert await _names(api, user_field_ns=age, user_field_value="120") == []
        assert await _names(api, user_field_ns=age, user_field_value="twelve") == []

    async def test_the_field_alone_finds_everyone_holding_a_value(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        city = await make_field(session, tenant.bot_id, "city")
        await _set(api, await _person(session, tenant, "Sam"), city, "Oslo")
        cleared = await _person(session, tenant, "Ann")
        await _set(api, cleared, city, "Lima")
        await api.request(
            "DELETE", "/subscriber/clear-user-field", json={"user_ns": cleared, "var_ns": city}
        )
        await _person(session, tenant, "Bob")
        assert await _names(api, user_field_ns=city) == ["Sam"]

    async def test_a_value_without_its_field_answers_422(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/subscribers", params={"user_field_value": "CUST-1"})
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "user_field_ns": [
                "The user_field_ns field is required when user_field_value is present."
            ]
        }

    async def test_an_unknown_or_bot_field_matches_nobody(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        hours = await make_field(session, tenant.bot_id, "hours", scope=FieldScope.BOT, value="9")
        await _person(session, tenant, "Sam")
        for ns in (hours, f"f{tenant.bot_id}v99"):
            body = await _search(api, user_field_ns=ns, user_field_value="9")
            assert body["data"] == []
            assert body["meta"]["total"] == 0


class TestCombinedFilters:
    async def test_every_filter_must_hold(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        vip = await make_tag(session, tenant.bot_id, "VIP")
        city = await make_field(session, tenant.bot_id, "city")
        people = {
            "Sam Oslo": (True, "Oslo", True),
            "Sam Lima": (True, "Lima", True),
            "Sam Untagged": (False, "Oslo", True),
            "Sam Silent": (True, "Oslo", False),
            "Ann Oslo": (True, "Oslo", True),
        }
        for name, (tagged, town, opted_in) in people.items():
            columns = {"opted_in_email_at": NOW} if opted_in else {}
            user_ns = await _person(session, tenant, name, **columns)
            await _set(api, user_ns, city, town)
            if tagged:
                await _tag(api, user_ns, vip)
        body = await _search(
            api,
            name="sam",
            tag_ns=vip,
            user_field_ns=city,
            user_field_value="Oslo",
            is_opt_in_email="yes",
        )
        assert [s["name"] for s in body["data"]] == ["Sam Oslo"]
        assert body["meta"]["total"] == 1
        both = await _search(api, tag_ns=vip, user_field_ns=city, user_field_value="Oslo")
        assert both["meta"]["total"] == 3


class TestSegmentFilter:
    async def test_applies_the_saved_conditions_with_the_others(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        vip = await make_tag(session, tenant.bot_id, "VIP")
        for name, opted_in in (("Sam", True), ("Ann", True), ("Bob", False)):
            columns = {"opted_in_email_at": NOW} if opted_in else {}
            await _tag(api, await _person(session, tenant, name, **columns), vip)
        await _person(session, tenant, "Untagged", opted_in_email_at=NOW)
        segment = await create_segment(
            session,
            tenant.bot_id,
            name="Reachable VIPs",
            conditions={"tag_ns": vip, "is_opt_in_email": "yes"},
        )
        await session.commit()
        segment_ns = f"f{tenant.bot_id}sg{segment.number}"
        body = await _search(api, segment_ns=segment_ns)
        assert sorted(s["name"] for s in body["data"]) == ["Ann", "Sam"]
        assert body["meta"]["total"] == 2
        assert await _names(api, segment_ns=segment_ns, name="ann") == ["Ann"]

    async def test_an_unknown_segment_gives_an_empty_page(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await _person(session, tenant, "Sam")
        body = await _search(api, segment_ns=f"f{tenant.bot_id}sg7")
        assert body["data"] == []
        assert body["meta"]["total"] == 0


@contextmanager
def _statements(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement the app runs meanwhile, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def _crowd(api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, size: int) -> str:
    """`size` subscribers, each with a tag and a field value; answers the tag."""
    vip = await make_tag(session, tenant.bot_id, "VIP")
    city = await make_field(session, tenant.bot_id, "city")
    for n in range(size):
        user_ns = await _person(session, tenant, f"P{n}", phone=f"+6140000{n:04d}")
        await _tag(api, user_ns, vip)
        await _set(api, user_ns, city, f"Town {n}")
    return vip


class TestScale:
    async def test_a_page_costs_the_same_number_of_queries_however_full(
        self, api: httpx.AsyncClient, app: FastAPI, session: AsyncSession, tenant: Tenant
    ) -> None:
        vip = await _crowd(api, session, tenant, 12)
        counts = []
        for limit in (1, 12):
            with _statements(app.state.engine) as seen:
                body = await _search(api, tag_ns=vip, limit=limit)
            assert len(body["data"]) == limit
            counts.append(len(seen))
        assert counts[0] == counts[1]

    @pytest.mark.parametrize(
        ("params", "narrow", "reached"),
        [
            ({}, NARROW, "INDEX ix_subscribers_bot_id_activity_at_id"),
            ({"tag_ns": "TAG"}, NARROW, "INTEGER PRIMARY KEY"),
            ({"tag_ns": "TAG"}, 1, "INDEX ix_subscribers_bot_id_activity_at_id"),
            (
                {"user_field_ns": "FIELD", "user_field_value": "Town 2"},
                NARROW,
                "INTEGER PRIMARY KEY",
            ),
            ({"phone": "61400000002"}, NARROW, "INDEX ix_subscribers_bot_id_phone_tail"),
            ({"email": "nobody@example.com"}, NARROW, "INDEX ix_subscribers_bot_id_email"),
            (
                {"tag_ns": "TAG", "phone": "400000002"},
                NARROW,
                "INDEX ix_subscribers_bot_id_phone_tail",
            ),
        ],
    )
    async def test_every_search_reaches_subscribers_through_an_index(
        self,
        api: httpx.AsyncClient,
        app: FastAPI,
        session: AsyncSession,
        tenant: Tenant,
        monkeypatch: pytest.MonkeyPatch,
        params: dict[str, str],
        narrow: int,
        reached: str,
    ) -> None:
        """Each shape of search leads the database to an index. SQLite plans without
        statistics, so its exact index is checked; PostgreSQL plans from statistics that a small
        table lacks, so with sequential scans priced out an index must still serve the query."""
        engine: AsyncEngine = app.state.engine
        monkeypatch.setattr(filters, "NARROW", narrow)
        vip = await _crowd(api, session, tenant, 3)
        named = {"TAG": vip, "FIELD": f"f{tenant.bot_id}v1"}
        with _statements(engine) as seen:
            await _search(api, **{k: named.get(v, v) for k, v in params.items()})
        if engine.dialect.name == "postgresql":
            # Which index wins depends on statistics; that one serves is what can be checked.
            for statement, parameters in seen:
                plan = await _postgresql_plan(engine, statement, parameters)
                assert "Seq Scan on subscribers" not in plan, f"{statement}\n{plan}"
            return
        plans = {
            statement: await _plan(engine, statement, parameters) for statement, parameters in seen
        }
        page = next(p for s, p in plans.items() if "FROM subscribers" in s and "ORDER BY" in s)
        assert any(step.startswith(f"SEARCH subscribers USING {reached}") for step in page), page
        for statement, steps in plans.items():
            assert not _table_scans(steps), f"{statement}\n{steps}"


def _table_scans(steps: list[str]) -> list[str]:
    """The steps that read a whole table (not a subquery's rows, nor a constant)."""
    harmless = ("SCAN anon_", "SCAN (subquery", "SCAN CONSTANT ROW")
    return [s for s in steps if s.startswith("SCAN") and not s.startswith(harmless)]


async def _plan(engine: AsyncEngine, statement: str, parameters: Any) -> list[str]:
    async with engine.connect() as connection:
        rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        return [row[3] for row in rows]


async def _postgresql_plan(engine: AsyncEngine, statement: str, parameters: Any) -> str:
    async with engine.connect() as connection:
        await connection.exec_driver_sql("SET enable_seqscan = off")
        rows = await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        plan = "\n".join(row[0] for row in rows)
        await connection.exec_driver_sql("RESET enable_seqscan")
        return plan
