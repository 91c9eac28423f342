"""Installed mini-apps: installing and removing them, their API key, and what flows need of
them (the trigger an app fires, the HTTP call of one of its actions).

An app is installed once per workspace, under its `app_ns`. Its key is sealed at rest and only
ever opened to call the app.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.db import PageRequest, contains_text, fetch_page
from konversation.errors import Conflict, Invalid, KonversationError, NotFound
from konversation.integrations.secrets import seal, unseal
from konversation.miniapps.models import AuthType, InstalledApp
from konversation.runtime.templates import as_text
from konversation.webhooks.addresses import Network, Refused, check_reachable
from konversation.workspaces.models import Bot

log = logging.getLogger(__name__)

APP_NOT_FOUND = "Mini app not found"
# Which app fires a trigger can be said as `<app_ns>:<trigger name>`.
QUALIFIER = ":"
# Methods whose params travel in the query string; the others send them as a JSON body.
QUERY_METHODS = frozenset({"GET", "DELETE"})


@dataclass(frozen=True)
class AppAction:
    name: str
    method: str
    path: str
    param_names: Sequence[str] = ()


@dataclass(frozen=True)
class AppTrigger:
    name: str
    description: str = ""


@dataclass(frozen=True)
class Declaration:
    """What an app says of itself when it is installed."""

    app_ns: str
    title: str
    base_url: str
    auth_type: AuthType = AuthType.API_KEY
    intro: str = ""
    logo: str | None = None
    image: str | None = None
    version: str = "1.0"
    param_names: Sequence[str] = ()
    actions: Sequence[AppAction] = ()
    triggers: Sequence[AppTrigger] = ()


class CallRefused(KonversationError):
    """A flow's call of an app cannot be made."""


@dataclass(frozen=True)
class AppCall:
    """An HTTP request to an app, ready to send."""

    method: str
    url: str
    headers: Mapping[str, str]
    query: Mapping[str, str] | None
    json: Mapping[str, Any] | None


# Installing


async def install(
    session: AsyncSession, workspace_id: int, app: Declaration, *, allowed: Sequence[Network]
) -> InstalledApp:
    """Install the app; 409 when the workspace has one of that `app_ns` already."""
    if await _by_ns(session, workspace_id, app.app_ns) is not None:
        raise Conflict(f"A mini app with the app_ns {app.app_ns} is installed already.")
    try:
        await check_reachable(app.base_url, allowed)
    except Refused as refused:
        raise Invalid.field("base_url", str(refused)) from refused
    installed = InstalledApp(
        workspace_id=workspace_id,
        app_ns=app.app_ns,
        title=app.title,
        intro=app.intro,
        logo=app.logo,
        image=app.image,
        version=app.version,
        auth_type=app.auth_type,
        base_url=app.base_url,
        param_names=list(app.param_names),
        actions=[
            {"name": a.name, "method": a.method, "path": a.path, "param_names": list(a.param_names)}
            for a in app.actions
        ],
        triggers=[{"name": t.name, "description": t.description} for t in app.triggers],
    )
    session.add(installed)
    await session.flush()
    return installed


async def uninstall(session: AsyncSession, workspace_id: int, app_id: int) -> None:
    await session.delete(await get_app(session, workspace_id, app_id))
    await session.flush()


async def get_app(session: AsyncSession, workspace_id: int, app_id: int) -> InstalledApp:
    """The workspace's app `app_id`; another workspace's is as unknown as a missing one."""
    app = await session.scalar(
        select(InstalledApp).where(
            InstalledApp.id == app_id, InstalledApp.workspace_id == workspace_id
        )
    )
    if app is None:
        raise NotFound(APP_NOT_FOUND)
    return app


async def list_apps(
    session: AsyncSession, workspace_id: int, *, title: str | None, window: PageRequest
) -> tuple[Sequence[InstalledApp], int]:
    query = select(InstalledApp).where(InstalledApp.workspace_id == workspace_id)
    if title:
        query = query.where(contains_text(InstalledApp.title, title))
    return await fetch_page(session, query.order_by(InstalledApp.id), window)


