"""Storage guarantees that the rest of the code relies on."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from konversation.db import make_engine, make_session_factory, session_scope
from konversation.schema import alembic_config, upgrade
from konversation.sqlite import BUSY_TIMEOUT_MS, _write_locks


# URLs written for the aiosqlite driver, which this project used before, keep working.
@pytest.mark.parametrize("scheme", ["sqlite", "sqlite+aiosqlite", "sqlite+pysqlite"])
async def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(
    tmp_path: Path, scheme: str
) -> None:
    engine = make_engine(f"{scheme}:///{tmp_path / 'nested' / 'k.db'}")
    try:
        async with engine.connect() as connection:
            pragmas = {
                name: (await connection.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            }
    finally:
        await engine.dispose()
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": BUSY_TIMEOUT_MS}


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


async def test_concurrent_sqlite_writers_queue_in_process_and_all_commit(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.db'}", pool_size=4)
    factory = make_session_factory(engine)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        await connection.execute(text("INSERT INTO counter VALUES (0)"))

    async def increment() -> None:
        # Read, yield to the others, then write: only serialised writers keep every increment.
        async with session_scope(factory) as session:
            n = (await session.execute(text("SELECT n FROM counter"))).scalar_one()
            await asyncio.sleep(0)
            await session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})

    try:
        await asyncio.gather(*(increment() for _ in range(60)))
        async with engine.connect() as connection:
            total = (await connection.execute(text("SELECT n FROM counter"))).scalar_one()
        queues = _write_locks[asyncio.get_running_loop()].values()
        assert not any(lock.locked() for lock in queues), "a writer kept the queue"
    finally:
        await engine.dispose()
    assert total == 60


async def test_a_failed_sqlite_write_hands_the_queue_to_the_next_writer(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'failed.db'}")
    factory = make_session_factory(engine)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE item (name TEXT PRIMARY KEY)"))
    try:
        async with session_scope(factory) as session:
            await session.execute(text("INSERT INTO item VALUES ('a')"))
        with pytest.raises(IntegrityError):
            async with session_scope(factory) as session:
                await session.execute(text("INSERT INTO item VALUES ('a')"))
        queues = _write_locks[asyncio.get_running_loop()].values()
        assert not any(lock.locked() for lock in queues), "the failed writer kept the queue"
        async with session_scope(factory) as session:
            await session.execute(text("INSERT INTO item VALUES ('b')"))
        async with engine.connect() as connection:
            names = (await connection.execute(text("SELECT name FROM item ORDER BY name"))).all()
    finally:
        await engine.dispose()
    assert names == [("a",), ("b",)]
