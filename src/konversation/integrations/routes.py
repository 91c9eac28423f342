"""The Integration group's settings operations: read, save and clear, one triple per service."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from konversation.audit import service as audit
from konversation.audit.service import Action
from konversation.integrations import service
from konversation.integrations.kinds import SPECS, Kind
from konversation.integrations.wire import (
    DropiIn,
    DropiOut,
    MetaConversionsIn,
    MetaConversionsOut,
    OpenAIIn,
    OpenAIOut,
    S3StorageIn,
    S3StorageOut,
    ShopifyIn,
    ShopifyOut,
    WooCommerceIn,
    WooCommerceOut,
)
from konversation.wire import envelope
from konversation.wire.auth import ManageTeam
from konversation.wire.envelope import DataOut, OkOut
from konversation.wire.errors import wire_errors
from konversation.wire.session import Session, actor_of

router = APIRouter(tags=["Integration"])

READ = wire_errors(401, 403)
SAVE = wire_errors(401, 403, 422)

SHAPES: dict[Kind, tuple[type[BaseModel], type[BaseModel]]] = {
    Kind.SHOPIFY: (ShopifyIn, ShopifyOut),
    Kind.WOOCOMMERCE: (WooCommerceIn, WooCommerceOut),
    Kind.DROPI: (DropiIn, DropiOut),
    Kind.META_CONVERSIONS: (MetaConversionsIn, MetaConversionsOut),
    Kind.OPENAI: (OpenAIIn, OpenAIOut),
    Kind.S3: (S3StorageIn, S3StorageOut),
}


def _add_settings_routes(kind: Kind, body_model: type[BaseModel], out: type[BaseModel]) -> None:
    title = SPECS[kind].title
    path = f"/integration/{kind.value}"

    async def shown(session: Session, workspace_id: int) -> DataOut[Any]:
        return envelope.one(out.model_validate(await service.masked(session, workspace_id, kind)))

    async def read(key: ManageTeam, session: Session) -> DataOut[Any]:
        return await shown(session, key.workspace_id)

    async def save(body: Any, key: ManageTeam, session: Session, request: Request) -> DataOut[Any]:
        values = body.model_dump()
        await service.save(session, request.app.state.server_secret, key.workspace_id, kind, values)
        audit.record(
            session,
            Action.INTEGRATION_SAVED,
            actor_of(request, key),
            workspace_id=key.workspace_id,
            target=path,
            details={"settings": sorted(k for k, v in values.items() if v not in (None, ""))},
        )
        return await shown(session, key.workspace_id)

    async def clear(key: ManageTeam, session: Session) -> OkOut:
        await service.clear(session, key.workspace_id, kind)
        return envelope.ok()

    # The handlers are shared by every service; each one's own shapes are set here, where
    # FastAPI reads them to parse the body and to document the operation.
    save.__annotations__["body"] = body_model
    slug = kind.value.replace("-", "_")
    router.add_api_route(
        path,
        read,
        methods=["GET"],
        name=f"read_{slug}",
        response_model=DataOut[out],  # type: ignore[valid-type]
        responses=READ,
        summary=f"Read the {title} integration",
        description="Secrets are shown masked; `status` tells whether it is connected.",
    )
    router.add_api_route(
        path,
        save,
        methods=["POST"],
        name=f"save_{slug}",
        response_model=DataOut[out],  # type: ignore[valid-type]
        responses=SAVE,
        summary=f"Connect or reconfigure {title}",
        description=(
            "Replaces the saved settings. Secrets are encrypted at rest; a secret sent back as "
            "the mask that reading shows keeps the stored one."
        ),
    )
    router.add_api_route(
        path,
        clear,
        methods=["DELETE"],
        name=f"clear_{slug}",
        responses=READ,
        summary=f"Disconnect {title}",
        description="Forgets every saved setting of it; clearing what is not connected is fine.",
    )


for _kind, (_body, _out) in SHAPES.items():
    _add_settings_routes(_kind, _body, _out)
