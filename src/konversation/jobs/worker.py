"""The processes of a distributed deployment: workers that run jobs, and the scheduler.

Both need `KONVERSATION_REDIS_URL`. A worker consumes pump tasks from the Redis stream; the
scheduler kicks one every tick so that delays, retries and paced broadcasts move on even when
no API process is busy. Run as many workers as the load needs, and one scheduler (two do no
harm: pumps are safe to run side by side).
"""

from __future__ import annotations

import asyncio
import signal
from contextlib import suppress

from taskiq.api import run_receiver_task

from konversation.db import make_engine
from konversation.jobs.runtime import Runtime
from konversation.process import tune_garbage_collector
from konversation.settings import Settings

MAX_CONCURRENT_PUMPS = 4


async def run_worker(settings: Settings) -> None:
    """Run pumps from the Redis stream until SIGTERM or SIGINT; then finish the work in hand
    (see `Runtime.drain`) and stop."""
    tune_garbage_collector()
    engine = make_engine(settings.database_url)
    runtime = Runtime(settings, engine)
    await runtime.broker.startup()
    receiving = asyncio.create_task(
        run_receiver_task(runtime.broker, max_async_tasks=MAX_CONCURRENT_PUMPS)
    )
    try:
        await _until_stopped(receiving)
        await runtime.drain()
    finally:
        receiving.cancel()
        with suppress(asyncio.CancelledError):
            await receiving
        await runtime.stop()
        await engine.dispose()


async def _until_stopped(*running: asyncio.Task[None]) -> None:
    """Wait for SIGTERM or SIGINT (or for any of `running` to end)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({*running, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()


async def run_scheduler(settings: Settings) -> None:
    tune_garbage_collector()
    engine = make_engine(settings.database_url)
    runtime = Runtime(settings, engine)
    await runtime.start()
    try:
        await _until_stopped()
    finally:
        await runtime.stop()
        await engine.dispose()
