"""The API keys page: list, create (the token shown once), revoke.

Only owners and admins manage a workspace's keys; the page lists the keys of every workspace
the viewer manages and refuses everyone else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Final

from fastapi import Depends, Form, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from konversation.dashboard.auth import Viewer, acting_user, managers_only, require_manager_of
from konversation.dashboard.routing import redirect
from konversation.dashboard.templating import flash, render
from konversation.dashboard.web import DbSession, page_router
from konversation.errors import NotFound
from konversation.keys import service as keys
from konversation.keys.models import ApiKey, Permission
from konversation.workspaces.models import Bot, Workspace

router = page_router()

KEYS_URL: Final = "/dashboard/keys"
PANEL: Final = "keys/_panel.html"
NAME_LIMIT: Final = 255


KeyManager = Annotated[
    Viewer, Depends(managers_only("Only owners and admins of a workspace manage its API keys."))
]


@dataclass(frozen=True)
class KeyRow:
    key: ApiKey
    workspace: Workspace
    bot: Bot | None


@dataclass
class KeyForm:
    """What the create form shows: the values typed so far and what was wrong with them."""

    workspace_id: int
    bot_id: int | None
    name: str = ""
    permissions: list[str] = field(default_factory=lambda: [p.value for p in Permission])
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Created:
    name: str
    token: str


async def _bots_of(session: AsyncSession, workspace_id: int) -> Sequence[Bot]:
    return (
        await session.scalars(select(Bot).where(Bot.workspace_id == workspace_id).order_by(Bot.id))
    ).all()


async def _rows(session: AsyncSession, viewer: Viewer) -> list[KeyRow]:
    rows: list[KeyRow] = []
    for workspace in viewer.managed_workspaces:
        bots = {bot.id: bot for bot in await _bots_of(session, workspace.id)}
        for key in await keys.list_keys(session, workspace.id):
            bot = bots.get(key.bot_id) if key.bot_id is not None else None
            rows.append(KeyRow(key=key, workspace=workspace, bot=bot))
    # Newest first, revoked ones after every live one.
    rows.sort(key=lambda row: (row.key.revoked_at is not None, -row.key.id))
    return rows


async def _blank_form(session: AsyncSession, viewer: Viewer) -> KeyForm:
    """The switcher's workspace and bot when the viewer manages it, else their first ones."""
    managed = viewer.managed_workspaces
    in_view = viewer.workspace if viewer.workspace in managed else None
    workspace = in_view or managed[0]
    bot = viewer.bot if viewer.bot and viewer.bot.workspace_id == workspace.id else None
    if bot is None:
        bot = next(iter(await _bots_of(session, workspace.id)), None)
    return KeyForm(workspace_id=workspace.id, bot_id=bot.id if bot else None)


async def _panel(
    request: Request,
    session: AsyncSession,
    viewer: Viewer,
    form: KeyForm,
    *,
    created: Created | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    context: Mapping[str, Any] = {
        "rows": await _rows(session, viewer),
        "workspaces": viewer.managed_workspaces,
        "form": form,
        "form_bots": await _bots_of(session, form.workspace_id),
        "permissions": [p.value for p in Permission],
        "created": created,
        "notice": notice,
    }
    template = PANEL if request.headers.get("HX-Request") else "keys/page.html"
    return render(request, template, context, status_code=status_code)


@router.get(KEYS_URL)
async def keys_page(request: Request, viewer: KeyManager, session: DbSession) -> Response:
    return await _panel(request, session, viewer, await _blank_form(session, viewer))


@router.get(f"{KEYS_URL}/bots")
async def bot_options(
    request: Request, viewer: KeyManager, session: DbSession, workspace_id: int
) -> Response:
    """The chatbot choices of a workspace, for the create form when its workspace changes."""
    require_manager_of(viewer, workspace_id)
    bots = await _bots_of(session, workspace_id)
    first = bots[0].id if bots else None
    return render(request, "keys/_bot_options.html", {"form_bots": bots, "selected": first})


@router.post(KEYS_URL)
async def create_key(
    request: Request,
    viewer: KeyManager,
    session: DbSession,
    workspace_id: Annotated[int, Form()],
    name: Annotated[str, Form()] = "",
    bot_id: Annotated[str, Form()] = "",
    permissions: Annotated[list[str] | None, Form()] = None,
) -> Response:
    require_manager_of(viewer, workspace_id)
    form = KeyForm(
        workspace_id=workspace_id,
        bot_id=int(bot_id) if bot_id.isdigit() else None,
        name=name.strip(),
        permissions=list(permissions or []),
    )
    form.errors = await _form_errors(session, form)
    if form.errors:
        return await _panel(request, session, viewer, form, status_code=422)
    issued = await keys.create_key(
        session,
        workspace_id,
        name=form.name,
        bot_id=form.bot_id,
        permissions=form.permissions,
        server_secret=request.app.state.server_secret,
        by=acting_user(request, viewer),
        created_by=viewer.user.id,
    )
    created = Created(name=issued.key.name, token=issued.token)
    blank = await _blank_form(session, viewer)
    return await _panel(request, session, viewer, blank, created=created)


async def _form_errors(session: AsyncSession, form: KeyForm) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not form.name:
        errors["name"] = "Give the key a name."
    elif len(form.name) > NAME_LIMIT:
        errors["name"] = f"The name may be at most {NAME_LIMIT} characters long."
    if form.bot_id is not None:
        bot = await session.get(Bot, form.bot_id)
        if bot is None or bot.workspace_id != form.workspace_id:
            errors["bot_id"] = "Choose a chatbot of this workspace."
    if not form.permissions:
        errors["permissions"] = "Choose at least one permission."
    elif not set(form.permissions) <= {p.value for p in Permission}:
        errors["permissions"] = "Choose among the permissions listed."
    return errors


@router.post(KEYS_URL + "/{key_id}/revoke")
async def revoke_key(
    request: Request, key_id: int, viewer: KeyManager, session: DbSession
) -> Response:
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("API key not found")
    require_manager_of(viewer, key.workspace_id)
    await keys.revoke_key(
        session, key_id, by=acting_user(request, viewer), workspace_id=key.workspace_id
    )
    notice = f"The key “{key.name}” is revoked: requests with it are refused from now on."
    if request.headers.get("HX-Request"):
        blank = await _blank_form(session, viewer)
        return await _panel(request, session, viewer, blank, notice=notice)
    flash(request, notice, "success")
    return redirect(request, KEYS_URL)
