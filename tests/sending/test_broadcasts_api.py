"""Broadcasts: `POST /subscriber/broadcast`, `-by-user-id`, `-by-tag` and `-by-segment` store a
broadcast; `run_due_broadcasts` (what the job pump calls) sends its sub flow to each recipient
once, paced, from its scheduled time; `GET /subscriber/broadcast-status` (our extension) shows
how far it got. The flows' messages reach the API channel's webhook, a sink on 127.0.0.1."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import pytest
from sending_support import delivered, make_flow, ns, reachable, texts_to
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from builders import ClientFor, Sessions, Tenant, make_field, make_tag, make_tenant
from fake_webhook import FakeWebhook
from konversation.db import session_scope, utcnow
from konversation.flows.models import Field, FieldScope
from konversation.jobs.runtime import Runtime
from konversation.runtime.models import Run
from konversation.segments.service import create_segment
from konversation.sending.broadcasts import run_due_broadcasts
from konversation.sending.models import Broadcast, BroadcastRecipient

FAST = 100_000  # recipients a minute: all of a small broadcast at once
PAUSED = {"paused_until": utcnow() + dt.timedelta(hours=1)}


async def step(runtime: Runtime, *, now: dt.datetime | None = None, limit: int = 200) -> int:
    """One call of the job pump's broadcast step."""
    return await run_due_broadcasts(
        runtime.sessions, runtime.engine, now=now or utcnow(), limit=limit
    )


async def run(runtime: Runtime, *, now: dt.datetime | None = None, limit: int = 200) -> int:
    """One broadcast step, then every message delivered (and whatever else is due now)."""
    handled = await step(runtime, now=now, limit=limit)
    await runtime.settle()
    return handled


async def broadcast_row(sessions: Sessions, broadcast_id: int) -> Broadcast:
    """The broadcast as stored now (a session of its own sees the latest commits)."""
    async with sessions() as fresh:
        return await fresh.get_one(Broadcast, broadcast_id)


async def recipients(sessions: Sessions, broadcast_id: int) -> dict[int, str]:
    async with sessions() as fresh:
        rows = await fresh.execute(
            select(BroadcastRecipient.subscriber_id, BroadcastRecipient.outcome).where(
                BroadcastRecipient.broadcast_id == broadcast_id
            )
        )
        return {subscriber_id: outcome for subscriber_id, outcome in rows}


async def people(session: AsyncSession, tenant: Tenant, count: int, **columns: Any) -> list[Any]:
    return [await reachable(session, tenant, **columns) for _ in range(count)]


@pytest.fixture
async def news(session: AsyncSession, tenant: Tenant) -> str:
    """A sub flow greeting each recipient by name."""
    return await make_flow(session, tenant, "News", "News for {{first_name}}")


