"""The Connect API's shapes for workspaces, their members and their bots."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query
from pydantic import BaseModel, Field

from konversation.ids import bot_ns
from konversation.wire.params import BlankIsNone
from konversation.workspaces.models import Bot
from konversation.workspaces.service import Member, TeamInfo
from konversation.workspaces.summaries import Range

RoleFilter = Annotated[
    Literal["owner", "admin", "member", "agent"] | None,
    BlankIsNone,
    Query(description="Only members with this role."),
]


class AgentOut(BaseModel):
    id: int
    name: str
    email: str
    image: str | None
    is_online: bool
    role: Literal["owner", "admin", "member", "agent"]

    @classmethod
    def of(cls, member: Member) -> AgentOut:
        user = member.user
        return cls(
            id=user.id,
            name=user.name,
            email=user.email,
            image=user.image,
            is_online=user.is_online,
            role=member.role,
        )


class TeamInfoOut(BaseModel):
    id: int
    name: str
    image: str | None
    owner_id: int | None
    owner_email: str | None

    @classmethod
    def of(cls, info: TeamInfo) -> TeamInfoOut:
        return cls(
            id=info.workspace.id,
            name=info.workspace.name,
            image=info.workspace.image,
            owner_id=info.owner.id if info.owner else None,
            owner_email=info.owner.email if info.owner else None,
        )


class FlowOut(BaseModel):
    """A bot, which the original API calls a flow."""

    name: str = Field(examples=["Support bot"])
    flow_ns: str = Field(examples=["f1"])
    type: str = Field(description="The bot's main channel.", examples=["web"])
    linked_label: str | None = Field(
        description="The channel account the bot speaks through: a phone number or page id."
    )

    @classmethod
    def of(cls, bot: Bot) -> FlowOut:
        return cls(
            name=bot.name, flow_ns=bot_ns(bot.id), type=bot.channel, linked_label=bot.linked_label
        )


RangeParam = Annotated[
    Range | None,
    BlankIsNone,
    Query(description="Which days to cover, `yesterday` when unset; every range ends yesterday."),
]
