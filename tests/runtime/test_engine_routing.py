"""How the flow engine answers an inbound message: a new channel user becomes a subscriber,
keyword triggers (exact, contains, starts_with; exact wins), the default start flows, the same
message delivered twice, and subscribers the bot must not answer."""

from __future__ import annotations

import datetime as dt

from engine_helpers import Bench, bench_fixture, doc, say  # noqa: F401
from sqlalchemy import select

from konversation.channels.base import Profile
from konversation.channels.models import ChannelType
from konversation.db import session_scope, utcnow
from konversation.flows import index
from konversation.flows import service as flows
from konversation.subscribers.models import SubscriberChannel


def triggered(name: str, *keywords: str, match: str = "exact") -> dict[str, object]:
    return doc(say("say", name), triggers=[{"keywords": list(keywords), "match": match}])


async def test_a_new_channel_user_becomes_a_subscriber_with_their_profile(bench: Bench) -> None:
    profile = Profile(first_name="Ada", last_name="Lovelace", username="ada", language="en")

    sub = await bench.inbound("hello", user="tg-42", channel=ChannelType.TELEGRAM, profile=profile)

    found = await bench.subscriber(sub)
    assert (found.first_name, found.last_name, found.name, found.language) == (
        "Ada",
        "Lovelace",
        "Ada Lovelace",
        "en",
    )
    assert (found.user_id, found.last_channel, found.is_subscribed) == (
        "tg-42",
        ChannelType.TELEGRAM,
        True,
    )
    async with session_scope(bench.sessions) as session:
        channels = (
            await session.execute(
                select(SubscriberChannel.type, SubscriberChannel.user_id).where(
                    SubscriberChannel.subscriber_id == sub
                )
            )
        ).all()
    assert [tuple(c) for c in channels] == [(ChannelType.TELEGRAM, "tg-42")]
    assert await bench.log(sub) == [("in", "hello")]


async def test_a_known_user_is_the_same_subscriber_and_keeps_the_names_it_has(
    bench: Bench,
) -> None:
    first = await bench.inbound("hello", user="u1", profile=Profile(last_name="Lovelace"))
    again = await bench.inbound(
        "again", user="u1", profile=Profile(first_name="Ada", last_name="King")
    )
    other_channel = await bench.inbound("hi", user="u1", channel=ChannelType.TELEGRAM)

    assert again == first
    assert other_channel != first
    found = await bench.subscriber(first)
    assert (found.first_name, found.last_name) == ("Ada", "Lovelace")


async def test_keyword_triggers_match_exactly_by_contents_or_by_start(bench: Bench) -> None:
    await bench.flow(triggered("Exact price", "price", "prices"), name="Prices")
    await bench.flow(triggered("Mentions price", "price", match="contains"), name="Pricing")
    await bench.flow(triggered("Mentions price list", "price list", match="contains"), name="List")
    await bench.flow(triggered("Asks for help", "help", match="starts_with"), name="Help")
    await bench.main(doc(say("main", "Main flow")))
    said = [
        "PRICE",
        "  Prices ",
        "what is the price?",
        "send the price list please",
        "Help me",
        "I need help",
    ]

    for position, text in enumerate(said):
        await bench.inbound(text, user=f"u{position}")

    assert await bench.texts() == [
        "Exact price",
        "Exact price",
        "Mentions price",
        "Mentions price list",
        "Asks for help",
        "Main flow",
    ]


async def test_a_flows_triggers_follow_its_document(bench: Bench) -> None:
    sale = await bench.flow(triggered("Sale!", "sale"), name="Sale")
    await bench.main(doc(say("main", "Main flow")))
    await bench.inbound("sale", user="a")
    await bench.save(sale, triggered("Sale!", "discount"))

    await bench.inbound("sale", user="b")
    await bench.inbound("Discount", user="c")

    assert await bench.texts() == ["Sale!", "Main flow", "Sale!"]


