"""The order service as flows will call it: inside a caller's own transaction."""

from __future__ import annotations

import pytest
from orders_support import make_code, make_variant, ns, order_count, stock_of, uses_of
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from builders import Sessions, Tenant, make_subscriber
from konversation.commerce import orders
from konversation.commerce.models import (
    DiscountCode,
    DiscountType,
    Product,
    ProductVariant,
)
from konversation.commerce.orders import Details, Line
from konversation.db import session_scope
from konversation.errors import Invalid


def _line(price_minor: int, qty: int) -> Line:
    variant = ProductVariant(price_minor=price_minor)
    return Line(variant, Product(name="Thing"), qty, price_minor)


class TestPrice:
    @pytest.mark.parametrize(
        ("percentage", "subtotal", "discount"),
        [(15, 999, 150), (10, 1005, 101), (10, 1004, 100), (33, 1, 0), (50, 1, 1), (100, 999, 999)],
    )
    def test_a_percentage_rounds_half_up_to_the_minor_unit(
        self, percentage: int, subtotal: int, discount: int
    ) -> None:
        code = DiscountCode(type=DiscountType.PERCENTAGE, discount_percentage=percentage)
        totals = orders.price([_line(subtotal, 1)], code)
        assert (totals.subtotal, totals.discount, totals.total) == (
            subtotal,
            discount,
            subtotal - discount,
        )

    def test_without_a_code_the_total_is_the_sum_of_the_lines(self) -> None:
        totals = orders.price([_line(1299, 2), _line(450, 3)], None)
        assert (totals.subtotal, totals.discount, totals.shipping, totals.total) == (
            3948,
            0,
            0,
            3948,
        )


class TestInACallersTransaction:
    async def test_a_refused_checkout_leaves_nothing_behind_and_the_caller_goes_on(
        self, session: AsyncSession, sessions: Sessions, tenant: Tenant
    ) -> None:
        lamp = await make_variant(
            session, tenant.workspace_id, name="Lamp", track_stock=True, qty=1
        )
        cheap = await make_variant(session, tenant.workspace_id, name="Cheap", price_minor=100)
        code = await make_code(session, tenant.workspace_id, "TEN", percentage=10)
        sam = ns(await make_subscriber(session, tenant.bot_id, name="Sam Smith"))
        async with session_scope(sessions) as writing:
            await orders.add_to_cart(
                writing, tenant.bot_id, user_ns=sam, variant_id=cheap.variant_id
            )
            await orders.add_to_cart(
                writing, tenant.bot_id, user_ns=sam, variant_id=lamp.variant_id
            )
        await _sell(sessions, lamp.variant_id, 1)  # someone else buys the lamp meanwhile
        async with session_scope(sessions) as writing:
            with pytest.raises(Invalid) as refused:
                await orders.checkout(
                    writing, tenant.bot_id, user_ns=sam, details=Details(), discount_code="TEN"
                )
            # The flow tells the subscriber and carries on in the same transaction.
            assert refused.value.errors == {"items.1.qty": ["Lamp is out of stock."]}
            await orders.remove_from_cart(
                writing, tenant.bot_id, user_ns=sam, variant_id=lamp.variant_id
            )
            order = await orders.checkout(
                writing, tenant.bot_id, user_ns=sam, details=Details(), discount_code="TEN"
            )
            assert (order.subtotal_minor, order.discount_minor, order.total_minor) == (100, 10, 90)
        assert await order_count(sessions, tenant) == 1
        assert await uses_of(sessions, code) == 1
        assert await stock_of(sessions, lamp.variant_id) == 0

    async def test_loaded_variants_show_the_stock_left(
        self, session: AsyncSession, sessions: Sessions, tenant: Tenant
    ) -> None:
        lamp = await make_variant(
            session, tenant.workspace_id, name="Lamp", track_stock=True, qty=5
        )
        sam = ns(await make_subscriber(session, tenant.bot_id, name="Sam Smith"))
        async with session_scope(sessions) as writing:
            loaded = await writing.scalar(
                select(ProductVariant).where(ProductVariant.id == lamp.variant_id)
            )
            assert loaded is not None
            await orders.add_to_cart(
                writing, tenant.bot_id, user_ns=sam, variant_id=lamp.variant_id, qty=2
            )
            order = await orders.checkout(writing, tenant.bot_id, user_ns=sam, details=Details())
            assert loaded.qty == 3
            await orders.change_status(
                writing, tenant.bot_id, user_ns=sam, order_id=order.id, status=orders.S.CANCELLED
            )
            assert loaded.qty == 5


async def _sell(sessions: Sessions, variant_id: int, qty: int) -> None:
    async with session_scope(sessions) as writing:
        variant = await writing.get(ProductVariant, variant_id)
        assert variant is not None
        variant.qty -= qty
