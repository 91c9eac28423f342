"""The Connect API's shapes for event webhooks and their delivery log."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from konversation.subscribers.wire import wire_time
from konversation.webhooks.models import DeliveryStatus, EventType, WebhookDelivery, WebhookEndpoint

URL_CHARS = 2048
DESCRIPTION_CHARS = 255
SHOWN_SECRET_CHARS = 10


class WebhookOut(BaseModel):
    id: int = Field(examples=[1])
    url: str = Field(examples=["https://crm.example.com/hooks/konversation"])
    description: str = Field(examples=["CRM sync"])
    events: list[EventType] = Field(examples=[["subscriber.created", "subscriber.tag_added"]])
    active: bool = Field(description="Switched off, it queues nothing new and sends nothing.")
    secret: str = Field(
        description=(
            "Keys the `X-Konversation-Signature` of every request. Whole in the answer of "
            "`create` only; elsewhere its first characters, to tell secrets apart."
        ),
        examples=["whsec_3q2-8Fk…"],
    )
    created_at: str | None = Field(examples=["2026-12-03 09:30:00"])

    @classmethod
    def of(cls, endpoint: WebhookEndpoint, *, whole_secret: bool = False) -> WebhookOut:
        secret = endpoint.secret if whole_secret else endpoint.secret[:SHOWN_SECRET_CHARS] + "…"
        return cls(
            id=endpoint.id,
            url=endpoint.url,
            description=endpoint.description,
            events=[EventType(event) for event in endpoint.events],
            active=endpoint.active,
            secret=secret,
            created_at=wire_time(endpoint.created_at),
        )


class DeliveryOut(BaseModel):
    id: int = Field(examples=[1841])
    webhook_id: int = Field(examples=[1])
    event_id: str = Field(
        description="The same on every attempt and replay: what receivers tell repeats by.",
        examples=["evt_5f0c6a2b9d3e4f1a8b7c6d5e4f3a2b1c"],
    )
    event_type: EventType
    status: DeliveryStatus
    attempts: int = Field(examples=[1])
    last_status_code: int | None = Field(description="The receiver's last answer.", examples=[200])
    last_error: str | None = Field(examples=[None])
    next_attempt_at: str | None = Field(
        description="When it is tried next, while pending.", examples=[None]
    )
    last_attempt_at: str | None = Field(examples=["2026-12-03 09:30:01"])
    delivered_at: str | None = Field(examples=["2026-12-03 09:30:01"])
    replay_of: int | None = Field(description="The delivery this one sends again.")
    created_at: str | None = Field(examples=["2026-12-03 09:30:00"])
    payload: dict[str, Any] = Field(description="The request body, exactly as posted.")

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> DeliveryOut:
        pending = delivery.status == DeliveryStatus.PENDING
        return cls(
            id=delivery.id,
            webhook_id=delivery.endpoint_id,
            event_id=delivery.event_id,
            event_type=EventType(delivery.event_type),
            status=DeliveryStatus(delivery.status),
            attempts=delivery.attempts,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            next_attempt_at=wire_time(delivery.next_attempt_at) if pending else None,
            last_attempt_at=wire_time(delivery.last_attempt_at),
            delivered_at=wire_time(delivery.delivered_at),
            replay_of=delivery.replay_of,
            created_at=wire_time(delivery.created_at),
            payload=delivery.payload,
        )


# Requests


class CreateWebhookIn(BaseModel):
    url: str = Field(max_length=URL_CHARS, examples=["https://crm.example.com/hooks/konversation"])
    events: list[EventType] = Field(
        min_length=1, max_length=len(EventType), examples=[["subscriber.created"]]
    )
    description: str = Field(default="", max_length=DESCRIPTION_CHARS, examples=["CRM sync"])


class UpdateWebhookIn(BaseModel):
    id: int = Field(description="The webhook.", examples=[1])
    url: str | None = Field(default=None, max_length=URL_CHARS)
    events: list[EventType] | None = Field(default=None, min_length=1, max_length=len(EventType))
    description: str | None = Field(default=None, max_length=DESCRIPTION_CHARS)
    active: bool | None = None


class WebhookIdIn(BaseModel):
    id: int = Field(description="The webhook.", examples=[1])


class ReplayIn(BaseModel):
    delivery_id: int = Field(description="The delivery whose event is sent again.", examples=[1])
