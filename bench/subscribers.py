"""How the subscriber search scales: the same requests against a small and a large bot.

For each size, a fresh bot is filled through bulk inserts (subscribers with a channel, about five
of fifty tags each and three user fields, one of them an external customer id), with the
maintained counts (per-status counts, each tag's subscriber_count) kept equal to the data. Then
the real app answers the requests a client makes, through HTTP on the ASGI app with a real API
key, several times each; the table shows the median of each at each size and the ratio of the
largest size to the smallest. Every answer is checked, so a fast wrong answer cannot pass.

    .venv/bin/python bench/subscribers.py                        # SQLite, 10,000 and 1,000,000
    .venv/bin/python bench/subscribers.py --sizes 1000,100000 --repeat 9
    .venv/bin/python bench/subscribers.py --postgresql           # a throwaway database on
                                                                 # postgresql://postgres@127.0.0.1
    .venv/bin/python bench/subscribers.py --database-url URL     # an existing database

SQLite files go to a temporary directory that is removed at the end; with `--postgresql` the
database is created and dropped by the script.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import os
import platform
import random
import secrets
import shlex
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import fastapi
import httpx
import sqlalchemy
from sqlalchemy import BigInteger, cast, event, func, insert, literal, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from konversation import __version__
from konversation.app import create_app
from konversation.audit.service import Actor
from konversation.db import UTCDateTime, make_engine, make_session_factory, session_scope
from konversation.flows import service as flows
from konversation.flows.models import FieldScope, FlowKind, Tag
from konversation.ids import Kind, format_ns
from konversation.keys import service as keys
from konversation.keys.models import Permission
from konversation.schema import upgrade
from konversation.settings import Settings
from konversation.subscribers.models import (
    ConversationStatus,
    StatusCount,
    Subscriber,
    SubscriberChannel,
    SubscriberFieldValue,
    SubscriberTag,
)
from konversation.workspaces import service as workspaces
from konversation.workspaces.models import BotCounter

SERVER_SECRET = "bench-server-secret"
DEFAULT_POSTGRESQL = "postgresql://postgres@127.0.0.1:5432"
TAGS = 50
TAG_SHARE = 10  # each tag on one subscriber in ten: five of the fifty each, on average
BATCH = 20_000
FILL_CACHE_KIB = 1024 * 1024
CITIES = ("Lisbon", "Osaka", "Lagos", "Lima", "Perth", "Oslo", "Quito", "Hanoi")
# Mostly closed conversations, as in a bot that has run for a while.
STATUSES = (
    (ConversationStatus.DONE, 0.80),
    (ConversationStatus.OPEN, 0.15),
    (ConversationStatus.PENDING, 0.04),
    (ConversationStatus.SPAM, 0.01),
)
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
YEAR_SECONDS = 365 * 24 * 3600


# Filling a bot


@dataclass(frozen=True)
class Bot:
    """What the measured requests need to know about a filled bot."""

    size: int
    bot_id: int
    token: str
    tag_ns: str
    tag_size: int
    customer_field_ns: str
    fill_seconds: float

    def user_ns(self, number: int) -> str:
        return format_ns(self.bot_id, Kind.SUBSCRIBER, number)

    @property
    def probe(self) -> int:
        """The subscriber looked up by id, phone and customer id: one from the middle."""
        return self.size // 2 + 1


def customer_id(number: int) -> str:
    return f"CUST-{number:08d}"


def phone_digits(number: int) -> str:
    return f"447{number:09d}"


async def fill(engine: AsyncEngine, size: int) -> Bot:
    started = time.perf_counter()
    bot_id, token, tag_ids, field_ids = await _make_bot(engine, size)
    first_id = await _next_id(engine, Subscriber)
    rng = random.Random(size)
    statuses: Counter[str] = Counter()
    for start in range(0, size, BATCH):
        numbers = range(start + 1, min(size, start + BATCH) + 1)
        people = [_person(rng, bot_id, first_id, n) for n in numbers]
        statuses.update(p["status"] for p in people)
        async with engine.begin() as connection:
            await connection.execute(insert(Subscriber), people)
            await connection.execute(insert(SubscriberChannel), [_channel(p) for p in people])
            await connection.execute(
                insert(SubscriberFieldValue),
                [row for p in people for row in _field_values(rng, p, field_ids)],
            )
        _progress(f"  {size:,} subscribers: {numbers[-1]:,} written")
    tag_sizes = await _tag_subscribers(engine, bot_id, tag_ids)
    await _keep_counts(engine, bot_id, size, statuses, tag_sizes)
    _progress("")
    tag_number = await _tag_number(engine, tag_ids[0])
    return Bot(
        size=size,
        bot_id=bot_id,
        token=token,
        tag_ns=format_ns(bot_id, Kind.TAG, tag_number),
        tag_size=tag_sizes[tag_ids[0]],
        customer_field_ns=format_ns(bot_id, Kind.FIELD, 1),
        fill_seconds=time.perf_counter() - started,
    )


async def _make_bot(engine: AsyncEngine, size: int) -> tuple[int, str, list[int], list[int]]:
    """A workspace with its owner, a bot, a key, the tags and the user fields, via the services."""
    async with session_scope(make_session_factory(engine)) as session:
        owner = await workspaces.create_user(
            session,
            name="Bench Owner",
            email=f"bench-{size}-{secrets.token_hex(4)}@example.com",
            password=secrets.token_urlsafe(16),
        )
        workspace = await workspaces.create_workspace(session, name="Bench", owner=owner)
        bot = await workspaces.create_bot(session, workspace.id, name=f"{size:,} subscribers")
        await flows.create_flow(session, bot.id, name="Main flow", kind=FlowKind.MAIN)
        issued = await keys.create_key(
            session,
            workspace.id,
            name="bench",
            bot_id=bot.id,
            permissions=[p.value for p in Permission],
            server_secret=SERVER_SECRET.encode(),
            by=Actor.command_line(),
        )
        fields = [
            await flows.create_field(
                session, bot.id, scope=FieldScope.USER, name=name, var_type=var_type
            )
            for name, var_type in (("customer_id", "text"), ("age", "number"), ("city", "text"))
        ]
        tags = [await flows.create_tag(session, bot.id, name=f"tag {n}") for n in range(TAGS)]
        return bot.id, issued.token, [t.id for t in tags], [f.id for f in fields]


async def _next_id(engine: AsyncEngine, model: type[Subscriber]) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.coalesce(func.max(model.id), 0))) or 0) + 1


def _person(rng: random.Random, bot_id: int, first_id: int, number: int) -> dict[str, Any]:
    created = NOW - dt.timedelta(seconds=rng.randrange(YEAR_SECONDS))
    active = created + (NOW - created) * rng.random()
    status = rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES])[0].value
    digits = phone_digits(number)
    return {
        "id": first_id + number - 1,
        "bot_id": bot_id,
        "number": number,
        "user_id": digits,
        "name": f"Person {number}",
        "first_name": "Person",
        "last_name": str(number),
        "email": f"person{number}@example.com",
        "phone": f"+{digits}",
        "phone_tail": digits[-9:],
        "status": status,
        "is_subscribed": True,
        "subscribed_at": created,
        "last_interaction_at": active,
        "activity_at": active,
        "last_message_at": active,
        "created_at": created,
        "done_at": active if status == ConversationStatus.DONE else None,
    }


def _channel(person: dict[str, Any]) -> dict[str, Any]:
    return {
        "subscriber_id": person["id"],
        "type": "whatsapp",
        "user_id": person["user_id"],
        "channel_id": None,
        "subscribed_at": person["subscribed_at"],
    }


def _field_values(
    rng: random.Random, person: dict[str, Any], field_ids: list[int]
) -> Iterator[dict[str, Any]]:
    customer, age, city = field_ids
    values = ((customer, customer_id(person["number"])), (age, rng.randint(18, 90)))
    for field_id, value in (*values, (city, rng.choice(CITIES))):
        yield {
            "subscriber_id": person["id"],
            "field_id": field_id,
            "value": value,
            "value_key": str(value),
        }


async def _tag_subscribers(engine: AsyncEngine, bot_id: int, tag_ids: list[int]) -> Counter[int]:
    """Each tag on about a tenth of the subscribers (five tags each on average), chosen by a
    hash the database computes: millions of rows without sending each one from Python."""
    sizes: Counter[int] = Counter()
    for index, tag_id in enumerate(tag_ids):
        mixed = cast(Subscriber.number, BigInteger) * 2_654_435_761 + index * 40_503
        chosen = mixed % 1_000_003 % TAG_SHARE == 0
        async with engine.begin() as connection:
            await connection.execute(
                insert(SubscriberTag).from_select(
                    ["subscriber_id", "tag_id", "created_at"],
                    select(Subscriber.id, literal(tag_id), literal(NOW, UTCDateTime())).where(
                        Subscriber.bot_id == bot_id, chosen
                    ),
                )
            )
            sizes[tag_id] = int(
                await connection.scalar(select(func.count()).where(SubscriberTag.tag_id == tag_id))
                or 0
            )
        _progress(f"  tags: {index + 1} of {len(tag_ids)} given")
    return sizes


async def _keep_counts(
    engine: AsyncEngine, bot_id: int, size: int, statuses: Counter[str], tags: Counter[int]
) -> None:
    """What the services keep as subscribers come and go, set to match the inserted rows."""
    async with engine.begin() as connection:
        await connection.execute(
            insert(StatusCount),
            [
                {"bot_id": bot_id, "status": status.value, "count": statuses[status.value]}
                for status, _ in STATUSES
            ],
        )
        for tag_id, count in tags.items():
            await connection.execute(
                update(Tag).where(Tag.id == tag_id).values(subscriber_count=count)
            )
        await connection.execute(
            insert(BotCounter).values(bot_id=bot_id, kind=Kind.SUBSCRIBER.value, value=size)
        )
        if connection.dialect.name == "postgresql":
            # Rows were given their ids: move the sequences past them for later inserts.
            for table in ("subscribers", "subscriber_channels"):
                await connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    async with engine.connect() as connection:
        # What autovacuum does on its own shortly after a bulk load.
        if connection.dialect.name == "postgresql":
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("ANALYZE"))


async def _tag_number(engine: AsyncEngine, tag_id: int) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(Tag.number).where(Tag.id == tag_id)) or 0)


def _progress(line: str) -> None:
    print(f"\r{line:<60}", end="" if line else "\n", file=sys.stderr, flush=True)


# Measuring


@dataclass(frozen=True)
class Probe:
    """One request a client makes, and what its answer must hold."""

    label: str
    path: str
    params: Callable[[Bot], dict[str, str]]
    check: Callable[[Bot, dict[str, Any]], bool]


def _page_of(count: int) -> Callable[[Bot, dict[str, Any]], bool]:
    return lambda bot, body: len(body["data"]) == min(count, bot.size)


def _only_the_probe(bot: Bot, body: dict[str, Any]) -> bool:
    return [s["user_ns"] for s in body["data"]] == [bot.user_ns(bot.probe)]


PROBES = (
    Probe(
        "list page (limit 100)",
        "/subscribers",
        lambda bot: {"limit": "100"},
        lambda bot, body: _page_of(100)(bot, body) and body["meta"]["total"] == bot.size,
    ),
    Probe(
        "page filtered by tag",
        "/subscribers",
        lambda bot: {"limit": "100", "tag_ns": bot.tag_ns},
        lambda bot, body: (
            len(body["data"]) == min(100, bot.tag_size) and body["meta"]["total"] == bot.tag_size
        ),
    ),
    Probe(
        "by user field value (customer id)",
        "/subscribers",
        lambda bot: {
            "user_field_ns": bot.customer_field_ns,
            "user_field_value": customer_id(bot.probe),
        },
        _only_the_probe,
    ),
    Probe(
        "by phone (no +)",
        "/subscribers",
        lambda bot: {"phone": phone_digits(bot.probe)},
        _only_the_probe,
    ),
    Probe(
        "get-info",
        "/subscriber/get-info",
        lambda bot: {"user_ns": bot.user_ns(bot.probe)},
        lambda bot, body: body["data"]["user_ns"] == bot.user_ns(bot.probe),
    ),
    Probe(
        "count (bot-users-count)",
        "/flow/bot-users-count",
        lambda bot: {},
        lambda bot, body: sum(row["num"] for row in body["data"]) == bot.size,
    ),
)


async def measure(url: str, bots: list[Bot], repeat: int) -> list[dict[str, float]]:
    """The median time of each probe at each size, in milliseconds.

    The sizes take turns request by request, after one unmeasured warm-up each, so that whatever
    else the machine is doing meanwhile weighs on every size alike.
    """
    app = create_app(Settings(database_url=url, secret_key=SERVER_SECRET))
    times: dict[tuple[str, int], list[float]] = defaultdict(list)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench/api") as client:
            for probe in PROBES:
                for turn in range(repeat + 1):
                    for bot in bots:
                        elapsed = await _timed(client, probe, bot)
                        if turn:
                            times[probe.label, bot.size].append(elapsed)
    finally:
        await app.state.engine.dispose()
    return [
        {probe.label: statistics.median(times[probe.label, bot.size]) for probe in PROBES}
        for bot in bots
    ]


async def _timed(client: httpx.AsyncClient, probe: Probe, bot: Bot) -> float:
    """How long the probe's request takes, in milliseconds; a wrong answer stops everything."""
    headers = {"Authorization": f"Bearer {bot.token}", "Accept": "application/json"}
    started = time.perf_counter()
    response = await client.get(probe.path, params=probe.params(bot), headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200 or not probe.check(bot, response.json()):
        raise SystemExit(
            f"{probe.label} at {bot.size:,}: wrong answer "
            f"{response.status_code} {response.text[:300]}"
        )
    return elapsed


# Databases


@asynccontextmanager
async def database(args: argparse.Namespace) -> AsyncIterator[str]:
    """The database URL to fill: the one given, a throwaway PostgreSQL one, or a SQLite file."""
    if args.database_url:
        yield args.database_url
    elif args.postgresql:
        name = f"konversation_bench_{secrets.token_hex(4)}"
        admin = await asyncpg.connect(f"{args.postgresql}/postgres")
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
            yield f"{args.postgresql.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    else:
        with tempfile.TemporaryDirectory(prefix="konversation-bench-") as directory:
            yield f"sqlite:///{Path(directory) / 'bench.db'}"


def roomy_cache(engine: AsyncEngine) -> None:
    """For the fill alone, a SQLite page cache big enough to keep the indexes being written in
    memory (the app measured keeps its own, default, cache)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA cache_size=-{FILL_CACHE_KIB}")
        cursor.close()


async def settle(engine: AsyncEngine) -> None:
    """Leave the database as a server running for a while has it: SQLite's write-ahead log
    folded into the database file, and the fill's garbage collected."""
    if engine.dialect.name == "sqlite":
        async with engine.connect() as connection:
            # On the driver's own connection: SQLAlchemy's would open a transaction first.
            raw = await connection.get_raw_connection()
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    gc.collect()


async def database_version(engine: AsyncEngine) -> str:
    if engine.dialect.name == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    async with engine.connect() as connection:
        version = await connection.scalar(text("SHOW server_version"))
    return f"PostgreSQL {version}"


# Report


def report(bots: list[Bot], results: list[dict[str, float]], machine: str, repeat: int) -> None:
    sizes = [f"{bot.size:,}" for bot in bots]
    width = max(len(p.label) for p in PROBES) + 2
    print()
    print(f"Median time per request, milliseconds ({repeat} repetitions after a warm-up)")
    print("request".ljust(width) + "".join(s.rjust(12) for s in sizes) + "ratio".rjust(9))
    for probe in PROBES:
        figures = [result[probe.label] for result in results]
        ratio = figures[-1] / figures[0]
        row = "".join(f"{f:12.2f}" for f in figures)
        print(probe.label.ljust(width) + row + f"{ratio:9.2f}")
    fills = "".join(f"{bot.fill_seconds:12.1f}" for bot in bots)
    print("(fill, seconds)".ljust(width) + fills)
    print()
    print(f"machine: {machine}")
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")


def machine_description(database: str) -> str:
    return (
        f"{os.cpu_count()} cores, {platform.machine()}, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; {database}; SQLAlchemy {sqlalchemy.__version__}, "
        f"FastAPI {fastapi.__version__}, httpx {httpx.__version__}, konversation {__version__}"
    )


async def main(args: argparse.Namespace) -> None:
    async with database(args) as url:
        engine = make_engine(url)
        roomy_cache(engine)
        try:
            await upgrade(engine)
            version = await database_version(engine)
            bots: list[Bot] = []
            for size in args.sizes:
                _progress(f"  {size:,} subscribers: filling")
                bots.append(await fill(engine, size))
                print(
                    f"filled {size:,} subscribers in {bots[-1].fill_seconds:.1f} s", file=sys.stderr
                )
            await settle(engine)
            results = await measure(url, bots, args.repeat)
        finally:
            await engine.dispose()
    report(bots, results, machine_description(version), args.repeat)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=lambda text: sorted(int(n.replace("_", "")) for n in text.split(",")),
        default=[10_000, 1_000_000],
        help="comma-separated bot sizes, e.g. 10000,1000000 (the default)",
    )
    parser.add_argument("--repeat", type=int, default=7, help="measured requests per figure")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--database-url", help="an existing database to fill (SQLAlchemy URL)")
    target.add_argument(
        "--postgresql",
        nargs="?",
        const=DEFAULT_POSTGRESQL,
        metavar="SERVER_URL",
        help=f"create and drop a throwaway database on this server ({DEFAULT_POSTGRESQL})",
    )
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
