"""A per-process memory of recently checked API keys, so most requests skip the key lookup.

An entry lives at most `TTL` seconds: a key revoked by another process (another worker, the
CLI) stops working there within that time. A revocation committed in this process forgets
every entry of every cache in the process at once, as does the deletion of a bot (its keys
point at no flow from then on). Entries hold the stored digest, never the token, and a hit
still compares the presented token's digest with it in constant time.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.orm import Mapper, Session, object_session

from konversation.workspaces.models import Bot

if TYPE_CHECKING:
    from konversation.keys.service import KeyContext

TTL = 1.0
_FORGET_ON_COMMIT = "konversation.keys.forget_on_commit"


@dataclass(frozen=True)
class _Entry:
    digest: str
    caller: KeyContext
    expires: float


class KeyCache:
    def __init__(self, *, ttl: float = TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        _LIVE.add(self)

    def get(self, prefix: str) -> tuple[str, KeyContext] | None:
        """The stored digest and the caller for a key prefix checked less than `ttl` ago."""
        entry = self._entries.get(prefix)
        if entry is None:
            return None
        if entry.expires <= self.clock():
            del self._entries[prefix]
            return None
        return entry.digest, entry.caller

    def put(self, prefix: str, digest: str, caller: KeyContext) -> None:
        self._entries[prefix] = _Entry(digest, caller, self.clock() + self.ttl)

    def clear(self) -> None:
        self._entries.clear()


_LIVE: weakref.WeakSet[KeyCache] = weakref.WeakSet()


def forget_all_on_commit(session: Session) -> None:
    """Once `session` commits, no cache in this process remembers any key."""
    if session.info.get(_FORGET_ON_COMMIT):
        return
    session.info[_FORGET_ON_COMMIT] = True
    event.listen(session, "after_commit", _forget_all, once=True)


def _forget_all(session: Session, *_args: Any) -> None:
    session.info.pop(_FORGET_ON_COMMIT, None)
    for cache in list(_LIVE):
        cache.clear()


@event.listens_for(Bot, "after_delete")
def _bot_deleted(_mapper: Mapper[Bot], _connection: Any, bot: Bot) -> None:
    session = object_session(bot)
    if session is not None:
        forget_all_on_commit(session)
