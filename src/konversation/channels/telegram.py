"""The Telegram channel: a client of the Bot API for one bot token, and its webhook updates.

Outbound messages become Bot API calls with JSON bodies:

- buttons become an inline keyboard, one button a row: a payload button carries its payload as
  `callback_data` (1 to 64 bytes, checked before anything is sent), a url button opens its url.
  Telegram has no call button, so phone buttons become lines `title: number` under the text or
  caption, which Telegram shows as a tappable number;
- quick replies become a one-time reply keyboard. Pressing one sends its title as a plain text
  message (see `base.chosen_payload`). A message that has buttons too can carry only one
  keyboard, so there they are added to the inline keyboard and answer with their payload;
- a message with neither removes any reply keyboard still shown;
- media use sendPhoto, sendDocument, sendAudio or sendVideo; a carousel is one message per card,
  a photo with the title and subtitle as caption, or a text message when the card has no image.

Files that subscribers send are referred to as `telegram-file:<file_id>`, which the Bot API can
turn into a download (getFile) and which `send` accepts as a media url to send the file again.

Errors come as `{"ok": false, "error_code", "description", "parameters": {"retry_after"}}` and
become `DeliveryFailed`: rate limits (429), server errors (5xx) and network failures are worth
retrying, anything else is not (403: the subscriber blocked the bot). Messages never contain the
request URL, which holds the bot token.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from konversation.channels.base import (
    Attachment,
    Button,
    Card,
    Cards,
    DeliveryFailed,
    InboundEvent,
    InboundMessage,
    Media,
    MediaKind,
    Outbound,
    Profile,
    QuickReply,
    Text,
    free_form,
)

API_BASE = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
FILE_PREFIX = "telegram-file:"
MAX_CALLBACK_DATA = 64
ALLOWED_UPDATES = ("message", "callback_query")

_MEDIA_METHODS: dict[MediaKind, tuple[str, str]] = {
    "image": ("sendPhoto", "photo"),
    "file": ("sendDocument", "document"),
    "audio": ("sendAudio", "audio"),
    "video": ("sendVideo", "video"),
}

# Where a message holds a file, and what kind of attachment it is. An animation is also given
# as a document (for old clients), so the same file can appear twice: the first kind wins.
_ATTACHMENT_FIELDS: tuple[tuple[str, MediaKind], ...] = (
    ("photo", "image"),
    ("animation", "video"),
    ("video", "video"),
    ("video_note", "video"),
    ("audio", "audio"),
    ("voice", "audio"),
    ("document", "file"),
)

Call = tuple[str, dict[str, Any]]


class TelegramChannel:
    """One bot. `client` is shared and owned by the caller, who gives it a timeout."""

    type = "telegram"

    def __init__(self, token: str, *, client: httpx.AsyncClient, base_url: str = API_BASE) -> None:
        self._token = token
        self._client = client
        self._base_url = base_url.rstrip("/")

    async def get_me(self) -> dict[str, Any]:
        me: dict[str, Any] = await self._call("getMe", {})
        return me

    async def set_webhook(self, url: str, secret_token: str) -> None:
        """Has Telegram post updates to `url` with `secret_token` in `SECRET_HEADER`."""
        params = {"url": url, "secret_token": secret_token, "allowed_updates": ALLOWED_UPDATES}
        await self._call("setWebhook", params)

    async def delete_webhook(self) -> None:
        await self._call("deleteWebhook", {})

    async def file_url(self, file_id: str) -> str:
        """Where the file a subscriber sent can be downloaded (getFile; Telegram keeps the link
        valid for at least an hour). The URL holds the bot token: never log or show it."""
        found = await self._call("getFile", {"file_id": file_id})
        path = found.get("file_path") if isinstance(found, dict) else None
        if not isinstance(path, str) or not path:
            raise DeliveryFailed("Telegram has no download for the file", retryable=False)
        return f"{self._base_url}/file/bot{self._token}/{path}"

    async def answer_callback(self, callback_query_id: str) -> None:
        await self._call("answerCallbackQuery", {"callback_query_id": callback_query_id})

    async def send(self, recipient: str, message: Outbound) -> str:
        calls = _calls(recipient, message)  # all built, so checked, before the first is sent
        message_id = ""
        for method, params in calls:
            result = await self._call(method, params)
            message_id = str(result["message_id"])
        return message_id

    def parse(self, update: Mapping[str, Any]) -> list[InboundEvent]:
        return parse_update(update)

    async def acknowledge(self, event: InboundEvent) -> None:
        if event.ack_id is not None:
            await self.answer_callback(event.ack_id)

    async def _call(self, method: str, params: Mapping[str, Any]) -> Any:
        url = f"{self._base_url}/bot{self._token}/{method}"
        try:
            response = await self._client.post(url, json=params)
        except httpx.TransportError as exc:
            raise DeliveryFailed(
                f"Telegram could not be reached for {method} ({type(exc).__name__})",
                retryable=True,
            ) from exc
        return _result(method, response)


def verify_secret(headers: Mapping[str, str], expected: str) -> bool:
    """Whether a webhook request carries the bot's secret token; never when none is expected."""
    name = SECRET_HEADER.lower()
    given = next((value for key, value in headers.items() if key.lower() == name), None)
    if not expected or given is None:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def file_reference(file_id: str) -> str:
    return FILE_PREFIX + file_id


