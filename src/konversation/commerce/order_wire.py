"""The Connect API's shapes for carts and orders."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema

from konversation.commerce import money
from konversation.commerce.models import OrderItem, OrderStatus
from konversation.commerce.orders import (
    MAX_QTY,
    CartView,
    Details,
    ItemRequest,
    Line,
    OrderView,
    variant_label,
)
from konversation.subscribers.wire import UserNsIn, wire_time
from konversation.wire.params import BlankIsNone


def _json_amount(value: Decimal) -> int | float:
    # JSON has one number type. The amount is exact up to here; its shortest float repr prints
    # the same digits back, and a currency without minor units prints as an integer.
    return int(value) if value.as_tuple().exponent == 0 else float(value)


Amount = Annotated[
    Decimal,
    PlainSerializer(_json_amount, return_type=float, when_used="json"),
    WithJsonSchema({"type": "number", "examples": [12.99]}),
]

StatusT = Literal["paid", "ordered", "processing", "shipped", "completed", "cancelled", "refunded"]
STATUS_DOC = (
    "paid, ordered, processing, shipped, completed, cancelled or refunded. Orders move forward "
    "through ordered, paid, processing, shipped and completed (steps may be skipped); ordered, "
    "paid and processing orders can be cancelled; paid, processing, shipped and completed ones "
    "refunded. Cancelled and refunded are final."
)


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _wire_currency(currency: str) -> str:
    return currency.lower()


def _amount(minor: int, currency: str) -> Decimal:
    return money.from_minor(minor, currency)


# Request bodies


class _In(BaseModel):
    # References, postcodes and phones often arrive as JSON numbers.
    model_config = ConfigDict(coerce_numbers_to_str=True)


Qty = Annotated[int, Field(ge=1, le=MAX_QTY, examples=[1])]
VariantId = Annotated[int, Field(description="A product variant's id.", examples=[123])]


class AddToCartIn(UserNsIn):
    variant_id: VariantId
    qty: Annotated[Qty | None, BlankIsNone] = Field(
        default=None, description="How many to add to what the cart holds; 1 if left out."
    )


class RemoveFromCartIn(UserNsIn):
    variant_id: VariantId


def _text(limit: int, example: str, description: str | None = None) -> Any:
    return Field(
        default=None,
        max_length=limit,
        description=description,
        examples=[example],
    )


class DetailsIn(_In):
    """Shipping, payment and contact details; on update, a field left out stays as it is and
    an empty string clears it."""

    shipping_method: str | None = _text(64, "delivery", "pickup or delivery.")
    payment_method: str | None = _text(64, "card", "cash, card, or another way.")
    reference_no: str | None = _text(255, "PAY-3829", "The payment's reference.")
    note: str | None = _text(5000, "Leave it at the door.")
    address: str | None = _text(1024, "1 George St", "Shipping address.")
    suburb: str | None = _text(255, "Sydney", "Shipping suburb.")
    state: str | None = _text(255, "NSW", "Shipping state.")
    postcode: str | None = _text(32, "2000", "Shipping postcode.")
    country: str | None = _text(255, "Australia", "Shipping country.")
    tracking_no: str | None = _text(255, "TRK123456", "The parcel's tracking number.")
    name: str | None = _text(255, "Sam Smith", "Contact name.")
    phone: str | None = _text(64, "+61400000000", "Contact phone.")
    email: str | None = _text(255, "sam@example.com", "Contact email.")

    def details(self) -> Details:
        return Details(**{name: getattr(self, name) for name in Details.__dataclass_fields__})


DiscountCodeIn = Annotated[
    Annotated[str, Field(max_length=255)] | None,
    BlankIsNone,
    Field(
        description="A discount code of the workspace to apply (an extension of ours).",
        examples=["SUMMER10"],
    ),
]


class CartPaidIn(DetailsIn):
    user_ns: str = Field(examples=["f1u1"])
    discount_code: DiscountCodeIn = None


class UpdateOrderStatusIn(UserNsIn):
    order_id: int = Field(examples=[12])
    status: Annotated[StatusT, BeforeValidator(_lower)] = Field(
        description=STATUS_DOC, examples=["shipped"]
    )


class OrderItemIn(BaseModel):
    variant_id: VariantId
    qty: Qty


class CreateOrderIn(DetailsIn):
    user_ns: str = Field(examples=["f1u1"])
    status: Annotated[StatusT | None, BlankIsNone, BeforeValidator(_lower)] = Field(
        default=None,
        description="ordered (when left out), paid, processing, shipped or completed.",
        examples=["ordered"],
    )
    items: list[OrderItemIn] = Field(
        min_length=1, max_length=100, examples=[[{"variant_id": 123, "qty": 2}]]
    )
    discount_code: DiscountCodeIn = None

    def requested(self) -> list[ItemRequest]:
        return [ItemRequest(item.variant_id, item.qty) for item in self.items]


class UpdateOrderIn(DetailsIn):
    status: Annotated[StatusT | None, BlankIsNone, BeforeValidator(_lower)] = Field(
        default=None, description=STATUS_DOC, examples=["shipped"]
    )
    items: list[OrderItemIn] | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="The order's new items, replacing the old ones (until the order ships).",
        examples=[[{"variant_id": 123, "qty": 2}]],
    )

    def requested(self) -> list[ItemRequest] | None:
        if self.items is None:
            return None
        return [ItemRequest(item.variant_id, item.qty) for item in self.items]

    def new_status(self) -> OrderStatus | None:
        return None if self.status is None else OrderStatus(self.status)


# Answers


class CartItemOut(BaseModel):
    id: int = Field(description="The variant's id.", examples=[123])
    variant_id: int = Field(examples=[123])
    product_id: int = Field(examples=[78])
    name: str = Field(description="The product's name.", examples=["T-shirt"])
    variant_name: str = Field(description="The variant's options.", examples=["Blue / Large"])
    desc: str | None = Field(description="The product's description.")
    image: str | None
    sku: str | None
    price: Amount
    compare_price: Amount | None
    currency: str = Field(examples=["usd"])
    num: int = Field(description="How many the cart holds.", examples=[2])
    subtotal: Amount

    @classmethod
    def of(cls, line: Line, currency: str) -> CartItemOut:
        variant, product = line.variant, line.product
        compare = variant.compare_price_minor
        return cls(
            id=variant.id,
            variant_id=variant.id,
            product_id=product.id,
            name=product.name,
            variant_name=variant_label(variant),
            desc=product.description,
            image=variant.image or product.image,
            sku=variant.sku,
            price=_amount(line.unit_price, currency),
            compare_price=None if compare is None else _amount(compare, currency),
            currency=_wire_currency(currency),
            num=line.qty,
            subtotal=_amount(line.line_total, currency),
        )


class CartOut(BaseModel):
    id: int | None = Field(description="null until something is first put in the cart.")
    created_at: str | None = Field(examples=["2026-11-25 10:00:00"])
    updated_at: str | None = Field(examples=["2026-11-25 10:05:00"])
    items: list[CartItemOut]
    num_of_items: int = Field(description="Units in the cart, all items together.", examples=[2])
    total_price: Amount
    currency: str = Field(examples=["usd"])

    @classmethod
    def of(cls, view: CartView) -> CartOut:
        cart = view.cart
        return cls(
            id=cart.id if cart else None,
            created_at=wire_time(cart.created_at) if cart else None,
            updated_at=wire_time(cart.updated_at) if cart else None,
            items=[CartItemOut.of(line, view.currency) for line in view.lines],
            num_of_items=view.num_of_items,
            total_price=_amount(view.total_minor, view.currency),
            currency=_wire_currency(view.currency),
        )


class OrderItemOut(BaseModel):
    id: int = Field(examples=[301])
    variant_id: int | None = Field(description="null once the variant is deleted.")
    product_id: int | None
    name: str = Field(description="The product's name when ordered.", examples=["T-shirt"])
    variant_name: str = Field(examples=["Blue / Large"])
    sku: str | None
    image: str | None
    price: Amount = Field(description="The price per unit when ordered.")
    compare_price: Amount | None
    qty: int = Field(examples=[2])
    subtotal: Amount

    @classmethod
    def of(cls, item: OrderItem, currency: str) -> OrderItemOut:
        compare = item.compare_price_minor
        return cls(
            id=item.id,
            variant_id=item.variant_id,
            product_id=item.product_id,
            name=item.product_name,
            variant_name=item.variant_name,
            sku=item.sku,
            image=item.image,
            price=_amount(item.unit_price_minor, currency),
            compare_price=None if compare is None else _amount(compare, currency),
            qty=item.qty,
            subtotal=_amount(item.line_total_minor, currency),
        )


class OrderOut(BaseModel):
    id: int = Field(examples=[12])
    user_ns: str | None = Field(description="null once the subscriber is deleted.")
    status: str = Field(examples=["paid"])
    currency: str = Field(examples=["usd"])
    total: str = Field(description="The total as text.", examples=["25.00"])
    total_price: Amount = Field(description="The total as a number.")
    subtotal_price: Amount = Field(description="The items before the discount.")
    discount_price: Amount
    shipping_price: Amount
    discount_code: str | None = Field(examples=["SUMMER10"])
    num_of_items: int = Field(description="Units ordered, all items together.", examples=[2])
    items: list[OrderItemOut]
    shipping_method: str | None = Field(examples=["delivery"])
    payment_method: str | None = Field(examples=["card"])
    reference_no: str | None
    note: str | None
    name: str | None
    phone: str | None
    email: str | None
    address: str | None
    suburb: str | None
    state: str | None
    postcode: str | None
    country: str | None
    tracking_no: str | None
    paid_at: str | None
    created_at: str | None = Field(examples=["2026-11-25 10:00:00"])
    updated_at: str | None

    @classmethod
    def of(cls, view: OrderView) -> OrderOut:
        o = view.order
        cur = o.currency
        return cls(
            id=o.id,
            user_ns=view.user_ns,
            status=o.status,
            currency=_wire_currency(cur),
            total=money.format_amount(o.total_minor, cur),
            total_price=_amount(o.total_minor, cur),
            subtotal_price=_amount(o.subtotal_minor, cur),
            discount_price=_amount(o.discount_minor, cur),
            shipping_price=_amount(o.shipping_minor, cur),
            discount_code=o.discount_code,
            num_of_items=view.num_of_items,
            items=[OrderItemOut.of(item, cur) for item in view.items],
            shipping_method=o.shipping_method,
            payment_method=o.payment_method,
            reference_no=o.reference_no,
            note=o.note,
            name=o.name,
            phone=o.phone,
            email=o.email,
            address=o.address,
            suburb=o.suburb,
            state=o.state,
            postcode=o.postcode,
            country=o.country,
            tracking_no=o.tracking_no,
            paid_at=wire_time(o.paid_at),
            created_at=wire_time(o.created_at),
            updated_at=wire_time(o.updated_at),
        )


class OrderPlacedOut(BaseModel):
    """The action succeeded; `data` is the order it placed or changed."""

    status: Literal["ok"] = "ok"
    data: OrderOut
