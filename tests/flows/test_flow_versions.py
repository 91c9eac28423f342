"""A flow's draft, its published versions, diffs and rollback (konversation.flows.versions):
the runtime keeps running the published document until the draft is published."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from builders import Tenant
from konversation.db import session_scope
from konversation.errors import Conflict
from konversation.flows import service as flows
from konversation.flows import versions
from konversation.flows.models import Flow
from konversation.flows.versions import NodeChange, Problem
from runtime.engine_helpers import Bench, bench_fixture, doc, say  # noqa: F401


async def _main(bench: Bench) -> Flow:
    async with session_scope(bench.sessions) as session:
        flow = await flows.main_flow(session, bench.bot_id)
        session.expunge(flow)
        return flow


async def _save(bench: Bench, definition: dict[str, Any], revision: int) -> list[Problem]:
    async with session_scope(bench.sessions) as session:
        flow = await flows.main_flow(session, bench.bot_id)
        return await versions.save_draft(session, flow, definition, revision=revision)


async def _publish(bench: Bench, revision: int, by: str = "Ada") -> int:
    async with session_scope(bench.sessions) as session:
        flow = await flows.main_flow(session, bench.bot_id)
        published = await versions.publish(session, flow, revision=revision, published_by=by)
        return published.number


async def _rollback(bench: Bench, number: int) -> int:
    async with session_scope(bench.sessions) as session:
        flow = await flows.main_flow(session, bench.bot_id)
        return (await versions.rollback(session, flow, number, published_by="Bea")).number


async def _history(bench: Bench) -> list[tuple[int, str, str]]:
    async with session_scope(bench.sessions) as session:
        flow = await flows.main_flow(session, bench.bot_id)
        found = await versions.list_versions(session, flow)
        return [(v.number, v.published_by, v.note) for v in found]


async def _answer_to_a_newcomer(bench: Bench, user: str) -> list[str]:
    subscriber = await bench.inbound("hello", user=user)  # which starts the main flow
    return await bench.texts(subscriber)


async def test_a_new_flow_starts_at_version_one_with_its_document_as_draft(bench: Bench) -> None:
    flow = await _main(bench)

    assert (flow.published_version, flow.draft, flow.draft_revision) == (1, None, 0)
    assert versions.draft_of(flow) == flow.definition
    assert await _history(bench) == [(1, versions.IMPORT, "")]


async def test_a_stale_save_is_refused_and_the_first_one_kept(bench: Bench) -> None:
    first = doc(say("hi", "From the first editor"))

    assert await _save(bench, first, revision=0) == []
    with pytest.raises(Conflict, match="Someone else changed this flow meanwhile"):
        await _save(bench, doc(say("hi", "From the second editor")), revision=0)

    flow = await _main(bench)
    assert (flow.draft, flow.draft_revision) == (first, 1)


async def test_a_draft_with_problems_is_saved_but_not_published(bench: Bench) -> None:
    broken = doc(say("hi", "Hi", next="nowhere"), {"id": "ask", "type": "send_message"})

    problems = await _save(bench, broken, revision=0)

    assert {(p.node_id, p.path) for p in problems} == {("hi", "next"), ("ask", "messages")}
    assert all(p.message.startswith('Node "') for p in problems)
    with pytest.raises(versions.Unpublishable) as refused:
        await _publish(bench, revision=1)
    assert refused.value.problems == problems
    assert (await _main(bench)).published_version == 1

    await _save(bench, doc(say("hi", "Hi")), revision=1)
    assert await _publish(bench, revision=2) == 2


async def test_publishing_an_unchanged_draft_adds_no_version(bench: Bench) -> None:
    assert await _publish(bench, revision=0) == 1

    assert await _history(bench) == [(1, versions.IMPORT, "")]


async def test_a_problem_off_the_nodes_names_no_node(bench: Bench) -> None:
    problems = await _save(bench, doc(say("hi", "Hi"), start="gone"), revision=0)

    assert [(p.node_id, p.path) for p in problems] == [(None, "start")]


async def test_the_runtime_runs_the_published_version_until_the_draft_is_published(
    bench: Bench,
) -> None:
    await bench.main(doc(say("hi", "Old welcome")))
    flow = await _main(bench)
    await _save(bench, doc(say("hi", "New welcome")), revision=flow.draft_revision)

    assert await _answer_to_a_newcomer(bench, "u1") == ["Old welcome"]

    await _publish(bench, revision=flow.draft_revision + 1)

    assert await _answer_to_a_newcomer(bench, "u2") == ["New welcome"]


async def test_versions_are_listed_newest_first_with_who_published_them(bench: Bench) -> None:
    await _save(bench, doc(say("hi", "Two")), revision=0)
    await _publish(bench, revision=1, by="Ada")
    await _save(bench, doc(say("hi", "Three")), revision=1)
    await _publish(bench, revision=2, by="Bea")

    assert await _history(bench) == [(3, "Bea", ""), (2, "Ada", ""), (1, versions.IMPORT, "")]


async def test_rollback_publishes_the_old_document_again_and_restores_its_behaviour(
    bench: Bench,
) -> None:
    await bench.main(doc(say("hi", "Version two")))
    await bench.main(doc(say("hi", "Version three")))
    revision = (await _main(bench)).draft_revision
    await _save(bench, doc(say("hi", "An unpublished draft")), revision=revision)

    assert await _rollback(bench, 2) == 4

    assert await _answer_to_a_newcomer(bench, "u1") == ["Version two"]
    flow = await _main(bench)
    assert (flow.draft, flow.published_version) == (None, 4)
    assert flow.draft_revision == revision + 2  # the rollback replaced the draft under editors
    assert (await _history(bench))[0] == (4, "Bea", "Rollback to version 2")


async def test_a_publish_from_elsewhere_replaces_the_draft_and_outdates_editors(
    bench: Bench,
) -> None:
    await _save(bench, doc(say("hi", "Editing")), revision=0)

    await bench.main(doc(say("hi", "Saved through the API")))

    flow = await _main(bench)
    assert (flow.draft, flow.draft_revision, flow.published_version) == (None, 2, 2)
    with pytest.raises(Conflict):
        await _publish(bench, revision=1)


def test_the_diff_names_each_changed_node_and_what_changed_in_it() -> None:
    before = doc(
        say("hi", "Hello", next="bye", name="Greet"),
        say("bye", "Bye"),
        triggers=[{"keywords": ["hi"]}],
    )
    after = doc(
        say("hi", "Hello there", next="ask", name="Greet", position={"x": 10, "y": 0}),
        {"id": "ask", "type": "user_input", "name": "Ask", "next": None},
        start="ask",
        triggers=[{"keywords": ["hi", "hey"]}],
    )

    found = versions.diff(before, after)

    assert found.changes == [
        NodeChange(
            "hi",
            "changed",
            [
                'messages.0.text: "Hello" → "Hello there".',
                'next: "bye" → "ask".',
                "Moved on the canvas.",
            ],
        ),
        NodeChange("ask", "added", ['New user_input node "Ask".']),
        NodeChange("bye", "removed", ["Removed send_message node."]),
    ]
    assert found.start == ['start: "hi" → "ask".']
    assert found.triggers == ['triggers.0.keywords.1: set to "hey".']
    assert versions.diff(after, after) == versions.Diff()


async def test_an_api_import_publishes_a_version_by_the_key(
    api: httpx.AsyncClient, tenant: Tenant, sessions: Any
) -> None:
    document = {
        "format": "konversation.flow",
        "version": 1,
        "bot": {"name": "Elsewhere", "flow_ns": "f90"},
        "flows": [{"name": "Main flow", "kind": "main", "definition": doc(say("hi", "Imported"))}],
    }

    answer = await api.post("/flow/import", json=document)

    assert answer.status_code == 200, answer.text
    async with session_scope(sessions) as session:
        flow = await flows.main_flow(session, tenant.bot_id)
        history = await versions.list_versions(session, flow)
        assert [(v.number, v.published_by) for v in history] == [(2, "test key"), (1, "import")]
        assert history[0].definition == flow.definition == doc(say("hi", "Imported"))
