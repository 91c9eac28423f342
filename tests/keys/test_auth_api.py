"""Bearer keys: who gets in, with which permissions, and what is stored of a key."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from builders import ClientFor, Sessions, Tenant, make_key
from konversation.audit.service import Actor
from konversation.errors import Invalid
from konversation.keys import service
from konversation.keys.models import ApiKey
from konversation.workspaces import service as workspaces


class TestAuthentication:
    @pytest.mark.parametrize(
        "header",
        [
            None,
            "Bearer",
            "Bearer not-a-key",
            "Basic dXNlcjpwYXNz",
            "Bearer kv_0000000000000000_" + "A" * 43,
        ],
    )
    async def test_missing_malformed_or_unknown_keys_answer_401(
        self, client: httpx.AsyncClient, header: str | None
    ) -> None:
        headers = {"Authorization": header} if header else {}
        response = await client.get("/api/flow/tags", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"message": "Unauthenticated."}

    async def test_a_known_prefix_with_a_wrong_secret_answers_401(
        self, client_for: ClientFor, tenant: Tenant
    ) -> None:
        forged = tenant.token[:-4] + ("AAAA" if not tenant.token.endswith("AAAA") else "BBBB")
        response = await client_for(forged).get("/flow/tags")
        assert response.status_code == 401

    async def test_a_revoked_key_stops_working_on_the_next_request(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        assert (await api.get("/flow/tags")).status_code == 200
        await service.revoke_key(session, tenant.key_id, by=Actor.command_line())
        await session.commit()
        response = await api.get("/flow/tags")
        assert response.status_code == 401
        assert response.json() == {"message": "Unauthenticated."}

    async def test_browser_headers_change_nothing(self, api: httpx.AsyncClient) -> None:
        response = await api.get(
            "/flow/tags",
            headers={
                "User-Agent": "Mozilla/5.0",
                "Origin": "https://crm.example",
                "Referer": "https://crm.example/page",
                "Content-Type": "application/json",
            },
        )
        assert response.status_code == 200


class TestPermissions:
    async def test_a_key_without_manage_flow_gets_403_on_bot_operations(
        self, client_for: ClientFor, session: AsyncSession, server_secret: bytes, tenant: Tenant
    ) -> None:
        token = await make_key(session, server_secret, tenant, permissions=["Manage Team"])
        response = await client_for(token).get("/flow/tags")
        assert response.status_code == 403
        assert response.json() == {"message": "This API key lacks the Manage Flow permission."}

    async def test_a_key_without_manage_team_gets_403_on_workspace_operations(
        self, client_for: ClientFor, session: AsyncSession, server_secret: bytes, tenant: Tenant
    ) -> None:
        token = await make_key(session, server_secret, tenant, permissions=["Manage Flow"])
        response = await client_for(token).get("/team-info")
        assert response.status_code == 403
        assert response.json() == {"message": "This API key lacks the Manage Team permission."}

    async def test_a_key_bound_to_no_bot_finds_no_flow(
        self, client_for: ClientFor, session: AsyncSession, server_secret: bytes, tenant: Tenant
    ) -> None:
        token = await make_key(
            session, server_secret, tenant, permissions=["Manage Flow", "Manage Team"], bot_id=None
        )
        response = await client_for(token).get("/flow/tags")
        assert response.status_code == 404
        assert response.json() == {"message": "Flow not found"}
        assert (await client_for(token).get("/team-info")).status_code == 200

    async def test_a_key_whose_bot_was_deleted_finds_no_flow(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await session.delete(await workspaces.get_bot(session, tenant.bot_id))
        await session.commit()
        response = await api.get("/flow/tags")
        assert response.status_code == 404
        assert response.json() == {"message": "Flow not found"}
        assert (await api.get("/me")).status_code == 200


class TestStoredKeys:
    async def test_only_a_digest_of_the_token_is_stored(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        rows = (await session.execute(text("SELECT * FROM api_keys"))).mappings().all()
        assert len(rows) == 1
        secret = tenant.token[len("kv_") + 16 + 1 :]  # the secret may hold underscores
        assert all(secret not in str(value) for value in rows[0].values())

    async def test_last_use_is_recorded(
        self, api: httpx.AsyncClient, sessions: Sessions, tenant: Tenant
    ) -> None:
        async with sessions() as fresh:
            assert (await fresh.get(ApiKey, tenant.key_id)).last_used_at is None  # type: ignore[union-attr]
        await api.get("/me")
        async with sessions() as fresh:
            key = await fresh.scalar(select(ApiKey).where(ApiKey.id == tenant.key_id))
            assert key is not None
            assert key.last_used_at is not None

    async def test_unknown_permissions_are_refused(
        self, session: AsyncSession, server_secret: bytes, tenant: Tenant
    ) -> None:
        with pytest.raises(Invalid, match=r"Unknown permission 'Root'"):
            await make_key(session, server_secret, tenant, permissions=["Root"])

    async def test_keys_are_listed_without_their_tokens(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        keys = await service.list_keys(session, tenant.workspace_id)
        assert [k.name for k in keys] == ["test key"]
        assert not hasattr(keys[0], "token")
