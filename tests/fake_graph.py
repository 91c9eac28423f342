"""Meta's Graph API, the Conversions API part, served on 127.0.0.1.

`POST /{version}/{dataset_id}/events?access_token=...` takes server events for the datasets it
knows (`datasets`: id -> access token) and answers as Meta does,
`{"events_received": n, "messages": [], "fbtrace_id": ...}`. It checks what Meta checks before
taking events: the token (190 OAuthException), a `data` list of events with `event_name`, an
integer `event_time`, a known `action_source`, and `user_data` whose contact details are SHA-256
hex digests, never plain text (100 invalid parameter). `fail_next` queues an answer such as a
500 with a transient error code. Every request is recorded in `received`.

    from fake_graph import fake_graph_fixture, fake_graph_server_fixture  # noqa: F401
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from loopback import serving

VERSION = "v21.0"
DATASET = "1234567890"
TOKEN = "EAAG-test-token"
ACTION_SOURCES = {
    "email",
    "website",
    "app",
    "phone_call",
    "chat",
    "physical_store",
    "system_generated",
    "business_messaging",
    "other",
}
HASHED = ("em", "ph", "fn", "ln", "ct", "st", "zp", "country")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Received:
    dataset_id: str
    access_token: str
    body: Any


class FakeGraph:
    def __init__(self) -> None:
        self.url = ""
        self.datasets = {DATASET: TOKEN}
        self.received: list[Received] = []
        self._failures: deque[tuple[int, int]] = deque()
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[Route("/{version}/{dataset_id}/events", self._events, methods=["POST"])]
        )

    @property
    def base(self) -> str:
        return f"{self.url}/{VERSION}"

    def fail_next(self, status: int, code: int) -> None:
        with self._lock:
            self._failures.append((status, code))

    def events(self) -> list[dict[str, Any]]:
        """The events taken, in order."""
        return [e for r in self.received if isinstance(r.body, dict) for e in r.body["data"]]

    def reset(self) -> None:
        with self._lock:
            self.received.clear()
            self._failures.clear()

    async def _events(self, request: Request) -> JSONResponse:
        dataset = request.path_params["dataset_id"]
        token = request.query_params.get("access_token", "")
        with self._lock:
            failure = self._failures.popleft() if self._failures else None
        if failure is not None:
            return _error(failure[0], failure[1], "An unexpected error has occurred.")
        if self.datasets.get(dataset) != token:
            return _error(400, 190, "Invalid OAuth access token - Cannot parse access token")
        body = await request.json()
        problem = _problem(body)
        if problem is not None:
            return _error(400, 100, f"Invalid parameter: {problem}")
        with self._lock:
            self.received.append(Received(dataset, token, body))
        return JSONResponse(
            {"events_received": len(body["data"]), "messages": [], "fbtrace_id": "AbCdEf123"}
        )


def _problem(body: Any) -> str | None:
    events = body.get("data") if isinstance(body, dict) else None
    if not isinstance(events, list) or not events:
        return "data must be a non-empty list"
    for event in events:
        if not isinstance(event.get("event_name"), str) or not isinstance(
            event.get("event_time"), int
        ):
            return "event_name and an integer event_time are required"
        if event.get("action_source") not in ACTION_SOURCES:
            return "action_source"
        user = event.get("user_data")
        if not isinstance(user, dict) or not user:
            return "user_data is required"
        for name in HASHED:
            if any(not _HEX64.match(str(value)) for value in user.get(name, [])):
                return f"user_data.{name} must be hashed"
    return None


def _error(status: int, code: int, message: str) -> JSONResponse:
    kind = "OAuthException"
    return JSONResponse(
        {"error": {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEf123"}},
        status_code=status,
    )


@pytest.fixture(scope="session", name="fake_graph_server")
def fake_graph_server_fixture() -> Iterator[FakeGraph]:
    fake = FakeGraph()
    with serving(fake.app) as url:
        fake.url = url
        yield fake


@pytest.fixture(name="fake_graph")
def fake_graph_fixture(fake_graph_server: FakeGraph) -> FakeGraph:
    fake_graph_server.reset()
    return fake_graph_server
