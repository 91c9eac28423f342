"""The bot's orders: create, list, get-info and update."""

from __future__ import annotations

from typing import Any

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
    order_lines,
    stock_of,
)
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from builders import (
    ClientFor,
    Sessions,
    Tenant,
    make_bot,
    make_key,
    make_subscriber,
    make_tenant,
)
from konversation.commerce.models import ProductStatus, ProductVariant
from konversation.keys.models import Permission


@pytest.fixture
async def sam(session: AsyncSession, tenant: Tenant) -> str:
    return ns(await make_subscriber(session, tenant.bot_id, name="Sam Smith"))


@pytest.fixture
async def shirt(session: AsyncSession, tenant: Tenant) -> Stocked:
    return await make_variant(
        session, tenant.workspace_id, name="T-shirt", price_minor=1299, track_stock=True, qty=10
    )


@pytest.fixture
async def mug(session: AsyncSession, tenant: Tenant) -> Stocked:
    return await make_variant(session, tenant.workspace_id, name="Mug", price_minor=450)


async def create(api: httpx.AsyncClient, user_ns: str, **body: Any) -> httpx.Response:
    return await api.post("/shop/orders/create", json={"user_ns": user_ns, **body})


async def created(api: httpx.AsyncClient, user_ns: str, **body: Any) -> dict[str, Any]:
    response = await create(api, user_ns, **body)
    assert response.status_code == 200, response.text
    order: dict[str, Any] = response.json()["data"]
    return order


def items(*pairs: tuple[int, int]) -> list[dict[str, int]]:
    return [{"variant_id": v, "qty": q} for v, q in pairs]


