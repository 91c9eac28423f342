"""Settings of the Python process that serves or works: what `konversation serve`, `worker` and
`scheduler` apply at start."""

from __future__ import annotations

import gc

# Collections of the youngest generation after this many new container objects (Python's
# default is 700). A turn or a request makes thousands of short-lived ORM and JSON objects;
# collecting that often cost a sixth of a broadcast's time, and the objects die young anyway.
YOUNG_THRESHOLD = 50_000


def tune_garbage_collector() -> None:
    """Collect less often, and leave what start-up loaded (modules, tables, routes) out of
    every later collection."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
