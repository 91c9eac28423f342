"""Reading a Shopify store's products through the Admin REST API.

`GET /admin/api/<version>/products.json` with the `X-Shopify-Access-Token` header, 250 products
a page; the next page is named by the `page_info` of the `Link` header's `rel="next"` URL. Only
that token is kept between pages, never the URL itself, so a page can only lead to the same
store.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from konversation.integrations import stores
from konversation.integrations.stores import ListedVariant, Listing, Page
from konversation.webhooks.addresses import Network

API_VERSION = "2025-01"
PAGE_SIZE = 250
# A product without options has one variant whose only option value is this.
DEFAULT_OPTION = "Default Title"
_NEXT_LINK = re.compile(r'<([^<>]+)>\s*;\s*rel="?next"?')


def products_url(store_url: str) -> str:
    return f"{stores.base_url(store_url)}/admin/api/{API_VERSION}/products.json"


async def fetch_page(
    http: httpx.AsyncClient,
    settings: dict[str, Any],
    cursor: str | None,
    *,
    allowed: Sequence[Network],
) -> Page:
    """The page of products after `cursor` (None: the first page)."""
    params: dict[str, str | int] = {"limit": PAGE_SIZE}
    if cursor:
        params["page_info"] = cursor
    response = await stores.get(
        http,
        products_url(str(settings["url"])),
        allowed=allowed,
        params=params,
        headers={"X-Shopify-Access-Token": str(settings["token"]), "Accept": "application/json"},
    )
    listings = [listing(product) for product in stores.json_list(response, "products")]
    return Page(listings, next_page_info(response.headers.get("Link", "")))


def next_page_info(link_header: str) -> str | None:
    match = _NEXT_LINK.search(link_header)
    if match is None:
        return None
    found = parse_qs(urlsplit(match.group(1)).query).get("page_info")
    return found[0] if found else None


def listing(product: dict[str, Any]) -> Listing:
    images = {image.get("id"): image.get("src") for image in product.get("images") or []}
    main_image = (product.get("image") or {}).get("src")
    variants = [_variant(v, images) for v in product.get("variants") or []]
    options = [str(o.get("name", "")).strip() for o in product.get("options") or []]
    single_default = len(variants) == 1 and variants[0].options in ((), (DEFAULT_OPTION,))
    return Listing(
        external_id=str(product.get("id")),
        name=str(product.get("title") or "").strip(),
        description=stores.plain_text(product.get("body_html")),
        image=stores.text_or_none(main_image),
        active=product.get("status", "active") == "active",
        type=stores.text_or_none(product.get("product_type")),
        vendor=stores.text_or_none(product.get("vendor")),
        tags=[t.strip() for t in str(product.get("tags") or "").split(",") if t.strip()],
        option_names=[] if single_default else [name for name in options if name],
        variants=[replace(variants[0], options=())] if single_default else variants,
    )


def _variant(variant: dict[str, Any], images: dict[Any, Any]) -> ListedVariant:
    values = [variant.get(f"option{n}") for n in (1, 2, 3)]
    tracked = variant.get("inventory_management") == "shopify"
    return ListedVariant(
        external_id=str(variant.get("id")),
        options=tuple(str(v) for v in values if v is not None),
        price=stores.decimal_or_none(variant.get("price")) or Decimal(0),
        compare_price=stores.decimal_or_none(variant.get("compare_at_price")),
        sku=stores.text_or_none(variant.get("sku")),
        barcode=stores.text_or_none(variant.get("barcode")),
        taxable=bool(variant.get("taxable", False)),
        track_stock=tracked,
        allow_no_stock_sell=variant.get("inventory_policy") == "continue",
        qty=int(variant.get("inventory_quantity") or 0),
        image=stores.text_or_none(images.get(variant.get("image_id"))),
    )
