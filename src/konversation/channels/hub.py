"""Fan-out of live events (web chat messages) to whoever listens on a topic right now.

`LocalHub` serves one process. Listeners that are not connected miss events: the message log
is what a reconnecting client reads back.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

# A listener that falls this far behind loses its oldest events rather than holding memory.
QUEUE_SIZE = 256


Listening = AbstractAsyncContextManager[asyncio.Queue[dict[str, Any]]]


class Hub(Protocol):
    async def publish(self, topic: str, event: dict[str, Any]) -> None: ...

    def listen(self, topic: str) -> Listening:
        """While open, a queue receiving every event published on `topic`."""
        ...


class LocalHub:
    def __init__(self) -> None:
        self._queues: defaultdict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        for queue in self._queues.get(topic, ()):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)

    def listen(self, topic: str) -> Listening:
        return self._listening(topic)

    @asynccontextmanager
    async def _listening(self, topic: str) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._queues[topic].add(queue)
        try:
            yield queue
        finally:
            self._queues[topic].discard(queue)
            if not self._queues[topic]:
                del self._queues[topic]
