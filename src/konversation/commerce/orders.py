"""A subscriber's cart and a bot's orders: checkout, stock, discount codes and order statuses.

Amounts are integer minor units of the workspace's currency (see `konversation.commerce.money`);
an order keeps its own currency and a snapshot of every price, so later catalogue changes never
alter it. Every change that touches several rows runs in a savepoint: a refused checkout leaves
no order, no stock taken and no code used, even when the caller goes on with its transaction.

The life of an order:

    ordered -> paid -> processing -> shipped -> completed   forward only; steps may be skipped
    ordered, paid, processing            -> cancelled      before it ships
    paid, processing, shipped, completed -> refunded       once money may have been taken

`cancelled` and `refunded` are final. Asking for the status an order already has changes
nothing. Stock is taken when an order is placed (with a guarded UPDATE, so it never goes below
zero for a variant that may not be sold without stock) and put back once, when the order is
cancelled or refunded. A variant that may be sold without stock goes below zero (backorders).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from konversation.commerce.models import (
    Cart,
    CartItem,
    DiscountCode,
    DiscountType,
    MinRequire,
    Order,
    OrderItem,
    OrderStatus,
    Product,
    ProductStatus,
    ProductVariant,
)
from konversation.commerce.money import format_amount
from konversation.conversations.models import Direction
from konversation.conversations.service import record_message
from konversation.db import PageRequest, dialect_insert, fetch_page, utcnow
from konversation.errors import Invalid, NotFound
from konversation.ids import MAX_ID, Kind, format_ns, parse_ns
from konversation.integrations import paid as integration_orders
from konversation.subscribers import service as subscribers
from konversation.subscribers.models import Subscriber
from konversation.webhooks import service as webhooks
from konversation.webhooks.models import EventType
from konversation.workspaces.models import Bot, Workspace

VARIANT_NOT_FOUND = "Variant not found"
ORDER_NOT_FOUND = "Order not found"
# Large enough for any real basket, small enough that quantities stay 32-bit integers.
MAX_QTY = 1_000_000
SHIPPING_METHODS = ("pickup", "delivery")
CODE_FIELD = "discount_code"

S = OrderStatus
FORWARD = (S.ORDERED, S.PAID, S.PROCESSING, S.SHIPPED, S.COMPLETED)
FINAL = frozenset({S.CANCELLED, S.REFUNDED})
CANCELLABLE = frozenset({S.ORDERED, S.PAID, S.PROCESSING})
REFUNDABLE = frozenset({S.PAID, S.PROCESSING, S.SHIPPED, S.COMPLETED})
# Until an order ships its items may change; it may be created in any forward status.
EDITABLE = CANCELLABLE
OPENING = frozenset(FORWARD)


def _next_statuses(current: OrderStatus) -> frozenset[OrderStatus]:
    if current in FINAL:
        return frozenset()
    allowed = set(FORWARD[FORWARD.index(current) + 1 :])
    if current in CANCELLABLE:
        allowed.add(S.CANCELLED)
    if current in REFUNDABLE:
        allowed.add(S.REFUNDED)
    return frozenset(allowed)


TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    status: _next_statuses(status) for status in OrderStatus
}


# What the service works with


@dataclass(frozen=True)
class Shop:
    """The bot whose subscribers buy, and the workspace whose catalogue and money they use."""

    bot_id: int
    workspace_id: int
    currency: str


@dataclass(frozen=True)
class Line:
    """A variant, its product and a quantity: a cart line or a line about to be ordered."""

    variant: ProductVariant
    product: Product
    qty: int
    # The price per unit; an order's kept lines keep the price they were ordered at.
    unit_price: int

    @property
    def line_total(self) -> int:
        return self.unit_price * self.qty

    @property
    def label(self) -> str:
        options = variant_label(self.variant)
        return f"{self.product.name} ({options})" if options else self.product.name


def variant_label(variant: ProductVariant) -> str:
    """The variant's option values for display ("Blue / Large"); empty for a default variant."""
    return " / ".join(v for v in (variant.variant_1_value, variant.variant_2_value) if v)


@dataclass(frozen=True)
class CartView:
    cart: Cart | None
    lines: list[Line]
    currency: str

    @property
    def num_of_items(self) -> int:
        return sum(line.qty for line in self.lines)

    @property
    def total_minor(self) -> int:
        return sum(line.line_total for line in self.lines)


