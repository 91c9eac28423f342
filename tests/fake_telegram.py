"""A fake Telegram Bot API served on 127.0.0.1, and builders of the updates Telegram posts.

`FakeTelegram` answers `/bot<token>/<method>` for the methods Konversation uses (query strings,
JSON or url-encoded form bodies), records every call as a `Call(method, token, params)` and
answers as Telegram does: `{"ok": true, "result": ...}` with a new message id per message sent,
or `{"ok": false, "error_code", "description"}` for a missing parameter, a `callback_data` over
64 bytes, a webhook URL that is not HTTPS, an unknown method or file id, or a failure queued with
`fail_next`. Files put with `add_file` are answered by getFile and downloaded from
`/file/bot<token>/<file_path>` (each download recorded in `downloads` as `(token, file_path)`).

A test module asks for the `fake_telegram` fixture (a fresh record on one server per test
process; give its `url` to the channel as base URL) after importing both fixtures:

    from fake_telegram import fake_telegram_fixture, fake_telegram_server_fixture  # noqa: F401

(conftest files are shared, so the fixtures live here; they are registered under the names
`fake_telegram` and `fake_telegram_server`.)
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

import loopback

BOT_USER = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "Konversation test bot",
    "username": "konversation_test_bot",
}
MAX_CALLBACK_DATA = 64

# Parameters that a form body carries as JSON text.
JSON_PARAMS = {"reply_markup", "allowed_updates"}

REQUIRED_PARAMS: dict[str, tuple[str, ...]] = {
    "getMe": (),
    "setWebhook": ("url",),
    "deleteWebhook": (),
    "answerCallbackQuery": ("callback_query_id",),
    "sendMessage": ("chat_id", "text"),
    "sendPhoto": ("chat_id", "photo"),
    "sendDocument": ("chat_id", "document"),
    "sendAudio": ("chat_id", "audio"),
    "sendVideo": ("chat_id", "video"),
    "getFile": ("file_id",),
}
SENT_FILE_FIELDS = {
    "sendPhoto": "photo",
    "sendDocument": "document",
    "sendAudio": "audio",
    "sendVideo": "video",
}

DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass(frozen=True)
class Call:
    method: str
    token: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Failure:
    error_code: int
    description: str
    retry_after: int | None
    raw: str | None


class FakeTelegram:
    def __init__(self) -> None:
        self.url = ""  # the base URL, once served
        self.calls: list[Call] = []
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id: (file_path, content)
        self.downloads: list[tuple[str, str]] = []
        self._failures: deque[Failure] = deque()
        self._message_ids = itertools.count(1)
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._answer, methods=["GET", "POST"]),
                Route("/file/bot{token}/{file_path:path}", self._download, methods=["GET"]),
            ]
        )

    def add_file(self, file_id: str, file_path: str, content: bytes) -> None:
        """A file a subscriber sent, which Telegram keeps at `file_path`."""
        with self._lock:
            self.files[file_id] = (file_path, content)

    def fail_next(
        self,
        error_code: int,
        description: str | None = None,
        *,
        retry_after: int | None = None,
        raw: str | None = None,
    ) -> None:
        """Makes the next call (after those already queued) fail with `error_code`; `raw`
        answers that text instead of Telegram's JSON, as a proxy in between might."""
        if description is None:
            description = DESCRIPTIONS.get(error_code, "Error")
            if error_code == 429:
                description = f"Too Many Requests: retry after {retry_after}"
        with self._lock:
            self._failures.append(Failure(error_code, description, retry_after, raw))

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.files.clear()
            self.downloads.clear()
            self._failures.clear()
            self._message_ids = itertools.count(1)

    async def _download(self, request: Request) -> Response:
        token, path = request.path_params["token"], request.path_params["file_path"]
        with self._lock:
            self.downloads.append((token, path))
            found = next((content for at, content in self.files.values() if at == path), None)
        if found is None:
            return _error(404, "Not Found")
        return Response(found, media_type="application/octet-stream")

    async def _answer(self, request: Request) -> Response:
        method = request.path_params["method"]
        call = Call(method, request.path_params["token"], await _params(request))
        with self._lock:
            self.calls.append(call)
            failure = self._failures.popleft() if self._failures else None
        if failure is not None:
            return _failed(failure)
        if method not in REQUIRED_PARAMS:
            return _error(404, "Not Found")
        missing = [name for name in REQUIRED_PARAMS[method] if not call.params.get(name)]
        if missing:
            return _error(400, f"Bad Request: {missing[0]} is empty")
        if method == "getFile" and call.params["file_id"] not in self.files:
            return _error(400, "Bad Request: invalid file_id")
        if _has_long_callback_data(call.params.get("reply_markup")):
            return _error(400, "Bad Request: BUTTON_DATA_INVALID")
        if method == "setWebhook" and not str(call.params["url"]).startswith("https://"):
            return _error(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        return JSONResponse({"ok": True, "result": self._result(call)})

    def _result(self, call: Call) -> Any:
        if call.method == "getMe":
            return {**BOT_USER, "can_join_groups": True, "supports_inline_queries": False}
        if call.method.startswith("send"):
            return self._sent_message(call)
        if call.method == "getFile":
            file_id = call.params["file_id"]
            path, content = self.files[file_id]
            return {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "file_size": len(content),
                "file_path": path,
            }
        return True

    def _sent_message(self, call: Call) -> dict[str, Any]:
        message_id = next(self._message_ids)
        chat_id = str(call.params["chat_id"])
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": BOT_USER,
            "chat": {"id": int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id},
            "date": int(time.time()),
        }
        if call.method == "sendMessage":
            message["text"] = call.params["text"]
        else:
            message[SENT_FILE_FIELDS[call.method]] = _sent_file(call.method, message_id)
        if "caption" in call.params:
            message["caption"] = call.params["caption"]
        markup = call.params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message


