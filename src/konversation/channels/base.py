"""What every channel understands: outbound messages, inbound events, and the `Channel` protocol.

The flow runtime speaks only these types. A channel adapter turns an outbound message into the
calls its service needs (a carousel may become several messages), and turns the service's
webhook updates into inbound events, ignoring whatever it does not understand.

A button either sends a *payload* back when pressed, opens a *url*, or calls a *phone* number.
A quick reply offers an answer that disappears once chosen; some channels (Telegram's reply
keyboard) send back only its title as text, which `chosen_payload` maps back to the payload.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeAlias, runtime_checkable

MediaKind = Literal["image", "file", "audio", "video"]


@dataclass(frozen=True)
class Button:
    """Exactly one of `payload`, `url` and `phone` says what pressing it does."""

    title: str
    payload: str | None = None
    url: str | None = None
    phone: str | None = None

    def __post_init__(self) -> None:
        actions = [a for a in (self.payload, self.url, self.phone) if a is not None]
        if len(actions) != 1:
            raise ValueError(f"The button {self.title!r} needs exactly one payload, url or phone")


@dataclass(frozen=True)
class QuickReply:
    title: str
    payload: str


@dataclass(frozen=True)
class Text:
    text: str
    buttons: tuple[Button, ...] = ()
    quick_replies: tuple[QuickReply, ...] = ()


@dataclass(frozen=True)
class Media:
    kind: MediaKind
    url: str
    caption: str | None = None
    buttons: tuple[Button, ...] = ()
    quick_replies: tuple[QuickReply, ...] = ()


@dataclass(frozen=True)
class Card:
    title: str
    subtitle: str | None = None
    image_url: str | None = None
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class Cards:
    """A carousel; its quick replies come after the last card."""

    cards: tuple[Card, ...]
    quick_replies: tuple[QuickReply, ...] = ()

    def __post_init__(self) -> None:
        if not self.cards:
            raise ValueError("A carousel needs at least one card")


@dataclass(frozen=True)
class Template:
    """A WhatsApp message template, filled in for one subscriber: the one kind of message
    WhatsApp delivers outside its 24-hour service window. `components` are the Cloud API's send
    components; `text` is the body as the subscriber reads it, which channels without templates
    send instead (see `free_form`)."""

    name: str
    language: str
    components: tuple[Mapping[str, Any], ...]
    text: str


Outbound: TypeAlias = Text | Media | Cards | Template
FreeForm: TypeAlias = Text | Media | Cards


def free_form(message: Outbound) -> FreeForm:
    """`message` for a channel that has no templates: a template becomes its text."""
    if isinstance(message, Template):
        return Text(message.text)
    return message


@dataclass(frozen=True)
class Attachment:
    """A file the subscriber sent; `url` may be a channel's own reference (see the adapter)."""

    kind: MediaKind
    url: str


@dataclass(frozen=True)
class Profile:
    """What the channel tells about the sender, each part only when it knows it."""

    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    """Something the subscriber said: text, a pressed button or quick reply, or files.

    `user_id` is the subscriber's id on the channel, which is also the recipient to answer.
    `ack_id` is set when the channel waits for `Channel.acknowledge` (a pressed Telegram button
    shows a spinner until then).
    """

    user_id: str
    message_id: str
    sent_at: dt.datetime
    text: str | None = None
    payload: str | None = None
    attachments: tuple[Attachment, ...] = ()
    profile: Profile = field(default_factory=Profile)
    ack_id: str | None = None


InboundEvent: TypeAlias = InboundMessage


