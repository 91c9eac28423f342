"""The web chat's visitors: who they are, what they said and read, and what they say next.

A visitor id is made by the server and kept by the visitor's browser. It carries its own proof
(`<token>.<signature>`, signed with the channel's secret), so the server needs no table of
visitors: an id it did not make for this channel is refused, and nobody can read or write as
a visitor whose id they do not hold. The visitor becomes a subscriber with their first message,
known on the channel "web" by that id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.channels.base import InboundMessage
from konversation.channels.models import BotChannel, ChannelType
from konversation.channels.service import channel_by_uid
from konversation.conversations.models import Direction, Message
from konversation.db import utcnow
from konversation.errors import Invalid, NotFound
from konversation.runtime.models import Delivery, DeliveryStatus
from konversation.subscribers.models import Subscriber, SubscriberChannel
from konversation.workspaces.models import Bot

VISITOR_NOT_FOUND = "Visitor not found"
HISTORY_LIMIT = 100
MAX_TEXT = 4096
MAX_PAYLOAD = 256
MAX_TITLE = 80
# The page names each message, so that one sent again after a lost connection counts once.
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Visitor ids are stored as channel user ids (128 characters at most): these stay well below.
TOKEN_BYTES = 18
SIGNATURE_CHARS = 22
MAX_VISITOR = 64

# What the visitor sees of the log: their messages, the bot's and the agents'.
SHOWN = (Direction.IN.value, Direction.OUT.value, Direction.AGENT.value)
MESSAGE_TYPES = frozenset({"text", "image", "file", "audio", "video", "cards"})


class Receiver(Protocol):
    """The part of the flow engine the web chat hands a visitor's message to."""

    async def receive(
        self, session: AsyncSession, bot_id: int, channel: str, event: InboundMessage
    ) -> Subscriber: ...


# The channel and its page


async def web_chat(session: AsyncSession, uid: str) -> BotChannel:
    """The enabled web chat channel whose URLs carry `uid`; NotFound otherwise."""
    return await channel_by_uid(session, uid, ChannelType.WEB)


async def bot_name(session: AsyncSession, channel: BotChannel) -> str:
    return await session.scalar(select(Bot.name).where(Bot.id == channel.bot_id)) or "Chat"


# Visitors


def new_visitor(channel: BotChannel) -> str:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return f"{token}.{_signature(channel, token)}"


def checked_visitor(channel: BotChannel, visitor: str) -> str:
    """`visitor` when this channel made it; NotFound otherwise."""
    token, dot, signature = visitor.partition(".")
    if (
        not dot
        or len(visitor) > MAX_VISITOR
        or not hmac.compare_digest(signature.encode(), _signature(channel, token).encode())
    ):
        raise NotFound(VISITOR_NOT_FOUND)
    return visitor


