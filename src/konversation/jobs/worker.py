"""The processes of a distributed deployment: workers that run jobs, and the scheduler.

Both need `KONVERSATION_REDIS_URL`. A worker consumes pump tasks from the Redis stream; the
scheduler kicks one every tick so that delays, retries and paced broadcasts move on even when
no API process is busy. Run as many workers as the load needs, and one scheduler (two do no
harm: pumps are safe to run side by side).
"""

from __future__ import annotations

import asyncio

from taskiq.api import run_receiver_task

from konversation.db import make_engine
from konversation.jobs.runtime import Runtime
from konversation.process import tune_garbage_collector
from konversation.settings import Settings

MAX_CONCURRENT_PUMPS = 4


async def run_worker(settings: Settings) -> None:
    tune_garbage_collector()
    engine = make_engine(settings.database_url)
    runtime = Runtime(settings, engine)
    await runtime.broker.startup()
    try:
        await run_receiver_task(runtime.broker, max_async_tasks=MAX_CONCURRENT_PUMPS)
    finally:
        await runtime.stop()
        await engine.dispose()


async def run_scheduler(settings: Settings) -> None:
    tune_garbage_collector()
    engine = make_engine(settings.database_url)
    runtime = Runtime(settings, engine)
    await runtime.start()
    try:
        await asyncio.Event().wait()
    finally:
        await runtime.stop()
        await engine.dispose()
