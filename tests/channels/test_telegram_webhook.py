"""A bot connected to Telegram (a fake Bot API on 127.0.0.1): its webhook is set, and the updates
Telegram posts to it are answered through the real app, runtime and outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy
from channels_support import FOLLOW_UP, GREETING_FLOW
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from builders import Sessions, Tenant, app_with, make_start_flow
from fake_telegram import (  # noqa: F401
    FakeTelegram,
    callback_update,
    fake_telegram_fixture,
    fake_telegram_server_fixture,
    text_update,
)
from konversation.channels import base as out
from konversation.channels import setup
from konversation.channels.models import BotChannel, ChannelType
from konversation.channels.telegram import SECRET_HEADER
from konversation.conversations.models import Direction, Message
from konversation.db import session_scope, utcnow
from konversation.errors import Invalid
from konversation.runtime.models import Delivery, DeliveryStatus
from konversation.settings import Settings
from konversation.subscribers.models import Subscriber, SubscriberChannel

PUBLIC_URL = "https://bots.example.com"
TOKEN = "123456789:AAH-test-token_of-the-bot"
OTHER_TOKEN = "555000111:BBQ-another-token_of-a-bot"
ADA = 4242
GREETING = "Hi Ada! Shall we?"


@pytest.fixture
async def app(settings: Settings, fake_telegram: FakeTelegram) -> AsyncIterator[FastAPI]:
    """The real app, calling the fake Bot API and known by a public HTTPS URL."""
    async with app_with(
        settings, telegram_api_base=fake_telegram.url, public_url=PUBLIC_URL
    ) as app:
        yield app


@pytest.fixture
def telegram(http: httpx.AsyncClient, fake_telegram: FakeTelegram) -> setup.TelegramApi:
    return setup.TelegramApi(http, fake_telegram.url)


@pytest.fixture
async def channel(
    sessions: Sessions, tenant: Tenant, telegram: setup.TelegramApi, fake_telegram: FakeTelegram
) -> BotChannel:
    """The tenant's bot, greeting new subscribers with a button, connected to Telegram."""
    async with session_scope(sessions) as session:
        await make_start_flow(session, tenant.bot_id, GREETING_FLOW)
        connected = await setup.connect_telegram(
            session, tenant.bot_id, token=TOKEN, telegram=telegram, public_base_url=PUBLIC_URL
        )
    fake_telegram.reset()
    return connected


async def post_update(
    client: httpx.AsyncClient, channel: BotChannel, update: dict[str, Any], *, secret: str = ""
) -> httpx.Response:
    headers = {SECRET_HEADER: secret or channel.secret}
    return await client.post(f"/webhooks/telegram/{channel.uid}", json=update, headers=headers)


def sent_texts(fake: FakeTelegram) -> list[str]:
    return [call.params["text"] for call in fake.calls if call.method == "sendMessage"]


async def subscriber_of(session: AsyncSession, user_id: int) -> Subscriber:
    found = await session.scalar(
        select(Subscriber)
        .join(SubscriberChannel, SubscriberChannel.subscriber_id == Subscriber.id)
        .where(
            SubscriberChannel.type == ChannelType.TELEGRAM,
            SubscriberChannel.user_id == str(user_id),
        )
    )
    assert found is not None
    return found


async def queue_texts(app: FastAPI, user_id: int, *texts: str) -> Subscriber:
    """Queue plain texts to the Telegram subscriber `user_id`; answers them."""
    runtime = app.state.runtime
    async with session_scope(runtime.sessions) as session:
        subscriber = await subscriber_of(session, user_id)
        messages = [out.Text(text) for text in texts]
        await runtime.engine.send(session, subscriber, messages, origin="api", channel="telegram")
    return subscriber


async def outbox_of(session: AsyncSession, subscriber: Subscriber) -> list[tuple[str, int]]:
    rows = await session.execute(
        select(Delivery.status, Delivery.attempts)
        .where(Delivery.subscriber_id == subscriber.id)
        .order_by(Delivery.id)
    )
    return [(status, attempts) for status, attempts in rows.all()]


