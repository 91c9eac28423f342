"""A bot connected to WhatsApp (a fake Cloud API on 127.0.0.1): connecting, the webhook's
handshake and signatures, messages in and out through the real app, runtime and outbox, status
reports, and the 24-hour customer service window."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from channels_support import FOLLOW_UP, GREETING_FLOW
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from builders import Sessions, Tenant, app_with, make_start_flow
from fake_whatsapp import (  # noqa: F401
    APP_SECRET,
    PHONE_NUMBER_ID,
    TOKEN,
    WABA_ID,
    FakeWhatsApp,
    button_reply,
    fake_whatsapp_fixture,
    fake_whatsapp_server_fixture,
    message_delivery,
    signed,
    status_delivery,
    text_message,
)
from konversation.channels import base as out
from konversation.channels import setup
from konversation.channels.base import DeliveryFailed
from konversation.channels.models import BotChannel
from konversation.channels.whatsapp import WhatsAppChannel
from konversation.conversations.models import Message
from konversation.db import session_scope
from konversation.errors import Invalid
from konversation.runtime.models import Delivery, DeliveryStatus
from konversation.settings import Settings
from konversation.subscribers.models import Subscriber

ADA = "61412345678"
PUBLIC_URL = "https://bots.example.com"
ACCOUNT = setup.WhatsAppAccount(
    phone_number_id=PHONE_NUMBER_ID,
    waba_id=WABA_ID,
    token=TOKEN,
    app_secret=APP_SECRET,
    verify_token="let-me-in",
)


@pytest.fixture
async def app(settings: Settings, fake_whatsapp: FakeWhatsApp) -> AsyncIterator[FastAPI]:
    async with app_with(settings, graph_api_base=fake_whatsapp.url, public_url=PUBLIC_URL) as app:
        yield app


@pytest.fixture
def graph(http: httpx.AsyncClient, fake_whatsapp: FakeWhatsApp) -> setup.GraphApi:
    return setup.GraphApi(http, fake_whatsapp.url)


@pytest.fixture
async def channel(
    sessions: Sessions, tenant: Tenant, graph: setup.GraphApi, fake_whatsapp: FakeWhatsApp
) -> BotChannel:
    """The tenant's bot, greeting new subscribers with a button, connected to WhatsApp."""
    async with session_scope(sessions) as session:
        await make_start_flow(session, tenant.bot_id, GREETING_FLOW)
        connected = await setup.connect_whatsapp(session, tenant.bot_id, ACCOUNT, graph=graph)
    fake_whatsapp.reset()
    return connected


async def post(
    client: httpx.AsyncClient, channel: BotChannel, delivery: Any, *, secret: str = APP_SECRET
) -> httpx.Response:
    body = json.dumps(delivery).encode()
    return await client.post(
        f"/webhooks/whatsapp/{channel.uid}", content=body, headers=signed(body, secret)
    )


async def ada(session: AsyncSession) -> Subscriber:
    found = await session.scalar(select(Subscriber).where(Subscriber.user_id == ADA))
    assert found is not None
    return found


class TestConnecting:
    async def test_checks_the_number_subscribes_the_app_and_keeps_the_account(
        self, sessions: Sessions, tenant: Tenant, graph: setup.GraphApi, fake_whatsapp: FakeWhatsApp
    ) -> None:
        async with session_scope(sessions) as session:
            channel = await setup.connect_whatsapp(session, tenant.bot_id, ACCOUNT, graph=graph)
        assert [(c.method, c.path) for c in fake_whatsapp.calls] == [
            ("GET", f"/{PHONE_NUMBER_ID}"),
            ("POST", f"/{WABA_ID}/subscribed_apps"),
        ]
        assert channel.secret == APP_SECRET
        assert channel.config["verify_token"] == "let-me-in"
        assert channel.config["display_phone_number"] == "+1 555-010-0199"
        urls = setup.channel_urls(channel, PUBLIC_URL)
        assert urls["webhook"] == f"{PUBLIC_URL}/webhooks/whatsapp/{channel.uid}"

    async def test_a_token_meta_refuses_is_refused_and_nothing_is_stored(
        self,
        sessions: Sessions,
        session: AsyncSession,
        tenant: Tenant,
        graph: setup.GraphApi,
    ) -> None:
        wrong = setup.WhatsAppAccount(PHONE_NUMBER_ID, WABA_ID, "wrong", APP_SECRET)
        with pytest.raises(Invalid) as refused:
            async with session_scope(sessions) as writing:
                await setup.connect_whatsapp(writing, tenant.bot_id, wrong, graph=graph)
        assert refused.value.errors == {
            "token": ["WhatsApp refused the call: (190) Invalid OAuth access token."]
        }
        count = select(func.count()).select_from(BotChannel).where(BotChannel.type == "whatsapp")
        assert await session.scalar(count) == 0

    async def test_missing_account_details_are_named(
        self, sessions: Sessions, tenant: Tenant, graph: setup.GraphApi
    ) -> None:
        with pytest.raises(Invalid) as refused:
            async with session_scope(sessions) as session:
                await setup.connect_whatsapp(
                    session,
                    tenant.bot_id,
                    setup.WhatsAppAccount("", WABA_ID, TOKEN, ""),
                    graph=graph,
                )
        assert set(refused.value.errors) == {"phone_number_id", "app_secret"}


