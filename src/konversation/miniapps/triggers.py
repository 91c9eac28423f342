"""A mini-app fires one of its triggers for a subscriber: the bot's flows that listen start."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from konversation.errors import Invalid
from konversation.flows import index
from konversation.keys.service import BotKey
from konversation.miniapps.service import declared_trigger
from konversation.runtime.engine import Engine, refusal
from konversation.subscribers.service import get_subscriber

ORIGIN = "app"


async def fire(
    session: AsyncSession,
    engine: Engine,
    key: BotKey,
    *,
    user_ns: str,
    trigger_name: str,
    context: Mapping[str, Any],
) -> int:
    """Start every flow of the key's bot that the trigger starts, with `context` as the runs'
    variables; answers how many started. 404 for an unknown subscriber, 422 for a trigger no
    installed app declares or a subscriber no flow may run for."""
    subscriber = await get_subscriber(session, key.bot_id, user_ns)
    app_ns, name = await declared_trigger(session, key.workspace_id, trigger_name)
    reason = refusal(subscriber)
    if reason is not None:
        raise Invalid.field("user_ns", reason)
    flows = await index.app_trigger_flows(session, key.bot_id, app_ns, name)
    for flow in flows:
        await engine.start(session, subscriber, flow, variables=context, origin=ORIGIN)
    return len(flows)