@dataclass(frozen=True)
class ItemRequest:
    """A variant and how many of it, as a caller asks for them."""

    variant_id: int
    qty: int


@dataclass(frozen=True)
class Details:
    """Shipping, payment and contact details. None leaves a detail as it is; "" clears it."""

    shipping_method: str | None = None
    payment_method: str | None = None
    reference_no: str | None = None
    note: str | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    suburb: str | None = None
    state: str | None = None
    postcode: str | None = None
    country: str | None = None
    tracking_no: str | None = None

    def checked(self) -> Details:
        method = self.shipping_method
        if method is None or not method.strip():
            return self
        method = method.strip().lower()
        if method not in SHIPPING_METHODS:
            raise Invalid.field(
                "shipping_method", "The shipping_method must be pickup or delivery."
            )
        return _replace(self, shipping_method=method)

    def with_contact_of(self, subscriber: Subscriber) -> Details:
        """The subscriber's name, phone and email where the caller gave none (or left blank)."""
        return _replace(
            self,
            name=_given(self.name) or subscriber.name or None,
            phone=_given(self.phone) or subscriber.phone,
            email=_given(self.email) or subscriber.email,
        )

    def apply_to(self, order: Order) -> None:
        for detail in fields(self):
            value = getattr(self, detail.name)
            if value is not None:
                setattr(order, detail.name, value.strip() or None)


def _given(value: str | None) -> str | None:
    return value if value and value.strip() else None


def _replace(details: Details, **changes: str | None) -> Details:
    values = {f.name: getattr(details, f.name) for f in fields(details)}
    return Details(**{**values, **changes})


@dataclass(frozen=True)
class Totals:
    subtotal: int
    discount: int = 0
    shipping: int = 0

    @property
    def total(self) -> int:
        return self.subtotal - self.discount + self.shipping


@dataclass(frozen=True)
class OrderView:
    order: Order
    items: list[OrderItem]
    user_ns: str | None

    @property
    def num_of_items(self) -> int:
        return sum(item.qty for item in self.items)


@dataclass
class _Mirror:
    """Numbers the UPDATEs of a change left in the database, copied onto the objects the session
    has loaded once the change's savepoint is released: a rolled-back one must not leave them."""

    values: list[tuple[type[Any], int, str, int]] = field(default_factory=list)

    def note(self, cls: type[Any], row_id: int, attribute: str, value: int) -> None:
        self.values.append((cls, row_id, attribute, value))

    def apply(self, session: AsyncSession) -> None:
        for cls, row_id, attribute, value in self.values:
            loaded = session.identity_map.get(identity_key(cls, row_id))
            if loaded is not None:
                set_committed_value(loaded, attribute, value)


# Who hears of status changes: set on a session's `info` by whoever runs flows.
STATUS_LISTENER = "konversation.commerce.status_listener"
StatusListener = Callable[[AsyncSession, Subscriber, Order, OrderStatus], Awaitable[None]]


# The cart


async def get_cart(session: AsyncSession, bot_id: int, *, user_ns: str) -> CartView:
    shop = await _shop(session, bot_id)
    subscriber = await subscribers.get_subscriber(session, bot_id, user_ns)
    cart = await _cart_of(session, subscriber)
    lines = await _cart_lines(session, shop, cart) if cart else []
    return CartView(cart, lines, shop.currency)


async def add_to_cart(
    session: AsyncSession, bot_id: int, *, user_ns: str, variant_id: int, qty: int = 1
) -> None:
    """Put `qty` of a variant in the cart, on top of what it already holds.

    The product must be active, and a variant that tracks stock and may not be sold without it
    must have enough for the whole quantity in the cart (checked again at checkout).
    """
    _check_qty(qty, "qty")
    shop = await _shop(session, bot_id)
    subscriber = await subscribers.get_subscriber(session, bot_id, user_ns)
    variant, product = await _variant_in_shop(session, shop, variant_id)
    if product.status != ProductStatus.ACTIVE:
        raise Invalid.field("variant_id", f"{product.name} is not for sale.")
    cart = await _open_cart(session, subscriber)
    held = await session.scalar(
        select(CartItem.qty).where(CartItem.cart_id == cart.id, CartItem.variant_id == variant.id)
    )
    wanted = (held or 0) + qty
    if wanted > MAX_QTY:
        raise Invalid.field("qty", f"A cart holds at most {MAX_QTY} of one variant.")
    line = Line(variant, product, wanted, variant.price_minor)
    if _short_of_stock(line):
        raise Invalid.field("qty", _out_of_stock(line, variant.qty))
    insert = dialect_insert(session)(CartItem).values(
        cart_id=cart.id, variant_id=variant.id, qty=qty, created_at=utcnow()
    )
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[CartItem.cart_id, CartItem.variant_id],
            set_={"qty": CartItem.qty + insert.excluded.qty},
        )
    )
    cart.updated_at = utcnow()
    await session.flush()


