"""Helpers of the Sending tests: subscribers reached through the API channel, flows, and the
messages the webhook sink received (the fixtures are in this directory's conftest.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from builders import Tenant, make_subscriber
from fake_webhook import FakeWebhook
from konversation.channels.models import ChannelType
from konversation.flows import service as flows
from konversation.subscribers.models import Subscriber

HOOK = "/bot-messages"


async def reachable(session: AsyncSession, tenant: Tenant, **columns: Any) -> Subscriber:
    """A subscriber the bot reaches through its API channel."""
    return await make_subscriber(session, tenant.bot_id, channel=ChannelType.API, **columns)


def ns(subscriber: Subscriber) -> str:
    return f"f{subscriber.bot_id}u{subscriber.number}"


def text_flow(*texts: str, name: str | None = None) -> dict[str, Any]:
    """A flow sending `texts`, one node each, the first named `name` (when given)."""
    nodes: list[dict[str, Any]] = []
    for position, text in enumerate(texts):
        node: dict[str, Any] = {
            "id": f"say{position}",
            "type": "send_message",
            "messages": [{"type": "text", "text": text}],
            "next": f"say{position + 1}" if position + 1 < len(texts) else None,
        }
        if position == 0 and name is not None:
            node["name"] = name
        nodes.append(node)
    return {"version": 1, "start": "say0", "nodes": nodes}


async def make_flow(session: AsyncSession, tenant: Tenant, name: str, *texts: str) -> str:
    """A sub flow sending `texts`; answers its sub_flow_ns."""
    flow = await flows.create_flow(session, tenant.bot_id, name=name, definition=text_flow(*texts))
    await session.commit()
    return f"f{tenant.bot_id}s{flow.number}"


def delivered(webhook: FakeWebhook) -> list[tuple[str, dict[str, Any]]]:
    """(recipient, message) of each message the webhook received, in order."""
    return [(event["user_id"], event["message"]) for event in webhook.events(HOOK)]


def texts_to(webhook: FakeWebhook, subscriber: Subscriber) -> list[str]:
    return [
        message.get("text", "")
        for recipient, message in delivered(webhook)
        if recipient == subscriber.user_id
    ]
