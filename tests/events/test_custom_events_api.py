"""Custom events: logging occurrences, listing events, reading the log and the daily figures."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from builders import ClientFor, Sessions, Tenant, make_key, make_subscriber, make_tenant
from konversation.db import utcnow
from konversation.events import service
from konversation.events.models import CustomEvent, CustomEventLog
from konversation.subscribers.models import Subscriber
from konversation.workspaces.summaries import Range, days_of

LOG = "/subscriber/log-custom-event"
EVENTS = "/flow/custom-events"
DATA = "/flow/custom-events/data"
SUMMARY = "/flow/custom-events/summary"


def user_ns(subscriber: Subscriber) -> str:
    return f"f{subscriber.bot_id}u{subscriber.number}"


def unix(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def at(day: dt.date, time: str = "12:00:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day.isoformat()}T{time}+00:00")


async def occur(
    session: AsyncSession,
    subscriber: Subscriber,
    name: str = "purchase",
    *,
    when: dt.datetime | None = None,
    **values: Any,
) -> CustomEventLog:
    """An occurrence logged by the service, back-dated when the test needs it."""
    log = await service.log_event(
        session, subscriber.bot_id, user_ns=user_ns(subscriber), event_name=name, **values
    )
    if when is not None:
        log.created_at = when
    await session.commit()
    return log


async def stored_logs(session: AsyncSession) -> list[CustomEventLog]:
    query = select(CustomEventLog).order_by(CustomEventLog.id)
    return list(await session.scalars(query.execution_options(populate_existing=True)))


async def event_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(CustomEvent)) or 0)


@pytest.fixture
async def sam(session: AsyncSession, tenant: Tenant) -> Subscriber:
    return await make_subscriber(session, tenant.bot_id, name="Sam Smith")


@pytest.fixture
async def stranger(sessions: Sessions, server_secret: bytes) -> Tenant:
    return await make_tenant(sessions, server_secret, email="stranger@example.com")


class TestLogCustomEvent:
    async def test_a_new_name_defines_the_event(
        self, api: httpx.AsyncClient, tenant: Tenant, sam: Subscriber
    ) -> None:
        response = await api.post(LOG, json={"user_ns": user_ns(sam), "event_name": "purchase"})

        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert (await api.get(EVENTS)).json()["data"] == [
            {
                "name": "purchase",
                "event_ns": f"f{tenant.bot_id}e1",
                "description": "",
                "text_label": "",
                "price_label": "",
                "number_label": "",
            }
        ]

    async def test_a_known_name_logs_under_the_same_event(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: Subscriber
    ) -> None:
        for name in ("purchase", " purchase ", "signup", "purchase"):
            await api.post(LOG, json={"user_ns": user_ns(sam), "event_name": name})

        events = (await api.get(EVENTS)).json()["data"]
        assert [(e["name"], e["event_ns"]) for e in events] == [
            ("purchase", f"f{tenant.bot_id}e1"),
            ("signup", f"f{tenant.bot_id}e2"),
        ]
        purchases = await api.get(DATA, params={"event_ns": f"f{tenant.bot_id}e1", "limit": 10})
        assert len(purchases.json()["data"]) == 3

    async def test_concurrent_first_logs_share_one_definition(
        self,
        session: AsyncSession,
        server_secret: bytes,
        tenant: Tenant,
        client_for: ClientFor,
        sam: Subscriber,
    ) -> None:
        # One key each: requests with the same key queue behind its last-used update.
        tokens = [
            await make_key(session, server_secret, tenant, permissions=["Manage Flow"])
            for _ in range(4)
        ]
        body = {"user_ns": user_ns(sam), "event_name": "launch"}

        responses = await asyncio.gather(*(client_for(t).post(LOG, json=body) for t in tokens))

        assert [r.status_code for r in responses] == [200] * 4
        assert await event_count(session) == 1
        assert len(await stored_logs(session)) == 4

    async def test_stores_the_three_values(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber
    ) -> None:
        await api.post(
            LOG,
            json={
                "user_ns": user_ns(sam),
                "event_name": "purchase",
                "text_value": "T-shirt",
                "number_value": 2,
                "price_value": "19.90",
            },
        )

        (log,) = await stored_logs(session)
        assert (log.text_value, log.number_value, log.price_value) == ("T-shirt", "2", "19.90")
        assert log.subscriber_id == sam.id

    @pytest.mark.parametrize("field", ["number_value", "price_value"])
    @pytest.mark.parametrize(
        ("sent", "stored"),
        [
            (7, "7"),
            (-3, "-3"),
            (12.5, "12.5"),
            (0.1, "0.1"),
            ("12.50", "12.50"),
            (" 42 ", "42"),
            ("1e3", "1000"),
            ("1.5E-3", "0.0015"),
            (
                "123456789012345678901234567890.123456789",
                "123456789012345678901234567890.123456789",
            ),
        ],
    )
    async def test_numbers_are_kept_as_exact_decimal_text(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sam: Subscriber,
        field: str,
        sent: object,
        stored: str,
    ) -> None:
        response = await api.post(
            LOG, json={"user_ns": user_ns(sam), "event_name": "purchase", field: sent}
        )

        assert response.status_code == 200
        (log,) = await stored_logs(session)
        assert getattr(log, field) == stored

    @pytest.mark.parametrize("field", ["number_value", "price_value"])
    @pytest.mark.parametrize(
        "sent", ["ten", "1,5", "NaN", "Infinity", "1_000", True, [1], {"a": 1}]
    )
    async def test_a_non_numeric_value_answers_422_and_logs_nothing(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sam: Subscriber,
        field: str,
        sent: object,
    ) -> None:
        response = await api.post(
            LOG, json={"user_ns": user_ns(sam), "event_name": "purchase", field: sent}
        )

        assert response.status_code == 422
        assert response.json() == {
            "message": f"The {field} field must be a number.",
            "errors": {field: [f"The {field} field must be a number."]},
        }
        assert await stored_logs(session) == []
        assert await event_count(session) == 0

    async def test_every_bad_value_is_reported_at_once(
        self, api: httpx.AsyncClient, sam: Subscriber
    ) -> None:
        response = await api.post(
            LOG,
            json={
                "user_ns": user_ns(sam),
                "event_name": " ",
                "number_value": "many",
                "price_value": "cheap",
            },
        )

        assert response.status_code == 422
        assert response.json()["errors"] == {
            "event_name": ["The event_name field is required."],
            "number_value": ["The number_value field must be a number."],
            "price_value": ["The price_value field must be a number."],
        }

    @pytest.mark.parametrize("sent", ["9" * 65, "1e64", "1e-70"])
    async def test_a_number_too_long_to_keep_answers_422(
        self, api: httpx.AsyncClient, sam: Subscriber, sent: str
    ) -> None:
        response = await api.post(
            LOG, json={"user_ns": user_ns(sam), "event_name": "purchase", "price_value": sent}
        )

        assert response.status_code == 422
        assert response.json()["errors"] == {
            "price_value": ["The price_value field must not be greater than 64 characters."]
        }

    async def test_blank_values_are_no_values(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber
    ) -> None:
        response = await api.post(
            LOG,
            json={
                "user_ns": user_ns(sam),
                "event_name": "purchase",
                "text_value": "",
                "number_value": "",
                "price_value": None,
            },
        )

        assert response.status_code == 200
        (log,) = await stored_logs(session)
        assert (log.text_value, log.number_value, log.price_value) == (None, None, None)

    async def test_text_value_is_cut_at_20000_characters(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber
    ) -> None:
        response = await api.post(
            LOG,
            json={"user_ns": user_ns(sam), "event_name": "note", "text_value": "x" * 20_005},
        )

        assert response.status_code == 200
        (log,) = await stored_logs(session)
        assert log.text_value == "x" * 20_000

    async def test_a_numeric_text_value_is_kept_as_text(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber
    ) -> None:
        await api.post(LOG, json={"user_ns": user_ns(sam), "event_name": "code", "text_value": 42})

        (log,) = await stored_logs(session)
        assert log.text_value == "42"

    @pytest.mark.parametrize("missing", ["user_ns", "event_name"])
    async def test_a_missing_field_answers_422(
        self, api: httpx.AsyncClient, sam: Subscriber, missing: str
    ) -> None:
        body = {"user_ns": user_ns(sam), "event_name": "purchase"}
        del body[missing]

        response = await api.post(LOG, json=body)

        assert response.status_code == 422
        assert response.json()["errors"] == {missing: [f"The {missing} field is required."]}

    async def test_a_name_over_255_characters_answers_422(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber
    ) -> None:
        response = await api.post(LOG, json={"user_ns": user_ns(sam), "event_name": "e" * 256})

        assert response.status_code == 422
        assert response.json()["errors"] == {
            "event_name": ["The event_name field must not be greater than 255 characters."]
        }
        assert await event_count(session) == 0

    @pytest.mark.parametrize("unknown", ["f1u999", "garbage", "f1t1"])
    async def test_an_unknown_subscriber_answers_404_and_defines_nothing(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, unknown: str
    ) -> None:
        unknown = unknown.replace("f1", f"f{tenant.bot_id}")

        response = await api.post(LOG, json={"user_ns": unknown, "event_name": "purchase"})

        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}
        assert await event_count(session) == 0

    async def test_a_subscriber_of_another_bot_answers_404_and_is_untouched(
        self, api: httpx.AsyncClient, session: AsyncSession, stranger: Tenant
    ) -> None:
        theirs = await make_subscriber(session, stranger.bot_id)

        response = await api.post(LOG, json={"user_ns": user_ns(theirs), "event_name": "x"})

        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}
        assert await stored_logs(session) == []
        assert await event_count(session) == 0

    async def test_each_bot_numbers_its_own_events(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        client_for: ClientFor,
        stranger: Tenant,
        sam: Subscriber,
    ) -> None:
        theirs = await make_subscriber(session, stranger.bot_id)
        await api.post(LOG, json={"user_ns": user_ns(sam), "event_name": "signup"})
        await api.post(LOG, json={"user_ns": user_ns(sam), "event_name": "purchase"})

        response = await client_for(stranger.token).post(
            LOG, json={"user_ns": user_ns(theirs), "event_name": "purchase"}
        )

        assert response.status_code == 200
        their_events = (await client_for(stranger.token).get(EVENTS)).json()["data"]
        assert [(e["name"], e["event_ns"]) for e in their_events] == [
            ("purchase", f"f{stranger.bot_id}e1")
        ]
        assert (await api.get(EVENTS)).json()["meta"]["total"] == 2

    async def test_a_key_without_manage_flow_answers_403(
        self,
        session: AsyncSession,
        server_secret: bytes,
        tenant: Tenant,
        client_for: ClientFor,
        sam: Subscriber,
    ) -> None:
        token = await make_key(session, server_secret, tenant, permissions=["Manage Team"])

        response = await client_for(token).post(
            LOG, json={"user_ns": user_ns(sam), "event_name": "purchase"}
        )

        assert response.status_code == 403
        assert await stored_logs(session) == []


class TestListCustomEvents:
    async def test_pages_ten_by_default_and_honours_limit(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber
    ) -> None:
        for n in range(12):
            await occur(session, sam, f"event {n:02}")

        default = (await api.get(EVENTS)).json()
        assert len(default["data"]) == 10
        assert default["meta"] == {
            "current_page": 1,
            "last_page": 2,
            "per_page": 10,
            "total": 12,
            "from": 1,
            "to": 10,
        }
        page = (await api.get(EVENTS, params={"limit": 5, "page": 3})).json()
        assert [e["name"] for e in page["data"]] == ["event 10", "event 11"]

    async def test_filters_by_part_of_the_name(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber
    ) -> None:
        for name in ("Add to cart", "Purchase", "Cart abandoned"):
            await occur(session, sam, name)

        body = (await api.get(EVENTS, params={"name": "cart"})).json()

        assert [e["name"] for e in body["data"]] == ["Add to cart", "Cart abandoned"]
        assert body["meta"]["total"] == 2

    async def test_a_name_matching_nothing_answers_an_empty_page(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: Subscriber
    ) -> None:
        await occur(session, sam, "purchase")

        body = (await api.get(EVENTS, params={"name": "refund"})).json()

        assert body["data"] == []
        assert body["meta"]["total"] == 0

    async def test_lists_only_the_keys_bot(
        self, api: httpx.AsyncClient, session: AsyncSession, stranger: Tenant
    ) -> None:
        await occur(session, await make_subscriber(session, stranger.bot_id), "theirs")

        assert (await api.get(EVENTS)).json()["data"] == []

    async def test_a_non_integer_limit_answers_422(self, api: httpx.AsyncClient) -> None:
        response = await api.get(EVENTS, params={"limit": "many"})

        assert response.status_code == 422
        assert response.json()["errors"] == {"limit": ["The limit field must be an integer."]}


class TestCustomEventData:
    async def test_answers_each_occurrence_in_both_shapes(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: Subscriber
    ) -> None:
        when = dt.datetime(2026, 3, 3, 10, 30, 5, tzinfo=dt.UTC)
        log = await occur(
            session, sam, when=when, text_value="T-shirt", number_value=2, price_value="19.90"
        )

        response = await api.get(DATA, params={"event_ns": f"f{tenant.bot_id}e1"})

        assert response.status_code == 200
        assert response.json() == {
            "data": [
                {
                    "id": log.id,
                    "user_ns": user_ns(sam),
                    "event_ns": f"f{tenant.bot_id}e1",
                    "text_value": "T-shirt",
                    "price_value": "19.90",
                    "number_value": "2",
                    "value": "T-shirt",
                    "created_at": "2026-03-03 10:30:05",
                }
            ],
            "status": "ok",
        }

    async def test_value_is_the_text_else_the_number_else_the_price(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: Subscriber
    ) -> None:
        await occur(session, sam, text_value="red", number_value=1, price_value=2)
        await occur(session, sam, number_value=1, price_value=2)
        await occur(session, sam, price_value="2.50")
        await occur(session, sam)

        data = (await api.get(DATA, params={"event_ns": f"f{tenant.bot_id}e1"})).json()["data"]

        assert [row["value"] for row in data] == ["red", "1", "2.50", None]

    async def test_start_id_is_a_cursor_reading_every_occurrence_once(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: Subscriber
    ) -> None:
        logged = [(await occur(session, sam, number_value=n)).id for n in range(23)]

        read: list[int] = []
        cursor = 0
        while True:
            params = {"event_ns": f"f{tenant.bot_id}e1", "start_id": cursor, "limit": 10}
            batch = (await api.get(DATA, params=params)).json()["data"]
            read += [row["id"] for row in batch]
            if len(batch) < 10:
                break
            cursor = batch[-1]["id"]

        assert read == logged

    async def test_start_id_excludes_that_id(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: Subscriber
    ) -> None:
        first, second = (await occur(session, sam)).id, (await occur(session, sam)).id

        params = {"event_ns": f"f{tenant.bot_id}e1", "start_id": first}
        data = (await api.get(DATA, params=params)).json()["data"]

        assert [row["id"] for row in data] == [second]

    async def test_limit_is_10_by_default_and_at_most_100(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: Subscriber
    ) -> None:
        for n in range(105):
            await service.log_event(
                session, tenant.bot_id, user_ns=user_ns(sam), event_name="tick", number_value=n
            )
        await session.commit()
        event_ns = f"f{tenant.bot_id}e1"

        assert len((await api.get(DATA, params={"event_ns": event_ns})).json()["data"]) == 10
        capped = (await api.get(DATA, params={"event_ns": event_ns, "limit": 500})).json()
        assert len(capped["data"]) == 100
        exact = (await api.get(DATA, params={"event_ns": event_ns, "limit": 7})).json()
        assert [row["number_value"] for row in exact["data"]] == [str(n) for n in range(7)]

    async def test_start_and_end_time_are_inclusive(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: Subscriber
    ) -> None:
        base = dt.datetime(2026, 3, 3, 12, 0, 0, tzinfo=dt.UTC)
        for minutes, text in [(0, "before"), (10, "first"), (20, "last"), (30, "after")]:
            when = base + dt.timedelta(minutes=minutes, milliseconds=500)
            await occur(session, sam, when=when, text_value=text)

        params = {
            "event_ns": f"f{tenant.bot_id}e1",
            "start_time": unix(base + dt.timedelta(minutes=10)),
            "end_time": unix(base + dt.timedelta(minutes=20)),
        }
        data = (await api.get(DATA, params=params)).json()["data"]

        assert [row["text_value"] for row in data] == ["first", "last"]

    async def test_blank_optional_parameters_are_unset(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: Subscriber
    ) -> None:
        await occur(session, sam)

        params = {"event_ns": f"f{tenant.bot_id}e1", "start_time": "", "end_time": "", "limit": ""}
        response = await api.get(DATA, params=params)

        assert response.status_code == 200
        assert len(response.json()["data"]) == 1

    async def test_reads_only_that_events_occurrences(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: Subscriber
    ) -> None:
        await occur(session, sam, "signup")
        await occur(session, sam, "purchase", text_value="mug")

        data = (await api.get(DATA, params={"event_ns": f"f{tenant.bot_id}e2"})).json()["data"]

        assert [(row["event_ns"], row["text_value"]) for row in data] == [
            (f"f{tenant.bot_id}e2", "mug")
        ]

    async def test_an_end_before_the_start_answers_422(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: Subscriber
    ) -> None:
        await occur(session, sam)

        params = {"event_ns": f"f{tenant.bot_id}e1", "start_time": 2000, "end_time": 1000}
        response = await api.get(DATA, params=params)

        assert response.status_code == 422
        assert response.json()["errors"] == {
            "end_time": ["The end_time field must be a time after start_time."]
        }

    @pytest.mark.parametrize(
        ("params", "field", "message"),
        [
            ({}, "event_ns", "The event_ns field is required."),
            ({"start_time": "yesterday"}, "start_time", "The start_time field must be an integer."),
            ({"start_id": "x"}, "start_id", "The start_id field must be an integer."),
            ({"end_time": 10**20}, "end_time", "The end_time field must be a unix timestamp."),
        ],
    )
    async def test_bad_parameters_answer_422(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        sam: Subscriber,
        params: dict[str, Any],
        field: str,
        message: str,
    ) -> None:
        await occur(session, sam)
        if field != "event_ns":
            params = {"event_ns": f"f{tenant.bot_id}e1", **params}

        response = await api.get(DATA, params=params)

        assert response.status_code == 422
        assert response.json()["errors"] == {field: [message]}

    @pytest.mark.parametrize("event_ns", ["f{bot}e9", "f{bot}t1", "purchase", ""])
    async def test_an_unknown_event_answers_404(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        sam: Subscriber,
        event_ns: str,
    ) -> None:
        await occur(session, sam)

        response = await api.get(DATA, params={"event_ns": event_ns.format(bot=tenant.bot_id)})

        assert response.status_code == 404
        assert response.json() == {"message": "Custom event not found"}

    async def test_another_bots_event_answers_404(
        self, api: httpx.AsyncClient, session: AsyncSession, stranger: Tenant
    ) -> None:
        await occur(session, await make_subscriber(session, stranger.bot_id))

        response = await api.get(DATA, params={"event_ns": f"f{stranger.bot_id}e1"})

        assert response.status_code == 404
        assert response.json() == {"message": "Custom event not found"}


def yesterday() -> dt.date:
    return utcnow().date() - dt.timedelta(days=1)


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


class TestCustomEventSummary:
    async def test_default_range_is_yesterday_in_both_shapes(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: Subscriber
    ) -> None:
        ann = await make_subscriber(session, tenant.bot_id, name="Ann Other")
        day = yesterday()
        await occur(session, sam, when=at(day, "08:00:00"), text_value="mug", price_value=5)
        await occur(session, sam, when=at(day, "09:00:00"), text_value="mug")
        await occur(session, ann, when=at(day, "23:59:59"), text_value="mug")
        await occur(session, ann, when=at(day, "00:00:00"), text_value="hat")
        await occur(session, ann, when=at(day, "10:00:00"))
        await occur(session, sam, when=at(day + dt.timedelta(days=1), "00:00:00"), text_value="x")
        await occur(session, sam, when=at(day, "00:00:00") - dt.timedelta(seconds=1))
        await occur(session, sam, "other event", when=at(day))

        response = await api.get(SUMMARY, params={"event_ns": f"f{tenant.bot_id}e1"})

        assert response.status_code == 200
        assert response.json() == {
            "status": "ok",
            "data": {
                "name": "purchase",
                "event_ns": f"f{tenant.bot_id}e1",
                "description": "",
                "text_label": "",
                "price_label": "",
                "number_label": "",
                "total": 5,
                "stats": [{"date": day.isoformat(), "count": 5}],
                "text_values": [{"value": "mug", "count": 3}, {"value": "hat", "count": 1}],
            },
            "stats": [{"start_date": day.isoformat(), "num": 5, "unique_user_num": 2}],
            "total": {"num": 5, "unique_user_num": 2},
            "start_date": f"{day.isoformat()} 00:00:00",
            "end_date": f"{day.isoformat()} 23:59:59",
            "text_values": [
                {"text_value": "mug", "num": 3, "unique_user_num": 2},
                {"text_value": "hat", "num": 1, "unique_user_num": 1},
            ],
        }

    @pytest.mark.parametrize("range_", list(Range))
    async def test_each_range_has_an_entry_for_each_of_its_days(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        sam: Subscriber,
        range_: Range,
    ) -> None:
        await occur(session, sam, when=at(yesterday()))
        first, last = days_of(range_, utcnow().date())

        body = (
            await api.get(
                SUMMARY, params={"event_ns": f"f{tenant.bot_id}e1", "range": range_.value}
            )
        ).json()

        dates = [entry["start_date"] for entry in body["stats"]]
        assert len(dates) == (last - first).days + 1
        assert dates == sorted(dates)
        assert (dates[0], dates[-1]) == (first.isoformat(), last.isoformat())
        assert [entry["date"] for entry in body["data"]["stats"]] == dates
        assert (body["start_date"], body["end_date"]) == (
            f"{first.isoformat()} 00:00:00",
            f"{last.isoformat()} 23:59:59",
        )
        # A calendar range (last week, last month) holds yesterday only on its first day after.
        logged = 1 if first <= yesterday() <= last else 0
        assert body["total"] == {"num": logged, "unique_user_num": logged}

    async def test_days_without_occurrences_count_zero(
        self, session: AsyncSession, tenant: Tenant, sam: Subscriber
    ) -> None:
        today = dt.date(2026, 3, 4)
        await occur(session, sam, when=at(dt.date(2026, 2, 26), "13:00:00"))
        await occur(session, sam, when=at(dt.date(2026, 2, 26), "14:00:00"))
        await occur(session, sam, when=at(dt.date(2026, 3, 2), "01:00:00"))

        summary = await service.summarize(
            session,
            tenant.bot_id,
            event_ns=f"f{tenant.bot_id}e1",
            range_=Range.LAST_7_DAYS,
            today=today,
        )

        assert [(d.date, d.num, d.unique_user_num) for d in summary.days] == [
            ("2026-02-25", 0, 0),
            ("2026-02-26", 2, 1),
            ("2026-02-27", 0, 0),
            ("2026-02-28", 0, 0),
            ("2026-03-01", 0, 0),
            ("2026-03-02", 1, 1),
            ("2026-03-03", 0, 0),
        ]
        assert (summary.total.num, summary.total.unique_user_num) == (3, 1)

    async def test_queries_do_not_grow_with_the_range(
        self, engine: AsyncEngine, session: AsyncSession, tenant: Tenant, sam: Subscriber
    ) -> None:
        await occur(session, sam, when=at(dt.date(2026, 2, 26)), text_value="a")
        counts = []
        for range_ in (Range.YESTERDAY, Range.LAST_3_MONTHS):
            with counting_queries(engine) as statements:
                await service.summarize(
                    session,
                    tenant.bot_id,
                    event_ns=f"f{tenant.bot_id}e1",
                    range_=range_,
                    today=dt.date(2026, 3, 4),
                )
            counts.append(len([s for s in statements if s.lstrip().startswith("SELECT")]))

        assert counts[0] == counts[1] <= 4

    async def test_text_values_are_the_100_most_frequent(
        self, session: AsyncSession, tenant: Tenant, sam: Subscriber
    ) -> None:
        day = dt.date(2026, 3, 3)
        for n in range(101):
            log = await service.log_event(
                session,
                tenant.bot_id,
                user_ns=user_ns(sam),
                event_name="pick",
                text_value=f"value {n:03}",
            )
            log.created_at = at(day)
        await occur(session, sam, "pick", when=at(day), text_value="value 100")

        summary = await service.summarize(
            session,
            tenant.bot_id,
            event_ns=f"f{tenant.bot_id}e1",
            range_=Range.YESTERDAY,
            today=dt.date(2026, 3, 4),
        )

        values = [(t.text_value, t.num) for t in summary.text_values]
        assert len(values) == 100
        assert values[:3] == [("value 100", 2), ("value 000", 1), ("value 001", 1)]
        assert ("value 099", 1) not in values

    async def test_a_blank_range_is_yesterday(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: Subscriber
    ) -> None:
        await occur(session, sam)

        body = (
            await api.get(SUMMARY, params={"event_ns": f"f{tenant.bot_id}e1", "range": ""})
        ).json()

        assert [entry["start_date"] for entry in body["stats"]] == [yesterday().isoformat()]

    async def test_an_unknown_range_answers_422(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: Subscriber
    ) -> None:
        await occur(session, sam)

        response = await api.get(
            SUMMARY, params={"event_ns": f"f{tenant.bot_id}e1", "range": "last_century"}
        )

        assert response.status_code == 422
        assert response.json()["errors"] == {"range": ["The selected range is invalid."]}

    async def test_a_missing_event_ns_answers_422(self, api: httpx.AsyncClient) -> None:
        response = await api.get(SUMMARY)

        assert response.status_code == 422
        assert response.json()["errors"] == {"event_ns": ["The event_ns field is required."]}

    @pytest.mark.parametrize("event_ns", ["f{bot}e9", "f{bot}sg1", "nonsense"])
    async def test_an_unknown_event_answers_404(
        self, api: httpx.AsyncClient, tenant: Tenant, event_ns: str
    ) -> None:
        response = await api.get(SUMMARY, params={"event_ns": event_ns.format(bot=tenant.bot_id)})

        assert response.status_code == 404
        assert response.json() == {"message": "Custom event not found"}

    async def test_another_bots_event_answers_404(
        self, api: httpx.AsyncClient, session: AsyncSession, stranger: Tenant
    ) -> None:
        await occur(session, await make_subscriber(session, stranger.bot_id))

        response = await api.get(SUMMARY, params={"event_ns": f"f{stranger.bot_id}e1"})

        assert response.status_code == 404
        assert response.json() == {"message": "Custom event not found"}
