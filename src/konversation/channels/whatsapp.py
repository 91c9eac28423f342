"""The WhatsApp Cloud API channel: messages for one business phone number, and its webhook.

Outbound messages become `POST {graph}/{phone-number-id}/messages` calls with a Bearer token:

- a text is a text message; url and phone buttons become lines `title: url` under it, as the
  Cloud API has no such buttons besides its templates;
- payload buttons and quick replies are the subscriber's choices: up to `MAX_REPLY_BUTTONS`
  become interactive reply buttons, more become an interactive list (at most `MAX_LIST_ROWS`).
  A pressed one comes back with its payload as the reply's id;
- media are image, document, audio or video messages (by link, or by a media id for files
  subscribers sent, `whatsapp-media:<id>`); their choices follow in an interactive message;
- a carousel is one image (or text) message per card, each with its own choices;
- a template is a template message, the one kind WhatsApp delivers outside the window.

Errors come as `{"error": {"message", "type", "code", "error_subcode"}}` and become
`DeliveryFailed`: rate limits (HTTP 429, codes 4, 80007, 130429, 131056), server errors and
network failures are worth retrying, anything else is not (131047: outside the 24-hour window).

The webhook posts `{"object": "whatsapp_business_account", "entry": [{"changes": [{"value":
{"metadata": {"phone_number_id"}, "contacts", "messages", "statuses"}}]}]}`, signed with the
app secret in `X-Hub-Signature-256: sha256=<hex>` (HMAC-SHA256 of the raw body).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from konversation.channels.base import (
    Attachment,
    Button,
    Cards,
    DeliveryFailed,
    InboundEvent,
    InboundMessage,
    Media,
    MediaKind,
    Outbound,
    Profile,
    QuickReply,
    Template,
    Text,
)

SIGNATURE_HEADER = "X-Hub-Signature-256"
MEDIA_PREFIX = "whatsapp-media:"
MAX_REPLY_BUTTONS = 3
MAX_LIST_ROWS = 10
MAX_BUTTON_TITLE = 20
MAX_ROW_TITLE = 24
CHOOSE = "Choose one"
# How long after a subscriber's last message free-form messages may still be sent.
SERVICE_WINDOW = dt.timedelta(hours=24)
_RATE_LIMITS = {4, 80007, 130429, 131056}
_MEDIA_TYPES: dict[MediaKind, str] = {
    "image": "image",
    "file": "document",
    "audio": "audio",
    "video": "video",
}
_INBOUND_MEDIA: dict[str, MediaKind] = {
    "image": "image",
    "sticker": "image",
    "document": "file",
    "audio": "audio",
    "voice": "audio",
    "video": "video",
}
# The states a status report names, in the order they happen.
STATUS_RANK = {"sent": 1, "delivered": 2, "read": 3}

Body = dict[str, Any]


class WhatsAppChannel:
    """One business phone number. `client` is shared and owned by the caller."""

    type = "whatsapp"

    def __init__(
        self, phone_number_id: str, token: str, *, client: httpx.AsyncClient, base_url: str
    ) -> None:
        self._phone_number_id = phone_number_id
        self._token = token
        self._client = client
        self._base_url = base_url.rstrip("/")

    async def phone_number(self) -> dict[str, Any]:
        """The number's details (checks the token and the id)."""
        fields = {"fields": "display_phone_number,verified_name"}
        found: dict[str, Any] = await self.call("GET", self._phone_number_id, params=fields)
        return found

    async def media_url(self, media_id: str) -> str:
        """Where a file a subscriber sent can be downloaded, for a few minutes, with
        `authorization`."""
        found = await self.call("GET", media_id)
        url = found.get("url")
        if not isinstance(url, str) or not url:
            raise DeliveryFailed("WhatsApp has no download for the file", retryable=False)
        return url

    @property
    def authorization(self) -> dict[str, str]:
        """The header the Cloud API and its media downloads take."""
        return {"Authorization": f"Bearer {self._token}"}

    async def send(self, recipient: str, message: Outbound) -> str:
        bodies = list(_bodies(message))  # all built, so checked, before the first is sent
        message_id = ""
        for body in bodies:
            message_id = await self.send_body(recipient, body)
        return message_id

    async def send_body(self, recipient: str, body: Body) -> str:
        """Sends one message body (`{"type": ..., <type>: ...}`); answers its wamid."""
        data = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": recipient}
        answer = await self.call("POST", f"{self._phone_number_id}/messages", json=data | body)
        return str(answer["messages"][0]["id"])

    def parse(self, update: Mapping[str, Any]) -> list[InboundEvent]:
        return parse_update(update, self._phone_number_id)

    async def acknowledge(self, event: InboundEvent) -> None:
        """WhatsApp waits for nothing."""

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        url = f"{self._base_url}/{path}"
        try:
            response = await self._client.request(
                method, url, json=json, params=params, headers=self.authorization
            )
        except httpx.TransportError as exc:
            raise DeliveryFailed(
                f"WhatsApp could not be reached ({type(exc).__name__})", retryable=True
            ) from exc
        return _result(response)


