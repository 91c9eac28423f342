"""Counts every HTTP request and times it, by route template (`/api/subscriber/get-info`,
`/dashboard/bots/{bot_id}`) rather than by path, so that ids in paths do not multiply the
series.

`RequestMetrics` goes outermost, so that answers given before routing (a 429, a 413) count too;
`RouteTemplate` goes innermost, next to the router, and passes the matched route's template out
through the request state, which every middleware's copy of the scope shares.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from konversation.metrics import HTTP_LATENCY, HTTP_REQUESTS

UNMATCHED = "unmatched"
ROUTE_KEY = "route_template"


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        state = scope.setdefault("state", {})

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            route = state.get(ROUTE_KEY, UNMATCHED)
            method = scope["method"]
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - started)


class RouteTemplate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            if "route" in scope and "state" in scope:
                scope["state"][ROUTE_KEY] = template(scope["path"], scope.get("path_params", {}))


def template(path: str, params: dict[str, object]) -> str:
    """`path` with the values of its parameters put back as `{name}`: the route's template,
    prefixes included, which the matched route alone does not know."""
    for name, value in sorted(params.items(), key=lambda item: -len(str(item[1]))):
        text = str(value)
        if "/" in text:  # a {name:path} parameter spans segments
            path = path.replace("/" + text, "/{" + name + "}", 1)
        elif text:
            path = "/".join("{" + name + "}" if part == text else part for part in path.split("/"))
    return path
