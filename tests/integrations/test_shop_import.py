"""An owner imports a connected Shopify or WooCommerce store's products into the catalogue:
in the background, page by page, as the store's API pages them, and again without doubles."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from fake_shopify import FakeShopify, product, serving_shopify
from fake_woocommerce import serving_woocommerce, simple, variable
from konversation.integrations import shopify, woocommerce
from konversation.jobs.runtime import Runtime


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shopify, "PAGE_SIZE", 2)
    monkeypatch.setattr(woocommerce, "PAGE_SIZE", 2)


async def connect(api: httpx.AsyncClient, kind: str, **values: Any) -> None:
    saved = await api.post(f"/integration/{kind}", json=values)
    assert saved.status_code == 200, saved.text


async def run_import(api: httpx.AsyncClient, runtime: Runtime, kind: str) -> dict[str, Any]:
    started = await api.post(f"/integration/{kind}/import")
    assert started.status_code == 200, started.text
    import_id = started.json()["data"]["import_id"]
    for _ in range(100):
        await runtime.settle()
        state = await api.get(f"/integration/{kind}/import", params={"import_id": import_id})
        assert state.status_code == 200, state.text
        if state.json()["data"]["status"] in ("done", "failed"):
            return state.json()["data"]  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)
    raise AssertionError("the import did not end")


async def catalogue(api: httpx.AsyncClient) -> list[dict[str, Any]]:
    listed = await api.get("/shop/products", params={"limit": 100})
    assert listed.status_code == 200, listed.text
    return listed.json()["data"]  # type: ignore[no-any-return]


async def connect_shopify(api: httpx.AsyncClient, store: FakeShopify, wait: int = 1) -> None:
    await connect(api, "shopify", url=store.url, api_key="key", token=store.token, wait_time=wait)


async def test_a_shopify_import_reads_every_page_into_the_catalogue(
    api: httpx.AsyncClient, runtime: Runtime
) -> None:
    products = [product(1), product(2, options=1), product(3, options=2), product(4), product(5)]
    with serving_shopify(products) as store:
        await connect_shopify(api, store)
        done = await run_import(api, runtime, "shopify")
    assert done["status"] == "done", done
    assert (done["imported"], done["updated"], done["skipped"], done["failed"]) == (5, 0, 0, 0)
    assert done["pages"] == 3
    assert all(c.headers["x-shopify-access-token"] == store.token for c in store.calls)
    assert [c.query.get("page_info") is None for c in store.calls] == [True, False, False]
    assert all(c.path == f"/admin/api/{shopify.API_VERSION}/products.json" for c in store.calls)
    shown = {p["name"]: p for p in await catalogue(api)}
    assert sorted(shown) == [f"Product {n}" for n in range(1, 6)]
    first = shown["Product 1"]
    assert first["description"] == "The 1 thing"
    assert first["use_variant"] in (0, False)


async def test_importing_again_updates_rather_than_doubles(
    api: httpx.AsyncClient, runtime: Runtime
) -> None:
    products = [product(1, options=1), product(2)]
    with serving_shopify(products) as store:
        await connect_shopify(api, store)
        first = await run_import(api, runtime, "shopify")
        products[1]["title"] = "Renamed"
        products[0]["variants"] = products[0]["variants"][:1]
        products[0]["variants"][0]["price"] = "25.00"
        again = await run_import(api, runtime, "shopify")
    assert (first["imported"], first["updated"]) == (2, 0)
    assert (again["imported"], again["updated"]) == (0, 2)
    shown = await catalogue(api)
    assert sorted(p["name"] for p in shown) == ["Product 1", "Renamed"]
    with_options = next(p for p in shown if p["name"] == "Product 1")
    variants = await api.get(f"/shop/products/{with_options['id']}/variants")
    assert variants.status_code == 200, variants.text
    assert [float(v["price"]) for v in variants.json()["data"]] == [25.0]


async def test_a_throttled_page_is_asked_for_again_after_retry_after(
    api: httpx.AsyncClient, runtime: Runtime
) -> None:
    with serving_shopify([product(1), product(2), product(3)]) as store:
        await connect_shopify(api, store)
        store.throttle_next(0.5)
        done = await run_import(api, runtime, "shopify")
    assert done["status"] == "done", done
    assert done["imported"] == 3
    assert len(store.calls) == 3  # the throttled first call, then both pages


async def test_a_refused_token_fails_the_import_with_the_reason(
    api: httpx.AsyncClient, runtime: Runtime
) -> None:
    with serving_shopify([product(1)]) as store:
        await connect(api, "shopify", url=store.url, api_key="key", token="wrong")
        done = await run_import(api, runtime, "shopify")
    assert done["status"] == "failed"
    assert "401" in done["error"]
    assert done["imported"] == 0
    assert await catalogue(api) == []


async def test_a_woocommerce_import_pages_products_and_variations(
    api: httpx.AsyncClient, runtime: Runtime
) -> None:
    tee, colours = variable(3, ["Red", "Blue", "Green"])
    with serving_woocommerce([simple(1), simple(2, price="12.00"), tee], {3: colours}) as store:
        await connect(api, "woocommerce", url=store.url, api_key=store.key, token=store.secret)
        done = await run_import(api, runtime, "woocommerce")
        again = await run_import(api, runtime, "woocommerce")
    assert done["status"] == "done", done
    assert (done["imported"], done["pages"]) == (3, 2)
    assert (again["imported"], again["updated"]) == (0, 3)
    paths = [path for path, _ in store.calls]
    assert paths.count("/wp-json/wc/v3/products/3/variations") == 4  # two pages, twice
    shown = {p["name"]: p for p in await catalogue(api)}
    assert sorted(shown) == ["Mug 1", "Mug 2", "Tee 3"]
    variants = await api.get(f"/shop/products/{shown['Tee 3']['id']}/variants")
    assert sorted(v["variant_1_value"] for v in variants.json()["data"]) == [
        "Blue",
        "Green",
        "Red",
    ]


async def test_an_import_needs_a_connected_store(api: httpx.AsyncClient) -> None:
    refused = await api.post("/integration/woocommerce/import")
    assert refused.status_code == 422, refused.text
    assert "integration" in refused.json()["errors"]


async def test_a_store_over_plain_http_on_the_internet_is_refused(
    api: httpx.AsyncClient,
) -> None:
    await connect(api, "woocommerce", url="http://93.184.216.34", api_key="ck", token="cs")
    refused = await api.post("/integration/woocommerce/import")
    assert refused.status_code == 422, refused.text
    assert "https" in refused.json()["errors"]["url"][0]


async def test_an_unknown_import_is_not_found(api: httpx.AsyncClient) -> None:
    missing = await api.get("/integration/shopify/import", params={"import_id": 99})
    assert missing.status_code == 404
    assert missing.json()["message"] == "Import not found"