def _result(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.is_success and isinstance(body, dict) and "error" not in body:
        return body
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    message = error.get("message") or response.reason_phrase or "no message"
    retryable = response.status_code == 429 or response.status_code >= 500 or code in _RATE_LIMITS
    raise DeliveryFailed(
        f"WhatsApp refused the call: ({code or response.status_code}) {message}",
        retryable=retryable,
    )


def verify_signature(app_secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether the webhook body carries Meta's signature with the app secret."""
    name = SIGNATURE_HEADER.lower()
    given = next((value for key, value in headers.items() if key.lower() == name), None)
    if not app_secret or given is None or not given.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(given.removeprefix("sha256=").encode(), expected.encode())


class Reachable(Protocol):
    last_channel: str | None
    last_interaction_at: dt.datetime | None


def window_closed(subscriber: Reachable, channel_types: Set[str], now: dt.datetime) -> bool:
    """Whether the subscriber is reached on WhatsApp and has not written in the last 24 hours,
    so that only templates may be sent to them."""
    last = subscriber.last_channel
    on_whatsapp = last == "whatsapp" or (not last and set(channel_types) == {"whatsapp"})
    written = subscriber.last_interaction_at
    return on_whatsapp and (written is None or now - written >= SERVICE_WINDOW)


OUTSIDE_WINDOW = (
    "The subscriber has not written on WhatsApp in the last 24 hours: "
    "only a WhatsApp template can be sent to them now."
)


# Outbound messages as Cloud API bodies


def _bodies(message: Outbound) -> Iterator[Body]:
    if isinstance(message, Text):
        yield from _with_choices(
            _text_body(message.text, message.buttons), message.buttons, message.quick_replies
        )
    elif isinstance(message, Media):
        yield from _with_choices(_media_body(message), message.buttons, message.quick_replies)
    elif isinstance(message, Template):
        yield template_body(message)
    else:
        yield from _card_bodies(message)


def template_body(template: Template) -> Body:
    return {
        "type": "template",
        "template": {
            "name": template.name,
            "language": {"code": template.language},
            "components": [dict(component) for component in template.components],
        },
    }


def _text_body(text: str, buttons: tuple[Button, ...]) -> Body:
    return {"type": "text", "text": {"body": _with_links(text, buttons) or CHOOSE}}


def _media_body(media: Media) -> Body:
    kind = _MEDIA_TYPES[media.kind]
    file: dict[str, str] = (
        {"id": media.url.removeprefix(MEDIA_PREFIX)}
        if media.url.startswith(MEDIA_PREFIX)
        else {"link": media.url}
    )
    caption = _with_links(media.caption or "", media.buttons)
    if caption and kind != "audio":
        file["caption"] = caption
    return {"type": kind, kind: file}


def _card_bodies(carousel: Cards) -> Iterator[Body]:
    last = len(carousel.cards) - 1
    for index, card in enumerate(carousel.cards):
        replies = carousel.quick_replies if index == last else ()
        text = "\n".join(part for part in (card.title, card.subtitle) if part)
        first = (
            _media_body(Media("image", card.image_url, text, card.buttons))
            if card.image_url
            else _text_body(text, card.buttons)
        )
        yield from _with_choices(first, card.buttons, replies)


def _with_choices(
    first: Body, buttons: tuple[Button, ...], quick_replies: tuple[QuickReply, ...]
) -> Iterator[Body]:
    """`first`, or one interactive message holding it and the choices offered with it."""
    choices = [(b.title, b.payload) for b in buttons if b.payload is not None]
    choices += [(reply.title, reply.payload) for reply in quick_replies]
    if not choices:
        yield first
        return
    if len(choices) > MAX_LIST_ROWS:
        raise DeliveryFailed(
            f"WhatsApp offers at most {MAX_LIST_ROWS} choices a message; this one has "
            f"{len(choices)}.",
            retryable=False,
        )
    text = _text_of(first)
    header = _header_of(first)
    if header is None and first["type"] != "text":
        yield first  # audio cannot head an interactive message: it goes first
    interactive: Body = {"body": {"text": text or CHOOSE}}
    if len(choices) <= MAX_REPLY_BUTTONS:
        interactive["type"] = "button"
        interactive["action"] = {
            "buttons": [
                {"type": "reply", "reply": {"id": payload, "title": title[:MAX_BUTTON_TITLE]}}
                for title, payload in choices
            ]
        }
        if header is not None:
            interactive["header"] = header
    else:
        if header is not None:
            yield first  # a list takes only a text header
        interactive["type"] = "list"
        rows = [{"id": payload, "title": title[:MAX_ROW_TITLE]} for title, payload in choices]
        interactive["action"] = {"button": CHOOSE, "sections": [{"title": CHOOSE, "rows": rows}]}
    yield {"type": "interactive", "interactive": interactive}


def _text_of(body: Body) -> str:
    if body["type"] == "text":
        return str(body["text"]["body"])
    return str(body[body["type"]].get("caption", ""))


def _header_of(body: Body) -> Body | None:
    kind = body["type"]
    if kind not in ("image", "video", "document"):
        return None
    file = {key: value for key, value in body[kind].items() if key != "caption"}
    return {"type": kind, kind: file}


def _with_links(text: str, buttons: tuple[Button, ...]) -> str:
    lines = [
        f"{button.title}: {button.url or button.phone}"
        for button in buttons
        if button.payload is None
    ]
    return "\n\n".join(part for part in (text, "\n".join(lines)) if part)


# Webhook deliveries


@dataclass(frozen=True)
class StatusReport:
    """What became of a message we sent: sent, delivered, read or failed."""

    message_id: str
    status: str
    error: str | None = None


def _values(update: Mapping[str, Any], phone_number_id: str) -> Iterator[Mapping[str, Any]]:
    """The change values addressed to our number (one app may post several numbers')."""
    for entry in _list(update.get("entry")):
        for change in _list(_mapping(entry).get("changes")):
            value = _mapping(_mapping(change).get("value"))
            if str(_mapping(value.get("metadata")).get("phone_number_id")) == phone_number_id:
                yield value


def parse_update(update: Mapping[str, Any], phone_number_id: str) -> list[InboundEvent]:
    """The subscribers' messages and pressed buttons; reactions, locations and the rest are
    skipped."""
    events: list[InboundEvent] = []
    for value in _values(update, phone_number_id):
        names = {
            str(_mapping(c).get("wa_id")): _text(_mapping(_mapping(c).get("profile")).get("name"))
            for c in _list(value.get("contacts"))
        }
        for message in _list(value.get("messages")):
            event = _message_event(_mapping(message), names)
            if event is not None:
                events.append(event)
    return events


def parse_statuses(update: Mapping[str, Any], phone_number_id: str) -> list[StatusReport]:
    reports = []
    for value in _values(update, phone_number_id):
        for item in _list(value.get("statuses")):
            status = _mapping(item)
            message_id, state = _text(status.get("id")), _text(status.get("status"))
            if message_id is None or state not in (*STATUS_RANK, "failed"):
                continue
            errors = [_mapping(e) for e in _list(status.get("errors"))]
            error = "; ".join(f"({e.get('code')}) {e.get('title')}" for e in errors) or None
            reports.append(StatusReport(message_id, str(state), error))
    return reports


def _message_event(
    message: Mapping[str, Any], names: Mapping[str, str | None]
) -> InboundMessage | None:
    sender, message_id = _text(message.get("from")), _text(message.get("id"))
    timestamp = _text(message.get("timestamp"))
    if sender is None or message_id is None or timestamp is None or not timestamp.isdigit():
        return None
    kind = message.get("type")
    text = payload = None
    attachments: tuple[Attachment, ...] = ()
    if kind == "text":
        text = _text(_mapping(message.get("text")).get("body"))
    elif kind == "interactive":
        interactive = _mapping(message.get("interactive"))
        reply = _mapping(interactive.get(str(interactive.get("type"))))
        text, payload = _text(reply.get("title")), _text(reply.get("id"))
    elif kind == "button":  # a template's quick reply
        button = _mapping(message.get("button"))
        text, payload = _text(button.get("text")), _text(button.get("payload"))
    elif isinstance(kind, str) and kind in _INBOUND_MEDIA:
        file = _mapping(message.get(kind))
        media_id = _text(file.get("id"))
        if media_id is not None:
            attachments = (Attachment(_INBOUND_MEDIA[kind], MEDIA_PREFIX + media_id),)
        text = _text(file.get("caption"))
    if text is None and payload is None and not attachments:
        return None
    first, _, last = (names.get(sender) or "").partition(" ")
    return InboundMessage(
        user_id=sender,
        message_id=message_id,
        sent_at=dt.datetime.fromtimestamp(int(timestamp), dt.UTC),
        text=text,
        payload=payload,
        attachments=attachments,
        profile=Profile(first_name=first or None, last_name=last or None),
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