class TestCreate:
    async def test_creates_an_order_of_the_items_and_takes_stock(
        self,
        api: httpx.AsyncClient,
        sessions: Sessions,
        sam: str,
        shirt: Stocked,
        mug: Stocked,
    ) -> None:
        response = await create(
            api,
            sam,
            items=items((shirt.variant_id, 2), (mug.variant_id, 1)),
            shipping_method="pickup",
            payment_method="cash",
            note="Ring twice",
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "ok"
        order = response.json()["data"]
        assert order["status"] == "ordered"
        assert order["paid_at"] is None
        assert (order["total"], order["total_price"], order["num_of_items"]) == ("30.48", 30.48, 3)
        assert (order["shipping_method"], order["payment_method"], order["note"]) == (
            "pickup",
            "cash",
            "Ring twice",
        )
        assert [(i["name"], i["qty"], i["subtotal"]) for i in order["items"]] == [
            ("T-shirt", 2, 25.98),
            ("Mug", 1, 4.5),
        ]
        assert await stock_of(sessions, shirt.variant_id) == 8

    async def test_leaves_the_cart_alone(
        self, api: httpx.AsyncClient, sam: str, shirt: Stocked, mug: Stocked
    ) -> None:
        await add(api, sam, mug.variant_id)
        await created(api, sam, items=items((shirt.variant_id, 1)))
        assert (await cart_of(api, sam))["num_of_items"] == 1

    async def test_may_start_in_any_forward_status(
        self, api: httpx.AsyncClient, sam: str, mug: Stocked
    ) -> None:
        for status in ("ordered", "paid", "processing", "shipped", "completed"):
            order = await created(api, sam, status=status, items=items((mug.variant_id, 1)))
            assert order["status"] == status
            assert (order["paid_at"] is not None) == (status == "paid")

    @pytest.mark.parametrize("status", ["cancelled", "refunded"])
    async def test_cannot_start_cancelled_or_refunded(
        self,
        api: httpx.AsyncClient,
        sessions: Sessions,
        tenant: Tenant,
        sam: str,
        mug: Stocked,
        status: str,
    ) -> None:
        response = await create(api, sam, status=status, items=items((mug.variant_id, 1)))
        assert response.status_code == 422
        assert response.json()["errors"] == {"status": [f"An order cannot be created {status}."]}
        assert await order_count(sessions, tenant) == 0

    async def test_an_unknown_status_answers_422(
        self, api: httpx.AsyncClient, sam: str, mug: Stocked
    ) -> None:
        response = await create(api, sam, status="lost", items=items((mug.variant_id, 1)))
        assert response.status_code == 422
        assert response.json()["errors"] == {"status": ["The selected status is invalid."]}

    async def test_a_variant_named_twice_counts_once(
        self, api: httpx.AsyncClient, sam: str, mug: Stocked
    ) -> None:
        order = await created(api, sam, items=items((mug.variant_id, 1), (mug.variant_id, 2)))
        assert [(i["variant_id"], i["qty"]) for i in order["items"]] == [(mug.variant_id, 3)]

    async def test_an_unknown_variant_answers_422_naming_the_item(
        self, api: httpx.AsyncClient, sessions: Sessions, tenant: Tenant, sam: str, mug: Stocked
    ) -> None:
        response = await create(
            api, sam, items=items((mug.variant_id, 1), (mug.variant_id + 1000, 1))
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "items.1.variant_id": ["The selected items.1.variant_id is invalid."]
        }
        assert await order_count(sessions, tenant) == 0

    @pytest.mark.parametrize("qty", [0, -3])
    async def test_a_quantity_below_one_answers_422(
        self, api: httpx.AsyncClient, sam: str, mug: Stocked, qty: int
    ) -> None:
        response = await create(api, sam, items=items((mug.variant_id, qty)))
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "items.0.qty": ["The items.0.qty field must be at least 1."]
        }

    async def test_items_are_required(self, api: httpx.AsyncClient, sam: str) -> None:
        for body in ({}, {"items": []}):
            response = await create(api, sam, **body)
            assert response.status_code == 422
            assert list(response.json()["errors"]) == ["items"]

    async def test_out_of_stock_answers_422_and_takes_nothing(
        self,
        api: httpx.AsyncClient,
        sessions: Sessions,
        tenant: Tenant,
        sam: str,
        shirt: Stocked,
        mug: Stocked,
    ) -> None:
        response = await create(api, sam, items=items((mug.variant_id, 1), (shirt.variant_id, 11)))
        assert response.status_code == 422
        assert response.json()["errors"] == {"items.1.qty": ["Only 10 of T-shirt left in stock."]}
        assert await stock_of(sessions, shirt.variant_id) == 10
        assert await order_count(sessions, tenant) == 0

    async def test_a_product_not_for_sale_answers_422(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: str
    ) -> None:
        hidden = await make_variant(
            session, tenant.workspace_id, name="Prototype", status=ProductStatus.INACTIVE
        )
        response = await create(api, sam, items=items((hidden.variant_id, 1)))
        assert response.status_code == 422
        assert response.json()["errors"] == {"items.0.variant_id": ["Prototype is not for sale."]}

    async def test_takes_a_discount_code(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: str, mug: Stocked
    ) -> None:
        await make_code(session, tenant.workspace_id, "HALF", percentage=50)
        order = await created(api, sam, items=items((mug.variant_id, 3)), discount_code="HALF")
        assert (order["subtotal_price"], order["discount_price"], order["total"]) == (
            13.5,
            6.75,
            "6.75",
        )

    async def test_another_bots_subscriber_is_not_found(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, mug: Stocked
    ) -> None:
        other_bot = await make_bot(session, tenant.workspace_id, name="Other bot")
        stranger = ns(await make_subscriber(session, other_bot, name="Stranger"))
        response = await create(api, stranger, items=items((mug.variant_id, 1)))
        assert response.status_code == 404

    async def test_logs_the_new_order_in_the_chat(
        self, api: httpx.AsyncClient, sam: str, mug: Stocked
    ) -> None:
        order = await created(api, sam, items=items((mug.variant_id, 2)))
        assert [m["content"] for m in await order_lines(api, sam)] == [
            f"Order #{order['id']} placed (ordered), total 9.00 USD."
        ]