async def set_api_key(
    session: AsyncSession, server_secret: bytes, workspace_id: int, app_id: int, api_key: str
) -> InstalledApp:
    """Keep the key the app is called with, sealed; only apps authorised by key take one."""
    app = await get_app(session, workspace_id, app_id)
    if app.auth_type != AuthType.API_KEY:
        raise Invalid.field(
            "api_key",
            f"The mini app {app.app_ns} is authorised by {app.auth_type}, not by an API key.",
        )
    app.sealed_api_key = seal(server_secret, api_key)
    await session.flush()
    return app


async def _by_ns(session: AsyncSession, workspace_id: int, app_ns: str) -> InstalledApp | None:
    return await session.scalar(
        select(InstalledApp).where(
            InstalledApp.workspace_id == workspace_id, InstalledApp.app_ns == app_ns
        )
    )


# Triggers


async def declared_trigger(
    session: AsyncSession, workspace_id: int, trigger_name: str
) -> tuple[str, str]:
    """The app and trigger `trigger_name` names: `<app_ns>:<name>`, or a name that exactly one
    installed app declares. Answers `(app_ns, name)`; 422 on `trigger_name` otherwise."""
    wanted_app, _, name = trigger_name.strip().rpartition(QUALIFIER)
    query = select(InstalledApp).where(InstalledApp.workspace_id == workspace_id)
    if wanted_app:
        query = query.where(InstalledApp.app_ns == wanted_app)
    apps = (await session.scalars(query.order_by(InstalledApp.id))).all()
    declaring = [app.app_ns for app in apps if any(t["name"] == name for t in app.triggers)]
    if not declaring:
        raise Invalid.field(
            "trigger_name", f"No installed mini app declares the trigger {trigger_name}."
        )
    if len(declaring) > 1:
        choices = ", ".join(f"{ns}{QUALIFIER}{name}" for ns in declaring)
        raise Invalid.field(
            "trigger_name",
            f"Several installed mini apps declare the trigger {name}: name one of {choices}.",
        )
    return declaring[0], name


# Calling an app's action


async def prepare_call(
    session: AsyncSession,
    server_secret: bytes,
    bot_id: int,
    *,
    app_ns: str,
    action_name: str,
    params: Mapping[str, Any],
) -> AppCall:
    """The request that calls `action_name` of the bot's workspace's app `app_ns` with
    `params` (only those the action declares). Raises `CallRefused` when it cannot be made."""
    workspace_id = await session.scalar(select(Bot.workspace_id).where(Bot.id == bot_id))
    app = None if workspace_id is None else await _by_ns(session, workspace_id, app_ns)
    if app is None:
        raise CallRefused(f"The mini app {app_ns} is not installed.")
    action = next((a for a in app.actions if a["name"] == action_name), None)
    if action is None:
        raise CallRefused(f"The mini app {app_ns} has no action {action_name}.")
    method = str(action["method"])
    sent = {name: value for name, value in params.items() if name in action["param_names"]}
    if ignored := sorted(set(params) - set(sent)):
        log.info("The action %s of %s takes no %s: not sent", action_name, app_ns, ignored)
    return AppCall(
        method=method,
        url=app.base_url.rstrip("/") + "/" + str(action["path"]).lstrip("/"),
        headers=_credentials(app, server_secret),
        query={k: as_text(v) for k, v in sent.items()} if method in QUERY_METHODS else None,
        json=None if method in QUERY_METHODS else sent,
    )


def _credentials(app: InstalledApp, server_secret: bytes) -> dict[str, str]:
    if app.auth_type != AuthType.API_KEY:
        # No OAuth grant is ever made for an app, so there is no token to call it with.
        raise CallRefused(
            f"The mini app {app.app_ns} is authorised by {app.auth_type}: "
            "flows call only apps with an API key."
        )
    if app.sealed_api_key is None:
        raise CallRefused(f"The mini app {app.app_ns} has no API key yet.")
    return {"Authorization": f"Bearer {unseal(server_secret, app.sealed_api_key)}"}
