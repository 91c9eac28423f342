"""Importing a Shopify or WooCommerce store's products into the workspace's catalogue.

An owner starts an import (`start_import`); the job pump calls `run_due_imports`, which reads
one page of products per step and stores it in one transaction together with the import's
counts and its place, so an import goes on where it stopped, in whichever process.

- Idempotent: products and variants keep the store's ids (`source`, `external_id`); a product
  seen again is updated, its variants matched by their ids (new ones added, gone ones removed).
  A product whose options changed shape (say, from none to two) is made anew.
- Counts: `imported` (new), `updated`, `skipped` (what the catalogue cannot hold: no name, no
  price to sell at, more than two options), `failed` (refused by the catalogue's checks).
- Pace: a store's 429 answer pauses the import for its `Retry-After`; Shopify's `wait_time`
  setting is the pause, in seconds, between its pages. Unreachable stores and 5xx answers are
  tried again a few times; any other refusal ends the import as failed, with the reason.
- Amounts are read as the workspace's currency (the store's prices are taken as they are).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import ColumnElement, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from konversation.commerce import catalog
from konversation.commerce.catalog import NewProduct, ProductFields, Shop, VariantFields
from konversation.commerce.models import Product, ProductStatus, ProductVariant
from konversation.db import QUEUED, session_scope, utcnow
from konversation.errors import Invalid, KonversationError, NotFound
from konversation.ids import MAX_ID
from konversation.integrations import service as integrations
from konversation.integrations import shopify, woocommerce
from konversation.integrations.kinds import Kind
from konversation.integrations.shop_import_models import ImportStatus, ShopImport
from konversation.integrations.stores import (
    ListedVariant,
    Listing,
    Page,
    StoreError,
    base_url,
    check_store_url,
)
from konversation.jobs.leases import step_each
from konversation.webhooks.addresses import Network, Refused

log = logging.getLogger(__name__)

NOT_FOUND = "Import not found"
LIVE = (ImportStatus.QUEUED, ImportStatus.RUNNING)
LEASE = dt.timedelta(seconds=120)
# Tries of one page that the store failed to give (unreachable, 5xx) before giving up.
MAX_ATTEMPTS = 5
RETRY_SECONDS = (1, 5, 30, 120)
MAX_WAIT_SECONDS = 60
MAX_OPTIONS = 2

Fetch = Callable[..., Awaitable[Page]]
FETCHERS: dict[str, Fetch] = {
    Kind.SHOPIFY: shopify.fetch_page,
    Kind.WOOCOMMERCE: woocommerce.fetch_page,
}


# Starting and following an import


async def start_import(
    session: AsyncSession,
    server_secret: bytes,
    workspace_id: int,
    source: Kind,
    *,
    allowed: Sequence[Network],
) -> ShopImport:
    """Queue an import of the store saved as the workspace's `source` integration."""
    settings = await integrations.load(session, server_secret, workspace_id, source)
    if settings is None:
        raise Invalid.field("integration", f"The {source} integration is not connected.")
    try:
        await check_store_url(_store_url(source, settings), allowed)
    except Refused as refused:
        raise Invalid.field("url", str(refused)) from refused
    job = ShopImport(
        workspace_id=workspace_id,
        source=source,
        status=ImportStatus.QUEUED,
        pages=0,
        imported=0,
        updated=0,
        skipped=0,
        failed=0,
        attempts=0,
        next_run_at=utcnow(),
    )
    session.add(job)
    session.info[QUEUED] = True  # wakes the job pump once the request commits
    await session.flush()
    return job


def _store_url(source: str, settings: dict[str, Any]) -> str:
    if source == Kind.SHOPIFY:
        return shopify.products_url(str(settings["url"]))
    return f"{base_url(str(settings['url']))}/wp-json/wc/v3/products"


async def get_import(
    session: AsyncSession, workspace_id: int, source: Kind, import_id: int
) -> ShopImport:
    job = None
    if 0 < import_id <= MAX_ID:
        job = await session.scalar(
            select(ShopImport).where(
                ShopImport.id == import_id,
                ShopImport.workspace_id == workspace_id,
                ShopImport.source == source,
            )
        )
    if job is None:
        raise NotFound(NOT_FOUND)
    return job


