"""cart-paid: the cart becomes a paid order, all or nothing, with stock taken and prices fixed."""

from __future__ import annotations

import httpx
import pytest
from orders_support import (
    Stocked,
    add,
    cart_of,
    make_variant,
    ns,
    order_count,
    order_lines,
    pay,
    stock_of,
)
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from builders import Sessions, Tenant, make_subscriber
from konversation.commerce.models import Product, ProductStatus, ProductVariant

DETAILS = {
    "shipping_method": "delivery",
    "payment_method": "card",
    "reference_no": "PAY-3829",
    "note": "Leave it at the door.",
    "name": "Sam S.",
    "phone": "+61400000009",
    "email": "sam.s@example.com",
    "address": "1 George St",
    "suburb": "Sydney",
    "state": "NSW",
    "postcode": "2000",
    "country": "Australia",
    "tracking_no": "TRK1",
}


@pytest.fixture
async def sam(session: AsyncSession, tenant: Tenant) -> str:
    return ns(
        await make_subscriber(
            session, tenant.bot_id, name="Sam Smith", phone="+61400000001", email="sam@example.com"
        )
    )


@pytest.fixture
async def shirt(session: AsyncSession, tenant: Tenant) -> Stocked:
    return await make_variant(
        session,
        tenant.workspace_id,
        name="T-shirt",
        price_minor=1299,
        options=("Blue", None),
        sku="TS-B",
        track_stock=True,
        qty=5,
    )


@pytest.fixture
async def mug(session: AsyncSession, tenant: Tenant) -> Stocked:
    return await make_variant(session, tenant.workspace_id, name="Mug", price_minor=450)


