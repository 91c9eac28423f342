"""Fixtures of the knowledge base tests: the OpenAI stand-in, and the tenant's workspace
connected to it."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from knowledge_support import connect_openai

from fake_openai import FakeOpenAI, fake_openai_fixture, fake_openai_server_fixture  # noqa: F401
from konversation.jobs.runtime import Runtime


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    found: Runtime = app.state.runtime
    return found


@pytest.fixture
async def connected(api: httpx.AsyncClient, fake_openai: FakeOpenAI) -> FakeOpenAI:
    await connect_openai(api, fake_openai)
    return fake_openai
