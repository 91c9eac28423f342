"""What the tests of paid-order integrations share: a workspace's product, a subscriber who
buys it, the integration saved, and the background work run as a worker would."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from sqlalchemy import select

from builders import Sessions, Tenant, make_subscriber
from konversation.commerce.models import Product, ProductVariant
from konversation.db import session_scope
from konversation.ids import Kind as IdKind
from konversation.ids import format_ns
from konversation.integrations import delivery, service
from konversation.integrations.calls import IntegrationCall
from konversation.integrations.kinds import Kind
from konversation.jobs.runtime import Runtime


async def make_product(sessions: Sessions, workspace_id: int, *, sku: str = "TS-BLUE") -> int:
    async with session_scope(sessions) as session:
        product = Product(workspace_id=workspace_id, name="T-shirt", status="active")
        session.add(product)
        await session.flush()
        variant = ProductVariant(product_id=product.id, price_minor=1250, sku=sku, qty=0)
        session.add(variant)
        await session.flush()
        return variant.id


async def make_buyer(sessions: Sessions, bot_id: int) -> str:
    async with session_scope(sessions) as session:
        subscriber = await make_subscriber(
            session, bot_id, name="Ada Lovelace", email=" Ada@Example.COM ", phone="+44 7700 900123"
        )
        return format_ns(bot_id, IdKind.SUBSCRIBER, subscriber.number)


async def save(
    sessions: Sessions, secret: bytes, workspace_id: int, kind: Kind, values: dict[str, Any]
) -> None:
    async with session_scope(sessions) as session:
        await service.save(session, secret, workspace_id, kind, values)


async def place(
    api: httpx.AsyncClient, user_ns: str, variant_id: int, status: str = "paid"
) -> dict[str, Any]:
    made = await api.post(
        "/shop/orders/create",
        json={
            "user_ns": user_ns,
            "status": status,
            "items": [{"variant_id": variant_id, "qty": 2}],
        },
    )
    assert made.status_code == 200, made.text
    order: dict[str, Any] = made.json()["data"]
    return order


async def buy(
    api: httpx.AsyncClient, sessions: Sessions, tenant: Tenant, status: str = "paid"
) -> tuple[str, dict[str, Any]]:
    """A new buyer orders two of a new product of the workspace; answers the buyer's user_ns
    and the order, placed `status`."""
    variant = await make_product(sessions, tenant.workspace_id)
    buyer = await make_buyer(sessions, tenant.bot_id)
    return buyer, await place(api, buyer, variant, status)


async def calls_of(sessions: Sessions, tenant: Tenant, kind: Kind) -> list[IntegrationCall]:
    async with sessions() as session:
        rows = await session.scalars(
            select(IntegrationCall)
            .where(
                IntegrationCall.workspace_id == tenant.workspace_id,
                IntegrationCall.kind == kind.value,
            )
            .order_by(IntegrationCall.id)
        )
        return list(rows)


async def work_at(runtime: Runtime, moment: dt.datetime) -> int:
    """Make the integration calls due at `moment`, as a worker would then."""
    return await delivery.deliver_due(
        runtime.integration_context(), runtime.server_secret, now=moment
    )
