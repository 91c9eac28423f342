"""Segments: named, saved subscriber filters, listed for clients and applied by searches.

A segment keeps its filters as the query parameters of `GET /subscribers` (`tag_ns`,
`is_opt_in_email`, ...), so what a client tried out as a search can be saved as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from konversation.db import PageRequest
from konversation.errors import Invalid, NotFound
from konversation.flows.catalog import Catalog
from konversation.ids import Kind
from konversation.segments.models import Segment
from konversation.subscribers import filters
from konversation.subscribers.filters import SubscriberFilter
from konversation.workspaces.service import next_number

SEGMENTS = Catalog(Segment, Kind.SEGMENT, "Segment")
NAME_LIMIT = 255


async def list_segments(
    session: AsyncSession, bot_id: int, *, name: str | None, window: PageRequest
) -> tuple[Sequence[Segment], int]:
    return await SEGMENTS.page(session, bot_id, name=name, window=window)


async def create_segment(
    session: AsyncSession,
    bot_id: int,
    *,
    name: str,
    description: str | None = None,
    conditions: Mapping[str, Any],
) -> Segment:
    """A new segment (`f<bot>sg<n>`); its conditions must be readable filters naming tags,
    fields and events the bot has. Every problem is reported at once."""
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name:
        errors["name"] = ["The name field is required."]
    elif len(name) > NAME_LIMIT:
        errors["name"] = [f"The name field must not be greater than {NAME_LIMIT} characters."]
    elif await SEGMENTS.find_by_name(session, bot_id, name) is not None:
        errors["name"] = ["The name has already been taken."]
    try:
        wanted = await _readable(session, bot_id, conditions)
    except Invalid as invalid:
        errors.update(invalid.errors)
    if errors:
        raise Invalid(errors)
    segment = Segment(
        bot_id=bot_id,
        number=await next_number(session, bot_id, Kind.SEGMENT),
        name=name,
        description=description or "",
        conditions=filters.to_parameters(wanted),
    )
    session.add(segment)
    await session.flush()
    return segment


async def _readable(
    session: AsyncSession, bot_id: int, conditions: Mapping[str, Any]
) -> SubscriberFilter:
    if not isinstance(conditions, Mapping):
        raise Invalid.field("conditions", "The conditions field must be an object.")
    wanted = filters.from_parameters(conditions, path="conditions")
    missing = (await filters.look_up(session, [bot_id], wanted)).missing
    if missing:
        raise Invalid(
            {f"conditions.{p}": [f"The selected conditions.{p} is invalid."] for p in missing}
        )
    return wanted


async def find_segment_filter(
    session: AsyncSession, bot_ids: Sequence[int], segment_ns: str
) -> SubscriberFilter | None:
    """The saved filter of segment `segment_ns`, if it is a segment of one of `bot_ids`."""
    segment = await filters.find(session, SEGMENTS, segment_ns, bot_ids)
    if segment is None:
        return None
    return filters.from_parameters(segment.conditions, path="conditions")


async def segment_filter(session: AsyncSession, bot_id: int, segment_ns: str) -> SubscriberFilter:
    """The saved filter of one of the bot's segments, for whatever selects subscribers by it."""
    wanted = await find_segment_filter(session, [bot_id], segment_ns)
    if wanted is None:
        raise NotFound(SEGMENTS.not_found)
    return wanted
