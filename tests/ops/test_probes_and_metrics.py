"""What an operator's tools read off a running server: liveness, readiness with the part that
failed, Prometheus metrics by route template, and JSON log lines carrying the request id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from builders import Sessions, Tenant, connect_api_channel, make_subscriber
from konversation.app import create_app
from konversation.channels.base import Text
from konversation.channels.models import ChannelType
from konversation.db import session_scope
from konversation.logs import JsonLines
from konversation.settings import Settings
from konversation.wire.request_ids import RequestIds
from loopback import closed_port_url


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples of metric `name`, by their labels."""
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


@pytest.fixture
async def app_with(settings: Settings) -> AsyncIterator[object]:
    """Makes apps of other settings; disposes of them afterwards."""
    made: list[FastAPI] = []

    def make(**changes: object) -> httpx.AsyncClient:
        app = create_app(settings.model_copy(update=changes))
        made.append(app)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")

    yield make
    for app in made:
        await app.state.runtime.http.aclose()
        await app.state.runtime.hub.close()
        await app.state.engine.dispose()


async def test_a_serving_process_is_alive_and_ready(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert (ready.status_code, ready.json()) == (
        200,
        {"status": "ok", "checks": {"database": "ok"}},
    )


async def test_readiness_checks_redis_when_it_is_configured(app_with) -> None:  # type: ignore[no-untyped-def]
    async with app_with(redis_url="redis://127.0.0.1:6379/0") as client:
        ready = await client.get("/readyz")
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}
    unreachable = closed_port_url().replace("http://", "redis://").removesuffix("/hook")
    async with app_with(redis_url=unreachable) as client:
        down = await client.get("/readyz")
    assert down.status_code == 503
    assert down.json()["status"] == "unavailable"
    assert down.json()["checks"]["database"] == "ok"
    assert down.json()["checks"]["redis"] != "ok"


async def test_a_database_that_does_not_answer_makes_the_process_unready(app_with) -> None:  # type: ignore[no-untyped-def]
    port = closed_port_url().rsplit(":", 1)[1].removesuffix("/hook")
    async with app_with(database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{port}/x") as client:
        down = await client.get("/readyz")
        alive = await client.get("/healthz")
    assert (down.status_code, alive.status_code) == (503, 200)
    assert down.json()["checks"]["database"] != "ok"


async def test_requests_are_counted_and_timed_by_route_template(
    client: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    key = (("method", "GET"), ("route", "/api/flow/tags"), ("status", "200"))
    before = samples((await client.get("/metrics")).text, "konversation_http_requests_total")
    for _ in range(3):
        assert (await api.get("/flow/tags")).status_code == 200
    after = (await client.get("/metrics")).text
    assert samples(after, "konversation_http_requests_total")[key] == before.get(key, 0) + 3
    timed = samples(after, "konversation_http_request_duration_seconds_count")
    assert timed[(("method", "GET"), ("route", "/api/flow/tags"))] >= 3
    unmatched = await client.get("/no/such/page/42")
    assert unmatched.status_code == 404
    await client.get("/dashboard/bots/4242")
    routes = {
        dict(labels)["route"]
        for labels in samples(
            (await client.get("/metrics")).text, "konversation_http_requests_total"
        )
    }
    assert {"unmatched", "/dashboard/bots/{bot_id}"} <= routes
    assert not any("42" in route for route in routes)


async def test_queue_depth_and_deliveries_are_reported(
    app: FastAPI,
    client: httpx.AsyncClient,
    sessions: Sessions,
    tenant: Tenant,
) -> None:
    await connect_api_channel(sessions, tenant.bot_id, closed_port_url())
    async with session_scope(sessions) as session:
        sam = await make_subscriber(session, tenant.bot_id, channel=ChannelType.API)
        await app.state.runtime.engine.send(session, sam, [Text("Hello")], origin="api")
    waiting = samples((await client.get("/metrics")).text, "konversation_queue_depth")
    assert waiting[(("kind", "deliveries"),)] == 1
    retry = (("outcome", "retry"),)
    before = samples((await client.get("/metrics")).text, "konversation_deliveries_total")
    await app.state.runtime.pump()
    after = samples((await client.get("/metrics")).text, "konversation_deliveries_total")
    assert after[retry] == before.get(retry, 0) + 1
    jobs = samples((await client.get("/metrics")).text, "konversation_jobs_done_total")
    assert jobs[(("kind", "deliveries"),)] >= 1


async def test_json_log_lines_carry_the_request_id() -> None:
    log = logging.getLogger("konversation.test.json")

    async def noisy(_request: Request) -> PlainTextResponse:
        log.warning("Something to look at")
        return PlainTextResponse("done")

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    log.addHandler(handler)
    try:
        app = RequestIds(Starlette(routes=[Route("/", noisy)]))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as http:
            answer = await http.get("/", headers={"X-Request-Id": "trace-7f3a"})
        log.warning("Outside any request")
    finally:
        log.removeHandler(handler)
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert answer.headers["X-Request-Id"] == "trace-7f3a"
    assert inside["request_id"] == "trace-7f3a"
    assert (inside["level"], inside["logger"], inside["message"]) == (
        "warning",
        "konversation.test.json",
        "Something to look at",
    )
    assert "request_id" not in outside
