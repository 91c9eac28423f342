"""The signed-in user's own account: name, email and password."""

from __future__ import annotations

import re
from typing import Annotated, Final

from fastapi import Form, Request
from sqlalchemy import select
from starlette.responses import Response

from konversation.dashboard import auth
from konversation.dashboard.routing import redirect
from konversation.dashboard.templating import flash, render
from konversation.dashboard.web import CurrentUser, DbSession, page_router
from konversation.workspaces.models import User
from konversation.workspaces.service import hash_password, verify_password

router = page_router()

ACCOUNT_URL: Final = "/dashboard/account"
MIN_PASSWORD: Final = 10
FIELD_LIMIT: Final = 255
# Deliberately loose: one @ between non-blank parts; the address is only ever a login name.
EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
WRONG_PASSWORD: Final = "The current password is incorrect."


def _account(
    request: Request,
    *,
    name: str,
    email: str,
    profile_errors: dict[str, str] | None = None,
    password_errors: dict[str, str] | None = None,
) -> Response:
    context = {
        "name": name,
        "email": email,
        "profile_errors": profile_errors or {},
        "password_errors": password_errors or {},
        "min_password": MIN_PASSWORD,
    }
    failed = bool(profile_errors or password_errors)
    return render(request, "account.html", context, status_code=422 if failed else 200)


@router.get(ACCOUNT_URL)
async def account_page(request: Request, viewer: CurrentUser) -> Response:
    return _account(request, name=viewer.user.name, email=viewer.user.email)


@router.post(f"{ACCOUNT_URL}/profile")
async def update_profile(
    request: Request,
    viewer: CurrentUser,
    session: DbSession,
    name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    current_password: Annotated[str, Form()] = "",
) -> Response:
    user = viewer.user
    name, email = name.strip(), email.strip().lower()
    errors: dict[str, str] = {}
    if not name or len(name) > FIELD_LIMIT:
        errors["name"] = f"Enter a name of at most {FIELD_LIMIT} characters."
    if not EMAIL.match(email) or len(email) > FIELD_LIMIT:
        errors["email"] = "Enter a valid email address."
    elif email != user.email:
        # The email is what one logs in with: changing it takes the password, like changing that.
        if not verify_password(current_password, user.password_hash):
            errors["current_password"] = WRONG_PASSWORD
        elif await session.scalar(select(User.id).where(User.email == email)) is not None:
            errors["email"] = "Another account uses this email."
    if errors:
        return _account(request, name=name, email=email, profile_errors=errors)
    user.name, user.email = name, email
    flash(request, "Your account is saved.", "success")
    return redirect(request, ACCOUNT_URL)


@router.post(f"{ACCOUNT_URL}/password")
async def change_password(
    request: Request,
    viewer: CurrentUser,
    session: DbSession,
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
    confirm_password: Annotated[str, Form()] = "",
) -> Response:
    user = viewer.user
    errors: dict[str, str] = {}
    if not verify_password(current_password, user.password_hash):
        errors["current_password"] = WRONG_PASSWORD
    elif len(new_password) < MIN_PASSWORD:
        errors["new_password"] = f"Choose a password of at least {MIN_PASSWORD} characters."
    elif new_password != confirm_password:
        errors["confirm_password"] = "The two new passwords differ."
    if errors:
        return _account(request, name=user.name, email=user.email, password_errors=errors)
    user.password_hash = hash_password(new_password)
    # This session stays signed in; every other one ends (its fingerprint no longer matches).
    auth.refresh_fingerprint(request, user)
    flash(request, "Your password is changed. Other sessions are logged out.", "success")
    return redirect(request, ACCOUNT_URL)
