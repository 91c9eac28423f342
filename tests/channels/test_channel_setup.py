"""Connecting and disconnecting channels, refusals included, and the URLs an owner is shown."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from builders import Sessions, Tenant
from fake_telegram import (  # noqa: F401
    FakeTelegram,
    fake_telegram_fixture,
    fake_telegram_server_fixture,
)
from konversation.channels import setup
from konversation.channels.models import BotChannel, ChannelType
from konversation.db import session_scope
from konversation.errors import BadRequest, Invalid, NotFound
from konversation.flows import service as flows
from konversation.flows.models import InboundWebhook

BASE = "https://bots.example.com"
TOKEN = "123456789:AAH-test-token_of-the-bot"


@pytest.fixture
async def telegram(fake_telegram: FakeTelegram) -> AsyncIterator[setup.TelegramApi]:
    async with httpx.AsyncClient(timeout=5) as http:
        yield setup.TelegramApi(http, fake_telegram.url)


async def count_channels(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(BotChannel)) or 0)


class TestApiChannel:
    async def test_reconnecting_updates_the_url_and_keeps_uid_and_secret(
        self, sessions: Sessions, tenant: Tenant, session: AsyncSession
    ) -> None:
        async with session_scope(sessions) as writing:
            first = await setup.connect_api(
                writing, tenant.bot_id, webhook_url="https://crm.example.com/a"
            )
        async with session_scope(sessions) as writing:
            again = await setup.connect_api(
                writing, tenant.bot_id, webhook_url=" https://crm.example.com/b "
            )
        assert (again.id, again.uid, again.secret) == (first.id, first.uid, first.secret)
        assert again.config == {"webhook_url": "https://crm.example.com/b"}
        assert await count_channels(session) == 1

    async def test_a_new_secret_replaces_the_old_one(
        self, sessions: Sessions, tenant: Tenant
    ) -> None:
        async with session_scope(sessions) as writing:
            first = await setup.connect_api(writing, tenant.bot_id, webhook_url="http://crm/a")
            old_secret = first.secret
            again = await setup.connect_api(
                writing, tenant.bot_id, webhook_url="http://crm/a", rotate_secret=True
            )
        assert again.uid == first.uid
        assert again.secret != old_secret
        assert len(again.secret) >= 40

    @pytest.mark.parametrize("url", ["", "crm.example.com/hook", "ftp://crm/x", "https://"])
    async def test_a_webhook_url_that_is_no_http_url_is_refused(
        self, sessions: Sessions, tenant: Tenant, url: str
    ) -> None:
        with pytest.raises(Invalid) as refused:
            async with session_scope(sessions) as writing:
                await setup.connect_api(writing, tenant.bot_id, webhook_url=url)
        assert refused.value.errors == {
            "webhook_url": ["The webhook URL must be an http or https URL."]
        }

    async def test_an_unknown_bot_is_not_found(self, sessions: Sessions) -> None:
        with pytest.raises(NotFound, match="Bot not found"):
            async with session_scope(sessions) as writing:
                await setup.connect_api(writing, 999_999, webhook_url="https://crm/x")


class TestTelegram:
    @pytest.mark.parametrize("token", ["", "not-a-token", "123:abc/def", "123456789:"])
    async def test_a_malformed_token_is_refused_before_telegram_is_asked(
        self,
        sessions: Sessions,
        tenant: Tenant,
        telegram: setup.TelegramApi,
        fake_telegram: FakeTelegram,
        token: str,
    ) -> None:
        with pytest.raises(Invalid) as refused:
            async with session_scope(sessions) as writing:
                await setup.connect_telegram(
                    writing, tenant.bot_id, token=token, telegram=telegram, public_base_url=BASE
                )
        assert list(refused.value.errors) == ["token"]
        assert fake_telegram.calls == []

    async def test_a_webhook_url_telegram_refuses_is_a_bad_request_and_nothing_is_stored(
        self,
        sessions: Sessions,
        session: AsyncSession,
        tenant: Tenant,
        telegram: setup.TelegramApi,
        fake_telegram: FakeTelegram,
    ) -> None:
        with pytest.raises(BadRequest) as refused:
            async with session_scope(sessions) as writing:
                await setup.connect_telegram(
                    writing,
                    tenant.bot_id,
                    token=TOKEN,
                    telegram=telegram,
                    public_base_url="http://127.0.0.1:8000",
                )
        assert refused.value.message.startswith(
            "Telegram refused the webhook URL http://127.0.0.1:8000/webhooks/telegram/"
        )
        assert refused.value.message.endswith("An HTTPS URL must be provided for webhook")
        assert [c.method for c in fake_telegram.calls] == ["getMe", "setWebhook"]
        assert await count_channels(session) == 0

    async def test_unreachable_telegram_is_a_bad_request(
        self, sessions: Sessions, tenant: Tenant
    ) -> None:
        async with httpx.AsyncClient(timeout=5) as http:
            nowhere = setup.TelegramApi(http, "http://127.0.0.1:9")
            with pytest.raises(BadRequest, match="Telegram could not check the token"):
                async with session_scope(sessions) as writing:
                    await setup.connect_telegram(
                        writing, tenant.bot_id, token=TOKEN, telegram=nowhere, public_base_url=BASE
                    )


class TestDisconnect:
    async def test_an_unconnected_channel_is_not_found(
        self, sessions: Sessions, tenant: Tenant, telegram: setup.TelegramApi
    ) -> None:
        with pytest.raises(NotFound, match="Channel not found"):
            async with session_scope(sessions) as writing:
                await setup.disconnect(
                    writing, tenant.bot_id, ChannelType.TELEGRAM, telegram=telegram
                )

    async def test_the_web_chat_cannot_be_disconnected(
        self, sessions: Sessions, tenant: Tenant, telegram: setup.TelegramApi
    ) -> None:
        with pytest.raises(Invalid):
            async with session_scope(sessions) as writing:
                await setup.disconnect(writing, tenant.bot_id, ChannelType.WEB, telegram=telegram)

    async def test_a_revoked_token_still_disconnects(
        self,
        sessions: Sessions,
        tenant: Tenant,
        telegram: setup.TelegramApi,
        fake_telegram: FakeTelegram,
    ) -> None:
        async with session_scope(sessions) as writing:
            await setup.connect_telegram(
                writing, tenant.bot_id, token=TOKEN, telegram=telegram, public_base_url=BASE
            )
        fake_telegram.fail_next(401)
        async with session_scope(sessions) as writing:
            channel = await setup.disconnect(
                writing, tenant.bot_id, ChannelType.TELEGRAM, telegram=telegram
            )
        assert channel.enabled is False


class TestOverview:
    async def test_lists_every_channel_and_inbound_webhook_with_their_urls(
        self, sessions: Sessions, tenant: Tenant, telegram: setup.TelegramApi
    ) -> None:
        async with session_scope(sessions) as writing:
            api = await setup.connect_api(writing, tenant.bot_id, webhook_url="https://crm/x")
            tg = await setup.connect_telegram(
                writing, tenant.bot_id, token=TOKEN, telegram=telegram, public_base_url=BASE
            )
            flow = await flows.create_flow(writing, tenant.bot_id, name="Order shipped")
            hook = InboundWebhook(
                bot_id=tenant.bot_id, hook_uid="h00k", name="Shop", sub_flow_number=flow.number
            )
            writing.add(hook)
            found = await setup.overview(writing, tenant.bot_id)
        assert found.inbound_webhooks == [hook]
        assert setup.inbound_webhook_url(BASE, hook.hook_uid) == f"{BASE}/webhooks/inbound/h00k"
        web, *others = found.channels
        assert web.type == ChannelType.WEB
        assert {c.type for c in others} == {ChannelType.API, ChannelType.TELEGRAM}
        assert setup.channel_urls(web, BASE) == {
            "page": f"{BASE}/webchat/{web.uid}",
            "snippet": f'<script src="{BASE}/webchat/{web.uid}/widget.js" async></script>',
        }
        assert setup.channel_urls(tg, BASE) == {
            "webhook": f"{BASE}/webhooks/telegram/{tg.uid}",
            "bot": "https://t.me/konversation_test_bot",
        }
        assert setup.channel_urls(api, BASE) == {
            "inbound": f"{BASE}/webhooks/api/{api.uid}",
            "outbound": "https://crm/x",
        }