class TestBroadcastByUserNs:
    async def test_every_listed_subscriber_gets_the_flow_once(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
        news: str,
    ) -> None:
        ann = await reachable(session, tenant, name="Ann Lee")
        bob = await reachable(session, tenant, name="Bob Ray")
        response = await api.post(
            "/subscriber/broadcast",
            json={
                "user_ns_list": f"{ns(ann)}, {ns(bob)},{ns(ann)}",
                "sub_flow_ns": news,
                "max_per_minute": FAST,
            },
        )
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer == {"status": "ok", "broadcast_id": answer["broadcast_id"], "total": 2}
        assert await run(runtime) == 2
        assert texts_to(webhook, ann) == ["News for Ann"]
        assert texts_to(webhook, bob) == ["News for Bob"]
        origins = await session.scalars(select(Run.origin).where(Run.bot_id == tenant.bot_id))
        assert set(origins.all()) == {"broadcast"}
        row = await broadcast_row(sessions, answer["broadcast_id"])
        assert (row.status, row.sent, row.skipped, row.failed) == ("done", 2, 0, 0)
        assert row.finished_at is not None

    async def test_unknown_ids_are_left_out_and_none_known_is_404(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, news: str
    ) -> None:
        ann = await reachable(session, tenant)
        some = await api.post(
            "/subscriber/broadcast",
            json={"user_ns_list": f"{ns(ann)},{tenant.flow_ns}u999,f999u1", "sub_flow_ns": news},
        )
        assert some.status_code == 200, some.text
        assert some.json()["total"] == 1
        none = await api.post(
            "/subscriber/broadcast",
            json={"user_ns_list": f"{tenant.flow_ns}u999", "sub_flow_ns": news},
        )
        assert (none.status_code, none.json()) == (404, {"message": "Subscriber not found"})

    async def test_the_request_is_checked(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, news: str
    ) -> None:
        ann = await reachable(session, tenant)
        too_many = ",".join(f"{tenant.flow_ns}u{n}" for n in range(1, 202))
        cases: list[tuple[dict[str, Any], dict[str, list[str]]]] = [
            (
                {"user_ns_list": too_many},
                {"user_ns_list": ["The user_ns_list field must not have more than 200 user ns."]},
            ),
            ({"user_ns_list": " , "}, {"user_ns_list": ["The user_ns_list field is required."]}),
            (
                {"scheduled_time": "tomorrow"},
                {"scheduled_time": ["The scheduled_time field must be an integer."]},
            ),
            (
                {"scheduled_time": -1},
                {
                    "scheduled_time": [
                        "The scheduled_time field must be a unix timestamp in seconds."
                    ]
                },
            ),
            (
                {"scheduled_time": 1786123679000},  # milliseconds
                {
                    "scheduled_time": [
                        "The scheduled_time field must be a unix timestamp in seconds."
                    ]
                },
            ),
            (
                {"max_per_minute": 0},
                {"max_per_minute": ["The max_per_minute field must be between 1 and 600000."]},
            ),
            (
                {"max_per_minute": 600_001},
                {"max_per_minute": ["The max_per_minute field must be between 1 and 600000."]},
            ),
            ({"type": "PIGEON"}, {"type": ["The selected type is invalid."]}),
        ]
        for change, errors in cases:
            body = {"user_ns_list": ns(ann), "sub_flow_ns": news, **change}
            response = await api.post("/subscriber/broadcast", json=body)
            assert response.status_code == 422, change
            assert response.json()["errors"] == errors, change
        unknown_flow = await api.post(
            "/subscriber/broadcast",
            json={"user_ns_list": ns(ann), "sub_flow_ns": f"{tenant.flow_ns}s99"},
        )
        assert (unknown_flow.status_code, unknown_flow.json()) == (
            404,
            {"message": "Sub flow not found"},
        )
        assert await session.scalar(select(func.count()).select_from(Broadcast)) == 0

    async def test_type_and_name_are_kept_and_empty_options_mean_the_defaults(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        news: str,
    ) -> None:
        ann = await reachable(session, tenant)
        response = await api.post(
            "/subscriber/broadcast",
            json={
                "user_ns_list": ns(ann),
                "sub_flow_ns": news,
                "type": "SMS",
                "name": "Spring",
                "scheduled_time": "",
                "max_per_minute": "",
            },
        )
        assert response.status_code == 200, response.text
        row = await broadcast_row(sessions, response.json()["broadcast_id"])
        assert (row.message_type, row.name, row.max_per_minute) == ("SMS", "Spring", 60)
        assert abs((row.scheduled_at - utcnow()).total_seconds()) < 60


class TestBroadcastByUserId:
    async def test_subscribers_are_found_by_their_channel_ids(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
        news: str,
    ) -> None:
        ann = await reachable(session, tenant, name="Ann Lee", phone="+61 412 345 678")
        bob = await reachable(session, tenant, name="Bob Ray", phone="+61 387 625 429")
        cid = await reachable(session, tenant, name="Cid Moe")
        response = await api.post(
            "/subscriber/broadcast-by-user-id",
            json={
                "user_id_list": "61412345678,+61387625429,000",
                "sub_flow_ns": news,
                "max_per_minute": FAST,
            },
        )
        assert response.status_code == 200, response.text
        assert response.json()["total"] == 2
        assert await run(runtime) == 2
        assert texts_to(webhook, ann) == ["News for Ann"]
        assert texts_to(webhook, bob) == ["News for Bob"]
        assert texts_to(webhook, cid) == []


