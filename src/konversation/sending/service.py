"""Send an email or an SMS to one subscriber, and log it as a message from the bot.

A subscriber is reachable when they are subscribed to the bot, have the address, and opted in
to that kind of message; otherwise the call is refused (422 on `user_ns`) and nothing is sent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from konversation.conversations.models import Direction
from konversation.conversations.service import record_message
from konversation.errors import Invalid
from konversation.sending import NotConfigured
from konversation.sending.email import SmtpConfig
from konversation.sending.email import send_email as deliver_email
from konversation.sending.sms import SmsGatewayConfig, international
from konversation.sending.sms import send_sms as deliver_sms
from konversation.subscribers.models import Subscriber
from konversation.subscribers.service import get_subscriber
from konversation.workspaces.service import get_bot


async def send_email(
    session: AsyncSession,
    bot_id: int,
    *,
    user_ns: str,
    content: str,
    subject: str | None,
    smtp: SmtpConfig | None,
) -> None:
    """Email the subscriber; without a subject, the bot's name is the subject."""
    if smtp is None:
        raise NotConfigured(
            "Email is not configured on this server: "
            "set KONVERSATION_SMTP_HOST and KONVERSATION_SMTP_FROM."
        )
    subscriber = await get_subscriber(session, bot_id, user_ns)
    address = _reachable(
        subscriber,
        address=subscriber.email,
        opted_in_at=subscriber.opted_in_email_at,
        missing="email address",
        kind="email",
    )
    subject = subject or (await get_bot(session, bot_id)).name
    await deliver_email(smtp, to=address, subject=subject, text=content)
    await _log(session, subscriber, "email", content, {"text": content, "subject": subject})


async def send_sms(
    session: AsyncSession,
    bot_id: int,
    *,
    user_ns: str,
    content: str,
    gateway: SmsGatewayConfig | None,
) -> None:
    """Text the subscriber's phone number through the SMS gateway."""
    if gateway is None:
        raise NotConfigured(
            "SMS is not configured on this server: set KONVERSATION_SMS_GATEWAY_URL."
        )
    subscriber = await get_subscriber(session, bot_id, user_ns)
    number = _reachable(
        subscriber,
        address=international(subscriber.phone),
        opted_in_at=subscriber.opted_in_sms_at,
        missing="phone number",
        kind="SMS",
    )
    await deliver_sms(gateway, to=number, text=content)
    await _log(session, subscriber, "sms", content, {"text": content})


def _reachable(
    subscriber: Subscriber,
    *,
    address: str | None,
    opted_in_at: dt.datetime | None,
    missing: str,
    kind: str,
) -> str:
    if not subscriber.is_subscribed:
        raise Invalid.field("user_ns", "The subscriber has unsubscribed from the bot.")
    if not address:
        raise Invalid.field("user_ns", f"The subscriber has no {missing}.")
    if opted_in_at is None:
        raise Invalid.field("user_ns", f"The subscriber has not opted in to {kind}.")
    return address


async def _log(
    session: AsyncSession,
    subscriber: Subscriber,
    msg_type: str,
    content: str,
    payload: dict[str, Any],
) -> None:
    await record_message(
        session,
        subscriber,
        direction=Direction.OUT,
        msg_type=msg_type,
        content=content,
        payload=payload,
    )
