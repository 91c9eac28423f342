"""An engine and session factory for one CLI command."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from konversation.db import make_engine, make_session_factory
from konversation.errors import KonversationError
from konversation.settings import Settings

T = TypeVar("T")


@asynccontextmanager
async def database(
    settings: Settings,
) -> AsyncIterator[tuple[AsyncEngine, async_sessionmaker[AsyncSession]]]:
    engine = make_engine(settings.database_url)
    try:
        yield engine, make_session_factory(engine)
    finally:
        await engine.dispose()


def run_or_exit(work: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; a domain error becomes a red message and exit code 1."""
    try:
        return asyncio.run(work)
    except KonversationError as error:
        Console(stderr=True).print(f"[red]{error.message}[/red]")
        raise typer.Exit(1) from None
