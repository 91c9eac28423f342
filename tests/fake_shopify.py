"""A Shopify store's Admin REST API on 127.0.0.1, for catalogue imports.

`GET /admin/api/<version>/products.json` answers `{"products": [...]}` `limit` at a time, with
a `Link: <...page_info=...>; rel="next"` header while more are left, and 401 unless the
`X-Shopify-Access-Token` header holds `token`. `throttle_next()` makes the next call answer
429 with a `Retry-After`. Every call is recorded in `calls` (path, query, headers).

    with serving_shopify(products) as store: ...  # store.url is the store's base URL
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from loopback import serving


@dataclass
class Call:
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeShopify:
    products: list[dict[str, Any]]
    token: str = "shpat_test"
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    throttled: list[float] = field(default_factory=list)

    def throttle_next(self, retry_after: float = 1.0) -> None:
        self.throttled.append(retry_after)

    async def products_json(self, request: Request) -> Response:
        self.calls.append(Call(request.url.path, dict(request.query_params), dict(request.headers)))
        if request.headers.get("x-shopify-access-token") != self.token:
            return JSONResponse({"errors": "[API] Invalid API key or access token"}, 401)
        if self.throttled:
            wait = self.throttled.pop(0)
            return JSONResponse(
                {"errors": "Exceeded 2 calls per second"}, 429, {"Retry-After": str(wait)}
            )
        limit = int(request.query_params.get("limit", "50"))
        start = _offset(request.query_params.get("page_info"))
        page = self.products[start : start + limit]
        headers = {}
        if start + limit < len(self.products):
            page_info = base64.urlsafe_b64encode(
                json.dumps({"at": start + limit}).encode()
            ).decode()
            next_url = f"{self.url}{request.url.path}?limit={limit}&page_info={page_info}"
            headers["Link"] = f'<{next_url}>; rel="next"'
        return JSONResponse({"products": page}, headers=headers)


def _offset(page_info: str | None) -> int:
    if not page_info:
        return 0
    return int(json.loads(base64.urlsafe_b64decode(page_info))["at"])


@contextlib.contextmanager
def serving_shopify(products: list[dict[str, Any]]) -> Iterator[FakeShopify]:
    store = FakeShopify(products)
    app = Starlette(
        routes=[Route("/admin/api/{version}/products.json", store.products_json, methods=["GET"])]
    )
    with serving(app) as url:
        store.url = url
        yield store


def product(number: int, *, price: str = "19.99", options: int = 0) -> dict[str, Any]:
    """A product as Shopify lists it: without options (one "Default Title" variant), or with
    one or two options of two values each."""
    names = ["Size", "Color", "Material"][:options]
    values = [["S", "M"], ["Red", "Blue"], ["Wool", "Silk"]][:options]
    combos: list[list[str]] = [[]]
    for choices in values:
        combos = [[*c, v] for c in combos for v in choices]
    variants = [
        {
            "id": number * 100 + i,
            "product_id": number,
            "title": " / ".join(combo) or "Default Title",
            "price": price,
            "compare_at_price": None,
            "sku": f"SKU-{number}-{i}",
            "barcode": None,
            "taxable": True,
            "inventory_management": "shopify",
            "inventory_policy": "deny",
            "inventory_quantity": 5,
            "option1": (combo[0] if combo else "Default Title"),
            "option2": combo[1] if len(combo) > 1 else None,
            "option3": combo[2] if len(combo) > 2 else None,
            "image_id": None,
        }
        for i, combo in enumerate(combos, start=1)
    ]
    return {
        "id": number,
        "title": f"Product {number}",
        "body_html": f"<p>The <strong>{number}</strong> thing</p>",
        "vendor": "Acme",
        "product_type": "Shirts",
        "status": "active",
        "tags": "new, summer",
        "options": [{"name": n, "position": i} for i, n in enumerate(names, start=1)]
        or [{"name": "Title", "position": 1, "values": ["Default Title"]}],
        "variants": variants,
        "images": [],
        "image": {"src": f"https://cdn.example.com/{number}.jpg"},
    }
