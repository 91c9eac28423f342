"""The workspace's shop: its orders (with their status moves) and its products, to read."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Form
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from konversation.commerce import catalog, money
from konversation.commerce import orders as shop_orders
from konversation.commerce.models import OrderStatus, ProductVariant
from konversation.dashboard.pages_common import (
    BUILDERS,
    PAGE_SIZE,
    Builder,
    Member,
    Paging,
    messages_of,
    page_number,
    query_string,
    selected_workspace,
)
from konversation.dashboard.web import DbSession, flash, page_router, redirect, render
from konversation.db import PageRequest
from konversation.errors import KonversationError, NotFound
from konversation.ids import MAX_ID
from konversation.subscribers.models import Subscriber

router = page_router()

ORDERS: Final = "/dashboard/shop/orders"
PRODUCTS: Final = "/dashboard/shop/products"
STATUSES: Final = [status.value for status in OrderStatus]


def amount(minor: int | None, currency: str) -> str:
    """`1299` in USD as `12.99 USD`."""
    if minor is None:
        return ""
    return f"{money.format_amount(minor, currency)} {currency.upper()}"


@router.get(ORDERS)
async def order_list(
    request: Request,
    viewer: Member,
    session: DbSession,
    status: str = "",
    page: str | None = None,
) -> Response:
    workspace = selected_workspace(viewer)
    status = status if status in STATUSES else ""
    window = PageRequest(page=page_number(page), limit=PAGE_SIZE)
    views, total = await shop_orders.list_orders(
        session, workspace.id, window=window, status=OrderStatus(status) if status else None
    )
    return render(
        request,
        "shop_orders.html",
        {
            "views": views,
            "paging": Paging(window.page, total),
            "status": status,
            "statuses": STATUSES,
            "query": query_string({"status": status}),
            "amount": amount,
            "bot_names": {bot.id: bot.name for bot in viewer.bots},
            "customers": await _customer_names(session, [v.order.subscriber_id for v in views]),
        },
    )


async def _customer_names(session: AsyncSession, ids: list[int | None]) -> dict[int, str]:
    """The names of the subscribers who placed orders, by their row id."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(
        select(Subscriber.id, Subscriber.name).where(Subscriber.id.in_(wanted))
    )
    return {row_id: name for row_id, name in rows if name}


@router.get(ORDERS + "/{order_id}")
async def order_detail(
    request: Request, viewer: Member, session: DbSession, order_id: int
) -> Response:
    workspace = selected_workspace(viewer)
    view = await shop_orders.get_order(session, workspace.id, order_id)
    order = view.order
    return render(
        request,
        "shop_order.html",
        {
            "view": view,
            "order": order,
            "amount": amount,
            "moves": sorted(
                (s.value for s in shop_orders.TRANSITIONS[OrderStatus(order.status)]),
                key=STATUSES.index,
            ),
            "bot_name": next((b.name for b in viewer.bots if b.id == order.bot_id), ""),
            "customer": (await _customer_names(session, [order.subscriber_id])).get(
                order.subscriber_id or 0, ""
            ),
            "may_change": viewer.has_role(*BUILDERS),
            "subscriber_link": view.user_ns
            if viewer.bot is not None and order.bot_id == viewer.bot.id
            else None,
        },
    )


@router.post(ORDERS + "/{order_id}/status")
async def change_status(
    request: Request,
    viewer: Builder,
    session: DbSession,
    order_id: int,
    status: Annotated[str, Form()] = "",
) -> Response:
    """Move the order on; the subscriber hears of it when a flow is triggered by the status."""
    workspace = selected_workspace(viewer)
    view = await shop_orders.get_order(session, workspace.id, order_id)
    try:
        new = OrderStatus(status)
    except ValueError:
        flash(request, "Choose a status to move the order to.", "error")
        return redirect(request, f"{ORDERS}/{order_id}")
    try:
        async with session.begin_nested():
            await shop_orders.update_order(session, view.order.bot_id, order_id, status=new)
    except KonversationError as refused:
        for message in messages_of(refused):
            flash(request, message, "error")
    else:
        flash(request, f"Order #{order_id} is {new.value} now.", "success")
    return redirect(request, f"{ORDERS}/{order_id}")


@router.get(PRODUCTS)
async def product_list(
    request: Request, viewer: Member, session: DbSession, q: str = "", page: str | None = None
) -> Response:
    workspace = selected_workspace(viewer)
    shop = await catalog.load_shop(session, workspace.id)
    window = PageRequest(page=page_number(page), limit=PAGE_SIZE)
    views, total = await catalog.list_products(
        session,
        workspace.id,
        name=q.strip() or None,
        product_type_id=None,
        vendor_id=None,
        window=window,
    )
    return render(
        request,
        "shop_products.html",
        {
            "views": views,
            "paging": Paging(window.page, total),
            "q": q,
            "query": query_string({"q": q}),
            "currency": shop.currency,
            "prices": lambda variants: price_range(variants, shop.currency),
        },
    )


def price_range(variants: list[ProductVariant], currency: str) -> str:
    prices = sorted({variant.price_minor for variant in variants})
    if not prices:
        return ""
    if len(prices) == 1:
        return amount(prices[0], currency)
    low, high = money.format_amount(prices[0], currency), amount(prices[-1], currency)
    return f"{low} – {high}"


@router.get(PRODUCTS + "/{product_id}")
async def product_detail(
    request: Request, viewer: Member, session: DbSession, product_id: int
) -> Response:
    workspace = selected_workspace(viewer)
    shop = await catalog.load_shop(session, workspace.id)
    if not 0 < product_id <= MAX_ID:
        raise NotFound(catalog.PRODUCT_NOT_FOUND)
    product = await catalog.get_product(session, workspace.id, product_id)
    return render(
        request,
        "shop_product.html",
        {
            "view": await catalog.product_view(session, product),
            "currency": shop.currency,
            "amount": amount,
            "variant_label": shop_orders.variant_label,
        },
    )
