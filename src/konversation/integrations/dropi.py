"""Dropi (dropshipping and fulfilment): a paid order is created in the workspace's Dropi
account, and Dropi's id for it is kept with the call (`dropi_order_id`).

Dropi documents no public order API we could follow, so the call is ours, plain and stable:

    POST {url}/api/orders
    dropi-integration-key: {api_key}
    Idempotency-Key: konversation-order-<id>
    {"external_id": "konversation-order-<id>", "currency": "COP", "total": 59900.0,
     "shipping_method": "delivery", "payment_method": "card", "note": null,
     "customer": {"name", "phone", "email", "address", "city", "state", "postcode", "country"},
     "items": [{"sku", "name", "variant", "quantity", "unit_price"}]}

answered 2xx with `{"id": ...}` (or `{"order": {"id": ...}}`). The same `external_id` and
Idempotency-Key go with every attempt, so Dropi can tell a retry from a new order. The URL is
the owner's, so it is checked before each attempt: it may not lead into private networks.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.commerce.money import from_minor
from konversation.integrations.calls import Call, Context, Done, Failure, find
from konversation.integrations.kinds import Kind
from konversation.integrations.paid import PaidOrder, load_order, order_key
from konversation.webhooks.addresses import Refused, check_reachable

KEY_HEADER = "dropi-integration-key"


async def create_order(context: Context, call: Call) -> Done:
    async with context.sessions() as session:
        paid = await load_order(session, call.workspace_id, int(call.subject["order_id"]))
    url = f"{str(call.settings['url']).rstrip('/')}/api/orders"
    try:
        await check_reachable(url, context.allowed)
    except Refused as refused:
        raise Failure(str(refused), retryable=False) from refused
    external_id = f"konversation-order-{paid.order.id}"
    headers = {KEY_HEADER: str(call.settings["api_key"]), "Idempotency-Key": external_id}
    try:
        answer = await context.http.post(url, json=order_body(paid), headers=headers)
    except httpx.HTTPError as failure:
        raise Failure(
            f"Dropi could not be reached ({type(failure).__name__})", retryable=True
        ) from failure
    if not answer.is_success:
        retryable = answer.status_code >= 500 or answer.status_code in {408, 429}
        retry_after = answer.headers.get("Retry-After", "")
        raise Failure(
            f"Dropi answered {answer.status_code}",
            retryable=retryable,
            status_code=answer.status_code,
            retry_after=int(retry_after) if retry_after.isdigit() else None,
        )
    dropi_id = _order_id(answer)
    if dropi_id is None:
        raise Failure("Dropi's answer named no order id.", retryable=False)
    return Done(external_id=dropi_id, result={"dropi_order_id": dropi_id})


def order_body(paid: PaidOrder) -> dict[str, Any]:
    order, person = paid.order, paid.subscriber
    name = order.name or (person.name if person else None)
    return {
        "external_id": f"konversation-order-{order.id}",
        "currency": order.currency.upper(),
        "total": float(from_minor(order.total_minor, order.currency)),
        "shipping_method": order.shipping_method,
        "payment_method": order.payment_method,
        "note": order.note,
        "customer": {
            "name": name,
            "phone": order.phone or (person.phone if person else None),
            "email": order.email or (person.email if person else None),
            "address": order.address,
            "city": order.suburb,
            "state": order.state,
            "postcode": order.postcode,
            "country": order.country,
        },
        "items": [
            {
                "sku": item.sku,
                "name": item.product_name,
                "variant": item.variant_name,
                "quantity": item.qty,
                "unit_price": float(from_minor(item.unit_price_minor, order.currency)),
            }
            for item in paid.items
        ],
    }


async def dropi_order_id(session: AsyncSession, workspace_id: int, order_id: int) -> str | None:
    """Dropi's id of one of our orders, once it was created there."""
    call = await find(session, workspace_id, Kind.DROPI, order_key(order_id))
    return call.external_id if call is not None else None


def _order_id(answer: httpx.Response) -> str | None:
    try:
        body = answer.json()
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("order"), dict):
        body = body["order"]
    found = body.get("id") if isinstance(body, dict) else None
    return str(found) if found not in (None, "") else None