class TestBroadcastByTag:
    async def test_any_of_the_tags_and_none_of_the_excluded(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
        news: str,
    ) -> None:
        vip = await make_tag(session, tenant.bot_id, "VIP")
        lead = await make_tag(session, tenant.bot_id, "Lead")
        churned = await make_tag(session, tenant.bot_id, "Churned")
        ann, bob, cid, dan = await people(session, tenant, 4)
        for subscriber, tag in ((ann, vip), (bob, lead), (cid, vip), (cid, churned)):
            tagged = await api.post(
                "/subscriber/add-tag", json={"user_ns": ns(subscriber), "tag_ns": tag}
            )
            assert tagged.status_code == 200
        response = await api.post(
            "/subscriber/broadcast-by-tag",
            json={
                "tags": [vip, lead],
                "exclude_tags": [churned],
                "sub_flow_ns": news,
                "name": "By tag",
                "max_per_minute": FAST,
            },
        )
        assert response.status_code == 200, response.text
        assert response.json()["total"] is None
        assert await run(runtime) == 2
        reached = {recipient for recipient, _ in delivered(webhook)}
        assert reached == {ann.user_id, bob.user_id}
        assert dan.user_id not in reached

    async def test_tags_are_checked(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, news: str
    ) -> None:
        vip = await make_tag(session, tenant.bot_id, "VIP")
        cases: list[tuple[dict[str, Any], dict[str, list[str]]]] = [
            ({"tags": []}, {"tags": ["The tags field is required."]}),
            (
                {"tags": [vip] * 11},
                {"tags": ["The tags field must not have more than 10 tag ns."]},
            ),
            (
                {"tags": [vip, f"{tenant.flow_ns}t99"]},
                {"tags.1": ["The selected tags.1 is invalid."]},
            ),
            (
                {"tags": [vip], "exclude_tags": ["f999t1"]},
                {"exclude_tags.0": ["The selected exclude_tags.0 is invalid."]},
            ),
        ]
        for change, errors in cases:
            # Repeated ids are read once, so eleven different ones make the list too long.
            if len(change["tags"]) == 11:
                change = {"tags": [f"{tenant.flow_ns}t{n}" for n in range(1, 12)]}
            body = {"sub_flow_ns": news, **change}
            response = await api.post("/subscriber/broadcast-by-tag", json=body)
            assert response.status_code == 422, change
            assert response.json()["errors"] == errors, change


class TestBroadcastBySegment:
    async def test_subscribers_matching_any_segment(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
        news: str,
    ) -> None:
        vip = await make_tag(session, tenant.bot_id, "VIP")
        vips = await create_segment(session, tenant.bot_id, name="VIPs", conditions={"tag_ns": vip})
        mailable = await create_segment(
            session, tenant.bot_id, name="Mailable", conditions={"is_opt_in_email": "yes"}
        )
        await session.commit()
        ann = await reachable(session, tenant)
        bob = await reachable(session, tenant, opted_in_email_at=utcnow())
        cid = await reachable(session, tenant)
        await api.post("/subscriber/add-tag", json={"user_ns": ns(ann), "tag_ns": vip})
        segment_ns = f"{tenant.flow_ns}sg{vips.number},{tenant.flow_ns}sg{mailable.number}"
        response = await api.post(
            "/subscriber/broadcast-by-segment",
            json={"segment_ns": segment_ns, "sub_flow_ns": news, "max_per_minute": FAST},
        )
        assert response.status_code == 200, response.text
        assert await run(runtime) == 2
        assert {recipient for recipient, _ in delivered(webhook)} == {ann.user_id, bob.user_id}
        assert texts_to(webhook, cid) == []

    async def test_unknown_segments_are_refused(
        self, api: httpx.AsyncClient, tenant: Tenant, news: str
    ) -> None:
        response = await api.post(
            "/subscriber/broadcast-by-segment",
            json={"segment_ns": f"{tenant.flow_ns}sg9", "sub_flow_ns": news},
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "segment_ns.0": ["The selected segment_ns.0 is invalid."]
        }