class TestCartPaid:
    async def test_turns_the_cart_into_a_paid_order(
        self,
        api: httpx.AsyncClient,
        sessions: Sessions,
        sam: str,
        shirt: Stocked,
        mug: Stocked,
    ) -> None:
        await add(api, sam, shirt.variant_id, 2)
        await add(api, sam, mug.variant_id, 1)
        response = await pay(api, sam, **DETAILS)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "ok"
        order = body["data"]
        assert {k: order[k] for k in DETAILS} == DETAILS
        assert order["status"] == "paid"
        assert order["user_ns"] == sam
        assert order["currency"] == "usd"
        assert order["total"] == "30.48"
        assert order["total_price"] == 30.48
        assert order["subtotal_price"] == 30.48
        assert order["discount_price"] == 0
        assert order["num_of_items"] == 3
        assert order["paid_at"]
        assert [
            (i["variant_id"], i["name"], i["variant_name"], i["sku"], i["price"], i["qty"])
            for i in order["items"]
        ] == [
            (shirt.variant_id, "T-shirt", "Blue", "TS-B", 12.99, 2),
            (mug.variant_id, "Mug", "", None, 4.5, 1),
        ]
        assert [i["subtotal"] for i in order["items"]] == [25.98, 4.5]
        assert (await cart_of(api, sam))["items"] == []
        assert await stock_of(sessions, shirt.variant_id) == 3

    async def test_the_order_is_listed_with_its_total_as_text(
        self, api: httpx.AsyncClient, sam: str, shirt: Stocked
    ) -> None:
        await add(api, sam, shirt.variant_id, 2)
        order = (await pay(api, sam)).json()["data"]
        listed = (await api.get("/shop/orders", params={"user_ns": sam})).json()
        assert [(o["id"], o["total"], o["currency"], o["status"]) for o in listed["data"]] == [
            (order["id"], "25.98", "usd", "paid")
        ]

    async def test_contact_details_left_out_are_the_subscribers(
        self, api: httpx.AsyncClient, sam: str, mug: Stocked
    ) -> None:
        await add(api, sam, mug.variant_id)
        order = (await pay(api, sam, name="", shipping_method="pickup")).json()["data"]
        assert (order["name"], order["phone"], order["email"]) == (
            "Sam Smith",
            "+61400000001",
            "sam@example.com",
        )
        assert order["shipping_method"] == "pickup"
        assert order["address"] is None

    async def test_prices_are_fixed_in_the_order(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sam: str,
        mug: Stocked,
    ) -> None:
        await add(api, sam, mug.variant_id, 2)
        order = (await pay(api, sam)).json()["data"]
        await session.execute(
            update(ProductVariant)
            .where(ProductVariant.id == mug.variant_id)
            .values(price_minor=999)
        )
        await session.commit()
        again = (await api.get(f"/shop/orders/{order['id']}/get-info")).json()["data"]
        assert again["items"][0]["price"] == 4.5
        assert again["total"] == "9.00"

    async def test_an_empty_cart_answers_422(self, api: httpx.AsyncClient, sam: str) -> None:
        response = await pay(api, sam)
        assert response.status_code == 422
        assert response.json()["errors"] == {"user_ns": ["The subscriber's cart is empty."]}

    async def test_stock_is_checked_again_and_nothing_changes_when_short(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        sam: str,
        shirt: Stocked,
        mug: Stocked,
    ) -> None:
        await add(api, sam, mug.variant_id)
        await add(api, sam, shirt.variant_id, 4)
        await session.execute(
            update(ProductVariant).where(ProductVariant.id == shirt.variant_id).values(qty=3)
        )
        await session.commit()
        response = await pay(api, sam)
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "items.1.qty": ["Only 3 of T-shirt (Blue) left in stock."]
        }
        assert await stock_of(sessions, shirt.variant_id) == 3
        assert await order_count(sessions, tenant) == 0
        assert (await cart_of(api, sam))["num_of_items"] == 5

    async def test_a_variant_that_may_sell_without_stock_goes_on_backorder(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        sam: str,
    ) -> None:
        preorder = await make_variant(
            session,
            tenant.workspace_id,
            name="Preorder",
            track_stock=True,
            allow_no_stock_sell=True,
            qty=1,
        )
        await add(api, sam, preorder.variant_id, 3)
        assert (await pay(api, sam)).status_code == 200
        assert await stock_of(sessions, preorder.variant_id) == -2

    async def test_a_variant_that_tracks_no_stock_keeps_its_count(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: str, mug: Stocked
    ) -> None:
        await add(api, sam, mug.variant_id, 3)
        assert (await pay(api, sam)).status_code == 200
        assert await stock_of(sessions, mug.variant_id) == 0

    async def test_a_product_taken_off_sale_meanwhile_answers_422(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sam: str,
        mug: Stocked,
    ) -> None:

        await add(api, sam, mug.variant_id)
        await session.execute(
            update(Product)
            .where(Product.id == mug.product_id)
            .values(status=ProductStatus.INACTIVE)
        )
        await session.commit()
        response = await pay(api, sam)
        assert response.status_code == 422
        assert response.json()["errors"] == {"items.0.variant_id": ["Mug is not for sale."]}

    async def test_shipping_method_is_pickup_or_delivery(
        self, api: httpx.AsyncClient, sam: str, mug: Stocked
    ) -> None:
        await add(api, sam, mug.variant_id)
        response = await pay(api, sam, shipping_method="teleport")
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "shipping_method": ["The shipping_method must be pickup or delivery."]
        }
        response = await pay(api, sam, shipping_method="Delivery")
        assert response.json()["data"]["shipping_method"] == "delivery"

    async def test_numbers_are_taken_as_text_for_text_details(
        self, api: httpx.AsyncClient, sam: str, mug: Stocked
    ) -> None:
        await add(api, sam, mug.variant_id)
        order = (await pay(api, sam, postcode=2000, reference_no=123456)).json()["data"]
        assert (order["postcode"], order["reference_no"]) == ("2000", "123456")

    async def test_the_chat_log_shows_the_order(
        self, api: httpx.AsyncClient, sam: str, mug: Stocked
    ) -> None:
        await add(api, sam, mug.variant_id, 2)
        order = (await pay(api, sam)).json()["data"]
        lines = await order_lines(api, sam)
        assert [(m["type"], m["content"]) for m in lines] == [
            ("system", f"Order #{order['id']} placed (paid), total 9.00 USD.")
        ]

    async def test_an_unknown_subscriber_answers_404(
        self, api: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        response = await pay(api, f"{tenant.flow_ns}u999")
        assert response.status_code == 404
