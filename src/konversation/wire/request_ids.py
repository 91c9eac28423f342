"""A request id on every request and answer, to tie a client's report to the server's records.

A caller may name its request with `X-Request-Id` (a proxy or an integration that keeps its
own ids); otherwise one is made. Either way the answer carries it back in `X-Request-Id`, and
the handlers find it as `request.state.request_id` (the audit log records it).
"""

from __future__ import annotations

import re
import uuid

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from konversation.logs import REQUEST_ID
from konversation.wire.asgi import header, with_headers

HEADER = "X-Request-Id"
_ACCEPTED = re.compile(rb"[A-Za-z0-9._:-]{1,64}")


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _given(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = REQUEST_ID.set(request_id)
        try:
            await self.app(scope, receive, with_headers(send, [(HEADER, request_id)]))
        finally:
            REQUEST_ID.reset(token)


def request_id_of(request: Request) -> str | None:
    value = getattr(request.state, "request_id", None)
    return value if isinstance(value, str) else None


def client_address(request: Request) -> str | None:
    """The caller's address, as the audit log records it."""
    return request.client.host if request.client else None


def _given(scope: Scope) -> str | None:
    """The caller's own id, when it is short and plain enough to echo and store."""
    value = header(scope, b"x-request-id")
    return value.decode("ascii") if value is not None and _ACCEPTED.fullmatch(value) else None
