"""The workspace's catalogue: product types, vendors and tags, products and their variants.

Every product sells through variants. A product without options (`use_variant` off) has
exactly one, its default variant, which holds the price, SKU and stock given on the product;
a product with options has one variant per combination of option values.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from konversation.commerce import money
from konversation.commerce.models import (
    Product,
    ProductStatus,
    ProductTag,
    ProductTagLink,
    ProductType,
    ProductVariant,
    ProductVendor,
)
from konversation.db import PageRequest, contains_text, fetch_page
from konversation.errors import Invalid, NotFound
from konversation.workspaces.models import Workspace


@dataclass(frozen=True)
class Shop:
    """What amounts and times are read in: the workspace's currency and timezone."""

    workspace_id: int
    currency: str
    timezone: str

    @property
    def zone(self) -> dt.tzinfo:
        try:
            return zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return dt.UTC


async def load_shop(session: AsyncSession, workspace_id: int) -> Shop:
    workspace = await session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound("Workspace not found")
    return Shop(workspace_id, workspace.currency.upper(), workspace.timezone)


PRODUCT_NOT_FOUND = "Product not found"
VARIANT_NOT_FOUND = "Variant not found"

# ---------------------------------------------------------------------------------------------
# Types, vendors and tags: named records, unique per workspace

Named = TypeVar("Named", ProductType, ProductVendor, ProductTag)

NOT_FOUND: dict[type[ProductType | ProductVendor | ProductTag], str] = {
    ProductType: "Product type not found",
    ProductVendor: "Product vendor not found",
    ProductTag: "Product tag not found",
}


async def list_named(
    session: AsyncSession,
    model: type[Named],
    workspace_id: int,
    *,
    name: str | None,
    window: PageRequest,
) -> tuple[Sequence[Named], int]:
    query = select(model).where(model.workspace_id == workspace_id).order_by(model.id)
    if name:
        query = query.where(contains_text(model.name, name))
    return await fetch_page(session, query, window)


async def get_named(
    session: AsyncSession, model: type[Named], workspace_id: int, item_id: int
) -> Named:
    item = await session.scalar(
        select(model).where(model.workspace_id == workspace_id, model.id == item_id)
    )
    if item is None:
        raise NotFound(NOT_FOUND[model])
    return item


async def create_named(
    session: AsyncSession, model: type[Named], workspace_id: int, *, name: str
) -> Named:
    name = _required_name(name)
    await _ensure_name_free(session, model, workspace_id, name)
    item = model(workspace_id=workspace_id, name=name)
    session.add(item)
    await session.flush()
    return item


async def rename_named(
    session: AsyncSession, model: type[Named], workspace_id: int, item_id: int, *, name: str
) -> Named:
    item = await get_named(session, model, workspace_id, item_id)
    name = _required_name(name)
    if name != item.name:
        await _ensure_name_free(session, model, workspace_id, name)
        item.name = name
        await session.flush()
    return item


async def delete_named(
    session: AsyncSession, model: type[Named], workspace_id: int, item_id: int
) -> None:
    """Delete a type, vendor or tag; the database unlinks it from its products."""
    await session.delete(await get_named(session, model, workspace_id, item_id))
    await session.flush()


async def named_records(
    session: AsyncSession, model: type[Named], workspace_id: int, names: Collection[str]
) -> list[Named]:
    """The records called `names` (exactly), created when missing, in the order given."""
    wanted = list(dict.fromkeys(names))
    found = {
        item.name: item
        for item in await session.scalars(
            select(model).where(model.workspace_id == workspace_id, model.name.in_(wanted))
        )
    }
    for name in wanted:
        if name not in found:
            found[name] = model(workspace_id=workspace_id, name=name)
            session.add(found[name])
    await session.flush()
    return [found[name] for name in wanted]


def _required_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise Invalid.field("name", "The name field is required.")
    return name


async def _ensure_name_free(
    session: AsyncSession, model: type[Named], workspace_id: int, name: str
) -> None:
    taken = await session.scalar(
        select(model.id).where(model.workspace_id == workspace_id, model.name == name)
    )
    if taken is not None:
        raise Invalid.field("name", "The name has already been taken.")


