"""Small pieces the ASGI middlewares of the wire layer share."""

from __future__ import annotations

from starlette.types import Message, Receive, Scope


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of the request header `name` (lower case), if sent."""
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value)
    return None


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