async def remove_from_cart(
    session: AsyncSession, bot_id: int, *, user_ns: str, variant_id: int
) -> None:
    """Take a variant out of the cart; one the cart does not hold changes nothing."""
    shop = await _shop(session, bot_id)
    subscriber = await subscribers.get_subscriber(session, bot_id, user_ns)
    variant, _product = await _variant_in_shop(session, shop, variant_id)
    cart = await _cart_of(session, subscriber)
    if cart is None:
        return
    await session.execute(
        delete(CartItem).where(CartItem.cart_id == cart.id, CartItem.variant_id == variant.id)
    )
    cart.updated_at = utcnow()
    await session.flush()


async def empty_cart(session: AsyncSession, bot_id: int, *, user_ns: str) -> None:
    subscriber = await subscribers.get_subscriber(session, bot_id, user_ns)
    cart = await _cart_of(session, subscriber)
    if cart is None:
        return
    await session.execute(delete(CartItem).where(CartItem.cart_id == cart.id))
    cart.updated_at = utcnow()
    await session.flush()


async def _cart_of(session: AsyncSession, subscriber: Subscriber) -> Cart | None:
    return await session.scalar(select(Cart).where(Cart.subscriber_id == subscriber.id))


async def _open_cart(session: AsyncSession, subscriber: Subscriber) -> Cart:
    """The subscriber's cart, made now if they have none (two racing calls make one)."""
    now = utcnow()
    insert = dialect_insert(session)(Cart).values(
        bot_id=subscriber.bot_id, subscriber_id=subscriber.id, created_at=now, updated_at=now
    )
    await session.execute(insert.on_conflict_do_nothing(index_elements=[Cart.subscriber_id]))
    cart = await _cart_of(session, subscriber)
    assert cart is not None
    return cart


async def _cart_lines(session: AsyncSession, shop: Shop, cart: Cart) -> list[Line]:
    rows = await session.execute(
        select(CartItem.qty, ProductVariant, Product)
        .join(ProductVariant, ProductVariant.id == CartItem.variant_id)
        .join(Product, Product.id == ProductVariant.product_id)
        .where(CartItem.cart_id == cart.id, Product.workspace_id == shop.workspace_id)
        .order_by(CartItem.id)
        .execution_options(populate_existing=True)
    )
    return [Line(variant, product, qty, variant.price_minor) for qty, variant, product in rows]


# Placing orders


async def checkout(
    session: AsyncSession,
    bot_id: int,
    *,
    user_ns: str,
    details: Details,
    discount_code: str | None = None,
    now: dt.datetime | None = None,
    status: OrderStatus = OrderStatus.PAID,
) -> Order:
    """Turn the subscriber's cart into an order (paid, unless `status` says it is to be paid
    later) and empty the cart, all or nothing.

    Contact details left out are taken from the subscriber. 422 for an empty cart, a product
    no longer for sale, too little stock (named `items.<index>.qty`, in cart order) or a
    discount code that cannot be used.
    """
    now = now or utcnow()
    details = details.checked()
    shop = await _shop(session, bot_id)
    subscriber = await _locked_subscriber(session, bot_id, user_ns)
    cart = await _cart_of(session, subscriber)
    lines = await _cart_lines(session, shop, cart) if cart else []
    if cart is None or not lines:
        raise Invalid.field("user_ns", "The subscriber's cart is empty.")
    mirror = _Mirror()
    async with session.begin_nested():
        order = await _place(
            session,
            shop,
            subscriber,
            lines,
            status=status,
            details=details.with_contact_of(subscriber),
            code=discount_code,
            now=now,
            mirror=mirror,
        )
        await session.execute(delete(CartItem).where(CartItem.cart_id == cart.id))
        cart.updated_at = now
        await on_status_change(session, order, None, status)
    mirror.apply(session)
    return order