class TestConnecting:
    async def test_checks_the_token_and_sets_the_webhook_with_the_channel_secret(
        self,
        sessions: Sessions,
        tenant: Tenant,
        telegram: setup.TelegramApi,
        fake_telegram: FakeTelegram,
    ) -> None:
        async with session_scope(sessions) as session:
            channel = await setup.connect_telegram(
                session, tenant.bot_id, token=TOKEN, telegram=telegram, public_base_url=PUBLIC_URL
            )
        assert [(c.method, c.token) for c in fake_telegram.calls] == [
            ("getMe", TOKEN),
            ("setWebhook", TOKEN),
        ]
        params = fake_telegram.calls[1].params
        assert params["url"] == f"{PUBLIC_URL}/webhooks/telegram/{channel.uid}"
        assert params["secret_token"] == channel.secret
        assert params["allowed_updates"] == ["message", "callback_query"]
        assert channel.config == {"token": TOKEN, "username": "konversation_test_bot"}

    async def test_a_token_telegram_refuses_is_refused_and_nothing_is_stored(
        self,
        sessions: Sessions,
        session: AsyncSession,
        tenant: Tenant,
        telegram: setup.TelegramApi,
        fake_telegram: FakeTelegram,
    ) -> None:
        fake_telegram.fail_next(401)
        with pytest.raises(Invalid) as refused:
            async with session_scope(sessions) as writing:
                await setup.connect_telegram(
                    writing,
                    tenant.bot_id,
                    token=TOKEN,
                    telegram=telegram,
                    public_base_url=PUBLIC_URL,
                )
        assert refused.value.errors == {"token": ["Telegram refused the token: 401 Unauthorized"]}
        assert [c.method for c in fake_telegram.calls] == ["getMe"]
        assert (
            await session.scalar(select(BotChannel).where(BotChannel.type == ChannelType.TELEGRAM))
            is None
        )

    async def test_reconnecting_with_another_token_keeps_the_url_and_stops_the_old_bot(
        self,
        sessions: Sessions,
        tenant: Tenant,
        telegram: setup.TelegramApi,
        channel: BotChannel,
        fake_telegram: FakeTelegram,
    ) -> None:
        async with session_scope(sessions) as session:
            again = await setup.connect_telegram(
                session,
                tenant.bot_id,
                token=OTHER_TOKEN,
                telegram=telegram,
                public_base_url=PUBLIC_URL,
            )
        assert (again.id, again.uid, again.secret) == (channel.id, channel.uid, channel.secret)
        assert again.config["token"] == OTHER_TOKEN
        assert [(c.method, c.token) for c in fake_telegram.calls] == [
            ("getMe", OTHER_TOKEN),
            ("setWebhook", OTHER_TOKEN),
            ("deleteWebhook", TOKEN),
        ]

    async def test_disconnecting_deletes_the_webhook_and_its_url_answers_404(
        self,
        sessions: Sessions,
        tenant: Tenant,
        telegram: setup.TelegramApi,
        channel: BotChannel,
        fake_telegram: FakeTelegram,
        client: httpx.AsyncClient,
    ) -> None:
        async with session_scope(sessions) as session:
            await setup.disconnect(session, tenant.bot_id, ChannelType.TELEGRAM, telegram=telegram)
        assert [(c.method, c.token) for c in fake_telegram.calls] == [("deleteWebhook", TOKEN)]
        response = await post_update(client, channel, text_update(ADA, "hello"))
        assert response.status_code == 404
        assert response.json() == {"message": "Channel not found"}


class TestSendingOneAtATime:
    """Telegram takes one message a call: a subscriber's messages go in order, one by one."""

    @pytest.fixture
    async def greeted(self, app: FastAPI, client: httpx.AsyncClient, channel: BotChannel) -> None:
        """Ada wrote to the bot and got its greeting."""
        await post_update(client, channel, text_update(ADA, "hello"))
        await app.state.runtime.settle()

    async def test_a_message_to_try_again_holds_back_the_later_ones(
        self, app: FastAPI, greeted: None, fake_telegram: FakeTelegram, session: AsyncSession
    ) -> None:
        fake_telegram.fail_next(500)
        subscriber = await queue_texts(app, ADA, "one", "two", "three")

        await app.state.runtime.settle()

        assert await outbox_of(session, subscriber) == [
            (DeliveryStatus.SENT, 1),
            (DeliveryStatus.PENDING, 1),
            (DeliveryStatus.PENDING, 0),
            (DeliveryStatus.PENDING, 0),
        ]
        await session.execute(sqlalchemy.update(Delivery).values(due_at=utcnow()))
        await session.commit()
        await app.state.runtime.settle()
        assert sent_texts(fake_telegram)[-3:] == ["one", "two", "three"]
        session.expire_all()
        assert [s for s, _ in await outbox_of(session, subscriber)] == [DeliveryStatus.SENT] * 4

    async def test_a_refused_message_fails_for_good_and_the_next_ones_go_on(
        self, app: FastAPI, greeted: None, fake_telegram: FakeTelegram, session: AsyncSession
    ) -> None:
        fake_telegram.fail_next(400)
        subscriber = await queue_texts(app, ADA, "one", "two")

        await app.state.runtime.settle()

        assert await outbox_of(session, subscriber) == [
            (DeliveryStatus.SENT, 1),
            (DeliveryStatus.FAILED, 1),
            (DeliveryStatus.SENT, 1),
        ]
        assert sent_texts(fake_telegram)[-1] == "two"


