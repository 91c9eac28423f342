"""Workspaces, their members and their bots."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pwdlib import PasswordHash
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.db import PageRequest, contains_text, count_rows, dialect_insert, fetch_page
from konversation.errors import Invalid, NotFound
from konversation.ids import Kind
from konversation.workspaces.models import Bot, BotCounter, Membership, Role, User, Workspace

BOT_CHANNELS = (
    "web", "facebook", "instagram", "whatsapp", "whatsapp_cloud", "wechat", "telegram", "google",
    "slack", "line", "viber", "vk", "voice", "sms", "rcs", "intercom", "jivochat", "chatwoot",
    "apichat",
)  # fmt: skip

_passwords = PasswordHash.recommended()


async def next_number(session: AsyncSession, bot_id: int, kind: Kind) -> int:
    """The next free number for a bot's ids of `kind`; atomic, so racing writers never share one."""
    insert = dialect_insert(session)
    statement = (
        insert(BotCounter)
        .values(bot_id=bot_id, kind=kind.value, value=1)
        .on_conflict_do_update(
            index_elements=[BotCounter.bot_id, BotCounter.kind],
            set_={"value": BotCounter.value + 1},
        )
        .returning(BotCounter.value)
    )
    return int((await session.execute(statement)).scalar_one())


def hash_password(password: str) -> str:
    return _passwords.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _passwords.verify(password, password_hash)


async def create_user(session: AsyncSession, *, name: str, email: str, password: str) -> User:
    email = email.strip().lower()
    if await session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Invalid.field("email", "The email has already been taken.")
    user = User(name=name, email=email, password_hash=hash_password(password))
    session.add(user)
    await session.flush()
    return user


async def create_workspace(session: AsyncSession, *, name: str, owner: User) -> Workspace:
    workspace = Workspace(name=name, owner_id=owner.id)
    session.add(workspace)
    await session.flush()
    await add_member(session, workspace.id, owner, role=Role.OWNER)
    return workspace


async def add_member(session: AsyncSession, workspace_id: int, user: User, *, role: Role) -> None:
    session.add(Membership(workspace_id=workspace_id, user_id=user.id, role=role.value))
    await session.flush()


async def create_bot(
    session: AsyncSession, workspace_id: int, *, name: str, channel: str = "web"
) -> Bot:
    if channel not in BOT_CHANNELS:
        raise Invalid.field("channel", "The selected channel is invalid.")
    bot = Bot(workspace_id=workspace_id, name=name, channel=channel)
    session.add(bot)
    await session.flush()
    return bot


async def get_workspace(session: AsyncSession, workspace_id: int) -> Workspace:
    workspace = await session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound("Workspace not found")
    return workspace


async def get_bot(session: AsyncSession, bot_id: int) -> Bot:
    bot = await session.get(Bot, bot_id)
    if bot is None:
        raise NotFound("Flow not found")
    return bot


@dataclass(frozen=True)
class TeamInfo:
    workspace: Workspace
    owner: User | None


async def team_info(session: AsyncSession, workspace_id: int) -> TeamInfo:
    workspace = await get_workspace(session, workspace_id)
    owner = await session.get(User, workspace.owner_id) if workspace.owner_id else None
    return TeamInfo(workspace=workspace, owner=owner)


@dataclass(frozen=True)
class Member:
    user: User
    role: str


async def list_members(
    session: AsyncSession,
    workspace_id: int,
    *,
    name: str | None,
    role: str | None,
    window: PageRequest,
) -> tuple[list[Member], int]:
    query = (
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace_id)
        .order_by(User.id)
    )
    if name:
        query = query.where(contains_text(User.name, name))
    if role:
        if role not in {r.value for r in Role}:
            raise Invalid.field("role", "The selected role is invalid.")
        query = query.where(Membership.role == role)
    rows = await session.execute(query.limit(window.limit).offset(window.offset))
    members = [Member(user=user, role=member_role) for user, member_role in rows]
    return members, await count_rows(session, query)


async def list_bots(
    session: AsyncSession,
    workspace_id: int,
    *,
    name: str | None,
    channel: str | None,
    window: PageRequest,
) -> tuple[Sequence[Bot], int]:
    query = select(Bot).where(Bot.workspace_id == workspace_id).order_by(Bot.id)
    if name:
        query = query.where(contains_text(Bot.name, name))
    if channel:
        query = query.where(Bot.channel == channel)
    return await fetch_page(session, query, window)


async def bot_ids(session: AsyncSession, workspace_id: int) -> list[int]:
    return list(await session.scalars(select(Bot.id).where(Bot.workspace_id == workspace_id)))