async def create_order(
    session: AsyncSession,
    bot_id: int,
    *,
    user_ns: str,
    items: Sequence[ItemRequest],
    status: OrderStatus | None = None,
    details: Details = Details(),
    discount_code: str | None = None,
    now: dt.datetime | None = None,
) -> Order:
    """An order of the given items for the subscriber, in any forward status (`ordered` when
    none is given), taking stock as a checkout does. The cart is left alone."""
    now = now or utcnow()
    status = status or S.ORDERED
    if status not in OPENING:
        raise Invalid.field("status", f"An order cannot be created {status.value}.")
    if not items:
        raise Invalid.field("items", "The items field must have at least 1 items.")
    details = details.checked()
    shop = await _shop(session, bot_id)
    subscriber = await _locked_subscriber(session, bot_id, user_ns)
    lines = await _lines_for(session, shop, items, prices={})
    mirror = _Mirror()
    async with session.begin_nested():
        order = await _place(
            session,
            shop,
            subscriber,
            lines,
            status=status,
            details=details,
            code=discount_code,
            now=now,
            mirror=mirror,
        )
        await on_status_change(session, order, None, status)
    mirror.apply(session)
    return order


async def _locked_subscriber(session: AsyncSession, bot_id: int, user_ns: str) -> Subscriber:
    """The subscriber, locked for the transaction: one checkout at a time per subscriber, so a
    double-submitted cart becomes one order and a one-per-customer code is used once.
    (SQLite holds its write lock for the whole transaction anyway.)"""
    subscriber = await subscribers.get_subscriber(session, bot_id, user_ns)
    await session.execute(
        select(Subscriber.id).where(Subscriber.id == subscriber.id).with_for_update()
    )
    return subscriber


async def _place(
    session: AsyncSession,
    shop: Shop,
    subscriber: Subscriber,
    lines: list[Line],
    *,
    status: OrderStatus,
    details: Details,
    code: str | None,
    now: dt.datetime,
    mirror: _Mirror,
) -> Order:
    for index, line in enumerate(lines):
        if line.product.status != ProductStatus.ACTIVE:
            raise Invalid.field(f"items.{index}.variant_id", f"{line.label} is not for sale.")
    discount = await _usable_code(session, shop, subscriber, code, lines, now) if code else None
    totals = price(lines, discount)
    order = Order(
        bot_id=shop.bot_id,
        subscriber_id=subscriber.id,
        status=status.value,
        currency=shop.currency,
        subtotal_minor=totals.subtotal,
        discount_minor=totals.discount,
        shipping_minor=totals.shipping,
        total_minor=totals.total,
        discount_code_id=discount.id if discount else None,
        discount_code=discount.code if discount else None,
        stock_applied=True,
        paid_at=now if status is S.PAID else None,
        created_at=now,
        updated_at=now,
    )
    details.apply_to(order)
    session.add(order)
    await session.flush()
    session.add_all(_snapshot(order, line) for line in lines)
    await _take_stock(session, lines, mirror)
    if discount is not None:
        await _use_code(session, discount, mirror)
    await session.flush()
    return order


def _snapshot(order: Order, line: Line) -> OrderItem:
    return OrderItem(
        order_id=order.id,
        variant_id=line.variant.id,
        product_id=line.product.id,
        product_name=line.product.name,
        variant_name=variant_label(line.variant),
        sku=line.variant.sku,
        image=line.variant.image or line.product.image,
        unit_price_minor=line.unit_price,
        compare_price_minor=line.variant.compare_price_minor,
        qty=line.qty,
        line_total_minor=line.line_total,
    )


async def _lines_for(
    session: AsyncSession, shop: Shop, items: Sequence[ItemRequest], *, prices: dict[int, int]
) -> list[Line]:
    """The requested items as lines, a variant asked for twice counted once. `prices` keeps
    the unit price of variants an order already holds."""
    wanted: dict[int, tuple[int, int]] = {}  # variant id -> (first index, total qty)
    for index, item in enumerate(items):
        _check_qty(item.qty, f"items.{index}.qty")
        first, qty = wanted.get(item.variant_id, (index, 0))
        wanted[item.variant_id] = (first, qty + item.qty)
    found = await _variants_in_shop(session, shop, [v for v in wanted if 0 < v <= MAX_ID])
    lines = []
    for variant_id, (index, qty) in wanted.items():
        if variant_id not in found:
            path = f"items.{index}.variant_id"
            raise Invalid.field(path, f"The selected {path} is invalid.")
        if qty > MAX_QTY:
            raise Invalid.field(f"items.{index}.qty", f"An order holds at most {MAX_QTY} of one.")
        variant, product = found[variant_id]
        lines.append(Line(variant, product, qty, prices.get(variant_id, variant.price_minor)))
    return lines


