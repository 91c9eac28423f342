"""The shop's nodes: a gallery of products, the cart, and checking out.

A gallery card's button sends back `kv:<node number>:v<variant id>`, so a press adds that
variant to the cart whenever it comes, then goes on at the node's `added` port.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.channels import base as out
from konversation.commerce import orders
from konversation.commerce.models import (
    OrderStatus,
    Product,
    ProductStatus,
    ProductTag,
    ProductTagLink,
    ProductType,
    ProductVariant,
)
from konversation.commerce.money import format_amount
from konversation.commerce.orders import Details, variant_label
from konversation.errors import Invalid, NotFound
from konversation.flows import format as fmt
from konversation.ids import Kind, format_ns
from konversation.runtime.messages import node_payload
from konversation.subscribers.models import Subscriber
from konversation.workspaces.models import Bot, Workspace

VARIANT_ITEM = "v"


def variant_item(variant_id: int) -> str:
    return f"{VARIANT_ITEM}{variant_id}"


def variant_of_item(item: str | None) -> int | None:
    if item and item.startswith(VARIANT_ITEM) and item[len(VARIANT_ITEM) :].isdigit():
        return int(item[len(VARIANT_ITEM) :])
    return None


def _user_ns(subscriber: Subscriber) -> str:
    return format_ns(subscriber.bot_id, Kind.SUBSCRIBER, subscriber.number)


async def gallery(
    session: AsyncSession, subscriber: Subscriber, node: fmt.ProductsNode, node_number: int
) -> out.Cards | None:
    """A card for each variant of the active products the node names; None when there are none."""
    workspace = await session.get_one(
        Workspace, (await session.get_one(Bot, subscriber.bot_id)).workspace_id
    )
    query = (
        select(ProductVariant, Product)
        .join(Product, Product.id == ProductVariant.product_id)
        .where(Product.workspace_id == workspace.id, Product.status == ProductStatus.ACTIVE)
        .order_by(Product.id, ProductVariant.display_order, ProductVariant.id)
        .limit(node.limit)
    )
    if node.product_type is not None:
        query = query.join(ProductType, ProductType.id == Product.product_type_id).where(
            ProductType.name == node.product_type
        )
    if node.tag is not None:
        query = (
            query.join(ProductTagLink, ProductTagLink.product_id == Product.id)
            .join(ProductTag, ProductTag.id == ProductTagLink.tag_id)
            .where(ProductTag.name == node.tag)
        )
    found = (await session.execute(query)).all()
    if not found:
        return None
    currency = workspace.currency.upper()
    return out.Cards(
        tuple(
            out.Card(
                title=_title(product, variant),
                subtitle=f"{format_amount(variant.price_minor, currency)} {currency}",
                image_url=variant.image or product.image,
                buttons=(
                    out.Button(
                        node.button_title,
                        payload=node_payload(node_number, variant_item(variant.id)),
                    ),
                ),
            )
            for variant, product in found
        )
    )


def _title(product: Product, variant: ProductVariant) -> str:
    options = variant_label(variant)
    return f"{product.name} ({options})"[:80] if options else product.name[:80]


async def add(session: AsyncSession, subscriber: Subscriber, variant_id: int) -> str | None:
    """Put one of the variant in the cart; answers why it could not, or None."""
    try:
        await orders.add_to_cart(
            session, subscriber.bot_id, user_ns=_user_ns(subscriber), variant_id=variant_id
        )
    except (Invalid, NotFound) as refused:
        return refused.message
    return None


async def cart_message(
    session: AsyncSession, subscriber: Subscriber, node: fmt.CartNode, node_number: int
) -> out.Text | None:
    """The cart as one message, with the choice to check out or go on; None when it is empty."""
    cart = await orders.get_cart(session, subscriber.bot_id, user_ns=_user_ns(subscriber))
    if not cart.lines:
        return None
    lines = [
        f"{line.qty} × {line.label}: {format_amount(line.line_total, cart.currency)}"
        for line in cart.lines
    ]
    total = f"Total: {format_amount(cart.total_minor, cart.currency)} {cart.currency}"
    replies = (
        out.QuickReply(node.checkout_title, node_payload(node_number, "checkout")),
        out.QuickReply(node.more_title, node_payload(node_number, "more")),
    )
    return out.Text("\n".join([*lines, total]), quick_replies=replies)


@dataclass(frozen=True)
class Placed:
    """A checkout's outcome: the variables it sets, and whether an order was placed."""

    ok: bool
    variables: dict[str, Any]


async def place_order(
    session: AsyncSession, subscriber: Subscriber, node: fmt.CheckoutNode
) -> Placed:
    try:
        order = await orders.checkout(
            session,
            subscriber.bot_id,
            user_ns=_user_ns(subscriber),
            details=Details(
                shipping_method=node.shipping_method, payment_method=node.payment_method
            ),
            status=OrderStatus(node.status),
        )
    except Invalid as refused:
        return Placed(False, {"checkout_error": refused.message})
    return Placed(True, order_variables(order))


def order_variables(order: Any) -> dict[str, Any]:
    """What flows about an order can say of it."""
    return {
        "order_id": order.id,
        "order_status": order.status,
        "order_total": f"{format_amount(order.total_minor, order.currency)} {order.currency}",
    }
