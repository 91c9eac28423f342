"""Reading a WooCommerce store's products through its REST API (`/wp-json/wc/v3`).

`GET /products` with HTTP basic auth (consumer key and secret), paged by `page` and `per_page`;
the `X-WP-TotalPages` header says how many pages there are. A variable product's variations are
read from `/products/<id>/variations`, all of their pages, with the product's page.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import httpx

from konversation.integrations import stores
from konversation.integrations.stores import ListedVariant, Listing, Page, StoreError
from konversation.webhooks.addresses import Network

PAGE_SIZE = 100
# Grouped products have no price of their own: they only list other products.
UNSELLABLE_TYPES = frozenset({"grouped"})


class _Store:
    def __init__(
        self, http: httpx.AsyncClient, settings: dict[str, Any], allowed: Sequence[Network]
    ) -> None:
        self.http, self.allowed = http, allowed
        self.api = f"{stores.base_url(str(settings['url']))}/wp-json/wc/v3"
        self.auth = httpx.BasicAuth(str(settings["api_key"]), str(settings["token"]))

    async def page(self, path: str, number: int) -> tuple[list[dict[str, Any]], int]:
        """The objects of one page of `path`, and how many pages there are."""
        response = await stores.get(
            self.http,
            f"{self.api}{path}",
            allowed=self.allowed,
            params={"page": number, "per_page": PAGE_SIZE},
            auth=self.auth,
        )
        try:
            pages = int(response.headers.get("X-WP-TotalPages", "1"))
        except ValueError:
            pages = 1
        return stores.json_list(response), pages

    async def variations(self, product_id: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        number, pages = 1, 1
        while number <= pages:
            items, pages = await self.page(f"/products/{product_id}/variations", number)
            found.extend(items)
            number += 1
        return found


async def fetch_page(
    http: httpx.AsyncClient,
    settings: dict[str, Any],
    cursor: str | None,
    *,
    allowed: Sequence[Network],
) -> Page:
    """The page of products numbered `cursor` (None: the first page)."""
    store = _Store(http, settings, allowed)
    number = _page_number(cursor)
    products, pages = await store.page("/products", number)
    listings = []
    for product in products:
        variations = await store.variations(product["id"]) if _variable(product) else []
        listings.append(listing(product, variations))
    return Page(listings, str(number + 1) if number < pages else None)


def _page_number(cursor: str | None) -> int:
    if cursor is None:
        return 1
    if not cursor.isdigit() or int(cursor) < 1:
        raise StoreError(f"The import's place ({cursor!r}) is not a page number.")
    return int(cursor)


def _variable(product: dict[str, Any]) -> bool:
    return product.get("type") == "variable" and bool(product.get("variations"))


def listing(product: dict[str, Any], variations: list[dict[str, Any]]) -> Listing:
    images = [image.get("src") for image in product.get("images") or []]
    categories = [c.get("name") for c in product.get("categories") or [] if c.get("name")]
    if product.get("type") in UNSELLABLE_TYPES:
        variants: list[ListedVariant] = []
        option_names: list[str] = []
    elif variations:
        option_names = [
            str(a.get("name"))
            for a in sorted(product.get("attributes") or [], key=lambda a: a.get("position", 0))
            if a.get("variation") and a.get("name")
        ]
        variants = [_variant(v, _options(v, option_names)) for v in variations]
    else:
        option_names = []
        variants = [_variant({**product, "image": None}, ())]
    return Listing(
        external_id=str(product.get("id")),
        name=str(product.get("name") or "").strip(),
        description=stores.plain_text(
            product.get("description") or product.get("short_description")
        ),
        image=stores.text_or_none(images[0] if images else None),
        active=product.get("status", "publish") == "publish",
        type=stores.text_or_none(categories[0] if categories else None),
        tags=[str(t.get("name")).strip() for t in product.get("tags") or [] if t.get("name")],
        option_names=option_names,
        variants=variants,
    )


def _options(variation: dict[str, Any], option_names: list[str]) -> tuple[str, ...]:
    chosen = {str(a.get("name")): str(a.get("option")) for a in variation.get("attributes") or []}
    # A variation left at "any" value of an attribute has no entry for it.
    return tuple(chosen.get(name, "Any") for name in option_names)


def _variant(item: dict[str, Any], options: tuple[str, ...]) -> ListedVariant:
    regular = stores.decimal_or_none(item.get("regular_price"))
    price = stores.decimal_or_none(item.get("price")) or regular or Decimal(0)
    on_sale = regular is not None and regular > price
    return ListedVariant(
        external_id=str(item.get("id")),
        options=options,
        price=price,
        compare_price=regular if on_sale else None,
        sku=stores.text_or_none(item.get("sku")),
        taxable=item.get("tax_status", "taxable") == "taxable",
        track_stock=bool(item.get("manage_stock")),
        allow_no_stock_sell=item.get("backorders", "no") != "no",
        qty=int(item.get("stock_quantity") or 0),
        image=stores.text_or_none((item.get("image") or {}).get("src")),
    )
