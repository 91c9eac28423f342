"""Logging in and out, the overview, and the workspace and bot switcher."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Form, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from konversation.audit import service as audit
from konversation.audit.service import Action, Actor
from konversation.dashboard import auth, lockout
from konversation.dashboard.routing import HOME_URL, LOGIN_URL, local_path, redirect
from konversation.dashboard.templating import flash, render
from konversation.dashboard.web import CurrentUser, DbSession, page_router
from konversation.wire.request_ids import client_address, request_id_of
from konversation.workspaces.models import Bot, User
from konversation.workspaces.service import hash_password, verify_password

router = page_router()

BAD_CREDENTIALS: Final = "The email or password is incorrect."
# Checked against when no user has the address, so an unknown address takes as long to refuse
# as a wrong password does.
_decoy_hash: str | None = None


def _decoy() -> str:
    global _decoy_hash
    if _decoy_hash is None:
        _decoy_hash = hash_password("not the password of anyone")
    return _decoy_hash


@router.get(LOGIN_URL)
async def login_page(request: Request, session: DbSession, next: str = HOME_URL) -> Response:
    if await auth.signed_in_user(request, session) is not None:
        return redirect(request, local_path(next))
    return render(request, "login.html", {"next": local_path(next), "email": "", "error": None})


@router.post(LOGIN_URL)
async def log_in(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = HOME_URL,
) -> Response:
    email = lockout.normalise(email)
    remaining = await lockout.locked_for(session, email)
    if remaining is not None:
        wait = lockout.minutes(remaining)
        error = (
            "Too many failed attempts for this email. "
            f"Try again in {wait} minute{'' if wait == 1 else 's'}."
        )
        return _refused(request, email, next, error, status=429)
    user = await session.scalar(select(User).where(User.email == email))
    known_hash = user.password_hash if user is not None else _decoy()
    if not verify_password(password, known_hash) or user is None:
        await lockout.record_failure(session, email, client_address(request))
        _audit_sign_in(request, session, Action.LOGIN_FAILED, user, email)
        return _refused(request, email, next, BAD_CREDENTIALS, status=401)
    await lockout.clear_failures(session, email)
    _audit_sign_in(request, session, Action.LOGIN, user, email)
    auth.sign_in(request, user)
    return redirect(request, local_path(next))


def _audit_sign_in(
    request: Request, session: AsyncSession, action: Action, user: User | None, email: str
) -> None:
    """Sign-ins belong to no workspace; the log shows them to the managers of the user's."""
    by = (
        auth.user_actor(request, user)
        if user is not None
        else Actor("anonymous", email).at(request_id_of(request), client_address(request))
    )
    audit.record(session, action, by, workspace_id=None, target=f"sign-in as {email}")


def _refused(request: Request, email: str, next: str, error: str, *, status: int) -> Response:
    context = {"next": local_path(next), "email": email, "error": error}
    return render(request, "login.html", context, status_code=status)


@router.post("/dashboard/logout")
async def log_out(request: Request) -> Response:
    auth.sign_out(request)
    flash(request, "You are logged out.")
    return redirect(request, LOGIN_URL)


@router.get(HOME_URL)
async def overview(request: Request, viewer: CurrentUser) -> Response:
    return render(request, "home.html")


@router.post("/dashboard/switch")
async def switch(
    request: Request,
    viewer: CurrentUser,
    session: DbSession,
    workspace_id: Annotated[int | None, Form()] = None,
    bot_id: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = HOME_URL,
) -> Response:
    """Choose the workspace and bot the pages show. A bot of another workspace than the one
    chosen (the bot list still showed the old one) gives way to that workspace's first bot."""
    if workspace_id is None or viewer.role_in(workspace_id) is None:
        workspace_id = viewer.workspace.id if viewer.workspace else None
    chosen_bot = int(bot_id) if bot_id.isdigit() else None
    if chosen_bot is not None:
        bot = await session.get(Bot, chosen_bot)
        if bot is None or bot.workspace_id != workspace_id:
            chosen_bot = None
    auth.choose(request, workspace_id=workspace_id, bot_id=chosen_bot)
    if request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Refresh": "true"})
    return redirect(request, local_path(next))
