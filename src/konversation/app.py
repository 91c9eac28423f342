"""The ASGI application, built from one Settings object."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from konversation import __version__
from konversation.channels.webchat_routes import router as webchat_router
from konversation.channels.webhook_routes import router as webhook_router
from konversation.dashboard.setup import install_dashboard
from konversation.db import make_engine
from konversation.jobs.runtime import Runtime
from konversation.keys.cache import KeyCache
from konversation.mcp_server.http import PATH as MCP_PATH
from konversation.mcp_server.http import McpEndpoint
from konversation.ops.routes import router as ops_router
from konversation.process import tune_garbage_collector
from konversation.settings import Settings
from konversation.wire import errors
from konversation.wire.body_limit import BodyLimit
from konversation.wire.docs import install_docs
from konversation.wire.idempotency import Idempotency
from konversation.wire.limits import Limits, RateLimiter, RateLimits, make_counter
from konversation.wire.openapi import install_openapi
from konversation.wire.override import WireCompatibility
from konversation.wire.request_ids import RequestIds
from konversation.wire.request_metrics import RequestMetrics, RouteTemplate
from konversation.wire.router import api_router


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    runtime = Runtime(settings, engine)
    limiter = RateLimiter(Limits.from_settings(settings), make_counter(settings))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        tune_garbage_collector()
        await runtime.start()
        try:
            async with mcp.running():
                yield
        finally:
            app.state.stopping = True
            await runtime.stop()
            await limiter.close()
            await engine.dispose()

    app = FastAPI(
        title="Konversation Connect API",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api-docs",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.stopping = False
    app.state.server_secret = settings.server_secret()
    app.state.key_cache = KeyCache()
    app.state.engine = engine
    app.state.runtime = runtime
    app.state.rate_limiter = limiter
    app.state.sessions = runtime.sessions
    app.state.read_sessions = runtime.read_sessions
    app.include_router(api_router())
    app.include_router(webchat_router)
    app.include_router(webhook_router)
    app.include_router(ops_router)
    install_dashboard(app)
    mcp = McpEndpoint(app, groups=tuple(settings.mcp_groups))
    # A Route whose endpoint is not a function is served as the ASGI app it is.
    endpoint: Any = mcp
    app.add_route(MCP_PATH, endpoint, methods=["GET", "POST", "DELETE"], include_in_schema=False)
    errors.install(app)
    install_openapi(app)
    install_docs(app)
    # The last added runs first: limits are counted by the method the override asks for, and
    # a call refused by them never claims its idempotency key.
    app.add_middleware(RouteTemplate)
    app.add_middleware(Idempotency)
    app.add_middleware(RateLimits, limiter=limiter)
    app.add_middleware(WireCompatibility)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIds)
    app.add_middleware(RequestMetrics)
    return app
