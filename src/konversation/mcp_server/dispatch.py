"""Running a tool: the call is handed to the Connect API's own ASGI app in-process (httpx's
ASGI transport: no socket, no second server), so it meets exactly what a REST call meets: the
key check and its permissions, the rate limits, idempotency, the body limit, the same route
and service code, and the audit log."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.types import ASGIApp

from konversation.mcp_server.catalog import Operation

USER_AGENT = "konversation-mcp"
BASE_URL = "http://konversation.internal"


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # the JSON answer, or its text when it is not JSON

    @property
    def failed(self) -> bool:
        return self.status >= 400


class Dispatcher:
    """Calls operations of `app` on behalf of an API key."""

    def __init__(self, app: ASGIApp) -> None:
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url=BASE_URL
        )

    async def call(self, key: str, operation: Operation, arguments: Mapping[str, Any]) -> Answer:
        response = await self._client.request(
            operation.method,
            "/api" + operation.path_for(arguments),
            params=_query(operation, arguments),
            json=_body(operation, arguments),
            headers={"Authorization": f"Bearer {key}", "User-Agent": USER_AGENT},
        )
        try:
            body: Any = response.json()
        except json.JSONDecodeError:
            body = response.text
        return Answer(response.status_code, body)

    async def get(self, key: str, path: str, params: Mapping[str, Any] | None = None) -> Answer:
        """A GET of `path` (under /api), for resources."""
        response = await self._client.get(
            "/api" + path,
            params=dict(params or {}),
            headers={"Authorization": f"Bearer {key}", "User-Agent": USER_AGENT},
        )
        return Answer(response.status_code, response.json())

    async def aclose(self) -> None:
        await self._client.aclose()


def _query(operation: Operation, arguments: Mapping[str, Any]) -> httpx.QueryParams:
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for name in operation.query_params:
        value = arguments.get(name)
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                pairs.append((name, _text(item)))
    return httpx.QueryParams(pairs)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _body(operation: Operation, arguments: Mapping[str, Any]) -> Any:
    if operation.whole_body:
        return arguments.get("body")
    if not operation.body_fields:
        return None
    return {name: arguments[name] for name in operation.body_fields if name in arguments}
