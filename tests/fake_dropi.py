"""A Dropi stand-in served on 127.0.0.1, speaking the order call `konversation.integrations.dropi`
documents: `POST /api/orders` with the `dropi-integration-key` header, answered 201 with
`{"id": ...}`. An order whose `external_id` it already has is answered with the same id (as an
idempotent API does), so `created` holds one order per external id. A wrong key is 401;
`fail_next` queues an answer such as 503.

    from fake_dropi import fake_dropi_fixture, fake_dropi_server_fixture  # noqa: F401
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from loopback import serving

API_KEY = "dropi-test-key"


class FakeDropi:
    def __init__(self) -> None:
        self.url = ""
        self.created: dict[str, dict[str, Any]] = {}  # external id -> body, with "id"
        self.requests = 0
        self._ids = itertools.count(9001)
        self._failures: deque[int] = deque()
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/api/orders", self._create, methods=["POST"])])

    def fail_next(self, status: int) -> None:
        with self._lock:
            self._failures.append(status)

    def reset(self) -> None:
        with self._lock:
            self.created.clear()
            self._failures.clear()
            self.requests = 0

    async def _create(self, request: Request) -> JSONResponse:
        with self._lock:
            self.requests += 1
            failure = self._failures.popleft() if self._failures else None
        if failure is not None:
            return JSONResponse({"message": "Service unavailable"}, status_code=failure)
        if request.headers.get("dropi-integration-key") != API_KEY:
            return JSONResponse({"message": "Unauthenticated."}, status_code=401)
        body = await request.json()
        external_id = body.get("external_id")
        if not external_id or not body.get("items"):
            return JSONResponse({"message": "external_id and items are required"}, 422)
        with self._lock:
            if external_id not in self.created:
                self.created[external_id] = {**body, "id": next(self._ids)}
            order = self.created[external_id]
        return JSONResponse({"id": order["id"], "status": "PENDIENTE"}, status_code=201)


@pytest.fixture(scope="session", name="fake_dropi_server")
def fake_dropi_server_fixture() -> Iterator[FakeDropi]:
    fake = FakeDropi()
    with serving(fake.app) as url:
        fake.url = url
        yield fake


@pytest.fixture(name="fake_dropi")
def fake_dropi_fixture(fake_dropi_server: FakeDropi) -> FakeDropi:
    fake_dropi_server.reset()
    return fake_dropi_server
