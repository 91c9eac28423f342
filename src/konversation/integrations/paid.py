"""An order was paid: the services that want to hear of it (Meta's Conversions API, Dropi) get
one background call each, queued in the transaction that took the payment (see `calls`), so a
service that is down never holds up or undoes the order. The call's key is the order's, so an
order that moves on (paid, then processing) is announced once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.commerce.models import Order, OrderItem
from konversation.ids import Kind as IdKind
from konversation.ids import format_ns
from konversation.integrations.calls import Failure, connected, queue
from konversation.integrations.kinds import Kind
from konversation.subscribers.models import Subscriber
from konversation.workspaces.models import Bot

# The services an order's payment is handed to, each by its handler in `delivery`.
WANT_PAID_ORDERS = (Kind.META_CONVERSIONS, Kind.DROPI)


def order_key(order_id: int) -> str:
    return f"order:{order_id}"


async def order_paid(session: AsyncSession, order: Order) -> None:
    workspace_id = await session.scalar(select(Bot.workspace_id).where(Bot.id == order.bot_id))
    if workspace_id is None:
        return
    for kind in await connected(session, workspace_id, WANT_PAID_ORDERS):
        await queue(session, workspace_id, kind, order_key(order.id), {"order_id": order.id})


@dataclass(frozen=True)
class PaidOrder:
    """An order with its lines and, while they exist, its subscriber and their `user_ns`."""

    order: Order
    items: list[OrderItem]
    subscriber: Subscriber | None
    user_ns: str | None


async def load_order(session: AsyncSession, workspace_id: int, order_id: int) -> PaidOrder:
    """The workspace's order, or a `Failure` not worth retrying when it is gone."""
    order = await session.scalar(
        select(Order)
        .join(Bot, Bot.id == Order.bot_id)
        .where(Order.id == order_id, Bot.workspace_id == workspace_id)
    )
    if order is None:
        raise Failure(f"Order {order_id} no longer exists.", retryable=False)
    items = list(
        await session.scalars(
            select(OrderItem).where(OrderItem.order_id == order.id).order_by(OrderItem.id)
        )
    )
    subscriber = await session.get(Subscriber, order.subscriber_id) if order.subscriber_id else None
    user_ns = format_ns(order.bot_id, IdKind.SUBSCRIBER, subscriber.number) if subscriber else None
    return PaidOrder(order, items, subscriber, user_ns)
