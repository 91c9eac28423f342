"""A real uvicorn server on loopback, for tests that need a browser or another process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from konversation.app import create_app
from konversation.db import session_scope
from konversation.demo import create_demo
from konversation.settings import Settings
from loopback import serving


@pytest.fixture
def live_server(settings: Settings, engine: object) -> Iterator[str]:
    """Per test: a live server runs background jobs, which must not outlive the test's data."""
    with serving(create_app(settings)) as url:
        yield url


@pytest.fixture
async def live_api_key(sessions: async_sessionmaker[AsyncSession], server_secret: bytes) -> str:
    async with session_scope(sessions) as session:
        return (await create_demo(session, server_secret=server_secret)).api_key