def _signature(channel: BotChannel, token: str) -> str:
    digest = hmac.new(
        channel.secret.encode(), f"webchat:{channel.uid}:{token}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).decode()[:SIGNATURE_CHARS]


# What the visitor says


@dataclass(frozen=True)
class Said:
    """A visitor's message: typed text, or a pressed button or quick reply (`payload`, shown
    as its `title`). `id` is the page's name for it, the same when it is sent again."""

    text: str | None = None
    payload: str | None = None
    title: str | None = None
    id: str | None = None

    @classmethod
    def read(cls, text: Any, payload: Any, title: Any, id_: Any = None) -> Said:
        """Checks what a page sent; Invalid names the field at fault."""
        said = cls(
            _optional_text("text", text, MAX_TEXT),
            _optional_text("payload", payload, MAX_PAYLOAD),
            _optional_text("title", title, MAX_TITLE),
            _optional_text("id", id_, 64),
        )
        if said.payload is None and (said.text is None or not said.text.strip()):
            raise Invalid.field("text", "The text field is required when payload is not present.")
        if said.id is not None and not MESSAGE_ID.match(said.id):
            raise Invalid.field(
                "id", "The id field must be made of letters, digits, hyphens and underscores."
            )
        return said


def _optional_text(name: str, value: Any, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid.field(name, f"The {name} field must be a string.")
    if len(value) > limit:
        raise Invalid.field(name, f"The {name} field must not be greater than {limit} characters.")
    return value


def inbound(visitor: str, said: Said) -> InboundMessage:
    # A pressed button shows as its title, like the visitor had typed it.
    text = said.text if said.payload is None else (said.title or said.text)
    # Scoped by the visitor: one visitor cannot take another's message ids. The engine logs it
    # as the message's `channel_message_id`, which the history hands back as `said_id`.
    message_id = f"{visitor}:{said.id}" if said.id else uuid.uuid4().hex
    return InboundMessage(
        user_id=visitor,
        message_id=message_id,
        sent_at=utcnow(),
        text=text,
        payload=said.payload,
    )


async def post(
    session: AsyncSession, engine: Receiver, uid: str, visitor: str, said: Said
) -> Subscriber:
    """Hands the visitor's message to the engine, in the caller's transaction."""
    channel = await web_chat(session, uid)
    checked_visitor(channel, visitor)
    return await engine.receive(session, channel.bot_id, ChannelType.WEB, inbound(visitor, said))


# What the visitor reads


async def history(
    session: AsyncSession, channel: BotChannel, visitor: str, *, limit: int = HISTORY_LIMIT
) -> list[dict[str, Any]]:
    """The visitor's last `limit` messages, oldest first, each as the page shows it.

    The bot's messages still waiting for their delivery are left out: they reach the open page
    live a moment later, and showing them here too would show them twice.
    """
    subscriber_id = await _subscriber_of(session, channel, visitor)
    if subscriber_id is None:
        return []
    rows = await session.scalars(
        select(Message)
        .outerjoin(Delivery, Delivery.message_id == Message.id)
        .where(
            Message.subscriber_id == subscriber_id,
            Message.direction.in_(SHOWN),
            or_(
                Delivery.id.is_(None),
                ~and_(
                    Delivery.status == DeliveryStatus.PENDING,
                    Delivery.channel == ChannelType.WEB,
                ),
            ),
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(limit)
    )
    return history_items(list(reversed(rows.all())), visitor)


async def _subscriber_of(session: AsyncSession, channel: BotChannel, visitor: str) -> int | None:
    return await session.scalar(
        select(Subscriber.id)
        .join(SubscriberChannel, SubscriberChannel.subscriber_id == Subscriber.id)
        .where(
            Subscriber.bot_id == channel.bot_id,
            SubscriberChannel.type == ChannelType.WEB,
            SubscriberChannel.user_id == visitor,
        )
    )


def history_items(messages: Sequence[Message], visitor: str) -> list[dict[str, Any]]:
    """Log entries, oldest first, as the page renders them; quick replies are still on offer
    only when the last entry is the one that offered them."""
    items = [history_item(message, visitor) for message in messages]
    for item in items[:-1]:
        if "quick_replies" in item["message"]:
            item["message"]["quick_replies"] = []
    return items


def history_item(message: Message, visitor: str) -> dict[str, Any]:
    item = {
        "type": "message",
        "id": message.mid,
        "direction": message.direction,
        "at": message.created_at.isoformat(),
        "message": _shown(message),
    }
    said_id = _said_id(message, visitor)
    if said_id is not None:
        item["said_id"] = said_id
    return item


def _said_id(message: Message, visitor: str) -> str | None:
    """The page's id of a message the visitor sent (see `inbound`), so the page can tell the
    messages it shows already from those it has yet to see stored."""
    if message.direction != Direction.IN or not isinstance(message.payload, Mapping):
        return None
    channel_id = message.payload.get("channel_message_id")
    prefix = f"{visitor}:"
    if isinstance(channel_id, str) and channel_id.startswith(prefix):
        return channel_id[len(prefix) :]
    return None


def _shown(message: Message) -> dict[str, Any]:
    """The bot's messages as they were sent (`message_json`); anything else as its text."""
    payload = message.payload if isinstance(message.payload, Mapping) else {}
    if message.direction != Direction.IN and payload.get("type") in MESSAGE_TYPES:
        return dict(payload)
    return {"type": "text", "text": message.content, "buttons": [], "quick_replies": []}
