"""Fan-out of live events (web chat messages) to whoever listens on a topic right now.

`LocalHub` serves one process. `RedisHub` serves many: an event published by any process (a
worker sending the bot's answer, another API process) reaches the listeners of every process,
whichever one holds the visitor's connection. Listeners that are not connected miss events:
the message log is what a reconnecting client reads back.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import Any, Protocol

import redis.asyncio as redis

log = logging.getLogger(__name__)

# A listener that falls this far behind loses its oldest events rather than holding memory.
QUEUE_SIZE = 256


Listening = AbstractAsyncContextManager[asyncio.Queue[dict[str, Any]]]


class Hub(Protocol):
    async def publish(self, topic: str, event: dict[str, Any]) -> None: ...

    def listen(self, topic: str) -> Listening:
        """While open, a queue receiving every event published on `topic`."""
        ...

    async def close(self) -> None: ...


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

    async def close(self) -> None:
        """Nothing to let go of."""

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


class RedisHub:
    """Events go through Redis pub/sub, on channels `<prefix>:<topic>`; each process keeps one
    subscription for the topics its own listeners follow, and hands what comes to them."""

    def __init__(self, url: str, *, prefix: str) -> None:
        self._redis = redis.from_url(url)
        self._prefix = prefix + ":hub:"
        self._local = LocalHub()
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._followed: dict[str, int] = {}
        self._reader: asyncio.Task[None] | None = None
        self._changing = asyncio.Lock()

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        await self._redis.publish(self._prefix + topic, json.dumps(event))

    def listen(self, topic: str) -> Listening:
        return self._listening(topic)

    @asynccontextmanager
    async def _listening(self, topic: str) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        async with self._local.listen(topic) as queue:
            await self._follow(topic)
            try:
                yield queue
            finally:
                await self._unfollow(topic)

    async def _follow(self, topic: str) -> None:
        async with self._changing:
            self._followed[topic] = self._followed.get(topic, 0) + 1
            if self._followed[topic] == 1:
                await self._pubsub.subscribe(self._prefix + topic)
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read(), name="konversation-hub")

    async def _unfollow(self, topic: str) -> None:
        async with self._changing:
            self._followed[topic] -= 1
            if self._followed[topic] == 0:
                del self._followed[topic]
                with suppress(redis.RedisError):
                    await self._pubsub.unsubscribe(self._prefix + topic)

    async def _read(self) -> None:
        while self._followed:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except redis.RedisError:
                log.warning("Lost the hub's Redis subscription; subscribing again")
                await asyncio.sleep(1)
                await self._resubscribe()
                continue
            if message is None or message.get("type") != "message":
                continue
            topic = message["channel"].decode().removeprefix(self._prefix)
            await self._local.publish(topic, json.loads(message["data"]))

    async def _resubscribe(self) -> None:
        with suppress(redis.RedisError):
            async with self._changing:
                channels = [self._prefix + topic for topic in self._followed]
                if channels:
                    await self._pubsub.subscribe(*channels)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with suppress(asyncio.CancelledError):
                await self._reader
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        await self._redis.aclose()


def make_hub(redis_url: str | None, *, prefix: str) -> Hub:
    return RedisHub(redis_url, prefix=prefix) if redis_url else LocalHub()
