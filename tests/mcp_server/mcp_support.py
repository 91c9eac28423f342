"""Shared steps of the MCP tests: the real server on loopback, SDK clients on both transports,
and reading tools and answers."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2
import mcp_types as types
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from konversation.app import create_app
from konversation.settings import Settings
from loopback import serving

# A quarter into a second: with the limiter's clock stopped here, every call counts in one window.
STOPPED_CLOCK = 1_800_000_000.25


@contextlib.contextmanager
def mcp_server(settings: Settings, *, stop_clock: bool = False, **overrides: Any) -> Iterator[str]:
    """The whole app served on loopback; yields the URL of its `/mcp` endpoint. `stop_clock`
    stops the rate limiter's clock, so that a limit is reached whatever the machine's pace."""
    app = create_app(settings.model_copy(update=overrides))
    if stop_clock:
        app.state.rate_limiter.clock = lambda: STOPPED_CLOCK
    with serving(app) as base_url:
        yield f"{base_url}/mcp"


@contextlib.asynccontextmanager
async def http_client(url: str, token: str) -> AsyncIterator[Client]:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
    async with http, Client(streamable_http_client(url, http_client=http)) as client:
        yield client


def stdio_client(settings: Settings, token: str, **environment: str) -> Client:
    """A client that starts `konversation mcp` as a subprocess on the tests' database."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "KONVERSATION_DATABASE_URL": settings.database_url,
        "KONVERSATION_SECRET_KEY": settings.secret_key or "",
        "KONVERSATION_API_KEY": token,
        "KONVERSATION_RATE_LIMIT_READS": "0",
        "KONVERSATION_RATE_LIMIT_SENDS": "0",
        "KONVERSATION_RATE_LIMIT_WRITES": "0",
        **environment,
    }
    command = StdioServerParameters(
        command=sys.executable, args=["-m", "konversation", "mcp"], env=env
    )
    return Client(command, read_timeout_seconds=60)


async def all_tools(client: Client) -> list[types.Tool]:
    tools: list[types.Tool] = []
    cursor: str | None = None
    while True:
        page = await client.list_tools(cursor=cursor, cache_mode="bypass")
        tools.extend(page.tools)
        if page.next_cursor is None:
            return tools
        cursor = page.next_cursor


def answer_of(result: types.CallToolResult) -> dict[str, Any]:
    """The structured answer, checked against the text content that carries it too."""
    [content] = result.content
    assert isinstance(content, types.TextContent)
    assert result.structured_content is not None
    assert json.loads(content.text) == result.structured_content
    return result.structured_content
