"""The Flow Tag group: list, create and delete a bot's tags."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from builders import ClientFor, Sessions, Tenant, make_tag, make_tenant


class TestListTags:
    async def test_lists_tags_in_creation_order_with_meta(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        for name in ("VIP", "Lead", "Customer"):
            await make_tag(session, tenant.bot_id, name)
        response = await api.get("/flow/tags")
        assert response.status_code == 200
        body = response.json()
        assert [t["name"] for t in body["data"]] == ["VIP", "Lead", "Customer"]
        assert body["data"][0] == {"name": "VIP", "tag_ns": f"f{tenant.bot_id}t1"}
        assert body["meta"] == {
            "current_page": 1, "last_page": 1, "per_page": 10, "total": 3, "from": 1, "to": 3
        }  # fmt: skip

    async def test_honours_limit_and_page_exactly(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        for n in range(7):
            await make_tag(session, tenant.bot_id, f"tag {n}")
        body = (await api.get("/flow/tags", params={"limit": 3, "page": 3})).json()
        assert [t["name"] for t in body["data"]] == ["tag 6"]
        assert body["meta"]["last_page"] == 3
        assert body["meta"]["from"] == 7
        assert body["meta"]["to"] == 7

    async def test_filters_by_part_of_the_name_ignoring_case(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        for name in ("Newsletter", "news_2024", "Lead"):
            await make_tag(session, tenant.bot_id, name)
        body = (await api.get("/flow/tags", params={"name": "NEWS"})).json()
        assert [t["name"] for t in body["data"]] == ["Newsletter", "news_2024"]

    async def test_treats_like_wildcards_literally(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        for name in ("50% off", "500 club"):
            await make_tag(session, tenant.bot_id, name)
        body = (await api.get("/flow/tags", params={"name": "50%"})).json()
        assert [t["name"] for t in body["data"]] == ["50% off"]

    async def test_ignores_unknown_parameters(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_tag(session, tenant.bot_id, "VIP")
        params = {"per_page": 5, "search": "x", "offset": 3, "start_id": 9}
        response = await api.get("/flow/tags", params=params)
        assert response.status_code == 200
        assert len(response.json()["data"]) == 1

    async def test_clamps_a_limit_over_one_hundred(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        body = (await api.get("/flow/tags", params={"limit": 1000})).json()
        assert body["meta"]["per_page"] == 100

    async def test_never_shows_another_bots_tags(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        await make_tag(session, other.bot_id, "Secret")
        body = (await api.get("/flow/tags")).json()
        assert body["data"] == []
        assert body["meta"]["total"] == 0


class TestCreateTag:
    async def test_answers_the_new_tag_wrapped_in_data(
        self, api: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        response = await api.post("/flow/create-tag", json={"name": "VIP"})
        assert response.status_code == 200
        assert response.json()["data"] == {"name": "VIP", "tag_ns": f"f{tenant.bot_id}t1"}
        listed = (await api.get("/flow/tags")).json()["data"]
        assert listed == [{"name": "VIP", "tag_ns": f"f{tenant.bot_id}t1"}]

    async def test_numbers_never_repeat_after_a_delete(
        self, api: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        first = (await api.post("/flow/create-tag", json={"name": "A"})).json()["data"]
        await api.request("DELETE", "/flow/delete-tag", json={"tag_ns": first["tag_ns"]})
        second = (await api.post("/flow/create-tag", json={"name": "B"})).json()["data"]
        assert second["tag_ns"] == f"f{tenant.bot_id}t2"

    async def test_missing_name_answers_422_per_field(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/flow/create-tag", json={})
        assert response.status_code == 422
        assert response.json() == {
            "message": "The name field is required.",
            "errors": {"name": ["The name field is required."]},
        }

    async def test_blank_name_answers_422(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/flow/create-tag", json={"name": "   "})
        assert response.status_code == 422
        assert response.json()["errors"] == {"name": ["The name field is required."]}

    async def test_duplicate_name_answers_422_and_keeps_one_tag(
        self, api: httpx.AsyncClient
    ) -> None:
        await api.post("/flow/create-tag", json={"name": "VIP"})
        response = await api.post("/flow/create-tag", json={"name": "VIP"})
        assert response.status_code == 422
        assert response.json()["message"] == "The name has already been taken."
        assert (await api.get("/flow/tags")).json()["meta"]["total"] == 1

    async def test_body_that_is_not_json_answers_422(self, api: httpx.AsyncClient) -> None:
        response = await api.post(
            "/flow/create-tag", content=b"{name", headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422
        assert "message" in response.json()


class TestDeleteTag:
    async def test_deletes_by_tag_ns(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        tag_ns = await make_tag(session, tenant.bot_id, "VIP")
        response = await api.request("DELETE", "/flow/delete-tag", json={"tag_ns": tag_ns})
        assert response.json() == {"status": "ok"}
        assert (await api.get("/flow/tags")).json()["data"] == []

    async def test_unknown_tag_answers_404(self, api: httpx.AsyncClient, tenant: Tenant) -> None:
        response = await api.request(
            "DELETE", "/flow/delete-tag", json={"tag_ns": f"f{tenant.bot_id}t99"}
        )
        assert response.status_code == 404
        assert response.json() == {"message": "Tag not found"}

    async def test_another_bots_tag_is_not_found_and_survives(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
        client_for: ClientFor,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        tag_ns = await make_tag(session, other.bot_id, "Theirs")
        response = await api.request("DELETE", "/flow/delete-tag", json={"tag_ns": tag_ns})
        assert response.status_code == 404
        theirs = client_for(other.token)
        assert (await theirs.get("/flow/tags")).json()["meta"]["total"] == 1

    async def test_malformed_tag_ns_answers_404(self, api: httpx.AsyncClient) -> None:
        response = await api.request("DELETE", "/flow/delete-tag", json={"tag_ns": "nonsense"})
        assert response.status_code == 404

    async def test_deletes_by_name(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_tag(session, tenant.bot_id, "VIP")
        await make_tag(session, tenant.bot_id, "Lead")
        response = await api.request("DELETE", "/flow/delete-tag-by-name", json={"name": "VIP"})
        assert response.json() == {"status": "ok"}
        assert [t["name"] for t in (await api.get("/flow/tags")).json()["data"]] == ["Lead"]

    async def test_unknown_name_answers_404(self, api: httpx.AsyncClient) -> None:
        response = await api.request("DELETE", "/flow/delete-tag-by-name", json={"name": "Nope"})
        assert response.status_code == 404
        assert response.json() == {"message": "Tag not found"}
