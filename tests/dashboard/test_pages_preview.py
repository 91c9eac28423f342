"""The flow editor's preview (/dashboard/api/flows/{ref}/preview): the draft runs for the
owner's test subscriber, node by node, while the live bot keeps the published flow."""

from __future__ import annotations

from typing import Any

import httpx
from dashboard_browsing import DashboardClient
from pages_support import owner_fixture  # noqa: F401
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.conversations.models import Message
from konversation.demo import DemoSecrets
from konversation.flows.models import Flow, FlowVersion, NodeRef
from konversation.subscribers.models import Subscriber, SubscriberChannel, SubscriberFieldValue

API = "/dashboard/api/flows/main"
PREVIEW = f"{API}/preview"


async def _editor(owner: DashboardClient) -> dict[str, Any]:
    return (await owner.http.get(f"{API}/editor")).json()  # type: ignore[no-any-return]


async def _post(owner: DashboardClient, path: str, body: dict[str, Any]) -> httpx.Response:
    return await owner.http.post(path, json=body, headers={"X-CSRF-Token": owner.csrf_token})


async def _save_draft(owner: DashboardClient, change: Any) -> dict[str, Any]:
    """The draft after `change(draft)` edited the editor's document in place."""
    state = await _editor(owner)
    draft = state["draft"]
    change(draft)
    saved = await owner.http.put(
        f"{API}/draft",
        json={"revision": state["revision"], "definition": draft},
        headers={"X-CSRF-Token": owner.csrf_token},
    )
    assert saved.status_code == 200, saved.text
    return draft  # type: ignore[no-any-return]


