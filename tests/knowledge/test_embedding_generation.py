"""Generating embeddings again: a background job that embeds every row in batches, reports its
progress, waits out a failing service and stops at a refused key with the reason."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from knowledge_support import connect_openai, rows

from fake_openai import FakeOpenAI
from konversation.jobs.runtime import Runtime
from konversation.knowledge import generate


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generate, "BATCH", 4)
    monkeypatch.setattr(generate, "RETRY_SECONDS", (0, 0, 0, 0))


async def _unembedded(api: httpx.AsyncClient, count: int) -> None:
    """`count` rows stored before OpenAI was connected."""
    body = {
        "rows": [{"heading": f"Topic {i}", "text": f"All about topic {i}"} for i in range(count)]
    }
    assert (await api.post("/openai-embeddings/import", json=body)).status_code == 200


async def _progress(api: httpx.AsyncClient) -> dict[str, Any]:
    followed = await api.get("/openai-embeddings/generate")
    assert followed.status_code == 200, followed.text
    data: dict[str, Any] = followed.json()["data"]
    return data


async def test_generate_embeds_every_row_in_batches_and_reports_progress(
    api: httpx.AsyncClient, fake_openai: FakeOpenAI, runtime: Runtime
) -> None:
    await _unembedded(api, 10)
    await connect_openai(api, fake_openai)

    started = await api.post("/openai-embeddings/generate")
    again = await api.post("/openai-embeddings/generate")

    assert started.status_code == 200
    assert started.json()["status"] == "ok"
    job = started.json()["data"]
    assert (job["status"], job["total"], job["done"]) == ("queued", 10, 0)
    assert again.json()["data"]["id"] == job["id"]  # one generation at a time
    await runtime.settle()
    done = await _progress(api)
    assert (done["id"], done["status"], done["done"], done["total"]) == (job["id"], "done", 10, 10)
    assert done["finished_at"] is not None
    assert all(row["embedded"] for row in await rows(api))
    batches = [call.body["input"] for call in fake_openai.calls_to("/v1/embeddings")]
    assert [len(batch) for batch in batches] == [4, 4, 2]
    assert batches[0][0] == "Topic 0\nAll about topic 0"


async def test_a_failing_service_is_tried_again_until_it_answers(
    api: httpx.AsyncClient, fake_openai: FakeOpenAI, runtime: Runtime
) -> None:
    await _unembedded(api, 3)
    await connect_openai(api, fake_openai)
    fake_openai.fail_next(503, times=2)

    await api.post("/openai-embeddings/generate")
    await runtime.settle()

    done = await _progress(api)
    assert (done["status"], done["done"], done["error"]) == ("done", 3, None)
    assert len(fake_openai.calls_to("/v1/embeddings")) == 3


async def test_a_refused_key_fails_the_generation_with_the_reason(
    api: httpx.AsyncClient, fake_openai: FakeOpenAI, runtime: Runtime
) -> None:
    await _unembedded(api, 3)
    await connect_openai(api, fake_openai, api_key="sk-revoked-key-0000")

    await api.post("/openai-embeddings/generate")
    await runtime.settle()

    failed = await _progress(api)
    assert (failed["status"], failed["done"]) == ("failed", 0)
    assert failed["error"] == "The OpenAI service answered 401: Incorrect API key provided."
    assert len(fake_openai.calls_to("/v1/embeddings")) == 1  # not tried again
    assert not any(row["embedded"] for row in await rows(api))


async def test_generate_needs_an_openai_integration(api: httpx.AsyncClient) -> None:
    refused = await api.post("/openai-embeddings/generate")
    never = await api.get("/openai-embeddings/generate")

    assert refused.status_code == 400
    assert "POST /integration/openai" in refused.json()["message"]
    assert never.status_code == 404
