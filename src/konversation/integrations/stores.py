"""What the shop clients share: products as a store lists them, in one shape for the importer,
and one way of calling a store that keeps to the server's reachability policy."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import httpx

from konversation.webhooks.addresses import Network, Refused, check_reachable

# The longest pause a store may ask for (429 Retry-After) before the import looks again.
MAX_RETRY_AFTER_SECONDS = 600.0


@dataclass(frozen=True)
class ListedVariant:
    external_id: str
    options: tuple[str, ...] = ()
    price: Decimal = Decimal(0)
    compare_price: Decimal | None = None
    sku: str | None = None
    barcode: str | None = None
    taxable: bool = False
    track_stock: bool = False
    allow_no_stock_sell: bool = False
    qty: int = 0
    image: str | None = None


@dataclass(frozen=True)
class Listing:
    """One product as a store lists it. `option_names` is empty for a product that sells
    through a single default variant."""

    external_id: str
    name: str
    description: str | None = None
    image: str | None = None
    active: bool = True
    type: str | None = None
    vendor: str | None = None
    tags: list[str] = field(default_factory=list)
    option_names: list[str] = field(default_factory=list)
    variants: list[ListedVariant] = field(default_factory=list)


@dataclass(frozen=True)
class Page:
    listings: list[Listing]
    next_cursor: str | None  # None: this was the last page


class StoreError(Exception):
    """A store call that did not give a page. `retry_after` (seconds) is set when trying
    again later may help; without it the import cannot go on."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def base_url(url: str) -> str:
    """A saved store address as a base URL: a bare domain ("shop.myshopify.com") means https."""
    url = url.strip().rstrip("/")
    return url if "://" in url else f"https://{url}"


async def check_store_url(url: str, allowed: Sequence[Network]) -> None:
    """Raise `Refused` unless the store may be called: over https to a public address, or to
    a network the server allows (where plain http is accepted too, as for test stand-ins).
    Keys never travel in clear text over the internet."""
    await check_reachable(url, allowed)
    if urlsplit(url).scheme == "https":
        return
    try:
        await check_reachable(url, ())
    except Refused:
        return  # not public, so within an allowed network
    raise Refused("The store's url must use https.")


async def get(
    http: httpx.AsyncClient,
    url: str,
    *,
    allowed: Sequence[Network],
    params: Mapping[str, str | int],
    headers: Mapping[str, str] | None = None,
    auth: httpx.BasicAuth | None = None,
) -> httpx.Response:
    """GET a store page; any answer but 200 becomes a `StoreError` saying what to do."""
    try:
        await check_store_url(url, allowed)
    except Refused as refused:
        raise StoreError(str(refused)) from refused
    try:
        response = await http.get(url, params=params, headers=headers, auth=auth)
    except httpx.HTTPError as failed:
        raise StoreError(
            f"The store could not be reached ({type(failed).__name__}).", retry_after=0
        ) from failed
    if response.status_code == 429:
        raise StoreError("The store asked to slow down.", retry_after=_retry_after(response))
    if response.status_code >= 500:
        raise StoreError(f"The store answered {response.status_code}.", retry_after=0)
    if response.status_code != 200:
        raise StoreError(
            f"The store refused the request ({response.status_code}): check the settings."
        )
    return response


def json_list(response: httpx.Response, key: str | None = None) -> list[dict[str, Any]]:
    """The answer's list of objects (under `key` when given), or a `StoreError`."""
    try:
        document = response.json()
    except ValueError as bad:
        raise StoreError("The store's answer was not JSON.") from bad
    items = document.get(key) if key and isinstance(document, dict) else document
    if not isinstance(items, list):
        raise StoreError("The store's answer was not a list of products.")
    return [item for item in items if isinstance(item, dict)]


def _retry_after(response: httpx.Response) -> float:
    try:
        seconds = float(response.headers.get("Retry-After", "1"))
    except ValueError:
        seconds = 1.0
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def decimal_or_none(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def text_or_none(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


_TAG = re.compile(r"<[^<>]*>")


def plain_text(html: Any) -> str | None:
    """A product description without its markup (the catalogue keeps plain text)."""
    if not isinstance(html, str):
        return None
    return text_or_none(" ".join(unescape(_TAG.sub(" ", html)).split()))
