"""The API key cache: a revoked key stops working at once in the revoking process and within a
second in any other process over the same database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from builders import Tenant
from konversation.app import create_app
from konversation.audit.service import Actor
from konversation.db import session_scope, utcnow
from konversation.keys import service
from konversation.keys.cache import TTL, KeyCache
from konversation.keys.models import ApiKey
from konversation.settings import Settings
from konversation.workspaces import service as workspaces


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def other_app(settings: Settings, clock: Clock) -> AsyncIterator[FastAPI]:
    """A second instance of the app over the same database, whose cache follows `clock`."""
    app = create_app(settings)
    app.state.key_cache = KeyCache(clock=clock)
    yield app
    await app.state.engine.dispose()


def client_on(app: FastAPI, tenant: Tenant) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://testserver/api",
        headers={"Authorization": f"Bearer {tenant.token}"},
    )


async def test_a_key_revoked_through_one_app_is_refused_at_once_by_it_and_by_another(
    app: FastAPI, other_app: FastAPI, api: httpx.AsyncClient, tenant: Tenant
) -> None:
    async with client_on(other_app, tenant) as other:
        assert (await api.get("/flow/tags")).status_code == 200
        assert (await other.get("/flow/tags")).status_code == 200
        async with session_scope(app.state.sessions) as session:
            await service.revoke_key(session, tenant.key_id, by=Actor.command_line())
        assert (await api.get("/flow/tags")).status_code == 401
        assert (await other.get("/flow/tags")).status_code == 401


async def test_a_key_revoked_by_another_process_is_refused_once_the_entry_has_lived_its_second(
    other_app: FastAPI, engine: AsyncEngine, tenant: Tenant, clock: Clock
) -> None:
    async with client_on(other_app, tenant) as other:
        assert (await other.get("/flow/tags")).status_code == 200
        # Another process's revocation: a write this process's caches never hear of.
        async with engine.begin() as connection:
            await connection.execute(
                update(ApiKey).where(ApiKey.id == tenant.key_id).values(revoked_at=utcnow())
            )
        assert (await other.get("/flow/tags")).status_code == 200, "served from the cache"
        clock.now += TTL
        response = await other.get("/flow/tags")
        assert response.status_code == 401
        assert response.json() == {"message": "Unauthenticated."}


async def test_a_known_prefix_with_a_wrong_secret_is_refused_even_when_cached(
    api: httpx.AsyncClient, tenant: Tenant
) -> None:
    assert (await api.get("/flow/tags")).status_code == 200
    forged = tenant.token[:-4] + ("AAAA" if not tenant.token.endswith("AAAA") else "BBBB")
    response = await api.get("/flow/tags", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_a_cached_key_whose_bot_is_deleted_finds_no_flow_at_once(
    app: FastAPI, api: httpx.AsyncClient, tenant: Tenant
) -> None:
    assert (await api.get("/flow/tags")).status_code == 200
    async with session_scope(app.state.sessions) as session:
        await session.delete(await workspaces.get_bot(session, tenant.bot_id))
    response = await api.get("/flow/tags")
    assert response.status_code == 404
    assert response.json() == {"message": "Flow not found"}
