"""The demo bot a first start creates answers in the web chat, as the README promises."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from konversation.channels.base import InboundMessage
from konversation.channels.models import ChannelType
from konversation.commerce.models import Order, OrderStatus
from konversation.commerce.orders import change_status
from konversation.db import session_scope
from konversation.demo import create_demo
from konversation.flows.models import Tag
from konversation.jobs.runtime import Runtime
from konversation.runtime.models import Delivery
from konversation.subscribers.models import Subscriber, SubscriberTag

_ids = itertools.count(1)


@pytest.fixture
async def demo_bot(sessions: async_sessionmaker[AsyncSession], server_secret: bytes) -> int:
    async with session_scope(sessions) as session:
        return (await create_demo(session, server_secret=server_secret)).bot_id


async def say(runtime: Runtime, bot_id: int, text: str, payload: str | None = None) -> None:
    event = InboundMessage(
        user_id="visitor-1",
        message_id=f"m{next(_ids)}",
        sent_at=dt.datetime.now(dt.UTC),
        text=text,
        payload=payload,
    )
    async with session_scope(runtime.sessions) as session:
        await runtime.engine.receive(session, bot_id, ChannelType.WEB, event)
    await runtime.settle()


async def sent(runtime: Runtime) -> list[dict[str, Any]]:
    async with session_scope(runtime.sessions) as session:
        rows = await session.scalars(select(Delivery).order_by(Delivery.id))
        return [row.body for row in rows]


async def test_hi_gets_the_greeting_with_its_four_choices(app: Any, demo_bot: int) -> None:
    await say(app.state.runtime, demo_bot, "hi")

    [greeting] = await sent(app.state.runtime)
    assert greeting["text"] == "Hi there! Welcome to the demo bot."
    titles = [reply["title"] for reply in greeting["quick_replies"]]
    assert titles == ["Get started", "Opening hours", "Ask me something", "Shop"]


async def test_the_question_keeps_the_answer_and_tags_a_lead(app: Any, demo_bot: int) -> None:
    runtime = app.state.runtime
    await say(runtime, demo_bot, "hi")
    [greeting] = await sent(runtime)
    ask = greeting["quick_replies"][2]

    await say(runtime, demo_bot, ask["title"], ask["payload"])
    await say(runtime, demo_bot, "Teal")

    texts = [body["text"] for body in await sent(runtime)]
    assert texts[1:] == ["What is your favourite colour?", "Teal is a fine colour!"]
    async with session_scope(runtime.sessions) as session:
        tagged = await session.scalars(
            select(Tag.name).join(SubscriberTag, SubscriberTag.tag_id == Tag.id)
        )
        assert list(tagged) == ["Lead"]


async def test_the_hours_keyword_starts_the_opening_hours_flow(app: Any, demo_bot: int) -> None:
    await say(app.state.runtime, demo_bot, "  Opening   HOURS ")

    [answer] = await sent(app.state.runtime)
    assert answer["text"] == "We are open Monday to Friday, 9:00 to 17:00."


async def test_a_quick_reply_typed_by_its_title_is_followed(app: Any, demo_bot: int) -> None:
    runtime = app.state.runtime
    await say(runtime, demo_bot, "hello")
    await say(runtime, demo_bot, "Get started")

    texts = [body["text"] for body in await sent(runtime)]
    assert texts[1:] == ["Glad to have you here.", "Ask me anything, any time."]


async def test_a_visitor_goes_from_the_gallery_to_a_placed_order_and_hears_it_ship(
    app: Any, demo_bot: int, sessions: async_sessionmaker[AsyncSession]
) -> None:
    runtime = app.state.runtime
    await say(runtime, demo_bot, "shop")
    intro, gallery = await sent(runtime)
    assert intro["text"] == "Here is what we sell:"
    cards = {card["title"]: card for card in gallery["cards"]}
    assert list(cards) == ["Coffee mug (Blue)", "Coffee mug (White)", "Sticker pack"]
    assert cards["Sticker pack"]["subtitle"] == "3.50 USD"
    [add] = cards["Sticker pack"]["buttons"]

    await say(runtime, demo_bot, add["title"], add["payload"])
    cart = (await sent(runtime))[-1]
    assert cart["text"] == "1 × Sticker pack: 3.50\nTotal: 3.50 USD"
    checkout = cart["quick_replies"][0]
    await say(runtime, demo_bot, checkout["title"], checkout["payload"])

    thanks = (await sent(runtime))[-1]["text"]
    assert thanks == "Thank you! Order #1 (3.50 USD) is placed: pay when you collect it."
    async with session_scope(runtime.sessions) as session:
        order = await session.get_one(Order, 1)
        assert (order.status, order.total_minor, order.payment_method) == ("ordered", 350, "cash")
        tagged = await session.scalars(
            select(Tag.name).join(SubscriberTag, SubscriberTag.tag_id == Tag.id)
        )
        assert list(tagged) == ["Customer"]
        subscriber = await session.get_one(Subscriber, order.subscriber_id)
        await change_status(
            session,
            demo_bot,
            user_ns=f"f{demo_bot}u{subscriber.number}",
            order_id=order.id,
            status=OrderStatus.SHIPPED,
        )
    await runtime.settle()

    assert (await sent(runtime))[-1]["text"] == "Good news: order #1 is on its way!"
