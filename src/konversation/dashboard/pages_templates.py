"""Installing a flow template from its one-time link: the signed-in user picks one of the bots
they build in (owner, admin or member of its workspace) and the template is installed there."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Form
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from konversation.dashboard import auth
from konversation.dashboard.pages_common import BUILDERS, messages_of
from konversation.dashboard.pages_flows import describe_counts
from konversation.dashboard.web import (
    CurrentUser,
    DbSession,
    Viewer,
    flash,
    page_router,
    redirect,
    render,
)
from konversation.errors import Conflict, KonversationError, NotFound
from konversation.flow_templates import service as templates
from konversation.workspaces.models import Bot

router = page_router()

PAGE: Final = "/dashboard/templates/install/{token}"


async def _bots_to_install_into(session: AsyncSession, viewer: Viewer) -> list[Bot]:
    workspaces = [m.workspace.id for m in viewer.memberships if m.role in BUILDERS]
    found = await session.scalars(
        select(Bot).where(Bot.workspace_id.in_(workspaces)).order_by(Bot.workspace_id, Bot.id)
    )
    return list(found)


@router.get(PAGE)
async def install_page(
    request: Request, viewer: CurrentUser, session: DbSession, token: str
) -> Response:
    """What the link installs, and a choice of bot; an unknown, used or expired link is said so."""
    return await _page(request, session, viewer, token)


async def _page(
    request: Request,
    session: AsyncSession,
    viewer: Viewer,
    token: str,
    *,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    opened = await templates.open_link(session, token)
    bots = await _bots_to_install_into(session, viewer)
    document = opened.template.document
    return render(
        request,
        "templates_install.html",
        {
            "template": opened.template,
            "link": opened.link,
            "here": PAGE.format(token=token),
            "bots": bots,
            "workspaces": {m.workspace.id: m.workspace.name for m in viewer.memberships},
            "counts": {
                kind: len(document.get(kind) or [])
                for kind in ("flows", "tags", "user_fields", "bot_fields")
            },
            "errors": errors or [],
        },
        status_code=status_code,
    )


@router.post(PAGE)
async def install(
    request: Request,
    viewer: CurrentUser,
    session: DbSession,
    token: str,
    bot_id: Annotated[int, Form()],
) -> Response:
    """Install into the chosen bot, then show that bot's flows."""
    bot = next((b for b in await _bots_to_install_into(session, viewer) if b.id == bot_id), None)
    if bot is None:
        raise NotFound("Bot not found")
    try:
        async with session.begin_nested():
            installed = await templates.install_by_link(session, token, bot.id)
    except (NotFound, Conflict):
        raise  # the link itself is gone: an error page says why
    except KonversationError as refused:
        return await _page(
            request, session, viewer, token, errors=messages_of(refused), status_code=422
        )
    auth.choose(request, workspace_id=bot.workspace_id, bot_id=bot.id)
    flash(
        request,
        f"Installed {installed.template.name} into {bot.name}: "
        f"{describe_counts(installed.counts)}.",
        "success",
    )
    return redirect(request, "/dashboard/flows")
