"""Bodies of the Sending operations that deliver directly: send-email and send-sms."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from konversation.subscribers.wire import UserNsIn
from konversation.wire.params import BlankIsNone

MAX_SUBJECT_LENGTH = 255


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("is required")
    return value


def _one_line(value: str | None) -> str | None:
    # A line break would end the Subject header and let the caller write headers of their own.
    if value is not None and ("\n" in value or "\r" in value):
        raise ValueError("must be a single line")
    return value


class SendSmsIn(UserNsIn):
    content: Annotated[str, AfterValidator(_not_blank)] = Field(
        description="The text to send.", examples=["Your order has shipped."]
    )


class SendEmailIn(SendSmsIn):
    subject: Annotated[str | None, BlankIsNone, AfterValidator(_one_line)] = Field(
        default=None,
        max_length=MAX_SUBJECT_LENGTH,
        description="One line; the bot's name when left out.",
        examples=["Your order"],
    )
