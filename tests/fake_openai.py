"""An OpenAI-compatible stand-in served on 127.0.0.1: `POST /v1/embeddings` and
`POST /v1/chat/completions`, with a Bearer key.

Embeddings are bags of words: each word of a text counts in one of `DIMENSIONS` dimensions
chosen by its hash, so texts sharing words are near in cosine similarity, and the same text
always gets the same vector. A chat completion answers `reply` when a test set one, else
"Answer from: " and the headings (`## ...` lines) of the facts in its system message. Every
request is kept in `calls`; `fail_next` queues an answer such as 503.

    from fake_openai import fake_openai_fixture, fake_openai_server_fixture  # noqa: F401
"""

from __future__ import annotations

import hashlib
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

API_KEY = "sk-test-knowledge-0123456789"
DIMENSIONS = 64
_WORD = re.compile(r"[a-z0-9]+")


def bag_of_words(text: str) -> list[float]:
    vector = [0.0] * DIMENSIONS
    for word in _WORD.findall(text.lower()):
        vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % DIMENSIONS] += 1.0
    return vector


@dataclass(frozen=True)
class Call:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class FakeOpenAI:
    def __init__(self) -> None:
        self.url = ""
        self.calls: list[Call] = []
        self.reply: str | None = None
        self._failures: deque[int] = deque()
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/v1/embeddings", self._embeddings, methods=["POST"]),
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
            ]
        )

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def fail_next(self, status: int, times: int = 1) -> None:
        with self._lock:
            self._failures.extend([status] * times)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self._failures.clear()
            self.reply = None

    def calls_to(self, path: str) -> list[Call]:
        return [call for call in self.calls if call.path == path]

    async def _refusal(self, request: Request) -> tuple[JSONResponse | None, dict[str, Any]]:
        body = await request.json()
        with self._lock:
            self.calls.append(Call(request.url.path, dict(request.headers), body))
            failure = self._failures.popleft() if self._failures else None
        if failure is not None:
            return _error(failure, "The server is overloaded."), body
        if request.headers.get("authorization") != f"Bearer {API_KEY}":
            return _error(401, "Incorrect API key provided."), body
        return None, body

    async def _embeddings(self, request: Request) -> JSONResponse:
        refused, body = await self._refusal(request)
        if refused is not None:
            return refused
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "index": i, "embedding": bag_of_words(text)}
            for i, text in enumerate(texts)
        ]
        return JSONResponse({"object": "list", "data": data, "model": body["model"]})

    async def _chat(self, request: Request) -> JSONResponse:
        refused, body = await self._refusal(request)
        if refused is not None:
            return refused
        system = next(m["content"] for m in body["messages"] if m["role"] == "system")
        headings = re.findall(r"^## (.+)$", system, flags=re.MULTILINE)
        content = self.reply or "Answer from: " + ", ".join(headings)
        choice = {"index": 0, "message": {"role": "assistant", "content": content}}
        return JSONResponse({"object": "chat.completion", "choices": [choice]})


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "error"}}, status_code=status)


@pytest.fixture(scope="session", name="fake_openai_server")
def fake_openai_server_fixture() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    with serving(fake.app) as url:
        fake.url = url
        yield fake


@pytest.fixture(name="fake_openai")
def fake_openai_fixture(fake_openai_server: FakeOpenAI) -> FakeOpenAI:
    fake_openai_server.reset()
    return fake_openai_server
