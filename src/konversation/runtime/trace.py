"""Which nodes the turns run, for a caller that watches them: the editor's preview highlights
the node its conversation is at.

Watching is scoped to the caller's context (a request), so the turns of every other subscriber
record nothing and pay nothing for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Executed = list[tuple[int, str]]

_watched: ContextVar[Executed | None] = ContextVar("konversation_executed_nodes", default=None)


@contextmanager
def watching() -> Iterator[Executed]:
    """Collects `(flow id, node id)` of each node run inside the block, in order."""
    executed: Executed = []
    token = _watched.set(executed)
    try:
        yield executed
    finally:
        _watched.reset(token)


def ran(flow_id: int, node_id: str) -> None:
    executed = _watched.get()
    if executed is not None:
        executed.append((flow_id, node_id))
