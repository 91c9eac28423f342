"""`Idempotency-Key` on POSTs: the first answer again for a repeat, 422 for the same key on a
different request, and a key given up when the first attempt failed on our side."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from builders import Tenant, make_tenant
from konversation.db import session_scope, utcnow
from konversation.idempotency.models import IdempotentRequest


async def _tag_names(api: httpx.AsyncClient) -> list[str]:
    return [tag["name"] for tag in (await api.get("/flow/tags")).json()["data"]]


async def test_a_repeated_create_answers_the_same_and_creates_once(api: httpx.AsyncClient) -> None:
    key = {"Idempotency-Key": "tag-vip-1"}
    first = await api.post("/flow/create-tag", json={"name": "VIP"}, headers=key)
    again = await api.post("/flow/create-tag", json={"name": "VIP"}, headers=key)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["content-type"] == first.headers["content-type"]
    assert await _tag_names(api) == ["VIP"]


async def test_the_same_key_for_a_different_request_is_refused(api: httpx.AsyncClient) -> None:
    key = {"Idempotency-Key": "tag-1"}
    await api.post("/flow/create-tag", json={"name": "VIP"}, headers=key)
    other = await api.post("/flow/create-tag", json={"name": "Lead"}, headers=key)
    assert other.status_code == 422
    assert other.json() == {
        "message": "This Idempotency-Key was used for a different request.",
        "errors": {"Idempotency-Key": ["This Idempotency-Key was used for a different request."]},
    }
    assert await _tag_names(api) == ["VIP"]


async def test_a_refused_request_is_refused_the_same_way_again(api: httpx.AsyncClient) -> None:
    key = {"Idempotency-Key": "empty-name"}
    answers = [await api.post("/flow/create-tag", json={}, headers=key) for _ in range(2)]
    assert [a.status_code for a in answers] == [422, 422]
    assert answers[1].json() == answers[0].json()


async def test_keys_of_different_callers_do_not_meet(
    api: httpx.AsyncClient,
    client_for,  # type: ignore[no-untyped-def]
    sessions: async_sessionmaker[AsyncSession],
    server_secret: bytes,
) -> None:
    other = client_for((await make_tenant(sessions, server_secret)).token)
    key = {"Idempotency-Key": "same-key"}
    mine = await api.post("/flow/create-tag", json={"name": "Mine"}, headers=key)
    theirs = await other.post("/flow/create-tag", json={"name": "Theirs"}, headers=key)
    assert (mine.status_code, theirs.status_code) == (200, 200)
    assert "Idempotent-Replayed" not in theirs.headers
    assert [t["name"] for t in (await other.get("/flow/tags")).json()["data"]] == ["Theirs"]


async def test_a_key_older_than_a_day_starts_afresh(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    key = {"Idempotency-Key": "yesterday"}
    await api.post("/flow/create-tag", json={"name": "A"}, headers=key)
    async with session_scope(sessions) as session:
        await session.execute(
            update(IdempotentRequest).values(created_at=utcnow() - dt.timedelta(hours=25))
        )
    again = await api.post("/flow/create-tag", json={"name": "B"}, headers=key)
    assert again.status_code == 200
    assert "Idempotent-Replayed" not in again.headers
    assert sorted(await _tag_names(api)) == ["A", "B"]


async def test_a_malformed_key_is_refused(api: httpx.AsyncClient, tenant: Tenant) -> None:
    answer = await api.post(
        "/flow/create-tag", json={"name": "A"}, headers={"Idempotency-Key": "x" * 256}
    )
    assert answer.status_code == 422
    assert "Idempotency-Key" in answer.json()["errors"]
    assert await _tag_names(api) == []


async def test_the_api_document_offers_the_key_on_every_post(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api-docs")).json()
    posts = [item["post"] for item in document["paths"].values() if "post" in item]
    assert posts
    for operation in posts:
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        assert "Idempotency-Key" in names, operation["operationId"]
    assert "Idempotency-Key" in document["info"]["description"]
