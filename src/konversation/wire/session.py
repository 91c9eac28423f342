"""The unit of work of one request: committed before the answer is sent, rolled back on error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# scope="function": the commit happens before the response leaves, so a failed commit is a 5xx
# rather than a 200 for a change that was never stored.
Session = Annotated[AsyncSession, Depends(_session, scope="function")]
