"""The web chat channel: messages go to the visitor's open page through the hub.

A visitor is known by the id their browser keeps (`visitor`), which is also their user id on
the channel. The page listens on `topic(uid, visitor)`; a visitor who is not connected reads
the message back from the history when they return.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from konversation.channels.base import InboundEvent, Outbound, free_form, message_json
from konversation.channels.hub import Hub


def topic(channel_uid: str, visitor: str) -> str:
    return f"webchat:{channel_uid}:{visitor}"


class WebChatChannel:
    type = "web"

    def __init__(self, hub: Hub, channel_uid: str) -> None:
        self._hub = hub
        self._uid = channel_uid

    async def send(self, recipient: str, message: Outbound) -> str:
        message_id = uuid.uuid4().hex
        event = {"type": "message", "id": message_id, "message": message_json(free_form(message))}
        await self._hub.publish(topic(self._uid, recipient), event)
        return message_id

    def parse(self, update: Mapping[str, Any]) -> list[InboundEvent]:
        """The page posts through its own endpoint, which builds the event itself."""
        return []

    async def acknowledge(self, event: InboundEvent) -> None:
        """The page waits for nothing."""
