"""`POST /subscriber/send-email`: a plain-text email through the server's SMTP relay, logged as
a message from the bot; refused for subscribers who cannot be emailed."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from builders import Sessions, Tenant, make_subscriber, make_tenant
from fake_smtp import FakeSmtp, fake_smtp_fixture, fake_smtp_server_fixture  # noqa: F401
from konversation.app import create_app
from konversation.conversations.models import Message
from konversation.settings import Settings
from konversation.subscribers.models import Subscriber
from konversation.workspaces.models import Bot
from loopback import closed_port_url

SENDER = "bot@konversation.test"
OPTED_IN = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
SEND = "/subscriber/send-email"


def ns(subscriber: Subscriber) -> str:
    return f"f{subscriber.bot_id}u{subscriber.number}"


def mail_app(settings: Settings, port: int) -> FastAPI:
    return create_app(
        settings.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_from": SENDER}
        )
    )


@pytest.fixture(scope="session")
def emailing_app(settings: Settings, engine: AsyncEngine, fake_smtp_server: FakeSmtp) -> FastAPI:
    return mail_app(settings, fake_smtp_server.port)


async def client_of(app: FastAPI, tenant: Tenant) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"Authorization": f"Bearer {tenant.token}", "Accept": "application/json"}
    return httpx.AsyncClient(transport=transport, base_url="http://testserver/api", headers=headers)


@pytest.fixture
async def mailer(emailing_app: FastAPI, tenant: Tenant) -> AsyncIterator[httpx.AsyncClient]:
    """The tenant's key on an app whose SMTP relay is the fake server."""
    async with await client_of(emailing_app, tenant) as client:
        yield client


async def reachable(session: AsyncSession, tenant: Tenant, **columns: Any) -> Subscriber:
    columns = {"email": "sam@example.com", "opted_in_email_at": OPTED_IN, **columns}
    return await make_subscriber(session, tenant.bot_id, **columns)


async def logged(session: AsyncSession) -> int:
    count = await session.scalar(select(func.count()).select_from(Message))
    return count or 0


