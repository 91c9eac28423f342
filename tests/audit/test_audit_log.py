"""What the audit log records: keys created and revoked, and every deletion made through the API,
with who, when, what and the request id the caller was answered with."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from builders import Tenant
from konversation.audit.models import AuditEntry
from konversation.audit.service import Actor
from konversation.db import session_scope
from konversation.keys import service as keys


async def _entries(session: AsyncSession, *actions: str) -> list[AuditEntry]:
    """The entries of `actions`, oldest first, as the app committed them."""
    await session.rollback()
    query = select(AuditEntry).where(AuditEntry.action.in_(actions)).order_by(AuditEntry.id)
    return list((await session.scalars(query)).all())


async def test_a_deletion_through_the_api_is_logged_with_its_key_and_request_id(
    api: httpx.AsyncClient, tenant: Tenant, session: AsyncSession
) -> None:
    created = await api.post("/flow/create-tag", json={"name": "Old"})
    tag_ns = created.json()["data"]["tag_ns"]
    deleted = await api.request("DELETE", "/flow/delete-tag", json={"tag_ns": tag_ns})
    assert deleted.status_code == 200
    [entry] = await _entries(session, "api.delete")
    assert entry.action == "api.delete"
    assert (entry.actor_kind, entry.actor_id) == ("key", tenant.key_id)
    assert entry.workspace_id == tenant.workspace_id
    assert entry.target == "DELETE /api/flow/delete-tag"
    assert entry.details == {"bot_id": tenant.bot_id, "body": {"tag_ns": tag_ns}}
    assert entry.request_id == deleted.headers["X-Request-Id"]


async def test_a_deletion_sent_as_a_post_with_the_override_is_logged_too(
    api: httpx.AsyncClient, session: AsyncSession
) -> None:
    tag_ns = (await api.post("/flow/create-tag", json={"name": "Old"})).json()["data"]["tag_ns"]
    answer = await api.post(
        "/flow/delete-tag",
        json={"tag_ns": tag_ns},
        headers={"X-HTTP-Method-Override": "DELETE", "X-Request-Id": "crm-sync-7"},
    )
    assert answer.status_code == 200
    [entry] = await _entries(session, "api.delete")
    assert entry.request_id == "crm-sync-7"


async def test_refused_deletions_and_other_calls_leave_no_entry(
    api: httpx.AsyncClient, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    missing = await api.request("DELETE", "/flow/delete-tag", json={"tag_ns": "f1t999"})
    unauthenticated = await client.request(
        "DELETE", "/api/flow/delete-tag", json={"tag_ns": "f1t1"}
    )
    read = await api.get("/flow/tags")
    assert (missing.status_code, unauthenticated.status_code, read.status_code) == (404, 401, 200)
    assert await _entries(session, "api.delete") == []


async def test_keys_created_and_revoked_are_logged_with_who_did_it(
    sessions: async_sessionmaker[AsyncSession],
    tenant: Tenant,
    server_secret: bytes,
    session: AsyncSession,
) -> None:
    admin = Actor.user(tenant.owner_id, "ada@example.com").at("req-1", "127.0.0.1")
    async with session_scope(sessions) as writing:
        issued = await keys.create_key(
            writing,
            tenant.workspace_id,
            name="Zapier",
            bot_id=tenant.bot_id,
            permissions=["Manage Flow"],
            server_secret=server_secret,
            by=admin,
        )
    async with session_scope(sessions) as writing:
        await keys.revoke_key(writing, issued.key.id, by=Actor.command_line())
        await keys.revoke_key(writing, issued.key.id, by=Actor.command_line())  # no-op
    _tenants_own, created, revoked = await _entries(session, "key.created", "key.revoked")
    assert (created.action, created.actor_kind, created.actor_id) == (
        "key.created",
        "user",
        tenant.owner_id,
    )
    assert (created.request_id, created.address) == ("req-1", "127.0.0.1")
    assert created.target == f"API key {issued.key.id} (Zapier)"
    assert created.details["permissions"] == ["Manage Flow"]
    assert issued.token not in str(created.details)
    assert (revoked.action, revoked.actor_kind) == ("key.revoked", "cli")
    assert created.workspace_id == revoked.workspace_id == tenant.workspace_id
