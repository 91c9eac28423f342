"""Webhooks that channels and outside systems call: Telegram updates, API channel messages,
inbound webhooks that start sub flows.

Each is found by the unguessable id in its URL (404 when there is none, or it is switched
off) and checked before anything is read: Telegram's secret token header, the API channel's
HMAC signature (401 otherwise). What they say is handled in one write transaction; the bot's
answers go out through the outbox after it commits.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from konversation.channels import api_channel, telegram
from konversation.channels.base import DeliveryFailed, InboundEvent
from konversation.channels.models import BotChannel, ChannelType
from konversation.channels.service import channel_by_uid, inbound_webhook_start
from konversation.db import session_scope, utcnow
from konversation.errors import Conflict, Invalid, Unauthenticated
from konversation.jobs.runtime import Runtime
from konversation.runtime.engine import refusal

log = logging.getLogger(__name__)

router = APIRouter(prefix="/webhooks", tags=["Webhooks"], include_in_schema=False)

BAD_SIGNATURE = "The request signature is missing, wrong or expired."
BAD_SECRET = "The secret token is missing or wrong."


@router.post("/telegram/{uid}")
async def telegram_update(uid: str, request: Request) -> dict[str, bool]:
    """An update of the bot's Telegram bot. Whatever it holds that we do not handle (edits,
    group chats, other kinds of update) is acknowledged and dropped, so Telegram stops
    sending it; the same update delivered again is answered once (see `Engine.receive`)."""
    runtime = _runtime(request)
    channel = await _channel(request, uid, ChannelType.TELEGRAM)
    if not telegram.verify_secret(request.headers, channel.secret):
        raise Unauthenticated(BAD_SECRET)
    update = _json_or_none(await request.body())
    events = telegram.parse_update(update) if isinstance(update, Mapping) else []
    if events:
        await _receive(runtime, channel, ChannelType.TELEGRAM, events)
        await _acknowledge(runtime, channel, events)
    return {"ok": True}


@router.post("/api/{uid}")
async def api_message(uid: str, request: Request) -> dict[str, str]:
    """A message of one of the owner's users, signed with the channel's secret."""
    runtime = _runtime(request)
    channel = await _channel(request, uid, ChannelType.API)
    body = await request.body()
    if not api_channel.verify(channel.secret, request.headers, body, now=utcnow()):
        raise Unauthenticated(BAD_SIGNATURE)
    event = api_channel.parse_inbound(_json_object(body))
    if event is None:
        raise Invalid.field(
            "body", "A message needs a user_id, and a text, a payload or an attachment."
        )
    await _receive(runtime, channel, ChannelType.API, [event])
    return {"status": "ok"}


@router.post("/inbound/{hook_uid}")
async def inbound_webhook(hook_uid: str, request: Request) -> dict[str, str]:
    """Start the hook's sub flow for the subscriber the JSON body names (`user_ns` or
    `user_id`), with the body's top-level keys as `webhook.<key>` variables."""
    runtime = _runtime(request)
    body = _json_or_none(await request.body())
    async with session_scope(runtime.sessions) as session:
        start = await inbound_webhook_start(session, hook_uid, body)
        refused = refusal(start.subscriber)
        if refused is not None:
            raise Conflict(refused)
        await runtime.engine.start(
            session, start.subscriber, start.flow, variables=start.variables, origin="webhook"
        )
    return {"status": "ok"}


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _channel(request: Request, uid: str, type_: str) -> BotChannel:
    # A read-only session: refused requests never wait for, or hold, the write lock.
    read_sessions: async_sessionmaker[AsyncSession] = request.app.state.read_sessions
    async with read_sessions() as session:
        return await channel_by_uid(session, uid, type_)


async def _receive(
    runtime: Runtime, channel: BotChannel, type_: str, events: Sequence[InboundEvent]
) -> None:
    async with session_scope(runtime.sessions) as session:
        for event in events:
            await runtime.engine.receive(session, channel.bot_id, type_, event)


async def _acknowledge(
    runtime: Runtime, channel: BotChannel, events: Sequence[InboundEvent]
) -> None:
    """Tell the channel the events were handled (a pressed Telegram button stops spinning);
    only after the commit, and a refusal changes nothing of what was handled."""
    adapter = runtime.directory.adapter(channel)
    if adapter is None:
        return
    for event in events:
        if event.ack_id is None:
            continue
        try:
            await adapter.acknowledge(event)
        except DeliveryFailed as failed:
            log.warning("Could not acknowledge a %s event: %s", channel.type, failed.message)


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:  # also a body that is no UTF-8
        return None


def _json_object(body: bytes) -> Mapping[str, Any]:
    parsed = _json_or_none(body)
    if not isinstance(parsed, Mapping):
        raise Invalid.field("body", "The body must be a JSON object.")
    return parsed
