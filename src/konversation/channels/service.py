"""A bot's channels: finding them, the web chat channel every bot has, and the inbound webhooks
that start a sub flow when an outside system calls them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.channels.models import BotChannel, ChannelType
from konversation.errors import Invalid, NotFound
from konversation.flows.models import Flow, InboundWebhook
from konversation.subscribers import service as subscribers
from konversation.subscribers.models import Subscriber, SubscriberChannel

CHANNEL_NOT_FOUND = "Channel not found"
WEBHOOK_NOT_FOUND = "Webhook not found"
SUB_FLOW_NOT_FOUND = "Sub flow not found"
HOOK_ACTIVE = "active"


async def get_channel(session: AsyncSession, bot_id: int, type_: str) -> BotChannel | None:
    return await session.scalar(
        select(BotChannel).where(BotChannel.bot_id == bot_id, BotChannel.type == type_)
    )


async def channel_by_uid(session: AsyncSession, uid: str, type_: str) -> BotChannel:
    """The enabled channel of `type_` whose URLs carry `uid`."""
    channel = await session.scalar(
        select(BotChannel).where(
            BotChannel.uid == uid, BotChannel.type == type_, BotChannel.enabled.is_(True)
        )
    )
    if channel is None:
        raise NotFound(CHANNEL_NOT_FOUND)
    return channel


async def enabled_types(session: AsyncSession, bot_id: int) -> set[str]:
    """The channels the bot can send on; web chat always."""
    found = await session.scalars(
        select(BotChannel.type).where(BotChannel.bot_id == bot_id, BotChannel.enabled.is_(True))
    )
    return {ChannelType.WEB, *found}


async def web_channel(session: AsyncSession, bot_id: int) -> BotChannel:
    """The bot's web chat channel, made on first use."""
    channel = await get_channel(session, bot_id, ChannelType.WEB)
    if channel is None:
        channel = BotChannel(bot_id=bot_id, type=ChannelType.WEB, config={})
        session.add(channel)
        await session.flush()
    return channel


async def bot_channels(session: AsyncSession, bot_id: int) -> Sequence[BotChannel]:
    """The bot's channel records, the web chat's first (made on first use)."""
    await web_channel(session, bot_id)
    found = await session.scalars(
        select(BotChannel).where(BotChannel.bot_id == bot_id).order_by(BotChannel.id)
    )
    return sorted(found, key=lambda channel: (channel.type != ChannelType.WEB, channel.id))


# Inbound webhooks: URLs that outside systems call to start a sub flow for a subscriber


@dataclass(frozen=True)
class WebhookStart:
    """What a call of an inbound webhook starts: its sub flow, for whom, with which variables."""

    subscriber: Subscriber
    flow: Flow
    variables: dict[str, Any]


async def inbound_webhook_start(session: AsyncSession, hook_uid: str, body: Any) -> WebhookStart:
    """The sub flow of the active inbound webhook `hook_uid`, for the subscriber `body` names by
    `user_ns` or `user_id`; the body's top-level keys become the run's `webhook.<key>`
    variables.

    NotFound for an unknown or inactive hook, or a sub flow or subscriber that is not there;
    Invalid for a body that is no JSON object or names no subscriber.
    """
    hook = await active_inbound_webhook(session, hook_uid)
    if not isinstance(body, Mapping):
        raise Invalid.field("body", "The body must be a JSON object.")
    subscriber = await _named_subscriber(session, hook.bot_id, body)
    flow = await session.scalar(
        select(Flow).where(Flow.bot_id == hook.bot_id, Flow.number == hook.sub_flow_number)
    )
    if flow is None:
        raise NotFound(SUB_FLOW_NOT_FOUND)
    return WebhookStart(subscriber, flow, webhook_variables(body))


async def active_inbound_webhook(session: AsyncSession, hook_uid: str) -> InboundWebhook:
    hook = await session.scalar(
        select(InboundWebhook).where(
            InboundWebhook.hook_uid == hook_uid, InboundWebhook.status == HOOK_ACTIVE
        )
    )
    if hook is None:
        raise NotFound(WEBHOOK_NOT_FOUND)
    return hook


def webhook_variables(body: Mapping[str, Any]) -> dict[str, Any]:
    """The body's top-level keys as the run's variables `webhook.<key>`."""
    return {f"webhook.{key}": value for key, value in body.items()}


async def _named_subscriber(
    session: AsyncSession, bot_id: int, body: Mapping[str, Any]
) -> Subscriber:
    user_ns, user_id = body.get("user_ns"), body.get("user_id")
    if isinstance(user_ns, str) and user_ns.strip():
        return await subscribers.get_subscriber(session, bot_id, user_ns.strip())
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        user_id = str(user_id)  # outside systems often number their users
    if isinstance(user_id, str) and user_id.strip():
        return await _subscriber_by_user_id(session, bot_id, user_id.strip())
    raise Invalid.field("user_ns", "The user_ns or user_id field is required.")


async def _subscriber_by_user_id(session: AsyncSession, bot_id: int, user_id: str) -> Subscriber:
    """The subscriber whose own user id is `user_id`, or who is known by it on a channel."""
    try:
        return await subscribers.get_by_user_id(session, bot_id, user_id)
    except NotFound:
        pass
    found = await session.scalar(
        select(Subscriber)
        .join(SubscriberChannel, SubscriberChannel.subscriber_id == Subscriber.id)
        .where(Subscriber.bot_id == bot_id, SubscriberChannel.user_id == user_id)
        .order_by(Subscriber.id)
        .limit(1)
    )
    if found is None:
        raise NotFound(subscribers.NOT_FOUND)
    return found
