"""The knowledge_answer node: a subscriber's question answered by a chat model from the rows of
the workspace's knowledge base nearest in meaning, the answer sent and logged with its sources;
with nothing near enough, or the service down, the flow goes on at `no_answer`."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from fake_openai import API_KEY, FakeOpenAI
from konversation.conversations.models import Direction, Message
from konversation.db import session_scope
from konversation.flows.format import FlowDefinition
from konversation.integrations import service as integrations
from konversation.integrations.kinds import Kind
from konversation.knowledge import service as knowledge
from runtime.engine_helpers import Bench, bench_fixture, doc, say  # noqa: F401

FACTS = {
    "Opening hours": "The shop is open from nine to six, Monday to Friday.",
    "Returns": "Items can be returned within thirty days for a refund.",
    "Shipping": "Parcels ship within two days by post.",
}


async def _knowledge(bench: Bench, fake: FakeOpenAI, server_secret: bytes) -> None:
    async with session_scope(bench.sessions) as session:
        settings = {"api_key": API_KEY, "base_url": fake.base_url}
        await integrations.save(session, server_secret, bench.workspace_id, Kind.OPENAI, settings)
        entries = [knowledge.Entry(heading, text) for heading, text in FACTS.items()]
        await knowledge.import_rows(session, bench.runtime.openai, bench.workspace_id, entries)
    fake.reset()


def _answer(**fields: Any) -> dict[str, Any]:
    return {"id": "answer", "type": "knowledge_answer", "next": "after", **fields}


async def _sent_log(bench: Bench, subscriber_id: int) -> list[Message]:
    async with session_scope(bench.sessions) as session:
        found = await session.scalars(
            select(Message)
            .where(Message.subscriber_id == subscriber_id, Message.direction == Direction.OUT)
            .order_by(Message.id)
        )
        return list(found)


async def test_a_question_is_answered_from_the_nearest_rows_and_logged_with_them(
    bench: Bench, fake_openai: FakeOpenAI, server_secret: bytes
) -> None:
    await _knowledge(bench, fake_openai, server_secret)
    answer_field = await bench.field("Last answer")
    sub = await bench.inbound("When is the shop open on Monday?")
    flow = await bench.flow(
        doc(
            _answer(top_k=2, min_score=0.2, var_ns=answer_field, instructions="Be brief."),
            say("after", "Anything else?"),
        )
    )

    await bench.start(sub, flow)

    assert await bench.texts(sub) == ["Answer from: Opening hours", "Anything else?"]
    [embedded] = fake_openai.calls_to("/v1/embeddings")
    assert embedded.body["input"] == ["When is the shop open on Monday?"]
    [chat] = fake_openai.calls_to("/v1/chat/completions")
    system, user = chat.body["messages"]
    assert user == {"role": "user", "content": "When is the shop open on Monday?"}
    assert "Be brief." in system["content"]
    assert f"## Opening hours\n{FACTS['Opening hours']}" in system["content"]
    assert "## Returns" not in system["content"]  # below min_score
    answered, _ = await _sent_log(bench, sub)
    [source] = answered.payload["knowledge_sources"]
    assert source["heading"] == "Opening hours"
    assert 0.2 <= source["score"] <= 1
    assert (await bench.fields_of(sub))[answer_field] == "Answer from: Opening hours"


async def test_nothing_near_enough_goes_on_at_no_answer_with_the_reason(
    bench: Bench, fake_openai: FakeOpenAI, server_secret: bytes
) -> None:
    await _knowledge(bench, fake_openai, server_secret)
    sub = await bench.inbound("Do you sell bicycles?")
    flow = await bench.flow(
        doc(
            _answer(min_score=0.9, no_answer="sorry"),
            say("after", "Anything else?"),
            say("sorry", "Sorry: {{knowledge_error}}"),
        )
    )

    await bench.start(sub, flow)

    assert await bench.texts(sub) == [
        "Sorry: Nothing in the knowledge base is near enough to the question."
    ]
    assert fake_openai.calls_to("/v1/chat/completions") == []


async def test_a_failing_service_goes_on_at_no_answer(
    bench: Bench, fake_openai: FakeOpenAI, server_secret: bytes
) -> None:
    await _knowledge(bench, fake_openai, server_secret)
    sub = await bench.inbound("When is the shop open?")
    flow = await bench.flow(
        doc(_answer(no_answer="sorry"), say("after", "Anything else?"), say("sorry", "Not now."))
    )
    fake_openai.fail_next(503)

    await bench.start(sub, flow)

    assert await bench.texts(sub) == ["Not now."]
    [run] = await bench.runs(sub)
    assert run.variables["knowledge_error"] == (
        "The OpenAI service answered 503: The server is overloaded."
    )


async def test_without_an_integration_and_no_no_answer_the_flow_goes_on_at_next(
    bench: Bench,
) -> None:
    sub = await bench.inbound("When is the shop open?")
    flow = await bench.flow(doc(_answer(), say("after", "Anything else?")))

    await bench.start(sub, flow)

    assert await bench.texts(sub) == ["Anything else?"]


def test_a_knowledge_answer_node_checks_its_settings() -> None:
    with pytest.raises(ValidationError, match="top_k"):
        FlowDefinition.model_validate(doc(_answer(top_k=0), say("after", "x")))
    with pytest.raises(ValidationError, match="min_score"):
        FlowDefinition.model_validate(doc(_answer(min_score=1.5), say("after", "x")))
