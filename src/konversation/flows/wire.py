"""The Connect API's shapes for flows, tags, fields and flow settings."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, WithJsonSchema

from konversation.flows.models import Field as FieldRow
from konversation.flows.models import Flow, InboundWebhook, Tag, TemplateInstall, VarType
from konversation.flows.service import FieldValue
from konversation.ids import Kind, format_ns


def _json_scalar_or_array(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool, list)):
        return value
    raise ValueError("must be a string, number, boolean or array")


# One readable message instead of one per member of a union.
FieldValueT = Annotated[
    Any,
    AfterValidator(_json_scalar_or_array),
    WithJsonSchema(
        {"anyOf": [{"type": t} for t in ("string", "number", "boolean", "array", "null")]}
    ),
]
VarTypeT = Literal["text", "number", "boolean", "date", "datetime", "array", "longtext"]
_VALUE_DOC = "A string, number, boolean or array, read according to the field's type."


class TagOut(BaseModel):
    name: str = Field(examples=["VIP"])
    tag_ns: str = Field(examples=["f1t1"])

    @classmethod
    def of(cls, tag: Tag) -> TagOut:
        return cls(name=tag.name, tag_ns=format_ns(tag.bot_id, Kind.TAG, tag.number))


class SubFlowOut(BaseModel):
    name: str = Field(examples=["Welcome"])
    sub_flow_ns: str = Field(examples=["f1s1"])

    @classmethod
    def of(cls, flow: Flow) -> SubFlowOut:
        return cls(name=flow.name, sub_flow_ns=format_ns(flow.bot_id, Kind.SUB_FLOW, flow.number))


class UserFieldOut(BaseModel):
    name: str = Field(examples=["Favourite colour"])
    var_ns: str = Field(examples=["f1v1"])
    var_type: VarTypeT = Field(examples=["text"])
    description: str = Field(examples=["Asked during onboarding"])

    @classmethod
    def of(cls, field: FieldRow) -> UserFieldOut:
        return cls(
            name=field.name,
            var_ns=format_ns(field.bot_id, Kind.FIELD, field.number),
            var_type=VarType(field.var_type).value,
            description=field.description,
        )


class BotFieldOut(UserFieldOut):
    value: FieldValueT = Field(description=_VALUE_DOC, examples=["Open 9 to 5"])
    is_template_field: bool = False

    @classmethod
    def of(cls, field: FieldRow) -> BotFieldOut:
        return cls(
            **UserFieldOut.of(field).model_dump(),
            value=field.value,
            is_template_field=field.is_template_field,
        )


class InboundWebhookOut(BaseModel):
    name: str
    hook_uid: str
    sub_flow_ns: str
    status: str
    url: str

    @classmethod
    def of(cls, hook: InboundWebhook, base_url: str) -> InboundWebhookOut:
        return cls(
            name=hook.name,
            hook_uid=hook.hook_uid,
            sub_flow_ns=format_ns(hook.bot_id, Kind.SUB_FLOW, hook.sub_flow_number),
            status=hook.status,
            url=f"{base_url}/webhooks/inbound/{hook.hook_uid}",
        )


class TemplateInstallOut(BaseModel):
    id: int
    template_ns: str
    flow_ns: str
    team_id: int
    scope: str
    allow_republish: int
    can_view: int
    can_edit: int
    auto_update: int
    version: str
    created_at: str
    updated_at: str
    uninstalled_at: str | None

    @classmethod
    def of(cls, install: TemplateInstall, workspace_id: int) -> TemplateInstallOut:
        return cls(
            id=install.id,
            template_ns=install.template_ns,
            flow_ns=f"f{install.bot_id}",
            team_id=workspace_id,
            scope=install.scope,
            allow_republish=int(install.allow_republish),
            can_view=int(install.can_view),
            can_edit=int(install.can_edit),
            auto_update=int(install.auto_update),
            version=install.version,
            created_at=install.created_at.isoformat(),
            updated_at=install.updated_at.isoformat(),
            uninstalled_at=install.uninstalled_at.isoformat() if install.uninstalled_at else None,
        )


class BotUsersCountOut(BaseModel):
    status: Literal["open", "pending", "spam", "done"]
    num: int


# Request bodies


class CreateTagIn(BaseModel):
    name: str = Field(max_length=255, examples=["VIP"])


class TagNsIn(BaseModel):
    tag_ns: str = Field(examples=["f1t1"])


class NameIn(BaseModel):
    name: str = Field(examples=["VIP"])


class CreateUserFieldIn(BaseModel):
    name: str = Field(max_length=255, examples=["Favourite colour"])
    var_type: VarTypeT = Field(examples=["text"])
    description: str | None = Field(default=None, examples=["Asked during onboarding"])


class CreateBotFieldIn(CreateUserFieldIn):
    value: FieldValueT = Field(description=_VALUE_DOC, examples=["Open 9 to 5"])


class VarNsIn(BaseModel):
    var_ns: str = Field(examples=["f1v1"])


class SetBotFieldIn(VarNsIn):
    value: FieldValueT = Field(description=_VALUE_DOC, examples=["Closed today"])


class SetBotFieldByNameIn(NameIn):
    value: FieldValueT = Field(description=_VALUE_DOC, examples=["Closed today"])


class BotFieldValueIn(BaseModel):
    var_ns: str = Field(examples=["f1v1"])
    value: FieldValueT = Field(description=_VALUE_DOC, examples=["Closed today"])


class BotFieldValueByNameIn(BaseModel):
    name: str = Field(examples=["Opening hours"])
    value: FieldValueT = Field(description=_VALUE_DOC, examples=["Closed today"])


class SetBotFieldsIn(BaseModel):
    data: list[BotFieldValueIn] | None = Field(default=None, description="Up to 20 fields.")

    def items(self) -> list[FieldValue] | None:
        return None if self.data is None else [FieldValue(i.var_ns, i.value) for i in self.data]


class SetBotFieldsByNameIn(BaseModel):
    data: list[BotFieldValueByNameIn] | None = Field(default=None, description="Up to 20 fields.")

    def items(self) -> list[FieldValue] | None:
        return None if self.data is None else [FieldValue(i.name, i.value) for i in self.data]


class SubFlowNsIn(BaseModel):
    sub_flow_ns: str = Field(examples=["f1s1"])


class StartFlowIn(BaseModel):
    sub_flow_ns: str = Field(
        description="The sub flow to start conversations in, or `main` for the main flow.",
        examples=["main"],
    )


class AudioTranscriptionIn(BaseModel):
    stt_model: Literal["none", "whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"]
