"""Fixtures of the WhatsApp tests: the app pointed at the fake Cloud API, the tenant's bot
connected to its business number, and the `order_shipped` template created and approved."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from whatsapp_support import SHIPPED

from builders import Tenant, app_with
from fake_whatsapp import (  # noqa: F401
    APP_SECRET,
    PHONE_NUMBER_ID,
    TOKEN,
    WABA_ID,
    FakeWhatsApp,
    fake_whatsapp_fixture,
    fake_whatsapp_server_fixture,
)
from konversation.channels import setup
from konversation.db import session_scope
from konversation.settings import Settings


@pytest.fixture
async def app(settings: Settings, fake_whatsapp: FakeWhatsApp) -> AsyncIterator[FastAPI]:
    async with app_with(settings, graph_api_base=fake_whatsapp.url) as app:
        yield app


@pytest.fixture
async def connected(app: FastAPI, tenant: Tenant, fake_whatsapp: FakeWhatsApp) -> Any:
    runtime = app.state.runtime
    account = setup.WhatsAppAccount(PHONE_NUMBER_ID, WABA_ID, TOKEN, APP_SECRET, "v")
    async with session_scope(runtime.sessions) as session:
        channel = await setup.connect_whatsapp(
            session, tenant.bot_id, account, graph=setup.GraphApi(runtime.http, fake_whatsapp.url)
        )
    fake_whatsapp.reset()
    return channel


@pytest.fixture
async def approved(api: httpx.AsyncClient, connected: Any, fake_whatsapp: FakeWhatsApp) -> None:
    assert (await api.post("/whatsapp-template/create", json=SHIPPED)).status_code == 200
    fake_whatsapp.approve("order_shipped")
    assert (await api.post("/whatsapp-template/sync")).status_code == 200
