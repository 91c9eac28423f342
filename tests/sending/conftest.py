"""Fixtures of the Sending tests: the tenant's bot connected to the API channel, whose webhook is
a sink on 127.0.0.1, and the app's runtime."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sending_support import HOOK

from builders import Sessions, Tenant, connect_api_channel
from fake_webhook import FakeWebhook, fake_webhook_fixture, fake_webhook_server_fixture  # noqa: F401
from konversation.jobs.runtime import Runtime


@pytest.fixture
async def webhook(sessions: Sessions, tenant: Tenant, fake_webhook: FakeWebhook) -> FakeWebhook:
    """The sink the tenant's bot posts its messages to, through its API channel."""
    await connect_api_channel(sessions, tenant.bot_id, f"{fake_webhook.url}{HOOK}")
    return fake_webhook


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime
