"""The shop: a workspace's catalogue and discount codes, a bot's carts and orders.

Money is stored as integer minor units of the workspace's currency (cents for USD, yen for
JPY, fils for KWD): every such column ends in `_minor`. `konversation.commerce.money` converts
to and from the decimal amounts the API speaks.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from konversation.db import Base, Timestamped, UTCDateTime, utcnow


class ProductStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class DiscountType(StrEnum):
    PERCENTAGE = "percentage"
    AMOUNT = "amount"
    FREE_SHIPPING = "free_shipping"


class MinRequire(StrEnum):
    NONE = "none"
    PRICE = "price"
    QTY = "qty"


class OrderStatus(StrEnum):
    PAID = "paid"
    ORDERED = "ordered"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class DayOption(StrEnum):
    """How a weekday is open: closed, all day, or one or two spans of hours."""

    CLOSE = "close"
    OPEN = "open"
    OPEN_1 = "open_1"
    OPEN_2 = "open_2"


# ---------------------------------------------------------------------------------------------
# Catalogue (workspace-level)


class ProductType(Timestamped, Base):
    __tablename__ = "product_types"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))


class ProductVendor(Timestamped, Base):
    __tablename__ = "product_vendors"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))


class ProductTag(Timestamped, Base):
    __tablename__ = "product_tags"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))


class ShopLocation(Timestamped, Base):
    """A shop or pickup point. Coordinates are not money: plain floats are fine for them."""

    __tablename__ = "shop_locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    address: Mapped[str] = mapped_column(String(1024), default="")
    note: Mapped[str | None] = mapped_column(Text)
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)


class BusinessHours(Base):
    """One weekday's opening hours; `day` is 1 (Monday) to 7 (Sunday), times are "HH:MM"."""

    __tablename__ = "business_hours"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    option: Mapped[str] = mapped_column(String(16), default=DayOption.CLOSE)
    start: Mapped[str | None] = mapped_column(String(5))
    end: Mapped[str | None] = mapped_column(String(5))
    start_2: Mapped[str | None] = mapped_column(String(5))
    end_2: Mapped[str | None] = mapped_column(String(5))


