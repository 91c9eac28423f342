"""What the flow engine queues reaches the subscriber's channel through the outbox: in order for
each subscriber, retried after a server error, dropped after a refusal, and kept as unroutable
when the bot cannot reach the subscriber. The API channel's webhook is a sink on loopback."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from engine_helpers import Bench, bench_fixture, doc, say  # noqa: F401
from sqlalchemy import update

from builders import connect_api_channel
from fake_webhook import FakeWebhook, fake_webhook_fixture, fake_webhook_server_fixture  # noqa: F401
from konversation.channels import api_channel
from konversation.channels import base as out
from konversation.channels.models import BotChannel, ChannelType
from konversation.db import session_scope, utcnow
from konversation.runtime.models import Delivery, DeliveryStatus
from konversation.subscribers.models import Subscriber

HOOK = "/bot-messages"


@pytest.fixture
async def channel(bench: Bench, fake_webhook: FakeWebhook) -> BotChannel:
    """The bot's API channel, posting to the sink; its main flow sends three messages."""
    record = await connect_api_channel(bench.sessions, bench.bot_id, fake_webhook.url + HOOK)
    await bench.main(
        doc(
            say("one", "One, {{first_name}}", next="two"),
            say("two", "Two", next="three"),
            say("three", "Three"),
        )
    )
    return record


def received(webhook: FakeWebhook) -> list[tuple[str, str]]:
    """(user_id, text) of each message the sink received, in order."""
    return [(e["user_id"], e["message"]["text"]) for e in webhook.events()]


async def make_due_now(bench: Bench) -> None:
    """Bring retries forward instead of waiting for their backoff."""
    async with session_scope(bench.sessions) as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.status == DeliveryStatus.PENDING)
            .values(due_at=utcnow() - dt.timedelta(seconds=1))
        )


async def test_messages_reach_the_api_webhook_in_order_and_signed(
    bench: Bench, channel: BotChannel, fake_webhook: FakeWebhook
) -> None:
    sub = await bench.inbound(
        "hi", user="c-1", channel=ChannelType.API, profile=out.Profile(first_name="Ada")
    )
    assert [d.status for d in await bench.deliveries(sub)] == [DeliveryStatus.PENDING] * 3

    await bench.runtime.settle()

    assert received(fake_webhook) == [("c-1", "One, Ada"), ("c-1", "Two"), ("c-1", "Three")]
    first = fake_webhook.received[0]
    assert first.path == HOOK
    assert api_channel.verify(channel.secret, first.headers, first.body, now=utcnow())
    delivered = await bench.deliveries(sub)
    assert [(d.status, d.attempts, d.channel, d.recipient) for d in delivered] == [
        (DeliveryStatus.SENT, 1, ChannelType.API, "c-1")
    ] * 3
    assert [d.external_id for d in delivered] == [e["id"] for e in fake_webhook.events()]


async def test_a_failed_request_is_retried_later_as_a_whole_in_order(
    bench: Bench, channel: BotChannel, fake_webhook: FakeWebhook
) -> None:
    fake_webhook.answer_next(500)
    before = utcnow()
    sub = await bench.inbound("hi", user="c-1", channel=ChannelType.API)

    await bench.runtime.settle()

    assert len(fake_webhook.received) == 1
    waiting = await bench.deliveries(sub)
    assert [(d.status, d.attempts) for d in waiting] == [(DeliveryStatus.PENDING, 1)] * 3
    assert waiting[0].error == "The webhook refused the message: 500 Internal Server Error"
    assert all(d.due_at > before for d in waiting)

    await make_due_now(bench)
    await bench.runtime.settle()

    first, retried = (r.json["events"] for r in fake_webhook.received)
    assert [e["message"]["text"] for e in retried] == ["One, ", "Two", "Three"]
    assert [e["id"] for e in retried] == [e["id"] for e in first]  # a receiver tells repeats
    assert [(d.status, d.attempts) for d in await bench.deliveries(sub)] == [
        (DeliveryStatus.SENT, 2)
    ] * 3


