"""Synchronizer tokens: one random token per session, sent back with every change.

Forms carry it in a hidden input (`csrf_input()` in templates); htmx sends it in the
`X-CSRF-Token` header (`hx-headers` on `<body>`). Requests that only read need none.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Final

from markupsafe import Markup, escape
from starlette.requests import Request

from konversation.dashboard.problems import CsrfRefused

FIELD: Final = "csrf_token"
HEADER: Final = "X-CSRF-Token"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
_SESSION_KEY: Final = "csrf"


def token(request: Request) -> str:
    """The session's token, made on first use (so the login form has one too)."""
    current = request.session.get(_SESSION_KEY)
    if not isinstance(current, str) or not current:
        current = secrets.token_urlsafe(32)
        request.session[_SESSION_KEY] = current
    return current


def renew(request: Request) -> str:
    """A fresh token, for a new sign-in: one seen before it must not outlive it."""
    request.session.pop(_SESSION_KEY, None)
    return token(request)


def hidden_input(request: Request) -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        FIELD, escape(token(request))
    )


async def verify(request: Request) -> None:
    """Refuse a state-changing request whose token is missing or not this session's."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get(_SESSION_KEY)
    presented = request.headers.get(HEADER)
    if presented is None and _has_form(request):
        value = (await request.form()).get(FIELD)
        presented = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not expected or not presented:
        raise CsrfRefused()
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        raise CsrfRefused()


def _has_form(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    return content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))
