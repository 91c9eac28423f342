"""The shop pages: orders with their items and status moves (which tell the customer through the
flows they trigger), and the products with their variants."""

from __future__ import annotations

from dashboard_browsing import DashboardClient
from pages_support import (  # noqa: F401
    flashes,
    owner_fixture,
    post_and_follow,
    text_of,
    workspace_of,
)
from sqlalchemy.ext.asyncio import AsyncSession

from builders import make_subscriber
from konversation.commerce import catalog
from konversation.commerce import orders as shop_orders
from konversation.commerce.models import Order
from konversation.db import PageRequest
from konversation.demo import DemoSecrets


async def _sticker_order(
    session: AsyncSession, demo: DemoSecrets, *, qty: int = 2
) -> tuple[Order, str]:
    """An order of stickers placed by a new subscriber, and the subscriber's id."""
    zoe = await make_subscriber(session, demo.bot_id, name="Zoe Quinn")
    workspace_id = await workspace_of(session, demo.bot_id)
    products, _ = await catalog.list_products(
        session,
        workspace_id,
        name="Sticker",
        product_type_id=None,
        vendor_id=None,
        window=PageRequest(),
    )
    variant = products[0].variants[0]
    user_ns = f"f{demo.bot_id}u{zoe.number}"
    order = await shop_orders.create_order(
        session,
        demo.bot_id,
        user_ns=user_ns,
        items=[shop_orders.ItemRequest(variant_id=variant.id, qty=qty)],
    )
    await session.commit()
    return order, user_ns


async def test_orders_are_listed_with_their_totals_and_filtered_by_status(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    order, _ = await _sticker_order(session, demo)
    page = await owner.http.get("/dashboard/shop/orders")
    assert page.status_code == 200
    assert f"#{order.id}" in text_of(page)
    assert "Zoe Quinn Demo bot 2 7.00 USD ordered" in text_of(page)
    assert f"#{order.id}" not in text_of(await owner.http.get("/dashboard/shop/orders?status=paid"))
    assert "No paid orders." in text_of(await owner.http.get("/dashboard/shop/orders?status=paid"))


async def test_an_order_shows_its_items_and_moves_on_telling_the_customer(
    owner: DashboardClient, demo: DemoSecrets, session: AsyncSession
) -> None:
    order, user_ns = await _sticker_order(session, demo)
    here = f"/dashboard/shop/orders/{order.id}"
    page = await owner.http.get(here)
    assert page.status_code == 200
    text = text_of(page)
    assert "Sticker pack 3.50 USD 2 7.00 USD" in text
    assert "Total 7.00 USD" in text
    assert "<option>paid</option>" in page.text
    assert "<option>ordered</option>" not in page.text

    page = await post_and_follow(owner, f"{here}/status", {"status": "shipped"})
    assert flashes(page) == [("success", f"Order #{order.id} is shipped now.")]
    # The demo's "Order shipped" flow is triggered by the move, and writes to the customer.
    chat = await owner.http.get(f"/dashboard/subscribers/{user_ns}")
    assert f"Good news: order #{order.id} is on its way!" in text_of(chat)

    page = await post_and_follow(owner, f"{here}/status", {"status": "ordered"})
    assert flashes(page) == [("error", "An order that is shipped cannot become ordered.")]
    page = await post_and_follow(owner, f"{here}/status", {"status": "lost"})
    assert flashes(page) == [("error", "Choose a status to move the order to.")]


async def test_unknown_orders_and_products_are_not_found(owner: DashboardClient) -> None:
    for path in ("/dashboard/shop/orders/999", "/dashboard/shop/products/999"):
        assert (await owner.http.get(path)).status_code == 404
    assert (await owner.http.get("/dashboard/shop/products/99999999999")).status_code == 404
    answer = await owner.post("/dashboard/shop/orders/999/status", {"status": "paid"})
    assert answer.status_code == 404


async def test_products_are_listed_and_shown_with_their_variants(owner: DashboardClient) -> None:
    page = await owner.http.get("/dashboard/shop/products")
    assert page.status_code == 200
    text = text_of(page)
    assert "Coffee mug active 2 12.00 USD 40" in text
    assert "Sticker pack active 1 3.50 USD 100" in text
    found = await owner.http.get("/dashboard/shop/products?q=mug")
    assert "Sticker pack" not in text_of(found)

    mug = found.text.split('href="/dashboard/shop/products/')[1].split('"')[0]
    page = await owner.http.get(f"/dashboard/shop/products/{mug}")
    text = text_of(page)
    assert "Blue 12.00 USD 20" in text
    assert "White 12.00 USD 20" in text
    assert "A sturdy mug for the morning." in text