class TestSendEmail:
    async def test_delivers_the_content_as_plain_text_to_the_subscribers_address(
        self, mailer: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, fake_smtp: FakeSmtp
    ) -> None:
        subscriber = await reachable(session, tenant)
        body = {"user_ns": ns(subscriber), "subject": "Your order", "content": "It has shipped."}
        response = await mailer.post(SEND, json=body)
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "ok"}
        [mail] = fake_smtp.mails
        assert (mail.sender, mail.recipients) == (SENDER, ["sam@example.com"])
        message = mail.message()
        assert (message["From"], message["To"]) == (SENDER, "sam@example.com")
        assert message["Subject"] == "Your order"
        assert message.get_content_type() == "text/plain"
        assert message.get_content().splitlines() == ["It has shipped."]

    async def test_without_a_subject_the_bots_name_is_the_subject(
        self, mailer: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, fake_smtp: FakeSmtp
    ) -> None:
        subscriber = await reachable(session, tenant)
        bot_name = await session.scalar(select(Bot.name).where(Bot.id == tenant.bot_id))
        for subject in ({}, {"subject": ""}, {"subject": None}):
            body = {"user_ns": ns(subscriber), "content": "Hello", **subject}
            assert (await mailer.post(SEND, json=body)).status_code == 200
        assert [mail.message()["Subject"] for mail in fake_smtp.mails] == [bot_name] * 3

    async def test_lines_starting_with_a_dot_arrive_intact(
        self, mailer: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, fake_smtp: FakeSmtp
    ) -> None:
        subscriber = await reachable(session, tenant)
        content = "Line one\n.hidden\n.\nend"
        response = await mailer.post(SEND, json={"user_ns": ns(subscriber), "content": content})
        assert response.status_code == 200
        assert fake_smtp.mails[0].message().get_content().splitlines() == content.splitlines()

    async def test_the_email_shows_in_the_chat_messages_as_the_bots(
        self, mailer: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, fake_smtp: FakeSmtp
    ) -> None:
        subscriber = await reachable(session, tenant)
        body = {"user_ns": ns(subscriber), "subject": "Hi", "content": "Welcome aboard."}
        assert (await mailer.post(SEND, json=body)).status_code == 200
        params = {"user_ns": ns(subscriber), "include_bot": "1"}
        [row] = (await mailer.get("/subscriber/chat-messages", params=params)).json()["data"]
        assert (row["type"], row["msg_type"], row["content"]) == ("out", "email", "Welcome aboard.")
        assert row["payload"]["text"] == "Welcome aboard."

    async def test_an_unknown_subscriber_is_not_found(
        self, mailer: httpx.AsyncClient, tenant: Tenant, fake_smtp: FakeSmtp
    ) -> None:
        body = {"user_ns": f"f{tenant.bot_id}u999", "content": "Hello"}
        response = await mailer.post(SEND, json=body)
        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}
        assert fake_smtp.mails == []

    async def test_a_subscriber_of_another_bot_is_not_found_and_not_emailed(
        self,
        mailer: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
        fake_smtp: FakeSmtp,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        stranger = await reachable(session, other)
        response = await mailer.post(SEND, json={"user_ns": ns(stranger), "content": "Hello"})
        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}
        assert fake_smtp.mails == []
        assert await logged(session) == 0

    @pytest.mark.parametrize(
        ("columns", "message"),
        [
            ({"email": None, "phone": "+61400000000"}, "The subscriber has no email address."),
            ({"opted_in_email_at": None}, "The subscriber has not opted in to email."),
            ({"is_subscribed": False}, "The subscriber has unsubscribed from the bot."),
        ],
        ids=["no address", "not opted in", "unsubscribed"],
    )
    async def test_a_subscriber_who_cannot_be_emailed_is_refused_on_user_ns(
        self,
        columns: dict[str, Any],
        message: str,
        mailer: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        fake_smtp: FakeSmtp,
    ) -> None:
        subscriber = await reachable(session, tenant, **columns)
        response = await mailer.post(SEND, json={"user_ns": ns(subscriber), "content": "Hello"})
        assert response.status_code == 422
        assert response.json() == {"message": message, "errors": {"user_ns": [message]}}
        assert fake_smtp.mails == []
        assert await logged(session) == 0

    @pytest.mark.parametrize(
        ("body", "field", "message"),
        [
            ({}, "content", "The content field is required."),
            ({"content": "  "}, "content", "The content field is required."),
            ({"content": 5}, "content", "The content field must be a string."),
            ({"content": "Hi", "subject": "A\r\nBcc: x@y.z"}, "subject", None),
            ({"content": "Hi", "subject": "x" * 256}, "subject", None),
        ],
        ids=["no content", "blank content", "number", "two-line subject", "long subject"],
    )
    async def test_bad_fields_are_refused(
        self,
        body: dict[str, Any],
        field: str,
        message: str | None,
        mailer: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        fake_smtp: FakeSmtp,
    ) -> None:
        subscriber = await reachable(session, tenant)
        response = await mailer.post(SEND, json={"user_ns": ns(subscriber), **body})
        assert response.status_code == 422
        assert list(response.json()["errors"]) == [field]
        if message is not None:
            assert response.json()["errors"][field] == [message]
        assert fake_smtp.mails == []

    async def test_a_refused_recipient_is_reported_and_nothing_is_logged(
        self, mailer: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, fake_smtp: FakeSmtp
    ) -> None:
        subscriber = await reachable(session, tenant)
        fake_smtp.refuse_next_recipient()
        response = await mailer.post(SEND, json={"user_ns": ns(subscriber), "content": "Hello"})
        assert response.status_code == 400
        assert response.json() == {
            "message": "The email could not be delivered: "
            "the mail server refused the recipient (550 5.1.1 no such mailbox)."
        }
        assert fake_smtp.mails == []
        assert await logged(session) == 0

    async def test_an_unreachable_mail_server_is_reported(
        self, settings: Settings, session: AsyncSession, tenant: Tenant
    ) -> None:
        subscriber = await reachable(session, tenant)
        closed_port = int(closed_port_url().split(":")[2].split("/")[0])
        async with await client_of(mail_app(settings, closed_port), tenant) as client:
            response = await client.post(SEND, json={"user_ns": ns(subscriber), "content": "Hi"})
        assert response.status_code == 400
        message = response.json()["message"]
        assert message.startswith("The email could not be delivered: the mail server could not")
        assert await logged(session) == 0

    async def test_a_server_without_smtp_says_how_to_configure_it(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        subscriber = await reachable(session, tenant)
        response = await api.post(SEND, json={"user_ns": ns(subscriber), "content": "Hello"})
        assert response.status_code == 400
        assert response.json() == {
            "message": "Email is not configured on this server: "
            "set KONVERSATION_SMTP_HOST and KONVERSATION_SMTP_FROM."
        }
