"""`Idempotency-Key` on the API's POSTs: a retried request is answered as the first one was.

A caller (an API key) that sends the same key again within a day gets the first answer back,
byte for byte, with `Idempotent-Replayed: true`, and nothing is done again: no second message,
order or broadcast. The same key with a different request (method, path, query or body) is a
422; a retry while the first is still being handled is a 409.
"""

from __future__ import annotations

import hashlib
import re

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from konversation.errors import Conflict, Invalid
from konversation.idempotency import service
from konversation.idempotency.service import Claim, Standing
from konversation.wire.asgi import caller_of, header, read_body, replaying
from konversation.wire.errors import error_response
from konversation.wire.router import API_PREFIX

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
_VALID_KEY = re.compile(rb"[\x21-\x7e]{1,255}")
BAD_KEY = f"The {HEADER} header must be 1 to 255 visible ASCII characters."
OTHER_REQUEST = f"This {HEADER} was used for a different request."
IN_PROGRESS = f"A request with this {HEADER} is still being handled: retry in a moment."


class Idempotency:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = header(scope, b"idempotency-key") if _applies(scope) else None
        if key is None:
            await self.app(scope, receive, send)
            return
        if not _VALID_KEY.fullmatch(key):
            await error_response(Invalid.field(HEADER, BAD_KEY))(scope, receive, send)
            return
        body = await read_body(receive)
        sessions: async_sessionmaker[AsyncSession] = scope["app"].state.sessions
        owner, name = caller_of(scope), key.decode("ascii")
        found = await service.claim(sessions, owner, name, _fingerprint(scope, body))
        if found.standing is Standing.NEW:
            await self._handle_once(scope, replaying(body, receive), send, sessions, owner, name)
        elif found.standing is Standing.DONE:
            await _replay(found, send)
        elif found.standing is Standing.MISMATCH:
            await error_response(Invalid.field(HEADER, OTHER_REQUEST))(scope, receive, send)
        else:
            await error_response(Conflict(IN_PROGRESS))(scope, receive, send)

    async def _handle_once(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        sessions: async_sessionmaker[AsyncSession],
        owner: str,
        key: str,
    ) -> None:
        answer = _Recorder(send)
        try:
            await self.app(scope, receive, answer.send)
        except BaseException:
            await service.give_up(sessions, owner, key)
            raise
        if answer.status is None or answer.status >= 500:
            await service.give_up(sessions, owner, key)  # worth trying again
            return
        await service.keep_answer(
            sessions,
            owner,
            key,
            status_code=answer.status,
            content_type=answer.content_type,
            body=answer.body(),
        )


def _applies(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "POST":
        return False
    path: str = scope.get("path", "")
    return path.startswith(f"{API_PREFIX}/")


def _fingerprint(scope: Scope, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (scope["method"].encode(), scope["path"].encode(), scope["query_string"], body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


class _Recorder:
    """Passes an answer on to the client while keeping a copy of it."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status: int | None = None
        self.content_type: str | None = None
        self._chunks: list[bytes] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            for name, value in message.get("headers", []):
                if name.lower() == b"content-type":
                    self.content_type = value.decode("latin-1")
        elif message["type"] == "http.response.body":
            self._chunks.append(message.get("body", b""))
        await self._send(message)

    def body(self) -> bytes:
        return b"".join(self._chunks)


async def _replay(found: Claim, send: Send) -> None:
    body = found.body or b""
    headers = [(b"content-length", str(len(body)).encode()), (REPLAYED.lower().encode(), b"true")]
    if found.content_type:
        headers.append((b"content-type", found.content_type.encode("latin-1")))
    await send({"type": "http.response.start", "status": found.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
