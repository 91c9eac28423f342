"""Mounting the dashboard on the app: session cookies, its static files and its pages."""

from __future__ import annotations

import hashlib
import hmac
import importlib
import pkgutil
from collections.abc import Iterator

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.middleware.sessions import SessionMiddleware

import konversation.dashboard
from konversation.dashboard.auth import CurrentUser
from konversation.dashboard.routing import HOME_URL, error_page, page_router
from konversation.dashboard.templating import STATIC_DIR, STATIC_URL
from konversation.settings import Settings
from konversation.wire.static_files import static_files

SESSION_COOKIE = "konversation_session"
SESSION_MAX_AGE = 7 * 24 * 3600


def session_secret(server_secret: bytes) -> str:
    """A key for signing session cookies only, so it never doubles as the API key secret."""
    return hmac.new(server_secret, b"konversation dashboard sessions", hashlib.sha256).hexdigest()


def page_routers() -> Iterator[APIRouter]:
    """The `router` of every module of this package that has one, in name order."""
    package = konversation.dashboard
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if module_info.ispkg:
            continue
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            yield router


def _fallback() -> APIRouter:
    router = page_router()

    @router.get("/dashboard/{rest:path}")
    async def no_such_page(request: Request, viewer: CurrentUser, rest: str) -> Response:
        if not rest:
            return RedirectResponse(HOME_URL, status_code=307)
        return error_page(request, 404, "There is no such page.")

    return router


def install_dashboard(app: FastAPI) -> None:
    """Add the dashboard's routes, static files and middleware to `app`."""
    settings: Settings = app.state.settings
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(app.state.server_secret),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        path="/dashboard",
        same_site="lax",
        https_only=(settings.public_url or "").startswith("https"),
    )
    app.mount(STATIC_URL, static_files(STATIC_DIR), name="dashboard-static")
    for router in page_routers():
        app.include_router(router)
    # Last, so that it only answers paths no page claimed.
    app.include_router(_fallback())

    async def home() -> RedirectResponse:
        return RedirectResponse(HOME_URL, status_code=307)

    app.add_api_route("/", home, methods=["GET"], include_in_schema=False)
