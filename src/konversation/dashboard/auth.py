"""Who is signed in, what they may see, and the switcher's choice of workspace and bot.

The session (a signed cookie) holds the user's id and a fingerprint of their password hash:
changing the password ends every other session, since their fingerprint no longer matches.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.audit.service import Actor
from konversation.dashboard import csrf
from konversation.dashboard.problems import LoginRequired, PageForbidden
from konversation.wire.request_ids import client_address, request_id_of
from konversation.wire.session import Session as DbSession
from konversation.workspaces.models import Bot, Membership, Role, User, Workspace

_USER: Final = "user_id"
_FINGERPRINT: Final = "auth"
_WORKSPACE: Final = "workspace_id"
_BOT: Final = "bot_id"
MANAGERS: Final = (Role.OWNER, Role.ADMIN)


@dataclass(frozen=True)
class WorkspaceRole:
    workspace: Workspace
    role: Role


@dataclass(frozen=True)
class Viewer:
    """The signed-in user and where the switcher has put them."""

    user: User
    memberships: Sequence[WorkspaceRole]
    workspace: Workspace | None
    role: Role | None
    bots: Sequence[Bot]
    bot: Bot | None

    def role_in(self, workspace_id: int) -> Role | None:
        return next((m.role for m in self.memberships if m.workspace.id == workspace_id), None)

    def has_role(self, *roles: Role) -> bool:
        """Whether the user holds one of `roles` in the selected workspace."""
        return self.role is not None and self.role in roles

    @property
    def managed_workspaces(self) -> list[Workspace]:
        """Workspaces whose keys and members this user manages (as owner or admin)."""
        return [m.workspace for m in self.memberships if m.role in MANAGERS]


def _fingerprint(request: Request, user: User) -> str:
    secret: bytes = request.app.state.server_secret
    digest = hmac.new(secret, f"dashboard:{user.password_hash}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def sign_in(request: Request, user: User) -> None:
    """Start a fresh session for `user`: nothing from before the sign-in carries over."""
    request.session.clear()
    request.session[_USER] = user.id
    request.session[_FINGERPRINT] = _fingerprint(request, user)
    csrf.renew(request)


def refresh_fingerprint(request: Request, user: User) -> None:
    """Keep this session after the user changed their own password (others end)."""
    request.session[_FINGERPRINT] = _fingerprint(request, user)


def sign_out(request: Request) -> None:
    request.session.clear()


def choose(request: Request, *, workspace_id: int | None, bot_id: int | None) -> None:
    """Remember the switcher's choice; `load_viewer` checks it on every request."""
    request.session[_WORKSPACE] = workspace_id
    request.session[_BOT] = bot_id


async def signed_in_user(request: Request, session: AsyncSession) -> User | None:
    user_id = request.session.get(_USER)
    if not isinstance(user_id, int):
        return None
    user = await session.get(User, user_id)
    if user is None:
        return None
    presented = request.session.get(_FINGERPRINT)
    if not isinstance(presented, str):
        return None
    if not hmac.compare_digest(presented, _fingerprint(request, user)):
        return None
    return user


async def load_viewer(request: Request, session: AsyncSession, user: User) -> Viewer:
    rows = await session.execute(
        select(Workspace, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == user.id)
        .order_by(Workspace.id)
    )
    memberships = [WorkspaceRole(workspace, Role(role)) for workspace, role in rows]
    chosen = request.session.get(_WORKSPACE)
    selected = next((m for m in memberships if m.workspace.id == chosen), None)
    selected = selected or (memberships[0] if memberships else None)
    bots: list[Bot] = []
    if selected is not None:
        bots = list(
            await session.scalars(
                select(Bot).where(Bot.workspace_id == selected.workspace.id).order_by(Bot.id)
            )
        )
    chosen_bot = request.session.get(_BOT)
    bot = next((b for b in bots if b.id == chosen_bot), bots[0] if bots else None)
    return Viewer(
        user=user,
        memberships=memberships,
        workspace=selected.workspace if selected else None,
        role=selected.role if selected else None,
        bots=bots,
        bot=bot,
    )


async def current_user(request: Request, session: DbSession) -> Viewer:
    """The signed-in user; a LoginRequired (redirect to the login page) when there is none."""
    user = await signed_in_user(request, session)
    if user is None:
        request.session.pop(_USER, None)
        raise LoginRequired()
    viewer = await load_viewer(request, session, user)
    request.state.viewer = viewer
    return viewer


CurrentUser = Annotated[Viewer, Depends(current_user)]


def require_role(*roles: Role) -> Callable[[Viewer], Awaitable[Viewer]]:
    """A dependency giving the viewer when they hold one of `roles` in the selected workspace;
    a 403 page otherwise. Use: `viewer: Annotated[Viewer, Depends(require_role(Role.OWNER))]`.
    """

    async def check(viewer: CurrentUser) -> Viewer:
        if not viewer.has_role(*roles):
            raise PageForbidden()
        return viewer

    return check


def managers_only(refusal: str) -> Callable[[Viewer], Awaitable[Viewer]]:
    """A dependency letting through users who manage a workspace, refusing others with
    `refusal`."""

    async def check(viewer: Annotated[Viewer, Depends(current_user)]) -> Viewer:
        if not viewer.managed_workspaces:
            raise PageForbidden(refusal)
        return viewer

    return check


def require_manager_of(viewer: Viewer, workspace_id: int) -> None:
    """Refuse unless the viewer is an owner or admin of `workspace_id`."""
    if viewer.role_in(workspace_id) not in MANAGERS:
        raise PageForbidden()


def acting_user(request: Request, viewer: Viewer) -> Actor:
    """The signed-in user as the audit log names them, acting in this request."""
    return user_actor(request, viewer.user)


def user_actor(request: Request, user: User) -> Actor:
    return Actor.user(user.id, user.email).at(request_id_of(request), client_address(request))
