"""SQLite for the async engine: the standard sqlite3 module, called on the event loop's thread.

The usual async driver, aiosqlite, runs each connection on a thread of its own and hands every
call over to it and back: about 0.1 ms of CPU per hop and four hops per statement, twenty times
what SQLite itself takes to answer the small queries a chatbot makes. Here the calls run where
they are made. A query holds up the loop only for as long as SQLite works on it, which for an
indexed lookup is a few microseconds.

Waiting is the one thing SQLite must not do on the loop's thread, so nothing here waits inside
SQLite: writers of this process queue on an asyncio lock before BEGIN IMMEDIATE (see
`_WriterQueue`), and a BEGIN that finds another process writing sleeps on the loop between
tries instead of in SQLite's busy handler.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import event, pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import await_
from sqlalchemy.util.concurrency import in_greenlet

DRIVER = "konversation"
# The execution option naming how a transaction begins: IMMEDIATE (the default) or DEFERRED.
BEGIN_OPTION = "sqlite_begin"
# How long a writer waits for the write lock before SQLite's "database is locked".
BUSY_SECONDS = 10.0
# SQLite's own busy wait, which blocks the loop: only for the rare reader that meets a
# checkpoint or recovery; writers wait for other processes in `_begin_waiting`.
BUSY_TIMEOUT_MS = 20
_SQLITE_BUSY = 5
_WRITING = "konversation_writing"


class SQLiteOnLoop(SQLiteDialect_pysqlite):
    """The pysqlite dialect, declared async: the async engine runs it inside its greenlets."""

    driver = DRIVER
    is_async = True
    supports_statement_cache = True

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        return pool.AsyncAdaptedQueuePool if cls._is_url_file_db(url) else pool.StaticPool


registry.register(f"sqlite.{DRIVER}", __name__, SQLiteOnLoop.__name__)


class _Cursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        _pass_through_the_loop()
        return super().execute(sql, parameters)

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> Any:
        _pass_through_the_loop()
        return super().executemany(sql, seq_of_parameters)

    async def _async_soft_close(self) -> None:
        """What the async engine awaits after each statement, for drivers that must fetch the
        rows before the cursor goes: these are read from the cursor itself, as they come."""


def _pass_through_the_loop() -> None:
    # The async engine checks that each of its calls awaited something, to catch sync drivers
    # used by mistake: hand it a finished awaitable, which costs a greenlet switch, no more.
    if in_greenlet():
        await_(_nothing())


async def _nothing() -> None:
    pass


class _Connection(sqlite3.Connection):
    def cursor(self, factory: Any = _Cursor) -> Any:
        return super().cursor(factory)


def make_sqlite_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine on the SQLite database of `url`, whichever driver the URL names."""
    parsed = make_url(url).set(drivername=f"sqlite+{DRIVER}")
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(parsed, connect_args={"factory": _Connection}, **kwargs)
    _configure(engine)
    return engine


def _configure(engine: AsyncEngine) -> None:
    writers = _WriterQueue(engine.url.render_as_string(hide_password=True))

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # The sqlite3 module opens transactions on its own schedule, which breaks SAVEPOINTs:
        # take that job away from it and let SQLAlchemy emit BEGIN itself (see the begin hook).
        dbapi_conn.isolation_level = None
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            f"busy_timeout={BUSY_TIMEOUT_MS}",
        ):
            dbapi_conn.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A deferred transaction that reads and then writes fails at once ("database is
        # locked") if another writer committed meanwhile; no busy wait can help it. So a unit
        # of work that may write takes the write lock up front and queues instead.
        mode = conn.get_execution_options().get(BEGIN_OPTION, "IMMEDIATE")
        if mode != "IMMEDIATE":
            conn.exec_driver_sql(f"BEGIN {mode}")
            return
        queued = writers.enter(conn.info)
        try:
            if queued:
                _begin_waiting(conn)
            else:  # the queue did not move for the whole busy timeout: say so now
                conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writers.leave(conn.info)
            raise

    @event.listens_for(engine.sync_engine.pool, "reset")
    def _on_reset(_dbapi_conn: Any, record: Any, _state: Any) -> None:
        writers.leave(record.info)

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        writers.leave(record.info)


def _begin_waiting(conn: Any) -> None:
    """BEGIN IMMEDIATE, sleeping on the loop while another process holds the write lock."""
    deadline = time.monotonic() + BUSY_SECONDS
    pause = 0.002
    while in_greenlet() and time.monotonic() < deadline:
        try:
            conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != _SQLITE_BUSY:
                raise
        await_(asyncio.sleep(pause))
        pause = min(pause * 2, 0.05)
    conn.exec_driver_sql("BEGIN IMMEDIATE")  # the last try: SQLAlchemy reports its error


# One queue per database file and event loop: asyncio locks belong to the loop they wait on.
_write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


class _WriterQueue:
    """Hands SQLite's single write lock to the writers of this process in arrival order.

    A writer of this process that found the lock taken would otherwise poll for it, so under
    load the lock sits free while writers sleep. Queueing on an asyncio lock first means a
    writer starts the moment the one before it is done. The lock is held from BEGIN IMMEDIATE
    until the connection goes back to the pool, which is right after its COMMIT or ROLLBACK.
    """

    def __init__(self, database: str) -> None:
        self.database = database

    def enter(self, info: dict[str, Any]) -> bool:
        """Wait for this process's other writers; False when they took too long, as when the
        lock's holder is stuck, or is this very task in a nested unit of work."""
        if _WRITING in info or not in_greenlet():
            return True  # already the writer (a connection reused after commit), or not async
        lock = _write_locks.setdefault(asyncio.get_running_loop(), {}).setdefault(
            self.database, asyncio.Lock()
        )
        if not await_(_acquire_within(lock, BUSY_SECONDS)):
            return False
        info[_WRITING] = lock
        return True

    @staticmethod
    def leave(info: dict[str, Any]) -> None:
        lock = info.pop(_WRITING, None)
        if lock is not None:
            lock.release()


async def _acquire_within(lock: asyncio.Lock, seconds: float) -> bool:
    try:
        async with asyncio.timeout(seconds):
            await lock.acquire()
    except TimeoutError:
        return False
    return True