class TestFieldsAndRefusals:
    async def test_user_fields_are_set_on_each_recipient_and_bot_fields_once(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
    ) -> None:
        coupon = await make_field(session, tenant.bot_id, "Coupon")
        season = await make_field(
            session, tenant.bot_id, "Season", scope=FieldScope.BOT, value="winter"
        )
        sale = await make_flow(session, tenant, "Sale", "Use {{coupon}} this {{bot.Season}}")
        ann, bob = await people(session, tenant, 2)
        response = await api.post(
            "/subscriber/broadcast-by-tag",
            json={
                "tags": [await make_tag(session, tenant.bot_id, "All")],
                "sub_flow_ns": sale,
                "user_fields": [{"var_ns": coupon, "value": "SPRING10"}],
                "bot_fields": [{"var_ns": season, "value": "spring"}],
                "max_per_minute": FAST,
            },
        )
        assert response.status_code == 200, response.text
        broadcast_id = response.json()["broadcast_id"]
        for subscriber in (ann, bob):
            tag_ns = f"{tenant.flow_ns}t1"
            await api.post(
                "/subscriber/add-tag", json={"user_ns": ns(subscriber), "tag_ns": tag_ns}
            )
        assert await run(runtime) == 2
        assert texts_to(webhook, ann) == ["Use SPRING10 this spring"]
        assert texts_to(webhook, bob) == ["Use SPRING10 this spring"]
        info = (await api.get("/subscriber/get-info", params={"user_ns": ns(ann)})).json()["data"]
        assert {f["name"]: f["value"] for f in info["user_fields"]}["Coupon"] == "SPRING10"
        assert (await broadcast_row(sessions, broadcast_id)).status == "done"

    async def test_fields_are_checked(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, news: str
    ) -> None:
        age = await make_field(session, tenant.bot_id, "Age", var_type="number")
        ann = await reachable(session, tenant)
        body = {
            "user_ns_list": ns(ann),
            "sub_flow_ns": news,
            "user_fields": [{"var_ns": age, "value": "old"}, {"var_ns": "f1v999", "value": 1}],
            "bot_fields": [{"var_ns": age, "value": 3}],
        }
        response = await api.post("/subscriber/broadcast", json=body)
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "user_fields.0.value": ["The user_fields.0.value field must be a number."],
            "user_fields.1.var_ns": ["The selected user_fields.1.var_ns is invalid."],
            "bot_fields.0.var_ns": ["The selected bot_fields.0.var_ns is invalid."],
        }
        eleven = [{"var_ns": age, "value": n} for n in range(11)]
        too_many = await api.post("/subscriber/broadcast", json={**body, "user_fields": eleven})
        assert too_many.json()["errors"]["user_fields"] == [
            "The user_fields field must not have more than 10 items."
        ]

    async def test_unsubscribed_and_paused_recipients_are_skipped(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
        news: str,
    ) -> None:
        ann = await reachable(session, tenant, name="Ann Lee")
        gone = await reachable(session, tenant, is_subscribed=False)
        resting = await reachable(session, tenant, **PAUSED)
        listed = ",".join(ns(s) for s in (ann, gone, resting))
        response = await api.post(
            "/subscriber/broadcast",
            json={"user_ns_list": listed, "sub_flow_ns": news, "max_per_minute": FAST},
        )
        broadcast_id = response.json()["broadcast_id"]
        assert await run(runtime) == 3
        assert [recipient for recipient, _ in delivered(webhook)] == [ann.user_id]
        assert await recipients(sessions, broadcast_id) == {
            ann.id: "sent",
            gone.id: "skipped",
            resting.id: "skipped",
        }
        row = await broadcast_row(sessions, broadcast_id)
        assert (row.sent, row.skipped, row.failed, row.status) == (1, 2, 0, "done")

    async def test_a_recipient_whose_flow_cannot_start_is_counted_failed(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
        news: str,
    ) -> None:
        coupon = await make_field(session, tenant.bot_id, "Coupon")
        ann, bob = await people(session, tenant, 2)
        response = await api.post(
            "/subscriber/broadcast",
            json={
                "user_ns_list": f"{ns(ann)},{ns(bob)}",
                "sub_flow_ns": news,
                "user_fields": [{"var_ns": coupon, "value": "SPRING10"}],
                "max_per_minute": FAST,
            },
        )
        broadcast_id = response.json()["broadcast_id"]
        # The field became a number since: the coupon no longer fits it.
        async with session_scope(sessions) as writer:
            await writer.execute(
                update(Field).where(Field.name == "Coupon").values(var_type="number")
            )
        assert await run(runtime) == 2
        assert delivered(webhook) == []
        assert await recipients(sessions, broadcast_id) == {ann.id: "failed", bob.id: "failed"}
        row = await broadcast_row(sessions, broadcast_id)
        assert (row.sent, row.failed, row.status) == (0, 2, "done")
        runs = await session.scalar(select(func.count()).select_from(Run))
        assert runs == 0


