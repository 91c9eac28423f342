"""The demo workspace a first start creates, so a newcomer has something to call at once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.flows import service as flows
from konversation.flows.models import FieldScope, FlowKind, VarType
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
    nodes = [
        {"id": f"n{i}", "type": "send_message", "messages": [{"type": "text", "text": text}]}
        for i, text in enumerate(texts, start=1)
    ]
    return {"version": 1, "start": "n1" if nodes else None, "nodes": nodes}


async def is_empty(session: AsyncSession) -> bool:
    return await session.scalar(select(User.id).limit(1)) is None


async def create_demo(session: AsyncSession, *, server_secret: bytes) -> DemoSecrets:
    password = secrets.token_urlsafe(12)
    owner = await workspaces.create_user(
        session, name="Demo Owner", email=OWNER_EMAIL, password=password
    )
    workspace = await workspaces.create_workspace(session, name="Demo workspace", owner=owner)
    bot = await workspaces.create_bot(session, workspace.id, name="Demo bot", channel="web")
    await flows.create_flow(
        session,
        bot.id,
        name="Main flow",
        kind=FlowKind.MAIN,
        definition=_message_flow("Hi {{first_name}}! Welcome to the demo bot."),
    )
    await flows.create_flow(
        session, bot.id, name="Welcome", definition=_message_flow("Glad to have you here.")
    )
    await flows.create_flow(
        session,
        bot.id,
        name="Opening hours",
        definition=_message_flow("We are open {{opening_hours}}."),
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