# ---------------------------------------------------------------------------------------------
# Products and variants


@dataclass
class VariantFields:
    """What a caller sets on a variant; None leaves a value as it is (or at its default)."""

    variant_1_value: str | None = None
    variant_2_value: str | None = None
    image: str | None = None
    price: Decimal | None = None
    compare_price: Decimal | None = None
    taxable: bool | None = None
    sku: str | None = None
    barcode: str | None = None
    track_stock: bool | None = None
    allow_no_stock_sell: bool | None = None
    qty: int | None = None


@dataclass
class ProductFields:
    """What a caller sets on a product; None leaves a value as it is.

    `type` and `vendor` name the record to link (created when missing); an empty string
    unlinks it. `tags` replaces the product's tags.
    """

    name: str | None = None
    description: str | None = None
    image: str | None = None
    note: str | None = None
    status: str | None = None
    type: str | None = None
    vendor: str | None = None
    tags: list[str] | None = None
    variant_1_name: str | None = None
    variant_2_name: str | None = None


@dataclass
class NewProduct(ProductFields):
    use_variant: bool = False
    # The default variant's fields, used when `use_variant` is off.
    default: VariantFields = field(default_factory=VariantFields)
    variants: list[VariantFields] = field(default_factory=list)


@dataclass(frozen=True)
class ProductView:
    """A product with what its answers show: names of its links, its tags and variants."""

    product: Product
    type_name: str | None
    vendor_name: str | None
    tags: list[str]
    variants: list[ProductVariant]

    @property
    def total_qty(self) -> int:
        return sum(v.qty for v in self.variants)

    @property
    def track_stock(self) -> bool:
        return any(v.track_stock for v in self.variants)


async def list_products(
    session: AsyncSession,
    workspace_id: int,
    *,
    name: str | None,
    product_type_id: int | None,
    vendor_id: int | None,
    window: PageRequest,
) -> tuple[list[ProductView], int]:
    query = select(Product).where(Product.workspace_id == workspace_id).order_by(Product.id)
    if name:
        query = query.where(contains_text(Product.name, name))
    if product_type_id is not None:
        query = query.where(Product.product_type_id == product_type_id)
    if vendor_id is not None:
        query = query.where(Product.vendor_id == vendor_id)
    products, total = await fetch_page(session, query, window)
    return await product_views(session, products), total


async def get_product(session: AsyncSession, workspace_id: int, product_id: int) -> Product:
    product = await session.scalar(
        select(Product).where(Product.workspace_id == workspace_id, Product.id == product_id)
    )
    if product is None:
        raise NotFound(PRODUCT_NOT_FOUND)
    return product


async def product_view(session: AsyncSession, product: Product) -> ProductView:
    return (await product_views(session, [product]))[0]


async def product_views(session: AsyncSession, products: Sequence[Product]) -> list[ProductView]:
    """Views of `products`, with a fixed number of queries however many there are."""
    ids = [p.id for p in products]
    variants: dict[int, list[ProductVariant]] = defaultdict(list)
    for variant in await session.scalars(
        select(ProductVariant)
        .where(ProductVariant.product_id.in_(ids))
        .order_by(ProductVariant.display_order, ProductVariant.id)
    ):
        variants[variant.product_id].append(variant)
    tags: dict[int, list[str]] = defaultdict(list)
    for product_id, tag_name in await session.execute(
        select(ProductTagLink.product_id, ProductTag.name)
        .join(ProductTag, ProductTag.id == ProductTagLink.tag_id)
        .where(ProductTagLink.product_id.in_(ids))
        .order_by(ProductTag.name)
    ):
        tags[product_id].append(tag_name)
    types = await _names_by_id(session, ProductType, [p.product_type_id for p in products])
    vendors = await _names_by_id(session, ProductVendor, [p.vendor_id for p in products])
    return [
        ProductView(
            product=p,
            type_name=types.get(p.product_type_id) if p.product_type_id else None,
            vendor_name=vendors.get(p.vendor_id) if p.vendor_id else None,
            tags=tags[p.id],
            variants=variants[p.id],
        )
        for p in products
    ]


