"""The Event Webhook group: a bot's outbound webhooks, their delivery log and replays."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from konversation.webhooks import service
from konversation.webhooks.delivery import BACKOFF, MAX_ATTEMPTS
from konversation.webhooks.models import DeliveryStatus, EventType
from konversation.webhooks.wire import (
    CreateWebhookIn,
    DeliveryOut,
    ReplayIn,
    UpdateWebhookIn,
    WebhookIdIn,
    WebhookOut,
)
from konversation.wire import envelope
from konversation.wire.auth import ManageFlow
from konversation.wire.envelope import DataOut, OkOut, PageOut
from konversation.wire.errors import wire_errors
from konversation.wire.outbound import AllowedNetworks
from konversation.wire.params import PageParams
from konversation.wire.session import Session

router = APIRouter()

ERRORS = wire_errors(401, 403, 404, 422)
TAG = "Event Webhook"
_RETRIES = (
    f"waits growing from {BACKOFF[0]} seconds to {BACKOFF[-1] // 3600} hours, "
    f"{MAX_ATTEMPTS} attempts over about {sum(BACKOFF) // 3600} hours"
)


@router.get(
    "/event-webhooks",
    tags=[TAG],
    responses=ERRORS,
    summary="List the bot's event webhooks",
    description="Secrets are shown by their first characters only.",
)
async def event_webhooks(
    key: ManageFlow, session: Session, paging: PageParams
) -> PageOut[WebhookOut]:
    endpoints, total = await service.list_endpoints(session, key.bot_id, paging)
    return envelope.page([WebhookOut.of(e) for e in endpoints], total=total, window=paging)


@router.post(
    "/event-webhook/create",
    tags=[TAG],
    responses=ERRORS,
    summary="Post the bot's events to a URL",
    description=(
        "From now on, every event of the listed types is posted to `url` as JSON, signed with "
        "the secret in this answer (the only time it is shown whole): the header "
        "`X-Konversation-Signature` is `sha256=` and the hex HMAC-SHA256 of the "
        "`X-Konversation-Timestamp` header, a dot and the raw body. Any 2xx answer takes the "
        f"event; otherwise it is tried again after {_RETRIES}. "
        "`X-Konversation-Event-Id` is the same on every attempt, so repeats are easy to drop. "
        "URLs leading to loopback, private or link-local addresses are refused unless the "
        f"server allows their network. A bot has at most {service.MAX_ENDPOINTS_PER_BOT}."
    ),
)
async def event_webhook_create(
    body: CreateWebhookIn, key: ManageFlow, session: Session, allowed: AllowedNetworks
) -> DataOut[WebhookOut]:
    endpoint = await service.create_endpoint(
        session,
        key.bot_id,
        url=body.url,
        events=body.events,
        description=body.description,
        allowed=allowed,
    )
    return envelope.one(WebhookOut.of(endpoint, whole_secret=True))


@router.put(
    "/event-webhook/update",
    tags=[TAG],
    responses=ERRORS,
    summary="Change an event webhook",
    description=(
        "Changes what is sent. A webhook switched off (`active` false) queues no new events; "
        "those already queued wait until it is switched on again."
    ),
)
async def event_webhook_update(
    body: UpdateWebhookIn, key: ManageFlow, session: Session, allowed: AllowedNetworks
) -> DataOut[WebhookOut]:
    endpoint = await service.update_endpoint(
        session,
        key.bot_id,
        body.id,
        allowed=allowed,
        url=body.url,
        events=body.events,
        description=body.description,
        active=body.active,
    )
    return envelope.one(WebhookOut.of(endpoint))


@router.delete(
    "/event-webhook/delete",
    tags=[TAG],
    responses=ERRORS,
    summary="Remove an event webhook",
    description="Its queued events and its delivery log go with it.",
)
async def event_webhook_delete(body: WebhookIdIn, key: ManageFlow, session: Session) -> OkOut:
    await service.delete_endpoint(session, key.bot_id, body.id)
    return envelope.ok()


@router.get(
    "/event-webhook/deliveries",
    tags=[TAG],
    responses=ERRORS,
    summary="The delivery log",
    description=(
        "Every event posted or waiting to be, newest first, with the outcome of its last "
        "attempt and the body exactly as sent."
    ),
)
async def event_webhook_deliveries(
    key: ManageFlow,
    session: Session,
    paging: PageParams,
    webhook_id: Annotated[int | None, Query(description="Only this webhook's.")] = None,
    status: Annotated[DeliveryStatus | None, Query(description="Only in this state.")] = None,
    event_type: Annotated[EventType | None, Query(description="Only of this type.")] = None,
) -> PageOut[DeliveryOut]:
    deliveries, total = await service.list_deliveries(
        session,
        key.bot_id,
        paging,
        endpoint_id=webhook_id,
        status=status,
        event_type=event_type,
    )
    return envelope.page([DeliveryOut.of(d) for d in deliveries], total=total, window=paging)


@router.post(
    "/event-webhook/replay",
    tags=[TAG],
    responses=ERRORS,
    summary="Send an event again",
    description=(
        "Queues the delivery's event for its webhook once more, under the same event id, as a "
        "new entry of the log; the first keeps its own outcome. For a receiver that lost "
        "events, or one that failed every attempt while it was down."
    ),
)
async def event_webhook_replay(
    body: ReplayIn, key: ManageFlow, session: Session
) -> DataOut[DeliveryOut]:
    again = await service.replay(session, key.bot_id, body.delivery_id)
    return envelope.one(DeliveryOut.of(again))
