"""The selected bot's subscribers: a searchable, filtered, paged table, and a page per subscriber
with their profile, tags, fields and chat, from which a sub flow is sent or the bot paused."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable
from typing import Annotated, Final

from fastapi import Form
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from konversation.conversations.history import ChatQuery, chat_messages
from konversation.dashboard.pages_common import (
    PAGE_SIZE,
    Member,
    Paging,
    messages_of,
    page_number,
    query_string,
    selected_bot,
)
from konversation.dashboard.web import DbSession, flash, page_router, redirect, render
from konversation.db import PageRequest, utcnow
from konversation.errors import KonversationError
from konversation.flows.service import SUB_FLOWS, TAGS
from konversation.ids import Kind, format_ns
from konversation.runtime.engine import refusal
from konversation.subscribers import filters, state
from konversation.subscribers import service as subscribers
from konversation.subscribers.attributes import Pick, add_tags, remove_tags
from konversation.subscribers.filters import SubscriberFilter
from konversation.subscribers.models import ConversationStatus, Subscriber

router = page_router()

PAGE: Final = "/dashboard/subscribers"
CHAT_LINES: Final = 50
ORIGIN: Final = "dashboard"
STATUSES: Final = [status.value for status in ConversationStatus]
# Three digits or more, with the usual punctuation of a phone number and nothing else.
_PHONE_LIKE = re.compile(r"^\+?[\d\s().-]{3,}$")


def search_filter(text: str, tag_ns: str) -> SubscriberFilter:
    """The search box reads an address as an email, a number as a phone, anything else as part
    of a name."""
    text = text.strip()
    tag = tag_ns.strip() or None
    if not text:
        return SubscriberFilter(tag_ns=tag)
    if "@" in text:
        return SubscriberFilter(email=text, tag_ns=tag)
    if _PHONE_LIKE.match(text) and sum(c.isdigit() for c in text) >= 3:
        return SubscriberFilter(phone=text, tag_ns=tag)
    return SubscriberFilter(name=text, tag_ns=tag)


async def find_subscribers(
    session: AsyncSession, bot_id: int, wanted: SubscriberFilter, status: str, window: PageRequest
) -> tuple[list[subscribers.Profile], int]:
    """One page of the bot's subscribers matching `wanted` and in conversation `status` (any
    when empty), latest activity first, and how many match in all."""
    found = await filters.prepare(session, [bot_id], [wanted], utcnow())
    if found is None:
        return [], 0
    if status:
        found = dataclasses.replace(found, checks=(*found.checks, Subscriber.status == status))
    page = await found.page(session, window)
    return await subscribers.profiles(session, page), await found.total(session)


@router.get(PAGE)
async def subscriber_list(
    request: Request,
    viewer: Member,
    session: DbSession,
    q: str = "",
    tag: str = "",
    status: str = "",
    page: str | None = None,
) -> Response:
    bot = selected_bot(viewer)
    status = status if status in STATUSES else ""
    window = PageRequest(page=page_number(page), limit=PAGE_SIZE)
    found, total = await find_subscribers(session, bot.id, search_filter(q, tag), status, window)
    return render(
        request,
        "subscribers_list.html",
        {
            "bot": bot,
            "profiles": found,
            "paging": Paging(window.page, total),
            "q": q,
            "tag": tag,
            "status": status,
            "statuses": STATUSES,
            "tags": [
                (format_ns(bot.id, Kind.TAG, t.number), t) for t in await TAGS.all(session, bot.id)
            ],
            "query": query_string({"q": q, "tag": tag, "status": status}),
            "user_ns": _user_ns,
        },
    )


def _user_ns(subscriber: Subscriber) -> str:
    return format_ns(subscriber.bot_id, Kind.SUBSCRIBER, subscriber.number)


@router.get(PAGE + "/{user_ns}")
async def subscriber_detail(
    request: Request, viewer: Member, session: DbSession, user_ns: str
) -> Response:
    bot = selected_bot(viewer)
    subscriber = await subscribers.get_subscriber(session, bot.id, user_ns)
    profile = await subscribers.get_profile(session, subscriber)
    lines, total_messages = await chat_messages(
        session,
        bot.id,
        ChatQuery(user_ns=user_ns, include_bot=True, include_note=True, include_system=True),
        window=PageRequest(page=1, limit=CHAT_LINES),
    )
    has = {tag.id for tag in profile.tags}
    return render(
        request,
        "subscribers_detail.html",
        {
            "bot": bot,
            "subscriber": subscriber,
            "user_ns": _user_ns(subscriber),
            "profile": profile,
            "tag_ns": lambda tag: format_ns(bot.id, Kind.TAG, tag.number),
            "other_tags": [t for t in await TAGS.all(session, bot.id) if t.id not in has],
            "sub_flows": [
                (format_ns(bot.id, Kind.SUB_FLOW, flow.number), flow)
                for flow in await SUB_FLOWS.all(session, bot.id)
            ],
            "messages": [line.message for line in reversed(lines)],
            "older_messages": max(0, total_messages - len(lines)),
            "refusal": refusal(subscriber),
            "paused": subscriber.paused_until is not None and subscriber.paused_until > utcnow(),
        },
    )


def _back(request: Request, user_ns: str) -> Response:
    return redirect(request, f"{PAGE}/{user_ns}")


async def _attempt(
    request: Request, session: AsyncSession, change: Awaitable[object], done: str
) -> None:
    """Run a service call; say how it went on the next page. A refusal changes nothing."""
    try:
        async with session.begin_nested():
            await change
    except KonversationError as refused:
        for message in messages_of(refused):
            flash(request, message, "error")
    else:
        flash(request, done, "success")


@router.post(PAGE + "/{user_ns}/send-flow")
async def send_sub_flow(
    request: Request,
    viewer: Member,
    session: DbSession,
    user_ns: str,
    sub_flow_ns: Annotated[str, Form()] = "",
) -> Response:
    """Run a sub flow for the subscriber now, as `send-sub-flow` does through the API."""
    bot = selected_bot(viewer)
    subscriber = await subscribers.get_subscriber(session, bot.id, user_ns)
    reason = refusal(subscriber)
    if reason is not None:
        flash(request, f"Not sent: {reason}", "error")
        return _back(request, user_ns)
    flow = await SUB_FLOWS.by_ns(session, bot.id, sub_flow_ns)
    await request.app.state.runtime.engine.start(session, subscriber, flow, origin=ORIGIN)
    flash(request, f'Sent the sub flow "{flow.name}".', "success")
    return _back(request, user_ns)


@router.post(PAGE + "/{user_ns}/tags")
async def add_tag(
    request: Request,
    viewer: Member,
    session: DbSession,
    user_ns: str,
    tag_ns: Annotated[str, Form()] = "",
) -> Response:
    bot = selected_bot(viewer)
    await subscribers.get_subscriber(session, bot.id, user_ns)
    tag = await TAGS.by_ns(session, bot.id, tag_ns)
    change = add_tags(session, bot.id, user_ns=user_ns, tags=Pick.one("tag_ns", tag_ns))
    await _attempt(request, session, change, f'Tagged "{tag.name}".')
    return _back(request, user_ns)


@router.post(PAGE + "/{user_ns}/tags/{tag_ns}/remove")
async def remove_tag(
    request: Request, viewer: Member, session: DbSession, user_ns: str, tag_ns: str
) -> Response:
    bot = selected_bot(viewer)
    await subscribers.get_subscriber(session, bot.id, user_ns)
    tag = await TAGS.by_ns(session, bot.id, tag_ns)
    change = remove_tags(session, bot.id, user_ns=user_ns, tags=Pick.one("tag_ns", tag_ns))
    await _attempt(request, session, change, f'Removed the tag "{tag.name}".')
    return _back(request, user_ns)


@router.post(PAGE + "/{user_ns}/pause")
async def pause_bot(
    request: Request,
    viewer: Member,
    session: DbSession,
    user_ns: str,
    minutes: Annotated[int, Form()] = state.DEFAULT_PAUSE_MINUTES,
) -> Response:
    bot = selected_bot(viewer)
    await subscribers.get_subscriber(session, bot.id, user_ns)
    change = state.pause_bot(session, bot.id, user_ns=user_ns, minutes=minutes)
    await _attempt(request, session, change, f"The bot is paused for {minutes} minutes.")
    return _back(request, user_ns)


@router.post(PAGE + "/{user_ns}/resume")
async def resume_bot(
    request: Request, viewer: Member, session: DbSession, user_ns: str
) -> Response:
    bot = selected_bot(viewer)
    await subscribers.get_subscriber(session, bot.id, user_ns)
    change = state.resume_bot(session, bot.id, user_ns=user_ns)
    await _attempt(request, session, change, "The bot is talking to them again.")
    return _back(request, user_ns)
