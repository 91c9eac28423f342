"""The Connect API's shape of a segment."""

from __future__ import annotations

from pydantic import BaseModel, Field

from konversation.ids import Kind, format_ns
from konversation.segments.models import Segment


class SegmentOut(BaseModel):
    name: str = Field(examples=["Opted-in VIPs"])
    segment_ns: str = Field(examples=["f1sg1"])
    description: str = Field(examples=["VIP subscribers who accept email"])

    @classmethod
    def of(cls, segment: Segment) -> SegmentOut:
        return cls(
            name=segment.name,
            segment_ns=format_ns(segment.bot_id, Kind.SEGMENT, segment.number),
            description=segment.description,
        )
