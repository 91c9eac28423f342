"""A bot's event webhooks: where its events are posted, and the log of what was posted, with a
button to send any event again."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Form
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from konversation.dashboard.pages_common import (
    Builder,
    Paging,
    messages_of,
    page_number,
    workspace_bot,
)
from konversation.dashboard.web import DbSession, flash, page_router, redirect, render
from konversation.db import PageRequest
from konversation.errors import KonversationError
from konversation.webhooks import service as webhooks
from konversation.webhooks.models import EventType
from konversation.workspaces.models import Bot

router = page_router()

PAGE: Final = "/dashboard/bots/{bot_id}/webhooks"
LOG_SIZE: Final = 25
EVENT_NAMES: Final = {
    EventType.SUBSCRIBER_CREATED: "A subscriber is created",
    EventType.TAG_ADDED: "A tag is added to a subscriber",
    EventType.TAG_REMOVED: "A tag is removed from a subscriber",
    EventType.FIELD_CHANGED: "A user field's value changes",
    EventType.MESSAGE_RECEIVED: "A subscriber sends a message",
    EventType.ORDER_STATUS_CHANGED: "An order's status changes",
}


def _here(bot: Bot) -> str:
    return PAGE.format(bot_id=bot.id)


@router.get(PAGE)
async def webhooks_page(
    request: Request, viewer: Builder, session: DbSession, bot_id: int, page: str | None = None
) -> Response:
    return await _page(request, session, workspace_bot(viewer, bot_id), page_number(page))


async def _page(
    request: Request,
    session: AsyncSession,
    bot: Bot,
    log_page: int = 1,
    *,
    errors: list[str] | None = None,
    secret: str | None = None,
    status_code: int = 200,
) -> Response:
    """The page; `secret` is a new webhook's, shown this once."""
    endpoints, _ = await webhooks.list_endpoints(
        session, bot.id, PageRequest(limit=webhooks.MAX_ENDPOINTS_PER_BOT)
    )
    window = PageRequest(page=log_page, limit=LOG_SIZE)
    log, total = await webhooks.list_deliveries(session, bot.id, window)
    return render(
        request,
        "webhooks_page.html",
        {
            "bot": bot,
            "here": _here(bot),
            "endpoints": endpoints,
            "urls": {endpoint.id: endpoint.url for endpoint in endpoints},
            "log": log,
            "paging": Paging(window.page, total, size=LOG_SIZE),
            "event_names": EVENT_NAMES,
            "errors": errors or [],
            "secret": secret,
        },
        status_code=status_code,
    )


@router.post(PAGE)
async def create_webhook(
    request: Request,
    viewer: Builder,
    session: DbSession,
    bot_id: int,
    url: Annotated[str, Form()] = "",
    events: Annotated[list[str] | None, Form()] = None,
    description: Annotated[str, Form()] = "",
) -> Response:
    """Add a webhook; its secret is shown on the answer, and never again."""
    bot = workspace_bot(viewer, bot_id)
    try:
        async with session.begin_nested():
            endpoint = await webhooks.create_endpoint(
                session,
                bot.id,
                url=url.strip(),
                events=events or [],
                description=description.strip()[:255],
                allowed=request.app.state.runtime.webhook_networks,
            )
    except KonversationError as refused:
        return await _page(request, session, bot, errors=messages_of(refused), status_code=422)
    return await _page(request, session, bot, secret=endpoint.secret)


@router.post(PAGE + "/{webhook_id}/switch")
async def switch_webhook(
    request: Request, viewer: Builder, session: DbSession, bot_id: int, webhook_id: int
) -> Response:
    bot = workspace_bot(viewer, bot_id)
    switched_on = not (await webhooks.get_endpoint(session, bot.id, webhook_id)).active
    await webhooks.update_endpoint(session, bot.id, webhook_id, allowed=[], active=switched_on)
    flash(request, f"Webhook switched {'on' if switched_on else 'off'}.", "success")
    return redirect(request, _here(bot))


@router.post(PAGE + "/{webhook_id}/delete")
async def delete_webhook(
    request: Request, viewer: Builder, session: DbSession, bot_id: int, webhook_id: int
) -> Response:
    bot = workspace_bot(viewer, bot_id)
    await webhooks.delete_endpoint(session, bot.id, webhook_id)
    flash(request, "Webhook deleted.", "success")
    return redirect(request, _here(bot))


@router.post(PAGE + "/deliveries/{delivery_id}/replay")
async def replay_delivery(
    request: Request, viewer: Builder, session: DbSession, bot_id: int, delivery_id: int
) -> Response:
    bot = workspace_bot(viewer, bot_id)
    again = await webhooks.replay(session, bot.id, delivery_id)
    flash(request, f"Event {again.event_id} queued again.", "success")
    return redirect(request, _here(bot))
