"""The API channel: the bot owner's own system, reached through a webhook they run.

Outbound messages
-----------------
The bot's messages reach the owner's webhook URL as HTTPS `POST`s with a JSON body that holds
one or more events, oldest first:

    {
      "events": [
        {
          "type": "message",
          "id": "1841",                    # our id of this message, the same on a retry
          "user_id": "customer-42",        # the recipient, as the owner's system named them
          "message": {...},                # see below
          "sent_at": "2024-05-01T12:00:00.123456+00:00"
        },
        ...
      ]
    }

A busy bot (a broadcast, say) sends up to `MAX_EVENTS` events a request, so a webhook keeps up
with thousands of messages a second; one user's messages always come in the order they were
sent. An event may come again after a failed request: its `id` tells a repeat.

`message` is one of:

- `{"type": "text", "text", "buttons": [...], "quick_replies": [...]}`;
- `{"type": "image" | "file" | "audio" | "video", "url", "caption" (or null), "buttons",
  "quick_replies"}`;
- `{"type": "cards", "cards": [{"title", "subtitle", "image_url", "buttons"}, ...],
  "quick_replies"}`, a carousel whose quick replies come after the last card.

A button is `{"type": "payload", "title", "payload"}` (send the payload back when pressed),
`{"type": "url", "title", "url"}` or `{"type": "phone", "title", "phone"}`; a quick reply is
`{"title", "payload"}`. Absent texts (a caption, a subtitle, an image) are `null`.

Answer any 2xx to accept every event of the request. 429 and 5xx answers, timeouts and
unreachable webhooks are tried again later, after the seconds of a `Retry-After` header when
there is one; any other answer (such as 410 Gone, for a webhook the owner switched off) drops
the request's messages.

Signatures
----------
Every request carries two headers:

    X-Konversation-Timestamp: 1714564800
    X-Konversation-Signature: sha256=<hex>

where `<hex>` is the lowercase hex HMAC-SHA256, keyed with the channel's secret (UTF-8), of the
timestamp, a dot and the raw request body exactly as received: `b"1714564800." + body`. To
check a request, recompute it before parsing the JSON, compare in constant time, and refuse
timestamps more than five minutes away from your clock, which stops replays. `verify` does all
of that; messages posted to us are checked the same way.

Inbound messages
----------------
The owner's system posts what a user said as `{"user_id", "text"?, "payload"?, "attachments"?:
[{"type": "image" | "file" | "audio" | "video", "url"}], "message_id"?, "first_name"?,
"last_name"?, "language"?}`; it needs a text, a payload or an attachment. `parse` reads it.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import hmac
import json
import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, get_args

import httpx

from konversation.channels.base import (
    Addressed,
    Attachment,
    DeliveryFailed,
    InboundEvent,
    InboundMessage,
    MediaKind,
    Outbound,
    Profile,
    message_json,
)

TIMESTAMP_HEADER = "X-Konversation-Timestamp"
SIGNATURE_HEADER = "X-Konversation-Signature"
SIGNATURE_PREFIX = "sha256="
DEFAULT_TOLERANCE = 300
# Events in one request: enough that a broadcast needs few requests, few enough that one
# request stays small (a few hundred kilobytes at most) for any receiver.
MAX_EVENTS = 100

_MEDIA_KINDS: frozenset[str] = frozenset(get_args(MediaKind))
_PROFILE_FIELDS = ("first_name", "last_name", "language")


class ApiChannel:
    """One bot owner's webhook. `client` is shared and owned by the caller, who gives it a
    timeout."""

    type = "apichat"
    max_batch = MAX_EVENTS

    def __init__(self, webhook_url: str, secret: str, *, client: httpx.AsyncClient) -> None:
        self._webhook_url = webhook_url
        self._secret = secret
        self._client = client

    async def send(self, recipient: str, message: Outbound) -> str:
        message_id = uuid.uuid4().hex
        await self.send_many([Addressed(message_id, recipient, message)])
        return message_id

    async def send_many(self, items: Sequence[Addressed]) -> None:
        """Deliver the messages, in order, in one request: all are taken or none, and
        `DeliveryFailed` stands for the whole request."""
        if len(items) > MAX_EVENTS:
            raise ValueError(f"At most {MAX_EVENTS} messages go in one request")
        now = dt.datetime.now(dt.UTC)
        sent_at = now.isoformat()
        events = [
            {
                "type": "message",
                "id": item.id,
                "user_id": item.recipient,
                "message": message_json(item.message),
                "sent_at": sent_at,
            }
            for item in items
        ]
        body = _encode({"events": events})
        timestamp = int(now.timestamp())
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
        }
        try:
            response = await self._client.post(self._webhook_url, content=body, headers=headers)
        except httpx.TransportError as exc:
            # The URL stays out of the message: owners may put a token in it.
            raise DeliveryFailed(
                f"The webhook could not be reached ({type(exc).__name__})", retryable=True
            ) from exc
        _check_delivered(response)

    def parse(self, update: Mapping[str, Any]) -> list[InboundEvent]:
        message = parse_inbound(update)
        return [] if message is None else [message]

    async def acknowledge(self, event: InboundEvent) -> None:
        """The owner's system waits for nothing."""


