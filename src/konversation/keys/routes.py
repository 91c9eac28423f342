"""`GET /me`: the token check every client starts with."""

from __future__ import annotations

from fastapi import APIRouter

from konversation.keys import service
from konversation.keys.wire import MeOut
from konversation.wire.auth import Caller
from konversation.wire.errors import wire_errors
from konversation.wire.session import Session

router = APIRouter()


@router.get("/me", tags=["User"], responses=wire_errors(401, 404), summary="Who this key acts for")
async def user_info(caller: Caller, session: Session) -> MeOut:
    user = await service.key_owner(session, caller)
    return MeOut(id=user.id, name=user.name, email=user.email)
