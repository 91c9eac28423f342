"""List parameters as integrations send them: clamped numbers, blank optional fields."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from builders import Tenant, make_subscriber, make_tag


class TestPaging:
    async def test_limit_zero_is_read_as_one(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        for name in ("a", "b"):
            await make_tag(session, tenant.bot_id, name)
        body = (await api.get("/flow/tags", params={"limit": 0, "page": 0})).json()
        assert [t["name"] for t in body["data"]] == ["a"]
        assert body["meta"]["per_page"] == 1
        assert body["meta"]["current_page"] == 1

    async def test_a_page_past_the_end_is_empty_with_the_right_meta(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_tag(session, tenant.bot_id, "a")
        body = (await api.get("/flow/tags", params={"page": 5})).json()
        assert body["data"] == []
        assert body["meta"] == {
            "current_page": 5, "last_page": 1, "per_page": 10, "total": 1, "from": None, "to": None
        }  # fmt: skip


class TestBlankFields:
    async def test_blank_role_and_name_filter_nothing(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/flow/agents", params={"role": "", "name": ""})
        assert response.status_code == 200
        assert [a["role"] for a in response.json()["data"]] == ["owner"]

    async def test_blank_range_means_yesterday(self, api: httpx.AsyncClient) -> None:
        blank = await api.get("/flow-summary", params={"range": "", "flow_ns": ""})
        default = await api.get("/flow-summary")
        assert blank.status_code == 200
        assert blank.json() == default.json()
        assert len(blank.json()["data"]) == 1

    async def test_a_phone_filter_without_digits_matches_nobody(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_subscriber(session, tenant.bot_id, phone="+61 400 000 000")
        body = (await api.get("/team-bot-users", params={"phone": "abc"})).json()
        assert body["data"] == []
        found = (await api.get("/team-bot-users", params={"phone": "400000000"})).json()
        assert len(found["data"]) == 1
