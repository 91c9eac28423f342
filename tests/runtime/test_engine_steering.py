"""The flow engine's steering nodes: randomizer, go_to, start_flow and return (function flows
with outputs), sub flows inside each other, and the bounds that stop runaway flows."""

from __future__ import annotations

import random
from typing import Any

import pytest
from engine_helpers import Bench, bench_fixture, doc, say, start_flow  # noqa: F401

from konversation.errors import NotFound
from konversation.flows.models import FlowKind
from konversation.runtime.engine import MAX_DEPTH, MAX_STEPS
from konversation.runtime.models import RunStatus


def go_to(node_id: str, target: str) -> dict[str, Any]:
    return {"id": node_id, "type": "go_to", "node": target}


def randomizer(*weights: int) -> dict[str, Any]:
    return {
        "id": "pick",
        "type": "randomizer",
        "branches": [
            {"id": f"b{i}", "weight": weight, "next": f"say{i}"} for i, weight in enumerate(weights)
        ],
    }


async def _picks(bench: Bench, subscriber_id: int, flow: str, times: int) -> list[str]:
    before = len(await bench.texts(subscriber_id))
    for _ in range(times):
        await bench.start(subscriber_id, flow)
    return (await bench.texts(subscriber_id))[before:]


async def test_the_randomizer_takes_every_branch_by_its_weight(bench: Bench) -> None:
    random.seed(20261125)  # the picks are random; the seed makes this run repeatable
    even = await bench.flow(doc(randomizer(50, 50), say("say0", "A"), say("say1", "B")))
    heavy = await bench.flow(doc(randomizer(1, 99), say("say0", "A"), say("say1", "B")))
    sub = await bench.inbound("hello")

    evenly = await _picks(bench, sub, even, 30)
    mostly_b = await _picks(bench, sub, heavy, 30)

    assert set(evenly) == {"A", "B"}
    assert mostly_b.count("B") >= 25


async def test_go_to_goes_on_at_another_node(bench: Bench) -> None:
    flow = await bench.flow(
        doc(say("a", "A", next="jump"), go_to("jump", "c"), say("b", "B"), say("c", "C"))
    )
    sub = await bench.inbound("hello")

    run = await bench.start(sub, flow)

    assert await bench.texts(sub) == ["A", "C"]
    assert (await bench.run(run)).status == RunStatus.DONE


async def test_start_can_begin_at_a_node_and_refuses_an_unknown_one(bench: Bench) -> None:
    flow = await bench.flow(doc(say("a", "A", next="b"), say("b", "B")))
    sub = await bench.inbound("hello")

    await bench.start(sub, flow, node_id="b")
    with pytest.raises(NotFound, match="Node not found"):
        await bench.start(sub, flow, node_id="nope")

    assert await bench.texts(sub) == ["B"]


async def test_a_function_flow_returns_an_output_and_a_value_to_its_caller(bench: Bench) -> None:
    vip = await bench.tag("VIP")
    check = await bench.flow(
        doc(
            {
                "id": "is-vip",
                "type": "condition",
                "branches": [
                    {
                        "id": "yes",
                        "conditions": [
                            {"subject": {"type": "tag", "tag_ns": vip}, "operator": "has"}
                        ],
                        "next": "vip",
                    }
                ],
                "else": "regular",
            },
            {"id": "vip", "type": "return", "output": "vip", "value": {"discount": 20}},
            {"id": "regular", "type": "return", "output": "regular", "value": 5},
        ),
        name="Is VIP",
        kind=FlowKind.FUNCTION,
    )
    caller = await bench.flow(
        doc(
            say("hello", "Checking", next="check"),
            start_flow("check", check, next="unknown", outputs={"vip": "vip", "regular": None}),
            say("vip", "VIP discount: {{output}}"),
            say("unknown", "Unknown output"),
        )
    )
    regular = await bench.inbound("hello", user="regular")
    special = await bench.inbound("hello", user="special")
    await bench.add_tag(special, vip)

    await bench.start(regular, caller)
    await bench.start(special, caller)

    # An output whose port is null ends the calling flow.
    assert await bench.texts(regular) == ["Checking"]
    assert await bench.texts(special) == ["Checking", 'VIP discount: {"discount": 20}']
    assert [r.variables for r in await bench.runs(special)] == [{"output": {"discount": 20}}]