def _node(draft: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(node for node in draft["nodes"] if node["id"] == node_id)  # type: ignore[no-any-return]


def _greet_with(text: str) -> Any:
    def change(draft: dict[str, Any]) -> None:
        _node(draft, "greeting")["messages"][0]["text"] = text

    return change


async def _restart(owner: DashboardClient) -> dict[str, Any]:
    answer = await _post(owner, PREVIEW, {})
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


async def _say(owner: DashboardClient, **said: str) -> dict[str, Any]:
    answer = await _post(owner, f"{PREVIEW}/messages", said)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def _texts(state: dict[str, Any]) -> list[tuple[str, str]]:
    return [(item["direction"], item["message"].get("text", "")) for item in state["messages"]]


def _quick_reply(state: dict[str, Any], title: str) -> dict[str, str]:
    offered = state["messages"][-1]["message"]["quick_replies"]
    return next(reply for reply in offered if reply["title"] == title)  # type: ignore[no-any-return]


async def test_the_preview_runs_the_draft_and_the_live_bot_keeps_the_published_flow(
    owner: DashboardClient, session: AsyncSession, demo: DemoSecrets
) -> None:
    await _save_draft(owner, _greet_with("Hello {{first_name}}, from the draft."))

    state = await _restart(owner)

    assert _texts(state) == [("out", "Hello Demo, from the draft.")]
    assert (state["executed"], state["waiting_at"], state["status"]) == (
        ["greeting"],
        "greeting",
        "waiting",
    )
    main = await session.scalar(select(Flow).where(Flow.bot_id == demo.bot_id, Flow.number == 0))
    assert main is not None
    assert "Welcome to the demo bot" in main.definition["nodes"][0]["messages"][0]["text"]
    versions = await session.scalars(
        select(FlowVersion.number).where(FlowVersion.flow_id == main.id)
    )
    assert list(versions) == [1]


async def test_a_quick_reply_and_an_answer_follow_the_draft_and_keep_the_field(
    owner: DashboardClient, session: AsyncSession
) -> None:
    await _save_draft(owner, lambda draft: _node(draft, "ask-colour").update(question="Colour?"))
    started = await _restart(owner)
    reply = _quick_reply(started, "Ask me something")

    asked = await _say(owner, payload=reply["payload"], title=reply["title"])
    answered = await _say(owner, text="Teal")

    assert _texts(asked)[-2:] == [("in", "Ask me something"), ("out", "Colour?")]
    assert (asked["executed"], asked["waiting_at"]) == (["ask-colour"], "ask-colour")
    assert _texts(answered)[-2:] == [("in", "Teal"), ("out", "Teal is a fine colour!")]
    assert (answered["executed"], answered["waiting_at"]) == (["thanks", "colour-reply"], None)
    kept = await session.scalars(
        select(SubscriberFieldValue.value)
        .join(
            SubscriberChannel, SubscriberChannel.subscriber_id == SubscriberFieldValue.subscriber_id
        )
        .where(SubscriberChannel.user_id.like("preview-%"))
    )
    assert list(kept) == ["Teal"]


async def test_a_message_that_answers_nothing_starts_the_draft_again(
    owner: DashboardClient,
) -> None:
    await _save_draft(owner, _greet_with("Draft greeting"))
    started = await _restart(owner)
    reply = _quick_reply(started, "Ask me something")
    await _say(owner, payload=reply["payload"], title=reply["title"])
    await _say(owner, text="Teal")

    again = await _say(owner, text="hello again")

    assert _texts(again)[-2:] == [("in", "hello again"), ("out", "Draft greeting")]
    assert again["executed"] == ["greeting"]


async def test_a_restart_shows_a_new_conversation_with_the_latest_draft(
    owner: DashboardClient,
) -> None:
    await _save_draft(owner, _greet_with("First draft"))
    await _restart(owner)
    await _say(owner, text="something")
    await _save_draft(owner, _greet_with("Second draft"))

    state = await _restart(owner)
    polled = (await owner.http.get(PREVIEW)).json()

    assert _texts(state) == [("out", "Second draft")]
    assert polled["messages"] == state["messages"]
    assert (polled["waiting_at"], polled["executed"]) == ("greeting", [])


async def test_a_draft_with_problems_is_not_previewed(owner: DashboardClient) -> None:
    await _save_draft(owner, lambda draft: _node(draft, "greeting").update(next="nowhere"))

    refused = await _post(owner, PREVIEW, {})

    assert refused.status_code == 422
    body = refused.json()
    assert body["message"] == "The draft has problems to fix before it can be previewed."
    assert [(p["node_id"], p["path"]) for p in body["problems"]] == [("greeting", "next")]
    assert (await owner.http.get(PREVIEW)).json()["messages"] == []


async def test_an_empty_message_is_refused(owner: DashboardClient) -> None:
    await _restart(owner)

    refused = await _post(owner, f"{PREVIEW}/messages", {"text": "  "})

    assert refused.status_code == 422
    assert refused.json()["message"] == "The text field is required when payload is not present."


async def test_the_preview_copy_is_listed_nowhere_and_its_triggers_never_fire(
    owner: DashboardClient, session: AsyncSession, demo: DemoSecrets
) -> None:
    def with_trigger(draft: dict[str, Any]) -> None:
        draft["triggers"] = [{"keywords": ["only in the draft"]}]
        _greet_with("Draft greeting")(draft)

    await _save_draft(owner, with_trigger)
    await _restart(owner)

    api = {"Authorization": f"Bearer {demo.api_key}"}
    sub_flows = (await owner.http.get("/api/flow/subflows", headers=api)).json()["data"]
    flows_page = (await owner.http.get("/dashboard/flows")).text
    editor_flows = (await _editor(owner))["flows"]
    assert sub_flows
    assert not any("preview" in flow["name"] for flow in sub_flows)
    assert "(preview)" not in flows_page
    assert not any("preview" in flow["name"] for flow in editor_flows)
    visitor = (await owner.http.post(f"/webchat/{demo.web_chat_uid}/visitors")).json()["data"]
    sent = await owner.http.post(
        f"/webchat/{demo.web_chat_uid}/messages",
        json={"visitor": visitor["visitor"], "text": "only in the draft"},
    )
    assert sent.status_code == 200
    said = await session.scalars(
        select(Message.content)
        .join(SubscriberChannel, SubscriberChannel.subscriber_id == Message.subscriber_id)
        .where(SubscriberChannel.user_id == visitor["visitor"], Message.direction == "out")
    )
    assert [text for text in said] == ["Hi there! Welcome to the demo bot."]


async def test_deleting_a_sub_flow_deletes_its_preview_copy(
    owner: DashboardClient, session: AsyncSession, demo: DemoSecrets
) -> None:
    sub_flow_ns = f"f{demo.bot_id}s1"
    started = await _post(owner, f"/dashboard/api/flows/{sub_flow_ns}/preview", {})
    assert started.status_code == 200, started.text
    assert started.json()["messages"]

    deleted = await owner.http.request(
        "DELETE",
        "/api/flow/delete-sub-flow",
        json={"sub_flow_ns": sub_flow_ns},
        headers={"Authorization": f"Bearer {demo.api_key}"},
    )

    assert deleted.status_code == 200, deleted.text
    copies = await session.scalars(select(Flow.name).where(Flow.preview_of.is_not(None)))
    assert list(copies) == []


async def test_the_api_cannot_run_a_node_of_a_preview_copy(
    owner: DashboardClient, session: AsyncSession, demo: DemoSecrets
) -> None:
    await _restart(owner)
    copy_node = await session.scalar(
        select(NodeRef.number)
        .join(Flow, Flow.id == NodeRef.flow_id)
        .where(Flow.preview_of.is_not(None), NodeRef.node_id == "greeting")
    )
    tester = await session.scalar(
        select(Subscriber.number)
        .join(SubscriberChannel, SubscriberChannel.subscriber_id == Subscriber.id)
        .where(SubscriberChannel.user_id.like("preview-%"))
    )
    assert copy_node is not None
    assert tester is not None

    answer = await owner.http.post(
        "/api/subscriber/send-node",
        json={"user_ns": f"f{demo.bot_id}u{tester}", "node_ns": f"f{demo.bot_id}n{copy_node}"},
        headers={"Authorization": f"Bearer {demo.api_key}"},
    )

    assert answer.status_code == 404
    assert answer.json()["message"] == "Node not found"
