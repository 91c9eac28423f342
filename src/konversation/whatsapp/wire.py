"""The Connect API's shapes of WhatsApp templates and of template sends."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from konversation.whatsapp.models import WhatsAppTemplate
from konversation.whatsapp.service import parameter_names


class ComponentIn(BaseModel):
    """One of Meta's template components; its other keys (format, buttons, example) are kept."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["BODY"])
    text: str | None = Field(default=None, examples=["Hi {{1}}, your order {{2}} has shipped."])


class WhatsAppTemplateIn(BaseModel):
    name: str = Field(max_length=512, examples=["order_shipped"])
    language: str = Field(max_length=16, examples=["en_US"])
    category: str = Field(max_length=32, examples=["UTILITY"])
    components: list[ComponentIn] = Field(min_length=1)


class WhatsAppTemplateOut(BaseModel):
    name: str = Field(examples=["order_shipped"])
    language: str = Field(examples=["en_US"])
    category: str = Field(examples=["UTILITY"])
    components: list[dict[str, Any]]
    status: str = Field(examples=["APPROVED"], description="Meta's review status.")
    params: list[str] = Field(
        examples=[["BODY_{{1}}", "BODY_{{2}}"]],
        description="The parameters a send fills in (see send-whatsapp-template).",
    )

    @classmethod
    def of(cls, template: WhatsAppTemplate) -> WhatsAppTemplateOut:
        return cls(
            name=template.name,
            language=template.language,
            category=template.category,
            components=template.components,
            status=template.status,
            params=parameter_names(template.components),
        )


class TemplateNameIn(BaseModel):
    name: str = Field(examples=["order_shipped"])


class TemplateParamsIn(BaseModel):
    """Values by parameter name; any `BODY_{{n}}`, `HEADER_{{n}}` or `URL_n` beyond these too.
    Values may use the subscriber's variables, such as `{{first_name}}`."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    HEADER_IMAGE: str | None = Field(default=None, examples=["https://example.com/image.png"])
    BODY_1: str | None = Field(default=None, alias="BODY_{{1}}", examples=["{{first_name}}"])
    BODY_2: str | None = Field(default=None, alias="BODY_{{2}}", examples=["A-1042"])
    QUICK_REPLY_1: str | None = Field(
        default=None, examples=["f1s2"], description="The sub flow a press starts."
    )
    QUICK_REPLY_2: str | None = Field(default=None, examples=["f1s3"])
    URL_1: str | None = Field(
        default=None, examples=["A-1042"], description="The variable part of the button's URL."
    )
    URL_2: str | None = Field(default=None, examples=["A-1042"])

    def values(self) -> dict[str, str]:
        given = self.model_dump(by_alias=True, exclude_none=True)
        return {str(name): str(value) for name, value in given.items()}


class TemplateContentIn(BaseModel):
    namespace: str = Field(
        examples=["whatsapp"], description="Kept for older clients; the Cloud API needs none."
    )
    name: str = Field(examples=["order_shipped"])
    lang: str = Field(examples=["en_US"])
    params: TemplateParamsIn = Field(default_factory=TemplateParamsIn)


class SendTemplateIn(BaseModel):
    user_ns: str = Field(examples=["f1u1"])
    content: TemplateContentIn


class SendTemplateByUserIdIn(BaseModel):
    user_id: str = Field(
        description="The subscriber's WhatsApp number, digits.", examples=["61412345678"]
    )
    create_if_not_found: str | None = Field(
        default=None, examples=["no"], description="`yes` makes a subscriber of a new number."
    )
    content: TemplateContentIn
