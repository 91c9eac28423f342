"""A fake WhatsApp Cloud API (Meta's Graph API) served on 127.0.0.1, and builders of the
webhook deliveries Meta posts.

`FakeWhatsApp` answers, for the Bearer token `TOKEN`:

- `GET /{phone-number-id}` with the number's details;
- `POST /{waba-id}/subscribed_apps` with `{"success": true}`;
- `POST /{phone-number-id}/messages`, checking the message's shape, with
  `{"messaging_product", "contacts": [{"input", "wa_id"}], "messages": [{"id": "wamid..."}]}`;
- `POST|GET|DELETE /{waba-id}/message_templates` (create, list with `limit` and `after` paging,
  delete by `name`);
- `GET /{media-id}` for a file put with `add_media`, with its download `url`, which answers the
  file's bytes (for the same Bearer token, as Meta's media downloads do).

Errors are Graph errors `{"error": {"message", "type", "code", "fbtrace_id"}}`: a wrong token
(190, HTTP 401), a malformed message (100, 400), or a failure queued with `fail_next`. Every call
is recorded as a `Call(method, path, params, body)`.

A test module imports both fixtures (registered as `fake_whatsapp` and `fake_whatsapp_server`):

    from fake_whatsapp import fake_whatsapp_fixture, fake_whatsapp_server_fixture  # noqa: F401
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import loopback

TOKEN = "EAAG-test-token"
PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
APP_SECRET = "meta-app-secret"
DISPLAY_NUMBER = "+1 555-010-0199"
# Where media downloads are served, as Meta's lookaside host serves them.
DOWNLOADS = "/whatsapp_business/attachments/"
MESSAGE_TYPES = {"text", "image", "document", "audio", "video", "interactive", "template"}


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: dict[str, str]
    body: Any


class FakeWhatsApp:
    def __init__(self) -> None:
        self.url = ""
        self.calls: list[Call] = []
        self.wamids: list[str] = []  # of the messages sent, in order
        self.templates: list[dict[str, Any]] = []  # the business account's, as Meta keeps them
        self.media: dict[str, tuple[str, bytes]] = {}  # media id: (mime type, content)
        self._failures: deque[tuple[int, int, str]] = deque()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route(DOWNLOADS, self._download, methods=["GET"]),
                Route("/{node}", self._node, methods=["GET"]),
                Route("/{node}/{edge}", self._edge, methods=["GET", "POST", "DELETE"]),
            ]
        )

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.wamids.clear()
            self.templates = []
            self.media.clear()
            self._failures.clear()

    def add_media(self, media_id: str, mime_type: str, content: bytes) -> None:
        """A file a subscriber sent, kept by Meta under `media_id`."""
        with self._lock:
            self.media[media_id] = (mime_type, content)

    def fail_next(self, status: int, code: int, message: str) -> None:
        with self._lock:
            self._failures.append((status, code, message))

    def messages(self) -> list[dict[str, Any]]:
        return [c.body for c in self.calls if c.path.endswith("/messages")]

    async def _record(self, request: Request) -> tuple[Call, Response | None]:
        raw = await request.body()
        call = Call(
            request.method,
            request.url.path,
            dict(request.query_params),
            json.loads(raw) if raw else None,
        )
        with self._lock:
            self.calls.append(call)
            failure = self._failures.popleft() if self._failures else None
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return call, _error(401, 190, "Invalid OAuth access token.")
        if failure is not None:
            return call, _error(*failure)
        return call, None

    async def _node(self, request: Request) -> Response:
        _call, refused = await self._record(request)
        if refused is not None:
            return refused
        node = request.path_params["node"]
        if node in self.media:
            mime_type, content = self.media[node]
            return JSONResponse(
                {
                    "messaging_product": "whatsapp",
                    "url": f"{self.url}{DOWNLOADS}?mid={node}",
                    "mime_type": mime_type,
                    "sha256": hashlib.sha256(content).hexdigest(),
                    "file_size": len(content),
                    "id": node,
                }
            )
        if node != PHONE_NUMBER_ID:
            return _error(400, 100, "Unsupported get request.")
        return JSONResponse(
            {"display_phone_number": DISPLAY_NUMBER, "verified_name": "Test", "id": PHONE_NUMBER_ID}
        )

    async def _download(self, request: Request) -> Response:
        _call, refused = await self._record(request)
        if refused is not None:
            return refused
        found = self.media.get(request.query_params.get("mid", ""))
        if found is None:
            return _error(404, 100, "Media not found")
        return Response(found[1], media_type=found[0])

    async def _edge(self, request: Request) -> Response:
        call, refused = await self._record(request)
        if refused is not None:
            return refused
        node, edge = request.path_params["node"], request.path_params["edge"]
        if edge == "subscribed_apps" and node == WABA_ID:
            return JSONResponse({"success": True})
        if edge == "messages" and node == PHONE_NUMBER_ID:
            return self._message(call.body)
        if edge == "message_templates" and node == WABA_ID:
            return self._templates(call)
        return _error(400, 100, "Unsupported request.")

    def approve(self, name: str) -> None:
        """Meta's review passed: the template `name` may be sent."""
        for template in self.templates:
            if template["name"] == name:
                template["status"] = "APPROVED"

    def _templates(self, call: Call) -> Response:
        if call.method == "POST":
            body = call.body or {}
            if not all(body.get(k) for k in ("name", "language", "category", "components")):
                return _error(400, 100, "Invalid parameter")
            if any(
                t["name"] == body["name"] and t["language"] == body["language"]
                for t in self.templates
            ):
                return _error(400, 192, "Message template already exists")
            template = {**body, "id": str(next(self._ids)), "status": "PENDING"}
            self.templates.append(template)
            return JSONResponse(
                {"id": template["id"], "status": "PENDING", "category": body["category"]}
            )
        if call.method == "DELETE":
            before = len(self.templates)
            self.templates = [t for t in self.templates if t["name"] != call.params.get("name")]
            if len(self.templates) == before:
                return _error(404, 100, "Message template not found")
            return JSONResponse({"success": True})
        limit = int(call.params.get("limit", "25"))
        start = int(call.params.get("after", "0"))
        page = self.templates[start : start + limit]
        answer: dict[str, Any] = {"data": page}
        if start + limit < len(self.templates):
            after = str(start + limit)
            answer["paging"] = {
                "cursors": {"before": str(start), "after": after},
                "next": f"{self.url}/{WABA_ID}/message_templates?limit={limit}&after={after}",
            }
        return JSONResponse(answer)

    def _message(self, body: Any) -> Response:
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            return _error(400, 100, "The parameter messaging_product is required.")
        kind = body.get("type")
        if not body.get("to") or kind not in MESSAGE_TYPES or kind not in body:
            return _error(400, 100, "Invalid parameter")
        if kind == "interactive" and not _interactive_ok(body["interactive"]):
            return _error(400, 131009, "Parameter value is not valid")
        wamid = f"wamid.fake{next(self._ids)}"
        with self._lock:
            self.wamids.append(wamid)
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": wamid}],
            }
        )


