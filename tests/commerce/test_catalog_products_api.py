"""Products: created with a default variant or with options, listed, changed and deleted."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from builders import ClientFor, Sessions, Tenant, make_key, make_subscriber, make_tenant
from konversation.commerce.models import Cart, CartItem, ProductType, ProductVariant
from konversation.db import session_scope
from konversation.keys.models import Permission
from konversation.workspaces.models import Workspace

TEE = {
    "name": "Classic tee",
    "description": "Soft cotton.",
    "image": "https://example.com/tee.png",
    "note": "Reorder in May",
    "type": "T-shirts",
    "vendor": "Acme Apparel",
    "tags": ["summer", "cotton"],
    "price": 12.99,
    "compare_price": "15.99",
    "sku": "TEE-1",
    "barcode": 9300000000001,
    "track_stock": 1,
    "allow_no_stock_sell": 0,
    "qty": 20,
}

HOODIE = {
    "name": "Hoodie",
    "use_variant": 1,
    "variant_1_name": "Colour",
    "variant_2_name": "Size",
    "variants": [
        {"variant_1_value": "Black", "variant_2_value": "M", "price": 40, "qty": 3, "sku": "H-B-M"},
        {
            "variant_1_value": "Black",
            "variant_2_value": "L",
            "price": "42.50",
            "qty": 2,
            "track_stock": 1,
            "image": "https://example.com/hoodie-black.png",
        },
    ],
}


async def create(api: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post("/shop/products/create", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def refused(api: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, list[str]]:
    response = await api.post("/shop/products/create", json=body)
    assert response.status_code == 422, response.text
    errors: dict[str, list[str]] = response.json()["errors"]
    return errors


async def set_currency(sessions: Sessions, tenant: Tenant, currency: str) -> None:
    async with session_scope(sessions) as session:
        await session.execute(
            update(Workspace).where(Workspace.id == tenant.workspace_id).values(currency=currency)
        )


class TestCreate:
    async def test_a_product_without_options_sells_through_one_default_variant(
        self, api: httpx.AsyncClient
    ) -> None:
        product = await create(api, TEE)
        variant = product["variants"][0]
        assert product == {
            "id": product["id"],
            "name": "Classic tee",
            "description": "Soft cotton.",
            "image": "https://example.com/tee.png",
            "note": "Reorder in May",
            "status": "active",
            "use_variant": False,
            "variant_1_name": None,
            "variant_2_name": None,
            "total_qty": 20,
            "num_of_variants": 1,
            "track_stock": True,
            "type": "T-shirts",
            "vendor": "Acme Apparel",
            "product_type_id": product["product_type_id"],
            "vendor_id": product["vendor_id"],
            "tags": ["cotton", "summer"],
            "currency": "USD",
            "variants": [
                {
                    "id": variant["id"],
                    "product_id": product["id"],
                    "option_1": None,
                    "option_2": None,
                    "option_1_value": None,
                    "option_2_value": None,
                    "name": "Classic tee",
                    "desc": "Soft cotton.",
                    "image": "https://example.com/tee.png",
                    "price": 12.99,
                    "compare_price": 15.99,
                    "sku": "TEE-1",
                    "barcode": "9300000000001",
                    "taxable": False,
                    "track_stock": True,
                    "allow_no_stock_sell": False,
                    "qty": 20,
                }
            ],
        }

    async def test_only_a_name_is_needed(self, api: httpx.AsyncClient) -> None:
        product = await create(api, {"name": "Sticker"})
        assert product["status"] == "active"
        assert (product["type"], product["vendor"], product["tags"]) == (None, None, [])
        [variant] = product["variants"]
        assert (variant["price"], variant["compare_price"], variant["qty"]) == (0, None, 0)

    async def test_a_product_with_options_has_one_variant_per_combination(
        self, api: httpx.AsyncClient
    ) -> None:
        product = await create(api, HOODIE)
        assert product["use_variant"] is True
        assert (product["variant_1_name"], product["variant_2_name"]) == ("Colour", "Size")
        assert (product["num_of_variants"], product["total_qty"]) == (2, 5)
        assert product["track_stock"] is True
        first, second = product["variants"]
        assert (first["option_1"], first["option_1_value"]) == ("Colour", "Black")
        assert (first["option_2"], first["option_2_value"]) == ("Size", "M")
        assert (first["price"], second["price"]) == (40.0, 42.5)
        assert first["image"] is None  # neither the variant nor the product has one
        assert second["image"] == "https://example.com/hoodie-black.png"

    async def test_product_level_stock_fields_are_ignored_with_options(
        self, api: httpx.AsyncClient
    ) -> None:
        product = await create(api, HOODIE | {"price": 99, "qty": 500, "sku": "IGNORED"})
        assert [v["price"] for v in product["variants"]] == [40.0, 42.5]
        assert "IGNORED" not in [v["sku"] for v in product["variants"]]

    async def test_type_vendor_and_tags_link_existing_records_by_name(
        self, api: httpx.AsyncClient
    ) -> None:
        made = await api.post("/shop/product-types/create", json={"name": "T-shirts"})
        first = await create(api, TEE)
        second = await create(api, TEE | {"name": "Other tee", "tags": ["summer"]})
        assert first["product_type_id"] == second["product_type_id"] == made.json()["data"]["id"]
        assert first["vendor_id"] == second["vendor_id"]
        tags = (await api.get("/shop/product-tags")).json()["data"]
        assert sorted(t["name"] for t in tags) == ["cotton", "summer"]
        vendors = (await api.get("/shop/product-vendors")).json()["data"]
        assert [v["name"] for v in vendors] == ["Acme Apparel"]

    async def test_tags_may_come_as_one_comma_separated_string(
        self, api: httpx.AsyncClient
    ) -> None:
        product = await create(api, {"name": "Cap", "tags": "summer, sale"})
        assert product["tags"] == ["sale", "summer"]

    @pytest.mark.parametrize(
        ("given", "shown"),
        [(12.99, 12.99), ("12.99", 12.99), (0.1, 0.1), (19.999, 20.0), ("19.994", 19.99), (7, 7.0)],
    )
    async def test_prices_are_exact_to_the_cent(
        self, api: httpx.AsyncClient, given: object, shown: float
    ) -> None:
        product = await create(api, {"name": "Mug", "price": given})
        assert product["variants"][0]["price"] == shown

    async def test_prices_follow_the_workspace_currencys_minor_unit(
        self, api: httpx.AsyncClient, sessions: Sessions, tenant: Tenant
    ) -> None:
        await set_currency(sessions, tenant, "JPY")
        response = await api.post("/shop/products/create", json={"name": "Mug", "price": 1500.4})
        assert response.json()["data"]["currency"] == "JPY"
        assert '"price":1500,' in response.text  # no minor unit: an integer
        await set_currency(sessions, tenant, "KWD")
        product = await create(api, {"name": "Mug", "price": "1.2345"})
        assert product["variants"][0]["price"] == 1.235

    async def test_stores_minor_units(self, api: httpx.AsyncClient, session: AsyncSession) -> None:
        product = await create(api, {"name": "Mug", "price": 0.1, "compare_price": 0.3})
        variant = await session.get(ProductVariant, product["variants"][0]["id"])
        assert variant is not None
        assert (variant.price_minor, variant.compare_price_minor) == (10, 30)

    async def test_a_compare_price_of_zero_means_none(self, api: httpx.AsyncClient) -> None:
        product = await create(api, {"name": "Mug", "price": 5, "compare_price": 0})
        assert product["variants"][0]["compare_price"] is None

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            ({}, {"name": ["The name field is required."]}),
            ({"name": " "}, {"name": ["The name field is required."]}),
            ({"name": "Mug", "price": -1}, {"price": ["The price field must be at least 0."]}),
            ({"name": "Mug", "price": "cheap"}, {"price": ["The price field must be a number."]}),
            ({"name": "Mug", "price": True}, {"price": ["The price field must be a number."]}),
            ({"name": "Mug", "qty": -1}, {"qty": ["The qty field must be at least 0."]}),
            ({"name": "Mug", "status": "gone"}, {"status": ["The selected status is invalid."]}),
            (
                {"name": "Mug", "use_variant": 2},
                {"use_variant": ["The use_variant field must be true or false."]},
            ),
            ({"name": "Mug", "tags": ["ok", " "]}, {"tags.1": ["The tags.1 field is required."]}),
        ],
        ids=["no name", "blank name", "negative price", "text price", "boolean price",
             "negative qty", "unknown status", "use_variant 2", "blank tag"],
    )  # fmt: skip
    async def test_refuses_bad_fields(
        self, api: httpx.AsyncClient, body: dict[str, Any], errors: dict[str, list[str]]
    ) -> None:
        assert await refused(api, body) == errors

    async def test_options_need_an_option_name(self, api: httpx.AsyncClient) -> None:
        body = HOODIE | {"variant_1_name": None}
        assert await refused(api, body) == {
            "variant_1_name": ["The variant_1_name field is required when use_variant is 1."]
        }

    async def test_options_need_variants(self, api: httpx.AsyncClient) -> None:
        assert await refused(api, HOODIE | {"variants": []}) == {
            "variants": ["The variants field is required when use_variant is 1."]
        }

    async def test_variants_need_options(self, api: httpx.AsyncClient) -> None:
        body = {"name": "Mug", "variants": [{"price": 1}]}
        assert await refused(api, body) == {
            "variants": ["The variants field must be empty when use_variant is 0."]
        }

    async def test_each_variant_needs_a_value_for_each_option(self, api: httpx.AsyncClient) -> None:
        body = HOODIE | {"variants": [{"variant_1_value": "Black"}, {"variant_2_value": "L"}]}
        assert await refused(api, body) == {
            "variants.0.variant_2_value": [
                "The variants.0.variant_2_value field is required when variant_2_name is present."
            ],
            "variants.1.variant_1_value": [
                "The variants.1.variant_1_value field is required when variant_1_name is present."
            ],
        }

    async def test_a_value_without_its_option_name_is_refused(self, api: httpx.AsyncClient) -> None:
        body = HOODIE | {
            "variant_2_name": None,
            "variants": [{"variant_1_value": "Black", "variant_2_value": "L"}],
        }
        assert await refused(api, body) == {
            "variants.0.variant_2_value": [
                "The variants.0.variant_2_value field is prohibited unless variant_2_name is "
                "present."
            ]
        }

    async def test_two_variants_with_the_same_options_are_refused(
        self, api: httpx.AsyncClient
    ) -> None:
        same = {"variant_1_value": "Black", "variant_2_value": "M"}
        body = HOODIE | {
            "variants": [same, {"variant_1_value": "Red", "variant_2_value": "M"}, same]
        }
        assert await refused(api, body) == {
            "variants.2": ["The variants.2 field repeats the options of variants.0."]
        }

    async def test_nothing_is_stored_when_refused(
        self, api: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await refused(api, HOODIE | {"variants": [{"variant_1_value": "Black"}]})
        assert await session.scalar(select(func.count()).select_from(ProductType)) == 0


class TestList:
    async def test_lists_products_with_their_variants_and_meta(
        self, api: httpx.AsyncClient
    ) -> None:
        tee, hoodie = await create(api, TEE), await create(api, HOODIE)
        response = await api.get("/shop/products")
        assert response.status_code == 200
        body = response.json()
        assert body["data"] == [tee, hoodie]
        assert body["meta"] == {
            "current_page": 1, "last_page": 1, "per_page": 10, "total": 2, "from": 1, "to": 2
        }  # fmt: skip

    async def test_honours_limit_and_page(self, api: httpx.AsyncClient) -> None:
        for n in range(3):
            await create(api, {"name": f"Mug {n}"})
        body = (await api.get("/shop/products", params={"limit": 2, "page": 2})).json()
        assert [p["name"] for p in body["data"]] == ["Mug 2"]
        assert (body["meta"]["last_page"], body["meta"]["total"]) == (2, 3)

    async def test_filters_by_name_type_and_vendor(self, api: httpx.AsyncClient) -> None:
        tee = await create(api, TEE)
        await create(api, {"name": "Tee shirt dress", "type": "Dresses", "vendor": "Acme Apparel"})
        await create(api, {"name": "Mug", "type": "T-shirts", "vendor": "Other"})

        async def names(**params: object) -> list[str]:
            response = await api.get("/shop/products", params=params)
            assert response.status_code == 200
            return [p["name"] for p in response.json()["data"]]

        assert await names(name="TEE") == ["Classic tee", "Tee shirt dress"]
        assert await names(product_type_id=tee["product_type_id"]) == ["Classic tee", "Mug"]
        assert await names(vendor_id=tee["vendor_id"]) == ["Classic tee", "Tee shirt dress"]
        assert await names(product_type_id=tee["product_type_id"], vendor_id=tee["vendor_id"]) == [
            "Classic tee"
        ]
        assert await names(vendor_id=999999) == []
        assert len(await names(vendor_id="", product_type_id="")) == 3  # blank: no filter

    async def test_a_non_numeric_filter_answers_422(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/shop/products", params={"vendor_id": "acme"})
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "vendor_id": ["The vendor_id field must be an integer."]
        }

    async def test_shows_only_the_keys_workspace(
        self,
        api: httpx.AsyncClient,
        sessions: Sessions,
        server_secret: bytes,
        client_for: ClientFor,
    ) -> None:
        await create(api, {"name": "Ours"})
        other = await make_tenant(sessions, server_secret)
        await create(client_for(other.token), {"name": "Theirs"})
        assert [p["name"] for p in (await api.get("/shop/products")).json()["data"]] == ["Ours"]

    async def test_a_key_without_manage_team_answers_403(
        self, session: AsyncSession, server_secret: bytes, tenant: Tenant, client_for: ClientFor
    ) -> None:
        token = await make_key(
            session, server_secret, tenant, permissions=[Permission.MANAGE_FLOW.value]
        )
        client = client_for(token)
        for response in (
            await client.get("/shop/products"),
            await client.post("/shop/products/create", json={"name": "Mug"}),
            await client.get("/shop/products/1/get-info"),
        ):
            assert response.status_code == 403
            assert response.json()["message"]


class TestGetInfo:
    async def test_answers_the_product(self, api: httpx.AsyncClient) -> None:
        hoodie = await create(api, HOODIE)
        response = await api.get(f"/shop/products/{hoodie['id']}/get-info")
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "data": hoodie}

    async def test_an_unknown_product_answers_404(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/shop/products/999999/get-info")
        assert response.status_code == 404
        assert response.json() == {"message": "Product not found"}

    async def test_another_workspaces_product_answers_404(
        self,
        api: httpx.AsyncClient,
        sessions: Sessions,
        server_secret: bytes,
        client_for: ClientFor,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        theirs = await create(client_for(other.token), {"name": "Theirs"})
        assert (await api.get(f"/shop/products/{theirs['id']}/get-info")).status_code == 404


class TestUpdate:
    async def _update(
        self, api: httpx.AsyncClient, product_id: int, body: dict[str, Any]
    ) -> httpx.Response:
        return await api.put(f"/shop/products/{product_id}/update", json=body)

    async def test_changes_only_the_fields_sent(self, api: httpx.AsyncClient) -> None:
        tee = await create(api, TEE)
        response = await self._update(api, tee["id"], {"name": "Vintage tee", "status": "inactive"})
        assert response.status_code == 200
        changed = response.json()["data"]
        assert (changed["name"], changed["status"]) == ("Vintage tee", "inactive")
        unchanged = {k: v for k, v in changed.items() if k not in {"name", "status", "variants"}}
        assert unchanged == {
            k: v for k, v in tee.items() if k not in {"name", "status", "variants"}
        }
        assert changed["variants"][0]["name"] == "Vintage tee"

    async def test_relinks_type_vendor_and_tags_by_name(self, api: httpx.AsyncClient) -> None:
        tee = await create(api, TEE)
        body = {"type": "Tops", "vendor": "", "tags": ["sale"], "id": 424242}
        changed = (await self._update(api, tee["id"], body)).json()["data"]
        assert (changed["id"], changed["type"], changed["vendor"]) == (tee["id"], "Tops", None)
        assert (changed["vendor_id"], changed["tags"]) == (None, ["sale"])
        cleared = (await self._update(api, tee["id"], {"tags": []})).json()["data"]
        assert cleared["tags"] == []

    async def test_changes_the_default_variant_of_a_product_without_options(
        self, api: httpx.AsyncClient
    ) -> None:
        tee = await create(api, TEE)
        body = {"price": "10.50", "qty": 7, "sku": "TEE-2", "compare_price": 0}
        changed = (await self._update(api, tee["id"], body)).json()["data"]
        [variant] = changed["variants"]
        assert variant["id"] == tee["variants"][0]["id"]
        assert (variant["price"], variant["qty"], variant["sku"]) == (10.5, 7, "TEE-2")
        assert (variant["compare_price"], variant["barcode"]) == (None, "9300000000001")

    async def test_a_product_with_options_refuses_product_level_prices(
        self, api: httpx.AsyncClient
    ) -> None:
        hoodie = await create(api, HOODIE)
        response = await self._update(api, hoodie["id"], {"price": 10})
        assert response.status_code == 422
        assert list(response.json()["errors"]) == ["use_variant"]

    async def test_option_names_can_be_renamed_but_not_added_or_removed(
        self, api: httpx.AsyncClient
    ) -> None:
        hoodie, tee = await create(api, HOODIE), await create(api, TEE)
        renamed = await self._update(api, hoodie["id"], {"variant_1_name": "Color"})
        assert renamed.json()["data"]["variants"][0]["option_1"] == "Color"
        removed = await self._update(api, hoodie["id"], {"variant_2_name": ""})
        assert removed.status_code == 422
        assert removed.json()["errors"] == {
            "variant_2_name": ["The variant_2_name field is required for this product."]
        }
        added = await self._update(api, tee["id"], {"variant_1_name": "Size"})
        assert added.status_code == 422
        assert added.json()["errors"] == {
            "variant_1_name": ["The variant_1_name field cannot be set on this product."]
        }

    async def test_refuses_a_blank_name(self, api: httpx.AsyncClient) -> None:
        tee = await create(api, TEE)
        response = await self._update(api, tee["id"], {"name": ""})
        assert response.status_code == 422
        assert response.json()["errors"] == {"name": ["The name field is required."]}

    async def test_an_unknown_product_answers_404(self, api: httpx.AsyncClient) -> None:
        response = await self._update(api, 999999, {"name": "x"})
        assert response.status_code == 404
        assert response.json() == {"message": "Product not found"}


class TestDelete:
    async def test_deletes_the_product_and_its_variants(
        self, api: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        hoodie, tee = await create(api, HOODIE), await create(api, TEE)
        response = await api.delete(f"/shop/products/{hoodie['id']}/delete")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert (await api.get(f"/shop/products/{hoodie['id']}/get-info")).status_code == 404
        variant_id = hoodie["variants"][0]["id"]
        gone = await api.get(f"/shop/products/{hoodie['id']}/variants/{variant_id}/get-info")
        assert gone.status_code == 404
        left = await session.scalars(select(ProductVariant.product_id))
        assert set(left) == {tee["id"]}

    async def test_takes_its_variants_out_of_carts(
        self, api: httpx.AsyncClient, sessions: Sessions, tenant: Tenant, session: AsyncSession
    ) -> None:
        hoodie, tee = await create(api, HOODIE), await create(api, TEE)
        async with session_scope(sessions) as writer:
            subscriber = await make_subscriber(writer, tenant.bot_id)
            cart = Cart(bot_id=tenant.bot_id, subscriber_id=subscriber.id)
            writer.add(cart)
            await writer.flush()
            for variant_id in (hoodie["variants"][0]["id"], tee["variants"][0]["id"]):
                writer.add(CartItem(cart_id=cart.id, variant_id=variant_id, qty=1))
        await api.delete(f"/shop/products/{hoodie['id']}/delete")
        assert list(await session.scalars(select(CartItem.variant_id))) == [
            tee["variants"][0]["id"]
        ]

    async def test_deleting_a_type_vendor_or_tag_unlinks_its_products(
        self, api: httpx.AsyncClient
    ) -> None:
        tee = await create(api, TEE)
        await api.delete(f"/shop/product-types/{tee['product_type_id']}/delete")
        await api.delete(f"/shop/product-vendors/{tee['vendor_id']}/delete")
        summer = (await api.get("/shop/product-tags", params={"name": "summer"})).json()["data"]
        await api.delete(f"/shop/product-tags/{summer[0]['id']}/delete")
        after = (await api.get(f"/shop/products/{tee['id']}/get-info")).json()["data"]
        assert (after["type"], after["product_type_id"]) == (None, None)
        assert (after["vendor"], after["vendor_id"]) == (None, None)
        assert after["tags"] == ["cotton"]

    async def test_an_unknown_product_answers_404(self, api: httpx.AsyncClient) -> None:
        response = await api.delete("/shop/products/999999/delete")
        assert response.status_code == 404

    async def test_another_workspaces_product_answers_404(
        self,
        api: httpx.AsyncClient,
        sessions: Sessions,
        server_secret: bytes,
        client_for: ClientFor,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        theirs = await create(client_for(other.token), {"name": "Theirs"})
        assert (await api.delete(f"/shop/products/{theirs['id']}/delete")).status_code == 404
