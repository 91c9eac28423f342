"""Storage guarantees that the rest of the code relies on."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from konversation.db import make_engine
from konversation.schema import alembic_config, upgrade


async def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'k.db'}")
    try:
        async with engine.connect() as connection:
            pragmas = {
                name: (await connection.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            }
    finally:
        await engine.dispose()
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 10000}


async def test_migrating_an_up_to_date_database_changes_nothing(engine: AsyncEngine) -> None:
    await upgrade(engine)
    async with engine.connect() as connection:
        version = (await connection.execute(text("SELECT version_num FROM alembic_version"))).all()
    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    assert version == [(head,)]


async def test_a_deleted_bot_takes_its_tags_with_it(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO users (id, name, email, password_hash, is_online, created_at) "
                "VALUES (900, 'u', 'u@x', 'h', false, CURRENT_TIMESTAMP)"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO workspaces (id, name, owner_id, currency, timezone, created_at) "
                "VALUES (900, 'w', 900, 'USD', 'UTC', CURRENT_TIMESTAMP)"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO bots (id, workspace_id, name, channel, stt_model, created_at) "
                "VALUES (900, 900, 'b', 'web', 'none', CURRENT_TIMESTAMP)"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO tags (bot_id, number, name, created_at) "
                "VALUES (900, 1, 't', CURRENT_TIMESTAMP)"
            )
        )
        await connection.execute(text("DELETE FROM bots WHERE id = 900"))
        left = (await connection.execute(text("SELECT count(*) FROM tags"))).scalar()
    assert left == 0