class TestScheduleAndPace:
    async def test_a_scheduled_broadcast_waits_for_its_time(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
        news: str,
    ) -> None:
        ann = await reachable(session, tenant)
        at = int(utcnow().timestamp()) + 3600
        response = await api.post(
            "/subscriber/broadcast",
            json={"user_ns_list": ns(ann), "sub_flow_ns": news, "scheduled_time": at},
        )
        broadcast_id = response.json()["broadcast_id"]
        assert await run(runtime) == 0
        assert await run(runtime, now=utcnow() + dt.timedelta(minutes=59)) == 0
        assert delivered(webhook) == []
        assert (await broadcast_row(sessions, broadcast_id)).status == "scheduled"
        assert await run(runtime, now=dt.datetime.fromtimestamp(at, dt.UTC)) == 1
        assert texts_to(webhook, ann) != []

    async def test_a_past_time_means_now(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        runtime: Runtime,
        news: str,
        webhook: FakeWebhook,
    ) -> None:
        ann = await reachable(session, tenant)
        response = await api.post(
            "/subscriber/broadcast",
            json={"user_ns_list": ns(ann), "sub_flow_ns": news, "scheduled_time": 1_000_000_000},
        )
        assert response.status_code == 200, response.text
        assert await run(runtime) == 1

    async def test_sixty_a_minute_takes_one_a_second(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
        news: str,
    ) -> None:
        crowd = await people(session, tenant, 4)
        response = await api.post(
            "/subscriber/broadcast",
            json={"user_ns_list": ",".join(ns(s) for s in crowd), "sub_flow_ns": news},
        )
        broadcast_id = response.json()["broadcast_id"]
        # A day ahead, so that nothing running on the real clock can take a turn meanwhile.
        start = utcnow() + dt.timedelta(days=1)
        assert await run(runtime, now=start) == 1
        assert await run(runtime, now=start + dt.timedelta(seconds=1.5)) == 0
        row = await broadcast_row(sessions, broadcast_id)
        assert (row.status, row.sent) == ("running", 1)
        assert row.next_run_at == start + dt.timedelta(seconds=2)
        assert await run(runtime, now=start + dt.timedelta(seconds=2)) == 1
        assert await run(runtime, now=start + dt.timedelta(seconds=60)) == 2
        row = await broadcast_row(sessions, broadcast_id)
        assert (row.status, row.sent) == ("done", 4)
        # In subscriber order: the first batch went to the first subscriber.
        assert [recipient for recipient, _ in delivered(webhook)] == [s.user_id for s in crowd]

    async def test_a_call_handles_at_most_its_limit(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
        news: str,
    ) -> None:
        crowd = await people(session, tenant, 5)
        await api.post(
            "/subscriber/broadcast",
            json={
                "user_ns_list": ",".join(ns(s) for s in crowd),
                "sub_flow_ns": news,
                "max_per_minute": FAST,
            },
        )
        assert await step(runtime, limit=2) == 2
        assert await step(runtime, limit=2) == 2
        assert await step(runtime, limit=2) == 1
        await runtime.settle()
        assert len(delivered(webhook)) == 5


class TestExactlyOnce:
    async def test_running_again_sends_nothing_more(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
        news: str,
    ) -> None:
        crowd = await people(session, tenant, 3)
        await api.post(
            "/subscriber/broadcast",
            json={
                "user_ns_list": ",".join(ns(s) for s in crowd),
                "sub_flow_ns": news,
                "max_per_minute": FAST,
            },
        )
        assert await run(runtime) == 3
        assert await run(runtime) == 0
        assert len(delivered(webhook)) == 3

    async def test_concurrent_runs_reach_each_recipient_once(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
        news: str,
    ) -> None:
        crowd = await people(session, tenant, 6)
        response = await api.post(
            "/subscriber/broadcast",
            json={
                "user_ns_list": ",".join(ns(s) for s in crowd),
                "sub_flow_ns": news,
                "max_per_minute": FAST,
            },
        )
        now = utcnow()
        handled = await asyncio.gather(
            *(
                run_due_broadcasts(runtime.sessions, runtime.engine, now=now, limit=2)
                for _ in range(4)
            )
        )
        while await run_due_broadcasts(runtime.sessions, runtime.engine, now=now):
            pass
        await runtime.settle()
        assert sum(handled) <= 6
        assert sorted(recipient for recipient, _ in delivered(webhook)) == sorted(
            s.user_id for s in crowd
        )
        row = await broadcast_row(sessions, response.json()["broadcast_id"])
        assert (row.sent, row.status) == (6, "done")

    async def test_a_run_that_lost_its_place_skips_those_already_reached(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
        news: str,
    ) -> None:
        crowd = await people(session, tenant, 3)
        response = await api.post(
            "/subscriber/broadcast",
            json={
                "user_ns_list": ",".join(ns(s) for s in crowd),
                "sub_flow_ns": news,
                "max_per_minute": FAST,
            },
        )
        broadcast_id = response.json()["broadcast_id"]
        assert await step(runtime, limit=2) == 2
        # As if the cursor's update had been lost: the next run starts from the beginning.
        async with session_scope(sessions) as writer:
            await writer.execute(
                update(Broadcast).where(Broadcast.id == broadcast_id).values(cursor=0)
            )
        assert await run(runtime) == 1
        assert sorted(recipient for recipient, _ in delivered(webhook)) == sorted(
            s.user_id for s in crowd
        )
        row = await broadcast_row(sessions, broadcast_id)
        assert (row.sent, row.status) == (3, "done")


