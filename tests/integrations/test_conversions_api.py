"""A paid order reaches the workspace's Meta dataset as one Purchase server event, in the
background: hashed, normalised customer details, the value and the items, under an event id
that stays the same on every retry; a Graph API that fails never touches the order."""

from __future__ import annotations

import datetime as dt
import hashlib

import httpx
import pytest
from fastapi import FastAPI
from paid_orders_support import buy, calls_of, save, work_at

from builders import Sessions, Tenant
from fake_graph import DATASET, TOKEN, FakeGraph, fake_graph_fixture, fake_graph_server_fixture  # noqa: F401
from konversation.integrations.calls import CallStatus
from konversation.integrations.conversions import normal_phone, normal_text
from konversation.integrations.kinds import Kind
from konversation.jobs.runtime import Runtime

META = Kind.META_CONVERSIONS


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def runtime(app: FastAPI, fake_graph: FakeGraph, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    runtime: Runtime = app.state.runtime
    monkeypatch.setattr(runtime.settings, "graph_api_base", fake_graph.base)
    return runtime


@pytest.fixture
async def connected(sessions: Sessions, tenant: Tenant, server_secret: bytes) -> None:
    await save(
        sessions, server_secret, tenant.workspace_id, META, {"token": TOKEN, "dataset_id": DATASET}
    )


@pytest.mark.usefixtures("connected")
async def test_a_paid_order_is_sent_as_one_purchase_event(
    api: httpx.AsyncClient,
    sessions: Sessions,
    tenant: Tenant,
    runtime: Runtime,
    fake_graph: FakeGraph,
) -> None:
    buyer, order = await buy(api, sessions, tenant)
    await runtime.settle()
    [event] = fake_graph.events()
    assert event["event_name"] == "Purchase"
    assert event["event_id"] == f"konversation-order-{order['id']}"
    assert event["action_source"] == "chat"
    assert abs(event["event_time"] - dt.datetime.now(dt.UTC).timestamp()) < 120
    user = event["user_data"]
    assert user["em"] == [sha("ada@example.com")]
    assert user["ph"] == [sha("447700900123")]
    assert user["fn"] == [sha("ada")]
    assert user["ln"] == [sha("lovelace")]
    assert user["external_id"] == [sha(buyer)]
    custom = event["custom_data"]
    assert (custom["value"], custom["currency"]) == (25.0, order["currency"].lower())
    assert custom["contents"] == [{"id": "TS-BLUE", "quantity": 2, "item_price": 12.5}]
    [call] = await calls_of(sessions, tenant, META)
    assert (call.status, call.attempts) == (CallStatus.DONE, 1)


@pytest.mark.usefixtures("connected")
async def test_an_order_that_moves_on_after_payment_is_announced_once(
    api: httpx.AsyncClient,
    sessions: Sessions,
    tenant: Tenant,
    runtime: Runtime,
    fake_graph: FakeGraph,
) -> None:
    _, order = await buy(api, sessions, tenant, status="ordered")
    await runtime.settle()
    assert fake_graph.events() == []
    for status in ("paid", "processing"):
        moved = await api.put(f"/shop/orders/{order['id']}/update", json={"status": status})
        assert moved.status_code == 200, moved.text
    await runtime.settle()
    assert [e["event_id"] for e in fake_graph.events()] == [f"konversation-order-{order['id']}"]


@pytest.mark.usefixtures("connected")
async def test_a_failing_graph_api_is_retried_with_the_same_event_id_and_the_order_stands(
    api: httpx.AsyncClient,
    sessions: Sessions,
    tenant: Tenant,
    runtime: Runtime,
    fake_graph: FakeGraph,
) -> None:
    fake_graph.fail_next(500, 2)
    buyer, order = await buy(api, sessions, tenant)
    await runtime.settle()
    [call] = await calls_of(sessions, tenant, META)
    assert (call.status, call.attempts, call.last_status_code) == (CallStatus.PENDING, 1, 500)
    listed = await api.get("/shop/orders", params={"user_ns": buyer})
    assert [o["status"] for o in listed.json()["data"]] == ["paid"]
    await work_at(runtime, call.next_attempt_at + dt.timedelta(seconds=1))
    [event] = fake_graph.events()
    assert event["event_id"] == f"konversation-order-{order['id']}"
    [call] = await calls_of(sessions, tenant, META)
    assert (call.status, call.attempts) == (CallStatus.DONE, 2)


async def test_a_refused_token_fails_for_good_without_retrying(
    api: httpx.AsyncClient,
    sessions: Sessions,
    tenant: Tenant,
    runtime: Runtime,
    fake_graph: FakeGraph,
    server_secret: bytes,
) -> None:
    await save(
        sessions,
        server_secret,
        tenant.workspace_id,
        META,
        {"token": "not-the-token", "dataset_id": DATASET},
    )
    await buy(api, sessions, tenant)
    await runtime.settle()
    [call] = await calls_of(sessions, tenant, META)
    assert (call.status, call.last_status_code) == (CallStatus.FAILED, 400)
    assert "Invalid OAuth access token" in (call.last_error or "")
    assert "not-the-token" not in (call.last_error or "")
    assert fake_graph.events() == []


async def test_a_workspace_without_the_integration_sends_nothing(
    api: httpx.AsyncClient,
    sessions: Sessions,
    tenant: Tenant,
    runtime: Runtime,
    fake_graph: FakeGraph,
) -> None:
    await buy(api, sessions, tenant)
    await runtime.settle()
    assert await calls_of(sessions, tenant, META) == []
    assert fake_graph.received == []


def test_details_are_normalised_as_meta_asks() -> None:
    assert normal_phone("+00 (44) 7700-900123") == "447700900123"
    assert normal_text("  O'Brien-Smith ") == "obriensmith"
    assert normal_text("José") == "josé"
