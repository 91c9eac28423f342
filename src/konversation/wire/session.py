"""The unit of work of one request: committed before the answer is sent, rolled back on error."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.audit import service as audit
from konversation.audit.service import Action, Actor
from konversation.db import session_scope
from konversation.keys.service import KeyContext
from konversation.wire.request_ids import client_address, request_id_of


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    reads_only = request.method in {"GET", "HEAD"}
    factory = request.app.state.read_sessions if reads_only else request.app.state.sessions
    async with session_scope(factory) as session:
        yield session
        if request.method == "DELETE" and request.url.path.startswith("/api/"):
            await _audit_deletion(request, session)


async def _audit_deletion(request: Request, session: AsyncSession) -> None:
    """Log a destructive API call that succeeded, in the transaction that made its change."""
    caller: KeyContext | None = getattr(request.state, "caller", None)
    if caller is None:
        return
    body = await request.body()
    try:
        fields = json.loads(body) if body.strip() else {}
    except ValueError:
        fields = {}
    audit.record(
        session,
        Action.API_DELETE,
        actor_of(request, caller),
        workspace_id=caller.workspace_id,
        target=f"DELETE {request.url.path}",
        details={"bot_id": caller.bot_id, "body": audit.bounded(fields)},
    )


def actor_of(request: Request, caller: KeyContext) -> Actor:
    """The API key making `request`, as the audit log names it."""
    return Actor.key(caller.key_id, caller.name).at(request_id_of(request), client_address(request))


# scope="function": the commit happens before the response leaves, so a failed commit is a 5xx
# rather than a 200 for a change that was never stored.
Session = Annotated[AsyncSession, Depends(_session, scope="function")]
