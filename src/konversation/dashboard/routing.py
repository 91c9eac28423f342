"""The behaviour every dashboard route shares: CSRF checks, HTML error pages, safe headers."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Final
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from konversation.dashboard import csrf
from konversation.dashboard.problems import LoginRequired, PageForbidden
from konversation.dashboard.templating import render
from konversation.errors import KonversationError
from konversation.wire.errors import status_for

LOGIN_URL: Final = "/dashboard/login"
HOME_URL: Final = "/dashboard"
# No inline scripts anywhere: an injected <script> or on*= attribute cannot run.
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'self'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def local_path(target: str | None, default: str = HOME_URL) -> str:
    """`target` when it is a path on this site (never another host), else `default`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def redirect(request: Request, url: str) -> Response:
    """See other: a full page load for htmx too, which would otherwise swap the page in."""
    if request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _to_login(request: Request) -> Response:
    here = request.headers.get("HX-Current-URL") if request.headers.get("HX-Request") else None
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if here or request.method not in csrf.SAFE_METHODS:
        back = HOME_URL
    return redirect(request, f"{LOGIN_URL}?next={quote(back, safe='/')}")


def error_page(request: Request, status: int, message: str) -> Response:
    return render(request, "error.html", {"status": status, "message": message}, status_code=status)


class DashboardRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def dashboard_handler(request: Request) -> Response:
            response = await _answer(handler, request)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return dashboard_handler


async def _answer(handler: Handler, request: Request) -> Response:
    try:
        await csrf.verify(request)
        return await handler(request)
    except LoginRequired:
        return _to_login(request)
    except PageForbidden as refused:
        return error_page(request, 403, refused.message)
    except KonversationError as failed:
        return error_page(request, status_for(failed), failed.message)
    except RequestValidationError:
        return error_page(request, 400, "Some fields of the form are missing or malformed.")
    except HTTPException as failed:
        return error_page(request, failed.status_code, str(failed.detail))


def page_router() -> APIRouter:
    """A router whose routes behave as dashboard pages (see the package's docstring)."""
    return APIRouter(route_class=DashboardRoute, include_in_schema=False)
