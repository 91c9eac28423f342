"""Bodies and answers of the Sending operations."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    JsonValue,
    WithJsonSchema,
)

from konversation.flows.wire import FieldValueT
from konversation.sending import broadcasts
from konversation.sending.content import DynamicContent
from konversation.sending.models import Broadcast, BroadcastStatus
from konversation.subscribers.wire import UserNsIn
from konversation.wire.params import BlankIsNone

MAX_SUBJECT_LENGTH = 255
MAX_TEXT_LENGTH = 4096
MAX_VARIABLES = 100


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


# Through the channels


class SendTextIn(UserNsIn):
    content: Annotated[str, AfterValidator(_not_blank)] = Field(
        max_length=MAX_TEXT_LENGTH,
        description="The text, sent as written.",
        examples=["Your order has shipped."],
    )


class SendContentIn(UserNsIn):
    data: DynamicContent = Field(
        description="Dynamic content, version v1: messages, actions, quick replies and goto."
    )
    send_as_agent: Annotated[bool | None, BlankIsNone] = Field(
        default=None,
        description="Send as an agent would: allowed while the bot is paused for the "
        "subscriber (a `goto` still needs the bot).",
    )


class SendSubFlowIn(UserNsIn):
    sub_flow_ns: str = Field(examples=["f1s1"])


class SendSubFlowByUserIdIn(BaseModel):
    # Clients send more than these two (their own bookkeeping): unknown keys are ignored.
    user_id: str = Field(description="The subscriber's id on their channel.", examples=["6141"])
    sub_flow_ns: str = Field(examples=["f1s1"])


def _object_or_json(value: Any) -> Any:
    # Form builders send the object as a JSON string, or an empty string for none.
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise ValueError("must be an object") from None
    return value


Variables = Annotated[
    Annotated[dict[str, JsonValue], Field(max_length=MAX_VARIABLES)] | None,
    BeforeValidator(_object_or_json),
]


class SendSubFlowByFlowNameIn(UserNsIn):
    flow_name: Annotated[str, AfterValidator(_not_blank)] = Field(examples=["Welcome"])
    variables: Variables = Field(
        default=None,
        description=f"Up to {MAX_VARIABLES} values the flow's texts can use as `{{{{name}}}}`; "
        "they win over fields of the same name.",
        examples=[{"order_id": "A-1001"}],
    )


class SendMainFlowIn(UserNsIn):
    pass


class SendNodeIn(UserNsIn):
    node_ns: str = Field(examples=["f1n3"])


# Broadcasts


def _split(value: Any) -> Any:
    """`"a, b,,c"` as `["a", "b", "c"]`; a list is kept, without its empty items."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str):
        value = value.split(",")
    if isinstance(value, list):
        items = [str(v).strip() if isinstance(v, (str, int)) else v for v in value]
        return list(dict.fromkeys(i for i in items if i != ""))
    return value


def _comma_list_schema(example: str, limit: int, unit: str) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "type": "string",
            "description": f"Comma-separated {unit}, at most {limit} (a JSON array of strings "
            "is read too).",
            "example": example,
        }
    )


UserNsList = Annotated[
    list[str],
    BeforeValidator(_split),
    _comma_list_schema("f1u1,f1u2", broadcasts.MAX_LISTED, "user ns"),
]
UserIdList = Annotated[
    list[str],
    BeforeValidator(_split),
    _comma_list_schema("61412345678,61387625429", broadcasts.MAX_LISTED, "user ids"),
]
SegmentNsList = Annotated[
    list[str],
    BeforeValidator(_split),
    _comma_list_schema("f1sg1,f1sg2", broadcasts.MAX_SEGMENTS, "segment ns"),
]
TagNsList = Annotated[list[str], BeforeValidator(_split)]


class FieldSettingIn(BaseModel):
    var_ns: str = Field(examples=["f1v1"])
    value: FieldValueT = Field(default=None, examples=["spring-sale"])

    def setting(self) -> broadcasts.FieldSetting:
        return broadcasts.FieldSetting(self.var_ns, self.value)


