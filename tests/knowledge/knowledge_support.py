"""Shared steps of the knowledge base tests."""

from __future__ import annotations

from typing import Any

import httpx

from fake_openai import API_KEY, FakeOpenAI


async def connect_openai(
    api: httpx.AsyncClient, fake: FakeOpenAI, *, api_key: str = API_KEY
) -> None:
    saved = await api.post(
        "/integration/openai", json={"api_key": api_key, "base_url": fake.base_url}
    )
    assert saved.status_code == 200, saved.text
    fake.reset()


async def create(api: httpx.AsyncClient, heading: str, text: str, **extra: Any) -> dict[str, Any]:
    made = await api.post(
        "/openai-embeddings/create", json={"heading": heading, "text": text, **extra}
    )
    assert made.status_code == 200, made.text
    data: dict[str, Any] = made.json()["data"]
    return data


async def rows(api: httpx.AsyncClient, **query: Any) -> list[dict[str, Any]]:
    listed = await api.get("/openai-embeddings", params={"limit": 100, **query})
    assert listed.status_code == 200, listed.text
    found: list[dict[str, Any]] = listed.json()["data"]
    return found