async def test_the_bots_start_flow_and_the_web_chat_start_flow_greet_new_conversations(
    bench: Bench,
) -> None:
    await bench.main(doc(say("main", "Main flow")))
    welcome = await bench.flow(doc(say("w", "Welcome")), name="Welcome")
    web = await bench.flow(doc(say("w", "Welcome to our site")), name="Web welcome")

    await bench.inbound("hi", user="a", channel=ChannelType.TELEGRAM)
    async with session_scope(bench.sessions) as session:
        await flows.set_default_start_flow(session, bench.bot_id, sub_flow_ns=welcome)
    await bench.inbound("hi", user="b", channel=ChannelType.TELEGRAM)
    await bench.inbound("hi", user="c", channel=ChannelType.WEB)
    async with session_scope(bench.sessions) as session:
        await flows.set_default_start_flow(session, bench.bot_id, sub_flow_ns=web, web_chat=True)
    await bench.inbound("hi", user="d", channel=ChannelType.WEB)
    await bench.inbound("hi", user="e", channel=ChannelType.TELEGRAM)

    assert await bench.texts() == [
        "Main flow",
        "Welcome",
        "Welcome",
        "Welcome to our site",
        "Welcome",
    ]


async def test_an_empty_main_flow_answers_nothing(bench: Bench) -> None:
    sub = await bench.inbound("hi")

    assert await bench.texts(sub) == []
    assert await bench.runs(sub) == []


async def test_the_same_channel_message_delivered_twice_is_handled_once(bench: Bench) -> None:
    await bench.main(doc(say("main", "Main flow")))

    sub = await bench.inbound("hi", message_id="tg-1")
    again = await bench.inbound("hi", message_id="tg-1")
    other = await bench.inbound("hi", message_id="tg-1", channel=ChannelType.TELEGRAM)

    assert again == sub
    assert await bench.log(sub) == [("in", "hi"), ("out", "Main flow")]
    assert await bench.texts(other) == ["Main flow"]


async def test_an_unsubscribed_or_paused_subscriber_gets_no_automated_answer(
    bench: Bench,
) -> None:
    await bench.main(doc(say("main", "Main flow", quick_replies=[{"id": "q", "title": "Q"}])))
    await bench.flow(triggered("Triggered", "offer"))
    gone = await bench.inbound("hi", user="gone")
    paused = await bench.inbound("hi", user="paused")
    payload = (await bench.last_body(gone))["quick_replies"][0]["payload"]
    await bench.update_subscriber(gone, is_subscribed=False)
    await bench.update_subscriber(paused, paused_until=utcnow() + dt.timedelta(hours=1))

    for user in ("gone", "paused"):
        await bench.inbound("hi", user=user)
        await bench.inbound("offer", user=user)
        await bench.inbound("Q", user=user, payload=payload)

    for sub in (gone, paused):
        assert await bench.texts(sub) == ["Main flow"]
        assert [d for d, _ in await bench.log(sub)] == ["in", "out", "in", "in", "in"]


async def test_a_typed_keyword_leaves_an_offered_choice_for_its_flow(bench: Bench) -> None:
    await bench.main(doc(say("main", "Pick", quick_replies=[{"id": "q", "title": "Q"}])))
    await bench.flow(triggered("Triggered", "offer"))
    sub = await bench.inbound("hi")

    await bench.inbound("offer")

    assert await bench.texts(sub) == ["Pick", "Triggered"]


async def test_a_payload_the_bot_never_offered_leads_nowhere(bench: Bench) -> None:
    main = await bench.main(doc(say("a", "A", next="b"), say("b", "B")))
    async with session_scope(bench.sessions) as session:
        numbers = await index.node_numbers(session, main)

    # Made up rather than pressed: answered like any message, from the main flow's start.
    sub = await bench.inbound(payload=f"kv:{numbers['b']}")

    assert await bench.texts(sub) == ["A", "B"]
