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
from fastapi.responses import PlainTextResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from konversation.channels import api_channel, telegram, whatsapp
from konversation.channels.base import DeliveryFailed, InboundEvent
from konversation.channels.models import BotChannel, ChannelType
from konversation.channels.service import channel_by_uid, inbound_webhook_start
from konversation.db import session_scope, utcnow
from konversation.errors import Conflict, Forbidden, Invalid, Unauthenticated
from konversation.jobs.runtime import Runtime
from konversation.runtime.engine import refusal
from konversation.runtime.models import Delivery, DeliveryStatus

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


@router.get("/whatsapp/{uid}", response_class=PlainTextResponse)
async def whatsapp_verify(uid: str, request: Request) -> str:
    """Meta's check of the webhook URL: echo the challenge when the verify token matches."""
    channel = await _channel(request, uid, ChannelType.WHATSAPP)
    query = request.query_params
    expected = str(channel.config.get("verify_token", ""))
    given = query.get("hub.verify_token", "")
    if query.get("hub.mode") != "subscribe" or not expected or given != expected:
        raise Forbidden(BAD_SECRET)
    return query.get("hub.challenge", "")


@router.post("/whatsapp/{uid}")
async def whatsapp_update(uid: str, request: Request) -> dict[str, str]:
    """Messages and status reports of the bot's WhatsApp number, signed with the app secret
    (403 otherwise, and nothing is stored). A message delivered again is answered once."""
    runtime = _runtime(request)
    channel = await _channel(request, uid, ChannelType.WHATSAPP)
    body = await request.body()
    if not whatsapp.verify_signature(channel.secret, request.headers, body):
        raise Forbidden(BAD_SIGNATURE)
    update = _json_or_none(body)
    if not isinstance(update, Mapping):
        return {"status": "ok"}
    number = str(channel.config.get("phone_number_id", ""))
    events = whatsapp.parse_update(update, number)
    if events:
        await _receive(runtime, channel, ChannelType.WHATSAPP, events)
    reports = whatsapp.parse_statuses(update, number)
    if reports:
        async with session_scope(runtime.sessions) as session:
            await _record_statuses(session, channel.bot_id, reports)
    return {"status": "ok"}


async def _record_statuses(
    session: AsyncSession, bot_id: int, reports: Sequence[whatsapp.StatusReport]
) -> None:
    """Move each reported message's outbox row on: sent, delivered, read (never back, as
    reports may come out of order), or failed with WhatsApp's reason."""
    for report in reports:
        delivery = await session.scalar(
            select(Delivery).where(
                Delivery.channel == ChannelType.WHATSAPP,
                Delivery.external_id == report.message_id,
                Delivery.bot_id == bot_id,
            )
        )
        if delivery is None:
            continue
        if report.status == "failed":
            delivery.status = DeliveryStatus.FAILED
            delivery.error = report.error or "WhatsApp could not deliver the message"
        elif whatsapp.STATUS_RANK[report.status] > whatsapp.STATUS_RANK.get(delivery.status, 0):
            delivery.status = DeliveryStatus(report.status)


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
