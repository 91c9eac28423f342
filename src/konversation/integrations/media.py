"""Files that subscribers send, copied into the workspace's own S3 bucket.

When the workspace has saved an S3 storage integration, each attachment of an inbound message
that we can fetch is queued (see `calls`) as the message is logged: an http(s) URL, or a
channel's own reference, which the worker resolves through the bot's channel when it copies the
file (a Telegram `telegram-file:<file_id>` with getFile, a WhatsApp `whatsapp-media:<id>` with
the Cloud API's media endpoint, its download taking the same Bearer token). A worker downloads
it (at most `MAX_BYTES`; a URL from the message itself only from a public address unless the
configuration allows more), stores it under `konversation/bot<id>/<message mid>/<n><ext>` and
points the message log at the stored object: the attachment's `url` (and the message's
`content`, when that was the URL) become the object's URL, and the first URL (or channel
reference) stays in the attachment as `original_url`. Until then, and when storing fails for
good, the log keeps the original.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.channels.base import Attachment, DeliveryFailed
from konversation.channels.models import BotChannel, ChannelType
from konversation.channels.service import get_channel
from konversation.channels.telegram import TelegramChannel, file_id_of
from konversation.channels.whatsapp import MEDIA_PREFIX, WhatsAppChannel
from konversation.conversations.models import Message
from konversation.db import session_scope
from konversation.integrations.calls import Call, Context, Done, Failure, connected, queue
from konversation.integrations.kinds import Kind
from konversation.integrations.s3 import Credentials, S3Client, S3Error
from konversation.webhooks.addresses import Refused, check_reachable
from konversation.workspaces.models import Bot

MAX_BYTES = 25 * 1024 * 1024


async def attachments_received(
    session: AsyncSession, bot_id: int, mid: str, attachments: Sequence[Attachment]
) -> None:
    """Queue the copy of each fetchable attachment of the message `mid`."""
    fetchable = [(i, a) for i, a in enumerate(attachments) if _fetchable(a.url)]
    if not fetchable:
        return
    workspace_id = await session.scalar(select(Bot.workspace_id).where(Bot.id == bot_id))
    if workspace_id is None or not await connected(session, workspace_id, [Kind.S3]):
        return
    for index, attachment in fetchable:
        subject = {"bot_id": bot_id, "mid": mid, "index": index, "url": attachment.url}
        await queue(session, workspace_id, Kind.S3, f"media:{mid}:{index}", subject)


async def store(context: Context, call: Call) -> Done:
    subject, settings = call.subject, call.settings
    source = await _source(context, int(subject["bot_id"]), str(subject["url"]))
    body, content_type = await _download(context, source)
    endpoint = str(settings["url"])
    try:
        await check_reachable(endpoint, context.allowed)
    except Refused as refused:
        raise Failure(str(refused), retryable=False) from refused
    key = object_key(subject, source.url, content_type)
    credentials = Credentials(
        str(settings["api_key"]), str(settings["secret"]), str(settings["region"] or "us-east-1")
    )
    client = S3Client(context.http, endpoint, str(settings["bucket"]), credentials)
    try:
        stored = await client.put_object(key, body, content_type)
    except S3Error as failure:
        raise Failure(str(failure), retryable=failure.retryable, status_code=failure.status) from (
            failure
        )
    await _point_log_at(context, call, stored)
    return Done(external_id=key, result={"url": stored, "bytes": len(body)})


def object_key(subject: dict[str, Any], download_url: str, content_type: str) -> str:
    """The same key on every attempt, so a retry overwrites rather than duplicates."""
    suffix = _suffix(download_url) or mimetypes.guess_extension(content_type) or ""
    return f"konversation/bot{subject['bot_id']}/{subject['mid']}/{subject['index']}{suffix}"


@dataclass(frozen=True)
class _Source:
    """Where to download an attachment from, with what headers. A URL the message itself gave
    must lead to an allowed address (`checked`); one the bot's channel service answered is
    that service's own."""

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    checked: bool = True


async def _source(context: Context, bot_id: int, reference: str) -> _Source:
    file_id = file_id_of(reference)
    if file_id is not None:
        record = await _channel(context, bot_id, ChannelType.TELEGRAM, "Telegram")
        telegram = TelegramChannel(
            str(record.config["token"]), client=context.http, base_url=context.telegram_api_base
        )
        return _Source(await _asked(telegram.file_url(file_id)), checked=False)
    if reference.startswith(MEDIA_PREFIX):
        record = await _channel(context, bot_id, ChannelType.WHATSAPP, "WhatsApp")
        whatsapp = WhatsAppChannel(
            str(record.config["phone_number_id"]),
            str(record.config["token"]),
            client=context.http,
            base_url=context.graph_api_base,
        )
        url = await _asked(whatsapp.media_url(reference.removeprefix(MEDIA_PREFIX)))
        return _Source(url, whatsapp.authorization, checked=False)
    return _Source(reference)


async def _channel(context: Context, bot_id: int, type_: ChannelType, name: str) -> BotChannel:
    async with session_scope(context.sessions) as session:
        record = await get_channel(session, bot_id, type_)
    if record is None or not record.config.get("token"):
        raise Failure(f"The bot is no longer connected to {name}.", retryable=False)
    return record


async def _asked(answer: Awaitable[str]) -> str:
    """What the channel answered; its refusal as a failure of the call."""
    try:
        return await answer
    except DeliveryFailed as failed:
        raise Failure(failed.message, retryable=failed.retryable) from failed


async def _download(context: Context, source: _Source) -> tuple[bytes, str]:
    if source.checked:
        try:
            await check_reachable(source.url, context.allowed)
        except Refused as refused:
            raise Failure(str(refused), retryable=False) from refused
    try:
        async with context.http.stream("GET", source.url, headers=source.headers) as answer:
            if not answer.is_success:
                raise Failure(
                    f"The file's address answered {answer.status_code}",
                    retryable=answer.status_code >= 500 or answer.status_code == 429,
                    status_code=answer.status_code,
                )
            chunks: list[bytes] = []
            size = 0
            async for chunk in answer.aiter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise Failure("The file is larger than 25 MB.", retryable=False)
                chunks.append(chunk)
            kind = answer.headers.get("content-type", "application/octet-stream")
    except httpx.HTTPError as failure:
        raise Failure(
            f"The file could not be fetched ({type(failure).__name__})", retryable=True
        ) from failure
    return b"".join(chunks), kind.split(";")[0].strip()


async def _point_log_at(context: Context, call: Call, stored: str) -> None:
    subject = call.subject
    async with session_scope(context.sessions) as session:
        message = await session.scalar(
            select(Message)
            .join(Bot, Bot.id == Message.bot_id)
            .where(Message.mid == subject["mid"], Bot.workspace_id == call.workspace_id)
        )
        if message is None:
            return  # the subscriber or their messages were deleted meanwhile
        payload = dict(message.payload)
        attachments = [dict(item) for item in payload.get("attachments", [])]
        index = int(subject["index"])
        if index < len(attachments):
            original = attachments[index].get("original_url", attachments[index]["url"])
            attachments[index] |= {"url": stored, "original_url": original}
            payload["attachments"] = attachments
            message.payload = payload
            if message.content == original:
                message.content = stored


def _fetchable(url: str) -> bool:
    return (
        urlsplit(url).scheme in {"http", "https"}
        or file_id_of(url) is not None
        or url.startswith(MEDIA_PREFIX)
    )


def _suffix(url: str) -> str:
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    _, dot, extension = name.rpartition(".")
    return f".{extension.lower()}" if dot and extension.isalnum() and len(extension) <= 5 else ""
