"""Bearer keys on the wire: who is calling, and may they call this operation."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from konversation.errors import Unauthenticated
from konversation.keys import service
from konversation.keys.models import Permission
from konversation.keys.service import BotKey, KeyContext
from konversation.wire.session import Session

bearer = HTTPBearer(
    scheme_name="API KEY",
    description="An API key, as printed by `konversation keys create` (or at the first start).",
    auto_error=False,
)


async def _caller(
    request: Request,
    session: Session,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> KeyContext:
    if credentials is None:
        raise Unauthenticated()
    caller = await service.authenticate(
        session,
        credentials.credentials,
        server_secret=request.app.state.server_secret,
        cache=request.app.state.key_cache,
    )
    request.state.caller = caller  # for the audit log of the request's unit of work
    return caller


async def _flow_manager(caller: Annotated[KeyContext, Depends(_caller)]) -> BotKey:
    return service.require_bot(caller, Permission.MANAGE_FLOW)


async def _team_manager(caller: Annotated[KeyContext, Depends(_caller)]) -> KeyContext:
    service.require_permission(caller, Permission.MANAGE_TEAM)
    return caller


Caller = Annotated[KeyContext, Depends(_caller)]
ManageFlow = Annotated[BotKey, Depends(_flow_manager)]
ManageTeam = Annotated[KeyContext, Depends(_team_manager)]


async def check_key_of(request: Request) -> None:
    """Authenticate a request whose handler never ran.

    FastAPI decodes a JSON body before it resolves dependencies, so a malformed body would
    otherwise be answered (422) before a missing or revoked key (401).
    """
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated()
    async with request.app.state.sessions() as session:
        await service.authenticate(
            session,
            token,
            server_secret=request.app.state.server_secret,
            cache=request.app.state.key_cache,
        )
        await session.commit()
