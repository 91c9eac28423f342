"""The demo workspace a first start creates, so a newcomer has something to call at once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.audit.service import Actor
from konversation.channels.service import web_channel
from konversation.commerce.catalog import NewProduct, VariantFields, create_product, load_shop
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


# How far apart the builder draws a node and the one it leads to (a node is 240 wide).
COLUMN = 340


def _message_flow(*texts: str, keywords: tuple[str, ...] = ()) -> dict[str, Any]:
    """A flow that sends each text in turn, its nodes laid out in a row for the builder (whose
    edges run from a node's right side to the next one's left)."""
    nodes = [
        {
            "id": f"n{i}",
            "type": "send_message",
            "position": {"x": COLUMN * (i - 1), "y": 0},
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


def _main_flow(
    *, welcome_ns: str, hours_ns: str, shop_ns: str, colour_ns: str, lead_ns: str
) -> dict[str, Any]:
    """Greets, and offers a quick reply for each sub flow and a question."""
    return {
        "version": FORMAT_VERSION,
        "start": "greeting",
        "nodes": [
            {
                "id": "greeting",
                "type": "send_message",
                "name": "Greeting",
                "position": {"x": 0, "y": 160},
                "messages": [
                    {"type": "text", "text": "Hi {{first_name|there}}! Welcome to the demo bot."}
                ],
                "quick_replies": [
                    {"id": "welcome", "title": "Get started", "next": "start-welcome"},
                    {"id": "hours", "title": "Opening hours", "next": "start-hours"},
                    {"id": "colour", "title": "Ask me something", "next": "ask-colour"},
                    {"id": "shop", "title": "Shop", "next": "start-shop"},
                ],
            },
            {
                "id": "start-shop",
                "type": "start_flow",
                "position": {"x": COLUMN, "y": 420},
                "sub_flow_ns": shop_ns,
            },
            {
                "id": "start-welcome",
                "type": "start_flow",
                "position": {"x": COLUMN, "y": 0},
                "sub_flow_ns": welcome_ns,
            },
            {
                "id": "start-hours",
                "type": "start_flow",
                "position": {"x": COLUMN, "y": 110},
                "sub_flow_ns": hours_ns,
            },
            {
                "id": "ask-colour",
                "type": "user_input",
                "name": "Favourite colour",
                "position": {"x": COLUMN, "y": 220},
                "question": "What is your favourite colour?",
                "var_ns": colour_ns,
                "retries": 1,
                "next": "thanks",
            },
            {
                "id": "thanks",
                "type": "action",
                "position": {"x": 2 * COLUMN, "y": 220},
                "actions": [{"type": "add_tag", "tag_ns": lead_ns}],
                "next": "colour-reply",
            },
            {
                "id": "colour-reply",
                "type": "send_message",
                "position": {"x": 3 * COLUMN, "y": 220},
                "messages": [{"type": "text", "text": "{{favourite_colour}} is a fine colour!"}],
            },
        ],
    }


def _shop_flow(*, customer_ns: str) -> dict[str, Any]:
    """From a gallery to a placed order: pick, see the cart, check out, pay on collection."""
    return {
        "version": FORMAT_VERSION,
        "start": "intro",
        "triggers": [{"keywords": ["shop", "buy"], "match": "exact"}],
        "nodes": [
            {
                "id": "intro",
                "type": "send_message",
                "position": {"x": 0, "y": 0},
                "messages": [{"type": "text", "text": "Here is what we sell:"}],
                "next": "gallery",
            },
            {
                "id": "gallery",
                "type": "products",
                "position": {"x": COLUMN, "y": 0},
                "added": "cart",
                "empty": "sold-out",
            },
            {
                "id": "sold-out",
                "type": "send_message",
                "position": {"x": 2 * COLUMN, "y": 180},
                "messages": [{"type": "text", "text": "Nothing for sale today, sorry."}],
            },
            {
                "id": "cart",
                "type": "cart",
                "position": {"x": 2 * COLUMN, "y": 0},
                "checkout": "checkout",
                "more": "gallery",
            },
            {
                "id": "checkout",
                "type": "checkout",
                "position": {"x": 3 * COLUMN, "y": 0},
                "payment_method": "cash",
                "shipping_method": "pickup",
                "next": "placed",
                "failed": "not-placed",
            },
            {
                "id": "placed",
                "type": "action",
                "position": {"x": 4 * COLUMN, "y": 0},
                "actions": [{"type": "add_tag", "tag_ns": customer_ns}],
                "next": "thanks",
            },
            {
                "id": "thanks",
                "type": "send_message",
                "position": {"x": 5 * COLUMN, "y": 0},
                "messages": [
                    {
                        "type": "text",
                        "text": "Thank you! Order #{{order_id}} ({{order_total}}) is placed: "
                        "pay when you collect it.",
                    }
                ],
            },
            {
                "id": "not-placed",
                "type": "send_message",
                "position": {"x": 4 * COLUMN, "y": 180},
                "messages": [{"type": "text", "text": "That did not work: {{checkout_error}}"}],
            },
        ],
    }


def _shipped_flow() -> dict[str, Any]:
    """Tells the subscriber when their order ships."""
    document = _message_flow("Good news: order #{{order_id}} is on its way!")
    document["triggers"] = [{"order_status": ["shipped"]}]
    return document


DEMO_PRODUCTS = (
    NewProduct(
        name="Coffee mug",
        description="A sturdy mug for the morning.",
        image="https://example.com/mug.png",
        use_variant=True,
        variant_1_name="Colour",
        variants=[
            VariantFields(variant_1_value="Blue", price=Decimal("12.00"), qty=20, track_stock=True),
            VariantFields(
                variant_1_value="White", price=Decimal("12.00"), qty=20, track_stock=True
            ),
        ],
    ),
    NewProduct(
        name="Sticker pack",
        description="Ten stickers of the demo bot.",
        image="https://example.com/stickers.png",
        default=VariantFields(price=Decimal("3.50"), qty=100, track_stock=True),
    ),
)


async def _open_shop(session: AsyncSession, workspace_id: int) -> None:
    shop = await load_shop(session, workspace_id)
    for product in DEMO_PRODUCTS:
        await create_product(session, shop, product)


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
    await _open_shop(session, workspace.id)
    shop = await flows.create_flow(
        session,
        bot.id,
        name="Shop",
        definition=_shop_flow(customer_ns=format_ns(bot.id, Kind.TAG, tags["Customer"].number)),
    )
    await flows.create_flow(session, bot.id, name="Order shipped", definition=_shipped_flow())
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
            shop_ns=format_ns(bot.id, Kind.SUB_FLOW, shop.number),
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
        by=Actor.system("the first start"),
        created_by=owner.id,
    )
    return DemoSecrets(
        email=owner.email,
        password=password,
        api_key=issued.token,
        bot_id=bot.id,
        web_chat_uid=web.uid,
    )
