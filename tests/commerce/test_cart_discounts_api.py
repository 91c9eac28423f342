"""Discount codes at checkout (`discount_code`, our extension of cart-paid): what they take off,
to the minor unit, and when they may not be used."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from orders_support import (
    DAY,
    Stocked,
    add,
    cart_of,
    make_code,
    make_variant,
    ns,
    order_count,
    pay,
    set_currency,
    stock_of,
    uses_of,
)
from sqlalchemy.ext.asyncio import AsyncSession

from builders import Sessions, Tenant, make_subscriber, make_tenant
from konversation.commerce.models import DiscountType, MinRequire
from konversation.db import utcnow


@pytest.fixture
async def sam(session: AsyncSession, tenant: Tenant) -> str:
    return ns(await make_subscriber(session, tenant.bot_id, name="Sam Smith"))


@pytest.fixture
async def soap(session: AsyncSession, tenant: Tenant) -> Stocked:
    return await make_variant(
        session, tenant.workspace_id, name="Soap", price_minor=333, track_stock=True, qty=50
    )


async def paid_with(api: httpx.AsyncClient, user_ns: str, code: str) -> dict[str, Any]:
    response = await pay(api, user_ns, discount_code=code)
    assert response.status_code == 200, response.text
    order: dict[str, Any] = response.json()["data"]
    return order


def money(order: dict[str, Any]) -> tuple[Any, ...]:
    keys = ("subtotal_price", "discount_price", "shipping_price", "total_price", "total")
    return tuple(order[k] for k in keys)


class TestWhatCodesTakeOff:
    async def test_a_percentage_is_rounded_half_up_to_the_cent(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: str, soap: Stocked
    ) -> None:
        await make_code(session, tenant.workspace_id, "FIFTEEN", percentage=15)
        await add(api, sam, soap.variant_id, 3)  # 9.99; 15% is 1.4985
        order = await paid_with(api, sam, "FIFTEEN")
        assert money(order) == (9.99, 1.5, 0, 8.49, "8.49")
        assert order["discount_code"] == "FIFTEEN"

    async def test_a_percentage_in_a_currency_without_cents(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: str
    ) -> None:
        await set_currency(session, tenant.workspace_id, "JPY")
        tea = await make_variant(session, tenant.workspace_id, name="Tea", price_minor=1001)
        await make_code(session, tenant.workspace_id, "TEN", percentage=10)
        await add(api, sam, tea.variant_id)
        order = await paid_with(api, sam, "TEN")  # 100.1 yen off
        assert money(order) == (1001, 100, 0, 901, "901")
        assert order["currency"] == "jpy"

    async def test_a_fixed_amount_comes_off_once_per_order(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: str, soap: Stocked
    ) -> None:
        await make_code(
            session, tenant.workspace_id, "TWO", type=DiscountType.AMOUNT, amount_minor=200
        )
        await add(api, sam, soap.variant_id, 3)
        assert money(await paid_with(api, sam, "TWO")) == (9.99, 2, 0, 7.99, "7.99")

    async def test_a_fixed_amount_not_once_per_order_comes_off_every_unit(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: str, soap: Stocked
    ) -> None:
        await make_code(
            session,
            tenant.workspace_id,
            "EACH",
            type=DiscountType.AMOUNT,
            amount_minor=50,
            once_per_order=False,
        )
        await add(api, sam, soap.variant_id, 3)
        assert money(await paid_with(api, sam, "EACH")) == (9.99, 1.5, 0, 8.49, "8.49")

    async def test_a_discount_never_exceeds_the_goods(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: str, soap: Stocked
    ) -> None:
        await make_code(
            session, tenant.workspace_id, "HUGE", type=DiscountType.AMOUNT, amount_minor=10_000
        )
        await add(api, sam, soap.variant_id)
        assert money(await paid_with(api, sam, "HUGE")) == (3.33, 3.33, 0, 0, "0.00")

    async def test_free_shipping_takes_nothing_off_the_goods(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: str, soap: Stocked
    ) -> None:
        await make_code(session, tenant.workspace_id, "SHIPFREE", type=DiscountType.FREE_SHIPPING)
        await add(api, sam, soap.variant_id)
        order = await paid_with(api, sam, "SHIPFREE")
        assert money(order) == (3.33, 0, 0, 3.33, "3.33")
        assert order["discount_code"] == "SHIPFREE"

    async def test_each_use_is_counted(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        sam: str,
        soap: Stocked,
    ) -> None:
        code = await make_code(session, tenant.workspace_id, "TEN", percentage=10)
        for _ in range(2):
            await add(api, sam, soap.variant_id)
            await paid_with(api, sam, "TEN")
        assert await uses_of(sessions, code) == 2


class TestWhenCodesAreRefused:
    async def _refused(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: str, soap: Stocked, code: str
    ) -> str:
        """The message of a refused checkout, after checking that it changed nothing."""
        before = await stock_of(sessions, soap.variant_id)
        response = await pay(api, sam, discount_code=code)
        assert response.status_code == 422, response.text
        errors = response.json()["errors"]
        assert list(errors) == ["discount_code"]
        assert await stock_of(sessions, soap.variant_id) == before
        assert (await cart_of(api, sam))["num_of_items"] > 0
        message: str = errors["discount_code"][0]
        return message

    async def test_an_unknown_code(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: str, soap: Stocked
    ) -> None:
        await add(api, sam, soap.variant_id)
        message = await self._refused(api, sessions, sam, soap, "NOPE")
        assert message == "The discount code is not valid."

    async def test_another_workspaces_code(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        sam: str,
        soap: Stocked,
    ) -> None:

        other = await make_tenant(sessions, b"test-server-secret", email="other@example.com")
        await make_code(session, other.workspace_id, "THEIRS", percentage=50)
        await add(api, sam, soap.variant_id)
        message = await self._refused(api, sessions, sam, soap, "THEIRS")
        assert message == "The discount code is not valid."

    async def test_an_expired_code(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        sam: str,
        soap: Stocked,
    ) -> None:
        now = utcnow()
        await make_code(
            session, tenant.workspace_id, "OLD", percentage=10, start=now - 3 * DAY, end=now - DAY
        )
        await add(api, sam, soap.variant_id)
        message = await self._refused(api, sessions, sam, soap, "OLD")
        assert message == "The discount code has expired."

    async def test_a_code_not_valid_yet(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        sam: str,
        soap: Stocked,
    ) -> None:
        now = utcnow()
        await make_code(
            session, tenant.workspace_id, "SOON", percentage=10, start=now + DAY, end=now + 2 * DAY
        )
        await add(api, sam, soap.variant_id)
        message = await self._refused(api, sessions, sam, soap, "SOON")
        assert message == "The discount code is not valid yet."

    async def test_an_exhausted_code(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        sam: str,
        soap: Stocked,
    ) -> None:
        code = await make_code(
            session, tenant.workspace_id, "ONCE", percentage=10, max_usage_count=1
        )
        await add(api, sam, soap.variant_id)
        await paid_with(api, sam, "ONCE")
        await add(api, sam, soap.variant_id)
        message = await self._refused(api, sessions, sam, soap, "ONCE")
        assert message == "The discount code has been used up."
        assert await uses_of(sessions, code) == 1

    async def test_below_the_minimum_amount(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        sam: str,
        soap: Stocked,
    ) -> None:
        await make_code(
            session,
            tenant.workspace_id,
            "BIG",
            percentage=10,
            min_require=MinRequire.PRICE,
            min_price_minor=1000,
        )
        await add(api, sam, soap.variant_id, 3)  # 9.99
        message = await self._refused(api, sessions, sam, soap, "BIG")
        assert message == "The discount code needs an order of at least 10.00 USD."
        await add(api, sam, soap.variant_id)  # 13.32
        assert money(await paid_with(api, sam, "BIG"))[1] == 1.33

    async def test_below_the_minimum_quantity(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        sam: str,
        soap: Stocked,
    ) -> None:
        await make_code(
            session,
            tenant.workspace_id,
            "BULK",
            percentage=10,
            min_require=MinRequire.QTY,
            min_qty=5,
        )
        await add(api, sam, soap.variant_id, 4)
        message = await self._refused(api, sessions, sam, soap, "BULK")
        assert message == "The discount code needs at least 5 items."

    async def test_one_use_per_customer(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        sam: str,
        soap: Stocked,
    ) -> None:
        await make_code(
            session, tenant.workspace_id, "WELCOME", percentage=10, one_per_customer=True
        )
        await add(api, sam, soap.variant_id)
        await paid_with(api, sam, "WELCOME")
        await add(api, sam, soap.variant_id)
        message = await self._refused(api, sessions, sam, soap, "WELCOME")
        assert message == "The subscriber has already used this discount code."
        ann = ns(await make_subscriber(session, tenant.bot_id, name="Ann Lee"))
        await add(api, ann, soap.variant_id)
        await paid_with(api, ann, "WELCOME")
        assert await order_count(sessions, tenant) == 2

    async def test_an_empty_code_is_no_code(
        self, api: httpx.AsyncClient, sam: str, soap: Stocked
    ) -> None:
        await add(api, sam, soap.variant_id)
        order = await paid_with(api, sam, "")
        assert order["discount_code"] is None
        assert order["discount_price"] == 0
