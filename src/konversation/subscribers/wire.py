"""The Connect API's shape of a subscriber."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import Depends, Query
from pydantic import BaseModel, Field

from konversation.channels.whatsapp import window_closed
from konversation.flows.wire import FieldValueT, TagOut, VarTypeT
from konversation.ids import Kind, bot_ns, format_ns
from konversation.subscribers.filters import SubscriberFilter
from konversation.subscribers.models import Subscriber, SubscriberChannel
from konversation.subscribers.service import Details, Profile
from konversation.wire.params import BlankIsNone, yes_no

DAY = dt.timedelta(hours=24)


def wire_time(moment: dt.datetime | None) -> str | None:
    """Timestamps as the original API writes them: `YYYY-MM-DD HH:MM:SS`, UTC."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else None


class SubscriberFieldOut(BaseModel):
    name: str
    var_ns: str
    var_type: VarTypeT
    value: FieldValueT
    description: str


class LabelOut(BaseModel):
    name: str


class ChannelOut(BaseModel):
    type: str = Field(examples=["telegram"])
    user_id: str = Field(examples=["123456789"])
    channel_id: str | None = None
    subscribed_at: str | None = None


class SubscriberOut(BaseModel):
    user_ns: str = Field(examples=["f1u1"])
    flow_ns: str = Field(examples=["f1"])
    user_id: str | None
    name: str
    first_name: str
    last_name: str
    phone: str | None
    email: str | None
    gender: str | None
    profile_pic: str | None
    locale: str | None
    language: str | None
    timezone: str | None
    status: str = Field(description="Conversation state: open, pending, spam or done.")
    subscribed: str | None
    created_at: str | None
    last_interaction: str | None
    last_interaction_at: str | None
    last_seen: str | None
    last_message_at: str | None
    last_message_type: str | None
    last_input_text: str | None
    allow_send_message: bool
    is_bot_interacted_in_last_24h: bool
    is_last_message_in_last_24h: bool
    opted_in_email: str | None
    opted_in_sms: str | None
    opted_in_through: str | None
    tags: list[TagOut]
    user_fields: list[SubscriberFieldOut]
    labels: list[LabelOut]
    channels: list[ChannelOut]

    @classmethod
    def of(cls, profile: Profile, now: dt.datetime) -> SubscriberOut:
        s = profile.subscriber
        return cls(
            user_ns=format_ns(s.bot_id, Kind.SUBSCRIBER, s.number),
            flow_ns=bot_ns(s.bot_id),
            **_identity(s),
            status=s.status,
            subscribed=wire_time(s.subscribed_at),
            created_at=wire_time(s.created_at),
            last_interaction=wire_time(s.last_interaction_at),
            last_interaction_at=wire_time(s.last_interaction_at),
            last_seen=wire_time(s.last_seen_at),
            last_message_at=wire_time(s.last_message_at),
            last_message_type=s.last_message_type,
            last_input_text=s.last_input_text,
            allow_send_message=s.is_subscribed and within_window(s, profile.channels, now),
            is_bot_interacted_in_last_24h=_within_day(s.last_bot_interaction_at, now),
            is_last_message_in_last_24h=_within_day(s.last_message_at, now),
            opted_in_email=wire_time(s.opted_in_email_at),
            opted_in_sms=wire_time(s.opted_in_sms_at),
            opted_in_through=s.opted_in_through,
            tags=[TagOut.of(t) for t in profile.tags],
            user_fields=[
                SubscriberFieldOut(
                    name=f.name,
                    var_ns=format_ns(f.bot_id, Kind.FIELD, f.number),
                    var_type=f.var_type,
                    value=value,
                    description=f.description,
                )
                for f, value in profile.fields
            ],
            labels=[LabelOut(name=label.name) for label in profile.labels],
            channels=[
                ChannelOut(
                    type=c.type,
                    user_id=c.user_id,
                    channel_id=c.channel_id,
                    subscribed_at=wire_time(c.subscribed_at),
                )
                for c in profile.channels
            ],
        )


def _identity(s: Subscriber) -> dict[str, Any]:
    names = ("user_id", "name", "first_name", "last_name", "phone", "email", "gender")
    more = ("profile_pic", "locale", "language", "timezone")
    return {name: getattr(s, name) for name in (*names, *more)}