def due_now(now: dt.datetime) -> ColumnElement[bool]:
    """Whether an import step is due, for the pump's look at what there is to do."""
    return exists().where(ShopImport.status.in_(LIVE), ShopImport.next_run_at <= now)


# Running them


async def run_due_imports(
    sessions: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    *,
    server_secret: bytes,
    allowed: Sequence[Network],
    lease: dt.timedelta = LEASE,
) -> int:
    """Read and store one page of every import that is due; answers how many pages."""

    async def step(job_id: int) -> int:
        return await _step(sessions, http, job_id, server_secret, allowed)

    return await step_each(
        sessions,
        ShopImport,
        ready=ShopImport.status.in_(LIVE) & (ShopImport.next_run_at <= utcnow()),
        order_by=(ShopImport.next_run_at, ShopImport.id),
        lease=lease,
        step=step,
    )


async def _step(
    sessions: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    job_id: int,
    server_secret: bytes,
    allowed: Sequence[Network],
) -> int:
    """Fetch the job's next page outside any transaction, then store it in one."""
    async with session_scope(sessions) as session:
        job = await session.get_one(ShopImport, job_id)
        settings = await integrations.load(
            session, server_secret, job.workspace_id, Kind(job.source)
        )
        cursor = job.cursor
    try:
        if settings is None:
            raise StoreError("The integration was disconnected.")
        page = await FETCHERS[job.source](http, settings, cursor, allowed=allowed)
    except StoreError as failed:
        async with session_scope(sessions) as session:
            _count_failure(await session.get_one(ShopImport, job_id), failed)
        return 0
    async with session_scope(sessions) as session:
        job = await session.get_one(ShopImport, job_id, with_for_update=True)
        if job.status not in LIVE or job.cursor != cursor:
            return 0  # another worker stored this page after our lease ran out
        shop = await catalog.load_shop(session, job.workspace_id)
        for listing in page.listings:
            await _store_one(session, shop, job, listing)
        _advance(job, page, settings)
    return 1


def _count_failure(job: ShopImport, failed: StoreError) -> None:
    now = utcnow()
    job.error = str(failed)
    if failed.retry_after is None or job.attempts + 1 >= MAX_ATTEMPTS:
        job.status, job.finished_at = ImportStatus.FAILED, now
        return
    waited = failed.retry_after or RETRY_SECONDS[min(job.attempts, len(RETRY_SECONDS) - 1)]
    job.attempts += 1
    job.next_run_at = now + dt.timedelta(seconds=waited)


def _advance(job: ShopImport, page: Page, settings: dict[str, Any]) -> None:
    now = utcnow()
    job.started_at = job.started_at or now
    job.pages += 1
    job.attempts, job.error = 0, None
    job.cursor = page.next_cursor
    if page.next_cursor is None:
        job.status, job.finished_at = ImportStatus.DONE, now
        return
    job.status = ImportStatus.RUNNING
    job.next_run_at = now + dt.timedelta(seconds=_pause(job.source, settings))


def _pause(source: str, settings: dict[str, Any]) -> float:
    if source != Kind.SHOPIFY:
        return 0
    try:
        return min(max(float(settings.get("wait_time") or 0), 0), MAX_WAIT_SECONDS)
    except (TypeError, ValueError):
        return 0


# Storing one product


async def _store_one(session: AsyncSession, shop: Shop, job: ShopImport, listing: Listing) -> None:
    if _unsellable(listing):
        job.skipped += 1
        return
    try:
        async with session.begin_nested():
            created = await _upsert(session, shop, job.source, listing)
    except KonversationError as refused:
        log.info("Import %s left product %s: %s", job.id, listing.external_id, refused)
        job.failed += 1
        return
    if created:
        job.imported += 1
    else:
        job.updated += 1


def _unsellable(listing: Listing) -> bool:
    return not listing.name or not listing.variants or len(listing.option_names) > MAX_OPTIONS


