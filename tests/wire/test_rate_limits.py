"""Per-key rate limits: the headers on every answer, 429 over the limit, one count per class of
operation and key, shared through Redis by every process."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from builders import Tenant, make_tenant
from konversation.app import create_app
from konversation.settings import Settings
from konversation.wire.limits import (
    Limits,
    OperationClass,
    RateLimiter,
    RedisCounter,
    operation_class,
)

REDIS_URL = "redis://127.0.0.1:6379/0"
REFERENCE = Path(__file__).parent.parent / "data" / "reference_operations.json"
NOW = 1_800_000_000.25  # a quarter into a second: the count starts again in one second

AppMaker = Callable[..., AbstractAsyncContextManager[FastAPI]]


@pytest.fixture
def limited_app(settings: Settings) -> AppMaker:
    """Make apps with the given limits, their clock stopped at NOW."""

    @asynccontextmanager
    async def make(**limits: Any) -> AsyncIterator[FastAPI]:
        app = create_app(settings.model_copy(update=limits))
        app.state.rate_limiter.clock = lambda: NOW
        async with app.router.lifespan_context(app):
            yield app

    return make


def client(app: FastAPI, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://testserver/api",
        headers={"Authorization": f"Bearer {token}"},
    )


def standing(response: httpx.Response) -> tuple[str, str, str]:
    headers = response.headers
    return (
        headers["RateLimit-Limit"],
        headers["RateLimit-Remaining"],
        headers["RateLimit-Reset"],
    )


async def test_every_answer_says_how_many_calls_the_key_has_left(
    limited_app: AppMaker, tenant: Tenant
) -> None:
    async with limited_app(rate_limit_reads=3) as app, client(app, tenant.token) as api:
        answers = [await api.get("/flow/tags") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [standing(a) for a in answers] == [("3", "2", "1"), ("3", "1", "1"), ("3", "0", "1")]
    assert answers[0].headers["X-RateLimit-Limit"] == "3"
    assert answers[0].headers["X-RateLimit-Remaining"] == "2"


async def test_a_call_over_the_limit_is_refused_until_the_next_second(
    limited_app: AppMaker, tenant: Tenant
) -> None:
    async with limited_app(rate_limit_reads=2) as app, client(app, tenant.token) as api:
        for _ in range(2):
            assert (await api.get("/flow/tags")).status_code == 200
        refused = await api.get("/flow/tags")
        app.state.rate_limiter.clock = lambda: NOW + 1
        next_second = await api.get("/flow/tags")
    assert refused.status_code == 429
    assert refused.json() == {"message": "Too Many Attempts."}
    assert refused.headers["Retry-After"] == "1"
    assert standing(refused) == ("2", "0", "1")
    assert next_second.status_code == 200
    assert standing(next_second) == ("2", "1", "1")


async def test_a_refused_write_changes_nothing(limited_app: AppMaker, tenant: Tenant) -> None:
    async with limited_app(rate_limit_writes=1) as app, client(app, tenant.token) as api:
        first = await api.post("/flow/create-tag", json={"name": "First"})
        second = await api.post("/flow/create-tag", json={"name": "Second"})
        app.state.rate_limiter.clock = lambda: NOW + 5
        tags = (await api.get("/flow/tags")).json()["data"]
    assert (first.status_code, second.status_code) == (200, 429)
    assert [tag["name"] for tag in tags] == ["First"]


async def test_reads_sends_and_other_writes_are_counted_apart(
    limited_app: AppMaker, tenant: Tenant
) -> None:
    limits = {"rate_limit_reads": 3, "rate_limit_sends": 2, "rate_limit_writes": 1}
    async with limited_app(**limits) as app, client(app, tenant.token) as api:
        write = await api.post("/flow/create-tag", json={"name": "Lead"})
        send = await api.post("/subscriber/send-text", json={"user_ns": "nobody", "text": "hi"})
        read = await api.get("/flow/tags")
        second_write = await api.post("/flow/create-tag", json={"name": "Other"})
    assert write.status_code == 200
    assert send.status_code != 429  # refused for its content, counted as a send
    assert read.status_code == 200
    assert [standing(r)[:2] for r in (write, send, read)] == [("1", "0"), ("2", "1"), ("3", "2")]
    assert second_write.status_code == 429


async def test_each_key_has_its_own_count(
    limited_app: AppMaker,
    tenant: Tenant,
    sessions: async_sessionmaker[AsyncSession],
    server_secret: bytes,
) -> None:
    other = await make_tenant(sessions, server_secret)
    async with (
        limited_app(rate_limit_reads=1) as app,
        client(app, tenant.token) as first,
        client(app, other.token) as second,
    ):
        await first.get("/flow/tags")
        refused = await first.get("/flow/tags")
        other_key = await second.get("/flow/tags")
    assert refused.status_code == 429
    assert other_key.status_code == 200


async def test_the_override_method_is_the_one_counted(
    limited_app: AppMaker, tenant: Tenant
) -> None:
    """A POST asking to be a DELETE is a write, not a free read of any kind."""
    override = {"X-HTTP-Method-Override": "DELETE"}
    async with (
        limited_app(rate_limit_writes=1, rate_limit_reads=5) as app,
        client(app, tenant.token) as api,
    ):
        deleted = await api.post("/flow/delete-tag", json={"tag_ns": "f1t9"}, headers=override)
    assert standing(deleted)[:2] == ("1", "0")


def _reference_operations() -> list[tuple[str, str]]:
    operations = json.loads(REFERENCE.read_text("utf-8"))["operations"]
    return [(op["method"], op["path"]) for op in operations]


def test_every_operation_of_the_api_falls_in_one_class() -> None:
    classes = {op: operation_class(*op) for op in _reference_operations()}
    sends = sorted(path for (method, path), kind in classes.items() if kind is OperationClass.SEND)
    assert all(kind is OperationClass.READ for (m, _), kind in classes.items() if m == "GET")
    assert sends == sorted(
        path
        for method, path in classes
        if method == "POST" and ("/send-" in path or "/broadcast" in path)
    )
    assert {"/subscriber/send-text", "/subscriber/broadcast-by-tag"} <= set(sends)
    assert operation_class("POST", "/flow/create-tag") is OperationClass.WRITE


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    prefix = f"test-{uuid.uuid4().hex}"
    yield prefix
    async with Redis.from_url(REDIS_URL) as redis:
        keys = [key async for key in redis.scan_iter(f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)


async def test_with_redis_every_process_shares_one_count_per_key(
    limited_app: AppMaker, tenant: Tenant, redis_prefix: str
) -> None:
    shared = {"redis_url": REDIS_URL, "redis_queue": redis_prefix, "rate_limit_reads": 3}
    async with (
        limited_app(**shared) as one,
        limited_app(**shared) as two,
        client(one, tenant.token) as first,
        client(two, tenant.token) as second,
    ):
        answers = [await first.get("/flow/tags"), await second.get("/flow/tags")]
        answers += [await first.get("/flow/tags"), await second.get("/flow/tags")]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]


async def test_calls_go_through_when_redis_cannot_be_reached() -> None:
    """A limit that cannot be counted lets the call through rather than failing every call."""
    counter = RedisCounter(Redis.from_url("redis://127.0.0.1:1/0"), "nowhere")
    limiter = RateLimiter(Limits(read=1, send=1, write=1), counter)
    try:
        verdicts = [await limiter.check(OperationClass.READ, "key:a") for _ in range(3)]
    finally:
        await limiter.close()
    assert [v is not None and v.allowed for v in verdicts] == [True, True, True]


async def test_the_api_document_states_the_limits_on_every_operation(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/api-docs")).json()
    operations = [op for item in document["paths"].values() for op in item.values()]
    assert "Too Many Attempts." in document["info"]["description"]
    for operation in operations:
        responses = operation["responses"]
        assert "429" in responses, operation["operationId"]
        assert "Retry-After" in responses["429"]["headers"]
        for response in responses.values():
            assert set(response["headers"]) >= {
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Reset",
            }