class DeliveryFailed(Exception):
    """The channel refused a call or could not be reached.

    `retryable` says whether the same call may succeed later (rate limits, server errors,
    network failures) or never will (a bad request, a subscriber who blocked the bot);
    `retry_after` is how many seconds the channel asked to wait, when it said.
    """

    def __init__(self, message: str, *, retryable: bool, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after


class Channel(Protocol):
    @property
    def type(self) -> str:
        """The channel's name as subscribers' channel records use it, such as "telegram"."""
        ...

    async def send(self, recipient: str, message: Outbound) -> str:
        """Delivers `message` to `recipient` and answers the channel's id of the (last) message
        it became; raises `DeliveryFailed`."""
        ...

    def parse(self, update: Mapping[str, Any]) -> list[InboundEvent]:
        """The events in one webhook update; what the channel does not understand is skipped."""
        ...

    async def acknowledge(self, event: InboundEvent) -> None:
        """Tells the channel the event was handled, where it waits for that (see `ack_id`)."""
        ...


@dataclass(frozen=True)
class Addressed:
    """A message for one recipient, with our id of it (the same each time it is tried)."""

    id: str
    recipient: str
    message: Outbound


@runtime_checkable
class BatchChannel(Channel, Protocol):
    """A channel that takes many messages in one call (the API channel's webhook); each
    message's id there is the one we gave it."""

    max_batch: int

    async def send_many(self, items: Sequence[Addressed]) -> None:
        """Delivers the messages in order, at most `max_batch`, all or none; raises
        `DeliveryFailed` for the whole call."""
        ...


def chosen_payload(message: InboundMessage, offered: Sequence[QuickReply]) -> str | None:
    """The payload the subscriber chose: sent with the event, or that of the offered quick reply
    whose title they sent back as text."""
    if message.payload is not None:
        return message.payload
    if message.text is None:
        return None
    text = message.text.strip()
    return next((reply.payload for reply in offered if reply.title.strip() == text), None)


# Outbound messages as JSON

TEMPLATE_TYPE = "whatsapp_template"


def message_json(message: Outbound) -> dict[str, Any]:
    """`message` as JSON: what the API channel's webhook receives, the web chat shows and the
    outbox keeps (`message_from_json` reads it back)."""
    if isinstance(message, Text):
        return {
            "type": "text",
            "text": message.text,
            "buttons": _buttons_json(message.buttons),
            "quick_replies": _quick_replies_json(message.quick_replies),
        }
    if isinstance(message, Media):
        return {
            "type": message.kind,
            "url": message.url,
            "caption": message.caption,
            "buttons": _buttons_json(message.buttons),
            "quick_replies": _quick_replies_json(message.quick_replies),
        }
    if isinstance(message, Template):
        return {
            "type": TEMPLATE_TYPE,
            "name": message.name,
            "language": message.language,
            "components": [dict(component) for component in message.components],
            "text": message.text,
        }
    return {
        "type": "cards",
        "cards": [_card_json(card) for card in message.cards],
        "quick_replies": _quick_replies_json(message.quick_replies),
    }


def _card_json(card: Card) -> dict[str, Any]:
    return {
        "title": card.title,
        "subtitle": card.subtitle,
        "image_url": card.image_url,
        "buttons": _buttons_json(card.buttons),
    }


def _buttons_json(buttons: tuple[Button, ...]) -> list[dict[str, str]]:
    return [_button_json(button) for button in buttons]


def _button_json(button: Button) -> dict[str, str]:
    if button.payload is not None:
        return {"type": "payload", "title": button.title, "payload": button.payload}
    if button.url is not None:
        return {"type": "url", "title": button.title, "url": button.url}
    return {"type": "phone", "title": button.title, "phone": str(button.phone)}


def _quick_replies_json(replies: tuple[QuickReply, ...]) -> list[dict[str, str]]:
    return [{"title": reply.title, "payload": reply.payload} for reply in replies]


def message_from_json(data: Mapping[str, Any]) -> Outbound:
    """The message `message_json` wrote."""
    replies = tuple(QuickReply(r["title"], r["payload"]) for r in data.get("quick_replies", ()))
    if data["type"] == "text":
        return Text(data["text"], _buttons_from_json(data.get("buttons", ())), replies)
    if data["type"] == "cards":
        cards = tuple(
            Card(
                c["title"],
                c.get("subtitle"),
                c.get("image_url"),
                _buttons_from_json(c.get("buttons", ())),
            )
            for c in data["cards"]
        )
        return Cards(cards, replies)
    if data["type"] == TEMPLATE_TYPE:
        return Template(data["name"], data["language"], tuple(data["components"]), data["text"])
    return Media(
        data["type"],
        data["url"],
        data.get("caption"),
        _buttons_from_json(data.get("buttons", ())),
        replies,
    )


def _buttons_from_json(items: Iterable[Mapping[str, str]]) -> tuple[Button, ...]:
    return tuple(
        Button(
            item["title"],
            payload=item.get("payload"),
            url=item.get("url"),
            phone=item.get("phone"),
        )
        for item in items
    )