async def _upsert(session: AsyncSession, shop: Shop, source: str, listing: Listing) -> bool:
    """Create or update the product; answers whether it was created."""
    product = await session.scalar(
        select(Product).where(
            Product.workspace_id == shop.workspace_id,
            Product.source == source,
            Product.external_id == listing.external_id,
        )
    )
    if product is not None and _same_shape(product, listing):
        await _update(session, shop, product, listing)
        return False
    if product is not None:
        await catalog.delete_product(session, shop.workspace_id, product.id)
    await _create(session, shop, source, listing)
    return product is None


def _same_shape(product: Product, listing: Listing) -> bool:
    names = [n for n in (product.variant_1_name, product.variant_2_name) if n is not None]
    return product.use_variant == bool(listing.option_names) and len(names) == len(
        listing.option_names
    )


def _product_fields(listing: Listing) -> dict[str, Any]:
    return {
        "name": listing.name,
        "description": listing.description or "",
        "image": listing.image or "",
        "status": ProductStatus.ACTIVE if listing.active else ProductStatus.INACTIVE,
        "type": listing.type or "",
        "vendor": listing.vendor or "",
        "tags": listing.tags,
    }


def _variant_fields(variant: ListedVariant) -> VariantFields:
    options = [*variant.options, "", ""]
    return VariantFields(
        variant_1_value=options[0],
        variant_2_value=options[1],
        image=variant.image or "",
        price=variant.price,
        compare_price=variant.compare_price or Decimal(0),
        taxable=variant.taxable,
        sku=variant.sku or "",
        barcode=variant.barcode or "",
        track_stock=variant.track_stock,
        allow_no_stock_sell=variant.allow_no_stock_sell,
        qty=variant.qty,
    )


async def _create(session: AsyncSession, shop: Shop, source: str, listing: Listing) -> None:
    names = [*listing.option_names, None, None]
    with_options = bool(listing.option_names)
    new = NewProduct(
        **_product_fields(listing),
        variant_1_name=names[0],
        variant_2_name=names[1],
        use_variant=with_options,
        default=VariantFields() if with_options else _variant_fields(listing.variants[0]),
        variants=[_variant_fields(v) for v in listing.variants] if with_options else [],
    )
    product = await catalog.create_product(session, shop, new)
    product.source, product.external_id = source, listing.external_id
    variants = await _variants(session, product.id)
    for variant, listed in zip(variants, listing.variants, strict=True):
        variant.external_id = listed.external_id
    await session.flush()


async def _update(session: AsyncSession, shop: Shop, product: Product, listing: Listing) -> None:
    names = [*listing.option_names, "", ""] if listing.option_names else [None, None]
    changes = ProductFields(
        **_product_fields(listing), variant_1_name=names[0], variant_2_name=names[1]
    )
    if not product.use_variant:
        await catalog.update_product(
            session, shop, product.id, changes, _variant_fields(listing.variants[0])
        )
        default = (await _variants(session, product.id))[0]
        default.external_id = listing.variants[0].external_id
        await session.flush()
        return
    await catalog.update_product(session, shop, product.id, changes, VariantFields())
    ours = {v.external_id: v for v in await _variants(session, product.id)}
    listed_ids = {v.external_id for v in listing.variants}
    gone = [v.id for key, v in ours.items() if key not in listed_ids]
    if gone:
        await session.execute(delete(ProductVariant).where(ProductVariant.id.in_(gone)))
    for listed in listing.variants:
        fields = _variant_fields(listed)
        if listed.external_id in ours:
            variant = ours[listed.external_id]
            await catalog.update_variant(session, shop, product.id, variant.id, fields)
        else:
            variant = await catalog.create_variant(session, shop, product.id, fields)
            variant.external_id = listed.external_id
    await session.flush()


async def _variants(session: AsyncSession, product_id: int) -> list[ProductVariant]:
    found = await session.scalars(
        select(ProductVariant)
        .where(ProductVariant.product_id == product_id)
        .order_by(ProductVariant.display_order, ProductVariant.id)
    )
    return list(found)