async def test_a_returned_value_is_a_template(bench: Bench) -> None:
    shout = await bench.flow(
        doc({"id": "r", "type": "return", "output": "done", "value": "{{first_name|nobody}}!"}),
        kind=FlowKind.FUNCTION,
    )
    caller = await bench.flow(
        doc(start_flow("call", shout, outputs={"done": "show"}), say("show", "Got {{output}}"))
    )
    sub = await bench.inbound("hello")

    await bench.start(sub, caller)

    assert await bench.texts(sub) == ["Got nobody!"]


async def test_an_output_the_caller_does_not_name_goes_on_at_next(bench: Bench) -> None:
    fn = await bench.flow(
        doc({"id": "r", "type": "return", "output": "other"}), kind=FlowKind.FUNCTION
    )
    plain = await bench.flow(doc({"id": "r", "type": "return"}, say("never", "Never")))
    caller = await bench.flow(
        doc(
            start_flow("fn", fn, next="plain", outputs={"done": None}),
            start_flow("plain", plain, next="end"),
            say("end", "Both came back"),
        )
    )
    sub = await bench.inbound("hello")

    await bench.start(sub, caller)

    assert await bench.texts(sub) == ["Both came back"]


async def test_sub_flows_inside_each_other_come_back_in_order(bench: Bench) -> None:
    inner = await bench.flow(doc(say("in", "in C")), name="C")
    middle = await bench.flow(
        doc(say("in", "in B", next="c"), start_flow("c", inner, next="out"), say("out", "out B")),
        name="B",
    )
    outer = await bench.flow(
        doc(say("in", "in A", next="b"), start_flow("b", middle, next="out"), say("out", "out A")),
        name="A",
    )
    empty = await bench.flow(doc(start=None), name="Empty")
    await bench.main(
        doc(
            start_flow("a", outer, next="empty"),
            start_flow("empty", empty, next="gone"),
            start_flow("gone", f"f{bench.bot_id}s999", next="end"),
            say("end", "done"),
        )
    )

    sub = await bench.inbound("hi")

    assert await bench.texts(sub) == ["in A", "in B", "in C", "out B", "out A", "done"]
    [run] = await bench.runs(sub)
    assert (run.status, run.stack, run.error) == (RunStatus.DONE, [], None)


async def test_sub_flows_started_too_deep_stop_the_run(bench: Bench) -> None:
    again = await bench.flow(doc(start=None), name="Again")
    await bench.save(again, doc(say("hi", "deeper", next="again"), start_flow("again", again)))
    sub = await bench.inbound("hello")

    run = await bench.start(sub, again)

    stopped = await bench.run(run)
    assert stopped.status == RunStatus.FAILED
    assert stopped.error == f"Stopped after starting {MAX_DEPTH} sub flows inside each other."
    assert len(stopped.stack) == MAX_DEPTH
    assert len(await bench.texts(sub)) == MAX_DEPTH + 1


async def test_a_go_to_loop_stops_the_run_instead_of_hanging(bench: Bench) -> None:
    flow = await bench.flow(doc(go_to("a", "b"), go_to("b", "a")))
    sub = await bench.inbound("hello")

    run = await bench.start(sub, flow)

    stopped = await bench.run(run)
    assert stopped.status == RunStatus.FAILED
    assert stopped.error == f"Stopped after {MAX_STEPS} steps without waiting: the flow loops."
    assert stopped.steps == MAX_STEPS
    assert await bench.texts(sub) == []