def file_id_of(url: str) -> str | None:
    return url.removeprefix(FILE_PREFIX) if url.startswith(FILE_PREFIX) else None


# Answers


def _result(method: str, response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    if response.is_success and body.get("ok") is True:
        return body.get("result")
    code = body.get("error_code")
    if not isinstance(code, int):
        code = response.status_code
    description = body.get("description") or response.reason_phrase or "no description"
    parameters = body.get("parameters")
    retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
    raise DeliveryFailed(
        f"Telegram refused {method}: {code} {description}",
        retryable=code == 429 or code >= 500,
        retry_after=retry_after if isinstance(retry_after, int) else None,
    )


# Outbound messages as Bot API calls


def _calls(chat_id: str, outbound: Outbound) -> list[Call]:
    message = free_form(outbound)
    if isinstance(message, Text):
        return [_text_call(chat_id, message.text, message.buttons, message.quick_replies)]
    if isinstance(message, Media):
        return [_media_call(chat_id, message)]
    return _card_calls(chat_id, message)


def _text_call(
    chat_id: str, text: str, buttons: tuple[Button, ...], quick_replies: tuple[QuickReply, ...]
) -> Call:
    params = {
        "chat_id": chat_id,
        "text": _with_phone_lines(text, buttons),
        "reply_markup": _markup(buttons, quick_replies),
    }
    return "sendMessage", params


def _media_call(chat_id: str, media: Media) -> Call:
    method, file_param = _MEDIA_METHODS[media.kind]
    params: dict[str, Any] = {
        "chat_id": chat_id,
        file_param: file_id_of(media.url) or media.url,
        "reply_markup": _markup(media.buttons, media.quick_replies),
    }
    caption = _with_phone_lines(media.caption or "", media.buttons)
    if caption:
        params["caption"] = caption
    return method, params


def _card_calls(chat_id: str, carousel: Cards) -> list[Call]:
    last = len(carousel.cards) - 1
    return [
        _card_call(chat_id, card, carousel.quick_replies if index == last else ())
        for index, card in enumerate(carousel.cards)
    ]


def _card_call(chat_id: str, card: Card, quick_replies: tuple[QuickReply, ...]) -> Call:
    text = "\n".join(part for part in (card.title, card.subtitle) if part)
    if card.image_url is None:
        return _text_call(chat_id, text, card.buttons, quick_replies)
    photo = Media("image", card.image_url, text, card.buttons, quick_replies)
    return _media_call(chat_id, photo)


def _with_phone_lines(text: str, buttons: Iterable[Button]) -> str:
    lines = [f"{button.title}: {button.phone}" for button in buttons if button.phone is not None]
    return "\n\n".join(part for part in (text, "\n".join(lines)) if part)


def _markup(buttons: tuple[Button, ...], quick_replies: tuple[QuickReply, ...]) -> dict[str, Any]:
    rows = _inline_rows(buttons)
    if rows:
        rows += [[_callback_button(reply.title, reply.payload)] for reply in quick_replies]
        return {"inline_keyboard": rows}
    if quick_replies:
        keyboard = [[{"text": reply.title}] for reply in quick_replies]
        return {"keyboard": keyboard, "one_time_keyboard": True, "resize_keyboard": True}
    return {"remove_keyboard": True}


def _inline_rows(buttons: Iterable[Button]) -> list[list[dict[str, str]]]:
    rows: list[list[dict[str, str]]] = []
    for button in buttons:
        if button.url is not None:
            rows.append([{"text": button.title, "url": button.url}])
        elif button.payload is not None:
            rows.append([_callback_button(button.title, button.payload)])
    return rows


def _callback_button(title: str, payload: str) -> dict[str, str]:
    size = len(payload.encode())
    if not 1 <= size <= MAX_CALLBACK_DATA:
        raise DeliveryFailed(
            f"The payload of the button {title!r} is {size} bytes long; "
            f"Telegram carries 1 to {MAX_CALLBACK_DATA} bytes.",
            retryable=False,
        )
    return {"text": title, "callback_data": payload}


# Webhook updates as inbound events


def parse_update(update: Mapping[str, Any]) -> list[InboundEvent]:
    """The subscriber's new messages and button presses in private chats; edits, group chats
    and the other kinds of update are skipped."""
    message = _mapping(update.get("message"))
    query = _mapping(update.get("callback_query"))
    if message is not None:
        event = _message_event(message)
    elif query is not None:
        event = _callback_event(query)
    else:
        event = None
    return [] if event is None else [event]


def _message_event(message: Mapping[str, Any]) -> InboundMessage | None:
    sender = _sender(message.get("from"))
    message_id = message.get("message_id")
    date = message.get("date")
    if sender is None or not _in_private_chat(message):
        return None
    if not isinstance(message_id, int) or not isinstance(date, int):
        return None
    text = _text(message.get("text")) or _text(message.get("caption"))
    attachments = _attachments(message)
    if text is None and not attachments:
        return None
    user_id, profile = sender
    return InboundMessage(
        user_id=user_id,
        message_id=str(message_id),
        sent_at=dt.datetime.fromtimestamp(date, dt.UTC),
        text=text,
        attachments=attachments,
        profile=profile,
    )


def _callback_event(query: Mapping[str, Any]) -> InboundMessage | None:
    """A pressed inline button: its payload, and its title as text when the message shows it."""
    sender = _sender(query.get("from"))
    query_id = query.get("id")
    data = query.get("data")
    message = _mapping(query.get("message"))
    if sender is None or not isinstance(query_id, str) or not isinstance(data, str):
        return None
    if message is None or not _in_private_chat(message):
        return None
    user_id, profile = sender
    return InboundMessage(
        user_id=user_id,
        message_id=query_id,
        sent_at=dt.datetime.now(dt.UTC),  # a callback query carries no time of its own
        text=_pressed_title(message, data),
        payload=data,
        profile=profile,
        ack_id=query_id,
    )


def _sender(value: Any) -> tuple[str, Profile] | None:
    user = _mapping(value)
    if user is None or user.get("is_bot") is True or not isinstance(user.get("id"), int):
        return None
    profile = Profile(
        first_name=_text(user.get("first_name")),
        last_name=_text(user.get("last_name")),
        username=_text(user.get("username")),
        language=_text(user.get("language_code")),
    )
    return str(user["id"]), profile


def _in_private_chat(message: Mapping[str, Any]) -> bool:
    chat = _mapping(message.get("chat"))
    return chat is not None and chat.get("type") == "private"


def _attachments(message: Mapping[str, Any]) -> tuple[Attachment, ...]:
    found: dict[str, Attachment] = {}
    for name, kind in _ATTACHMENT_FIELDS:
        value = message.get(name)
        if isinstance(value, list):  # a photo comes in several sizes, the largest last
            value = value[-1] if value else None
        file = _mapping(value)
        file_id = file.get("file_id") if file is not None else None
        if isinstance(file_id, str) and file_id:
            found.setdefault(file_id, Attachment(kind, file_reference(file_id)))
    return tuple(found.values())


def _pressed_title(message: Mapping[str, Any], data: str) -> str | None:
    markup = _mapping(message.get("reply_markup"))
    rows = markup.get("inline_keyboard") if markup is not None else None
    if not isinstance(rows, list):
        return None
    for row in rows:
        for button in row if isinstance(row, list) else []:
            if isinstance(button, dict) and button.get("callback_data") == data:
                return _text(button.get("text"))
    return None


def _mapping(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
