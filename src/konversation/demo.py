"""The demo workspace a first start creates, so a newcomer has something to call at once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.flows import service as flows
from konversation.flows.document import FORMAT_VERSION
from konversation.flows.models import FieldScope, FlowKind, VarType
from konversation.ids import Kind, format_ns
from konversation.keys import service as keys
from konversation.keys.models import Permission
from konversation.workspaces import service as workspaces
from konversation.workspaces.models import User

OWNER_EMAIL = "owner@example.com"


@dataclass(frozen=True)
class DemoSecrets:
    """What is printed once on the first start and never stored in the clear."""

    email: str
    password: str
    api_key: str
    bot_id: int


def _message_flow(*texts: str) -> dict[str, Any]:
    """A flow that sends each text in turn, its nodes laid out in a column for the builder."""
    nodes = [
        {
            "id": f"n{i}",
            "type": "send_message",
            "position": {"x": 0, "y": 160 * (i - 1)},
            "messages": [{"type": "text", "text": text}],
            "next": f"n{i + 1}" if i < len(texts) else None,
        }
        for i, text in enumerate(texts, start=1)
    ]
    return {"version": FORMAT_VERSION, "start": "n1" if nodes else None, "nodes": nodes}


def _main_flow(*, welcome_ns: str, hours_ns: str) -> dict[str, Any]:
    """Greets, and offers a quick reply for each sub flow."""
    return {
        "version": FORMAT_VERSION,
        "start": "greeting",
        "nodes": [
            {
                "id": "greeting",
                "type": "send_message",
                "name": "Greeting",
                "position": {"x": 0, "y": 0},
                "messages": [
                    {"type": "text", "text": "Hi {{first_name|there}}! Welcome to the demo bot."}
                ],
                "quick_replies": [
                    {"id": "welcome", "title": "Get started", "next": "start-welcome"},
                    {"id": "hours", "title": "Opening hours", "next": "start-hours"},
                ],
            },
            {
                "id": "start-welcome",
                "type": "start_flow",
                "position": {"x": -160, "y": 200},
                "sub_flow_ns": welcome_ns,
            },
            {
                "id": "start-hours",
                "type": "start_flow",
                "position": {"x": 160, "y": 200},
                "sub_flow_ns": hours_ns,
            },
        ],
    }


async def is_empty(session: AsyncSession) -> bool:
    return await session.scalar(select(User.id).limit(1)) is None


async def create_demo(session: AsyncSession, *, server_secret: bytes) -> DemoSecrets:
    password = secrets.token_urlsafe(12)
    owner = await workspaces.create_user(
        session, name="Demo Owner", email=OWNER_EMAIL, password=password
    )
    workspace = await workspaces.create_workspace(session, name="Demo workspace", owner=owner)
    bot = await workspaces.create_bot(session, workspace.id, name="Demo bot", channel="web")
    welcome = await flows.create_flow(
        session,
        bot.id,
        name="Welcome",
        definition=_message_flow("Glad to have you here.", "Ask me anything, any time."),
    )
    hours = await flows.create_flow(
        session,
        bot.id,
        name="Opening hours",
        definition=_message_flow("We are open {{bot.opening_hours}}."),
    )
    await flows.create_flow(
        session,
        bot.id,
        name="Main flow",
        kind=FlowKind.MAIN,
        definition=_main_flow(
            welcome_ns=format_ns(bot.id, Kind.SUB_FLOW, welcome.number),
            hours_ns=format_ns(bot.id, Kind.SUB_FLOW, hours.number),
        ),
    )
    for tag in ("VIP", "Lead", "Customer"):
        await flows.create_tag(session, bot.id, name=tag)
    for name, var_type in (
        ("Favourite colour", VarType.TEXT),
        ("Age", VarType.NUMBER),
        ("Newsletter", VarType.BOOLEAN),
    ):
        await flows.create_field(
            session, bot.id, scope=FieldScope.USER, name=name, var_type=var_type
        )
    for name, var_type, value in (
        ("opening_hours", VarType.TEXT, "Monday to Friday, 9:00 to 17:00"),
        ("support_phone", VarType.TEXT, "+15550100"),
        ("discount_percent", VarType.NUMBER, 10),
    ):
        await flows.create_field(
            session, bot.id, scope=FieldScope.BOT, name=name, var_type=var_type, value=value
        )
    issued = await keys.create_key(
        session,
        workspace.id,
        name="Demo key",
        bot_id=bot.id,
        permissions=[p.value for p in Permission],
        server_secret=server_secret,
        created_by=owner.id,
    )
    return DemoSecrets(email=owner.email, password=password, api_key=issued.token, bot_id=bot.id)
