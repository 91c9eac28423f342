"""How clients of the original API bend HTTP, undone before routing.

- `POST` with `X-HTTP-Method-Override: DELETE` (or PUT, PATCH) is routed as that method.
- `DELETE` without a body takes its fields from the query string, PHP style
  (`data[0][tag_ns]=x`, `tags[]=a`), so the route sees the same JSON either way.
- `key[]=a&key[]=b` in any query string becomes `key=a&key=b`, which FastAPI reads as a list.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Receive, Scope, Send

from konversation.wire.asgi import header, read_body, replaying

_OVERRIDABLE = {"DELETE", "PUT", "PATCH"}
_BRACKETS = re.compile(r"\[([^\]]*)\]")


class WireCompatibility:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = dict(scope)
        override = (header(scope, b"x-http-method-override") or b"").decode("latin-1")
        if scope["method"] == "POST" and override and override.upper() in _OVERRIDABLE:
            scope["method"] = override.upper()
        query = scope.get("query_string", b"").decode("latin-1")
        if scope["method"] == "DELETE" and query:
            receive = await _body_from_query_when_empty(scope, receive, query)
        if "%5B%5D" in query or "[]" in query:
            scope["query_string"] = _flatten_array_keys(query).encode("latin-1")
        await self.app(scope, receive, send)


async def _body_from_query_when_empty(scope: Scope, receive: Receive, query: str) -> Receive:
    body = await read_body(receive)
    if not body.strip():
        body = json.dumps(nest_query(query)).encode()
        headers = [
            (k, v) for k, v in scope["headers"] if k not in {b"content-type", b"content-length"}
        ]
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        scope["headers"] = headers
    return replaying(body, receive)


def nest_query(query: str) -> dict[str, Any]:
    """`a=1&b[]=2&b[]=3&c[0][d]=4` as `{"a": "1", "b": ["2", "3"], "c": [{"d": "4"}]}`."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        head, _, rest = key.partition("[")
        path = [head, *_BRACKETS.findall("[" + rest)] if rest else [head]
        _assign(root, path, value)
    return _lists_from_index_maps(root)  # type: ignore[no-any-return]


def _assign(node: dict[str, Any], path: list[str], value: str) -> None:
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if part == "":
            part = str(len(node))
        if last:
            node[part] = value
        else:
            node = node.setdefault(part, {})


def _lists_from_index_maps(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _lists_from_index_maps(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def _flatten_array_keys(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k[:-2] if k.endswith("[]") else k, v) for k, v in pairs])
