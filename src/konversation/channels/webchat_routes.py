"""The web chat: the page, the widget script and the visitor's live connection.

`GET /webchat/{uid}` is a standalone chat page; `/webchat/{uid}/widget.js` is the script a site
pastes to show that page in a bubble. The page talks to the bot through a WebSocket
(`/ws`), or, where one cannot be opened, through server-sent events (`/events`) and POSTs
(`/messages`). Both live connections push the events `WebChatChannel` publishes on the hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from konversation.channels import webchat_service as service
from konversation.channels.webchat import topic
from konversation.db import session_scope
from konversation.errors import Invalid, KonversationError, NotFound
from konversation.wire.errors import field_errors
from konversation.wire.session import Session

log = logging.getLogger(__name__)

router = APIRouter(prefix="/webchat", tags=["Web chat"], include_in_schema=False)

STATIC_DIR: Final = Path(__file__).resolve().parent / "static"
# Only these files are served from STATIC_DIR; the page and widget have their own routes.
ASSETS: Final = {"webchat.js": "text/javascript", "webchat.css": "text/css"}
HEARTBEAT_SECONDS: Final = 15.0
SSE_RETRY_MS: Final = 3000
# Closes a WebSocket whose channel or visitor is unknown (4000 + the HTTP status).
CLOSE_NOT_FOUND: Final = 4404

PAGE_POLICY: Final = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' https: http: data:",
        "media-src 'self' https: http:",
        "connect-src 'self'",
        "frame-ancestors *",
        "base-uri 'none'",
        "form-action 'none'",
    ]
)

VisitorParam = Annotated[
    str, Query(min_length=1, max_length=200, description="The visitor id the page keeps.")
]


class VisitorMessageIn(BaseModel):
    """What the visitor says: `text`, or a pressed button's `payload` shown as its `title`."""

    model_config = ConfigDict(extra="ignore")

    visitor: str = Field(min_length=1, max_length=200)
    text: str | None = Field(default=None, max_length=service.MAX_TEXT)
    payload: str | None = Field(default=None, max_length=service.MAX_PAYLOAD)
    title: str | None = Field(default=None, max_length=service.MAX_TITLE)
    id: str | None = Field(
        default=None, max_length=64, description="The page's id of the message, kept on retries."
    )


async def _visitor_message(request: Request) -> VisitorMessageIn:
    """The body, read here rather than by FastAPI: its handler of unreadable JSON answers as
    the Connect API does (401 without a key), and the web chat has no keys."""
    try:
        data = json.loads(await request.body())
    except ValueError:
        raise Invalid.field("body", "The request body is not valid JSON.") from None
    try:
        return VisitorMessageIn.model_validate(data)
    except ValidationError as refused:
        raise Invalid(field_errors(refused.errors())) from None


VisitorMessage = Annotated[VisitorMessageIn, Depends(_visitor_message)]


def _runtime(app: Any) -> Any:
    return app.state.runtime


# The page, the widget and their assets


@router.get("/static/{name}")
async def webchat_asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise NotFound("Not Found.")
    return FileResponse(
        STATIC_DIR / name, media_type=ASSETS[name], headers={"Cache-Control": "no-cache"}
    )


@router.get("/{uid}", response_class=HTMLResponse)
async def webchat_page(uid: str, session: Session) -> HTMLResponse:
    channel = await service.web_chat(session, uid)
    title = await service.bot_name(session, channel)
    return HTMLResponse(
        _page(channel.uid, title),
        headers={
            "Content-Security-Policy": PAGE_POLICY,
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        },
    )


def _page(uid: str, title: str) -> str:
    page = (STATIC_DIR / "webchat.html").read_text(encoding="utf-8")
    return page.replace("{{uid}}", html.escape(uid)).replace("{{title}}", html.escape(title))


