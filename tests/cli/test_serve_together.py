"""Several `konversation serve` processes started at once on one new PostgreSQL database (a
deployment's API servers) set it up once: one migrates and creates the demo workspace, the
others wait for it and find nothing left to do, and all of them serve."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import sys
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
SERVERS = 3


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def new_database() -> AsyncIterator[str]:
    name = f"konversation_together_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(f"{PG_SERVER}/test")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _ready(port: int) -> bool:
    async with httpx.AsyncClient() as probe:
        for _ in range(600):
            try:
                if (await probe.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    return False


async def test_servers_started_together_set_a_new_database_up_once(new_database: str) -> None:
    ports = [_free_port() for _ in range(SERVERS)]
    env = {
        **os.environ,
        "KONVERSATION_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{new_database}",
        "KONVERSATION_SECRET_KEY": "together",
        "KONVERSATION_LOG_LEVEL": "warning",
    }
    servers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "konversation",
            "serve",
            "--port",
            str(port),
            env=env,
            stdout=asyncio.subprocess.PIPE,
        )
        for port in ports
    ]
    try:
        assert all(await asyncio.gather(*(_ready(port) for port in ports)))
    finally:
        for server in servers:
            with contextlib.suppress(ProcessLookupError):  # one that failed is gone already
                server.terminate()
        printed = [(await server.communicate())[0].decode() for server in servers]
    assert sum("A demo workspace was created" in text for text in printed) == 1
    database = await asyncpg.connect(f"{PG_SERVER}/{new_database}")
    try:
        assert await database.fetchval("SELECT count(*) FROM workspaces") == 1
        assert await database.fetchval("SELECT count(*) FROM alembic_version") == 1
    finally:
        await database.close()
