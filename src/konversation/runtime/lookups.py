"""What turns read again and again, read once per unit of work.

A turn needs a bot's fields, a subscriber's field values, where a subscriber is reached, their
open conversation and the numbers of the flow's nodes. Each is read at most once per unit of
work here, and `prefetch` reads them for a whole batch of subscribers in a few queries, which
is what lets a broadcast start thousands of flows a second. What a turn changes itself (an
action that sets a field, tags, opens a chat) is `forget`-ten, so the next read sees it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.channels.models import ChannelType
from konversation.channels.service import enabled_types
from konversation.conversations.models import Conversation
from konversation.conversations.service import current_conversation
from konversation.flows import format as fmt
from konversation.flows import index
from konversation.flows.models import Field, Flow, NodeRef
from konversation.ids import Kind, format_ns
from konversation.subscribers.models import Subscriber, SubscriberChannel, SubscriberFieldValue


@dataclass(frozen=True)
class Route:
    """The channel a message goes out on, and the subscriber's id there."""

    channel: str
    recipient: str


_UNREAD = object()


class Lookups:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._fields: dict[int, list[Field]] = {}
        self._values: dict[int, dict[int, Any]] = {}
        self._channels: dict[int, set[str]] = {}
        self._identities: dict[int, dict[str, str]] = {}
        self._conversations: dict[int, Conversation | None] = {}
        self._numbers: dict[int, dict[str, int]] = {}
        self._nodes: dict[tuple[int, str], fmt.NodeBase | None] = {}

    async def prefetch(self, subscribers: Sequence[Subscriber]) -> None:
        """Read what turns for all of `subscribers` will need, a query per kind."""
        ids = [s.id for s in subscribers]
        if not ids:
            return
        values: dict[int, dict[int, Any]] = defaultdict(dict)
        for subscriber_id, field_id, value in await self.session.execute(
            select(
                SubscriberFieldValue.subscriber_id,
                SubscriberFieldValue.field_id,
                SubscriberFieldValue.value,
            ).where(SubscriberFieldValue.subscriber_id.in_(ids))
        ):
            values[subscriber_id][field_id] = value
        identities: dict[int, dict[str, str]] = defaultdict(dict)
        for subscriber_id, type_, user_id in await self.session.execute(
            select(
                SubscriberChannel.subscriber_id, SubscriberChannel.type, SubscriberChannel.user_id
            ).where(SubscriberChannel.subscriber_id.in_(ids))
        ):
            identities[subscriber_id][type_] = user_id
        conversations: dict[int, Conversation | None] = dict.fromkeys(ids)
        for conversation in await self.session.scalars(
            select(Conversation)
            .where(Conversation.subscriber_id.in_(ids), Conversation.closed.is_(False))
            .order_by(Conversation.id)
        ):
            conversations[conversation.subscriber_id] = conversation  # the newest wins
        for subscriber_id in ids:
            self._values[subscriber_id] = values[subscriber_id]
            self._identities[subscriber_id] = identities[subscriber_id]
        self._conversations.update(conversations)

    def forget(self, subscriber: Subscriber) -> None:
        """The turn changed the subscriber: read them anew next time."""
        for known in (self._values, self._identities, self._conversations):
            known.pop(subscriber.id, None)

    # The bot

    async def fields(self, bot_id: int) -> list[Field]:
        """The bot's user and bot fields, oldest first."""
        if bot_id not in self._fields:
            found = await self.session.scalars(
                select(Field).where(Field.bot_id == bot_id).order_by(Field.number)
            )
            self._fields[bot_id] = list(found)
        return self._fields[bot_id]

    async def channels(self, bot_id: int) -> set[str]:
        if bot_id not in self._channels:
            self._channels[bot_id] = await enabled_types(self.session, bot_id)
        return self._channels[bot_id]

    # The subscriber

    async def field_values(self, subscriber: Subscriber) -> dict[int, Any]:
        """The subscriber's user field values by field id."""
        if subscriber.id not in self._values:
            rows = await self.session.execute(
                select(SubscriberFieldValue.field_id, SubscriberFieldValue.value).where(
                    SubscriberFieldValue.subscriber_id == subscriber.id
                )
            )
            self._values[subscriber.id] = {key: value for key, value in rows}
        return self._values[subscriber.id]

    async def route(self, subscriber: Subscriber, preferred: str | None) -> Route | None:
        """Where the subscriber is reached: the preferred channel, else the one they last wrote
        from, else any of theirs the bot has; a subscriber known only to the API is reached
        through the bot's API channel under their user id."""
        available = await self.channels(subscriber.bot_id)
        identities = await self._identities_of(subscriber)
        for type_ in (preferred, subscriber.last_channel, *sorted(identities)):
            if type_ and type_ in identities and type_ in available:
                return Route(type_, identities[type_])
        if ChannelType.API in available:
            ns = format_ns(subscriber.bot_id, Kind.SUBSCRIBER, subscriber.number)
            return Route(ChannelType.API, subscriber.user_id or ns)
        return None

    async def _identities_of(self, subscriber: Subscriber) -> dict[str, str]:
        if subscriber.id not in self._identities:
            rows = await self.session.execute(
                select(SubscriberChannel.type, SubscriberChannel.user_id).where(
                    SubscriberChannel.subscriber_id == subscriber.id
                )
            )
            self._identities[subscriber.id] = {key: value for key, value in rows}
        return self._identities[subscriber.id]

    async def conversation(self, subscriber: Subscriber) -> Conversation | None:
        """The subscriber's open conversation, if any."""
        known = self._conversations.get(subscriber.id, _UNREAD)
        if known is _UNREAD:
            known = await current_conversation(self.session, subscriber)
            self._conversations[subscriber.id] = known
        assert known is None or isinstance(known, Conversation)
        return known

    # Flows

    def node(self, flow: Flow, node_id: str) -> fmt.NodeBase | None:
        """The flow's node `node_id`, parsed once."""
        key = (flow.id, node_id)
        if key not in self._nodes:
            self._nodes[key] = parse_node(flow, node_id)
        return self._nodes[key]

    async def node_number(self, flow: Flow, node_id: str) -> int:
        """The node's bot-wide number (its `f<bot>n<number>` id)."""
        numbers = self._numbers.get(flow.id)
        if numbers is None or node_id not in numbers:
            numbers = await self._numbers_of(flow)
            if node_id not in numbers:  # a flow saved before nodes were numbered
                await index.index_flow(self.session, flow)
                numbers = await self._numbers_of(flow)
        return numbers[node_id]

    async def _numbers_of(self, flow: Flow) -> dict[str, int]:
        rows = await self.session.execute(
            select(NodeRef.node_id, NodeRef.number).where(NodeRef.flow_id == flow.id)
        )
        self._numbers[flow.id] = {key: value for key, value in rows}
        return self._numbers[flow.id]


def raw_node(flow: Flow, node_id: str) -> dict[str, Any] | None:
    return next((n for n in flow.definition.get("nodes", []) if n.get("id") == node_id), None)


def parse_node(flow: Flow, node_id: str) -> fmt.NodeBase | None:
    raw = raw_node(flow, node_id)
    if raw is None:
        return None
    return fmt.NODE_TYPES[raw["type"]].model_validate(raw)
