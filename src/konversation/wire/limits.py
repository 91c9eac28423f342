"""Rate limits per API key, by class of operation, with the headers clients pace themselves by.

Each key may make so many calls a second of each class: reads (GET), sends (operations that
message subscribers: `send-*` and `broadcast*`) and other writes. Counting is in fixed windows
of one second, in this process by default, or in Redis when one is configured, so that every
process behind a load balancer shares one count per key. Every answer under `/api/` carries
`RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (and the `X-RateLimit-*` pair
the original API sends); a call over the limit is refused with 429 `Too Many Attempts.` and a
`Retry-After`, before anything else is done for it.
"""

from __future__ import annotations

import enum
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Receive, Scope, Send

from konversation.errors import LimitExceeded
from konversation.settings import Settings
from konversation.wire.asgi import caller_of, with_headers
from konversation.wire.errors import error_response
from konversation.wire.router import API_PREFIX

log = logging.getLogger(__name__)

WINDOW_SECONDS = 1
_SEND_PREFIXES = ("/subscriber/send-", "/subscriber/broadcast")


class OperationClass(enum.StrEnum):
    READ = "read"
    SEND = "send"
    WRITE = "write"


def operation_class(method: str, path: str) -> OperationClass:
    """The class an API call counts in; `path` is relative to the API's prefix."""
    if method in {"GET", "HEAD", "OPTIONS"}:
        return OperationClass.READ
    if path.startswith(_SEND_PREFIXES):
        return OperationClass.SEND
    return OperationClass.WRITE


@dataclass(frozen=True)
class Limits:
    """Calls a second allowed per key, by class; 0 lets a class through uncounted."""

    read: int
    send: int
    write: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            read=settings.rate_limit_reads,
            send=settings.rate_limit_sends,
            write=settings.rate_limit_writes,
        )

    def of(self, kind: OperationClass) -> int:
        limit: int = getattr(self, kind.value)
        return limit


class Counter(Protocol):
    async def hit(self, bucket: str, window: int) -> int:
        """Count one call in `bucket` during `window`; answer the window's count so far."""

    async def close(self) -> None: ...


class LocalCounter:
    """Counts in this process's memory; windows that ended are dropped as time moves on."""

    def __init__(self) -> None:
        self._window = -1
        self._counts: dict[str, int] = {}

    async def hit(self, bucket: str, window: int) -> int:
        if window != self._window:
            self._window, self._counts = window, {}
        count = self._counts.get(bucket, 0) + 1
        self._counts[bucket] = count
        return count

    async def close(self) -> None:
        self._counts = {}


class RedisCounter:
    """Counts in Redis, shared by every process using the same Redis and `prefix`."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    async def hit(self, bucket: str, window: int) -> int:
        key = f"{self.prefix}:ratelimit:{bucket}:{window}"
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, WINDOW_SECONDS * 2)
            count, _ = await pipe.execute()
        return int(count)

    async def close(self) -> None:
        await self.redis.aclose()


def make_counter(settings: Settings) -> Counter:
    if settings.redis_url:
        return RedisCounter(Redis.from_url(settings.redis_url), settings.redis_queue)
    return LocalCounter()


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    headers: list[tuple[str, str]]
    retry_after: int


class RateLimiter:
    """Counts each key's calls by class against `limits`; `clock` gives the time in seconds."""

    def __init__(
        self, limits: Limits, counter: Counter, clock: Callable[[], float] = time.time
    ) -> None:
        self.limits = limits
        self.counter = counter
        self.clock = clock

    async def check(self, kind: OperationClass, caller: str) -> Verdict | None:
        """The verdict on one more call, or None when the class is not limited."""
        limit = self.limits.of(kind)
        if limit <= 0:
            return None
        now = self.clock()
        window = math.floor(now / WINDOW_SECONDS)
        count = await self._count(f"{kind.value}:{caller}", window)
        reset = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
        headers = _headers(limit, max(0, limit - count), reset)
        return Verdict(allowed=count <= limit, headers=headers, retry_after=reset)

    async def _count(self, bucket: str, window: int) -> int:
        try:
            return await self.counter.hit(bucket, window)
        except (RedisError, OSError):
            # A limit that cannot be counted is not worth refusing every call for.
            log.warning("Rate limit counter unavailable; letting the call through", exc_info=True)
            return 0

    async def close(self) -> None:
        await self.counter.close()


class RateLimits:
    """ASGI middleware applying the app's `RateLimiter` to the calls under `/api/`."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(f"{API_PREFIX}/"):
            await self.app(scope, receive, send)
            return
        kind = operation_class(scope["method"], path.removeprefix(API_PREFIX))
        verdict = await self.limiter.check(kind, caller_of(scope))
        if verdict is None:
            await self.app(scope, receive, send)
        elif verdict.allowed:
            await self.app(scope, receive, with_headers(send, verdict.headers))
        else:
            response = error_response(LimitExceeded(retry_after=verdict.retry_after))
            response.headers.update(dict(verdict.headers))
            await response(scope, receive, send)


def _headers(limit: int, remaining: int, reset: int) -> list[tuple[str, str]]:
    return [
        ("RateLimit-Limit", str(limit)),
        ("RateLimit-Remaining", str(remaining)),
        ("RateLimit-Reset", str(reset)),
        ("X-RateLimit-Limit", str(limit)),
        ("X-RateLimit-Remaining", str(remaining)),
    ]