async def _names_by_id(
    session: AsyncSession, model: type[Named], ids: Iterable[int | None]
) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(model.id, model.name).where(model.id.in_(wanted)))
    return {row_id: name for row_id, name in rows}


async def create_product(session: AsyncSession, shop: Shop, new: NewProduct) -> Product:
    name = _required_text(new.name, "name")
    option_names = _option_names(new)
    variants = _variants_of(new, option_names)
    product = Product(
        workspace_id=shop.workspace_id,
        name=name,
        description=new.description,
        image=new.image or None,
        note=new.note,
        status=new.status or ProductStatus.ACTIVE,
        use_variant=new.use_variant,
        variant_1_name=option_names[0],
        variant_2_name=option_names[1],
    )
    session.add(product)
    await session.flush()
    await _link(session, product, new)
    for position, fields in enumerate(variants, start=1):
        variant = ProductVariant(product_id=product.id, display_order=position)
        _apply_variant(variant, fields, shop.currency)
        session.add(variant)
    await session.flush()
    return product


def _option_names(new: NewProduct) -> tuple[str | None, str | None]:
    first = (new.variant_1_name or "").strip() or None
    second = (new.variant_2_name or "").strip() or None
    if not new.use_variant:
        return None, None
    if first is None:
        raise Invalid.field(
            "variant_1_name", "The variant_1_name field is required when use_variant is 1."
        )
    return first, second


def _variants_of(
    new: NewProduct, option_names: tuple[str | None, str | None]
) -> list[VariantFields]:
    if not new.use_variant:
        if new.variants:
            raise Invalid.field(
                "variants", "The variants field must be empty when use_variant is 0."
            )
        return [new.default]
    if not new.variants:
        raise Invalid.field("variants", "The variants field is required when use_variant is 1.")
    errors: dict[str, list[str]] = {}
    seen: dict[tuple[str | None, str | None], int] = {}
    for index, fields in enumerate(new.variants):
        where = f"variants.{index}"
        try:
            options = _options_of(fields, option_names, where)
        except Invalid as invalid:
            errors.update(invalid.errors)
            continue
        if options in seen:
            errors[where] = [f"The {where} field repeats the options of variants.{seen[options]}."]
        seen.setdefault(options, index)
    if errors:
        raise Invalid(errors)
    return new.variants


def _options_of(
    fields: VariantFields, option_names: tuple[str | None, str | None], where: str
) -> tuple[str | None, str | None]:
    """A variant's option values, checked against the product's option names."""
    values = (
        (fields.variant_1_value or "").strip() or None,
        (fields.variant_2_value or "").strip() or None,
    )
    errors: dict[str, list[str]] = {}
    for n, (name, value) in enumerate(zip(option_names, values, strict=True), start=1):
        path = f"{where}.variant_{n}_value" if where else f"variant_{n}_value"
        if name is not None and value is None:
            errors[path] = [f"The {path} field is required when variant_{n}_name is present."]
        if name is None and value is not None:
            errors[path] = [f"The {path} field is prohibited unless variant_{n}_name is present."]
    if errors:
        raise Invalid(errors)
    fields.variant_1_value, fields.variant_2_value = values
    return values


def _apply_variant(variant: ProductVariant, fields: VariantFields, currency: str) -> None:
    """Copy the fields that were given onto `variant`; amounts become minor units."""
    for name in ("variant_1_value", "variant_2_value", "sku", "barcode", "image"):
        value = getattr(fields, name)
        if value is not None:
            setattr(variant, name, value.strip() or None)
    for name in ("taxable", "track_stock", "allow_no_stock_sell", "qty"):
        value = getattr(fields, name)
        if value is not None:
            setattr(variant, name, value)
    if fields.price is not None:
        variant.price_minor = money.to_minor(fields.price, currency)
    if fields.compare_price is not None:
        # A compare-at price of 0 means "none": there is nothing to strike through.
        variant.compare_price_minor = money.to_minor(fields.compare_price, currency) or None
    # Columns left unset get their defaults now, so the variant reads whole before a flush.
    for name, default in (
        ("price_minor", 0),
        ("taxable", False),
        ("track_stock", False),
        ("allow_no_stock_sell", False),
        ("qty", 0),
    ):
        if getattr(variant, name) is None:
            setattr(variant, name, default)