async def test_retry_after_sets_when_the_message_is_tried_again(
    bench: Bench, channel: BotChannel, fake_webhook: FakeWebhook
) -> None:
    fake_webhook.answer_next(503, headers={"Retry-After": "120"})
    sub = await bench.inbound("hi", user="c-1", channel=ChannelType.API)

    await bench.runtime.settle()

    head = (await bench.deliveries(sub))[0]
    wait = head.due_at - utcnow()
    assert dt.timedelta(seconds=100) < wait <= dt.timedelta(seconds=120)


async def test_many_subscribers_share_a_request_each_in_their_order(
    bench: Bench, channel: BotChannel, fake_webhook: FakeWebhook
) -> None:
    ann = await bench.inbound("hi", user="ann", channel=ChannelType.API)
    bob = await bench.inbound("hi", user="bob", channel=ChannelType.API)

    await bench.runtime.settle()

    [request] = fake_webhook.received
    events = [(e["user_id"], e["message"]["text"]) for e in request.json["events"]]
    assert [text for user, text in events if user == "ann"] == ["One, ", "Two", "Three"]
    assert [text for user, text in events if user == "bob"] == ["One, ", "Two", "Three"]
    for sub in (ann, bob):
        assert [d.status for d in await bench.deliveries(sub)] == [DeliveryStatus.SENT] * 3


async def test_a_refused_request_fails_its_messages_for_good(
    bench: Bench, channel: BotChannel, fake_webhook: FakeWebhook
) -> None:
    fake_webhook.answer_next(410)
    sub = await bench.inbound("hi", user="c-1", channel=ChannelType.API)

    await bench.runtime.settle()
    await make_due_now(bench)
    await bench.runtime.settle()

    assert len(fake_webhook.received) == 1
    delivered = await bench.deliveries(sub)
    assert [(d.status, d.attempts) for d in delivered] == [(DeliveryStatus.FAILED, 1)] * 3
    assert delivered[0].error == "The webhook refused the message: 410 Gone"


async def test_a_subscriber_the_bot_cannot_reach_is_unroutable_but_logged(bench: Bench) -> None:
    await bench.main(doc(say("s", "Hello there")))

    # The bot has no Telegram channel (nor an API channel to fall back on).
    sub = await bench.inbound("hi", user="tg-1", channel=ChannelType.TELEGRAM)
    await bench.runtime.settle()

    [delivery] = await bench.deliveries(sub)
    assert (delivery.status, delivery.channel, delivery.attempts) == (
        DeliveryStatus.UNROUTABLE,
        None,
        0,
    )
    assert await bench.log(sub) == [("in", "hi"), ("out", "Hello there")]


async def test_a_channel_switched_off_before_delivery_makes_its_messages_unroutable(
    bench: Bench, channel: BotChannel, fake_webhook: FakeWebhook
) -> None:
    sub = await bench.inbound("hi", user="c-1", channel=ChannelType.API)
    async with session_scope(bench.sessions) as session:
        await session.execute(
            update(BotChannel).where(BotChannel.id == channel.id).values(enabled=False)
        )

    await bench.runtime.settle()

    assert fake_webhook.received == []
    assert {(d.status, d.error) for d in await bench.deliveries(sub)} == {
        (DeliveryStatus.UNROUTABLE, "The channel is not set up")
    }


async def test_engine_send_queues_plain_messages_in_order(
    bench: Bench, channel: BotChannel, fake_webhook: FakeWebhook
) -> None:
    sub = await bench.inbound("hi", user="c-1", channel=ChannelType.API)
    await bench.runtime.settle()
    fake_webhook.reset()
    messages: list[Any] = [
        out.Text("Plain", quick_replies=(out.QuickReply("Ok", "ok"),)),
        out.Media("image", "https://cdn.example.com/a.png", "A picture"),
    ]

    async with session_scope(bench.sessions) as session:
        found = await session.get_one(Subscriber, sub)
        await bench.runtime.engine.send(session, found, messages, origin="api")
        await bench.runtime.engine.send(session, found, messages[:1], origin="api")
    await bench.runtime.settle()

    assert [e["message"]["type"] for e in fake_webhook.events()] == ["text", "image", "text"]
    assert fake_webhook.events()[0]["message"]["quick_replies"] == [
        {"title": "Ok", "payload": "ok"}
    ]
    keys = [d.key for d in await bench.deliveries(sub)][3:]
    assert len(set(keys)) == 3
