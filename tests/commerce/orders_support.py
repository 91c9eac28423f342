"""Shared arrangements of the cart and order tests: a small catalogue, discount codes, and fresh
reads of what the database holds. (No tests here; the module is named so for its owner.)"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from builders import Sessions, Tenant
from konversation.commerce.models import (
    DiscountCode,
    DiscountType,
    MinRequire,
    Order,
    Product,
    ProductStatus,
    ProductVariant,
)
from konversation.db import utcnow
from konversation.subscribers.models import Subscriber
from konversation.workspaces.models import Workspace

DAY = dt.timedelta(days=1)


def ns(subscriber: Subscriber) -> str:
    return f"f{subscriber.bot_id}u{subscriber.number}"


@dataclass(frozen=True)
class Stocked:
    product_id: int
    variant_id: int


async def make_variant(
    session: AsyncSession,
    workspace_id: int,
    *,
    name: str = "T-shirt",
    price_minor: int = 1299,
    compare_price_minor: int | None = None,
    options: tuple[str | None, str | None] = (None, None),
    track_stock: bool = False,
    allow_no_stock_sell: bool = False,
    qty: int = 0,
    status: str = ProductStatus.ACTIVE,
    sku: str | None = None,
) -> Stocked:
    """A product of the workspace with one variant, as the catalogue stores them."""
    product = Product(
        workspace_id=workspace_id,
        name=name,
        description=f"A fine {name.lower()}.",
        image=f"https://shop.example/{name.lower()}.png",
        status=status,
        use_variant=any(options),
        variant_1_name="Colour" if options[0] else None,
        variant_2_name="Size" if options[1] else None,
    )
    session.add(product)
    await session.flush()
    variant = ProductVariant(
        product_id=product.id,
        variant_1_value=options[0],
        variant_2_value=options[1],
        price_minor=price_minor,
        compare_price_minor=compare_price_minor,
        sku=sku,
        track_stock=track_stock,
        allow_no_stock_sell=allow_no_stock_sell,
        qty=qty,
    )
    session.add(variant)
    await session.commit()
    return Stocked(product.id, variant.id)


async def set_currency(session: AsyncSession, workspace_id: int, currency: str) -> None:
    await session.execute(
        update(Workspace).where(Workspace.id == workspace_id).values(currency=currency)
    )
    await session.commit()


async def make_code(
    session: AsyncSession,
    workspace_id: int,
    code: str,
    *,
    type: DiscountType = DiscountType.PERCENTAGE,
    percentage: int = 0,
    amount_minor: int = 0,
    once_per_order: bool = True,
    min_require: MinRequire = MinRequire.NONE,
    min_price_minor: int = 0,
    min_qty: int = 0,
    max_usage_count: int | None = None,
    usage_count: int = 0,
    one_per_customer: bool = False,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> int:
    now = utcnow()
    discount = DiscountCode(
        workspace_id=workspace_id,
        code=code,
        type=type,
        discount_percentage=percentage,
        discount_amount_minor=amount_minor,
        once_per_order=once_per_order,
        min_require=min_require,
        min_price_minor=min_price_minor,
        min_qty=min_qty,
        has_usage_limit=max_usage_count is not None,
        max_usage_count=max_usage_count or 0,
        usage_count=usage_count,
        one_per_customer=one_per_customer,
        start_time=start or now - DAY,
        end_time=end or now + DAY,
    )
    session.add(discount)
    await session.commit()
    return discount.id


# Fresh reads


async def stock_of(sessions: Sessions, variant_id: int) -> int:
    async with sessions() as fresh:
        qty = await fresh.scalar(select(ProductVariant.qty).where(ProductVariant.id == variant_id))
        assert qty is not None
        return qty


async def uses_of(sessions: Sessions, code_id: int) -> int:
    async with sessions() as fresh:
        used = await fresh.scalar(
            select(DiscountCode.usage_count).where(DiscountCode.id == code_id)
        )
        assert used is not None
        return used


async def order_count(sessions: Sessions, tenant: Tenant) -> int:
    async with sessions() as fresh:
        ids = await fresh.scalars(select(Order.id).where(Order.bot_id == tenant.bot_id))
        return len(ids.all())


# Through the API


async def add(api: httpx.AsyncClient, user_ns: str, variant_id: int, qty: int = 1) -> None:
    response = await api.post(
        "/subscriber/add-to-cart", json={"user_ns": user_ns, "variant_id": variant_id, "qty": qty}
    )
    assert response.status_code == 200, response.text


async def cart_of(api: httpx.AsyncClient, user_ns: str) -> dict[str, Any]:
    response = await api.get("/subscriber/cart", params={"user_ns": user_ns})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def pay(api: httpx.AsyncClient, user_ns: str, **fields: Any) -> httpx.Response:
    return await api.post("/subscriber/cart-paid", json={"user_ns": user_ns, **fields})


async def order_lines(api: httpx.AsyncClient, user_ns: str) -> list[dict[str, Any]]:
    """The subscriber's system lines about orders in the chat log, oldest first."""
    response = await api.get(
        "/subscriber/chat-messages",
        params={"user_ns": user_ns, "include_system": "yes", "limit": 100},
    )
    assert response.status_code == 200, response.text
    rows = [m for m in response.json()["data"] if m["msg_type"] == "order_status"]
    return list(reversed(rows))