async def update_product(
    session: AsyncSession,
    shop: Shop,
    product_id: int,
    changes: ProductFields,
    default: VariantFields,
) -> Product:
    """Change a product; `default` changes the default variant of a product without options."""
    product = await get_product(session, shop.workspace_id, product_id)
    if changes.name is not None:
        product.name = _required_text(changes.name, "name")
    for name in ("description", "note", "status"):
        value = getattr(changes, name)
        if value is not None:
            setattr(product, name, value)
    if changes.image is not None:
        product.image = changes.image.strip() or None
    _rename_options(product, changes)
    await _link(session, product, changes)
    if default != VariantFields():
        await _update_default_variant(session, product, default, shop.currency)
    await session.flush()
    return product


def _rename_options(product: Product, changes: ProductFields) -> None:
    """Option names may be renamed, not added or removed: the variants' values depend on them."""
    for n in (1, 2):
        wanted = getattr(changes, f"variant_{n}_name")
        if wanted is None:
            continue
        path = f"variant_{n}_name"
        wanted = wanted.strip()
        if getattr(product, path) is None:
            if wanted:
                raise Invalid.field(path, f"The {path} field cannot be set on this product.")
            continue
        if not wanted:
            raise Invalid.field(path, f"The {path} field is required for this product.")
        setattr(product, path, wanted)


async def _update_default_variant(
    session: AsyncSession, product: Product, fields: VariantFields, currency: str
) -> None:
    if product.use_variant:
        raise Invalid.field(
            "use_variant",
            "The product has variants: change price, SKU and stock through its variants.",
        )
    variant = await session.scalar(
        select(ProductVariant)
        .where(ProductVariant.product_id == product.id)
        .order_by(ProductVariant.display_order, ProductVariant.id)
        .limit(1)
    )
    if variant is None:  # pragma: no cover - every product is created with one
        variant = ProductVariant(product_id=product.id, display_order=1)
        session.add(variant)
    _apply_variant(variant, fields, currency)


async def _link(session: AsyncSession, product: Product, fields: ProductFields) -> None:
    """Link the type, vendor and tags named in `fields`, creating the missing records."""
    workspace_id = product.workspace_id
    if fields.type is not None:
        product.product_type_id = await _named_id(session, ProductType, workspace_id, fields.type)
    if fields.vendor is not None:
        product.vendor_id = await _named_id(session, ProductVendor, workspace_id, fields.vendor)
    if fields.tags is not None:
        names = [tag.strip() for tag in fields.tags]
        if blank := [i for i, tag in enumerate(names) if not tag]:
            raise Invalid({f"tags.{i}": [f"The tags.{i} field is required."] for i in blank})
        tags = await named_records(session, ProductTag, workspace_id, names)
        await session.execute(delete(ProductTagLink).where(ProductTagLink.product_id == product.id))
        session.add_all(ProductTagLink(product_id=product.id, tag_id=tag.id) for tag in tags)
        await session.flush()


async def _named_id(
    session: AsyncSession, model: type[Named], workspace_id: int, name: str
) -> int | None:
    name = name.strip()
    if not name:
        return None
    return (await named_records(session, model, workspace_id, [name]))[0].id


async def delete_product(session: AsyncSession, workspace_id: int, product_id: int) -> None:
    """Delete a product; the database deletes its variants and their places in carts."""
    product = await get_product(session, workspace_id, product_id)
    await session.execute(delete(ProductVariant).where(ProductVariant.product_id == product.id))
    await session.delete(product)
    await session.flush()


