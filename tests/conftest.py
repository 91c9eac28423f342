"""Shared fixtures: a real database (SQLite or PostgreSQL), the real app, and real API keys.

`KONVERSATION_TEST_DATABASE=postgresql` runs the suite against a throwaway database on the
local PostgreSQL server (127.0.0.1:5432, trust auth); the default is a SQLite file. The schema
is built by the Alembic history, and every table is emptied after each test.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from builders import Tenant, make_tenant
from konversation.app import create_app
from konversation.db import make_engine, make_session_factory
from konversation.models import Base
from konversation.schema import upgrade
from konversation.settings import Settings

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
SERVER_SECRET = "test-server-secret"


def _backend() -> str:
    backend = os.environ.get("KONVERSATION_TEST_DATABASE", "sqlite")
    if backend not in {"sqlite", "postgresql"}:
        raise pytest.UsageError(
            f"KONVERSATION_TEST_DATABASE must be sqlite or postgresql, not {backend}"
        )
    return backend


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    if _backend() == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'konversation.db'}"
        return
    name = f"konversation_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(f"{PG_SERVER}/test")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def new_postgresql() -> AsyncIterator[str]:
    """The URL of a new, empty PostgreSQL database of the test's own, whatever the suite runs
    on: for tests of processes that set a database up themselves."""
    name = f"konversation_own_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(f"{PG_SERVER}/test")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


CLOSED_PORT = "http://127.0.0.1:9"


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=SERVER_SECRET,
        secret_file=tmp_path_factory.mktemp("secret") / "secret.key",
        # Tests call far faster than any integration may; tests/wire/test_rate_limits.py
        # builds apps with the limits on.
        rate_limit_reads=0,
        rate_limit_sends=0,
        rate_limit_writes=0,
        # Event webhooks may post to the sinks the tests serve on loopback, and nowhere else
        # that is not public.
        webhook_allowed_networks=["127.0.0.0/8", "::1/128"],
        # Outside services are never reached from a test that forgets its stand-in: these
        # addresses refuse every connection.
        telegram_api_base=CLOSED_PORT,
        graph_api_base=CLOSED_PORT,
        openai_api_base=CLOSED_PORT,
    )


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(settings.database_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_session_factory(engine)


@pytest.fixture(autouse=True)
async def _empty_tables(engine: AsyncEngine) -> AsyncIterator[None]:
    yield
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Emptying only the tables a test wrote to, and restarting every id sequence, is
            # many times faster than truncating all tables after every test.
            used = " UNION ALL ".join(
                f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in tables
            )
            written = set((await connection.execute(text(used))).scalars())
            tables = [t for t in tables if t in written]
            await connection.execute(
                text("SELECT setval(oid::regclass, 1, false) FROM pg_class WHERE relkind = 'S'")
            )
        for table in tables:
            await connection.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session for arranging and inspecting data; call `commit()` before the API reads it.

    Its transactions start deferred, so a read made while arranging never holds SQLite's
    write lock against the app under test.
    """
    async with make_session_factory(engine, read_only=True)() as session:
        yield session


@pytest.fixture(scope="session")
def app(settings: Settings, engine: AsyncEngine):  # type: ignore[no-untyped-def]
    return create_app(settings)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """An HTTP client on the real app, with no key."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def tenant(sessions: async_sessionmaker[AsyncSession]) -> Tenant:
    """A workspace with an owner, a bot, and a key holding both permissions."""
    return await make_tenant(sessions, SERVER_SECRET.encode())


@pytest.fixture
async def api(app, tenant: Tenant) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """An HTTP client on the real app, sending the tenant's key like any integration."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"Authorization": f"Bearer {tenant.token}", "Accept": "application/json"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver/api", headers=headers
    ) as client:
        yield client


@pytest.fixture
async def client_for(app) -> AsyncIterator[Callable[[str], httpx.AsyncClient]]:  # type: ignore[no-untyped-def]
    """Make HTTP clients on the real app that send a given key."""
    made: list[httpx.AsyncClient] = []

    def make(token: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        client = httpx.AsyncClient(
            transport=transport,
            base_url="http://testserver/api",
            headers={"Authorization": f"Bearer {token}"},
        )
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
def server_secret() -> bytes:
    return SERVER_SECRET.encode()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgresql_only: needs PostgreSQL")


def pytest_report_header() -> Iterator[str]:
    yield f"konversation database: {_backend()}"