async def status_of(api: httpx.AsyncClient, broadcast_id: int) -> dict[str, Any]:
    response = await api.get("/subscriber/broadcast-status", params={"broadcast_id": broadcast_id})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


class TestBroadcastStatus:
    async def test_shows_the_progress(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
        news: str,
    ) -> None:
        ann = await reachable(session, tenant)
        gone = await reachable(session, tenant, is_subscribed=False)
        at = int(utcnow().timestamp()) + 60
        response = await api.post(
            "/subscriber/broadcast",
            json={
                "user_ns_list": f"{ns(ann)},{ns(gone)}",
                "sub_flow_ns": news,
                "name": "Hello",
                "type": "EMAIL",
                "scheduled_time": at,
            },
        )
        broadcast_id = response.json()["broadcast_id"]
        before = await api.get(
            "/subscriber/broadcast-status", params={"broadcast_id": broadcast_id}
        )
        assert before.status_code == 200, before.text
        assert before.json() == {
            "status": "ok",
            "data": {
                "id": broadcast_id,
                "name": "Hello",
                "status": "scheduled",
                "sub_flow_ns": news,
                "type": "EMAIL",
                "total": 2,
                "sent": 0,
                "skipped": 0,
                "failed": 0,
                "max_per_minute": 60,
                "scheduled_time": at,
                "started_time": None,
                "finished_time": None,
            },
        }
        # Sixty a minute: one now, the next a second later at the earliest.
        later = dt.datetime.fromtimestamp(at, dt.UTC) + dt.timedelta(minutes=5)
        await run(runtime, now=later)
        middle = await status_of(api, broadcast_id)
        assert (middle["status"], middle["sent"], middle["skipped"]) == ("running", 1, 0)
        assert (middle["started_time"], middle["finished_time"]) == (int(later.timestamp()), None)
        end = later + dt.timedelta(minutes=1)
        await run(runtime, now=end)
        after = await status_of(api, broadcast_id)
        assert (after["status"], after["sent"], after["skipped"]) == ("done", 1, 1)
        assert after["finished_time"] == int(end.timestamp())

    async def test_unknown_or_missing_ids(self, api: httpx.AsyncClient) -> None:
        unknown = await api.get("/subscriber/broadcast-status", params={"broadcast_id": 4242})
        assert (unknown.status_code, unknown.json()) == (404, {"message": "Broadcast not found"})
        missing = await api.get("/subscriber/broadcast-status")
        assert missing.status_code == 422
        assert missing.json()["errors"] == {"broadcast_id": ["The broadcast_id field is required."]}

    async def test_another_bots_broadcast_is_not_found(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
        client_for: ClientFor,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        theirs = await make_flow(session, other, "Theirs", "Hi")
        stranger = await reachable(session, other)
        made = await client_for(other.token).post(
            "/subscriber/broadcast", json={"user_ns_list": ns(stranger), "sub_flow_ns": theirs}
        )
        assert made.status_code == 200, made.text
        broadcast_id = made.json()["broadcast_id"]
        response = await api.get(
            "/subscriber/broadcast-status", params={"broadcast_id": broadcast_id}
        )
        assert (response.status_code, response.json()) == (404, {"message": "Broadcast not found"})
