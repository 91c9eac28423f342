"""Issuing, listing, revoking and checking API keys."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.audit import service as audit
from konversation.audit.service import Action, Actor
from konversation.db import utcnow
from konversation.errors import Forbidden, Invalid, NotFound, Unauthenticated
from konversation.keys import tokens
from konversation.keys.cache import KeyCache, forget_all_on_commit
from konversation.keys.models import ApiKey, Permission
from konversation.workspaces.models import Bot, User, Workspace

# Writing last_used_at on every request would turn each read into a write;
# to the minute is precise enough.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class KeyContext:
    """Who is calling: the key, its workspace, its bot if any, and what it may do."""

    key_id: int
    workspace_id: int
    bot_id: int | None
    permissions: frozenset[str]
    user_id: int | None
    name: str


@dataclass(frozen=True)
class BotKey:
    """A caller whose bot exists: what every bot-level operation receives."""

    key_id: int
    workspace_id: int
    bot_id: int
    user_id: int | None


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    token: str


async def create_key(
    session: AsyncSession,
    workspace_id: int,
    *,
    name: str,
    bot_id: int | None,
    permissions: Iterable[str],
    server_secret: bytes,
    by: Actor,
    created_by: int | None = None,
) -> IssuedKey:
    """Store a new key and return its token, which is never available again."""
    chosen = _valid_permissions(permissions)
    if not name.strip():
        raise Invalid.field("name", "The name field is required.")
    if bot_id is not None:
        bot = await session.get(Bot, bot_id)
        if bot is None or bot.workspace_id != workspace_id:
            raise NotFound("Flow not found")
    token = tokens.new_token()
    key = ApiKey(
        prefix=token.prefix,
        digest=tokens.digest(token, server_secret),
        name=name.strip(),
        workspace_id=workspace_id,
        bot_id=bot_id,
        permissions=chosen,
        created_by=created_by,
    )
    session.add(key)
    await session.flush()
    audit.record(
        session,
        Action.KEY_CREATED,
        by,
        workspace_id=workspace_id,
        target=_named(key),
        details={"bot_id": bot_id, "permissions": chosen, "prefix": key.prefix},
    )
    return IssuedKey(key=key, token=str(token))


def _named(key: ApiKey) -> str:
    return f"API key {key.id} ({key.name})"


def _valid_permissions(permissions: Iterable[str]) -> list[str]:
    allowed = {p.value for p in Permission}
    chosen = sorted(set(permissions))
    unknown = [p for p in chosen if p not in allowed]
    if unknown:
        raise Invalid.field(
            "permissions", f"Unknown permission {unknown[0]!r}: use {' or '.join(sorted(allowed))}."
        )
    return chosen


async def list_keys(session: AsyncSession, workspace_id: int | None = None) -> Sequence[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.id)
    if workspace_id is not None:
        query = query.where(ApiKey.workspace_id == workspace_id)
    return (await session.scalars(query)).all()


async def revoke_key(
    session: AsyncSession, key_id: int, *, by: Actor, workspace_id: int | None = None
) -> ApiKey:
    key = await session.get(ApiKey, key_id)
    if key is None or (workspace_id is not None and key.workspace_id != workspace_id):
        raise NotFound("API key not found")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        forget_all_on_commit(session.sync_session)
        audit.record(
            session, Action.KEY_REVOKED, by, workspace_id=key.workspace_id, target=_named(key)
        )
    return key


async def authenticate(
    session: AsyncSession,
    presented: str,
    *,
    server_secret: bytes,
    cache: KeyCache | None = None,
) -> KeyContext:
    """The caller behind a Bearer token; Unauthenticated for anything but a live key.

    With a cache, a key checked less than a second ago is not looked up again (see
    `konversation.keys.cache` for how revocations reach it)."""
    token = tokens.parse_token(presented.strip())
    if token is None:
        raise Unauthenticated()
    remembered = cache.get(token.prefix) if cache is not None else None
    if remembered is None:
        digest, caller = await _look_up(session, token.prefix)
        if cache is not None:
            cache.put(token.prefix, digest, caller)
    else:
        digest, caller = remembered
    if not tokens.matches(token, digest, server_secret):
        raise Unauthenticated()
    return caller


async def _look_up(session: AsyncSession, prefix: str) -> tuple[str, KeyContext]:
    row = (
        await session.execute(
            select(
                ApiKey.id,
                ApiKey.name,
                ApiKey.digest,
                ApiKey.workspace_id,
                ApiKey.bot_id,
                ApiKey.permissions,
                ApiKey.created_by,
                ApiKey.last_used_at,
            ).where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))
        )
    ).one_or_none()
    if row is None:
        raise Unauthenticated()
    await _touch(session, row.id, row.last_used_at)
    caller = KeyContext(
        key_id=row.id,
        workspace_id=row.workspace_id,
        bot_id=row.bot_id,
        permissions=frozenset(row.permissions),
        user_id=row.created_by,
        name=row.name,
    )
    return row.digest, caller


async def _touch(session: AsyncSession, key_id: int, last_used_at: dt.datetime | None) -> None:
    """Record the use, unless the database is busy: a missed minute is not worth a failure."""
    now = utcnow()
    if last_used_at is not None and now - last_used_at < LAST_USED_RESOLUTION:
        return
    try:
        async with session.begin_nested():
            await session.execute(
                update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now)
            )
    except OperationalError:
        pass


def require_permission(caller: KeyContext, permission: Permission) -> None:
    if permission.value not in caller.permissions:
        raise Forbidden(f"This API key lacks the {permission.value} permission.")


def require_bot(caller: KeyContext, permission: Permission) -> BotKey:
    """The caller's bot, after checking the permission; a key bound to no live bot finds no flow."""
    require_permission(caller, permission)
    # The key's bot_id is SET NULL when its bot goes (and a bot's deletion empties the key
    # caches), so a bot_id here names a live bot.
    if caller.bot_id is None:
        raise NotFound("Flow not found")
    return BotKey(
        key_id=caller.key_id,
        workspace_id=caller.workspace_id,
        bot_id=caller.bot_id,
        user_id=caller.user_id,
    )


async def key_owner(session: AsyncSession, caller: KeyContext) -> User:
    """The person a key acts for: its creator, or else the workspace's owner."""
    user_id = caller.user_id
    if user_id is None:
        workspace = await session.get(Workspace, caller.workspace_id)
        user_id = workspace.owner_id if workspace else None
    user = await session.get(User, user_id) if user_id is not None else None
    if user is None:
        raise NotFound("User not found")
    return user
