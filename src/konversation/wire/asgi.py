"""Small pieces the ASGI middlewares of the wire layer share."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from starlette.types import Message, Receive, Scope, Send


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of the request header `name` (lower case), if sent."""
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value)
    return None


def caller_of(scope: Scope) -> str:
    """Who is calling: their Bearer key, hashed (keys are secrets), else their address."""
    scheme, _, token = (header(scope, b"authorization") or b"").partition(b" ")
    if scheme.lower() == b"bearer" and token.strip():
        return "key:" + hashlib.sha256(token.strip()).hexdigest()[:32]
    client = scope.get("client")
    return f"address:{client[0] if client else 'unknown'}"


async def read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands over `body`, already read, then whatever `receive` gives."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def with_headers(send: Send, headers: Sequence[tuple[str, str]]) -> Send:
    """A `send` that adds `headers` to the answer's start."""
    encoded = [(name.lower().encode(), value.encode()) for name, value in headers]

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *encoded]}
        await send(message)

    return sending