def _sent_file(method: str, message_id: int) -> Any:
    file = {"file_id": f"AgAD-{method}-{message_id}", "file_unique_id": f"u{message_id}"}
    if method == "sendPhoto":
        return [
            {**file, "file_id": f"{file['file_id']}-{side}", "width": side, "height": side}
            for side in (90, 320, 800)
        ]
    return {**file, "file_size": 1024}


async def _params(request: Request) -> dict[str, Any]:
    if request.method == "GET":
        pairs = list(request.query_params.items())
    else:
        body = await request.body()
        if request.headers.get("content-type", "").startswith("application/json"):
            parsed: dict[str, Any] = json.loads(body) if body else {}
            return parsed
        pairs = parse_qsl(body.decode())
    return {name: json.loads(value) if name in JSON_PARAMS else value for name, value in pairs}


def _has_long_callback_data(markup: Any) -> bool:
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    return any(
        len(str(button.get("callback_data", "")).encode()) > MAX_CALLBACK_DATA
        for row in rows
        for button in row
    )


def _error(code: int, description: str, retry_after: int | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return JSONResponse(body, status_code=code)


def _failed(failure: Failure) -> Response:
    if failure.raw is not None:
        return HTMLResponse(failure.raw, status_code=failure.error_code)
    return _error(failure.error_code, failure.description, failure.retry_after)


@contextlib.contextmanager
def serving(fake: FakeTelegram) -> Iterator[FakeTelegram]:
    """Serves `fake` on a free port of 127.0.0.1 from a background thread, and sets its url."""
    with loopback.serving(fake.app) as url:
        fake.url = url
        yield fake


@pytest.fixture(scope="session", name="fake_telegram_server")
def fake_telegram_server_fixture() -> Iterator[FakeTelegram]:
    with serving(FakeTelegram()) as fake:
        yield fake


@pytest.fixture(name="fake_telegram")
def fake_telegram_fixture(fake_telegram_server: FakeTelegram) -> FakeTelegram:
    fake_telegram_server.reset()
    return fake_telegram_server


# Updates, as Telegram posts them to a webhook


def sender(user_id: int) -> dict[str, Any]:
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "username": "ada",
        "language_code": "en",
    }


def private_chat(user_id: int) -> dict[str, Any]:
    return {
        "id": user_id,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "username": "ada",
        "type": "private",
    }


def text_update(
    user_id: int, text: str, *, update_id: int = 1, message_id: int = 1
) -> dict[str, Any]:
    """The subscriber sent `text` (or pressed a reply keyboard button titled so)."""
    message = {
        "message_id": message_id,
        "from": sender(user_id),
        "chat": private_chat(user_id),
        "date": int(time.time()),
        "text": text,
    }
    return {"update_id": update_id, "message": message}


def callback_update(
    user_id: int,
    data: str,
    *,
    title: str = "Yes",
    update_id: int = 1,
    query_id: str = "4382bfdwdsb323b2d9",
) -> dict[str, Any]:
    """The subscriber pressed the inline button (`title`, `data`) of a message of the bot."""
    message = {
        "message_id": 1,
        "from": BOT_USER,
        "chat": private_chat(user_id),
        "date": int(time.time()),
        "text": "Shall we?",
        "reply_markup": {"inline_keyboard": [[{"text": title, "callback_data": data}]]},
    }
    query = {
        "id": query_id,
        "from": sender(user_id),
        "message": message,
        "chat_instance": "-7382615467238761",
        "data": data,
    }
    return {"update_id": update_id, "callback_query": query}
