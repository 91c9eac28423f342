"""The Ecommerce group's carts and orders: a subscriber's cart, checkout and the bot's orders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from konversation.commerce import orders
from konversation.commerce.models import OrderStatus
from konversation.commerce.order_wire import (
    AddToCartIn,
    CartOut,
    CartPaidIn,
    CreateOrderIn,
    OrderOut,
    OrderPlacedOut,
    RemoveFromCartIn,
    StatusT,
    UpdateOrderIn,
    UpdateOrderStatusIn,
)
from konversation.subscribers.wire import UserNsIn
from konversation.wire import envelope
from konversation.wire.auth import ManageFlow, ManageTeam
from konversation.wire.envelope import DataOut, OkOut, PageOut
from konversation.wire.errors import wire_errors
from konversation.wire.params import PageParams
from konversation.wire.session import Session

router = APIRouter(tags=["Ecommerce"])

ERRORS = wire_errors(401, 403, 404, 422)
OrderId = Annotated[int, Path(alias="orderId", description="The order's id.", examples=[12])]

_MONEY = (
    "Amounts are numbers in the workspace's currency (`total` is also given as text, e.g. "
    '`"25.00"`); `currency` is its ISO 4217 code in lower case. '
)
_STOCK = (
    "A variant that tracks stock and may not be sold without it must have enough: 422 naming "
    "`items.<index>.qty` otherwise, and stock never goes below zero, however many checkouts "
    "race for the last unit. "
)
_CODE = (
    "`discount_code` (an extension of ours) applies one of the workspace's codes: 422 on "
    "`discount_code` when it is unknown, not yet valid, expired, used up, already used by a "
    "subscriber it allows one use each, or the order is below its minimum amount or quantity. "
)
_MACHINE = (
    "Orders move forward through ordered, paid, processing, shipped and completed (steps may "
    "be skipped); ordered, paid and processing orders can be cancelled; paid, processing, "
    "shipped and completed ones refunded; cancelled and refunded are final. Any other move "
    "answers 422 on `status`; asking for the status the order has changes nothing. Cancelling "
    "or refunding puts the order's stock back (once). Every change is logged in the "
    "subscriber's chat as a system line (`msg_type` `order_status`). "
)


# The cart


@router.get(
    "/subscriber/cart",
    responses=ERRORS,
    summary="The subscriber's cart",
    description="What the subscriber's cart holds, at today's prices: each variant with its "
    "product, price, quantity (`num`) and subtotal, the number of units (`num_of_items`) and "
    "`total_price`. A subscriber who never filled a cart has an empty one (`id` null). " + _MONEY,
)
async def get_cart(
    key: ManageFlow,
    session: Session,
    user_ns: Annotated[str, Query(description="The subscriber.", examples=["f1u1"])],
) -> DataOut[CartOut]:
    view = await orders.get_cart(session, key.bot_id, user_ns=user_ns)
    return envelope.one(CartOut.of(view))


@router.post(
    "/subscriber/add-to-cart",
    responses=ERRORS,
    summary="Put a product variant in the subscriber's cart",
    description="Adds `qty` (1 when left out) of the variant to what the cart already holds. "
    "404 for a variant not in the workspace's catalogue; 422 for a quantity below 1, a product "
    "not for sale (inactive), or more than the stock of a variant that tracks stock and may not "
    "be sold without it. Stock is checked again at checkout.",
)
async def add_to_cart(body: AddToCartIn, key: ManageFlow, session: Session) -> OkOut:
    await orders.add_to_cart(
        session, key.bot_id, user_ns=body.user_ns, variant_id=body.variant_id, qty=body.qty or 1
    )
    return envelope.ok()


@router.delete(
    "/subscriber/remove-from-cart",
    responses=ERRORS,
    summary="Take a product variant out of the subscriber's cart",
    description="Removes the variant, whatever its quantity. A variant the cart does not hold "
    "answers 200 and changes nothing; one not in the workspace's catalogue answers 404.",
)
async def remove_from_cart(body: RemoveFromCartIn, key: ManageFlow, session: Session) -> OkOut:
    await orders.remove_from_cart(
        session, key.bot_id, user_ns=body.user_ns, variant_id=body.variant_id
    )
    return envelope.ok()


@router.delete(
    "/subscriber/empty-cart",
    responses=ERRORS,
    summary="Empty the subscriber's cart",
    description="Removes every item; an empty cart stays empty and answers 200.",
)
async def empty_cart(body: UserNsIn, key: ManageFlow, session: Session) -> OkOut:
    await orders.empty_cart(session, key.bot_id, user_ns=body.user_ns)
    return envelope.ok()


@router.post(
    "/subscriber/cart-paid",
    responses=ERRORS,
    summary="Check out the subscriber's cart as a paid order",
    description="Turns the cart into an order with status `paid`, all or nothing: prices are "
    "fixed in the order, stock is taken, the cart is emptied. `shipping_method` is pickup or "
    "delivery; contact details left out are the subscriber's. 422 for an empty cart or a "
    "product no longer for sale. "
    + _STOCK
    + _CODE
    + "Answers `status` ok and the order in `data`. "
    + _MONEY,
)
async def cart_paid(body: CartPaidIn, key: ManageFlow, session: Session) -> OrderPlacedOut:
    order = await orders.checkout(
        session,
        key.bot_id,
        user_ns=body.user_ns,
        details=body.details(),
        discount_code=body.discount_code,
    )
    return OrderPlacedOut(data=OrderOut.of(await orders.view(session, order)))


@router.post(
    "/subscriber/update-order-status",
    responses=ERRORS,
    summary="Move one of the subscriber's orders to another status",
    description="404 when the order is not the subscriber's (or not the bot's). "
    + _MACHINE
    + "Answers `status` ok and the order in `data`.",
)
async def update_order_status(
    body: UpdateOrderStatusIn, key: ManageFlow, session: Session
) -> OrderPlacedOut:
    order = await orders.change_status(
        session,
        key.bot_id,
        user_ns=body.user_ns,
        order_id=body.order_id,
        status=OrderStatus(body.status),
    )
    return OrderPlacedOut(data=OrderOut.of(await orders.view(session, order)))


# Orders


@router.get(
    "/shop/orders",
    responses=ERRORS,
    summary="List orders",
    description="The orders of every bot of the workspace, newest first. `user_ns` keeps one "
    "subscriber's (one who does not exist has none); `status` (ours) one status. " + _MONEY,
)
async def list_orders(
    key: ManageTeam,
    session: Session,
    paging: PageParams,
    user_ns: Annotated[
        str | None, Query(description="Only this subscriber's orders.", examples=["f1u1"])
    ] = None,
    status: Annotated[StatusT | None, Query(description="Only orders in this status.")] = None,
) -> PageOut[OrderOut]:
    found, total = await orders.list_orders(
        session,
        key.workspace_id,
        window=paging,
        user_ns=user_ns or None,
        status=OrderStatus(status) if status else None,
    )
    return envelope.page([OrderOut.of(v) for v in found], total=total, window=paging)


@router.get(
    "/shop/orders/{orderId}/get-info",
    responses=ERRORS,
    summary="One order",
    description="An order of any bot of the workspace, with its items as they were ordered. "
    + _MONEY,
)
async def get_order(key: ManageTeam, session: Session, order_id: OrderId) -> DataOut[OrderOut]:
    return envelope.one(OrderOut.of(await orders.get_order(session, key.workspace_id, order_id)))


@router.post(
    "/shop/orders/create",
    responses=ERRORS,
    summary="Create an order for a subscriber",
    description="An order of `items` (1 to 100 variants with quantities; a variant named twice "
    "counts once with both quantities) in `status` ordered (when left out), paid, processing, "
    "shipped or completed; it cannot start cancelled or refunded. The subscriber's cart is left "
    "alone. 422 naming `items.<index>.variant_id` for a variant not in the catalogue or not for "
    "sale. " + _STOCK + _CODE + "Answers `status` ok and the order in `data`.",
)
async def create_order(body: CreateOrderIn, key: ManageFlow, session: Session) -> OrderPlacedOut:
    order = await orders.create_order(
        session,
        key.bot_id,
        user_ns=body.user_ns,
        items=body.requested(),
        status=OrderStatus(body.status) if body.status else None,
        details=body.details(),
        discount_code=body.discount_code,
    )
    return OrderPlacedOut(data=OrderOut.of(await orders.view(session, order)))


@router.put(
    "/shop/orders/{orderId}/update",
    responses=ERRORS,
    summary="Update an order",
    description="Changes the fields sent; an empty string clears a detail. `items` replace the "
    "order's items until it ships (a variant it held keeps its price; stock and totals follow, "
    "the order's discount code repriced under its rules). 404 for another bot's order. "
    + _MACHINE
    + "Answers `status` ok and the order in `data`.",
)
async def update_order(
    body: UpdateOrderIn, key: ManageFlow, session: Session, order_id: OrderId
) -> OrderPlacedOut:
    order = await orders.update_order(
        session,
        key.bot_id,
        order_id,
        status=body.new_status(),
        details=body.details(),
        items=body.requested(),
    )
    return OrderPlacedOut(data=OrderOut.of(await orders.view(session, order)))