class TestListAndGetInfo:
    async def test_lists_the_workspaces_orders_newest_first_with_meta(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: str, mug: Stocked
    ) -> None:
        ann = ns(await make_subscriber(session, tenant.bot_id, name="Ann Lee"))
        first = await created(api, sam, items=items((mug.variant_id, 1)))
        second = await created(api, ann, items=items((mug.variant_id, 2)), status="paid")
        response = await api.get("/shop/orders")
        assert response.status_code == 200
        body = response.json()
        assert [
            (o["id"], o["user_ns"], o["total"], o["currency"], o["status"]) for o in body["data"]
        ] == [
            (second["id"], ann, "9.00", "usd", "paid"),
            (first["id"], sam, "4.50", "usd", "ordered"),
        ]
        assert body["meta"] == {
            "current_page": 1,
            "last_page": 1,
            "per_page": 10,
            "total": 2,
            "from": 1,
            "to": 2,
        }

    async def test_filters_by_subscriber_and_pages(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: str, mug: Stocked
    ) -> None:
        ann = ns(await make_subscriber(session, tenant.bot_id, name="Ann Lee"))
        mine = [(await created(api, sam, items=items((mug.variant_id, 1))))["id"] for _ in range(3)]
        await created(api, ann, items=items((mug.variant_id, 1)))
        page = (
            await api.get("/shop/orders", params={"user_ns": sam, "limit": 2, "page": 2})
        ).json()
        assert [o["id"] for o in page["data"]] == [mine[0]]
        assert (page["meta"]["total"], page["meta"]["last_page"], page["meta"]["from"]) == (3, 2, 3)

    async def test_filters_by_status(self, api: httpx.AsyncClient, sam: str, mug: Stocked) -> None:
        await created(api, sam, items=items((mug.variant_id, 1)))
        paid = await created(api, sam, items=items((mug.variant_id, 1)), status="paid")
        listed = (await api.get("/shop/orders", params={"status": "paid"})).json()["data"]
        assert [o["id"] for o in listed] == [paid["id"]]

    @pytest.mark.parametrize("user_ns", ["f1u999", "nonsense", "f999u1"])
    async def test_a_subscriber_who_does_not_exist_has_no_orders(
        self, api: httpx.AsyncClient, sam: str, mug: Stocked, user_ns: str
    ) -> None:
        await created(api, sam, items=items((mug.variant_id, 1)))
        body = (await api.get("/shop/orders", params={"user_ns": user_ns})).json()
        assert (body["data"], body["meta"]["total"]) == ([], 0)

    async def test_another_workspaces_orders_are_not_listed_nor_found(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        client_for: ClientFor,
        sam: str,
        mug: Stocked,
    ) -> None:
        order = await created(api, sam, items=items((mug.variant_id, 1)))
        other = await make_tenant(sessions, b"test-server-secret", email="other@example.com")
        theirs = client_for(other.token)
        assert (await theirs.get("/shop/orders")).json()["data"] == []
        response = await theirs.get(f"/shop/orders/{order['id']}/get-info")
        assert response.status_code == 404
        assert response.json()["message"] == "Order not found"

    async def test_get_info_answers_the_whole_order(
        self, api: httpx.AsyncClient, sam: str, shirt: Stocked
    ) -> None:
        order = await created(
            api, sam, items=items((shirt.variant_id, 2)), address="1 George St", postcode="2000"
        )
        response = await api.get(f"/shop/orders/{order['id']}/get-info")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        assert body["data"] == order
        assert (body["data"]["address"], body["data"]["postcode"]) == ("1 George St", "2000")

    @pytest.mark.parametrize("order_id", ["999", "0", str(2**40)])
    async def test_get_info_of_an_unknown_order_answers_404(
        self, api: httpx.AsyncClient, order_id: str
    ) -> None:
        response = await api.get(f"/shop/orders/{order_id}/get-info")
        assert response.status_code == 404

    async def test_reading_orders_needs_manage_team(
        self,
        session: AsyncSession,
        server_secret: bytes,
        tenant: Tenant,
        client_for: ClientFor,
        sam: str,
        mug: Stocked,
    ) -> None:
        token = await make_key(session, server_secret, tenant, permissions=[Permission.MANAGE_FLOW])
        flow_only = client_for(token)
        assert (await flow_only.get("/shop/orders")).status_code == 403
        response = await flow_only.post(
            "/shop/orders/create", json={"user_ns": sam, "items": items((mug.variant_id, 1))}
        )
        assert response.status_code == 200