# Signatures


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-Konversation-Signature` value of `body` sent at `timestamp` (unix seconds)."""
    return _signature(secret, str(timestamp), body)


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: dt.datetime,
    tolerance: int = DEFAULT_TOLERANCE,
) -> bool:
    """Whether `body` was signed with `secret` no more than `tolerance` seconds from `now`,
    in either direction; never without a secret."""
    timestamp = _header(headers, TIMESTAMP_HEADER)
    signature = _header(headers, SIGNATURE_HEADER)
    if not secret or timestamp is None or signature is None:
        return False
    if not (timestamp.isascii() and timestamp.isdigit()):
        return False
    if abs(now.timestamp() - int(timestamp)) > tolerance:
        return False
    expected = _signature(secret, timestamp, body)  # over the header as sent, not re-formatted
    return hmac.compare_digest(signature.encode(), expected.encode())


def _signature(secret: str, timestamp: str, body: bytes) -> str:
    signed = timestamp.encode() + b"." + body
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def _encode(value: Any) -> bytes:
    # Sent byte for byte as signed, so the receiver can check the body it got.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


# Answers


def _check_delivered(response: httpx.Response) -> None:
    if response.is_success:
        return
    code = response.status_code
    retryable = code == 429 or code >= 500
    raise DeliveryFailed(
        f"The webhook refused the message: {code} {response.reason_phrase or 'no reason'}",
        retryable=retryable,
        retry_after=_retry_after(response.headers.get("Retry-After")) if retryable else None,
    )


def _retry_after(value: str | None) -> int | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0, math.ceil((when - dt.datetime.now(dt.UTC)).total_seconds()))


# Inbound messages


def parse_inbound(update: Mapping[str, Any]) -> InboundMessage | None:
    """The message in `update`, or None when anything in it is missing or of the wrong type."""
    if not isinstance(update, Mapping):  # the endpoint may hand over any JSON value
        return None
    user_id = _identifier(update.get("user_id"))
    given_id = update.get("message_id")
    message_id = uuid.uuid4().hex if given_id is None else _identifier(given_id)
    text = update.get("text")
    payload = update.get("payload")
    attachments = _attachments(update.get("attachments", []))
    profile = _profile(update)
    if user_id is None or message_id is None or attachments is None or profile is None:
        return None
    if not (_optional_text(text) and _optional_text(payload)):
        return None
    if not (text or payload or attachments):
        return None
    return InboundMessage(
        user_id=user_id,
        message_id=message_id,
        sent_at=dt.datetime.now(dt.UTC),
        text=text or None,
        payload=payload or None,
        attachments=attachments,
        profile=profile,
    )


def _identifier(value: Any) -> str | None:
    """A non-empty string, or an integer as owners' systems often number their users."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) and value.strip() else None


def _optional_text(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _attachments(value: Any) -> tuple[Attachment, ...] | None:
    if value is None:
        return ()
    if not isinstance(value, list):
        return None
    found: list[Attachment] = []
    for item in value:
        attachment = _attachment(item)
        if attachment is None:
            return None
        found.append(attachment)
    return tuple(found)


def _attachment(value: Any) -> Attachment | None:
    if not isinstance(value, Mapping):
        return None
    kind, url = value.get("type"), value.get("url")
    if kind not in _MEDIA_KINDS or not isinstance(url, str) or not url:
        return None
    return Attachment(kind, url)


def _profile(update: Mapping[str, Any]) -> Profile | None:
    parts = {name: update.get(name) for name in _PROFILE_FIELDS}
    if not all(_optional_text(value) for value in parts.values()):
        return None
    return Profile(**{name: value or None for name, value in parts.items()})
