"""The Team Label group: the workspace's labels, listed, created and deleted with Manage Team."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from builders import ClientFor, Sessions, Tenant, make_key, make_subscriber, make_tenant
from konversation.keys.models import Permission
from konversation.subscribers.service import labels_of


async def _create(api: httpx.AsyncClient, name: str) -> int:
    response = await api.post("/team/create-label", json={"name": name})
    assert response.status_code == 200
    return int(response.json()["data"]["id"])


async def _names(api: httpx.AsyncClient) -> list[str]:
    return [label["name"] for label in (await api.get("/team/labels")).json()["data"]]


class TestListLabels:
    async def test_lists_labels_in_creation_order_with_meta(self, api: httpx.AsyncClient) -> None:
        ids = [await _create(api, name) for name in ("Priority", "Billing", "Refund")]
        response = await api.get("/team/labels")
        assert response.status_code == 200
        body = response.json()
        assert body["data"] == [
            {"id": ids[0], "name": "Priority"},
            {"id": ids[1], "name": "Billing"},
            {"id": ids[2], "name": "Refund"},
        ]
        assert body["meta"] == {
            "current_page": 1, "last_page": 1, "per_page": 10, "total": 3, "from": 1, "to": 3
        }  # fmt: skip

    async def test_honours_limit_and_page(self, api: httpx.AsyncClient) -> None:
        for n in range(5):
            await _create(api, f"label {n}")
        body = (await api.get("/team/labels", params={"limit": 2, "page": 3})).json()
        assert [label["name"] for label in body["data"]] == ["label 4"]
        assert body["meta"]["last_page"] == 3

    async def test_filters_by_part_of_the_name(self, api: httpx.AsyncClient) -> None:
        for name in ("Billing", "Rebill", "Refund"):
            await _create(api, name)
        body = (await api.get("/team/labels", params={"name": "BILL"})).json()
        assert [label["name"] for label in body["data"]] == ["Billing", "Rebill"]

    async def test_shows_only_the_keys_workspace(
        self,
        api: httpx.AsyncClient,
        sessions: Sessions,
        server_secret: bytes,
        client_for: ClientFor,
    ) -> None:
        await _create(api, "Ours")
        other = await make_tenant(sessions, server_secret)
        await _create(client_for(other.token), "Theirs")
        assert await _names(api) == ["Ours"]

    async def test_a_key_without_manage_team_answers_403(
        self,
        session: AsyncSession,
        server_secret: bytes,
        tenant: Tenant,
        client_for: ClientFor,
    ) -> None:
        token = await make_key(
            session, server_secret, tenant, permissions=[Permission.MANAGE_FLOW.value]
        )
        response = await client_for(token).get("/team/labels")
        assert response.status_code == 403
        assert response.json()["message"]

    async def test_a_workspace_key_without_a_bot_is_enough(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        server_secret: bytes,
        tenant: Tenant,
        client_for: ClientFor,
    ) -> None:
        await _create(api, "Priority")
        token = await make_key(
            session, server_secret, tenant, permissions=[Permission.MANAGE_TEAM.value], bot_id=None
        )
        assert await _names(client_for(token)) == ["Priority"]


class TestCreateLabel:
    async def test_answers_the_new_label_wrapped_in_data(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/team/create-label", json={"name": "Priority"})
        assert response.status_code == 200
        data = response.json()["data"]
        assert data == {"id": data["id"], "name": "Priority"}
        assert isinstance(data["id"], int)

    async def test_a_name_in_use_answers_422(self, api: httpx.AsyncClient) -> None:
        await _create(api, "Priority")
        response = await api.post("/team/create-label", json={"name": "Priority"})
        assert response.status_code == 422
        assert response.json() == {
            "message": "The name has already been taken.",
            "errors": {"name": ["The name has already been taken."]},
        }
        assert await _names(api) == ["Priority"]

    async def test_another_workspace_may_use_the_same_name(
        self,
        api: httpx.AsyncClient,
        sessions: Sessions,
        server_secret: bytes,
        client_for: ClientFor,
    ) -> None:
        await _create(api, "Priority")
        other = await make_tenant(sessions, server_secret)
        await _create(client_for(other.token), "Priority")

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({}, "The name field is required."),
            ({"name": "   "}, "The name field is required."),
            ({"name": "x" * 256}, "The name field must not be greater than 255 characters."),
        ],
    )
    async def test_a_missing_blank_or_long_name_answers_422(
        self, api: httpx.AsyncClient, body: dict[str, str], message: str
    ) -> None:
        response = await api.post("/team/create-label", json=body)
        assert response.status_code == 422
        assert response.json()["errors"] == {"name": [message]}
        assert await _names(api) == []


class TestDeleteLabel:
    async def test_deletes_the_label_and_takes_it_off_subscribers(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
    ) -> None:
        priority = await _create(api, "Priority")
        await _create(api, "Billing")
        sam = await make_subscriber(session, tenant.bot_id)
        await api.post(
            "/subscriber/add-labels-by-name",
            json={"user_ns": f"f{tenant.bot_id}u{sam.number}", "data": ["Priority", "Billing"]},
        )
        response = await api.request("DELETE", "/team/delete-label", json={"id": priority})
        assert response.json() == {"status": "ok"}
        assert await _names(api) == ["Billing"]
        async with sessions() as fresh:
            assert [label.name for label in (await labels_of(fresh, [sam.id]))[sam.id]] == [
                "Billing"
            ]

    async def test_works_with_the_id_in_the_query_string(self, api: httpx.AsyncClient) -> None:
        priority = await _create(api, "Priority")
        response = await api.delete("/team/delete-label", params={"id": priority})
        assert response.json() == {"status": "ok"}
        assert await _names(api) == []

    async def test_an_unknown_id_answers_404(self, api: httpx.AsyncClient) -> None:
        response = await api.request("DELETE", "/team/delete-label", json={"id": 12345})
        assert response.status_code == 404
        assert response.json() == {"message": "Label not found"}

    async def test_a_label_of_another_workspace_is_not_found_and_kept(
        self,
        api: httpx.AsyncClient,
        sessions: Sessions,
        server_secret: bytes,
        client_for: ClientFor,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        theirs = client_for(other.token)
        label_id = await _create(theirs, "Theirs")
        response = await api.request("DELETE", "/team/delete-label", json={"id": label_id})
        assert response.status_code == 404
        assert await _names(theirs) == ["Theirs"]

    async def test_an_id_that_is_not_a_number_answers_422(self, api: httpx.AsyncClient) -> None:
        response = await api.request("DELETE", "/team/delete-label", json={"id": "first"})
        assert response.status_code == 422
        assert response.json()["errors"] == {"id": ["The id field must be an integer."]}


class TestDeleteLabelByName:
    async def test_deletes_the_named_label_as_a_post_with_the_method_override(
        self, api: httpx.AsyncClient
    ) -> None:
        await _create(api, "Priority")
        await _create(api, "Billing")
        response = await api.post(
            "/team/delete-label-by-name",
            json={"name": "Priority"},
            headers={"X-HTTP-Method-Override": "DELETE"},
        )
        assert response.json() == {"status": "ok"}
        assert await _names(api) == ["Billing"]

    async def test_an_unknown_name_answers_404(self, api: httpx.AsyncClient) -> None:
        await _create(api, "Priority")
        response = await api.request(
            "DELETE", "/team/delete-label-by-name", json={"name": "priority"}
        )
        assert response.status_code == 404
        assert response.json() == {"message": "Label not found"}
        assert await _names(api) == ["Priority"]
