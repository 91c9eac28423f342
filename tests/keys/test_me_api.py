"""GET /me: the token check every client makes first."""

from __future__ import annotations

import httpx

from builders import Tenant


class TestMe:
    async def test_answers_the_key_owner(self, api: httpx.AsyncClient, tenant: Tenant) -> None:
        response = await api.get("/me")
        assert response.status_code == 200
        body = response.json()
        assert body["id"] == tenant.owner_id
        assert body["name"] == "Ada Owner"
        assert body["email"].endswith("@example.com")

    async def test_without_a_key_answers_401(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/me")
        assert response.status_code == 401
        assert response.json() == {"message": "Unauthenticated."}
