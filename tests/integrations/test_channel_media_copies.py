"""Files that subscribers send on Telegram and WhatsApp arrive as the channel's references, not
URLs: the copy into the workspace's bucket resolves them through the bot's channel (Telegram's
getFile and file download, the Cloud API's media endpoint and its Bearer-token download), and
the message log keeps the reference as `original_url`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from media_support import connect, logged, receive
from paid_orders_support import calls_of

from builders import Sessions, Tenant, app_with
from fake_s3 import BUCKET, SECRET_KEY, FakeS3, fake_s3_fixture, fake_s3_server_fixture  # noqa: F401
from fake_telegram import (  # noqa: F401
    FakeTelegram,
    fake_telegram_fixture,
    fake_telegram_server_fixture,
)
from fake_whatsapp import (  # noqa: F401
    PHONE_NUMBER_ID,
    TOKEN,
    FakeWhatsApp,
    fake_whatsapp_fixture,
    fake_whatsapp_server_fixture,
)
from konversation.channels.models import BotChannel, ChannelType
from konversation.db import session_scope
from konversation.integrations.calls import CallStatus
from konversation.integrations.kinds import Kind
from konversation.jobs.runtime import Runtime
from konversation.settings import Settings

BOT_TOKEN = "7000000001:AAH-media-test"
PHOTO = b"\xff\xd8\xff\xe0-a-small-jpeg"


@pytest.fixture
async def app(
    settings: Settings, fake_telegram: FakeTelegram, fake_whatsapp: FakeWhatsApp
) -> AsyncIterator[FastAPI]:
    bases = {"telegram_api_base": fake_telegram.url, "graph_api_base": fake_whatsapp.url}
    async with app_with(settings, **bases) as app:
        yield app


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


@pytest.fixture
async def storage(
    sessions: Sessions, tenant: Tenant, fake_s3: FakeS3, server_secret: bytes
) -> None:
    await connect(sessions, server_secret, tenant, fake_s3, SECRET_KEY)


async def connect_channel(sessions: Sessions, tenant: Tenant, type_: str, **config: str) -> None:
    async with session_scope(sessions) as session:
        session.add(BotChannel(bot_id=tenant.bot_id, type=type_, config=config))


@pytest.fixture
async def on_telegram(sessions: Sessions, tenant: Tenant) -> None:
    await connect_channel(sessions, tenant, ChannelType.TELEGRAM, token=BOT_TOKEN)


@pytest.fixture
async def on_whatsapp(sessions: Sessions, tenant: Tenant) -> None:
    await connect_channel(
        sessions, tenant, ChannelType.WHATSAPP, phone_number_id=PHONE_NUMBER_ID, token=TOKEN
    )


def stored_object(fake_s3: FakeS3) -> tuple[str, bytes, str]:
    [((bucket, key), stored)] = fake_s3.objects.items()
    assert bucket == BUCKET
    return key, stored.body, stored.content_type


class TestTelegramFiles:
    async def test_a_file_id_is_resolved_downloaded_and_stored(
        self,
        sessions: Sessions,
        tenant: Tenant,
        runtime: Runtime,
        storage: None,
        on_telegram: None,
        fake_telegram: FakeTelegram,
        fake_s3: FakeS3,
    ) -> None:
        fake_telegram.add_file("AgAD-photo", "photos/file_7.jpg", PHOTO)
        await receive(runtime, tenant, "telegram-file:AgAD-photo", channel="telegram")
        await runtime.settle()
        [get_file] = [c for c in fake_telegram.calls if c.method == "getFile"]
        assert (get_file.token, get_file.params) == (BOT_TOKEN, {"file_id": "AgAD-photo"})
        assert fake_telegram.downloads == [(BOT_TOKEN, "photos/file_7.jpg")]
        message = await logged(sessions, tenant)
        key, body, _ = stored_object(fake_s3)
        assert (key, body) == (f"konversation/bot{tenant.bot_id}/{message.mid}/0.jpg", PHOTO)
        [attachment] = message.payload["attachments"]
        assert attachment == {
            "type": "image",
            "url": f"{fake_s3.url}/{BUCKET}/{key}",
            "original_url": "telegram-file:AgAD-photo",
        }
        assert message.content == attachment["url"]

    async def test_a_file_telegram_does_not_know_fails_for_good_and_keeps_the_reference(
        self,
        sessions: Sessions,
        tenant: Tenant,
        runtime: Runtime,
        storage: None,
        on_telegram: None,
        fake_s3: FakeS3,
    ) -> None:
        await receive(runtime, tenant, "telegram-file:gone", channel="telegram")
        await runtime.settle()
        [call] = await calls_of(sessions, tenant, Kind.S3)
        assert call.status == CallStatus.FAILED
        assert "invalid file_id" in str(call.last_error)
        assert BOT_TOKEN not in str(call.last_error)
        assert fake_s3.objects == {}
        message = await logged(sessions, tenant)
        assert message.payload["attachments"] == [{"type": "image", "url": "telegram-file:gone"}]

    async def test_a_bot_no_longer_on_telegram_fails_the_copy(
        self,
        sessions: Sessions,
        tenant: Tenant,
        runtime: Runtime,
        storage: None,
        fake_telegram: FakeTelegram,
        fake_s3: FakeS3,
    ) -> None:
        await receive(runtime, tenant, "telegram-file:AgAD-photo", channel="telegram")
        await runtime.settle()
        [call] = await calls_of(sessions, tenant, Kind.S3)
        assert (call.status, call.last_error) == (
            CallStatus.FAILED,
            "The bot is no longer connected to Telegram.",
        )
        assert fake_telegram.calls == []


class TestWhatsAppMedia:
    async def test_a_media_id_is_looked_up_and_downloaded_with_the_token(
        self,
        sessions: Sessions,
        tenant: Tenant,
        runtime: Runtime,
        storage: None,
        on_whatsapp: None,
        fake_whatsapp: FakeWhatsApp,
        fake_s3: FakeS3,
    ) -> None:
        fake_whatsapp.add_media("1037543291543636", "image/jpeg", PHOTO)
        await receive(
            runtime, tenant, "whatsapp-media:1037543291543636", channel="whatsapp", user_id="614"
        )
        await runtime.settle()
        lookup, download = fake_whatsapp.calls
        assert (lookup.method, lookup.path) == ("GET", "/1037543291543636")
        assert (download.path, download.params) == (
            "/whatsapp_business/attachments/",
            {"mid": "1037543291543636"},
        )
        message = await logged(sessions, tenant)
        key, body, content_type = stored_object(fake_s3)
        assert key == f"konversation/bot{tenant.bot_id}/{message.mid}/0.jpg"
        assert (body, content_type) == (PHOTO, "image/jpeg")
        [attachment] = message.payload["attachments"]
        assert attachment["original_url"] == "whatsapp-media:1037543291543636"
        assert attachment["url"] == f"{fake_s3.url}/{BUCKET}/{key}"

    async def test_a_refused_lookup_fails_for_good_and_a_server_error_is_tried_again(
        self,
        sessions: Sessions,
        tenant: Tenant,
        runtime: Runtime,
        storage: None,
        on_whatsapp: None,
        fake_whatsapp: FakeWhatsApp,
    ) -> None:
        fake_whatsapp.fail_next(500, 2, "Service temporarily unavailable")
        await receive(runtime, tenant, "whatsapp-media:42", channel="whatsapp", user_id="614")
        await runtime.settle()
        [call] = await calls_of(sessions, tenant, Kind.S3)
        assert (call.status, call.attempts) == (CallStatus.PENDING, 1)
        await receive(
            runtime,
            tenant,
            "whatsapp-media:43",
            channel="whatsapp",
            user_id="615",
            message_id="m-2",
        )
        await runtime.settle()
        unknown = [
            c for c in await calls_of(sessions, tenant, Kind.S3) if c.subject["url"].endswith(":43")
        ]
        assert [c.status for c in unknown] == [CallStatus.FAILED]
        assert "Unsupported get request" in str(unknown[0].last_error)
