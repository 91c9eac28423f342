"""Checkouts and order changes that really run at the same time, each in its own transaction.

On PostgreSQL they interleave and the guarded UPDATEs (and row locks) decide; on SQLite the
write lock serialises them. Either way the outcome must be the same: no unit sold twice.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from orders_support import (
    Stocked,
    add,
    cart_of,
    make_code,
    make_variant,
    ns,
    order_count,
    pay,
    stock_of,
    uses_of,
)
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from builders import Sessions, Tenant, make_subscriber
from konversation.commerce import orders
from konversation.commerce.models import ProductVariant
from konversation.commerce.orders import Details
from konversation.db import session_scope
from konversation.errors import Invalid


async def shoppers(session: AsyncSession, tenant: Tenant, count: int) -> list[str]:
    return [
        ns(await make_subscriber(session, tenant.bot_id, name=f"Shopper {n}")) for n in range(count)
    ]


@pytest.fixture
async def last_one(session: AsyncSession, tenant: Tenant) -> Stocked:
    return await make_variant(
        session, tenant.workspace_id, name="Lamp", price_minor=4999, track_stock=True, qty=1
    )


class TestRacingCheckouts:
    async def test_two_checkouts_for_the_last_unit_sell_it_once(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        last_one: Stocked,
    ) -> None:
        ann, bob = await shoppers(session, tenant, 2)
        for user_ns in (ann, bob):
            await add(api, user_ns, last_one.variant_id)
        answers = await asyncio.gather(pay(api, ann), pay(api, bob))
        codes = sorted(r.status_code for r in answers)
        assert codes == [200, 422]
        refused = next(r for r in answers if r.status_code == 422)
        assert refused.json()["errors"] == {"items.0.qty": ["Lamp is out of stock."]}
        assert await stock_of(sessions, last_one.variant_id) == 0
        assert await order_count(sessions, tenant) == 1
        loser = bob if answers[0].status_code == 200 else ann
        assert (await cart_of(api, loser))["num_of_items"] == 1

    async def test_many_checkouts_for_a_few_units_sell_exactly_those(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
    ) -> None:
        lamp = await make_variant(
            session, tenant.workspace_id, name="Lamp", track_stock=True, qty=2
        )
        people = await shoppers(session, tenant, 6)
        for user_ns in people:
            await add(api, user_ns, lamp.variant_id)
        answers = await asyncio.gather(*(pay(api, user_ns) for user_ns in people))
        assert sorted(r.status_code for r in answers) == [200, 200, 422, 422, 422, 422]
        assert await stock_of(sessions, lamp.variant_id) == 0
        assert await order_count(sessions, tenant) == 2

    async def test_checkouts_in_their_own_sessions_sell_the_last_unit_once(
        self, session: AsyncSession, sessions: Sessions, tenant: Tenant, last_one: Stocked
    ) -> None:
        """The service itself, without HTTP: two tasks, two sessions, two connections."""
        people = await shoppers(session, tenant, 2)
        for user_ns in people:
            async with session_scope(sessions) as writing:
                await orders.add_to_cart(
                    writing, tenant.bot_id, user_ns=user_ns, variant_id=last_one.variant_id
                )

        async def checkout(user_ns: str) -> str:
            try:
                async with session_scope(sessions) as writing:
                    await orders.checkout(
                        writing, tenant.bot_id, user_ns=user_ns, details=Details()
                    )
            except Invalid as refused:
                return refused.message
            return "sold"

        outcomes = await asyncio.gather(*(checkout(user_ns) for user_ns in people))
        assert sorted(outcomes) == ["Lamp is out of stock.", "sold"]
        assert await stock_of(sessions, last_one.variant_id) == 0

    async def test_checkouts_caught_mid_way_together_still_sell_the_last_unit_once(
        self,
        engine: AsyncEngine,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        last_one: Stocked,
    ) -> None:
        """Both checkouts have read everything (the stock says 1) and wait, side by side, at
        the stock UPDATE behind a third transaction's row lock; then that lock goes."""
        if engine.dialect.name != "postgresql":
            pytest.skip("SQLite runs one writer at a time: nothing can be caught mid-way")
        ann, bob = await shoppers(session, tenant, 2)
        for user_ns in (ann, bob):
            await add(api, user_ns, last_one.variant_id)
        async with sessions() as blocker:
            await blocker.execute(
                select(ProductVariant.qty)
                .where(ProductVariant.id == last_one.variant_id)
                .with_for_update()
            )
            racing = asyncio.gather(pay(api, ann), pay(api, bob))
            await _until_waiting(sessions, 2)
            await blocker.rollback()
            answers = await racing
        assert sorted(r.status_code for r in answers) == [200, 422]
        assert await stock_of(sessions, last_one.variant_id) == 0
        assert await order_count(sessions, tenant) == 1

    async def test_a_cart_paid_twice_at_once_becomes_one_order(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
    ) -> None:
        lamp = await make_variant(
            session, tenant.workspace_id, name="Lamp", track_stock=True, qty=5
        )
        (ann,) = await shoppers(session, tenant, 1)
        await add(api, ann, lamp.variant_id, 2)
        answers = await asyncio.gather(pay(api, ann), pay(api, ann))
        assert sorted(r.status_code for r in answers) == [200, 422]
        assert await order_count(sessions, tenant) == 1
        assert await stock_of(sessions, lamp.variant_id) == 3

    async def test_the_last_use_of_a_code_goes_to_one_order(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
    ) -> None:
        lamp = await make_variant(session, tenant.workspace_id, name="Lamp")
        code = await make_code(
            session, tenant.workspace_id, "LAST", percentage=20, max_usage_count=1
        )
        ann, bob = await shoppers(session, tenant, 2)
        for user_ns in (ann, bob):
            await add(api, user_ns, lamp.variant_id)
        answers = await asyncio.gather(
            pay(api, ann, discount_code="LAST"), pay(api, bob, discount_code="LAST")
        )
        assert sorted(r.status_code for r in answers) == [200, 422]
        refused = next(r for r in answers if r.status_code == 422)
        assert refused.json()["errors"] == {
            "discount_code": ["The discount code has been used up."]
        }
        assert await uses_of(sessions, code) == 1


async def _until_waiting(sessions: Sessions, count: int) -> None:
    """Poll PostgreSQL until `count` connections to this database wait for a lock (10 s at
    most)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        async with sessions() as probe:
            waiting = await probe.scalar(query)
        if waiting is not None and waiting >= count:
            return
        assert asyncio.get_running_loop().time() < deadline, f"only {waiting} waiting"
        await asyncio.sleep(0.02)


class TestRacingStatusChanges:
    async def test_two_cancellations_at_once_put_the_stock_back_once(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
    ) -> None:
        lamp = await make_variant(
            session, tenant.workspace_id, name="Lamp", track_stock=True, qty=5
        )
        (ann,) = await shoppers(session, tenant, 1)
        await add(api, ann, lamp.variant_id, 3)
        order_id = (await pay(api, ann)).json()["data"]["id"]
        assert await stock_of(sessions, lamp.variant_id) == 2
        body = {"user_ns": ann, "order_id": order_id}
        answers = await asyncio.gather(
            api.post("/subscriber/update-order-status", json={**body, "status": "cancelled"}),
            api.post("/subscriber/update-order-status", json={**body, "status": "refunded"}),
            api.post("/subscriber/update-order-status", json={**body, "status": "cancelled"}),
        )
        assert all(r.status_code in {200, 422} for r in answers)
        assert await stock_of(sessions, lamp.variant_id) == 5
