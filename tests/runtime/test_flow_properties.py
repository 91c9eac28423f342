"""Flows built at random: every valid document runs for a subscriber to an end, a wait or a
logged stop, never an error; every broken one is refused with a message naming the problem."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from engine_helpers import Bench, doc, make_bench
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from konversation.db import make_engine
from konversation.errors import Invalid
from konversation.jobs.runtime import Runtime
from konversation.runtime.models import RunStatus
from konversation.settings import Settings

EXAMPLES = settings(
    max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None
)
T = TypeVar("T")
ENDED = {RunStatus.DONE, RunStatus.WAITING, RunStatus.FAILED}


@st.composite
def flow_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A valid document of 1 to 7 nodes of the kinds that steer and say, each port pointing at
    any node (loops included) or ending the flow."""
    count = draw(st.integers(1, 7))
    ids = [f"n{i}" for i in range(count)]
    port = st.sampled_from([*ids, None])
    nodes = [draw(_node(node_id, ids, port)) for node_id in ids]
    return doc(*nodes)


def _node(node_id: str, ids: list[str], port: st.SearchStrategy[str | None]) -> Any:
    text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=40)
    says = st.builds(
        lambda words, next: {
            "id": node_id,
            "type": "send_message",
            "messages": [{"type": "text", "text": words or "-"}],
            "next": next,
        },
        text,
        port,
    )
    jumps = st.builds(
        lambda target: {"id": node_id, "type": "go_to", "node": target}, st.sampled_from(ids)
    )
    picks = st.builds(
        lambda weights, targets: {
            "id": node_id,
            "type": "randomizer",
            "branches": [
                {"id": f"{node_id}b{i}", "weight": w, "next": t}
                for i, (w, t) in enumerate(zip(weights, targets, strict=False))
            ],
        },
        st.lists(st.integers(1, 100), min_size=2, max_size=3),
        st.lists(port, min_size=3, max_size=3),
    )
    waits = st.builds(
        lambda minutes, next: {"id": node_id, "type": "delay", "minutes": minutes, "next": next},
        st.integers(1, 600),
        port,
    )
    checks = st.builds(
        lambda operator, yes, otherwise: {
            "id": node_id,
            "type": "condition",
            "branches": [
                {
                    "id": f"{node_id}yes",
                    "match": "all",
                    "conditions": [
                        {"subject": {"type": "tag", "tag_ns": "f1t1"}, "operator": operator}
                    ],
                    "next": yes,
                }
            ],
            "else": otherwise,
        },
        st.sampled_from(["has", "has_not"]),
        port,
        port,
    )
    return st.one_of(says, jumps, picks, waits, checks)


class OwnLoop:
    """A runtime and a bot on an event loop of this module's own, for Hypothesis's examples
    (it calls the test synchronously, many times over)."""

    def __init__(self, settings: Settings) -> None:
        self.loop = asyncio.new_event_loop()
        self.engine = make_engine(settings.database_url)
        self.runtime = Runtime(settings, self.engine)
        self.bench = self.loop.run_until_complete(make_bench(self.runtime))

    def run(self, work: Callable[[Bench], Awaitable[T]]) -> T:
        return self.loop.run_until_complete(work(self.bench))

    def close(self) -> None:
        self.loop.run_until_complete(self.runtime.http.aclose())
        self.loop.run_until_complete(self.engine.dispose())
        self.loop.close()


@pytest.fixture
def own_loop(settings: Settings, engine: object) -> Iterator[OwnLoop]:
    made = OwnLoop(settings)
    try:
        yield made
    finally:
        made.close()


@given(document=flow_documents())
@EXAMPLES
def test_every_valid_flow_runs_to_an_end_a_wait_or_a_logged_stop(
    own_loop: OwnLoop, document: dict[str, Any]
) -> None:
    async def run(bench: Bench) -> tuple[str, str | None]:
        flow = await bench.flow(document)
        subscriber = await bench.inbound("hello", user=uuid.uuid4().hex)
        ran = await bench.run(await bench.start(subscriber, flow))
        return ran.status, ran.error

    status, error = own_loop.run(run)
    assert status in ENDED
    if status == RunStatus.FAILED:
        assert error, "a stopped run says why"


BREAKAGES = {
    "a dangling next": lambda d: d["nodes"][0].update(next="nowhere"),
    "a node without a type": lambda d: d["nodes"][0].pop("type"),
    "an unknown type": lambda d: d["nodes"][0].update(type="teleport"),
    "two nodes with one id": lambda d: d["nodes"].append(dict(d["nodes"][0])),
    "a start that is no node": lambda d: d.update(start="missing"),
    "nodes that are not a list": lambda d: d.update(nodes={"n0": d["nodes"][0]}),
    "a text that is not a string": lambda d: d["nodes"][0]["messages"][0].update(text=7),
}


@given(
    words=st.text(min_size=1, max_size=20),
    breakage=st.sampled_from(sorted(BREAKAGES)),
)
@EXAMPLES
def test_every_broken_flow_is_refused_with_a_message(
    own_loop: OwnLoop, words: str, breakage: str
) -> None:
    document = doc(
        {
            "id": "n0",
            "type": "send_message",
            "messages": [{"type": "text", "text": words}],
            "next": None,
        }
    )
    BREAKAGES[breakage](document)

    async def save(bench: Bench) -> str:
        try:
            await bench.flow(document)
        except Invalid as refusal:
            return refusal.message
        return ""

    message = own_loop.run(save)
    assert message, f"{breakage} was accepted"