class BroadcastIn(BaseModel):
    sub_flow_ns: str = Field(description="The sub flow each recipient is sent.", examples=["f1s1"])
    name: Annotated[str | None, BlankIsNone] = Field(
        default=None, max_length=255, examples=["Spring sale"]
    )
    type: Annotated[
        Literal["EMAIL", "SMS", "WHATSAPP_TEMPLATE", "FACEBOOK_NOTIFICATION"] | None, BlankIsNone
    ] = Field(
        default=None,
        description="WHATSAPP_TEMPLATE: WhatsApp subscribers outside the 24-hour window are "
        "reached only when the sub flow opens with a `whatsapp_template` node, and skipped "
        "otherwise. EMAIL, SMS and FACEBOOK_NOTIFICATION are kept as given and change nothing.",
        examples=["WHATSAPP_TEMPLATE"],
    )
    message_tag: Annotated[str | None, BlankIsNone] = Field(
        default=None, description="Accepted and ignored: there is no Facebook channel."
    )
    scheduled_time: Annotated[int | None, BlankIsNone] = Field(
        default=None,
        description="When to start, in unix seconds; empty or past: now.",
        examples=[1786123679],
    )
    max_per_minute: Annotated[int | None, BlankIsNone] = Field(
        default=None,
        description=f"Recipients per minute at most: 1 to {broadcasts.MAX_PER_MINUTE}, "
        f"{broadcasts.DEFAULT_PER_MINUTE} when left out.",
        examples=[60],
    )
    user_fields: list[FieldSettingIn] | None = Field(
        default=None,
        description=f"Up to {broadcasts.MAX_FIELDS} user fields set on each recipient before "
        "their flow starts.",
    )
    bot_fields: list[FieldSettingIn] | None = Field(
        default=None,
        description=f"Up to {broadcasts.MAX_FIELDS} bot fields set once, when the broadcast "
        "starts.",
    )

    def request(self) -> broadcasts.Request:
        return broadcasts.Request(
            sub_flow_ns=self.sub_flow_ns,
            name=self.name,
            message_type=self.type,
            scheduled_time=self.scheduled_time,
            max_per_minute=self.max_per_minute,
            user_fields=[f.setting() for f in self.user_fields or ()],
            bot_fields=[f.setting() for f in self.bot_fields or ()],
        )


class BroadcastByUserNsIn(BroadcastIn):
    user_ns_list: UserNsList


class BroadcastByUserIdIn(BroadcastIn):
    user_id_list: UserIdList


class BroadcastByTagIn(BroadcastIn):
    tags: TagNsList = Field(
        description=f"Tag ids, at most {broadcasts.MAX_TAGS}: subscribers with any of them.",
        examples=[["f1t1"]],
    )
    exclude_tags: TagNsList | None = Field(
        default=None,
        description=f"Tag ids, at most {broadcasts.MAX_TAGS}: subscribers with any of them are "
        "left out.",
        examples=[["f1t2"]],
    )


class BroadcastBySegmentIn(BroadcastIn):
    segment_ns: SegmentNsList


class BroadcastQueuedOut(BaseModel):
    """The broadcast is stored and runs in the background."""

    status: Literal["ok"] = "ok"
    broadcast_id: int = Field(description="Follow it with GET /subscriber/broadcast-status.")
    total: int | None = Field(
        description="Recipients found, for lists; null for tags and segments, whose members "
        "are taken as the broadcast runs."
    )


def unix_time(moment: dt.datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


class BroadcastOut(BaseModel):
    id: int = Field(examples=[12])
    name: str
    status: Literal["scheduled", "running", "done", "cancelled"]
    sub_flow_ns: str | None = Field(examples=["f1s1"])
    type: str | None
    total: int | None = Field(description="All recipients, once known (lists: at once).")
    sent: int = Field(description="Recipients whose flow started.")
    skipped: int = Field(
        description="Recipients unsubscribed or paused when their turn came, or (WHATSAPP_"
        "TEMPLATE) outside WhatsApp's window with a sub flow that does not open with a template."
    )
    failed: int = Field(description="Recipients whose flow could not start.")
    max_per_minute: int
    scheduled_time: int = Field(description="Unix seconds.")
    started_time: int | None = Field(description="Unix seconds.")
    finished_time: int | None = Field(description="Unix seconds.")

    @classmethod
    def of(cls, broadcast: Broadcast, sub_flow_ns: str | None) -> BroadcastOut:
        return cls(
            id=broadcast.id,
            name=broadcast.name,
            status=BroadcastStatus(broadcast.status).value,
            sub_flow_ns=sub_flow_ns,
            type=broadcast.message_type,
            total=broadcasts.total(broadcast),
            sent=broadcast.sent,
            skipped=broadcast.skipped,
            failed=broadcast.failed,
            max_per_minute=broadcast.max_per_minute,
            scheduled_time=int(broadcast.scheduled_at.timestamp()),
            started_time=unix_time(broadcast.started_at),
            finished_time=unix_time(broadcast.finished_at),
        )
