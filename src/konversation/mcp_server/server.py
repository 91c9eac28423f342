"""The MCP server: the Connect API's operations as tools, and the bot's flows, tags and fields as
resources, for whoever holds an API key.

Whose key a request carries is the transport's business (`KeyOf`): stdio has one key for the
process, streamable HTTP a Bearer token on each request. Tool calls that the API refuses (a
missing permission, a rate limit, a bad argument) come back as tool errors carrying the API's
own status and message, so that an agent can read them and act.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError

from konversation import __version__
from konversation.mcp_server.catalog import Catalog, Operation, catalog_of
from konversation.mcp_server.dispatch import Answer, Dispatcher

NAME = "konversation"
INSTRUCTIONS = (
    "Konversation runs chatbots. Its tools are the Connect API's operations, grouped by area "
    "(Subscriber, Sending, Flow, Ecommerce, ...); ids are namespaced per bot (tags f1t1, "
    "fields f1v1, subscribers f1u1, sub flows f1s1). Read the resources first to learn the "
    "bot's flows, tags and fields. A refused call answers the API's status and message."
)
# Pages a resource follows at most (100 items each).
MAX_RESOURCE_PAGES = 50

KeyOf = Callable[[ServerRequestContext[Any]], str | None]


@dataclass(frozen=True)
class Listing:
    """A resource: one read-only operation of the bot, read whole."""

    uri: str
    name: str
    description: str
    path: str
    paged: bool


RESOURCES = (
    Listing(
        "konversation://flows",
        "flows",
        "The bot's flows as one document: the main flow, sub flows and their nodes.",
        "/flow/export",
        paged=False,
    ),
    Listing("konversation://tags", "tags", "The bot's tags and their ids.", "/flow/tags", True),
    Listing(
        "konversation://user-fields",
        "user fields",
        "The fields each subscriber has, with their ids and types.",
        "/flow/user-fields",
        paged=True,
    ),
    Listing(
        "konversation://bot-fields",
        "bot fields",
        "The bot's own fields and their values.",
        "/flow/bot-fields",
        paged=True,
    ),
)


class Konversation:
    """The tools and resources of one app, served to any MCP transport."""

    def __init__(self, app: Any, *, groups: tuple[str, ...], key_of: KeyOf) -> None:
        self._app = app
        self._groups = groups
        self._key_of = key_of
        self._catalog: Catalog | None = None
        self.dispatcher = Dispatcher(app)
        self.server: Server[Any] = Server(
            NAME,
            version=__version__,
            instructions=INSTRUCTIONS,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            on_list_resources=self._list_resources,
            on_read_resource=self._read_resource,
        )

    @property
    def catalog(self) -> Catalog:
        # Built on first use: the document is complete only once every route is added.
        if self._catalog is None:
            self._catalog = catalog_of(self._app.openapi(), self._groups)
        return self._catalog

    async def _list_tools(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        operations, next_cursor = self.catalog.page(params.cursor if params else None)
        return types.ListToolsResult(
            tools=[_tool(op) for op in operations], next_cursor=next_cursor
        )

    async def _call_tool(
        self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        operation = self.catalog.get(params.name)
        if operation is None:
            return _failure(f"There is no tool called {params.name!r}.")
        key = self._key_of(ctx)
        if not key:
            return _failure("No API key: send one as a Bearer token.")
        answer = await self.dispatcher.call(key, operation, params.arguments or {})
        return _result(answer)

    async def _list_resources(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        return types.ListResourcesResult(
            resources=[
                types.Resource(
                    uri=r.uri, name=r.name, description=r.description, mime_type="application/json"
                )
                for r in RESOURCES
            ]
        )

    async def _read_resource(
        self, ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        listing = next((r for r in RESOURCES if r.uri == str(params.uri)), None)
        if listing is None:
            raise MCPError(types.INVALID_PARAMS, f"Unknown resource {params.uri}")
        key = self._key_of(ctx)
        if not key:
            raise MCPError(types.INVALID_PARAMS, "No API key: send one as a Bearer token.")
        content = await self._read(key, listing)
        text = json.dumps(content, ensure_ascii=False)
        return types.ReadResourceResult(
            contents=[
                types.TextResourceContents(uri=listing.uri, mime_type="application/json", text=text)
            ]
        )

    async def _read(self, key: str, listing: Listing) -> Any:
        if not listing.paged:
            return _checked(await self.dispatcher.get(key, listing.path))
        items: list[Any] = []
        for page in range(1, MAX_RESOURCE_PAGES + 1):
            answer = _checked(
                await self.dispatcher.get(key, listing.path, {"limit": 100, "page": page})
            )
            items.extend(answer["data"])
            if page >= answer["meta"]["last_page"]:
                break
        return {"data": items}


def _checked(answer: Answer) -> Any:
    if answer.failed:
        message = answer.body.get("message") if isinstance(answer.body, dict) else answer.body
        raise MCPError(types.INVALID_PARAMS, f"{answer.status}: {message}")
    return answer.body


def _tool(operation: Operation) -> types.Tool:
    return types.Tool(
        name=operation.name,
        title=operation.summary,
        description=operation.description,
        input_schema=operation.input_schema,
        annotations=types.ToolAnnotations(
            read_only_hint=operation.method == "GET",
            destructive_hint=operation.method == "DELETE",
            open_world_hint=False,
        ),
        meta={"group": operation.group},
    )


def _result(answer: Answer) -> types.CallToolResult:
    structured = answer.body if isinstance(answer.body, dict) else {"data": answer.body}
    if answer.failed:
        structured = {"status_code": answer.status, **structured}
    return types.CallToolResult(
        content=[types.TextContent(text=json.dumps(structured, ensure_ascii=False))],
        structured_content=structured,
        is_error=answer.failed,
    )


def _failure(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)
