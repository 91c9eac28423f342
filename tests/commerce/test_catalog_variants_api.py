"""A product's variants: listed, added, changed and deleted under their product."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from builders import ClientFor, Sessions, Tenant, make_key, make_tenant
from konversation.commerce.models import ProductVariant
from konversation.keys.models import Permission

SHIRT = {
    "name": "Shirt",
    "use_variant": 1,
    "variant_1_name": "Size",
    "variants": [
        {"variant_1_value": "S", "price": 20, "qty": 1},
        {"variant_1_value": "M", "price": 21, "qty": 2},
        {"variant_1_value": "L", "price": 22, "qty": 3},
    ],
}


async def create_product(api: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post("/shop/products/create", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


class TestList:
    async def test_lists_in_display_order_with_meta(self, api: httpx.AsyncClient) -> None:
        shirt = await create_product(api, SHIRT)
        response = await api.get(f"/shop/products/{shirt['id']}/variants")
        assert response.status_code == 200
        body = response.json()
        small = shirt["variants"][0]
        assert body["data"][0] == {
            "id": small["id"],
            "product_id": shirt["id"],
            "variant_1_value": "S",
            "variant_2_value": None,
            "image": None,
            "price": 20.0,
            "compare_price": None,
            "taxable": False,
            "sku": None,
            "barcode": None,
            "track_stock": False,
            "allow_no_stock_sell": False,
            "qty": 1,
            "display_order": 1,
        }
        assert [v["variant_1_value"] for v in body["data"]] == ["S", "M", "L"]
        assert [v["display_order"] for v in body["data"]] == [1, 2, 3]
        assert body["meta"] == {
            "current_page": 1, "last_page": 1, "per_page": 10, "total": 3, "from": 1, "to": 3
        }  # fmt: skip

    async def test_honours_limit_and_page(self, api: httpx.AsyncClient) -> None:
        shirt = await create_product(api, SHIRT)
        params = {"limit": 2, "page": 2}
        body = (await api.get(f"/shop/products/{shirt['id']}/variants", params=params)).json()
        assert [v["variant_1_value"] for v in body["data"]] == ["L"]
        assert body["meta"]["last_page"] == 2

    async def test_a_product_without_options_lists_its_default_variant(
        self, api: httpx.AsyncClient
    ) -> None:
        mug = await create_product(api, {"name": "Mug", "price": 9.5, "sku": "MUG"})
        body = (await api.get(f"/shop/products/{mug['id']}/variants")).json()
        assert [(v["price"], v["sku"]) for v in body["data"]] == [(9.5, "MUG")]

    async def test_an_unknown_product_answers_404(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/shop/products/999999/variants")
        assert response.status_code == 404
        assert response.json() == {"message": "Product not found"}

    async def test_a_key_without_manage_team_answers_403(
        self, session: AsyncSession, server_secret: bytes, tenant: Tenant, client_for: ClientFor
    ) -> None:
        token = await make_key(
            session, server_secret, tenant, permissions=[Permission.MANAGE_FLOW.value]
        )
        client = client_for(token)
        for response in (
            await client.get("/shop/products/1/variants"),
            await client.post("/shop/products/1/variants/create", json={}),
            await client.put("/shop/products/1/variants/1/update", json={}),
            await client.delete("/shop/products/1/variants/1/delete"),
        ):
            assert response.status_code == 403


class TestGetInfo:
    async def test_answers_the_variant(self, api: httpx.AsyncClient) -> None:
        shirt = await create_product(api, SHIRT)
        medium = shirt["variants"][1]
        response = await api.get(f"/shop/products/{shirt['id']}/variants/{medium['id']}/get-info")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        assert (body["data"]["id"], body["data"]["variant_1_value"]) == (medium["id"], "M")

    async def test_a_variant_of_another_product_answers_404(self, api: httpx.AsyncClient) -> None:
        shirt, mug = await create_product(api, SHIRT), await create_product(api, {"name": "Mug"})
        variant_id = mug["variants"][0]["id"]
        response = await api.get(f"/shop/products/{shirt['id']}/variants/{variant_id}/get-info")
        assert response.status_code == 404
        assert response.json() == {"message": "Variant not found"}

    async def test_another_workspaces_variant_answers_404(
        self,
        api: httpx.AsyncClient,
        sessions: Sessions,
        server_secret: bytes,
        client_for: ClientFor,
    ) -> None:
        other = await make_tenant(sessions, server_secret)
        theirs = await create_product(client_for(other.token), SHIRT)
        variant_id = theirs["variants"][0]["id"]
        response = await api.get(f"/shop/products/{theirs['id']}/variants/{variant_id}/get-info")
        assert response.status_code == 404
        assert response.json() == {"message": "Product not found"}


class TestCreate:
    async def test_adds_a_variant_at_the_end(self, api: httpx.AsyncClient) -> None:
        shirt = await create_product(api, SHIRT)
        body = {
            "variant_1_value": "XL",
            "price": "23.45",
            "compare_price": 30,
            "taxable": 1,
            "sku": "SH-XL",
            "barcode": "123",
            "track_stock": 1,
            "allow_no_stock_sell": 1,
            "qty": 4,
            "image": "https://example.com/xl.png",
        }
        response = await api.post(f"/shop/products/{shirt['id']}/variants/create", json=body)
        assert response.status_code == 200, response.text
        made = response.json()["data"]
        assert made == body | {
            "id": made["id"],
            "product_id": shirt["id"],
            "variant_2_value": None,
            "price": 23.45,
            "compare_price": 30.0,
            "taxable": True,
            "track_stock": True,
            "allow_no_stock_sell": True,
            "display_order": 4,
        }
        product = (await api.get(f"/shop/products/{shirt['id']}/get-info")).json()["data"]
        assert (product["num_of_variants"], product["total_qty"]) == (4, 10)

    async def test_needs_a_value_for_the_products_option(self, api: httpx.AsyncClient) -> None:
        shirt = await create_product(api, SHIRT)
        response = await api.post(f"/shop/products/{shirt['id']}/variants/create", json={})
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "variant_1_value": [
                "The variant_1_value field is required when variant_1_name is present."
            ]
        }

    async def test_refuses_options_another_variant_has(self, api: httpx.AsyncClient) -> None:
        shirt = await create_product(api, SHIRT)
        response = await api.post(
            f"/shop/products/{shirt['id']}/variants/create", json={"variant_1_value": "M"}
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "variant_1_value": ["The product already has a variant with these option values."]
        }

    async def test_a_product_without_options_takes_no_variants(
        self, api: httpx.AsyncClient
    ) -> None:
        mug = await create_product(api, {"name": "Mug"})
        response = await api.post(f"/shop/products/{mug['id']}/variants/create", json={"price": 1})
        assert response.status_code == 422
        assert list(response.json()["errors"]) == ["use_variant"]

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("price", -0.01, "The price field must be at least 0."),
            ("qty", 1.5, "The qty field must be an integer."),
            ("taxable", "maybe", "The taxable field must be true or false."),
            ("compare_price", [], "The compare_price field must be a number."),
        ],
    )
    async def test_refuses_bad_fields(
        self, api: httpx.AsyncClient, field: str, value: object, message: str
    ) -> None:
        shirt = await create_product(api, SHIRT)
        body = {"variant_1_value": "XL", field: value}
        response = await api.post(f"/shop/products/{shirt['id']}/variants/create", json=body)
        assert response.status_code == 422
        assert response.json()["errors"] == {field: [message]}

    async def test_an_unknown_product_answers_404(self, api: httpx.AsyncClient) -> None:
        response = await api.post(
            "/shop/products/999999/variants/create", json={"variant_1_value": "XL"}
        )
        assert response.status_code == 404


class TestUpdate:
    async def test_changes_only_the_fields_sent(self, api: httpx.AsyncClient) -> None:
        shirt = await create_product(api, SHIRT)
        small = shirt["variants"][0]
        url = f"/shop/products/{shirt['id']}/variants/{small['id']}/update"
        response = await api.put(url, json={"price": 19.99, "qty": 0, "sku": "SH-S"})
        assert response.status_code == 200
        changed = response.json()["data"]
        assert (changed["price"], changed["qty"], changed["sku"]) == (19.99, 0, "SH-S")
        assert (changed["variant_1_value"], changed["display_order"]) == ("S", 1)

    async def test_stores_the_price_in_minor_units(
        self, api: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        shirt = await create_product(api, SHIRT)
        small = shirt["variants"][0]
        url = f"/shop/products/{shirt['id']}/variants/{small['id']}/update"
        await api.put(url, json={"price": "0.29", "compare_price": 1.005})
        variant = await session.get(ProductVariant, small["id"])
        assert variant is not None
        assert (variant.price_minor, variant.compare_price_minor) == (29, 101)

    async def test_may_rename_its_option_value_but_not_to_a_siblings(
        self, api: httpx.AsyncClient
    ) -> None:
        shirt = await create_product(api, SHIRT)
        small = shirt["variants"][0]
        url = f"/shop/products/{shirt['id']}/variants/{small['id']}/update"
        assert (await api.put(url, json={"variant_1_value": "S"})).status_code == 200
        renamed = await api.put(url, json={"variant_1_value": "XS"})
        assert renamed.json()["data"]["variant_1_value"] == "XS"
        clash = await api.put(url, json={"variant_1_value": "L"})
        assert clash.status_code == 422
        blank = await api.put(url, json={"variant_1_value": ""})
        assert blank.status_code == 422

    async def test_the_default_variant_takes_no_option_values(self, api: httpx.AsyncClient) -> None:
        mug = await create_product(api, {"name": "Mug"})
        url = f"/shop/products/{mug['id']}/variants/{mug['variants'][0]['id']}/update"
        response = await api.put(url, json={"variant_1_value": "Blue"})
        assert response.status_code == 422
        ok = await api.put(url, json={"price": 3})
        assert ok.json()["data"]["price"] == 3.0

    async def test_an_unknown_variant_answers_404(self, api: httpx.AsyncClient) -> None:
        shirt = await create_product(api, SHIRT)
        response = await api.put(
            f"/shop/products/{shirt['id']}/variants/999999/update", json={"price": 1}
        )
        assert response.status_code == 404
        assert response.json() == {"message": "Variant not found"}


class TestDelete:
    async def test_deletes_the_variant(self, api: httpx.AsyncClient) -> None:
        shirt = await create_product(api, SHIRT)
        small = shirt["variants"][0]
        url = f"/shop/products/{shirt['id']}/variants/{small['id']}"
        response = await api.delete(f"{url}/delete")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert (await api.get(f"{url}/get-info")).status_code == 404
        product = (await api.get(f"/shop/products/{shirt['id']}/get-info")).json()["data"]
        assert [v["option_1_value"] for v in product["variants"]] == ["M", "L"]

    async def test_the_last_variant_stays(self, api: httpx.AsyncClient) -> None:
        mug = await create_product(api, {"name": "Mug"})
        url = f"/shop/products/{mug['id']}/variants/{mug['variants'][0]['id']}/delete"
        response = await api.delete(url)
        assert response.status_code == 422
        assert response.json()["message"] == (
            "A product keeps at least one variant: delete the product instead."
        )

    async def test_a_variant_of_another_product_answers_404_and_stays(
        self, api: httpx.AsyncClient
    ) -> None:
        shirt, other = await create_product(api, SHIRT), await create_product(api, SHIRT)
        variant_id = other["variants"][0]["id"]
        response = await api.delete(f"/shop/products/{shirt['id']}/variants/{variant_id}/delete")
        assert response.status_code == 404
        after = (await api.get(f"/shop/products/{other['id']}/get-info")).json()["data"]
        assert after["num_of_variants"] == 3
