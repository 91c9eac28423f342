"""The Connect API's shapes for custom events, their log and their daily figures."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from konversation.events.models import CustomEvent
from konversation.events.service import (
    DEFAULT_READ,
    MAX_READ,
    EventSummary,
    LogQuery,
    Occurrence,
)
from konversation.ids import Kind, format_ns
from konversation.subscribers.wire import wire_time
from konversation.wire.params import BlankIsNone, UnixTime, unix_moment, unix_moment_after


def _number_or_text(value: Any) -> Any:
    if value is None or (isinstance(value, (int, float, str)) and not isinstance(value, bool)):
        return value
    raise ValueError("must be a number")


# Read exactly by the service; the schema says what a client may send.
DecimalT = Annotated[
    Any,
    BlankIsNone,
    AfterValidator(_number_or_text),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string"}, {"type": "null"}]}),
]
_DECIMAL_DOC = (
    "A number, or a string holding one (`12.50`), kept exactly as decimal text. Send a string "
    "to keep trailing zeros or more than 15 significant digits."
)


def event_ns_of(event: CustomEvent) -> str:
    return format_ns(event.bot_id, Kind.EVENT, event.number)


class CustomEventOut(BaseModel):
    name: str = Field(examples=["purchase"])
    event_ns: str = Field(examples=["f1e1"])
    description: str = Field(examples=["A paid order"])
    text_label: str = Field(description="What the text value means.", examples=["product"])
    price_label: str = Field(description="What the price value means.", examples=["amount"])
    number_label: str = Field(description="What the number value means.", examples=["quantity"])

    @classmethod
    def of(cls, event: CustomEvent) -> CustomEventOut:
        return cls(
            name=event.name,
            event_ns=event_ns_of(event),
            description=event.description,
            text_label=event.text_label,
            price_label=event.price_label,
            number_label=event.number_label,
        )


class OccurrenceOut(BaseModel):
    id: int = Field(description="Increases with every occurrence: the cursor for `start_id`.")
    user_ns: str = Field(examples=["f1u1"])
    event_ns: str = Field(examples=["f1e1"])
    text_value: str | None = Field(examples=["T-shirt"])
    price_value: str | None = Field(examples=["19.90"])
    number_value: str | None = Field(examples=["2"])
    value: str | None = Field(
        description="The text value, else the number, else the price.", examples=["T-shirt"]
    )
    created_at: str | None = Field(description="UTC, `YYYY-MM-DD HH:MM:SS`.")

    @classmethod
    def of(cls, occurrence: Occurrence) -> OccurrenceOut:
        log = occurrence.log
        return cls(
            id=log.id,
            user_ns=format_ns(log.bot_id, Kind.SUBSCRIBER, occurrence.subscriber_number),
            event_ns=event_ns_of(occurrence.event),
            text_value=log.text_value,
            price_value=log.price_value,
            number_value=log.number_value,
            value=next(
                (v for v in (log.text_value, log.number_value, log.price_value) if v is not None),
                None,
            ),
            created_at=wire_time(log.created_at),
        )


# The summary: the figures under `data` in the shape clients parse, and again at the top
# level in the reference document's shape, with unique subscribers.


class DayStatOut(BaseModel):
    date: str = Field(examples=["2026-03-03"])
    count: int


class TextStatOut(BaseModel):
    value: str = Field(examples=["T-shirt"])
    count: int


class SummaryDataOut(CustomEventOut):
    total: int = Field(description="Occurrences over the whole range.")
    stats: list[DayStatOut]
    text_values: list[TextStatOut]


class DayCountOut(BaseModel):
    start_date: str = Field(examples=["2026-03-03"])
    num: int
    unique_user_num: int


class TotalOut(BaseModel):
    num: int
    unique_user_num: int


class TextCountOut(BaseModel):
    text_value: str = Field(examples=["T-shirt"])
    num: int
    unique_user_num: int


class EventSummaryOut(BaseModel):
    status: Literal["ok"] = "ok"
    data: SummaryDataOut
    stats: list[DayCountOut] = Field(description="One entry per day of the range, oldest first.")
    total: TotalOut
    start_date: str = Field(examples=["2026-03-03 00:00:00"])
    end_date: str = Field(examples=["2026-03-03 23:59:59"])
    text_values: list[TextCountOut] = Field(
        description="The 100 most frequent text values, most frequent first."
    )

    @classmethod
    def of(cls, summary: EventSummary) -> EventSummaryOut:
        return cls(
            data=SummaryDataOut(
                **CustomEventOut.of(summary.event).model_dump(),
                total=summary.total.num,
                stats=[DayStatOut(date=d.date, count=d.num) for d in summary.days],
                text_values=[
                    TextStatOut(value=t.text_value, count=t.num) for t in summary.text_values
                ],
            ),
            stats=[
                DayCountOut(start_date=d.date, num=d.num, unique_user_num=d.unique_user_num)
                for d in summary.days
            ],
            total=TotalOut(num=summary.total.num, unique_user_num=summary.total.unique_user_num),
            start_date=f"{summary.first.isoformat()} 00:00:00",
            end_date=f"{summary.last.isoformat()} 23:59:59",
            text_values=[
                TextCountOut(text_value=t.text_value, num=t.num, unique_user_num=t.unique_user_num)
                for t in summary.text_values
            ],
        )


# Requests


class LogCustomEventIn(BaseModel):
    # Form builders send a numeric text value as a number.
    model_config = ConfigDict(coerce_numbers_to_str=True)

    user_ns: str = Field(examples=["f1u1"])
    event_name: str = Field(
        description="The event; a name logged for the first time defines the event.",
        examples=["purchase"],
    )
    text_value: Annotated[str | None, BlankIsNone] = Field(
        default=None, description="Cut to 20,000 characters.", examples=["T-shirt"]
    )
    number_value: DecimalT = Field(default=None, description=_DECIMAL_DOC, examples=[2])
    price_value: DecimalT = Field(default=None, description=_DECIMAL_DOC, examples=["19.90"])


EventNsParam = Annotated[str, Query(description="The custom event.", examples=["f1e1"])]


async def log_query(
    start_time: Annotated[
        UnixTime, Query(description="Only occurrences at or after this time, in unix seconds.")
    ] = None,
    end_time: Annotated[
        UnixTime, Query(description="Only occurrences up to this time (inclusive), unix seconds.")
    ] = None,
    start_id: Annotated[
        int | None,
        BlankIsNone,
        Query(description="Only occurrences with a greater id: the last id of the previous batch."),
    ] = None,
    limit: Annotated[
        int | None,
        BlankIsNone,
        Query(description=f"How many occurrences: 1 to {MAX_READ}, {DEFAULT_READ} if unset."),
    ] = None,
) -> LogQuery:
    return LogQuery(
        after_id=start_id,
        since=unix_moment(start_time, "start_time"),
        until=unix_moment_after(end_time, "end_time"),
        limit=DEFAULT_READ if limit is None else limit,
    )
