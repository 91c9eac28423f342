"""update-order-status: the life of an order, its stock, and the lines it leaves in the chat."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from orders_support import Stocked, make_variant, ns, order_lines, stock_of
from sqlalchemy.ext.asyncio import AsyncSession

from builders import Sessions, Tenant, make_bot, make_subscriber
from konversation.commerce import orders
from konversation.commerce.models import OrderStatus
from konversation.commerce.orders import TRANSITIONS
from konversation.db import session_scope

S = OrderStatus


@pytest.fixture
async def sam(session: AsyncSession, tenant: Tenant) -> str:
    return ns(await make_subscriber(session, tenant.bot_id, name="Sam Smith"))


@pytest.fixture
async def shirt(session: AsyncSession, tenant: Tenant) -> Stocked:
    return await make_variant(
        session, tenant.workspace_id, name="T-shirt", price_minor=1299, track_stock=True, qty=10
    )


async def order_of(
    api: httpx.AsyncClient, user_ns: str, shirt: Stocked, *, status: str = "ordered", qty: int = 3
) -> int:
    response = await api.post(
        "/shop/orders/create",
        json={
            "user_ns": user_ns,
            "status": status,
            "items": [{"variant_id": shirt.variant_id, "qty": qty}],
        },
    )
    assert response.status_code == 200, response.text
    order_id: int = response.json()["data"]["id"]
    return order_id


async def move(api: httpx.AsyncClient, user_ns: str, order_id: int, status: str) -> httpx.Response:
    return await api.post(
        "/subscriber/update-order-status",
        json={"user_ns": user_ns, "order_id": order_id, "status": status},
    )


async def status_of(api: httpx.AsyncClient, order_id: int) -> dict[str, Any]:
    data: dict[str, Any] = (await api.get(f"/shop/orders/{order_id}/get-info")).json()["data"]
    return data


class TestTheStateMachine:
    def test_allowed_moves(self) -> None:
        allowed = {status: set(targets) for status, targets in TRANSITIONS.items()}
        assert allowed == {
            S.ORDERED: {S.PAID, S.PROCESSING, S.SHIPPED, S.COMPLETED, S.CANCELLED},
            S.PAID: {S.PROCESSING, S.SHIPPED, S.COMPLETED, S.CANCELLED, S.REFUNDED},
            S.PROCESSING: {S.SHIPPED, S.COMPLETED, S.CANCELLED, S.REFUNDED},
            S.SHIPPED: {S.COMPLETED, S.REFUNDED},
            S.COMPLETED: {S.REFUNDED},
            S.CANCELLED: set(),
            S.REFUNDED: set(),
        }


class TestUpdateOrderStatus:
    async def test_walks_an_order_through_its_life(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: str, shirt: Stocked
    ) -> None:
        order_id = await order_of(api, sam, shirt)
        for status in ("paid", "processing", "shipped", "completed"):
            response = await move(api, sam, order_id, status)
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "ok"
            assert response.json()["data"]["status"] == status
        info = await status_of(api, order_id)
        assert info["status"] == "completed"
        assert info["paid_at"] is not None
        assert await stock_of(sessions, shirt.variant_id) == 7

    async def test_each_change_is_a_system_line_in_the_chat(
        self, api: httpx.AsyncClient, sam: str, shirt: Stocked
    ) -> None:
        order_id = await order_of(api, sam, shirt, qty=1)
        await move(api, sam, order_id, "paid")
        await move(api, sam, order_id, "shipped")
        lines = await order_lines(api, sam)
        assert [(m["type"], m["content"]) for m in lines] == [
            ("system", f"Order #{order_id} placed (ordered), total 12.99 USD."),
            ("system", f"Order #{order_id} is now paid (was ordered)."),
            ("system", f"Order #{order_id} is now shipped (was paid)."),
        ]

    @pytest.mark.parametrize(
        ("start", "path", "refused"),
        [
            ("shipped", [], "ordered"),
            ("paid", ["processing"], "paid"),
            ("shipped", [], "cancelled"),
            ("ordered", [], "refunded"),
            ("ordered", ["cancelled"], "paid"),
            ("completed", ["refunded"], "completed"),
        ],
    )
    async def test_invalid_moves_answer_422_and_change_nothing(
        self,
        api: httpx.AsyncClient,
        sessions: Sessions,
        sam: str,
        shirt: Stocked,
        start: str,
        path: list[str],
        refused: str,
    ) -> None:
        order_id = await order_of(api, sam, shirt, status=start)
        for status in path:
            assert (await move(api, sam, order_id, status)).status_code == 200
        current = path[-1] if path else start
        stock = await stock_of(sessions, shirt.variant_id)
        response = await move(api, sam, order_id, refused)
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "status": [f"An order that is {current} cannot become {refused}."]
        }
        assert (await status_of(api, order_id))["status"] == current
        assert await stock_of(sessions, shirt.variant_id) == stock

    async def test_the_status_it_has_changes_nothing(
        self, api: httpx.AsyncClient, sam: str, shirt: Stocked
    ) -> None:
        order_id = await order_of(api, sam, shirt, status="paid")
        response = await move(api, sam, order_id, "paid")
        assert response.status_code == 200
        assert len(await order_lines(api, sam)) == 1

    async def test_cancelling_puts_the_stock_back_once(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: str, shirt: Stocked
    ) -> None:
        order_id = await order_of(api, sam, shirt, qty=4)
        assert await stock_of(sessions, shirt.variant_id) == 6
        assert (await move(api, sam, order_id, "cancelled")).status_code == 200
        assert await stock_of(sessions, shirt.variant_id) == 10
        assert (await move(api, sam, order_id, "cancelled")).status_code == 200
        assert (await move(api, sam, order_id, "refunded")).status_code == 422
        assert await stock_of(sessions, shirt.variant_id) == 10

    async def test_refunding_a_completed_order_puts_the_stock_back(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: str, shirt: Stocked
    ) -> None:
        order_id = await order_of(api, sam, shirt, status="completed", qty=2)
        assert await stock_of(sessions, shirt.variant_id) == 8
        response = await move(api, sam, order_id, "refunded")
        assert response.json()["data"]["status"] == "refunded"
        assert await stock_of(sessions, shirt.variant_id) == 10

    async def test_an_unknown_status_answers_422(
        self, api: httpx.AsyncClient, sam: str, shirt: Stocked
    ) -> None:
        order_id = await order_of(api, sam, shirt)
        response = await move(api, sam, order_id, "lost")
        assert response.status_code == 422
        assert response.json()["errors"] == {"status": ["The selected status is invalid."]}

    async def test_status_is_read_in_any_case(
        self, api: httpx.AsyncClient, sam: str, shirt: Stocked
    ) -> None:
        order_id = await order_of(api, sam, shirt)
        assert (await move(api, sam, order_id, "Paid")).json()["data"]["status"] == "paid"

    async def test_order_id_user_ns_and_status_are_required(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/subscriber/update-order-status", json={})
        assert response.status_code == 422
        assert set(response.json()["errors"]) == {"user_ns", "order_id", "status"}

    async def test_another_subscribers_order_is_not_found(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        sam: str,
        shirt: Stocked,
    ) -> None:
        order_id = await order_of(api, sam, shirt)
        ann = ns(await make_subscriber(session, tenant.bot_id, name="Ann Lee"))
        response = await move(api, ann, order_id, "paid")
        assert response.status_code == 404
        assert response.json()["message"] == "Order not found"
        assert (await status_of(api, order_id))["status"] == "ordered"

    async def test_another_bots_order_is_not_found(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        sam: str,
        shirt: Stocked,
    ) -> None:
        """An order of another bot of the same workspace, named with that bot's subscriber."""
        other_bot = await make_bot(session, tenant.workspace_id, name="Other bot")
        stranger = await make_subscriber(session, other_bot, name="Stranger")
        async with session_scope(sessions) as writing:
            theirs = await orders.create_order(
                writing,
                other_bot,
                user_ns=ns(stranger),
                items=[orders.ItemRequest(shirt.variant_id, 1)],
            )
        response = await move(api, sam, theirs.id, "paid")
        assert response.status_code == 404
        response = await move(api, ns(stranger), theirs.id, "paid")
        assert response.status_code == 404
        assert response.json()["message"] == "Subscriber not found"

    @pytest.mark.parametrize("order_id", [999, 2**40, -1])
    async def test_an_unknown_order_answers_404(
        self, api: httpx.AsyncClient, sam: str, order_id: int
    ) -> None:
        response = await move(api, sam, order_id, "paid")
        assert response.status_code == 404
