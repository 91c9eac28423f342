"""Bringing a database to the current schema with the packaged Alembic history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


# Held on PostgreSQL while a process sets the database up, so that processes started together
# (several API servers) do it one after the other: the first does the work, the others find
# none left.
SETUP_LOCK = 72_612_021


@asynccontextmanager
async def setting_up(engine: AsyncEngine) -> AsyncIterator[None]:
    """Hold the set-up lock for the duration (on PostgreSQL; SQLite has one process)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    async with engine.connect() as connection:
        await connection.execute(text(f"SELECT pg_advisory_lock({SETUP_LOCK})"))
        await connection.commit()
        try:
            yield
        finally:
            await connection.execute(text(f"SELECT pg_advisory_unlock({SETUP_LOCK})"))
            await connection.commit()


async def upgrade(engine: AsyncEngine) -> None:
    """Apply every migration not yet applied, in one transaction."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        await connection.run_sync(run)