def _check_qty(qty: int, path: str) -> None:
    if qty < 1:
        raise Invalid.field(path, f"The {path} field must be at least 1.")
    if qty > MAX_QTY:
        raise Invalid.field(path, f"The {path} field must be at most {MAX_QTY}.")


# Stock


def _enforces_stock(variant: ProductVariant) -> bool:
    return variant.track_stock and not variant.allow_no_stock_sell


def _short_of_stock(line: Line) -> bool:
    return _enforces_stock(line.variant) and line.qty > line.variant.qty


def _out_of_stock(line: Line, left: int) -> str:
    if left <= 0:
        return f"{line.label} is out of stock."
    return f"Only {left} of {line.label} left in stock."


async def _take_stock(session: AsyncSession, lines: list[Line], mirror: _Mirror) -> None:
    """Take each line's quantity out of stock. The guard `qty >= wanted` makes the database the
    judge, so two checkouts racing for the last unit cannot both have it; variants are taken
    in id order so that two orders never wait on each other's rows."""
    for index, line in sorted(enumerate(lines), key=lambda pair: pair[1].variant.id):
        variant = line.variant
        if not variant.track_stock:
            continue
        take = (
            update(ProductVariant)
            .where(ProductVariant.id == variant.id)
            .values(qty=ProductVariant.qty - line.qty)
        )
        if not variant.allow_no_stock_sell:
            take = take.where(ProductVariant.qty >= line.qty)
        left = await session.scalar(
            take.returning(ProductVariant.qty).execution_options(synchronize_session=False)
        )
        if left is None:
            now_in_stock = await session.scalar(
                select(ProductVariant.qty).where(ProductVariant.id == variant.id)
            )
            raise Invalid.field(f"items.{index}.qty", _out_of_stock(line, now_in_stock or 0))
        mirror.note(ProductVariant, variant.id, "qty", left)


async def _restore_stock(session: AsyncSession, order: Order, mirror: _Mirror) -> None:
    """Put the order's quantities back, for variants that still exist and track stock."""
    items = await _items_of(session, order.id)
    for item in sorted(items, key=lambda i: i.variant_id or 0):
        if item.variant_id is None:
            continue
        level = await session.scalar(
            update(ProductVariant)
            .where(ProductVariant.id == item.variant_id, ProductVariant.track_stock.is_(True))
            .values(qty=ProductVariant.qty + item.qty)
            .returning(ProductVariant.qty)
            .execution_options(synchronize_session=False)
        )
        if level is not None:
            mirror.note(ProductVariant, item.variant_id, "qty", level)


# Discount codes


def price(lines: Sequence[Line], code: DiscountCode | None) -> Totals:
    """Subtotal, discount and total in minor units. A percentage is rounded half up to the
    minor unit; a discount never exceeds the subtotal. No shipping rates exist yet, so
    shipping is free (and a free-shipping code takes nothing off the goods)."""
    subtotal = sum(line.line_total for line in lines)
    quantity = sum(line.qty for line in lines)
    return Totals(subtotal=subtotal, discount=_discount(code, subtotal, quantity), shipping=0)


