"""Importing a connected store's products into the catalogue: start an import, follow it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from konversation.integrations import shop_import
from konversation.integrations.kinds import SPECS, Kind
from konversation.integrations.shop_import_wire import ImportOut
from konversation.wire import envelope
from konversation.wire.auth import ManageTeam
from konversation.wire.envelope import DataOut
from konversation.wire.errors import wire_errors
from konversation.wire.outbound import AllowedNetworks
from konversation.wire.session import Session

router = APIRouter(tags=["Integration"])

ERRORS = wire_errors(401, 403, 404, 422)
STORES = (Kind.SHOPIFY, Kind.WOOCOMMERCE)


def _add_import_routes(kind: Kind) -> None:
    title = SPECS[kind].title
    path = f"/integration/{kind.value}/import"

    async def start(
        key: ManageTeam, session: Session, request: Request, allowed: AllowedNetworks
    ) -> DataOut[ImportOut]:
        job = await shop_import.start_import(
            session,
            request.app.state.server_secret,
            key.workspace_id,
            kind,
            allowed=allowed,
        )
        return envelope.one(ImportOut.of(job))

    async def follow(
        key: ManageTeam,
        session: Session,
        import_id: Annotated[int, Query(description="The id the start answered.", examples=[7])],
    ) -> DataOut[ImportOut]:
        job = await shop_import.get_import(session, key.workspace_id, kind, import_id)
        return envelope.one(ImportOut.of(job))

    router.add_api_route(
        path,
        start,
        methods=["POST"],
        name=f"start_{kind.value}_import",
        responses=ERRORS,
        summary=f"Import the {title} store's products into the catalogue",
        description=(
            f"Starts reading every product of the connected {title} store in the background "
            "and answers at once with the import's id. Products imported before are updated, "
            "never doubled (they are matched by their id in the store). The store must be "
            "reached over https at a public address, unless the server allows its network. "
            "422 when the integration is not connected or its url may not be called."
        ),
    )
    router.add_api_route(
        path,
        follow,
        methods=["GET"],
        name=f"follow_{kind.value}_import",
        responses=ERRORS,
        summary=f"Follow a {title} import",
        description="How far the import has got: its status and what became of the products.",
    )


for _kind in STORES:
    _add_import_routes(_kind)
