"""A mini-app stand-in served on 127.0.0.1: every request to any path is recorded, and answered
with what the test queued for that path (`answer`), else 200 `{"ok": true}`.

    from fake_mini_app import fake_mini_app_fixture, fake_mini_app_server_fixture  # noqa: F401
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from loopback import serving

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@dataclass(frozen=True)
class AppRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class FakeMiniApp:
    def __init__(self) -> None:
        self.url = ""
        self.requests: list[AppRequest] = []
        self._answers: dict[str, deque[tuple[int, Any]]] = {}
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/{path:path}", self._receive, methods=METHODS)])

    def answer(self, path: str, status: int = 200, body: Any = None) -> None:
        """The next request to `path` gets `status` and the JSON `body` (a str: as text)."""
        with self._lock:
            self._answers.setdefault(path, deque()).append((status, body))

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._answers.clear()

    async def _receive(self, request: Request) -> Response:
        recorded = AppRequest(
            method=request.method,
            path=request.url.path,
            query=parse_qs(request.url.query),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=await request.body(),
        )
        with self._lock:
            self.requests.append(recorded)
            queued = self._answers.get(recorded.path)
            status, body = queued.popleft() if queued else (200, {"ok": True})
        if isinstance(body, str):
            return Response(body, status_code=status, media_type="text/plain")
        return JSONResponse(body, status_code=status)


@pytest.fixture(scope="session", name="fake_mini_app_server")
def fake_mini_app_server_fixture() -> Iterator[FakeMiniApp]:
    fake = FakeMiniApp()
    with serving(fake.app) as url:
        fake.url = url
        yield fake


@pytest.fixture(name="fake_mini_app")
def fake_mini_app_fixture(fake_mini_app_server: FakeMiniApp) -> FakeMiniApp:
    fake_mini_app_server.reset()
    return fake_mini_app_server
