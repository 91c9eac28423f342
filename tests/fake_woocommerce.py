"""A WooCommerce store's REST API (`/wp-json/wc/v3`) on 127.0.0.1, for catalogue imports.

`GET /products` and `GET /products/<id>/variations` answer JSON lists `per_page` at a time for
`page`, with `X-WP-Total` and `X-WP-TotalPages`, and 401 unless basic auth carries `key` and
`secret`. Every call is recorded in `calls` (path, query).

    with serving_woocommerce(products, variations) as store: ...  # store.url: the site
"""

from __future__ import annotations

import base64
import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from loopback import serving


@dataclass
class FakeWooCommerce:
    products: list[dict[str, Any]]
    variations: dict[int, list[dict[str, Any]]]
    key: str = "ck_test"
    secret: str = "cs_test"
    url: str = ""
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def _authorized(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}"

    def _page(self, request: Request, items: list[dict[str, Any]]) -> Response:
        self.calls.append((request.url.path, dict(request.query_params)))
        if not self._authorized(request):
            return JSONResponse({"code": "woocommerce_rest_cannot_view"}, 401)
        per_page = int(request.query_params.get("per_page", "10"))
        page = int(request.query_params.get("page", "1"))
        chunk = items[(page - 1) * per_page : page * per_page]
        pages = max(1, math.ceil(len(items) / per_page))
        return JSONResponse(
            chunk, headers={"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(pages)}
        )

    async def list_products(self, request: Request) -> Response:
        return self._page(request, self.products)

    async def list_variations(self, request: Request) -> Response:
        return self._page(request, self.variations.get(int(request.path_params["id"]), []))


@contextlib.contextmanager
def serving_woocommerce(
    products: list[dict[str, Any]], variations: dict[int, list[dict[str, Any]]] | None = None
) -> Iterator[FakeWooCommerce]:
    store = FakeWooCommerce(products, variations or {})
    app = Starlette(
        routes=[
            Route("/wp-json/wc/v3/products", store.list_products, methods=["GET"]),
            Route(
                "/wp-json/wc/v3/products/{id:int}/variations",
                store.list_variations,
                methods=["GET"],
            ),
        ]
    )
    with serving(app) as url:
        store.url = url
        yield store


def simple(number: int, *, price: str = "9.50", regular: str = "12.00") -> dict[str, Any]:
    return {
        "id": number,
        "name": f"Mug {number}",
        "type": "simple",
        "status": "publish",
        "description": "<p>A mug &amp; a saucer</p>",
        "sku": f"MUG-{number}",
        "price": price,
        "regular_price": regular,
        "sale_price": price if price != regular else "",
        "manage_stock": True,
        "stock_quantity": 3,
        "backorders": "no",
        "tax_status": "taxable",
        "categories": [{"id": 1, "name": "Kitchen", "slug": "kitchen"}],
        "tags": [{"id": 2, "name": "gift", "slug": "gift"}],
        "images": [{"id": 3, "src": f"https://cdn.example.com/mug{number}.jpg"}],
        "attributes": [],
        "variations": [],
    }


def variable(number: int, colors: list[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A variable product with one variation per colour."""
    product = {
        **simple(number),
        "name": f"Tee {number}",
        "type": "variable",
        "attributes": [
            {"id": 1, "name": "Color", "position": 0, "variation": True, "options": colors}
        ],
        "variations": [number * 100 + i for i, _ in enumerate(colors, start=1)],
    }
    variations = [
        {
            "id": number * 100 + i,
            "sku": f"TEE-{number}-{color}",
            "price": "15.00",
            "regular_price": "15.00",
            "manage_stock": False,
            "stock_quantity": None,
            "backorders": "no",
            "tax_status": "taxable",
            "image": {"src": f"https://cdn.example.com/tee-{color}.jpg"},
            "attributes": [{"id": 1, "name": "Color", "option": color}],
        }
        for i, color in enumerate(colors, start=1)
    ]
    return product, variations
