"""The unit of work of one request: committed before the answer is sent, rolled back on error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.db import session_scope


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    reads_only = request.method in {"GET", "HEAD"}
    factory = request.app.state.read_sessions if reads_only else request.app.state.sessions
    async with session_scope(factory) as session:
        yield session


# scope="function": the commit happens before the response leaves, so a failed commit is a 5xx
# rather than a 200 for a change that was never stored.
Session = Annotated[AsyncSession, Depends(_session, scope="function")]