class TestHandshake:
    async def test_the_right_verify_token_gets_the_challenge_back(
        self, client: httpx.AsyncClient, channel: BotChannel
    ) -> None:
        query = {"hub.mode": "subscribe", "hub.verify_token": "let-me-in", "hub.challenge": "1158"}
        response = await client.get(f"/webhooks/whatsapp/{channel.uid}", params=query)
        assert response.status_code == 200
        assert response.text == "1158"

    async def test_a_wrong_verify_token_is_refused(
        self, client: httpx.AsyncClient, channel: BotChannel
    ) -> None:
        query = {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158"}
        response = await client.get(f"/webhooks/whatsapp/{channel.uid}", params=query)
        assert response.status_code == 403
        assert "1158" not in response.text


class TestInbound:
    async def test_a_message_is_answered_with_reply_buttons(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        channel: BotChannel,
        fake_whatsapp: FakeWhatsApp,
        session: AsyncSession,
    ) -> None:
        response = await post(client, channel, message_delivery(ADA, text_message("hello")))
        assert response.status_code == 200
        await app.state.runtime.settle()
        [sent] = fake_whatsapp.messages()
        assert sent["to"] == ADA
        assert sent["interactive"]["type"] == "button"
        assert sent["interactive"]["body"]["text"] == "Hi Ada! Shall we?"
        [button] = sent["interactive"]["action"]["buttons"]
        assert button["reply"]["title"] == "Yes"
        subscriber = await ada(session)
        assert (subscriber.first_name, subscriber.last_name) == ("Ada", "Lovelace")

        await post(
            client, channel, message_delivery(ADA, button_reply(button["reply"]["id"], "Yes"))
        )
        await app.state.runtime.settle()
        assert fake_whatsapp.messages()[-1]["text"] == {"body": FOLLOW_UP}

    async def test_a_bad_signature_is_refused_and_nothing_is_stored(
        self, client: httpx.AsyncClient, channel: BotChannel, session: AsyncSession
    ) -> None:
        response = await post(
            client, channel, message_delivery(ADA, text_message("hello")), secret="not-it"
        )
        assert response.status_code == 403
        assert await session.scalar(select(func.count()).select_from(Message)) == 0
        assert await session.scalar(select(func.count()).select_from(Subscriber)) == 0

    async def test_the_same_message_delivered_twice_is_answered_once(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        channel: BotChannel,
        fake_whatsapp: FakeWhatsApp,
        session: AsyncSession,
    ) -> None:
        delivery = message_delivery(ADA, text_message("hello"))
        await post(client, channel, delivery)
        await post(client, channel, delivery)
        await app.state.runtime.settle()
        assert len(fake_whatsapp.messages()) == 1
        inbound = select(func.count()).select_from(Message).where(Message.direction == "in")
        assert await session.scalar(inbound) == 1

    async def test_another_numbers_messages_are_ignored(
        self, client: httpx.AsyncClient, channel: BotChannel, session: AsyncSession
    ) -> None:
        delivery = message_delivery(ADA, text_message("hello"))
        delivery["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
        assert (await post(client, channel, delivery)).status_code == 200
        assert await session.scalar(select(func.count()).select_from(Message)) == 0


class TestStatuses:
    async def test_reports_move_the_message_on_and_never_back(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        channel: BotChannel,
        fake_whatsapp: FakeWhatsApp,
        session: AsyncSession,
    ) -> None:
        await post(client, channel, message_delivery(ADA, text_message("hello")))
        await app.state.runtime.settle()
        [wamid] = fake_whatsapp.wamids
        statuses = select(Delivery.status).where(Delivery.external_id == wamid)
        assert await session.scalar(statuses) == DeliveryStatus.SENT
        await post(client, channel, status_delivery(wamid, "read", ADA))
        await post(client, channel, status_delivery(wamid, "delivered", ADA))
        await session.rollback()  # a new snapshot
        assert await session.scalar(statuses) == DeliveryStatus.READ

    async def test_a_failure_is_kept_with_its_reason(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        channel: BotChannel,
        fake_whatsapp: FakeWhatsApp,
        session: AsyncSession,
    ) -> None:
        await post(client, channel, message_delivery(ADA, text_message("hello")))
        await app.state.runtime.settle()
        [wamid] = fake_whatsapp.wamids
        errors = [{"code": 131026, "title": "Message undeliverable"}]
        await post(client, channel, status_delivery(wamid, "failed", ADA, errors=errors))
        await session.rollback()  # a new snapshot
        row = (
            await session.execute(
                select(Delivery.status, Delivery.error).where(Delivery.external_id == wamid)
            )
        ).one()
        assert tuple(row) == ("failed", "(131026) Message undeliverable")


class TestServiceWindow:
    async def test_outside_the_window_texts_are_refused_and_the_subscriber_says_so(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        api: httpx.AsyncClient,
        channel: BotChannel,
        session: AsyncSession,
        tenant: Tenant,
    ) -> None:
        await post(client, channel, message_delivery(ADA, text_message("hello")))
        await app.state.runtime.settle()
        subscriber = await ada(session)
        user_ns = f"f{tenant.bot_id}u{subscriber.number}"
        info = await api.get("/subscriber/get-info", params={"user_ns": user_ns})
        assert info.json()["data"]["allow_send_message"] is True
        assert (
            await api.post("/subscriber/send-text", json={"user_ns": user_ns, "content": "Hi"})
        ).status_code == 200

        long_ago = subscriber.last_interaction_at - dt.timedelta(hours=25)  # type: ignore[operator]
        async with session_scope(app.state.runtime.sessions) as writing:
            await writing.execute(
                update(Subscriber)
                .where(Subscriber.id == subscriber.id)
                .values(last_interaction_at=long_ago)
            )
        info = await api.get("/subscriber/get-info", params={"user_ns": user_ns})
        assert info.json()["data"]["allow_send_message"] is False
        refused = await api.post(
            "/subscriber/send-text", json={"user_ns": user_ns, "content": "Hi again"}
        )
        assert refused.status_code == 422
        assert "last 24 hours" in refused.json()["errors"]["user_ns"][0]


class TestSending:
    """The adapter alone, against the fake Cloud API."""

    @pytest.fixture
    def number(self, http: httpx.AsyncClient, fake_whatsapp: FakeWhatsApp) -> WhatsAppChannel:
        return WhatsAppChannel(PHONE_NUMBER_ID, TOKEN, client=http, base_url=fake_whatsapp.url)

    async def test_more_than_three_choices_become_a_list(
        self, number: WhatsAppChannel, fake_whatsapp: FakeWhatsApp
    ) -> None:
        replies = tuple(out.QuickReply(f"Colour number {n}", f"c{n}") for n in range(5))
        await number.send(ADA, out.Text("Pick a colour", quick_replies=replies))
        [sent] = fake_whatsapp.messages()
        assert sent["interactive"]["type"] == "list"
        rows = sent["interactive"]["action"]["sections"][0]["rows"]
        assert [row["id"] for row in rows] == [f"c{n}" for n in range(5)]

    async def test_media_with_choices_carry_the_media_as_header(
        self, number: WhatsAppChannel, fake_whatsapp: FakeWhatsApp
    ) -> None:
        photo = out.Media(
            "image",
            "https://example.com/cat.png",
            "A cat",
            buttons=(out.Button("Like", payload="like"), out.Button("Site", url="https://x.io")),
        )
        await number.send(ADA, photo)
        [sent] = fake_whatsapp.messages()
        assert sent["interactive"]["header"] == {
            "type": "image",
            "image": {"link": "https://example.com/cat.png"},
        }
        assert sent["interactive"]["body"]["text"] == "A cat\n\nSite: https://x.io"

    async def test_a_plain_file_is_a_document(
        self, number: WhatsAppChannel, fake_whatsapp: FakeWhatsApp
    ) -> None:
        await number.send(ADA, out.Media("file", "https://example.com/a.pdf"))
        [sent] = fake_whatsapp.messages()
        assert sent["type"] == "document"
        assert sent["document"] == {"link": "https://example.com/a.pdf"}

    async def test_meta_errors_say_what_and_whether_to_try_again(
        self, number: WhatsAppChannel, fake_whatsapp: FakeWhatsApp
    ) -> None:
        fake_whatsapp.fail_next(400, 131047, "Re-engagement message")
        with pytest.raises(DeliveryFailed) as refused:
            await number.send(ADA, out.Text("hello"))
        assert refused.value.message == "WhatsApp refused the call: (131047) Re-engagement message"
        assert not refused.value.retryable
        fake_whatsapp.fail_next(400, 130429, "Rate limit hit")
        with pytest.raises(DeliveryFailed) as limited:
            await number.send(ADA, out.Text("hello"))
        assert limited.value.retryable
