"""WhatsApp templates in flows and broadcasts, against the fake Cloud API: a `whatsapp_template`
node sends an approved template, which reaches subscribers outside the 24-hour window, and a
WHATSAPP_TEMPLATE broadcast skips those a sub flow without an opening template cannot reach."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from whatsapp_support import SHIPPED

from builders import Sessions, Tenant
from fake_whatsapp import FakeWhatsApp
from konversation.db import utcnow
from konversation.errors import Invalid
from konversation.flows import service as flows
from konversation.flows.models import FlowKind
from konversation.jobs.runtime import Runtime
from konversation.runtime.models import Run, RunStatus
from konversation.sending.broadcasts import run_due_broadcasts
from konversation.sending.models import Broadcast, BroadcastRecipient
from konversation.subscribers import service as subscribers
from konversation.subscribers.models import Subscriber

FAST = 100_000  # recipients a minute: all of a small broadcast at once
PARAMS = {"BODY_{{1}}": "{{first_name}}", "BODY_{{2}}": "A-1"}


def template_node(next_: str | None = "more", **changes: Any) -> dict[str, Any]:
    return {
        "id": "shipped",
        "type": "whatsapp_template",
        "template_name": "order_shipped",
        "language": "en_US",
        "params": PARAMS,
        "next": next_,
    } | changes


TEXT_NODE = {
    "id": "more",
    "type": "send_message",
    "messages": [{"type": "text", "text": "More news, {{first_name}}"}],
}


async def make_flow(session: AsyncSession, tenant: Tenant, *nodes: dict[str, Any]) -> str:
    definition = {"version": 1, "start": nodes[0]["id"], "nodes": list(nodes)}
    flow = await flows.create_flow(session, tenant.bot_id, name="News", definition=definition)
    await session.commit()
    return f"f{tenant.bot_id}s{flow.number}"


async def on_whatsapp(
    session: AsyncSession, tenant: Tenant, number: str, first_name: str, *, wrote_ago: dt.timedelta
) -> Subscriber:
    """A subscriber reached on WhatsApp who last wrote `wrote_ago`."""
    subscriber = await subscribers.create_on_channel(
        session, tenant.bot_id, channel="whatsapp", user_id=number, first_name=first_name
    )
    subscriber.last_interaction_at = utcnow() - wrote_ago
    await session.commit()
    return subscriber


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


@pytest.fixture
async def recent(session: AsyncSession, tenant: Tenant, connected: Any) -> Subscriber:
    return await on_whatsapp(session, tenant, "61400000001", "Ann", wrote_ago=dt.timedelta(hours=1))


@pytest.fixture
async def stale(session: AsyncSession, tenant: Tenant, connected: Any) -> Subscriber:
    return await on_whatsapp(session, tenant, "61400000002", "Bob", wrote_ago=dt.timedelta(days=3))


def ns(subscriber: Subscriber) -> str:
    return f"f{subscriber.bot_id}u{subscriber.number}"


async def broadcast(
    api: httpx.AsyncClient, sub_flow_ns: str, *people: Subscriber, **extra: Any
) -> int:
    response = await api.post(
        "/subscriber/broadcast",
        json={
            "user_ns_list": ",".join(ns(p) for p in people),
            "sub_flow_ns": sub_flow_ns,
            "max_per_minute": FAST,
        }
        | extra,
    )
    assert response.status_code == 200, response.text
    broadcast_id: int = response.json()["broadcast_id"]
    return broadcast_id


async def run(runtime: Runtime) -> None:
    await run_due_broadcasts(runtime.sessions, runtime.engine, now=utcnow())
    await runtime.settle()


def sent_to(fake: FakeWhatsApp, subscriber: Subscriber) -> list[dict[str, Any]]:
    """The message bodies the fake Cloud API took for the subscriber, in order."""
    return [
        {key: body[key] for key in ("type", body["type"])}
        for body in fake.messages()
        if body["to"] == subscriber.user_id
    ]


def shipped_to(first_name: str) -> dict[str, Any]:
    return {
        "type": "template",
        "template": {
            "name": "order_shipped",
            "language": {"code": "en_US"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": first_name},
                        {"type": "text", "text": "A-1"},
                    ],
                }
            ],
        },
    }


def text(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": body}}


async def outcomes(
    sessions: Sessions, broadcast_id: int
) -> tuple[tuple[int, int, int], dict[int, str]]:
    async with sessions() as fresh:
        row = await fresh.get_one(Broadcast, broadcast_id)
        found = await fresh.execute(
            select(BroadcastRecipient.subscriber_id, BroadcastRecipient.outcome).where(
                BroadcastRecipient.broadcast_id == broadcast_id
            )
        )
        return (row.sent, row.skipped, row.failed), {who: outcome for who, outcome in found}


class TestTemplateBroadcasts:
    async def test_an_opening_template_reaches_everyone_inside_and_outside_the_window(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        approved: None,
        recent: Subscriber,
        stale: Subscriber,
        runtime: Runtime,
        fake_whatsapp: FakeWhatsApp,
    ) -> None:
        opener = await make_flow(session, tenant, template_node(), TEXT_NODE)
        fake_whatsapp.reset()
        made = await broadcast(api, opener, recent, stale, type="WHATSAPP_TEMPLATE")
        await run(runtime)
        assert sent_to(fake_whatsapp, recent) == [shipped_to("Ann"), text("More news, Ann")]
        assert sent_to(fake_whatsapp, stale) == [shipped_to("Bob"), text("More news, Bob")]
        counts, _ = await outcomes(sessions, made)
        assert counts == (2, 0, 0)

    async def test_without_an_opening_template_those_outside_the_window_are_skipped(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        approved: None,
        recent: Subscriber,
        stale: Subscriber,
        runtime: Runtime,
        fake_whatsapp: FakeWhatsApp,
    ) -> None:
        plain = await make_flow(session, tenant, TEXT_NODE)
        fake_whatsapp.reset()
        made = await broadcast(api, plain, recent, stale, type="WHATSAPP_TEMPLATE")
        await run(runtime)
        assert sent_to(fake_whatsapp, recent) == [text("More news, Ann")]
        assert sent_to(fake_whatsapp, stale) == []
        counts, reached = await outcomes(sessions, made)
        assert counts == (1, 1, 0)
        assert reached == {recent.id: "sent", stale.id: "outside_window"}
        status = await api.get("/subscriber/broadcast-status", params={"broadcast_id": made})
        assert status.json()["data"]["skipped"] == 1

    @pytest.mark.parametrize("kind", ["SMS", "EMAIL", "FACEBOOK_NOTIFICATION", ""])
    async def test_other_types_run_the_flow_for_everyone_as_usual(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        sessions: Sessions,
        tenant: Tenant,
        connected: Any,
        recent: Subscriber,
        stale: Subscriber,
        runtime: Runtime,
        fake_whatsapp: FakeWhatsApp,
        kind: str,
    ) -> None:
        plain = await make_flow(session, tenant, TEXT_NODE)
        fake_whatsapp.reset()
        made = await broadcast(api, plain, recent, stale, type=kind)
        await run(runtime)
        assert sent_to(fake_whatsapp, stale) == [text("More news, Bob")]
        assert (await outcomes(sessions, made))[0] == (2, 0, 0)

    @pytest.mark.parametrize(
        ("node", "reason"),
        [
            (template_node(None, template_name="nope"), "Template not found"),
            (template_node(None, language="de"), "Template not found"),
        ],
    )
    async def test_an_opening_template_that_cannot_be_sent_is_refused(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        approved: None,
        recent: Subscriber,
        node: dict[str, Any],
        reason: str,
    ) -> None:
        flow = await make_flow(session, tenant, node)
        response = await api.post(
            "/subscriber/broadcast",
            json={"user_ns_list": ns(recent), "sub_flow_ns": flow, "type": "WHATSAPP_TEMPLATE"},
        )
        assert response.status_code == 422
        [message] = response.json()["errors"]["sub_flow_ns"]
        assert message.endswith(f"cannot be sent: {reason}")
        assert await session.scalar(select(Broadcast.id)) is None

    async def test_a_pending_template_is_refused(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        connected: Any,
        recent: Subscriber,
    ) -> None:
        assert (await api.post("/whatsapp-template/create", json=SHIPPED)).status_code == 200
        flow = await make_flow(session, tenant, template_node(None))
        response = await api.post(
            "/subscriber/broadcast",
            json={"user_ns_list": ns(recent), "sub_flow_ns": flow, "type": "WHATSAPP_TEMPLATE"},
        )
        assert response.status_code == 422
        assert "is PENDING: only approved ones are sent" in response.text


class TestTemplateNodes:
    async def test_a_flow_opening_with_a_template_starts_outside_the_window(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        approved: None,
        stale: Subscriber,
        runtime: Runtime,
        fake_whatsapp: FakeWhatsApp,
    ) -> None:
        opener = await make_flow(session, tenant, template_node(None))
        plain = await make_flow(session, tenant, TEXT_NODE)
        fake_whatsapp.reset()
        refused = await api.post(
            "/subscriber/send-sub-flow", json={"user_ns": ns(stale), "sub_flow_ns": plain}
        )
        assert refused.status_code == 422
        started = await api.post(
            "/subscriber/send-sub-flow", json={"user_ns": ns(stale), "sub_flow_ns": opener}
        )
        assert started.status_code == 200, started.text
        await runtime.settle()
        assert sent_to(fake_whatsapp, stale) == [shipped_to("Bob")]

    async def test_a_template_that_cannot_be_sent_fails_the_run_and_sends_nothing(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        approved: None,
        recent: Subscriber,
        runtime: Runtime,
        fake_whatsapp: FakeWhatsApp,
    ) -> None:
        flow = await make_flow(
            session, tenant, template_node(params={"BODY_{{1}}": "x"}), TEXT_NODE
        )
        fake_whatsapp.reset()
        response = await api.post(
            "/subscriber/send-sub-flow", json={"user_ns": ns(recent), "sub_flow_ns": flow}
        )
        assert response.status_code == 200
        await runtime.settle()
        assert fake_whatsapp.messages() == []
        run_row = await session.scalar(select(Run).where(Run.subscriber_id == recent.id))
        assert run_row is not None
        assert run_row.status == RunStatus.FAILED
        assert run_row.error == (
            "The WhatsApp template order_shipped was not sent: "
            "The BODY_{{2}} parameter is required."
        )

    @pytest.mark.parametrize(
        ("kind", "node", "reason"),
        [
            (FlowKind.WORKFLOW, template_node(None), "cannot send messages"),
            (FlowKind.SUB, template_node(None, params={"FOOTER_1": "x"}), "parameter name"),
            (FlowKind.SUB, template_node(None, template_name="Big Sale"), "template name"),
        ],
    )
    async def test_the_flow_document_checks_the_node(
        self,
        session: AsyncSession,
        tenant: Tenant,
        kind: FlowKind,
        node: dict[str, Any],
        reason: str,
    ) -> None:
        definition = {"version": 1, "start": "shipped", "nodes": [node]}
        with pytest.raises(Invalid) as refused:
            await flows.create_flow(
                session, tenant.bot_id, name="x", kind=kind, definition=definition
            )
        assert reason in refused.value.message
