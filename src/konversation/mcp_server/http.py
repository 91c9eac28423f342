"""MCP over streamable HTTP at `/mcp` on the running server, the API key as a Bearer token.

Stateless: each POST is answered on its own (JSON, no session kept), so any number of server
processes behind a load balancer serve the same clients. A request without a valid key is
refused with 401 before MCP sees it, as `/api` refuses it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.context import ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from konversation.db import session_scope
from konversation.errors import Unauthenticated
from konversation.keys import service as keys
from konversation.mcp_server.server import Konversation

PATH = "/mcp"


def bearer_of(headers: Any) -> str | None:
    scheme, _, token = str(headers.get("authorization") or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _key_of_request(ctx: ServerRequestContext[Any]) -> str | None:
    request = ctx.request
    return bearer_of(request.headers) if isinstance(request, Request) else None


class McpEndpoint:
    """The ASGI endpoint of `/mcp`; `running()` belongs in the app's lifespan."""

    def __init__(self, app: Any, *, groups: tuple[str, ...]) -> None:
        self._app = app
        self.konversation = Konversation(app, groups=groups, key_of=_key_of_request)
        self._manager = StreamableHTTPSessionManager(
            app=self.konversation.server, json_response=True, stateless=True
        )

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with self._manager.run():
            try:
                yield
            finally:
                await self.konversation.dispatcher.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        if not await self._authenticated(bearer_of(request.headers)):
            refusal = JSONResponse(
                {"message": "Unauthenticated."},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
            await refusal(scope, receive, send)
            return
        await self._manager.handle_request(scope, receive, send)

    async def _authenticated(self, token: str | None) -> bool:
        if token is None:
            return False
        state = self._app.state
        try:
            async with session_scope(state.sessions) as session:
                await keys.authenticate(
                    session, token, server_secret=state.server_secret, cache=state.key_cache
                )
        except Unauthenticated:
            return False
        return True
