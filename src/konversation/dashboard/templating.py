"""Rendering pages: one Jinja2 environment (autoescaping everything) and what every page sees."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from konversation import __version__
from konversation.dashboard import csrf

TEMPLATES_DIR: Final = Path(__file__).resolve().parent / "templates"
STATIC_DIR: Final = Path(__file__).resolve().parent / "static"
STATIC_URL: Final = "/dashboard/static"
_FLASHES: Final = "flashes"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=environment)


def static(path: str) -> str:
    """The URL of a file under static/, versioned so a new release is never served stale."""
    return f"{STATIC_URL}/{path.lstrip('/')}?v={__version__}"


def when(value: dt.datetime | None, empty: str = "") -> str:
    """A stored (UTC) time as a person reads it."""
    if value is None:
        return empty
    return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


environment.globals["static"] = static
environment.filters["when"] = when


def flash(request: Request, message: str, kind: str = "info") -> None:
    """A message for the next page rendered for this session (after a redirect, say)."""
    pending = list(request.session.get(_FLASHES, []))
    pending.append({"message": message, "kind": kind})
    request.session[_FLASHES] = pending


def _take_flashes(request: Request) -> list[dict[str, str]]:
    return list(request.session.pop(_FLASHES, []) if _FLASHES in request.session else [])


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """`template` filled with `context` plus what base.html needs: the viewer, the CSRF token
    and input, and pending flash messages."""
    page: dict[str, Any] = {
        "viewer": getattr(request.state, "viewer", None),
        "csrf_token": csrf.token(request),
        "csrf_input": lambda: csrf.hidden_input(request),
        "flashes": _take_flashes(request),
    }
    page.update(context or {})
    return templates.TemplateResponse(
        request, template, page, status_code=status_code, headers=dict(headers or {})
    )
