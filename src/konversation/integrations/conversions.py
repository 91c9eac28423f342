"""Meta's Conversions API: a paid order becomes a `Purchase` server event of the workspace's
dataset.

    POST {graph_api_base}/{dataset_id}/events?access_token={token}
    {"data": [{"event_name": "Purchase", "event_time": <unix seconds of the payment>,
               "event_id": "konversation-order-<id>", "action_source": "chat",
               "user_data": {"em": [sha256], "ph": [sha256], "fn": [...], "ln": [...],
                             "ct": [...], "st": [...], "zp": [...], "country": [...],
                             "external_id": [sha256]},
               "custom_data": {"currency": "usd", "value": 25.0, "order_id": "<id>",
                               "content_type": "product", "num_items": 2,
                               "contents": [{"id": "<sku>", "quantity": 2, "item_price": 12.5}]}}]}

`event_id` is the same on every attempt, so Meta keeps one event should a retry follow an
answer that was lost. Customer details are normalised as Meta asks before hashing with SHA-256:
emails trimmed and lowercased; phones as digits only, with the country code and no leading
zeros; names, city and state lowercased without punctuation or spaces; postcodes lowercased
without spaces or dashes; countries as lowercase two-letter codes. The event's `action_source`
is `chat` (the order belongs to a conversation), or `system_generated` once its subscriber is
deleted.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

import httpx

from konversation.commerce.money import from_minor
from konversation.integrations.calls import Call, Context, Done, Failure
from konversation.integrations.paid import PaidOrder, load_order

# Graph API error codes that say "try again later": unknown, service, rate limits.
TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 341, 613})


async def send_purchase(context: Context, call: Call) -> Done:
    async with context.sessions() as session:
        paid = await load_order(session, call.workspace_id, int(call.subject["order_id"]))
    dataset = str(call.settings["dataset_id"])
    url = f"{context.graph_api_base.rstrip('/')}/{dataset}/events"
    body = {"data": [purchase_event(paid)]}
    try:
        answer = await context.http.post(
            url, params={"access_token": str(call.settings["token"])}, json=body
        )
    except httpx.HTTPError as failure:
        # The URL stays out of the message: it holds the access token.
        raise Failure(
            f"The Graph API could not be reached ({type(failure).__name__})", retryable=True
        ) from failure
    if answer.is_success:
        received = answer.json()
        return Done(
            external_id=received.get("fbtrace_id"),
            result={"events_received": received.get("events_received")},
        )
    raise _graph_failure(answer)


def purchase_event(paid: PaidOrder) -> dict[str, Any]:
    order = paid.order
    paid_at = order.paid_at or order.created_at
    contents = [
        {
            "id": item.sku or f"variant-{item.variant_id}",
            "quantity": item.qty,
            "item_price": float(from_minor(item.unit_price_minor, order.currency)),
        }
        for item in paid.items
    ]
    return {
        "event_name": "Purchase",
        "event_time": int(paid_at.timestamp()),
        "event_id": f"konversation-order-{order.id}",
        "action_source": "chat" if paid.subscriber is not None else "system_generated",
        "user_data": user_data(paid),
        "custom_data": {
            "currency": order.currency.lower(),
            "value": float(from_minor(order.total_minor, order.currency)),
            "order_id": str(order.id),
            "content_type": "product",
            "num_items": sum(item.qty for item in paid.items),
            "contents": contents,
        },
    }


def user_data(paid: PaidOrder) -> dict[str, list[str]]:
    order, person = paid.order, paid.subscriber
    first, last = _names(paid)
    given = {
        "em": normal_email(order.email or (person.email if person else None)),
        "ph": normal_phone(order.phone or (person.phone if person else None)),
        "fn": normal_text(first),
        "ln": normal_text(last),
        "ct": normal_text(order.suburb),
        "st": normal_text(order.state),
        "zp": normal_postcode(order.postcode),
        "country": normal_country(order.country),
        "external_id": paid.user_ns,
    }
    return {name: [sha256(value)] for name, value in given.items() if value}


def _names(paid: PaidOrder) -> tuple[str | None, str | None]:
    if paid.subscriber is not None and (paid.subscriber.first_name or paid.subscriber.last_name):
        return paid.subscriber.first_name or None, paid.subscriber.last_name or None
    first, _, last = (paid.order.name or "").strip().partition(" ")
    return first or None, last or None


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normal_email(value: str | None) -> str | None:
    return value.strip().lower() or None if value else None


def normal_phone(value: str | None) -> str | None:
    digits = "".join(ch for ch in value or "" if ch.isdigit()).lstrip("0")
    return digits or None


def normal_text(value: str | None) -> str | None:
    """Lowercase, without punctuation, symbols or spaces; letters of any script are kept."""
    kept = "".join(
        ch for ch in (value or "").lower() if unicodedata.category(ch)[0] not in {"P", "S", "Z"}
    )
    return kept.strip() or None


def normal_postcode(value: str | None) -> str | None:
    return "".join(ch for ch in (value or "").lower() if ch not in " -") or None


def normal_country(value: str | None) -> str | None:
    code = (value or "").strip().lower()
    return code if len(code) == 2 and code.isalpha() else None


def _graph_failure(answer: httpx.Response) -> Failure:
    try:
        error = answer.json().get("error", {})
    except ValueError:
        error = {}
    code = error.get("code") if isinstance(error, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    retryable = answer.status_code >= 500 or answer.status_code == 429 or code in TRANSIENT_CODES
    return Failure(
        f"The Graph API answered {answer.status_code}: {message or answer.reason_phrase}",
        retryable=retryable,
        status_code=answer.status_code,
    )
