"""The Connect API's shapes for flow templates, their installs and one-time links."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from konversation.flow_templates.models import FlowTemplate
from konversation.flow_templates.service import Installed, IssuedLink
from konversation.flows.export import ImportCounts
from konversation.flows.wire import TemplateInstallOut
from konversation.ids import bot_ns
from konversation.subscribers.wire import wire_time
from konversation.wire.params import BlankIsNone

MAX_PRICE = 2**31 - 1


class TemplateOut(BaseModel):
    id: int = Field(examples=[78])
    template_ns: str = Field(
        description="What the template operations name it by.", examples=["tpl3f9a0c12be47"]
    )
    name: str = Field(examples=["Customer survey"])
    description: str = Field(examples=["Asks for a rating after an order and tags the reply."])
    image: str = Field(description="A picture's URL, or empty.", examples=[""])
    price: int = Field(description="Informational; installing is free.", examples=[0])
    type: str = Field(
        description="The channel of the bot the template was made from.", examples=["web"]
    )
    scope: str = Field(
        description="`bot`: the template carries a bot's whole flow document.", examples=["bot"]
    )
    status: str = Field(examples=["active"])
    version: str = Field(examples=["1.0"])
    flow_ns: str | None = Field(
        description="The bot it was made from; null once that bot is deleted.", examples=["f1"]
    )
    created_at: str | None = Field(examples=["2026-12-04 18:40:00"])

    @classmethod
    def of(cls, template: FlowTemplate) -> TemplateOut:
        source = template.source_bot_id
        return cls(
            id=template.id,
            template_ns=template.template_ns,
            name=template.name,
            description=template.description,
            image=template.image,
            price=template.price,
            type=template.flow_type,
            scope=template.scope,
            status=template.status,
            version=template.version,
            flow_ns=None if source is None else bot_ns(source),
            created_at=wire_time(template.created_at),
        )


class OneTimeLinkOut(BaseModel):
    expired_at: str = Field(
        description="When the link stops working, UTC.", examples=["2027-01-03 18:40:00"]
    )
    one_time_token: str = Field(
        description=(
            "The link's secret, shown only in this answer: `POST /template/install` takes it "
            "to install with an API key."
        ),
        examples=["q8Xw1c0m7mS2nHk3Vx9Zt4bYp6LrE5aJ0dFgKhN2uQo"],
    )
    url: str = Field(
        description="The dashboard page where a signed-in user picks a bot and installs.",
        examples=["https://bots.example.com/dashboard/templates/install/q8Xw1c0m7mS2nHk3Vx9Z…"],
    )

    @classmethod
    def of(cls, issued: IssuedLink, base_url: str) -> OneTimeLinkOut:
        return cls(
            expired_at=wire_time(issued.link.expires_at) or "",
            one_time_token=issued.token,
            url=f"{base_url}/dashboard/templates/install/{issued.token}",
        )


class InstalledOut(BaseModel):
    template: TemplateOut
    install: TemplateInstallOut
    imported: ImportCounts = Field(description="What the install created and updated.")

    @classmethod
    def of(cls, installed: Installed, workspace_id: int) -> InstalledOut:
        return cls(
            template=TemplateOut.of(installed.template),
            install=TemplateInstallOut.of(installed.install, workspace_id),
            imported=installed.counts,
        )


# Request bodies


class CreateTemplateIn(BaseModel):
    name: str = Field(max_length=255, examples=["Customer survey"])
    description: str = Field(
        default="", max_length=5000, examples=["Asks for a rating after an order."]
    )
    version: Annotated[str | None, BlankIsNone] = Field(
        default=None, max_length=32, description="1.0 when left out.", examples=["1.0"]
    )
    flow_ns: Annotated[str | None, BlankIsNone] = Field(
        default=None,
        max_length=32,
        description="The workspace's bot to make it from; the key's own bot when left out.",
        examples=["f1"],
    )
    image: str = Field(default="", max_length=1024, examples=[""])
    price: int = Field(default=0, ge=0, le=MAX_PRICE, examples=[0])


class InstallIn(BaseModel):
    one_time_token: str = Field(
        max_length=128,
        description="The token of a link made by `generate-one-time-link`.",
        examples=["q8Xw1c0m7mS2nHk3Vx9Zt4bYp6LrE5aJ0dFgKhN2uQo"],
    )
