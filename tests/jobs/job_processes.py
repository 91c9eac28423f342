"""`konversation worker` and `konversation scheduler` as real processes, on Redis and the
test database, for the tests of what happens when they die or are stopped."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import redis.asyncio as redis

from konversation.settings import Settings

REDIS_URL = "redis://127.0.0.1:6379/0"
Start = Callable[..., Awaitable[asyncio.subprocess.Process]]


@asynccontextmanager
async def job_processes(settings: Settings, *, lease_seconds: int) -> AsyncIterator[Start]:
    """Yields `start(command, *arguments)`, which starts `konversation <command> <arguments>`
    on a Redis queue of its own; every process started is stopped (SIGINT, then SIGKILL) on the
    way out."""
    queue = f"jobs-test-{secrets.token_hex(4)}"
    env = {
        **os.environ,
        "KONVERSATION_DATABASE_URL": settings.database_url,
        "KONVERSATION_SECRET_KEY": str(settings.secret_key),
        "KONVERSATION_REDIS_URL": REDIS_URL,
        "KONVERSATION_REDIS_QUEUE": queue,
        "KONVERSATION_LEASE_SECONDS": str(lease_seconds),
        "KONVERSATION_WEBHOOK_ALLOWED_NETWORKS": ",".join(settings.webhook_allowed_networks),
        "KONVERSATION_LOG_LEVEL": "warning",
        **{f"KONVERSATION_RATE_LIMIT_{kind}": "0" for kind in ("READS", "SENDS", "WRITES")},
    }
    started: list[asyncio.subprocess.Process] = []

    async def start(command: str, *arguments: str) -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "konversation", command, *arguments, env=env
        )
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            if process.returncode is None:
                process.send_signal(signal.SIGINT)
        for process in started:
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()
        connection = redis.from_url(REDIS_URL)
        await connection.delete(queue)
        await connection.aclose()


async def wait_until(done: Callable[[], object], what: str, *, seconds: float = 240) -> None:
    for _ in range(int(seconds * 20)):
        if done():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"gave up waiting: {what}")
