"""What the API sends to one subscriber: an email, an SMS, a text, content, a flow or a node.

Email and SMS go out directly: a subscriber is reachable when they are subscribed to the bot,
have the address, and opted in to that kind of message; otherwise the call is refused (422 on
`user_ns`) and nothing is sent.

Texts and content go through the outbox to the channel the subscriber is reached on, and flows
(a sub flow, the main flow, a single node) run through the flow engine, both in the caller's
transaction: nothing is sent unless the call succeeds. An unsubscribed subscriber is refused
everything (422); while the bot is paused for them, flows are refused too, but a text (or
content sent as an agent) still goes out, as agents keep talking while the bot is paused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.channels.base import Text
from konversation.channels.whatsapp import OUTSIDE_WINDOW, window_closed
from konversation.conversations.models import Direction
from konversation.conversations.service import record_message
from konversation.db import utcnow
from konversation.errors import Invalid
from konversation.flows import index
from konversation.flows.models import Flow
from konversation.flows.service import SUB_FLOWS, main_flow
from konversation.runtime.engine import Engine, refusal
from konversation.sending import NotConfigured
from konversation.sending.content import DynamicContent, apply_changes, prepare
from konversation.sending.email import SmtpConfig
from konversation.sending.email import send_email as deliver_email
from konversation.sending.sms import SmsGatewayConfig, international
from konversation.sending.sms import send_sms as deliver_sms
from konversation.subscribers.models import Subscriber, SubscriberChannel
from konversation.subscribers.service import get_by_user_id, get_subscriber
from konversation.whatsapp.service import opening_template
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


# Through the channels

API = "api"
UNSUBSCRIBED = "The subscriber has unsubscribed from the bot."


async def send_text(
    session: AsyncSession, engine: Engine, bot_id: int, *, user_ns: str, content: str
) -> None:
    """A text from the bot, sent as written; allowed while the bot is paused."""
    subscriber = await get_subscriber(session, bot_id, user_ns)
    if not subscriber.is_subscribed:
        raise Invalid.field("user_ns", UNSUBSCRIBED)
    await _refuse_outside_window(session, subscriber, "user_ns")
    await engine.send(session, subscriber, [Text(content)], origin=API)


async def send_content(
    session: AsyncSession,
    engine: Engine,
    bot_id: int,
    *,
    user_ns: str,
    content: DynamicContent,
    as_agent: bool = False,
) -> None:
    """Dynamic content: its actions, then its messages, then its `goto` node, if any.

    Sent by the bot, it is refused while the bot is paused; sent as an agent, it goes out all
    the same, unless it goes on into a flow.
    """
    subscriber = await get_subscriber(session, bot_id, user_ns)
    prepared = await prepare(session, bot_id, content)
    if not subscriber.is_subscribed:
        raise Invalid.field("user_ns", UNSUBSCRIBED)
    if not as_agent or prepared.goto is not None:
        _refuse_unless_runnable(subscriber, "user_ns")
    await _refuse_outside_window(session, subscriber, "user_ns")
    await apply_changes(session, subscriber, prepared)
    if prepared.messages:
        await engine.send(session, subscriber, prepared.messages, origin=API)
    if prepared.goto is not None:
        goto = prepared.goto
        await engine.start(session, subscriber, goto.flow, node_id=goto.node_id, origin=API)


async def send_sub_flow(
    session: AsyncSession, engine: Engine, bot_id: int, *, user_ns: str, sub_flow_ns: str
) -> None:
    subscriber = await get_subscriber(session, bot_id, user_ns)
    flow = await SUB_FLOWS.by_ns(session, bot_id, sub_flow_ns)
    await _start(session, engine, subscriber, flow, field="user_ns")


async def send_sub_flow_by_user_id(
    session: AsyncSession, engine: Engine, bot_id: int, *, user_id: str, sub_flow_ns: str
) -> None:
    """The subscriber named by their id on their channel."""
    subscriber = await get_by_user_id(session, bot_id, user_id)
    flow = await SUB_FLOWS.by_ns(session, bot_id, sub_flow_ns)
    await _start(session, engine, subscriber, flow, field="user_id")


async def send_sub_flow_by_flow_name(
    session: AsyncSession,
    engine: Engine,
    bot_id: int,
    *,
    user_ns: str,
    flow_name: str,
    variables: Mapping[str, Any] | None = None,
) -> None:
    """The sub flow named `flow_name` (the oldest of that name); `variables` are the run's own,
    available to its texts as `{{name}}`."""
    subscriber = await get_subscriber(session, bot_id, user_ns)
    flow = await SUB_FLOWS.by_name(session, bot_id, flow_name.strip())
    await _start(session, engine, subscriber, flow, field="user_ns", variables=variables)


async def send_main_flow(
    session: AsyncSession, engine: Engine, bot_id: int, *, user_ns: str
) -> None:
    subscriber = await get_subscriber(session, bot_id, user_ns)
    flow = await main_flow(session, bot_id)
    await _start(session, engine, subscriber, flow, field="user_ns")


async def send_node(
    session: AsyncSession, engine: Engine, bot_id: int, *, user_ns: str, node_ns: str
) -> None:
    """The flow holding the node `node_ns` (`f<bot>n<number>`), from that node on."""
    subscriber = await get_subscriber(session, bot_id, user_ns)
    flow, node_id = await index.node_by_ns(session, bot_id, node_ns.strip())
    await _start(session, engine, subscriber, flow, field="user_ns", node_id=node_id)


async def _start(
    session: AsyncSession,
    engine: Engine,
    subscriber: Subscriber,
    flow: Flow,
    *,
    field: str,
    node_id: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> None:
    _refuse_unless_runnable(subscriber, field)
    if opening_template(flow, node_id) is None:
        await _refuse_outside_window(session, subscriber, field)
    await engine.start(session, subscriber, flow, node_id=node_id, variables=variables, origin=API)


def _refuse_unless_runnable(subscriber: Subscriber, field: str) -> None:
    reason = refusal(subscriber)
    if reason is not None:
        raise Invalid.field(field, reason)


async def _refuse_outside_window(session: AsyncSession, subscriber: Subscriber, field: str) -> None:
    """Free-form messages (texts, content, flows) reach a WhatsApp subscriber only within 24
    hours of their last message; templates are sent with send-whatsapp-template, or by a flow
    that opens with one."""
    types = await session.scalars(
        select(SubscriberChannel.type).where(SubscriberChannel.subscriber_id == subscriber.id)
    )
    if window_closed(subscriber, set(types), utcnow()):
        raise Invalid.field(field, OUTSIDE_WINDOW)