def _discount(code: DiscountCode | None, subtotal: int, quantity: int) -> int:
    if code is None:
        return 0
    if code.type == DiscountType.PERCENTAGE:
        share = Decimal(max(0, min(100, code.discount_percentage))) / 100
        off = int((Decimal(subtotal) * share).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    elif code.type == DiscountType.AMOUNT:
        # Not once per order: the amount comes off every unit, as "items" counts them.
        off = code.discount_amount_minor * (1 if code.once_per_order else quantity)
    else:
        off = 0
    return max(0, min(off, subtotal))


async def _usable_code(
    session: AsyncSession,
    shop: Shop,
    subscriber: Subscriber,
    text: str,
    lines: Sequence[Line],
    now: dt.datetime,
) -> DiscountCode:
    """The workspace's code, if it may be used now for these lines by this subscriber."""
    code = await session.scalar(
        select(DiscountCode).where(
            DiscountCode.workspace_id == shop.workspace_id, DiscountCode.code == text.strip()
        )
    )
    if code is None:
        raise Invalid.field(CODE_FIELD, "The discount code is not valid.")
    if now < code.start_time:
        raise Invalid.field(CODE_FIELD, "The discount code is not valid yet.")
    if now > code.end_time:
        raise Invalid.field(CODE_FIELD, "The discount code has expired.")
    if code.has_usage_limit and code.usage_count >= code.max_usage_count:
        raise Invalid.field(CODE_FIELD, "The discount code has been used up.")
    subtotal = sum(line.line_total for line in lines)
    if code.min_require == MinRequire.PRICE and subtotal < code.min_price_minor:
        least = f"{format_amount(code.min_price_minor, shop.currency)} {shop.currency}"
        raise Invalid.field(CODE_FIELD, f"The discount code needs an order of at least {least}.")
    if code.min_require == MinRequire.QTY and sum(line.qty for line in lines) < code.min_qty:
        raise Invalid.field(CODE_FIELD, f"The discount code needs at least {code.min_qty} items.")
    if code.one_per_customer and await _has_used(session, code, subscriber):
        raise Invalid.field(CODE_FIELD, "The subscriber has already used this discount code.")
    return code


async def _has_used(session: AsyncSession, code: DiscountCode, subscriber: Subscriber) -> bool:
    """Every order counts, cancelled or not: a use is spent when the order is placed."""
    earlier = await session.scalar(
        select(Order.id)
        .where(Order.discount_code_id == code.id, Order.subscriber_id == subscriber.id)
        .limit(1)
    )
    return earlier is not None


async def _use_code(session: AsyncSession, code: DiscountCode, mirror: _Mirror) -> None:
    """Count a use; the guard makes the last use of a limited code go to one order only."""
    used = await session.scalar(
        update(DiscountCode)
        .where(
            DiscountCode.id == code.id,
            or_(
                DiscountCode.has_usage_limit.is_(False),
                DiscountCode.usage_count < DiscountCode.max_usage_count,
            ),
        )
        .values(usage_count=DiscountCode.usage_count + 1)
        .returning(DiscountCode.usage_count)
        .execution_options(synchronize_session=False)
    )
    if used is None:
        raise Invalid.field(CODE_FIELD, "The discount code has been used up.")
    mirror.note(DiscountCode, code.id, "usage_count", used)


# Changing orders


async def change_status(
    session: AsyncSession,
    bot_id: int,
    *,
    user_ns: str,
    order_id: int,
    status: OrderStatus,
    now: dt.datetime | None = None,
) -> Order:
    """Move one of the subscriber's orders to `status` (see the module's state machine)."""
    subscriber = await subscribers.get_subscriber(session, bot_id, user_ns)
    order = await _order_to_change(session, bot_id, order_id, subscriber_id=subscriber.id)
    mirror = _Mirror()
    async with session.begin_nested():
        await _move(session, order, status, now or utcnow(), mirror)
    mirror.apply(session)
    return order


async def update_order(
    session: AsyncSession,
    bot_id: int,
    order_id: int,
    *,
    status: OrderStatus | None = None,
    details: Details = Details(),
    items: Sequence[ItemRequest] | None = None,
    now: dt.datetime | None = None,
) -> Order:
    """Change an order's details, its items (until it ships) and its status, all or nothing.

    New items replace the old ones: a variant the order already held keeps the price it was
    ordered at, others take today's price; stock follows, and totals are recomputed with the
    order's discount code under the code's rules (it is not checked again).
    """
    now = now or utcnow()
    details = details.checked()
    order = await _order_to_change(session, bot_id, order_id)
    mirror = _Mirror()
    async with session.begin_nested():
        if items is not None:
            await _replace_items(session, await _shop(session, bot_id), order, items, mirror)
        details.apply_to(order)
        order.updated_at = now
        if status is not None:
            await _move(session, order, status, now, mirror)
        await session.flush()
    mirror.apply(session)
    return order


async def _order_to_change(
    session: AsyncSession, bot_id: int, order_id: int, *, subscriber_id: int | None = None
) -> Order:
    """The bot's order, locked until the transaction ends so that changes never interleave."""
    if not 0 < order_id <= MAX_ID:
        raise NotFound(ORDER_NOT_FOUND)
    query = select(Order).where(Order.id == order_id, Order.bot_id == bot_id)
    if subscriber_id is not None:
        query = query.where(Order.subscriber_id == subscriber_id)
    order = await session.scalar(query.with_for_update().execution_options(populate_existing=True))
    if order is None:
        raise NotFound(ORDER_NOT_FOUND)
    return order


async def _move(
    session: AsyncSession, order: Order, new: OrderStatus, now: dt.datetime, mirror: _Mirror
) -> None:
    old = OrderStatus(order.status)
    if new == old:
        return
    if new not in TRANSITIONS[old]:
        raise Invalid.field("status", f"An order that is {old.value} cannot become {new.value}.")
    order.status = new.value
    order.updated_at = now
    if new is S.PAID:
        order.paid_at = now
    if new in FINAL and order.stock_applied:
        await _restore_stock(session, order, mirror)
        order.stock_applied = False
    await on_status_change(session, order, old, new)


async def _replace_items(
    session: AsyncSession,
    shop: Shop,
    order: Order,
    items: Sequence[ItemRequest],
    mirror: _Mirror,
) -> None:
    if OrderStatus(order.status) not in EDITABLE:
        raise Invalid.field("items", f"The items of a {order.status} order cannot change.")
    if not items:
        raise Invalid.field("items", "The items field must have at least 1 items.")
    held = await _items_of(session, order.id)
    prices = {i.variant_id: i.unit_price_minor for i in held if i.variant_id is not None}
    lines = await _lines_for(session, shop, items, prices=prices)
    for index, line in enumerate(lines):
        if line.variant.id not in prices and line.product.status != ProductStatus.ACTIVE:
            raise Invalid.field(f"items.{index}.variant_id", f"{line.label} is not for sale.")
    if order.stock_applied:
        await _restore_stock(session, order, mirror)
    await session.execute(delete(OrderItem).where(OrderItem.order_id == order.id))
    session.add_all(_snapshot(order, line) for line in lines)
    if order.stock_applied:
        await _take_stock(session, lines, mirror)
    await _reprice(session, order, lines)
    await session.flush()


async def _reprice(session: AsyncSession, order: Order, lines: list[Line]) -> None:
    code = (
        await session.get(DiscountCode, order.discount_code_id) if order.discount_code_id else None
    )
    totals = price(lines, code)
    discount = totals.discount
    if code is None:
        # The code is gone: keep what it took off, as long as the goods still cover it.
        discount = min(order.discount_minor, totals.subtotal)
    order.subtotal_minor = totals.subtotal
    order.discount_minor = discount
    order.total_minor = totals.subtotal - discount + order.shipping_minor


async def on_status_change(
    session: AsyncSession, order: Order, old: OrderStatus | None, new: OrderStatus
) -> None:
    """Called on every change of an order's status; `old` is None when the order is placed.

    The change is written to the subscriber's conversation log as a system line (msg_type
    `order_status`), so the chat history shows it, then handed to the listener the session
    carries under `STATUS_LISTENER` (the flow runtime's, which starts the flows it triggers).
    """
    if order.subscriber_id is None:
        return
    subscriber = await session.get(Subscriber, order.subscriber_id)
    if subscriber is None:
        return
    text = _status_text(order, old, new)
    change = {
        "order_id": order.id,
        "status": new.value,
        "previous_status": old.value if old else None,
        "total": format_amount(order.total_minor, order.currency),
        "currency": order.currency,
    }
    await record_message(
        session,
        subscriber,
        direction=Direction.SYSTEM,
        msg_type="order_status",
        content=text,
        payload={"text": text} | change,
    )
    user_ns = format_ns(subscriber.bot_id, Kind.SUBSCRIBER, subscriber.number)
    await webhooks.emit(
        session,
        subscriber.bot_id,
        EventType.ORDER_STATUS_CHANGED,
        {"subscriber": {"user_ns": user_ns}} | change,
    )
    if new in REFUNDABLE and old not in REFUNDABLE:
        # The money was taken just now: connected services hear of it in the background.
        await integration_orders.order_paid(session, order)
    listener: StatusListener | None = session.info.get(STATUS_LISTENER)
    if listener is not None:
        await listener(session, subscriber, order, new)


def _status_text(order: Order, old: OrderStatus | None, new: OrderStatus) -> str:
    if old is None:
        total = f"{format_amount(order.total_minor, order.currency)} {order.currency}"
        return f"Order #{order.id} placed ({new.value}), total {total}."
    return f"Order #{order.id} is now {new.value} (was {old.value})."


# Reading orders


async def list_orders(
    session: AsyncSession,
    workspace_id: int,
    *,
    window: PageRequest,
    user_ns: str | None = None,
    status: OrderStatus | None = None,
) -> tuple[list[OrderView], int]:
    """The workspace's orders, newest first; a `user_ns` naming nobody finds none."""
    query = (
        select(Order)
        .join(Bot, Bot.id == Order.bot_id)
        .where(Bot.workspace_id == workspace_id)
        .order_by(Order.id.desc())
    )
    if user_ns is not None:
        parsed = parse_ns(user_ns, Kind.SUBSCRIBER)
        if parsed is None:
            return [], 0
        query = query.join(Subscriber, Subscriber.id == Order.subscriber_id).where(
            Subscriber.bot_id == parsed[0], Subscriber.number == parsed[1]
        )
    if status is not None:
        query = query.where(Order.status == status.value)
    orders, total = await fetch_page(session, query, window)
    return await _views(session, orders), total


async def get_order(session: AsyncSession, workspace_id: int, order_id: int) -> OrderView:
    """Any order of the workspace's bots."""
    order = None
    if 0 < order_id <= MAX_ID:
        order = await session.scalar(
            select(Order)
            .join(Bot, Bot.id == Order.bot_id)
            .where(Order.id == order_id, Bot.workspace_id == workspace_id)
        )
    if order is None:
        raise NotFound(ORDER_NOT_FOUND)
    return (await _views(session, [order]))[0]


async def view(session: AsyncSession, order: Order) -> OrderView:
    return (await _views(session, [order]))[0]


async def _views(session: AsyncSession, orders: Sequence[Order]) -> list[OrderView]:
    ids = [o.id for o in orders]
    items: dict[int, list[OrderItem]] = {i: [] for i in ids}
    for item in await session.scalars(
        select(OrderItem).where(OrderItem.order_id.in_(ids)).order_by(OrderItem.id)
    ):
        items[item.order_id].append(item)
    people = [o.subscriber_id for o in orders if o.subscriber_id is not None]
    rows = await session.execute(
        select(Subscriber.id, Subscriber.bot_id, Subscriber.number).where(Subscriber.id.in_(people))
    )
    user_ns = {sid: format_ns(bot, Kind.SUBSCRIBER, number) for sid, bot, number in rows}
    return [
        OrderView(o, items[o.id], user_ns.get(o.subscriber_id) if o.subscriber_id else None)
        for o in orders
    ]


async def _items_of(session: AsyncSession, order_id: int) -> list[OrderItem]:
    rows = await session.scalars(
        select(OrderItem).where(OrderItem.order_id == order_id).order_by(OrderItem.id)
    )
    return list(rows)


# The shop and its catalogue


async def _shop(session: AsyncSession, bot_id: int) -> Shop:
    row = (
        await session.execute(
            select(Bot.workspace_id, Workspace.currency)
            .join(Workspace, Workspace.id == Bot.workspace_id)
            .where(Bot.id == bot_id)
        )
    ).first()
    if row is None:
        raise NotFound("Flow not found")
    return Shop(bot_id=bot_id, workspace_id=row.workspace_id, currency=row.currency.upper())


async def _variant_in_shop(
    session: AsyncSession, shop: Shop, variant_id: int
) -> tuple[ProductVariant, Product]:
    found = await _variants_in_shop(session, shop, [variant_id] if 0 < variant_id <= MAX_ID else [])
    if variant_id not in found:
        raise NotFound(VARIANT_NOT_FOUND)
    return found[variant_id]


async def _variants_in_shop(
    session: AsyncSession, shop: Shop, variant_ids: Sequence[int]
) -> dict[int, tuple[ProductVariant, Product]]:
    if not variant_ids:
        return {}
    rows = await session.execute(
        select(ProductVariant, Product)
        .join(Product, Product.id == ProductVariant.product_id)
        .where(ProductVariant.id.in_(variant_ids), Product.workspace_id == shop.workspace_id)
        # Stock levels are read fresh: another transaction may have changed them.
        .execution_options(populate_existing=True)
    )
    return {variant.id: (variant, product) for variant, product in rows}
