"""The filters shared by every subscriber search of the Connect API."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, exists, false, select

from konversation.db import contains_text
from konversation.subscribers.models import Subscriber, SubscriberChannel

DAY = dt.timedelta(hours=24)
PHONE_TAIL = 9


@dataclass(frozen=True)
class SubscriberFilter:
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    channel: str | None = None
    opted_in_email: bool | None = None
    opted_in_sms: bool | None = None
    interacted_in_last_24h: bool | None = None
    bot_interacted_in_last_24h: bool | None = None
    last_message_in_last_24h: bool | None = None
    # Within one bot only:
    tag_ns: str | None = None
    label_id: int | None = None
    event_ns: str | None = None
    user_field_ns: str | None = None
    user_field_value: str | None = None
    segment_ns: str | None = None


def apply(
    query: Select[Subscriber], wanted: SubscriberFilter, now: dt.datetime
) -> Select[Subscriber]:
    conditions: list[ColumnElement[bool]] = []
    if wanted.name:
        conditions.append(contains_text(Subscriber.name, wanted.name))
    if wanted.email:
        conditions.append(_email_matches(wanted.email))
    if wanted.phone:
        conditions.append(_phone_matches(wanted.phone))
    if wanted.channel:
        conditions.append(
            exists().where(
                SubscriberChannel.subscriber_id == Subscriber.id,
                SubscriberChannel.type == wanted.channel,
            )
        )
    since = now - DAY
    for flag, column in (
        (wanted.opted_in_email, Subscriber.opted_in_email_at),
        (wanted.opted_in_sms, Subscriber.opted_in_sms_at),
    ):
        if flag is not None:
            conditions.append(column.is_not(None) if flag else column.is_(None))
    for flag, column in (
        (wanted.interacted_in_last_24h, Subscriber.last_interaction_at),
        (wanted.bot_interacted_in_last_24h, Subscriber.last_bot_interaction_at),
        (wanted.last_message_in_last_24h, Subscriber.last_message_at),
    ):
        if flag is not None:
            recent = column >= since
            conditions.append(recent if flag else (column.is_(None) | ~recent))
    return query.where(*conditions)


def _phone_matches(phone: str) -> ColumnElement[bool]:
    """Numbers compare by their last digits, so a number matches with or without `+` and its
    country code; a full number uses the index, a shorter piece matches the number's end."""
    digits = re.sub(r"\D", "", phone)
    if not digits:
        return false()
    if len(digits) >= PHONE_TAIL:
        return Subscriber.phone_tail == digits[-PHONE_TAIL:]
    return Subscriber.phone.like(f"%{digits}")


def _email_matches(email: str) -> ColumnElement[bool]:
    """A whole address is looked up exactly (addresses are stored lower case); a part is searched."""
    if "@" in email:
        return Subscriber.email == email.strip().lower()
    return contains_text(Subscriber.email, email)  # type: ignore[arg-type]


def newest_interaction_first(query: Select[Subscriber]) -> Select[Subscriber]:
    return query.order_by(Subscriber.activity_at.desc(), Subscriber.id.desc())


def in_bots(bot_ids: list[int]) -> Select[Subscriber]:
    return select(Subscriber).where(Subscriber.bot_id.in_(bot_ids))