class TestUpdate:
    async def test_changes_the_details_sent_and_clears_empty_ones(
        self, api: httpx.AsyncClient, sam: str, mug: Stocked
    ) -> None:
        order = await created(
            api, sam, items=items((mug.variant_id, 1)), note="Ring twice", address="1 George St"
        )
        response = await api.put(
            f"/shop/orders/{order['id']}/update", json={"tracking_no": "TRK9", "note": ""}
        )
        assert response.status_code == 200, response.text
        changed = response.json()["data"]
        assert (changed["tracking_no"], changed["note"], changed["address"]) == (
            "TRK9",
            None,
            "1 George St",
        )

    async def test_items_replace_the_old_ones_and_stock_follows(
        self,
        api: httpx.AsyncClient,
        sessions: Sessions,
        sam: str,
        shirt: Stocked,
        mug: Stocked,
    ) -> None:
        order = await created(api, sam, items=items((shirt.variant_id, 4)))
        assert await stock_of(sessions, shirt.variant_id) == 6
        response = await api.put(
            f"/shop/orders/{order['id']}/update",
            json={"items": items((shirt.variant_id, 1), (mug.variant_id, 2))},
        )
        assert response.status_code == 200, response.text
        changed = response.json()["data"]
        assert [(i["name"], i["qty"]) for i in changed["items"]] == [("T-shirt", 1), ("Mug", 2)]
        assert (changed["total"], changed["num_of_items"]) == ("21.99", 3)
        assert await stock_of(sessions, shirt.variant_id) == 9

    async def test_a_kept_variant_keeps_its_ordered_price(
        self, api: httpx.AsyncClient, session: AsyncSession, sam: str, mug: Stocked
    ) -> None:
        order = await created(api, sam, items=items((mug.variant_id, 1)))
        await session.execute(
            update(ProductVariant)
            .where(ProductVariant.id == mug.variant_id)
            .values(price_minor=999)
        )
        await session.commit()
        response = await api.put(
            f"/shop/orders/{order['id']}/update", json={"items": items((mug.variant_id, 2))}
        )
        assert response.json()["data"]["total"] == "9.00"

    async def test_items_with_too_little_stock_change_nothing(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: str, shirt: Stocked
    ) -> None:
        order = await created(api, sam, items=items((shirt.variant_id, 4)))
        response = await api.put(
            f"/shop/orders/{order['id']}/update", json={"items": items((shirt.variant_id, 11))}
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {"items.0.qty": ["Only 10 of T-shirt left in stock."]}
        assert await stock_of(sessions, shirt.variant_id) == 6
        again = (await api.get(f"/shop/orders/{order['id']}/get-info")).json()["data"]
        assert [i["qty"] for i in again["items"]] == [4]

    async def test_the_discount_is_repriced_under_the_codes_rules(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: str, mug: Stocked
    ) -> None:
        await make_code(session, tenant.workspace_id, "TEN", percentage=10)
        order = await created(api, sam, items=items((mug.variant_id, 1)), discount_code="TEN")
        response = await api.put(
            f"/shop/orders/{order['id']}/update", json={"items": items((mug.variant_id, 3))}
        )
        changed = response.json()["data"]
        assert (changed["subtotal_price"], changed["discount_price"], changed["total"]) == (
            13.5,
            1.35,
            "12.15",
        )

    async def test_items_of_a_shipped_order_cannot_change(
        self, api: httpx.AsyncClient, sam: str, mug: Stocked
    ) -> None:
        order = await created(api, sam, items=items((mug.variant_id, 1)), status="shipped")
        response = await api.put(
            f"/shop/orders/{order['id']}/update", json={"items": items((mug.variant_id, 2))}
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "items": ["The items of a shipped order cannot change."]
        }

    async def test_moves_the_status_under_the_same_rules(
        self, api: httpx.AsyncClient, sessions: Sessions, sam: str, shirt: Stocked
    ) -> None:
        order = await created(api, sam, items=items((shirt.variant_id, 2)))
        url = f"/shop/orders/{order['id']}/update"
        assert (await api.put(url, json={"status": "paid"})).json()["data"]["status"] == "paid"
        response = await api.put(url, json={"status": "ordered"})
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "status": ["An order that is paid cannot become ordered."]
        }
        response = await api.put(url, json={"status": "cancelled"})
        assert response.json()["data"]["status"] == "cancelled"
        assert await stock_of(sessions, shirt.variant_id) == 10

    async def test_another_bots_order_is_not_found(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        server_secret: bytes,
        tenant: Tenant,
        client_for: ClientFor,
        sam: str,
        mug: Stocked,
    ) -> None:
        order = await created(api, sam, items=items((mug.variant_id, 1)))
        other_bot = await make_bot(session, tenant.workspace_id, name="Other bot")
        token = await make_key(
            session, server_secret, tenant, permissions=[Permission.MANAGE_FLOW], bot_id=other_bot
        )
        response = await client_for(token).put(
            f"/shop/orders/{order['id']}/update", json={"status": "paid"}
        )
        assert response.status_code == 404
        assert response.json()["message"] == "Order not found"

    async def test_an_unknown_order_answers_404(self, api: httpx.AsyncClient) -> None:
        response = await api.put("/shop/orders/999/update", json={"note": "x"})
        assert response.status_code == 404
