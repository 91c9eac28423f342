"""Small async builders for test data, going through the real services."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from konversation.app import create_app
from konversation.audit.service import Actor
from konversation.channels.models import BotChannel, ChannelType
from konversation.conversations.models import Message
from konversation.db import session_scope, utcnow
from konversation.flows import service as flows
from konversation.flows.models import FieldScope, FlowKind, Tag
from konversation.ids import Kind
from konversation.keys import service as keys
from konversation.keys.models import Permission
from konversation.settings import Settings
from konversation.subscribers import service as subscribers
from konversation.subscribers.models import (
    ConversationStatus,
    StatusCount,
    Subscriber,
    SubscriberChannel,
    SubscriberTag,
)
from konversation.workspaces import service as workspaces
from konversation.workspaces.models import BotCounter, Role

BOTH = [p.value for p in Permission]

Sessions = async_sessionmaker[AsyncSession]
ClientFor = Callable[[str], httpx.AsyncClient]


@dataclass(frozen=True)
class Tenant:
    workspace_id: int
    owner_id: int
    bot_id: int
    token: str
    key_id: int

    @property
    def flow_ns(self) -> str:
        return f"f{self.bot_id}"


async def make_tenant(
    sessions: async_sessionmaker[AsyncSession],
    server_secret: bytes,
    *,
    email: str | None = None,
    permissions: list[str] | None = None,
) -> Tenant:
    async with session_scope(sessions) as session:
        owner = await workspaces.create_user(
            session,
            name="Ada Owner",
            email=email or f"owner{utcnow().timestamp()}@example.com",
            password="correct horse battery staple",
        )
        workspace = await workspaces.create_workspace(session, name="Acme", owner=owner)
        bot = await workspaces.create_bot(session, workspace.id, name="Acme bot")
        await flows.create_flow(session, bot.id, name="Main flow", kind=FlowKind.MAIN)
        issued = await keys.create_key(
            session,
            workspace.id,
            name="test key",
            bot_id=bot.id,
            permissions=BOTH if permissions is None else permissions,
            server_secret=server_secret,
            by=Actor.command_line(),
            created_by=owner.id,
        )
        return Tenant(workspace.id, owner.id, bot.id, issued.token, issued.key.id)


async def make_key(
    session: AsyncSession,
    server_secret: bytes,
    tenant: Tenant,
    *,
    permissions: list[str],
    bot_id: int | str | None = "same",
) -> str:
    issued = await keys.create_key(
        session,
        tenant.workspace_id,
        name="another key",
        bot_id=tenant.bot_id if bot_id == "same" else bot_id,  # type: ignore[arg-type]
        permissions=permissions,
        server_secret=server_secret,
        by=Actor.command_line(),
    )
    await session.commit()
    return issued.token


async def make_member(session: AsyncSession, tenant: Tenant, *, name: str, role: Role) -> int:
    user = await workspaces.create_user(
        session, name=name, email=f"{name.lower().replace(' ', '.')}@example.com", password="pw"
    )
    await workspaces.add_member(session, tenant.workspace_id, user, role=role)
    await session.commit()
    return user.id


async def make_sub_flow(session: AsyncSession, bot_id: int, name: str) -> str:
    flow = await flows.create_flow(session, bot_id, name=name)
    await session.commit()
    return f"f{bot_id}s{flow.number}"


async def make_tag(session: AsyncSession, bot_id: int, name: str) -> str:
    tag = await flows.create_tag(session, bot_id, name=name)
    await session.commit()
    return f"f{bot_id}t{tag.number}"


async def make_field(
    session: AsyncSession,
    bot_id: int,
    name: str,
    *,
    scope: FieldScope = FieldScope.USER,
    var_type: str = "text",
    value: Any = None,
) -> str:
    field = await flows.create_field(
        session, bot_id, scope=scope, name=name, var_type=var_type, value=value
    )
    await session.commit()
    return f"f{bot_id}v{field.number}"


async def make_subscriber(
    session: AsyncSession,
    bot_id: int,
    *,
    name: str = "Sam Subscriber",
    channel: str = "web",
    phone: str | None = None,
    email: str | None = None,
    created_at: dt.datetime | None = None,
    status: str | None = None,
    **columns: Any,
) -> Subscriber:
    """A subscriber made by the service, then given whatever state a test needs."""
    first, _, last = name.partition(" ")
    unique = f"{utcnow().timestamp()}{id(columns)}".replace(".", "")
    subscriber = await subscribers.create_subscriber(
        session,
        bot_id,
        subscribers.Details(
            name=name,
            first_name=first,
            last_name=last,
            phone=phone,
            email=email or (None if phone else f"s{unique}@example.com"),
        ),
        channel=channel,
    )
    if status is not None:
        await subscribers.change_status(session, subscriber, ConversationStatus(status))
    for column, value in columns.items():
        setattr(subscriber, column, value)
    if created_at is not None:
        subscriber.created_at = created_at
    subscriber.activity_at = subscriber.last_interaction_at or subscriber.created_at
    await session.commit()
    return subscriber


async def make_message(
    session: AsyncSession,
    subscriber: Subscriber,
    *,
    direction: str,
    at: dt.datetime,
    agent_id: int | None = None,
    content: str = "hello",
) -> None:
    session.add(
        Message(
            bot_id=subscriber.bot_id,
            subscriber_id=subscriber.id,
            direction=direction,
            content=content,
            payload={"text": content},
            agent_id=agent_id,
            created_at=at,
        )
    )
    await session.commit()


async def make_bot(
    session: AsyncSession, workspace_id: int, *, name: str, channel: str = "web"
) -> int:
    bot = await workspaces.create_bot(session, workspace_id, name=name, channel=channel)
    await session.commit()
    return bot.id


async def connect_api_channel(sessions: Sessions, bot_id: int, webhook_url: str) -> BotChannel:
    """The bot's API channel, posting the bot's messages to `webhook_url`."""
    async with session_scope(sessions) as session:
        channel = BotChannel(
            bot_id=bot_id, type=ChannelType.API, config={"webhook_url": webhook_url}
        )
        session.add(channel)
    return channel


AUDIENCE_BATCH = 5000


async def make_audience(engine: AsyncEngine, bot_id: int, tag_id: int, size: int) -> None:
    """`size` open subscribers of a bot that has none yet, all with the tag and reached through
    the API channel (user ids `reader-1`...), written by bulk inserts: thousands in a second,
    with the counts the services keep (status counts, the tag's size, the numbering) true."""
    now = utcnow()
    async with engine.begin() as connection:
        for start in range(1, size + 1, AUDIENCE_BATCH):
            numbers = list(range(start, min(start + AUDIENCE_BATCH, size + 1)))
            await connection.execute(insert(Subscriber), [_reader(bot_id, n, now) for n in numbers])
            people = await connection.execute(
                select(Subscriber.id, Subscriber.user_id).where(
                    Subscriber.bot_id == bot_id, Subscriber.number.in_(numbers)
                )
            )
            rows = people.all()
            await connection.execute(
                insert(SubscriberChannel),
                [{"subscriber_id": i, "type": ChannelType.API, "user_id": u} for i, u in rows],
            )
            await connection.execute(
                insert(SubscriberTag),
                [{"subscriber_id": i, "tag_id": tag_id, "created_at": now} for i, _ in rows],
            )
        await connection.execute(
            update(Tag).where(Tag.id == tag_id).values(subscriber_count=Tag.subscriber_count + size)
        )
        await connection.execute(
            insert(StatusCount).values(bot_id=bot_id, status=ConversationStatus.OPEN, count=size)
        )
        await connection.execute(
            insert(BotCounter).values(bot_id=bot_id, kind=Kind.SUBSCRIBER.value, value=size)
        )


def _reader(bot_id: int, number: int, now: dt.datetime) -> dict[str, Any]:
    return {
        "bot_id": bot_id,
        "number": number,
        "user_id": f"reader-{number}",
        "first_name": "Reader",
        "last_name": str(number),
        "name": f"Reader {number}",
        "status": ConversationStatus.OPEN,
        "is_subscribed": True,
        "subscribed_at": now,
        "activity_at": now,
        "created_at": now,
    }


@asynccontextmanager
async def app_with(settings: Settings, **changes: Any) -> AsyncIterator[FastAPI]:
    """The real app on settings with `changes` (say, an outside service's base URL), its HTTP
    client and database engine closed after."""
    app = create_app(settings.model_copy(update=changes))
    try:
        yield app
    finally:
        await app.state.runtime.http.aclose()
        await app.state.engine.dispose()


async def make_start_flow(session: AsyncSession, bot_id: int, definition: dict[str, Any]) -> None:
    """A sub flow "Greeting" that starts for whoever writes to the bot with nothing else to
    answer them."""
    flow = await flows.create_flow(session, bot_id, name="Greeting", definition=definition)
    await flows.set_default_start_flow(session, bot_id, sub_flow_ns=f"f{bot_id}s{flow.number}")
