"""The OpenAPI document at `/api-docs`, laid out as the original API's: paths relative to `/api`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from konversation.wire.router import API_PREFIX

GROUPS = (
    ("Flow", "Sub flows, start flows, agents and flow-level settings of the key's bot."),
    ("Flow Tag", "Tags that label subscribers."),
    ("Flow User Field", "Definitions of the fields kept per subscriber."),
    ("Flow Bot Field", "Fields kept once per bot, with their values."),
    ("Flow Segment", "Saved subscriber filters."),
    ("Flow Custom Events", "Events subscribers log, with their values and daily figures."),
    ("Flow Conversation", "Closed conversations and what agents did in them."),
    ("Subscriber", "A bot's subscribers: details, tags, fields, labels, state and messages."),
    (
        "Sending",
        "Messages, flows and nodes to a subscriber, email and SMS, and broadcasts to many.",
    ),
    ("Ecommerce", "The shop: catalogue and discount codes (Manage Team), carts and orders."),
    ("Team Label", "Workspace-wide labels for subscribers; the key needs Manage Team."),
    ("Workspace", "Workspace-wide reads; the key needs the Manage Team permission."),
    ("User", "The person behind the key."),
)

DESCRIPTION = """\
The Konversation Connect API. Every call carries an API key as a Bearer token:
`Authorization: Bearer kv_...`. Create keys with `konversation keys create`.

Answers are JSON: actions answer `{"status": "ok"}`, single objects `{"data": {...}}`, and
lists `{"data": [...], "meta": {...}}` with `limit` (at most 100) and `page` (from 1).
Errors carry a `message`; validation errors (422) add `errors` with per-field messages.
DELETE operations also accept their fields in the query string, or as a POST with the
header `X-HTTP-Method-Override: DELETE`.

Each key may make so many calls a second of each class of operation: reads (GET), sends
(`send-*` and `broadcast*`) and other writes; by default 100, 25 and 10. Every answer says
where the key stands: `RateLimit-Limit` (calls allowed in this second for the class),
`RateLimit-Remaining` and `RateLimit-Reset` (seconds until the count starts again). A call
over the limit is answered 429 `Too Many Attempts.` with `Retry-After` seconds, and nothing
of it is done.

Every POST takes an optional `Idempotency-Key` header (1 to 255 visible characters): sent
again with the same key within 24 hours, the same request is answered as the first time, with
`Idempotent-Replayed: true`, and nothing is done again: no second message, order or
broadcast. The same key on a different request is refused with 422.
"""

_RATE_HEADERS = {
    "RateLimit-Limit": "Calls allowed in the current second for this class of operation.",
    "RateLimit-Remaining": "Calls left in the current second for this class of operation.",
    "RateLimit-Reset": "Seconds until the count for this class starts again.",
}
_RETRY_AFTER = "Seconds to wait before calling again."


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=DESCRIPTION,
                routes=app.routes,
                tags=[{"name": name, "description": text} for name, text in GROUPS],
                servers=[{"url": API_PREFIX}],
            )
            schema["paths"] = {
                path.removeprefix(API_PREFIX): item for path, item in schema["paths"].items()
            }
            schema["security"] = [{"API KEY": []}]
            document_rate_limits(schema)
            document_idempotency(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document_rate_limits(schema: dict[str, Any]) -> None:
    """Give every operation its 429 answer, and every answer the rate limit headers."""
    headers = schema.setdefault("components", {}).setdefault("headers", {})
    for name, description in {**_RATE_HEADERS, "Retry-After": _RETRY_AFTER}.items():
        headers[name] = {"description": description, "schema": {"type": "integer"}}
    refs = {name: {"$ref": f"#/components/headers/{name}"} for name in _RATE_HEADERS}
    for item in schema["paths"].values():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            responses.setdefault(
                "429",
                {
                    "description": "Too many calls of this class in this second.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}
                    },
                },
            )
            for code, response in responses.items():
                extra = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
                response.setdefault("headers", {}).update(
                    {**refs, **(extra if code == "429" else {})}
                )


def document_idempotency(schema: dict[str, Any]) -> None:
    """Give every POST its optional `Idempotency-Key` header."""
    parameter = {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "Repeat the request safely: within 24 hours the first answer is given "
        "again and nothing is done twice.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    }
    for item in schema["paths"].values():
        if "post" in item:
            item["post"].setdefault("parameters", []).append(parameter)