class TestUpdates:
    async def test_a_message_gets_the_bots_answer_and_makes_a_subscriber(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        channel: BotChannel,
        fake_telegram: FakeTelegram,
        session: AsyncSession,
    ) -> None:
        response = await post_update(client, channel, text_update(ADA, "hello"))
        assert response.status_code == 200
        assert response.json() == {"ok": True}
        await app.state.runtime.settle()
        [call] = [c for c in fake_telegram.calls if c.method == "sendMessage"]
        assert call.token == TOKEN
        assert str(call.params["chat_id"]) == str(ADA)
        assert call.params["text"] == GREETING
        [[button]] = call.params["reply_markup"]["inline_keyboard"]
        assert button["text"] == "Yes"
        subscriber = await subscriber_of(session, ADA)
        assert (subscriber.first_name, subscriber.last_name) == ("Ada", "Lovelace")

    async def test_pressing_a_button_follows_it_and_stops_the_spinner(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        channel: BotChannel,
        fake_telegram: FakeTelegram,
    ) -> None:
        await post_update(client, channel, text_update(ADA, "hello", update_id=1))
        await app.state.runtime.settle()
        [greeting] = [c for c in fake_telegram.calls if c.method == "sendMessage"]
        [[button]] = greeting.params["reply_markup"]["inline_keyboard"]
        fake_telegram.reset()

        pressed = callback_update(
            ADA, button["callback_data"], title="Yes", update_id=2, query_id="q-77"
        )
        response = await post_update(client, channel, pressed)
        assert response.status_code == 200
        await app.state.runtime.settle()
        answered = [c.params for c in fake_telegram.calls if c.method == "answerCallbackQuery"]
        assert answered == [{"callback_query_id": "q-77"}]
        assert sent_texts(fake_telegram) == [FOLLOW_UP]

    async def test_an_update_delivered_twice_is_answered_once(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        channel: BotChannel,
        fake_telegram: FakeTelegram,
        session: AsyncSession,
    ) -> None:
        update = text_update(ADA, "hello", update_id=9, message_id=31)
        for _ in range(2):  # Telegram retries when it missed our answer
            assert (await post_update(client, channel, update)).status_code == 200
        await app.state.runtime.settle()
        assert sent_texts(fake_telegram) == [GREETING]
        logged = await session.scalars(
            select(Message.content).where(Message.direction == Direction.IN)
        )
        assert logged.all() == ["hello"]

    async def test_a_wrong_or_missing_secret_is_refused_and_nothing_happens(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        channel: BotChannel,
        fake_telegram: FakeTelegram,
        session: AsyncSession,
    ) -> None:
        update = text_update(ADA, "hello")
        wrong = await post_update(client, channel, update, secret="not-the-secret")
        missing = await client.post(f"/webhooks/telegram/{channel.uid}", json=update)
        for response in (wrong, missing):
            assert response.status_code == 401
            assert response.json() == {"message": "The secret token is missing or wrong."}
        await app.state.runtime.settle()
        assert fake_telegram.calls == []
        assert await session.scalar(select(Message.id)) is None

    async def test_updates_it_does_not_handle_are_acknowledged_and_dropped(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        channel: BotChannel,
        fake_telegram: FakeTelegram,
        session: AsyncSession,
    ) -> None:
        edited = text_update(ADA, "hello again")
        edited["edited_message"] = edited.pop("message")
        group = text_update(ADA, "hello all")
        group["message"]["chat"] = {"id": -100123, "type": "group", "title": "Friends"}
        for update in (edited, group, {"update_id": 5, "poll": {"id": "1"}}):
            response = await post_update(client, channel, update)
            assert (response.status_code, response.json()) == (200, {"ok": True})
        not_json = await client.post(
            f"/webhooks/telegram/{channel.uid}",
            content=b"{not json",
            headers={SECRET_HEADER: channel.secret},
        )
        assert not_json.status_code == 200
        await app.state.runtime.settle()
        assert fake_telegram.calls == []
        assert await session.scalar(select(Message.id)) is None

    async def test_an_unknown_channel_is_404(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/webhooks/telegram/no-such-channel",
            json=text_update(ADA, "hello"),
            headers={SECRET_HEADER: "anything"},
        )
        assert response.status_code == 404
        assert response.json() == {"message": "Channel not found"}