async def list_variants(
    session: AsyncSession, workspace_id: int, product_id: int, *, window: PageRequest
) -> tuple[Sequence[ProductVariant], int]:
    product = await get_product(session, workspace_id, product_id)
    query = (
        select(ProductVariant)
        .where(ProductVariant.product_id == product.id)
        .order_by(ProductVariant.display_order, ProductVariant.id)
    )
    return await fetch_page(session, query, window)


async def get_variant(
    session: AsyncSession, workspace_id: int, product_id: int, variant_id: int
) -> ProductVariant:
    product = await get_product(session, workspace_id, product_id)
    variant = await session.scalar(
        select(ProductVariant).where(
            ProductVariant.product_id == product.id, ProductVariant.id == variant_id
        )
    )
    if variant is None:
        raise NotFound(VARIANT_NOT_FOUND)
    return variant


async def create_variant(
    session: AsyncSession, shop: Shop, product_id: int, fields: VariantFields
) -> ProductVariant:
    product = await get_product(session, shop.workspace_id, product_id)
    if not product.use_variant:
        raise Invalid.field(
            "use_variant",
            "The product has no options: it sells through its one default variant.",
        )
    options = _options_of(fields, _options_of_product(product), "")
    await _ensure_options_free(session, product.id, options, other_than=None)
    last = await session.scalar(
        select(func.max(ProductVariant.display_order)).where(
            ProductVariant.product_id == product.id
        )
    )
    variant = ProductVariant(product_id=product.id, display_order=(last or 0) + 1)
    _apply_variant(variant, fields, shop.currency)
    session.add(variant)
    await session.flush()
    return variant


async def update_variant(
    session: AsyncSession, shop: Shop, product_id: int, variant_id: int, fields: VariantFields
) -> ProductVariant:
    variant = await get_variant(session, shop.workspace_id, product_id, variant_id)
    product = await get_product(session, shop.workspace_id, product_id)
    if fields.variant_1_value is not None or fields.variant_2_value is not None:
        merged = VariantFields(
            variant_1_value=_pick(fields.variant_1_value, variant.variant_1_value),
            variant_2_value=_pick(fields.variant_2_value, variant.variant_2_value),
        )
        options = _options_of(merged, _options_of_product(product), "")
        await _ensure_options_free(session, product.id, options, other_than=variant.id)
        fields.variant_1_value = merged.variant_1_value or ""
        fields.variant_2_value = merged.variant_2_value or ""
    _apply_variant(variant, fields, shop.currency)
    await session.flush()
    return variant


async def delete_variant(
    session: AsyncSession, workspace_id: int, product_id: int, variant_id: int
) -> None:
    variant = await get_variant(session, workspace_id, product_id, variant_id)
    siblings = await session.scalar(
        select(func.count())
        .select_from(ProductVariant)
        .where(ProductVariant.product_id == variant.product_id)
    )
    if (siblings or 0) <= 1:
        raise Invalid.field(
            "variantId", "A product keeps at least one variant: delete the product instead."
        )
    await session.delete(variant)
    await session.flush()


def _options_of_product(product: Product) -> tuple[str | None, str | None]:
    return product.variant_1_name, product.variant_2_name


def _pick(given: str | None, current: str | None) -> str | None:
    return current if given is None else given


async def _ensure_options_free(
    session: AsyncSession,
    product_id: int,
    options: tuple[str | None, str | None],
    *,
    other_than: int | None,
) -> None:
    query = select(ProductVariant.id).where(
        ProductVariant.product_id == product_id,
        _same(ProductVariant.variant_1_value, options[0]),
        _same(ProductVariant.variant_2_value, options[1]),
    )
    if other_than is not None:
        query = query.where(ProductVariant.id != other_than)
    if await session.scalar(query.limit(1)) is not None:
        raise Invalid.field(
            "variant_1_value", "The product already has a variant with these option values."
        )


def _same(column: InstrumentedAttribute[str | None], value: str | None) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def _required_text(value: str | None, name: str) -> str:
    text = (value or "").strip()
    if not text:
        raise Invalid.field(name, f"The {name} field is required.")
    return text