def _interactive_ok(interactive: dict[str, Any]) -> bool:
    if not interactive.get("body", {}).get("text"):
        return False
    if interactive.get("type") == "button":
        buttons = interactive["action"]["buttons"]
        return 1 <= len(buttons) <= 3 and all(len(b["reply"]["title"]) <= 20 for b in buttons)
    if interactive.get("type") == "list":
        rows = [r for s in interactive["action"]["sections"] for r in s["rows"]]
        return 1 <= len(rows) <= 10 and all(len(r["title"]) <= 24 for r in rows)
    return False


def _error(status: int, code: int, message: str) -> JSONResponse:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Afake"}
    return JSONResponse({"error": error}, status_code=status)


@contextlib.contextmanager
def serving(fake: FakeWhatsApp) -> Iterator[FakeWhatsApp]:
    with loopback.serving(fake.app) as url:
        fake.url = url
        yield fake


@pytest.fixture(scope="session", name="fake_whatsapp_server")
def fake_whatsapp_server_fixture() -> Iterator[FakeWhatsApp]:
    with serving(FakeWhatsApp()) as fake:
        yield fake


@pytest.fixture(name="fake_whatsapp")
def fake_whatsapp_fixture(fake_whatsapp_server: FakeWhatsApp) -> FakeWhatsApp:
    fake_whatsapp_server.reset()
    return fake_whatsapp_server


# Webhook deliveries, as Meta posts them


def delivery(value: dict[str, Any], *, phone_number_id: str = PHONE_NUMBER_ID) -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100199", "phone_number_id": phone_number_id},
        **value,
    }
    change = {"field": "messages", "value": value}
    return {"object": "whatsapp_business_account", "entry": [{"id": WABA_ID, "changes": [change]}]}


def message_delivery(wa_id: str, message: dict[str, Any], *, name: str = "Ada Lovelace") -> Any:
    """The subscriber `wa_id` sent `message` (its `type` and the part of that type)."""
    contact = {"profile": {"name": name}, "wa_id": wa_id}
    sent = {
        "from": wa_id,
        "id": f"wamid.in-{time.monotonic_ns()}",
        "timestamp": str(int(time.time())),
    }
    return delivery({"contacts": [contact], "messages": [sent | message]})


def text_message(text: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": text}}


def button_reply(payload: str, title: str) -> dict[str, Any]:
    return {
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": payload, "title": title}},
    }


def status_delivery(wamid: str, status: str, wa_id: str, **extra: Any) -> dict[str, Any]:
    report = {
        "id": wamid,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": wa_id,
    }
    return delivery({"statuses": [report | extra]})


def signed(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}
