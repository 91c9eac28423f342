"""Installed mini-apps: the Integration group's list and API key operations, our own install,
info and uninstall, and the Mini-App group's trigger."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.audit import service as audit
from konversation.audit.service import Action
from konversation.keys.service import KeyContext
from konversation.miniapps import service, triggers
from konversation.miniapps.models import InstalledApp
from konversation.miniapps.wire import (
    FireTriggerIn,
    InstallAppIn,
    InstalledAppDetailOut,
    InstalledAppOut,
    UpdateApiKeyIn,
)
from konversation.sending.routes import FlowEngine
from konversation.wire import envelope
from konversation.wire.auth import ManageFlow, ManageTeam
from konversation.wire.envelope import DataOut, OkOut, PageOut
from konversation.wire.errors import wire_errors
from konversation.wire.outbound import AllowedNetworks
from konversation.wire.params import BlankIsNone, PageParams
from konversation.wire.session import Session, actor_of

router = APIRouter()

LIST = wire_errors(401, 403, 422)
ONE = wire_errors(401, 403, 404, 422)
INSTALL = wire_errors(401, 403, 409, 422)
AppId = Annotated[int, Path(description="The installed app's id.", examples=[1])]
_KEY = (
    "The key is sealed at rest and sent to the app as `Authorization: Bearer <key>` whenever a "
    "flow's `call_app` action calls it; no answer ever shows it (`has_api_key` tells whether "
    "one is set)."
)


def _audit(
    session: AsyncSession, request: Request, key: KeyContext, app: InstalledApp, **details: object
) -> None:
    """Log a change to an app as integration saves are logged: what changed, never a key."""
    audit.record(
        session,
        Action.INTEGRATION_SAVED,
        actor_of(request, key),
        workspace_id=key.workspace_id,
        target=request.url.path.removeprefix("/api"),
        details={"app_ns": app.app_ns, **details},
    )


@router.get(
    "/installed-mini-app/list",
    tags=["Integration"],
    responses=LIST,
    summary="List the workspace's installed mini apps",
    description="Oldest first, paginated.",
)
async def installed_mini_apps(
    key: ManageTeam,
    session: Session,
    paging: PageParams,
    title: Annotated[
        str | None, BlankIsNone, Query(description="Only apps whose title contains this.")
    ] = None,
) -> PageOut[InstalledAppOut]:
    apps, total = await service.list_apps(session, key.workspace_id, title=title, window=paging)
    return envelope.page([InstalledAppOut.of(app) for app in apps], total=total, window=paging)


@router.post(
    "/installed-mini-app/update-api-key/{app_id}",
    tags=["Integration"],
    responses=ONE,
    summary="Set an installed mini app's API key",
    description=f"Replaces the key of an app whose `auth_type` is `apikey`; for any other app "
    f"the answer is 422 and nothing changes. 404 for an app not installed in the key's "
    f"workspace. {_KEY}",
)
async def update_mini_app_api_key(
    app_id: AppId, body: UpdateApiKeyIn, key: ManageTeam, session: Session, request: Request
) -> OkOut:
    secret: bytes = request.app.state.server_secret
    app = await service.set_api_key(session, secret, key.workspace_id, app_id, body.api_key)
    _audit(session, request, key, app, settings=["api_key"])
    return envelope.ok()


@router.post(
    "/installed-mini-app/install",
    tags=["Integration"],
    responses=INSTALL,
    summary="Install a mini app (ours)",
    description="An app is an HTTP service at `base_url` (public, or in the server's allowed "
    "networks) with named `actions` that flows call (`call_app`: the action's method, at "
    "`base_url` + its `path`) and `triggers` it fires for subscribers "
    "(`POST /subscriber/app-trigger`). `app_ns` is unique in the workspace: installing it "
    "again answers 409. An `apikey` app is called once its key is set with update-api-key.",
)
async def install_mini_app(
    body: InstallAppIn,
    key: ManageTeam,
    session: Session,
    allowed: AllowedNetworks,
    request: Request,
) -> DataOut[InstalledAppDetailOut]:
    app = await service.install(session, key.workspace_id, body.declaration(), allowed=allowed)
    _audit(session, request, key, app, base_url=app.base_url)
    return envelope.one(InstalledAppDetailOut.of(app))


@router.get(
    "/installed-mini-app/{app_id}",
    tags=["Integration"],
    responses=ONE,
    summary="An installed mini app and what it declared (ours)",
    description="Its `base_url`, actions and triggers besides what the list shows.",
)
async def installed_mini_app(
    app_id: AppId, key: ManageTeam, session: Session
) -> DataOut[InstalledAppDetailOut]:
    app = await service.get_app(session, key.workspace_id, app_id)
    return envelope.one(InstalledAppDetailOut.of(app))


@router.delete(
    "/installed-mini-app/{app_id}/uninstall",
    tags=["Integration"],
    responses=ONE,
    summary="Uninstall a mini app (ours)",
    description="Its key goes with it. Flows that call it go on at their `on_error`; flows it "
    "triggered are not started by it any more.",
)
async def uninstall_mini_app(app_id: AppId, key: ManageTeam, session: Session) -> OkOut:
    await service.uninstall(session, key.workspace_id, app_id)
    return envelope.ok()


@router.post(
    "/subscriber/app-trigger",
    tags=["Mini-App"],
    responses=ONE,
    summary="Fire a mini app's trigger for the subscriber",
    description="Starts every flow of the key's bot with an app trigger for it (`{app_ns, "
    "trigger_name}` in the flow's `triggers`), with the keys of `context` set as variables "
    "(`{{product_id}}`). `trigger_name` is `<app_ns>:<trigger>`, or a bare trigger name that "
    "exactly one of the workspace's installed apps declares. 404 for an unknown subscriber; "
    "422 (on `trigger_name`) when no installed app declares the trigger or several do; 422 "
    "(on `user_ns`) when the subscriber has unsubscribed or the bot is paused for them. The "
    "answer's `started` counts the flows started (none listening is fine).",
)
async def app_trigger(
    body: FireTriggerIn, key: ManageFlow, session: Session, engine: FlowEngine
) -> OkOut:
    started = await triggers.fire(
        session,
        engine,
        key,
        user_ns=body.user_ns,
        trigger_name=body.trigger_name,
        context=body.context or {},
    )
    return envelope.ok(started=started)
