"""The Flow Segment group: the bot's saved subscriber filters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from konversation.segments import service
from konversation.segments.wire import SegmentOut
from konversation.wire import envelope
from konversation.wire.auth import ManageFlow
from konversation.wire.envelope import PageOut
from konversation.wire.errors import wire_errors
from konversation.wire.params import PageParams
from konversation.wire.session import Session

router = APIRouter(tags=["Flow Segment"])


@router.get(
    "/flow/segments",
    responses=wire_errors(401, 403, 404, 422),
    summary="List segments",
    description=(
        "The bot's segments, oldest first. A segment is a saved subscriber filter: pass its "
        "`segment_ns` to `GET /subscribers` to list the subscribers it selects."
    ),
)
async def flow_segments(
    key: ManageFlow,
    session: Session,
    paging: PageParams,
    name: Annotated[str | None, Query(description="Only segments whose name has this.")] = None,
) -> PageOut[SegmentOut]:
    segments, total = await service.list_segments(session, key.bot_id, name=name, window=paging)
    return envelope.page([SegmentOut.of(s) for s in segments], total=total, window=paging)
