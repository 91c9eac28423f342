"""The hub through Redis: an event published by one process reaches the listeners of another
(a visitor's socket held by one API process gets the answer a worker sent), and only those of
its topic and deployment."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest

from konversation.channels.hub import RedisHub

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def hubs() -> AsyncIterator[tuple[RedisHub, RedisHub]]:
    """Two hubs of one deployment, as two processes have them."""
    prefix = f"hub-test-{secrets.token_hex(4)}"
    one, other = RedisHub(REDIS_URL, prefix=prefix), RedisHub(REDIS_URL, prefix=prefix)
    yield one, other
    for hub in (one, other):
        await hub.close()


async def next_event(queue: asyncio.Queue[dict[str, object]]) -> dict[str, object]:
    return await asyncio.wait_for(queue.get(), 5)


async def test_an_event_published_by_one_process_reaches_listeners_of_another(
    hubs: tuple[RedisHub, RedisHub],
) -> None:
    here, there = hubs
    async with here.listen("chat:ada") as first, here.listen("chat:ada") as second:
        await there.publish("chat:ada", {"type": "message", "text": "Hello Ada"})
        assert await next_event(first) == {"type": "message", "text": "Hello Ada"}
        assert await next_event(second) == {"type": "message", "text": "Hello Ada"}


async def test_listeners_get_only_their_topics_events(hubs: tuple[RedisHub, RedisHub]) -> None:
    here, there = hubs
    async with here.listen("chat:ada") as ada, there.listen("chat:bob") as bob:
        await there.publish("chat:bob", {"text": "for Bob"})
        await here.publish("chat:ada", {"text": "for Ada"})
        assert await next_event(bob) == {"text": "for Bob"}
        assert await next_event(ada) == {"text": "for Ada"}
        await asyncio.sleep(0.2)
        assert (ada.empty(), bob.empty()) == (True, True)


async def test_another_deployment_on_the_same_redis_hears_nothing(
    hubs: tuple[RedisHub, RedisHub],
) -> None:
    here, _ = hubs
    stranger = RedisHub(REDIS_URL, prefix=f"hub-test-{secrets.token_hex(4)}")
    try:
        async with here.listen("chat:ada") as ada:
            await stranger.publish("chat:ada", {"text": "not for this deployment"})
            await here.publish("chat:ada", {"text": "for Ada"})
            assert await next_event(ada) == {"text": "for Ada"}
            assert ada.empty()
    finally:
        await stranger.close()


async def test_a_listener_that_left_and_came_back_hears_again(
    hubs: tuple[RedisHub, RedisHub],
) -> None:
    here, there = hubs
    async with here.listen("chat:ada"):
        pass
    async with here.listen("chat:ada") as ada:
        await there.publish("chat:ada", {"text": "again"})
        assert await next_event(ada) == {"text": "again"}
