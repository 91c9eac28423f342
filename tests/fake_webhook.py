"""A webhook sink served on 127.0.0.1: it records what is posted to it and answers as told.

`FakeWebhook` accepts a POST to any path, records it as a `Received(path, headers, body, json)`
(headers with lowercase names, the raw body, and the body parsed as JSON or None) and answers
204, or what was queued with `answer_next` (a status, headers such as Retry-After, and a delay
before answering, to make a client time out).

A test module asks for the `fake_webhook` fixture (a fresh record on one server per test
process; post to `fake_webhook.url` plus any path) after importing both fixtures:

    from fake_webhook import fake_webhook_fixture, fake_webhook_server_fixture  # noqa: F401

(they are registered under the names `fake_webhook` and `fake_webhook_server`). `serving`
serves any ASGI app the same way, and `closed_port_url` names a port nothing listens on.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from loopback import serving


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FakeWebhook:
    def __init__(self) -> None:
        self.url = ""  # the base URL, once served
        self.received: list[Received] = []
        self._answers: deque[Answer] = deque()
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/{path:path}", self._receive, methods=["POST"])])

    def answer_next(
        self, status: int, *, headers: Mapping[str, str] | None = None, delay: float = 0.0
    ) -> None:
        """Makes the next request (after those already queued) get `status` and `headers`,
        `delay` seconds late."""
        with self._lock:
            self._answers.append(Answer(status, dict(headers or {}), delay))

    def events(self, path: str | None = None) -> list[dict[str, Any]]:
        """The events of every API channel request received (on `path`, when given), in order."""
        return [
            event
            for received in self.received
            if path is None or received.path == path
            if isinstance(received.json, dict)
            for event in received.json.get("events", [])
        ]

    def reset(self) -> None:
        with self._lock:
            self.received.clear()
            self._answers.clear()

    async def _receive(self, request: Request) -> Response:
        body = await request.body()
        received = Received(
            path="/" + request.path_params["path"],
            headers={name.lower(): value for name, value in request.headers.items()},
            body=body,
            json=_json(body),
        )
        with self._lock:
            self.received.append(received)
            answer = self._answers.popleft() if self._answers else Answer(204)
        if answer.delay:
            await asyncio.sleep(answer.delay)
        return Response(status_code=answer.status, headers=dict(answer.headers))


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


@pytest.fixture(scope="session", name="fake_webhook_server")
def fake_webhook_server_fixture() -> Iterator[FakeWebhook]:
    fake = FakeWebhook()
    with serving(fake.app) as url:
        fake.url = url
        yield fake


@pytest.fixture(name="fake_webhook")
def fake_webhook_fixture(fake_webhook_server: FakeWebhook) -> FakeWebhook:
    fake_webhook_server.reset()
    return fake_webhook_server
