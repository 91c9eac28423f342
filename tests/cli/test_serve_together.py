"""Several `konversation serve` processes started at once on one new PostgreSQL database (a
deployment's API servers) set it up once: one migrates and creates the demo workspace, the
others wait for it and find nothing left to do, and all of them serve."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys

import asyncpg

from loopback import free_port, until_ready

SERVERS = 3


async def test_servers_started_together_set_a_new_database_up_once(new_postgresql: str) -> None:
    ports = [free_port() for _ in range(SERVERS)]
    env = {
        **os.environ,
        "KONVERSATION_DATABASE_URL": new_postgresql,
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
        ready = await asyncio.gather(*(until_ready(f"http://127.0.0.1:{p}") for p in ports))
        assert all(ready)
    finally:
        for server in servers:
            with contextlib.suppress(ProcessLookupError):  # one that failed is gone already
                server.terminate()
        printed = [(await server.communicate())[0].decode() for server in servers]
    assert sum("A demo workspace was created" in text for text in printed) == 1
    database = await asyncpg.connect(new_postgresql.replace("+asyncpg", ""))
    try:
        assert await database.fetchval("SELECT count(*) FROM workspaces") == 1
        assert await database.fetchval("SELECT count(*) FROM alembic_version") == 1
    finally:
        await database.close()
