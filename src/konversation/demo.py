"""The demo workspace a first start creates, so a newcomer has something to call at once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.channels.service import web_channel
from konversation.flows import service as flows
from konversation.flows.document import FORMAT_VERSION
from konversation.flows.models import FieldScope, FlowKind, VarType
from konversation.ids import Kind, format_ns
from konversation.keys import service as keys
from konversation.keys.models import Permission
from konversation.workspaces import service as workspaces
from konversation.workspaces.models import User

OWNER_EMAIL = "owner@example.com"
DEMO_TAGS = ("VIP", "Lead", "Customer")


@dataclass(frozen=True)
class DemoSecrets:
    """What is printed once on the first start and never stored in the clear."""

    email: str
    password: str
    api_key: str
    bot_id: int
    web_chat_uid: str


def _message_flow(*texts: str, keywords: tuple[str, ...] = ()) -> dict[str, Any]:
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
    document: dict[str, Any] = {
        "version": FORMAT_VERSION,
        "start": "n1" if nodes else None,
        "nodes": nodes,
    }
    if keywords:
        document["triggers"] = [{"keywords": list(keywords), "match": "exact"}]
    return document


def _main_flow(*, welcome_ns: str, hours_ns: str, colour_ns: str, lead_ns: str) -> dict[str, Any]:
    """Greets, and offers a quick reply for each sub flow and a question."""
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
                    {"id": "colour", "title": "Ask me something", "next": "ask-colour"},
                ],
            },
            {
                "id": "start-welcome",
                "type": "start_flow",
                "position": {"x": -240, "y": 200},
                "sub_flow_ns": welcome_ns,
            },
            {
                "id": "start-hours",
                "type": "start_flow",
                "position": {"x": 0, "y": 200},
                "sub_flow_ns": hours_ns,
            },
            {
                "id": "ask-colour",
                "type": "user_input",
                "name": "Favourite colour",
                "position": {"x": 240, "y": 200},
                "question": "What is your favourite colour?",
                "var_ns": colour_ns,
                "retries": 1,
                "next": "thanks",
            },
            {
                "id": "thanks",
                "type": "action",
                "position": {"x": 240, "y": 360},
                "actions": [{"type": "add_tag", "tag_ns": lead_ns}],
                "next": "colour-reply",
            },
            {
                "id": "colour-reply",
                "type": "send_message",
                "position": {"x": 240, "y": 520},
                "messages": [{"type": "text", "text": "{{favourite_colour}} is a fine colour!"}],
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
    tags = {name: await flows.create_tag(session, bot.id, name=name) for name in DEMO_TAGS}
    user_fields = {
        name: await flows.create_field(
            session, bot.id, scope=FieldScope.USER, name=name, var_type=var_type
        )
        for name, var_type in (
            ("Favourite colour", VarType.TEXT),
            ("Age", VarType.NUMBER),
            ("Newsletter", VarType.BOOLEAN),
        )
    }
    for name, var_type, value in (
        ("opening_hours", VarType.TEXT, "Monday to Friday, 9:00 to 17:00"),
        ("support_phone", VarType.TEXT, "+15550100"),
        ("discount_percent", VarType.NUMBER, 10),
    ):
        await flows.create_field(
            session, bot.id, scope=FieldScope.BOT, name=name, var_type=var_type, value=value
        )
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
        definition=_message_flow(
            "We are open {{bot.opening_hours}}.", keywords=("hours", "opening hours")
        ),
    )
    await flows.create_flow(
        session,
        bot.id,
        name="Main flow",
        kind=FlowKind.MAIN,
        definition=_main_flow(
            welcome_ns=format_ns(bot.id, Kind.SUB_FLOW, welcome.number),
            hours_ns=format_ns(bot.id, Kind.SUB_FLOW, hours.number),
            colour_ns=format_ns(bot.id, Kind.FIELD, user_fields["Favourite colour"].number),
            lead_ns=format_ns(bot.id, Kind.TAG, tags["Lead"].number),
        ),
    )
    web = await web_channel(session, bot.id)
    issued = await keys.create_key(
        session,
        workspace.id,
        name="Demo key",
        bot_id=bot.id,
        permissions=[p.value for p in Permission],
        server_secret=server_secret,
        created_by=owner.id,
    )
    return DemoSecrets(
        email=owner.email,
        password=password,
        api_key=issued.token,
        bot_id=bot.id,
        web_chat_uid=web.uid,
    )
