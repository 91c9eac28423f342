"""A bound on request bodies, answered in the API's error shape (413 with a `message`)."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from konversation.wire.asgi import header, replaying


class BodyLimit:
    """Refuses bodies over `max_bytes` before any handler reads them.

    A declared Content-Length is checked at once (the server delivers no more than it says). A
    body streamed without one is read here first, up to the bound, and handed on whole.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is None and _is_chunked(scope):
            body = await self._read_within_bound(receive)
            if body is not None:
                await self.app(scope, replaying(body, receive), send)
                return
        elif declared is None or declared <= self.max_bytes:
            await self.app(scope, receive, send)
            return
        message = f"The request body is larger than the {self.max_bytes:,} bytes allowed."
        await JSONResponse({"message": message}, status_code=413)(scope, receive, send)

    async def _read_within_bound(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)


def _declared_length(scope: Scope) -> int | None:
    value = header(scope, b"content-length")
    return int(value) if value is not None and value.isdigit() else None


def _is_chunked(scope: Scope) -> bool:
    return b"chunked" in (header(scope, b"transfer-encoding") or b"").lower()