def within_window(s: Subscriber, channels: Sequence[SubscriberChannel], now: dt.datetime) -> bool:
    return not window_closed(s, {c.type for c in channels}, now)


def _within_day(moment: dt.datetime | None, now: dt.datetime) -> bool:
    return moment is not None and now - moment < DAY


YesNo = Annotated[str | None, Query(description="`yes` or `no` (also `true` or `false`).")]


async def common_filters(
    name: Annotated[str | None, Query(description="Part of the name.")] = None,
    phone: Annotated[
        str | None, Query(description="The number, with or without `+` and country code.")
    ] = None,
    email: Annotated[str | None, Query(description="The address, or a part of it.")] = None,
    is_channel: Annotated[
        str | None, Query(description="Reachable on this channel type, e.g. `telegram`.")
    ] = None,
    is_opt_in_email: YesNo = None,
    is_opt_in_sms: YesNo = None,
    is_interacted_in_last_24h: YesNo = None,
    is_bot_interacted_in_last_24h: YesNo = None,
    is_last_message_in_last_24h: YesNo = None,
) -> SubscriberFilter:
    """The filters every subscriber search takes, workspace-wide or in one bot."""
    return SubscriberFilter(
        name=name or None,
        phone=phone or None,
        email=email or None,
        channel=is_channel or None,
        opted_in_email=yes_no(is_opt_in_email, "is_opt_in_email"),
        opted_in_sms=yes_no(is_opt_in_sms, "is_opt_in_sms"),
        interacted_in_last_24h=yes_no(is_interacted_in_last_24h, "is_interacted_in_last_24h"),
        bot_interacted_in_last_24h=yes_no(
            is_bot_interacted_in_last_24h, "is_bot_interacted_in_last_24h"
        ),
        last_message_in_last_24h=yes_no(is_last_message_in_last_24h, "is_last_message_in_last_24h"),
    )


async def bot_filters(
    common: Annotated[SubscriberFilter, Depends(common_filters)],
    tag_ns: Annotated[str | None, Query(description="Has this tag.", examples=["f1t1"])] = None,
    label_id: Annotated[int | None, BlankIsNone, Query(description="Has this team label.")] = None,
    event_ns: Annotated[
        str | None, Query(description="Has logged this custom event.", examples=["f1e1"])
    ] = None,
    user_field_ns: Annotated[
        str | None, Query(description="With `user_field_value`: this field...", examples=["f1v1"])
    ] = None,
    user_field_value: Annotated[str | None, Query(description="...holds this value.")] = None,
    segment_ns: Annotated[
        str | None, Query(description="Matches this saved segment.", examples=["f1sg1"])
    ] = None,
) -> SubscriberFilter:
    """The workspace-wide filters plus those that only make sense within one bot."""
    return dataclasses.replace(
        common,
        tag_ns=tag_ns or None,
        label_id=label_id,
        event_ns=event_ns or None,
        user_field_ns=user_field_ns or None,
        user_field_value=user_field_value,
        segment_ns=segment_ns or None,
    )


class UserNsIn(BaseModel):
    user_ns: str = Field(examples=["f1u1"])


class SubscriberDetailsIn(BaseModel):
    first_name: str | None = Field(default=None, max_length=255, examples=["Sam"])
    last_name: str | None = Field(default=None, max_length=255, examples=["Smith"])
    name: str | None = Field(default=None, max_length=255, examples=["Sam Smith"])
    phone: str | None = Field(default=None, max_length=64, examples=["+61400000000"])
    email: str | None = Field(default=None, max_length=255, examples=["sam@example.com"])
    gender: Literal["male", "female"] | None = Field(default=None, examples=["female"])
    image: str | None = Field(
        default=None, max_length=1024, examples=["https://example.com/sam.png"]
    )

    def details(self) -> Details:
        return Details(
            **{k: v for k, v in self.model_dump().items() if k in Details.__dataclass_fields__}
        )


class CreateSubscriberIn(SubscriberDetailsIn):
    """A new subscriber: a phone or an email (or both) is required."""


class UpdateSubscriberIn(SubscriberDetailsIn):
    user_ns: str = Field(examples=["f1u1"])
