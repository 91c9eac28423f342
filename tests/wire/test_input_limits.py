"""Bounds on what a request may carry, each refused with a clear 4xx, and request ids."""

from __future__ import annotations

import re

import httpx

from konversation.wire.params import MAX_PAGE


async def test_a_body_over_the_size_limit_is_refused_with_413(api: httpx.AsyncClient) -> None:
    name = "x" * 1_100_000
    answer = await api.post("/flow/create-tag", json={"name": name})
    assert answer.status_code == 413
    assert answer.json() == {
        "message": "The request body is larger than the 1,048,576 bytes allowed."
    }
    assert (await api.get("/flow/tags")).json()["data"] == []


async def test_a_streamed_body_over_the_limit_is_refused_too(api: httpx.AsyncClient) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b" " * 100_000

    answer = await api.post(
        "/flow/create-tag", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413


async def test_a_page_past_the_last_possible_one_is_refused(api: httpx.AsyncClient) -> None:
    answer = await api.get("/flow/tags", params={"page": MAX_PAGE + 1})
    assert answer.status_code == 422
    assert answer.json()["errors"] == {"page": [f"The page field must be at most {MAX_PAGE}."]}
    huge = await api.get("/subscribers", params={"page": 10**30})
    assert huge.status_code == 422


async def test_a_page_beyond_the_data_is_an_empty_page(api: httpx.AsyncClient) -> None:
    answer = await api.get("/flow/tags", params={"page": MAX_PAGE})
    assert answer.status_code == 200
    assert answer.json()["data"] == []


async def test_every_answer_carries_a_request_id(
    api: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    ids = [
        (await api.get("/flow/tags")).headers["X-Request-Id"],
        (await api.get("/no-such-operation")).headers["X-Request-Id"],
        (await client.get("/api/flow/tags")).headers["X-Request-Id"],
    ]
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in ids)
    assert len(set(ids)) == 3


async def test_a_callers_own_request_id_is_kept_when_plain(api: httpx.AsyncClient) -> None:
    kept = await api.get("/flow/tags", headers={"X-Request-Id": "n8n-run-42:step.3"})
    replaced = await api.get("/flow/tags", headers={"X-Request-Id": "<script>" + "x" * 80})
    assert kept.headers["X-Request-Id"] == "n8n-run-42:step.3"
    assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["X-Request-Id"])
