"""Product types, vendors and product tags: named lists of the workspace's shop."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from builders import ClientFor, Sessions, Tenant, make_key, make_tenant
from konversation.keys.models import Permission

KINDS = ("product-types", "product-vendors", "product-tags")
MISSING = {
    "product-types": "Product type not found",
    "product-vendors": "Product vendor not found",
    "product-tags": "Product tag not found",
}

pytestmark = pytest.mark.parametrize("kind", KINDS)


async def _create(api: httpx.AsyncClient, kind: str, name: str) -> int:
    response = await api.post(f"/shop/{kind}/create", json={"name": name})
    assert response.status_code == 200, response.text
    return int(response.json()["data"]["id"])


async def _names(api: httpx.AsyncClient, kind: str, **params: str | int) -> list[str]:
    response = await api.get(f"/shop/{kind}", params=params)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["data"]]


class TestList:
    async def test_lists_in_creation_order_with_meta(
        self, api: httpx.AsyncClient, kind: str
    ) -> None:
        ids = [await _create(api, kind, name) for name in ("Shirts", "Hats", "Socks")]
        body = (await api.get(f"/shop/{kind}")).json()
        assert body["data"] == [
            {"id": ids[0], "name": "Shirts"},
            {"id": ids[1], "name": "Hats"},
            {"id": ids[2], "name": "Socks"},
        ]
        assert body["meta"] == {
            "current_page": 1, "last_page": 1, "per_page": 10, "total": 3, "from": 1, "to": 3
        }  # fmt: skip

    async def test_honours_limit_and_page(self, api: httpx.AsyncClient, kind: str) -> None:
        for n in range(5):
            await _create(api, kind, f"item {n}")
        body = (await api.get(f"/shop/{kind}", params={"limit": 2, "page": 2})).json()
        assert [item["name"] for item in body["data"]] == ["item 2", "item 3"]
        assert body["meta"] == {
            "current_page": 2, "last_page": 3, "per_page": 2, "total": 5, "from": 3, "to": 4
        }  # fmt: skip

    async def test_filters_by_part_of_the_name(self, api: httpx.AsyncClient, kind: str) -> None:
        for name in ("Summer 100%", "Winter", "summertime"):
            await _create(api, kind, name)
        assert await _names(api, kind, name="SUMMER") == ["Summer 100%", "summertime"]
        assert await _names(api, kind, name="100%") == ["Summer 100%"]

    async def test_shows_only_the_keys_workspace(
        self,
        api: httpx.AsyncClient,
        kind: str,
        sessions: Sessions,
        server_secret: bytes,
        client_for: ClientFor,
    ) -> None:
        await _create(api, kind, "Ours")
        other = await make_tenant(sessions, server_secret)
        await _create(client_for(other.token), kind, "Theirs")
        assert await _names(api, kind) == ["Ours"]

    async def test_a_key_without_manage_team_answers_403(
        self,
        kind: str,
        session: AsyncSession,
        server_secret: bytes,
        tenant: Tenant,
        client_for: ClientFor,
    ) -> None:
        token = await make_key(
            session, server_secret, tenant, permissions=[Permission.MANAGE_FLOW.value]
        )
        response = await client_for(token).get(f"/shop/{kind}")
        assert response.status_code == 403
        assert response.json()["message"]

    async def test_a_workspace_key_without_a_bot_is_enough(
        self,
        api: httpx.AsyncClient,
        kind: str,
        session: AsyncSession,
        server_secret: bytes,
        tenant: Tenant,
        client_for: ClientFor,
    ) -> None:
        await _create(api, kind, "Shirts")
        token = await make_key(
            session, server_secret, tenant, permissions=[Permission.MANAGE_TEAM.value], bot_id=None
        )
        assert await _names(client_for(token), kind) == ["Shirts"]


class TestCreate:
    async def test_answers_the_new_item(self, api: httpx.AsyncClient, kind: str) -> None:
        response = await api.post(f"/shop/{kind}/create", json={"name": "  Shirts  "})
        assert response.status_code == 200
        body = response.json()
        assert body == {"status": "ok", "data": {"id": body["data"]["id"], "name": "Shirts"}}

    async def test_a_name_in_use_answers_422(self, api: httpx.AsyncClient, kind: str) -> None:
        await _create(api, kind, "Shirts")
        response = await api.post(f"/shop/{kind}/create", json={"name": "Shirts"})
        assert response.status_code == 422
        assert response.json()["errors"] == {"name": ["The name has already been taken."]}

    async def test_the_same_name_in_another_workspace_is_fine(
        self,
        api: httpx.AsyncClient,
        kind: str,
        sessions: Sessions,
        server_secret: bytes,
        client_for: ClientFor,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        await _create(client_for(other.token), kind, "Shirts")
        await _create(api, kind, "Shirts")

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({}, "The name field is required."),
            ({"name": "   "}, "The name field is required."),
            ({"name": "x" * 256}, "The name field must not be greater than 255 characters."),
        ],
        ids=["missing", "blank", "too long"],
    )
    async def test_refuses_a_bad_name(
        self, api: httpx.AsyncClient, kind: str, body: dict[str, str], message: str
    ) -> None:
        response = await api.post(f"/shop/{kind}/create", json=body)
        assert response.status_code == 422
        assert response.json()["errors"] == {"name": [message]}


class TestGetInfo:
    async def test_answers_the_item(self, api: httpx.AsyncClient, kind: str) -> None:
        item_id = await _create(api, kind, "Shirts")
        response = await api.get(f"/shop/{kind}/{item_id}/get-info")
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "data": {"id": item_id, "name": "Shirts"}}

    async def test_an_unknown_id_answers_404(self, api: httpx.AsyncClient, kind: str) -> None:
        response = await api.get(f"/shop/{kind}/999999/get-info")
        assert response.status_code == 404
        assert response.json() == {"message": MISSING[kind]}

    async def test_another_workspaces_item_answers_404(
        self,
        api: httpx.AsyncClient,
        kind: str,
        sessions: Sessions,
        server_secret: bytes,
        client_for: ClientFor,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        theirs = await _create(client_for(other.token), kind, "Theirs")
        response = await api.get(f"/shop/{kind}/{theirs}/get-info")
        assert response.status_code == 404

    async def test_a_non_numeric_id_answers_422(self, api: httpx.AsyncClient, kind: str) -> None:
        response = await api.get(f"/shop/{kind}/abc/get-info")
        assert response.status_code == 422


class TestUpdate:
    async def test_renames(self, api: httpx.AsyncClient, kind: str) -> None:
        item_id = await _create(api, kind, "Shirts")
        response = await api.put(f"/shop/{kind}/{item_id}/update", json={"name": "Tees"})
        assert response.status_code == 200
        assert response.json()["data"] == {"id": item_id, "name": "Tees"}
        assert await _names(api, kind) == ["Tees"]

    async def test_keeping_its_own_name_is_fine(self, api: httpx.AsyncClient, kind: str) -> None:
        item_id = await _create(api, kind, "Shirts")
        response = await api.put(f"/shop/{kind}/{item_id}/update", json={"name": "Shirts"})
        assert response.status_code == 200

    async def test_an_empty_body_changes_nothing(self, api: httpx.AsyncClient, kind: str) -> None:
        item_id = await _create(api, kind, "Shirts")
        response = await api.put(f"/shop/{kind}/{item_id}/update", json={})
        assert response.status_code == 200
        assert response.json()["data"]["name"] == "Shirts"

    async def test_another_items_name_answers_422(self, api: httpx.AsyncClient, kind: str) -> None:
        await _create(api, kind, "Shirts")
        item_id = await _create(api, kind, "Hats")
        response = await api.put(f"/shop/{kind}/{item_id}/update", json={"name": "Shirts"})
        assert response.status_code == 422
        assert response.json()["errors"] == {"name": ["The name has already been taken."]}

    async def test_a_blank_name_answers_422(self, api: httpx.AsyncClient, kind: str) -> None:
        item_id = await _create(api, kind, "Shirts")
        response = await api.put(f"/shop/{kind}/{item_id}/update", json={"name": " "})
        assert response.status_code == 422

    async def test_an_unknown_id_answers_404(self, api: httpx.AsyncClient, kind: str) -> None:
        response = await api.put(f"/shop/{kind}/999999/update", json={"name": "Tees"})
        assert response.status_code == 404
        assert response.json() == {"message": MISSING[kind]}


class TestDelete:
    async def test_deletes(self, api: httpx.AsyncClient, kind: str) -> None:
        keep = await _create(api, kind, "Hats")
        item_id = await _create(api, kind, "Shirts")
        response = await api.delete(f"/shop/{kind}/{item_id}/delete")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert await _names(api, kind) == ["Hats"]
        assert (await api.get(f"/shop/{kind}/{item_id}/get-info")).status_code == 404
        assert (await api.get(f"/shop/{kind}/{keep}/get-info")).status_code == 200

    async def test_works_through_the_method_override(
        self, api: httpx.AsyncClient, kind: str
    ) -> None:
        item_id = await _create(api, kind, "Shirts")
        response = await api.post(
            f"/shop/{kind}/{item_id}/delete", headers={"X-HTTP-Method-Override": "DELETE"}
        )
        assert response.status_code == 200
        assert await _names(api, kind) == []

    async def test_an_unknown_id_answers_404(self, api: httpx.AsyncClient, kind: str) -> None:
        response = await api.delete(f"/shop/{kind}/999999/delete")
        assert response.status_code == 404
        assert response.json() == {"message": MISSING[kind]}

    async def test_another_workspaces_item_answers_404_and_stays(
        self,
        api: httpx.AsyncClient,
        kind: str,
        sessions: Sessions,
        server_secret: bytes,
        client_for: ClientFor,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        theirs_client = client_for(other.token)
        theirs = await _create(theirs_client, kind, "Theirs")
        assert (await api.delete(f"/shop/{kind}/{theirs}/delete")).status_code == 404
        assert await _names(theirs_client, kind) == ["Theirs"]
