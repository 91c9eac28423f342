"""Saving, reading and clearing a workspace's integrations.

Readers of the API get `masked()`: plain settings as saved, secrets as masks. The code that calls
the outside service gets `load()`: everything, decrypted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.errors import Invalid
from konversation.integrations.kinds import SPECS, Kind, Spec
from konversation.integrations.models import Integration
from konversation.integrations.secrets import mask, seal, unseal

ACTIVE = "active"
# What a workspace that never saved the integration (or cleared it) reads back.
NOT_CONNECTED = "inactive"


async def _find(session: AsyncSession, workspace_id: int, kind: Kind) -> Integration | None:
    return await session.scalar(
        select(Integration).where(
            Integration.workspace_id == workspace_id, Integration.kind == kind.value
        )
    )


async def save(
    session: AsyncSession,
    server_secret: bytes,
    workspace_id: int,
    kind: Kind,
    values: Mapping[str, Any],
) -> Integration:
    """Replace the integration's settings; a secret sent back as its own mask is kept as is."""
    spec = SPECS[kind]
    integration = await _find(session, workspace_id, kind)
    kept = integration.sealed if integration else {}
    shown = integration.public if integration else {}
    public: dict[str, Any] = {}
    sealed: dict[str, str] = {}
    for setting in spec.settings:
        value = values.get(setting.name)
        if value is None or value == "":
            if setting.required:
                raise Invalid.field(setting.name, f"The {setting.name} field is required.")
            value = setting.default
        if not setting.secret:
            public[setting.name] = value
        elif value == shown.get(setting.name) and setting.name in kept:
            sealed[setting.name], public[setting.name] = kept[setting.name], value
        elif value:
            sealed[setting.name] = seal(server_secret, str(value))
            public[setting.name] = mask(str(value))
    if integration is None:
        integration = Integration(workspace_id=workspace_id, kind=kind.value)
        session.add(integration)
    integration.public, integration.sealed = public, sealed
    await session.flush()
    return integration


async def clear(session: AsyncSession, workspace_id: int, kind: Kind) -> None:
    integration = await _find(session, workspace_id, kind)
    if integration is not None:
        await session.delete(integration)
        await session.flush()


async def masked(session: AsyncSession, workspace_id: int, kind: Kind) -> dict[str, Any]:
    """The settings as a reader may see them, with `status`."""
    integration = await _find(session, workspace_id, kind)
    if integration is None:
        return {**_blank(SPECS[kind]), "status": NOT_CONNECTED}
    return {**_blank(SPECS[kind]), **integration.public, "status": ACTIVE}


async def load(
    session: AsyncSession, server_secret: bytes, workspace_id: int, kind: Kind
) -> dict[str, Any] | None:
    """The saved settings with their secrets decrypted, or None when not connected."""
    integration = await _find(session, workspace_id, kind)
    if integration is None:
        return None
    opened = {name: unseal(server_secret, token) for name, token in integration.sealed.items()}
    return {**integration.public, **opened}


def _blank(spec: Spec) -> dict[str, Any]:
    return {s.name: "" if s.default is None else s.default for s in spec.settings}
