"""A paid order is created in the workspace's Dropi account in the background, once, with its
customer and items; Dropi's id for it is kept on our side. Dropi being down delays it and never
touches the order; a private address is never called."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from fastapi import FastAPI
from paid_orders_support import buy, calls_of, make_buyer, make_product, place, save, work_at

from builders import Sessions, Tenant
from fake_dropi import API_KEY, FakeDropi, fake_dropi_fixture, fake_dropi_server_fixture  # noqa: F401
from konversation.integrations.calls import CallStatus
from konversation.integrations.dropi import dropi_order_id
from konversation.integrations.kinds import Kind
from konversation.jobs.runtime import Runtime


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


async def connect(sessions: Sessions, secret: bytes, tenant: Tenant, url: str, key: str) -> None:
    await save(sessions, secret, tenant.workspace_id, Kind.DROPI, {"url": url, "api_key": key})


async def test_a_paid_order_is_created_in_dropi_and_its_id_kept(
    api: httpx.AsyncClient,
    sessions: Sessions,
    tenant: Tenant,
    runtime: Runtime,
    fake_dropi: FakeDropi,
    server_secret: bytes,
) -> None:
    await connect(sessions, server_secret, tenant, fake_dropi.url, API_KEY)
    _, order = await buy(api, sessions, tenant)
    await runtime.settle()
    sent = fake_dropi.created[f"konversation-order-{order['id']}"]
    assert sent["items"] == [
        {"sku": "TS-BLUE", "name": "T-shirt", "variant": "", "quantity": 2, "unit_price": 12.5}
    ]
    assert sent["customer"]["name"] == "Ada Lovelace"
    assert sent["total"] == 25.0
    async with sessions() as session:
        assert await dropi_order_id(session, tenant.workspace_id, order["id"]) == str(sent["id"])
        # Another workspace's lookup of the same order finds nothing.
        assert await dropi_order_id(session, tenant.workspace_id + 1, order["id"]) is None


async def test_dropi_down_is_retried_under_the_same_external_id_and_the_order_stands(
    api: httpx.AsyncClient,
    sessions: Sessions,
    tenant: Tenant,
    runtime: Runtime,
    fake_dropi: FakeDropi,
    server_secret: bytes,
) -> None:
    await connect(sessions, server_secret, tenant, fake_dropi.url, API_KEY)
    fake_dropi.fail_next(503)
    _, order = await buy(api, sessions, tenant)
    await runtime.settle()
    [call] = await calls_of(sessions, tenant, Kind.DROPI)
    assert (call.status, call.attempts, call.last_status_code) == (CallStatus.PENDING, 1, 503)
    assert fake_dropi.created == {}
    await work_at(runtime, call.next_attempt_at + dt.timedelta(seconds=1))
    assert list(fake_dropi.created) == [f"konversation-order-{order['id']}"]
    [call] = await calls_of(sessions, tenant, Kind.DROPI)
    assert (call.status, call.attempts) == (CallStatus.DONE, 2)


async def test_a_wrong_key_fails_for_good_and_a_private_url_is_never_called(
    api: httpx.AsyncClient,
    sessions: Sessions,
    tenant: Tenant,
    runtime: Runtime,
    fake_dropi: FakeDropi,
    server_secret: bytes,
) -> None:
    await connect(sessions, server_secret, tenant, fake_dropi.url, "wrong-key")
    variant = await make_product(sessions, tenant.workspace_id)
    buyer = await make_buyer(sessions, tenant.bot_id)
    await place(api, buyer, variant)
    await runtime.settle()
    [call] = await calls_of(sessions, tenant, Kind.DROPI)
    assert (call.status, call.last_status_code) == (CallStatus.FAILED, 401)

    await connect(sessions, server_secret, tenant, "http://10.1.2.3", API_KEY)
    await place(api, buyer, variant)
    await runtime.settle()
    _, refused = await calls_of(sessions, tenant, Kind.DROPI)
    assert refused.status == CallStatus.FAILED
    assert "private or reserved address" in (refused.last_error or "")
    assert fake_dropi.requests == 1
