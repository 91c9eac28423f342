"""The runtime's shared parts, and the background work that keeps flows moving.

Work lives in the database (outbox rows, waiting runs, broadcasts); a *pump* takes whatever is
due and does it until nothing is left. Pumps are taskiq tasks: by default on an in-process
broker, so a single `konversation serve` needs no other server; with `KONVERSATION_REDIS_URL`
on a Redis stream that `konversation worker` processes consume. Every piece of work is claimed
with a lease and guarded by unique keys, so two pumps at once, or a pump repeated after a crash,
do nothing twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

import httpx
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from taskiq import AsyncBroker, InMemoryBroker
from taskiq_redis import RedisStreamBroker

from konversation.channels.directory import ChannelDirectory
from konversation.channels.hub import Hub, make_hub
from konversation.commerce.orders import STATUS_LISTENER
from konversation.db import make_session_factory, utcnow
from konversation.integrations import delivery as integrations
from konversation.integrations import shop_import
from konversation.integrations.calls import Context as IntegrationContext
from konversation.knowledge import generate as knowledge
from konversation.knowledge.answers import Answerer
from konversation.knowledge.openai import OpenAI
from konversation.knowledge.search import Searcher
from konversation.metrics import JOBS_DONE
from konversation.runtime import outbox
from konversation.runtime.engine import Engine
from konversation.runtime.models import Delivery, DeliveryStatus, Run, RunStatus
from konversation.sending.broadcasts import LIVE, run_due_broadcasts
from konversation.sending.models import Broadcast
from konversation.settings import Settings
from konversation.webhooks import delivery as webhooks
from konversation.webhooks.addresses import networks

log = logging.getLogger(__name__)
# httpx logs every request's URL at INFO, and Telegram's URLs hold the bot token.
logging.getLogger("httpx").setLevel(logging.WARNING)
# taskiq logs every pump it runs at INFO: once a second, saying nothing.
logging.getLogger("taskiq.receiver.receiver").setLevel(logging.WARNING)

PUMP_TASK = "konversation.pump"
# How often due work (delays, retries, paced broadcasts) is looked for without a wake-up.
TICK_SECONDS = 1.0
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# A Redis message whose worker died is handed to another worker after this many seconds.
REDIS_REDELIVERY_SECONDS = 30
# How long a stopping process waits for the work in hand (one round of each chore).
SHUTDOWN_SECONDS = 20.0

Chore = Callable[[], Awaitable[int]]


class Runtime:
    """Everything flows need at run time, built once per process from the settings."""

    def __init__(self, settings: Settings, engine: AsyncEngine, *, hub: Hub | None = None) -> None:
        self.settings = settings
        self.http = httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=False)
        self.hub: Hub = hub or make_hub(settings.redis_url, prefix=settings.redis_queue)
        self.directory = ChannelDirectory(
            http=self.http,
            hub=self.hub,
            telegram_api_base=settings.telegram_api_base,
            graph_api_base=settings.graph_api_base,
        )
        self.webhook_networks = networks(settings.webhook_allowed_networks)
        # Opens the integrations' sealed settings (store keys for catalogue imports).
        self.server_secret = settings.server_secret()
        self.openai = OpenAI(
            http=self.http,
            server_secret=self.server_secret,
            default_base=settings.openai_api_base,
            embedding_model=settings.openai_embedding_model,
            chat_model=settings.openai_chat_model,
            allowed=self.webhook_networks,
        )
        self.engine = Engine(
            self.http,
            answerer=Answerer(self.openai, Searcher()),
            server_secret=self.server_secret,
        )
        self.sessions: async_sessionmaker[AsyncSession] = make_session_factory(
            engine,
            sync_session_class=outbox.waking_session_class(self.wake),
            # Order status changes start the flows they trigger (see commerce.orders).
            info={STATUS_LISTENER: self.engine.order_status_changed},
        )
        self.read_sessions = make_session_factory(engine, read_only=True)
        self.broker = make_broker(settings)

        async def pump() -> int:
            return await self.pump()

        self.pump_task = self.broker.register_task(pump, task_name=PUMP_TASK)
        self._woken = asyncio.Event()
        self._pumping = asyncio.Lock()
        self._again = False
        self._draining = False
        self._ticker: asyncio.Task[None] | None = None

    # What there is to do

    def chores(self) -> list[tuple[str, Chore]]:
        """The kinds of work, named for the metrics, in the order of `_due`."""
        lease = dt.timedelta(seconds=self.settings.lease_seconds)
        return [
            ("deliveries", lambda: outbox.deliver_due(self.sessions, self.directory, lease=lease)),
            ("resumed_runs", lambda: self.engine.resume_due(self.sessions)),
            (
                "broadcast_recipients",
                lambda: run_due_broadcasts(self.sessions, self.engine, lease=lease),
            ),
            (
                "webhook_posts",
                lambda: webhooks.deliver_due(
                    self.sessions, self.http, allowed=self.webhook_networks, lease=lease
                ),
            ),
            (
                "shop_import_pages",
                lambda: shop_import.run_due_imports(
                    self.sessions,
                    self.http,
                    server_secret=self.server_secret,
                    allowed=self.webhook_networks,
                    lease=lease,
                ),
            ),
            (
                "embedding_batches",
                lambda: knowledge.run_due_generations(self.sessions, self.openai, lease=lease),
            ),
            (
                "integration_calls",
                lambda: integrations.deliver_due(
                    self.integration_context(), self.server_secret, lease=lease
                ),
            ),
        ]

    def integration_context(self) -> IntegrationContext:
        return IntegrationContext(
            self.sessions,
            self.http,
            graph_api_base=self.settings.graph_api_base,
            allowed=self.webhook_networks,
            telegram_api_base=self.settings.telegram_api_base,
        )

    async def pump(self) -> int:
        """Do what is due until nothing is; answers how many pieces of work were done.

        One pump runs at a time in a process: pumps side by side would only fight over the
        same rows (and, on SQLite, the write lock). A pump asked for while one runs makes that
        one look again before it stops.
        """
        if self._pumping.locked() or self._draining:
            self._again = True
            return 0
        async with self._pumping:
            done = 0
            self._again = True
            while self._again:
                self._again = False
                done += await self._work_until_idle()
            return done

    async def _work_until_idle(self) -> int:
        done = 0
        while not self._draining and any(due := await self._due()):
            round_ = 0
            for (kind, chore), wanted in zip(self.chores(), due, strict=True):
                if wanted:
                    work = await chore()
                    JOBS_DONE.labels(kind).inc(work)
                    round_ += work
            if round_ == 0:
                break
            done += round_
        return done

    async def _due(self) -> tuple[bool, ...]:
        """Which kinds of work are due, asked without taking SQLite's write lock: an idle pump,
        which runs every tick, then never holds up the writers, and a busy one takes the lock
        only for the work there is."""
        now = utcnow()
        due = select(
            exists().where(Delivery.status == DeliveryStatus.PENDING, Delivery.due_at <= now),
            exists().where(Run.status == RunStatus.WAITING, Run.due_at <= now),
            exists().where(Broadcast.status.in_(LIVE), Broadcast.next_run_at <= now),
            webhooks.due_now(now),
            shop_import.due_now(now),
            knowledge.due_now(now),
            integrations.due_now(now),
        )
        async with self.read_sessions() as session:
            row = (await session.execute(due)).one()
        return tuple(bool(kind) for kind in row)

    async def settle(self) -> None:
        """Do everything due now, here, after any pump running: what tests wait on instead of
        sleeping."""
        async with self._pumping:
            await self._work_until_idle()

    # Waking the pumps

    def wake(self) -> None:
        """Something became due (a commit queued messages): pump soon."""
        self._woken.set()

    async def start(self) -> None:
        """Start the broker and the ticker that kicks pumps on wake-ups and every tick."""
        await self.broker.startup()
        self._ticker = asyncio.create_task(self._tick(), name="konversation-ticker")

    async def drain(self) -> None:
        """Take no more work, and wait (up to `SHUTDOWN_SECONDS`) for the round of work in hand
        to be done and recorded. Whatever is left is leased work, which another process takes
        over once the lease runs out."""
        self._draining = True
        with suppress(TimeoutError):
            async with asyncio.timeout(SHUTDOWN_SECONDS), self._pumping:
                pass

    async def stop(self) -> None:
        await self.drain()
        if self._ticker is not None:
            self._ticker.cancel()
            with suppress(asyncio.CancelledError):
                await self._ticker
        if isinstance(self.broker, InMemoryBroker):
            await self.broker.wait_all()
        await self.broker.shutdown()
        await self.hub.close()
        await self.http.aclose()

    async def _tick(self) -> None:
        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), TICK_SECONDS)
            self._woken.clear()
            try:
                await self.pump_task.kiq()
            except Exception:  # a broker hiccup must not stop the ticker
                log.exception("Could not kick the pump")


def make_broker(settings: Settings) -> AsyncBroker:
    if settings.redis_url:
        return RedisStreamBroker(
            settings.redis_url,
            queue_name=settings.redis_queue,
            consumer_group_name=settings.redis_queue,
            unacknowledged_lock_timeout=REDIS_REDELIVERY_SECONDS,
            idle_timeout=REDIS_REDELIVERY_SECONDS * 1000,
        )
    return InMemoryBroker()
