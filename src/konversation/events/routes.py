"""The Flow Custom Events group, and the Subscriber operation that logs an event."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from konversation.events import service
from konversation.events.service import LogQuery
from konversation.events.wire import (
    CustomEventOut,
    EventNsParam,
    EventSummaryOut,
    LogCustomEventIn,
    OccurrenceOut,
    log_query,
)
from konversation.wire import envelope
from konversation.wire.auth import ManageFlow
from konversation.wire.envelope import ListOut, OkOut, PageOut
from konversation.wire.errors import wire_errors
from konversation.wire.params import PageParams
from konversation.wire.session import Session
from konversation.workspaces.summaries import Range
from konversation.workspaces.wire import RangeParam

router = APIRouter()

ERRORS = wire_errors(401, 403, 404, 422)
EVENTS = "Flow Custom Events"


@router.post(
    "/subscriber/log-custom-event",
    tags=["Subscriber"],
    responses=ERRORS,
    summary="Log a custom event for a subscriber",
    description=(
        "Records one occurrence. An `event_name` the bot has never logged defines a new event "
        "(`f<bot>e<n>`), so flows and integrations need no set-up step. `number_value` and "
        "`price_value` take numbers or numeric strings and are kept as exact decimal text; "
        "`text_value` is cut to 20,000 characters."
    ),
)
async def subscriber_log_custom_event(
    body: LogCustomEventIn, key: ManageFlow, session: Session
) -> OkOut:
    await service.log_event(
        session,
        key.bot_id,
        user_ns=body.user_ns,
        event_name=body.event_name,
        text_value=body.text_value,
        number_value=body.number_value,
        price_value=body.price_value,
    )
    return envelope.ok()


@router.get("/flow/custom-events", tags=[EVENTS], responses=ERRORS, summary="List custom events")
async def flow_custom_events(
    key: ManageFlow,
    session: Session,
    paging: PageParams,
    name: Annotated[str | None, Query(description="Only events whose name contains this.")] = None,
) -> PageOut[CustomEventOut]:
    events, total = await service.list_events(session, key.bot_id, name=name, window=paging)
    return envelope.page([CustomEventOut.of(e) for e in events], total=total, window=paging)


@router.get(
    "/flow/custom-events/data",
    tags=[EVENTS],
    responses=ERRORS,
    summary="Read an event's occurrences",
    description=(
        "Occurrences in id order, oldest first. To read them all, pass the last `id` of each "
        "batch as `start_id` for the next: only greater ids come back, so nothing logged "
        "meanwhile is skipped or repeated. `start_time` and `end_time` (unix seconds, both "
        "inclusive) narrow the span."
    ),
)
async def flow_custom_events_data(
    key: ManageFlow,
    session: Session,
    event_ns: EventNsParam,
    query: Annotated[LogQuery, Depends(log_query)],
) -> ListOut[OccurrenceOut]:
    occurrences = await service.read_log(session, key.bot_id, event_ns=event_ns, query=query)
    return ListOut(data=[OccurrenceOut.of(o) for o in occurrences])


@router.get(
    "/flow/custom-events/summary",
    tags=[EVENTS],
    responses=ERRORS,
    summary="Daily figures of a custom event",
    description=(
        "For each UTC day of the range (days without occurrences included): how often the "
        "event was logged and by how many subscribers; the same for the whole range; and the "
        "most frequent text values. `data` holds the event with these figures in short form."
    ),
)
async def flow_custom_events_summary(
    key: ManageFlow, session: Session, event_ns: EventNsParam, range: RangeParam = None
) -> EventSummaryOut:
    summary = await service.summarize(
        session, key.bot_id, event_ns=event_ns, range_=range or Range.YESTERDAY
    )
    return EventSummaryOut.of(summary)
