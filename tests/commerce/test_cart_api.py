"""A subscriber's cart: add-to-cart, remove-from-cart, empty-cart and reading it back."""

from __future__ import annotations

import httpx
import pytest
from orders_support import Stocked, add, cart_of, make_variant, ns, set_currency
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
from konversation.commerce.models import ProductStatus
from konversation.keys.models import Permission


@pytest.fixture
async def sam(session: AsyncSession, tenant: Tenant) -> str:
    return ns(await make_subscriber(session, tenant.bot_id, name="Sam Smith"))


@pytest.fixture
async def shirt(session: AsyncSession, tenant: Tenant) -> Stocked:
    return await make_variant(
        session,
        tenant.workspace_id,
        name="T-shirt",
        price_minor=1299,
        compare_price_minor=1599,
        options=("Blue", "Large"),
        sku="TS-BL-L",
    )


class TestReadingTheCart:
    async def test_a_subscriber_who_never_shopped_has_an_empty_cart(
        self, api: httpx.AsyncClient, sam: str
    ) -> None:
        response = await api.get("/subscriber/cart", params={"user_ns": sam})
        assert response.status_code == 200
        assert response.json() == {
            "data": {
                "id": None,
                "created_at": None,
                "updated_at": None,
                "items": [],
                "num_of_items": 0,
                "total_price": 0,
                "currency": "usd",
            },
            "status": "ok",
        }

    async def test_shows_each_variant_with_its_product_price_and_quantity(
        self, api: httpx.AsyncClient, sam: str, shirt: Stocked
    ) -> None:
        await add(api, sam, shirt.variant_id, 2)
        cart = await cart_of(api, sam)
        assert isinstance(cart["id"], int)
        assert cart["created_at"]
        assert cart["updated_at"]
        assert cart["items"] == [
            {
                "id": shirt.variant_id,
                "variant_id": shirt.variant_id,
                "product_id": shirt.product_id,
                "name": "T-shirt",
                "variant_name": "Blue / Large",
                "desc": "A fine t-shirt.",
                "image": "https://shop.example/t-shirt.png",
                "sku": "TS-BL-L",
                "price": 12.99,
                "compare_price": 15.99,
                "currency": "usd",
                "num": 2,
                "subtotal": 25.98,
            }
        ]
        assert cart["num_of_items"] == 2
        assert cart["total_price"] == 25.98

    async def test_totals_are_exact_to_the_cent(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: str
    ) -> None:
        # 0.10 + 0.20 is 0.30000000000000004 in binary floating point; never here.
        dime = await make_variant(session, tenant.workspace_id, name="Dime", price_minor=10)
        twenty = await make_variant(session, tenant.workspace_id, name="Twenty", price_minor=20)
        await add(api, sam, dime.variant_id, 3)
        await add(api, sam, twenty.variant_id)
        cart = await cart_of(api, sam)
        assert [i["subtotal"] for i in cart["items"]] == [0.3, 0.2]
        assert cart["total_price"] == 0.5
        assert cart["num_of_items"] == 4

    async def test_amounts_follow_the_workspace_currency(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: str
    ) -> None:
        await set_currency(session, tenant.workspace_id, "JPY")
        tea = await make_variant(session, tenant.workspace_id, name="Tea", price_minor=1500)
        await add(api, sam, tea.variant_id, 3)
        cart = await cart_of(api, sam)
        assert cart["items"][0]["price"] == 1500
        assert cart["items"][0]["currency"] == "jpy"
        assert cart["total_price"] == 4500
        assert cart["currency"] == "jpy"

    async def test_an_unknown_subscriber_answers_404(
        self, api: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        response = await api.get("/subscriber/cart", params={"user_ns": f"{tenant.flow_ns}u999"})
        assert response.status_code == 404
        assert response.json()["message"] == "Subscriber not found"

    async def test_user_ns_is_required(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/subscriber/cart")
        assert response.status_code == 422
        assert response.json()["errors"] == {"user_ns": ["The user_ns field is required."]}


class TestAddToCart:
    async def test_answers_ok_and_adding_again_adds_up(
        self, api: httpx.AsyncClient, sam: str, shirt: Stocked
    ) -> None:
        for qty in (1, 2):
            response = await api.post(
                "/subscriber/add-to-cart",
                json={"user_ns": sam, "variant_id": shirt.variant_id, "qty": qty},
            )
            assert response.status_code == 200
            assert response.json() == {"status": "ok"}
        cart = await cart_of(api, sam)
        assert [(i["id"], i["num"]) for i in cart["items"]] == [(shirt.variant_id, 3)]
        assert cart["total_price"] == 38.97

    async def test_qty_defaults_to_one(
        self, api: httpx.AsyncClient, sam: str, shirt: Stocked
    ) -> None:
        response = await api.post(
            "/subscriber/add-to-cart", json={"user_ns": sam, "variant_id": shirt.variant_id}
        )
        assert response.status_code == 200
        assert (await cart_of(api, sam))["num_of_items"] == 1

    @pytest.mark.parametrize("qty", [0, -1])
    async def test_a_quantity_below_one_answers_422(
        self, api: httpx.AsyncClient, sam: str, shirt: Stocked, qty: int
    ) -> None:
        response = await api.post(
            "/subscriber/add-to-cart",
            json={"user_ns": sam, "variant_id": shirt.variant_id, "qty": qty},
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {"qty": ["The qty field must be at least 1."]}
        assert (await cart_of(api, sam))["items"] == []

    async def test_an_unknown_variant_answers_404(
        self, api: httpx.AsyncClient, sam: str, shirt: Stocked
    ) -> None:
        for variant_id in (shirt.variant_id + 1000, 2**40):
            response = await api.post(
                "/subscriber/add-to-cart", json={"user_ns": sam, "variant_id": variant_id}
            )
            assert response.status_code == 404
            assert response.json()["message"] == "Variant not found"

    async def test_another_workspaces_variant_is_not_found(
        self, api: httpx.AsyncClient, session: AsyncSession, sessions: Sessions, sam: str
    ) -> None:
        other = await make_tenant(sessions, b"test-server-secret", email="other@example.com")
        theirs = await make_variant(session, other.workspace_id, name="Theirs")
        response = await api.post(
            "/subscriber/add-to-cart", json={"user_ns": sam, "variant_id": theirs.variant_id}
        )
        assert response.status_code == 404

    async def test_a_product_not_for_sale_answers_422(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: str
    ) -> None:
        hidden = await make_variant(
            session, tenant.workspace_id, name="Prototype", status=ProductStatus.INACTIVE
        )
        response = await api.post(
            "/subscriber/add-to-cart", json={"user_ns": sam, "variant_id": hidden.variant_id}
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {"variant_id": ["Prototype is not for sale."]}

    async def test_more_than_the_stock_answers_422(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: str
    ) -> None:
        mug = await make_variant(session, tenant.workspace_id, name="Mug", track_stock=True, qty=2)
        body = {"user_ns": sam, "variant_id": mug.variant_id, "qty": 3}
        response = await api.post("/subscriber/add-to-cart", json=body)
        assert response.status_code == 422
        assert response.json()["errors"] == {"qty": ["Only 2 of Mug left in stock."]}
        await add(api, sam, mug.variant_id, 2)
        response = await api.post("/subscriber/add-to-cart", json={**body, "qty": 1})
        assert response.status_code == 422
        assert (await cart_of(api, sam))["num_of_items"] == 2

    async def test_a_variant_with_no_stock_is_out_of_stock(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, sam: str
    ) -> None:
        mug = await make_variant(session, tenant.workspace_id, name="Mug", track_stock=True)
        response = await api.post(
            "/subscriber/add-to-cart", json={"user_ns": sam, "variant_id": mug.variant_id}
        )
        assert response.status_code == 422
        assert response.json()["message"] == "Mug is out of stock."

    @pytest.mark.parametrize(("track_stock", "allow_no_stock_sell"), [(False, False), (True, True)])
    async def test_stock_only_limits_variants_that_must_have_it(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        sam: str,
        track_stock: bool,
        allow_no_stock_sell: bool,
    ) -> None:
        mug = await make_variant(
            session,
            tenant.workspace_id,
            track_stock=track_stock,
            allow_no_stock_sell=allow_no_stock_sell,
            qty=0,
        )
        await add(api, sam, mug.variant_id, 5)
        assert (await cart_of(api, sam))["num_of_items"] == 5

    async def test_another_bots_subscriber_is_not_found(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, shirt: Stocked
    ) -> None:
        other_bot = await make_bot(session, tenant.workspace_id, name="Other bot")
        stranger = ns(await make_subscriber(session, other_bot, name="Stranger"))
        response = await api.post(
            "/subscriber/add-to-cart", json={"user_ns": stranger, "variant_id": shirt.variant_id}
        )
        assert response.status_code == 404
        assert response.json()["message"] == "Subscriber not found"

    async def test_variant_id_is_required(self, api: httpx.AsyncClient, sam: str) -> None:
        response = await api.post("/subscriber/add-to-cart", json={"user_ns": sam})
        assert response.status_code == 422
        assert response.json()["errors"] == {"variant_id": ["The variant_id field is required."]}

    async def test_carts_are_per_subscriber(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        sam: str,
        shirt: Stocked,
    ) -> None:
        ann = ns(await make_subscriber(session, tenant.bot_id, name="Ann Lee"))
        await add(api, sam, shirt.variant_id, 2)
        assert (await cart_of(api, ann))["items"] == []


class TestRemoveFromCart:
    async def test_removes_the_variant_whatever_its_quantity(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        sam: str,
        shirt: Stocked,
    ) -> None:
        mug = await make_variant(session, tenant.workspace_id, name="Mug", price_minor=500)
        await add(api, sam, shirt.variant_id, 3)
        await add(api, sam, mug.variant_id)
        response = await api.request(
            "DELETE",
            "/subscriber/remove-from-cart",
            json={"user_ns": sam, "variant_id": shirt.variant_id},
        )
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        cart = await cart_of(api, sam)
        assert [i["name"] for i in cart["items"]] == ["Mug"]
        assert cart["total_price"] == 5

    async def test_takes_its_fields_from_the_query_string_too(
        self, api: httpx.AsyncClient, sam: str, shirt: Stocked
    ) -> None:
        await add(api, sam, shirt.variant_id)
        response = await api.delete(
            "/subscriber/remove-from-cart",
            params={"user_ns": sam, "variant_id": str(shirt.variant_id)},
        )
        assert response.status_code == 200
        assert (await cart_of(api, sam))["items"] == []

    async def test_a_variant_the_cart_lacks_changes_nothing(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        sam: str,
        shirt: Stocked,
    ) -> None:
        mug = await make_variant(session, tenant.workspace_id, name="Mug")
        await add(api, sam, shirt.variant_id)
        response = await api.request(
            "DELETE",
            "/subscriber/remove-from-cart",
            json={"user_ns": sam, "variant_id": mug.variant_id},
        )
        assert response.status_code == 200
        assert (await cart_of(api, sam))["num_of_items"] == 1

    async def test_an_unknown_variant_answers_404(
        self, api: httpx.AsyncClient, sam: str, shirt: Stocked
    ) -> None:
        response = await api.request(
            "DELETE",
            "/subscriber/remove-from-cart",
            json={"user_ns": sam, "variant_id": shirt.variant_id + 1000},
        )
        assert response.status_code == 404
        assert response.json()["message"] == "Variant not found"


class TestEmptyCart:
    async def test_removes_every_item(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        sam: str,
        shirt: Stocked,
    ) -> None:
        mug = await make_variant(session, tenant.workspace_id, name="Mug")
        await add(api, sam, shirt.variant_id, 2)
        await add(api, sam, mug.variant_id)
        response = await api.post(
            "/subscriber/empty-cart",
            json={"user_ns": sam},
            headers={"X-HTTP-Method-Override": "DELETE"},
        )
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        cart = await cart_of(api, sam)
        assert (cart["items"], cart["num_of_items"], cart["total_price"]) == ([], 0, 0)

    async def test_an_empty_cart_stays_empty(self, api: httpx.AsyncClient, sam: str) -> None:
        response = await api.request("DELETE", "/subscriber/empty-cart", json={"user_ns": sam})
        assert response.status_code == 200
        assert (await cart_of(api, sam))["items"] == []

    async def test_an_unknown_subscriber_answers_404(
        self, api: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        response = await api.request(
            "DELETE", "/subscriber/empty-cart", json={"user_ns": f"{tenant.flow_ns}u999"}
        )
        assert response.status_code == 404


class TestPermissions:
    async def test_cart_operations_need_manage_flow(
        self,
        session: AsyncSession,
        server_secret: bytes,
        tenant: Tenant,
        client_for: ClientFor,
        sam: str,
        shirt: Stocked,
    ) -> None:
        token = await make_key(session, server_secret, tenant, permissions=[Permission.MANAGE_TEAM])
        team_only = client_for(token)
        response = await team_only.get("/subscriber/cart", params={"user_ns": sam})
        assert response.status_code == 403
        response = await team_only.post(
            "/subscriber/add-to-cart", json={"user_ns": sam, "variant_id": shirt.variant_id}
        )
        assert response.status_code == 403
