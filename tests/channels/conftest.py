"""Fixtures of the channel tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """A client of our own for the channel adapters under test to call the fakes with."""
    async with httpx.AsyncClient(timeout=5) as client:
        yield client
