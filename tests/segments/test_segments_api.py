"""The Flow Segment group, and segments as saved subscriber filters."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from builders import (
    ClientFor,
    Sessions,
    Tenant,
    make_key,
    make_subscriber,
    make_tag,
    make_tenant,
)
from konversation.db import utcnow
from konversation.errors import Invalid, NotFound
from konversation.segments.models import Segment
from konversation.segments.service import create_segment, segment_filter
from konversation.subscribers.filters import SubscriberFilter


async def _segment(
    session: AsyncSession,
    bot_id: int,
    name: str,
    *,
    description: str | None = None,
    conditions: dict[str, Any] | None = None,
) -> str:
    segment = await create_segment(
        session, bot_id, name=name, description=description, conditions=conditions or {}
    )
    await session.commit()
    return f"f{bot_id}sg{segment.number}"


async def _refused(session: AsyncSession, tenant: Tenant, **arguments: Any) -> dict[str, list[str]]:
    """The per-field messages of a refused create; nothing is created."""
    arguments = {"name": "Segment", "conditions": {}, **arguments}
    with pytest.raises(Invalid) as refused:
        await create_segment(session, tenant.bot_id, **arguments)
    await session.rollback()
    assert await session.scalar(select(func.count()).select_from(Segment)) == 0
    return refused.value.errors


class TestListSegments:
    async def test_lists_name_id_and_description_oldest_first(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        vips = await _segment(session, tenant.bot_id, "VIPs", description="Big spenders")
        await _segment(session, tenant.bot_id, "Newcomers")
        body = (await api.get("/flow/segments")).json()
        assert body["data"] == [
            {"name": "VIPs", "segment_ns": vips, "description": "Big spenders"},
            {"name": "Newcomers", "segment_ns": f"f{tenant.bot_id}sg2", "description": ""},
        ]
        assert body["meta"]["total"] == 2

    async def test_an_empty_list(self, api: httpx.AsyncClient) -> None:
        body = (await api.get("/flow/segments")).json()
        assert body["data"] == []
        assert body["meta"]["total"] == 0

    async def test_filters_by_a_part_of_the_name(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        for name in ("Email VIPs", "SMS VIPs", "Newcomers"):
            await _segment(session, tenant.bot_id, name)
        body = (await api.get("/flow/segments", params={"name": "vip"})).json()
        assert [s["name"] for s in body["data"]] == ["Email VIPs", "SMS VIPs"]

    async def test_honours_limit_and_page(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        for n in range(5):
            await _segment(session, tenant.bot_id, f"S{n}")
        body = (await api.get("/flow/segments", params={"limit": 2, "page": 3})).json()
        assert [s["name"] for s in body["data"]] == ["S4"]
        assert body["meta"]["last_page"] == 3

    async def test_another_bots_segments_are_not_listed(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        await _segment(session, other.bot_id, "Theirs")
        assert (await api.get("/flow/segments")).json()["data"] == []

    async def test_needs_manage_flow(
        self,
        session: AsyncSession,
        server_secret: bytes,
        tenant: Tenant,
        client_for: ClientFor,
    ) -> None:
        token = await make_key(session, server_secret, tenant, permissions=["Manage Team"])
        response = await client_for(token).get("/flow/segments")
        assert response.status_code == 403
        assert "message" in response.json()

    async def test_a_limit_that_is_not_a_number_answers_422(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/flow/segments", params={"limit": "ten"})
        assert response.status_code == 422
        assert "limit" in response.json()["errors"]


class TestCreateSegment:
    async def test_numbers_segments_per_bot_and_keeps_the_conditions(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        vip = await make_tag(session, tenant.bot_id, "VIP")
        first = await _segment(session, tenant.bot_id, "A")
        second = await _segment(
            session,
            tenant.bot_id,
            "B",
            conditions={"tag_ns": vip, "is_opt_in_email": "yes", "label_id": "4", "name": ""},
        )
        assert (first, second) == (f"f{tenant.bot_id}sg1", f"f{tenant.bot_id}sg2")
        saved = await session.scalar(select(Segment).where(Segment.name == "B"))
        assert saved is not None
        assert saved.conditions == {"tag_ns": vip, "is_opt_in_email": True, "label_id": 4}

    async def test_a_name_is_required_and_unique_in_the_bot(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        assert await _refused(session, tenant, name="  ") == {
            "name": ["The name field is required."]
        }
        await _segment(session, tenant.bot_id, "VIPs")
        with pytest.raises(Invalid) as refused:
            await create_segment(session, tenant.bot_id, name="VIPs", conditions={})
        assert refused.value.errors == {"name": ["The name has already been taken."]}

    @pytest.mark.parametrize(
        ("conditions", "errors"),
        [
            (
                {"colour": "red"},
                {"conditions.colour": ["The conditions.colour field is not a subscriber filter."]},
            ),
            (
                {"segment_ns": "f1sg1"},
                {
                    "conditions.segment_ns": [
                        "The conditions.segment_ns field is not a subscriber filter."
                    ]
                },
            ),
            (
                {"is_opt_in_sms": "maybe"},
                {
                    "conditions.is_opt_in_sms": [
                        "The conditions.is_opt_in_sms field must be yes or no."
                    ]
                },
            ),
            (
                {"label_id": "first"},
                {"conditions.label_id": ["The conditions.label_id field must be an integer."]},
            ),
            (
                {"name": ["a"]},
                {"conditions.name": ["The conditions.name field must be a string."]},
            ),
            (
                {"user_field_value": "CUST-1"},
                {
                    "conditions.user_field_ns": [
                        "The conditions.user_field_ns field is required when "
                        "conditions.user_field_value is present."
                    ]
                },
            ),
        ],
    )
    async def test_unreadable_conditions_are_refused_by_path(
        self,
        session: AsyncSession,
        tenant: Tenant,
        conditions: dict[str, Any],
        errors: dict[str, list[str]],
    ) -> None:
        assert await _refused(session, tenant, conditions=conditions) == errors

    async def test_conditions_must_name_the_bots_own_items(
        self,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
        tenant: Tenant,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        theirs = await make_tag(session, other.bot_id, "VIP")
        conditions = {
            "tag_ns": theirs,
            "user_field_ns": f"f{tenant.bot_id}v9",
            "event_ns": f"f{tenant.bot_id}e9",
        }
        assert await _refused(session, tenant, conditions=conditions) == {
            "conditions.tag_ns": ["The selected conditions.tag_ns is invalid."],
            "conditions.user_field_ns": ["The selected conditions.user_field_ns is invalid."],
            "conditions.event_ns": ["The selected conditions.event_ns is invalid."],
        }

    async def test_every_problem_is_reported_at_once(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        errors = await _refused(session, tenant, name="", conditions={"is_channel": 3})
        assert set(errors) == {"name", "conditions.is_channel"}

    async def test_conditions_must_be_an_object(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        errors = await _refused(session, tenant, conditions=["tag_ns"])
        assert errors == {"conditions": ["The conditions field must be an object."]}


class TestSegmentFilter:
    async def test_reads_the_saved_conditions_back_as_a_filter(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        vip = await make_tag(session, tenant.bot_id, "VIP")
        segment_ns = await _segment(
            session,
            tenant.bot_id,
            "VIPs",
            conditions={"tag_ns": vip, "is_opt_in_email": "no", "is_channel": "telegram"},
        )
        assert await segment_filter(session, tenant.bot_id, segment_ns) == SubscriberFilter(
            tag_ns=vip, opted_in_email=False, channel="telegram"
        )

    async def test_another_bots_or_an_unknown_segment_is_not_found(
        self,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
        tenant: Tenant,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        theirs = await _segment(session, other.bot_id, "Theirs")
        for segment_ns in (theirs, f"f{tenant.bot_id}sg1", "VIPs"):
            with pytest.raises(NotFound, match="Segment not found"):
                await segment_filter(session, tenant.bot_id, segment_ns)


class TestSearchBySegment:
    async def test_a_segment_whose_tag_was_deleted_matches_nobody(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        vip = await make_tag(session, tenant.bot_id, "VIP")
        sam = await make_subscriber(session, tenant.bot_id, opted_in_email_at=utcnow())
        user_ns = f"f{tenant.bot_id}u{sam.number}"
        await api.post("/subscriber/add-tag", json={"user_ns": user_ns, "tag_ns": vip})
        segment_ns = await _segment(session, tenant.bot_id, "VIPs", conditions={"tag_ns": vip})
        assert (await api.get("/subscribers", params={"segment_ns": segment_ns})).json()["meta"][
            "total"
        ] == 1
        await api.request("DELETE", "/flow/delete-tag", json={"tag_ns": vip})
        body = (await api.get("/subscribers", params={"segment_ns": segment_ns})).json()
        assert body["data"] == []
        assert body["meta"]["total"] == 0
