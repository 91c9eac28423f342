"""Engine, sessions and column types shared by every domain's models."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    MetaData,
    Select,
    Table,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, QueryableAttribute, Session, mapped_column
from sqlalchemy.types import TypeDecorator

from konversation.sqlite import BEGIN_OPTION, make_sqlite_engine

R = TypeVar("R")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONDoc = JSON().with_variant(JSONB(), "postgresql")


# Set on a session that queued work for the background (messages, event webhooks), so that its
# commit wakes the workers at once.
QUEUED = "konversation.work_queued"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores naive UTC on every database and hands back aware UTC datetimes."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous: pass an aware one")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(model: type[Base]) -> Table:
    """A model's table, for Core statements that skip the ORM's per-object work."""
    return cast(Table, model.__table__)


async def insert_rows(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """INSERT `rows` (each naming the same columns) in one executemany of the driver.

    Each value goes through its column type's bind processor, as SQLAlchemy would send it, but
    without SQLAlchemy's per-row statement work, which costs ten times what the database does
    for a row: what bulk writers such as broadcasts need to write thousands of rows a second.
    """
    if not rows:
        return
    connection = await session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    compiled = insert(table).compile(dialect=dialect, column_keys=names)
    order = list(compiled.positiontup or ()) if compiled.positional else names
    processors = [_bind_processor(table.c[name], dialect) for name in order]

    def prepared(row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(
            value if process is None else process(value)
            for value, process in zip((row[name] for name in order), processors, strict=True)
        )

    parameters: list[Any] = [prepared(row) for row in rows]
    if not compiled.positional:
        parameters = [dict(zip(order, values, strict=True)) for values in parameters]
    await connection.exec_driver_sql(str(compiled), parameters)


def _bind_processor(column: ColumnElement[Any], dialect: Dialect) -> Any:
    return column.type.dialect_impl(dialect).bind_processor(dialect)


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Leased:
    """A row of background work that one worker holds at a time: until `leased_until`, after
    which (the worker died, say) another may take it over (see `konversation.jobs.leases`)."""

    leased_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class LeasedJob(Leased):
    """A long job, run step by step under a lease, with when it started and finished."""

    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


def dialect_insert(session: AsyncSession) -> Any:
    """The database's own INSERT construct, for its ON CONFLICT upserts."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if is_sqlite(url):
        return make_sqlite_engine(url, **kwargs)
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def make_session_factory(
    engine: AsyncEngine,
    *,
    read_only: bool = False,
    sync_session_class: type[Session] = Session,
    info: dict[str, Any] | None = None,
) -> async_sessionmaker[AsyncSession]:
    """Sessions for units of work; read-only ones let SQLite readers run side by side.

    `sync_session_class` is a Session subclass carrying event hooks for these sessions only;
    `info` starts every session's `info`, to hand services what they need from outside.
    """
    bind = engine.execution_options(**{BEGIN_OPTION: "DEFERRED"}) if read_only else engine
    return async_sessionmaker(
        bind,
        expire_on_commit=False,
        autoflush=True,
        sync_session_class=sync_session_class,
        info=info,
    )


@asynccontextmanager
async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit when the block ends normally, roll back when it raises."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


@dataclass(frozen=True)
class PageRequest:
    """Which slice of a list a caller wants; pages count from 1."""

    page: int = 1
    limit: int = 10

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


async def fetch_page(
    session: AsyncSession, query: Select[R], window: PageRequest
) -> tuple[Sequence[R], int]:
    """One page of `query`'s rows and the total number of rows it matches."""
    rows = (await session.scalars(query.limit(window.limit).offset(window.offset))).all()
    if len(rows) < window.limit and (rows or window.offset == 0):
        # A short page is the last one: it tells the total without a count.
        return rows, window.offset + len(rows)
    return rows, await count_rows(session, query)


async def count_rows(session: AsyncSession, query: Select[*tuple[Any, ...]]) -> int:
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return int(total or 0)


def contains_text(column: QueryableAttribute[str], text: str) -> ColumnElement[bool]:
    """Case-insensitive substring match, with LIKE's wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")