@router.get("/{uid}/widget.js")
async def webchat_widget(uid: str, session: Session) -> Response:
    await service.web_chat(session, uid)
    script = (STATIC_DIR / "widget.js").read_text(encoding="utf-8")
    return Response(
        script,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


# Visitors, their history and their messages


@router.post("/{uid}/visitors")
async def webchat_new_visitor(uid: str, request: Request) -> dict[str, Any]:
    # A visitor is stored nowhere (see webchat_service): this only reads the channel.
    async with session_scope(request.app.state.read_sessions) as session:
        channel = await service.web_chat(session, uid)
    return {"data": {"visitor": service.new_visitor(channel)}}


@router.get("/{uid}/history")
async def webchat_history(uid: str, visitor: VisitorParam, session: Session) -> dict[str, Any]:
    channel = await service.web_chat(session, uid)
    service.checked_visitor(channel, visitor)
    return {"data": await service.history(session, channel, visitor)}


@router.post("/{uid}/messages")
async def webchat_post_message(uid: str, body: VisitorMessage, request: Request) -> dict[str, Any]:
    said = service.Said.read(body.text, body.payload, body.title, body.id)
    runtime = _runtime(request.app)
    async with session_scope(runtime.sessions) as session:
        await service.post(session, runtime.engine, uid, body.visitor, said)
    return {"status": "ok"}


async def _check(app: Any, uid: str, visitor: str) -> None:
    """NotFound unless `uid` is an enabled web chat and `visitor` one of its visitors."""
    async with session_scope(app.state.read_sessions) as session:
        channel = await service.web_chat(session, uid)
    service.checked_visitor(channel, visitor)


# Live: server-sent events


@router.get("/{uid}/events")
async def webchat_events(uid: str, visitor: VisitorParam, request: Request) -> StreamingResponse:
    await _check(request.app, uid, visitor)
    return StreamingResponse(
        _event_stream(_runtime(request.app).hub, topic(uid, visitor)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _event_stream(hub: Any, listened: str) -> AsyncIterator[str]:
    async with hub.listen(listened) as queue:
        # The first bytes reach the page once it listens: from then on it misses nothing.
        yield f"retry: {SSE_RETRY_MS}\n\n"
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                # Keeps proxies from closing an idle stream, and finds out a gone client.
                yield ": heartbeat\n\n"
                continue
            yield f"data: {json.dumps(event, separators=(',', ':'))}\n\n"


# Live: WebSocket


@router.websocket("/{uid}/ws")
async def webchat_socket(websocket: WebSocket, uid: str, visitor: VisitorParam) -> None:
    try:
        await _check(websocket.app, uid, visitor)
    except NotFound:
        await websocket.close(code=CLOSE_NOT_FOUND)
        return
    async with _runtime(websocket.app).hub.listen(topic(uid, visitor)) as queue:
        await websocket.accept()
        await LiveSocket(websocket, uid, visitor).run(queue)


class LiveSocket:
    """One open socket: pushes the hub's events, hands what the visitor says to the engine."""

    def __init__(self, websocket: WebSocket, uid: str, visitor: str) -> None:
        self.websocket = websocket
        self.uid = uid
        self.visitor = visitor
        self.sending = asyncio.Lock()

    async def run(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        pushing = asyncio.create_task(self._push(queue))
        try:
            while True:
                answer = await self._handle(await self.websocket.receive_text())
                if answer is not None:
                    await self._send(answer)
        except WebSocketDisconnect:
            pass
        finally:
            pushing.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await pushing

    async def _push(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            await self._send(await queue.get())

    async def _send(self, event: dict[str, Any]) -> None:
        async with self.sending:
            await self.websocket.send_json(event)

    async def _handle(self, raw: str) -> dict[str, Any] | None:
        try:
            data = json.loads(raw)
        except ValueError:
            return _error("The message is not valid JSON.")
        if not isinstance(data, dict):
            return _error("The message must be a JSON object.")
        if data.get("type") == "ping":
            return {"type": "pong"}
        if data.get("type") != "message":
            return _error("The selected type is invalid.")
        return await self._said(data)

    async def _said(self, data: dict[str, Any]) -> dict[str, Any]:
        runtime = _runtime(self.websocket.app)
        try:
            said = service.Said.read(
                data.get("text"), data.get("payload"), data.get("title"), data.get("id")
            )
            async with session_scope(runtime.sessions) as session:
                await service.post(session, runtime.engine, self.uid, self.visitor, said)
        except KonversationError as refused:
            return _error(refused.message, data.get("ref"))
        except Exception:
            # The socket stays open: the page may try again, or reload the history.
            log.exception("The web chat could not take a visitor's message")
            return _error("Server Error.", data.get("ref"))
        return {"type": "accepted", "ref": data.get("ref")}


def _error(message: str, ref: Any = None) -> dict[str, Any]:
    return {"type": "error", "message": message, "ref": ref}
