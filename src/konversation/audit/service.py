"""Recording and reading the audit log.

Entries are written in the same transaction as what they record, so the log never tells of a
change that was rolled back, nor misses one that was committed.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.audit.models import AuditEntry
from konversation.db import PageRequest, fetch_page
from konversation.workspaces.models import Membership

# Request bodies are kept in the log up to this many characters of JSON.
MAX_DETAIL_CHARS = 2000


class Action(enum.StrEnum):
    KEY_CREATED = "key.created"
    KEY_REVOKED = "key.revoked"
    LOGIN = "login.succeeded"
    LOGIN_FAILED = "login.failed"
    API_DELETE = "api.delete"
    INTEGRATION_SAVED = "integration.saved"


@dataclass(frozen=True)
class Actor:
    """Who acted, and from where: a person, an API key or the command line."""

    kind: str
    name: str
    id: int | None = None
    request_id: str | None = None
    address: str | None = None

    @classmethod
    def user(cls, user_id: int, email: str) -> Actor:
        return cls("user", email, user_id)

    @classmethod
    def key(cls, key_id: int, name: str) -> Actor:
        return cls("key", name, key_id)

    @classmethod
    def command_line(cls) -> Actor:
        return cls("cli", "command line")

    @classmethod
    def system(cls, what: str) -> Actor:
        return cls("system", what)

    def at(self, request_id: str | None, address: str | None) -> Actor:
        """The same actor, acting in the request `request_id` from `address`."""
        return replace(self, request_id=request_id, address=address)


def record(
    session: AsyncSession,
    action: Action,
    by: Actor,
    *,
    workspace_id: int | None,
    target: str,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        workspace_id=workspace_id,
        action=action.value,
        actor_kind=by.kind,
        actor_id=by.id,
        actor_name=by.name[:255],
        target=target[:255],
        details=details or {},
        request_id=by.request_id,
        address=by.address,
    )
    session.add(entry)
    return entry


def bounded(value: Any) -> Any:
    """`value` for the log: as it is when short, else the start of its JSON."""
    text = json.dumps(value, default=str)
    return value if len(text) <= MAX_DETAIL_CHARS else {"truncated": text[:MAX_DETAIL_CHARS]}


async def entries(
    session: AsyncSession, workspace_ids: Sequence[int], window: PageRequest
) -> tuple[Sequence[AuditEntry], int]:
    """What was done to `workspace_ids`, and the sign-ins of their members, newest first."""
    members = select(Membership.user_id).where(Membership.workspace_id.in_(workspace_ids))
    sign_ins = and_(
        AuditEntry.workspace_id.is_(None),
        AuditEntry.actor_kind == "user",
        AuditEntry.actor_id.in_(members),
    )
    query = (
        select(AuditEntry)
        .where(or_(AuditEntry.workspace_id.in_(workspace_ids), sign_ins))
        .order_by(AuditEntry.id.desc())
    )
    return await fetch_page(session, query, window)
