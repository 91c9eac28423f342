"""The Ecommerce group's products and variants, for keys with Manage Team."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from konversation.commerce import catalog
from konversation.commerce.catalog_wire import (
    CreateProductIn,
    ProductOut,
    UpdateProductIn,
    VariantIn,
    VariantOut,
)
from konversation.wire import envelope
from konversation.wire.auth import ManageTeam
from konversation.wire.envelope import DataOut, OkOut, PageOut
from konversation.wire.errors import wire_errors
from konversation.wire.params import BlankIsNone, PageParams
from konversation.wire.session import Session

router = APIRouter(tags=["Ecommerce"])

LIST = wire_errors(401, 403, 422)
READ = wire_errors(401, 403, 404, 422)
# Naming a new type, vendor or tag creates it, and a concurrent request may create it first.
CREATE = wire_errors(401, 403, 409, 422)
UPDATE = wire_errors(401, 403, 404, 409, 422)

ProductId = Annotated[int, Path(alias="productId", description="The product's id.")]
VariantId = Annotated[int, Path(alias="variantId", description="The variant's id.")]
_AMOUNTS = "Amounts are in the workspace's currency (`currency`), exact to its minor unit."


@router.get(
    "/shop/products",
    responses=LIST,
    summary="List products",
    description=f"Each product with its variants, oldest first. {_AMOUNTS}",
)
async def shop_products(
    key: ManageTeam,
    session: Session,
    paging: PageParams,
    name: Annotated[
        str | None, Query(description="Only products whose name contains this.")
    ] = None,
    product_type_id: Annotated[
        int | None, BlankIsNone, Query(description="Only products of this type.")
    ] = None,
    vendor_id: Annotated[
        int | None, BlankIsNone, Query(description="Only products of this vendor.")
    ] = None,
) -> PageOut[ProductOut]:
    shop = await catalog.load_shop(session, key.workspace_id)
    views, total = await catalog.list_products(
        session,
        key.workspace_id,
        name=name,
        product_type_id=product_type_id,
        vendor_id=vendor_id,
        window=paging,
    )
    return envelope.page([ProductOut.of(v, shop) for v in views], total=total, window=paging)


@router.post(
    "/shop/products/create",
    responses=CREATE,
    summary="Create a product",
    description="With `use_variant` 0 (the default) the product sells through one default "
    "variant made from `price`, `compare_price`, `sku`, `barcode`, `track_stock`, "
    "`allow_no_stock_sell` and `qty`. With `use_variant` 1 it needs `variant_1_name` (and "
    "optionally `variant_2_name`) and `variants`, one per combination of option values. "
    "`type`, `vendor` and `tags` are names: the ones not yet known are created. "
    f"{_AMOUNTS} More decimals than the currency has are rounded half up.",
)
async def shop_create_product(
    body: CreateProductIn, key: ManageTeam, session: Session
) -> DataOut[ProductOut]:
    shop = await catalog.load_shop(session, key.workspace_id)
    product = await catalog.create_product(session, shop, body.new_product())
    return envelope.one(ProductOut.of(await catalog.product_view(session, product), shop))


@router.get("/shop/products/{productId}/get-info", responses=READ, summary="Get a product")
async def shop_product(
    product_id: ProductId, key: ManageTeam, session: Session
) -> DataOut[ProductOut]:
    shop = await catalog.load_shop(session, key.workspace_id)
    product = await catalog.get_product(session, key.workspace_id, product_id)
    return envelope.one(ProductOut.of(await catalog.product_view(session, product), shop))


@router.put(
    "/shop/products/{productId}/update",
    responses=UPDATE,
    summary="Change a product",
    description="Only the fields sent change. `tags` replaces the product's tags; an empty "
    "`type` or `vendor` unlinks it. The option names may be renamed but not added or removed. "
    "For a product without options, `price`, `compare_price`, `sku`, `barcode`, `taxable`, "
    "`track_stock`, `allow_no_stock_sell` and `qty` change its default variant; a product with "
    "options answers 422 to them (change its variants instead).",
)
async def shop_update_product(
    product_id: ProductId, body: UpdateProductIn, key: ManageTeam, session: Session
) -> DataOut[ProductOut]:
    shop = await catalog.load_shop(session, key.workspace_id)
    product = await catalog.update_product(
        session, shop, product_id, body.changes(), body.default_variant()
    )
    return envelope.one(ProductOut.of(await catalog.product_view(session, product), shop))


@router.delete(
    "/shop/products/{productId}/delete",
    responses=wire_errors(401, 403, 404, 422),
    summary="Delete a product",
    description="Its variants go with it, and leave the carts that held them. Orders keep "
    "their copy of the product's name and price.",
)
async def shop_delete_product(product_id: ProductId, key: ManageTeam, session: Session) -> OkOut:
    await catalog.delete_product(session, key.workspace_id, product_id)
    return envelope.ok()


@router.get(
    "/shop/products/{productId}/variants",
    responses=READ,
    summary="List a product's variants",
    description=f"In display order. {_AMOUNTS}",
)
async def shop_product_variants(
    product_id: ProductId, key: ManageTeam, session: Session, paging: PageParams
) -> PageOut[VariantOut]:
    shop = await catalog.load_shop(session, key.workspace_id)
    variants, total = await catalog.list_variants(
        session, key.workspace_id, product_id, window=paging
    )
    return envelope.page([VariantOut.of(v, shop) for v in variants], total=total, window=paging)


@router.post(
    "/shop/products/{productId}/variants/create",
    responses=READ,
    summary="Add a variant to a product",
    description="Only for a product with options (`use_variant` 1): the variant needs a value "
    "for each of the product's option names, and no other variant may have the same values.",
)
async def shop_create_product_variant(
    product_id: ProductId, body: VariantIn, key: ManageTeam, session: Session
) -> DataOut[VariantOut]:
    shop = await catalog.load_shop(session, key.workspace_id)
    variant = await catalog.create_variant(session, shop, product_id, body.fields())
    return envelope.one(VariantOut.of(variant, shop))


@router.get(
    "/shop/products/{productId}/variants/{variantId}/get-info",
    responses=READ,
    summary="Get a variant",
)
async def shop_product_variant(
    product_id: ProductId, variant_id: VariantId, key: ManageTeam, session: Session
) -> DataOut[VariantOut]:
    shop = await catalog.load_shop(session, key.workspace_id)
    variant = await catalog.get_variant(session, key.workspace_id, product_id, variant_id)
    return envelope.one(VariantOut.of(variant, shop))


@router.put(
    "/shop/products/{productId}/variants/{variantId}/update",
    responses=READ,
    summary="Change a variant",
    description="Only the fields sent change. A `compare_price` of 0 removes it.",
)
async def shop_update_product_variant(
    product_id: ProductId,
    variant_id: VariantId,
    body: VariantIn,
    key: ManageTeam,
    session: Session,
) -> DataOut[VariantOut]:
    shop = await catalog.load_shop(session, key.workspace_id)
    variant = await catalog.update_variant(session, shop, product_id, variant_id, body.fields())
    return envelope.one(VariantOut.of(variant, shop))


@router.delete(
    "/shop/products/{productId}/variants/{variantId}/delete",
    responses=READ,
    summary="Delete a variant",
    description="A product keeps at least one variant: deleting its last one answers 422.",
)
async def shop_delete_product_variant(
    product_id: ProductId, variant_id: VariantId, key: ManageTeam, session: Session
) -> OkOut:
    await catalog.delete_variant(session, key.workspace_id, product_id, variant_id)
    return envelope.ok()
