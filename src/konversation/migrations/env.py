"""Alembic environment: runs on a connection handed in by `konversation.schema`, or opens one."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from konversation.db import is_sqlite, make_engine
from konversation.models import Base

config = context.config
target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_with_own_engine(url: str) -> None:
    engine = make_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(run_on)
    await engine.dispose()


def run_offline(url: str) -> None:
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=is_sqlite(url),
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    url = config.get_main_option("sqlalchemy.url") or ""
    given = config.attributes.get("connection")
    if context.is_offline_mode():
        run_offline(url)
    elif given is not None:
        run_on(given)
    else:
        asyncio.run(run_with_own_engine(url))


main()