class Product(Timestamped, Base):
    __tablename__ = "products"
    __table_args__ = (
        Index(
            "ix_products_workspace_id_source_external_id",
            "workspace_id",
            "source",
            "external_id",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    image: Mapped[str | None] = mapped_column(String(1024))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ProductStatus.ACTIVE)
    product_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("product_types.id", ondelete="SET NULL"), index=True
    )
    vendor_id: Mapped[int | None] = mapped_column(
        ForeignKey("product_vendors.id", ondelete="SET NULL"), index=True
    )
    # Without variants a product still sells through one default variant holding its price.
    use_variant: Mapped[bool] = mapped_column(Boolean, default=False)
    variant_1_name: Mapped[str | None] = mapped_column(String(255))
    variant_2_name: Mapped[str | None] = mapped_column(String(255))
    # Where an imported product came from ("shopify", "woocommerce") and its id there, so that
    # importing again updates it; None for products made here.
    source: Mapped[str | None] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ProductTagLink(Base):
    __tablename__ = "product_tag_links"

    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        ForeignKey("product_tags.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ProductVariant(Timestamped, Base):
    __tablename__ = "product_variants"
    __table_args__ = (
        Index(
            "ix_product_variants_product_id_external_id", "product_id", "external_id", unique=True
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    variant_1_value: Mapped[str | None] = mapped_column(String(255))
    variant_2_value: Mapped[str | None] = mapped_column(String(255))
    image: Mapped[str | None] = mapped_column(String(1024))
    price_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    compare_price_minor: Mapped[int | None] = mapped_column(BigInteger)
    taxable: Mapped[bool] = mapped_column(Boolean, default=False)
    sku: Mapped[str | None] = mapped_column(String(255))
    barcode: Mapped[str | None] = mapped_column(String(255))
    track_stock: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_no_stock_sell: Mapped[bool] = mapped_column(Boolean, default=False)
    # Units in stock; only enforced when `track_stock` is set and `allow_no_stock_sell` is not.
    qty: Mapped[int] = mapped_column(Integer, default=0)
    display_order: Mapped[int] = mapped_column(Integer, default=0)
    # The variant's id in the store its product was imported from.
    external_id: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DiscountCode(Timestamped, Base):
    __tablename__ = "discount_codes"
    __table_args__ = (UniqueConstraint("workspace_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(16))
    discount_percentage: Mapped[int] = mapped_column(Integer, default=0)
    discount_amount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    # Amount codes: take the amount off once per order rather than once per item.
    once_per_order: Mapped[bool] = mapped_column(Boolean, default=False)
    min_require: Mapped[str] = mapped_column(String(8), default=MinRequire.NONE)
    min_price_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    min_qty: Mapped[int] = mapped_column(Integer, default=0)
    has_usage_limit: Mapped[bool] = mapped_column(Boolean, default=False)
    max_usage_count: Mapped[int] = mapped_column(Integer, default=0)
    usage_count: Mapped[int] = mapped_column(Integer, default=0)
    one_per_customer: Mapped[bool] = mapped_column(Boolean, default=False)
    start_time: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    end_time: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# ---------------------------------------------------------------------------------------------
# Carts and orders (bot-level)


class Cart(Timestamped, Base):
    """A subscriber's open cart: at most one; it is emptied when it becomes an order."""

    __tablename__ = "carts"

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), unique=True
    )
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CartItem(Timestamped, Base):
    __tablename__ = "cart_items"
    __table_args__ = (UniqueConstraint("cart_id", "variant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"))
    variant_id: Mapped[int] = mapped_column(
        ForeignKey("product_variants.id", ondelete="CASCADE"), index=True
    )
    qty: Mapped[int] = mapped_column(Integer)


class Order(Timestamped, Base):
    """A placed order. Amounts are snapshots in `currency`'s minor units; the subscriber link
    is dropped (not the order) when the subscriber is deleted, so the books stay whole."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_bot_id_subscriber_id", "bot_id", "subscriber_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16), default=OrderStatus.ORDERED)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    shipping_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    discount_code_id: Mapped[int | None] = mapped_column(
        ForeignKey("discount_codes.id", ondelete="SET NULL"), index=True
    )
    # The code as typed, kept when the discount code record is later deleted.
    discount_code: Mapped[str | None] = mapped_column(String(255))
    # True while the order's quantities are taken out of stock (cleared when they are put back).
    stock_applied: Mapped[bool] = mapped_column(Boolean, default=False)
    shipping_method: Mapped[str | None] = mapped_column(String(64))
    payment_method: Mapped[str | None] = mapped_column(String(64))
    reference_no: Mapped[str | None] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(255))
    address: Mapped[str | None] = mapped_column(String(1024))
    suburb: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str | None] = mapped_column(String(255))
    postcode: Mapped[str | None] = mapped_column(String(32))
    country: Mapped[str | None] = mapped_column(String(255))
    tracking_no: Mapped[str | None] = mapped_column(String(255))
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class OrderItem(Base):
    """One line of an order, with the product as it was when the order was placed."""

    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    variant_id: Mapped[int | None] = mapped_column(
        ForeignKey("product_variants.id", ondelete="SET NULL"), index=True
    )
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("products.id", ondelete="SET NULL"), index=True
    )
    product_name: Mapped[str] = mapped_column(String(255))
    # The variant's option values joined for display ("Blue / Large"); empty for the default.
    variant_name: Mapped[str] = mapped_column(String(255), default="")
    sku: Mapped[str | None] = mapped_column(String(255))
    image: Mapped[str | None] = mapped_column(String(1024))
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    compare_price_minor: Mapped[int | None] = mapped_column(BigInteger)
    qty: Mapped[int] = mapped_column(Integer)
    line_total_minor: Mapped[int] = mapped_column(BigInteger)
