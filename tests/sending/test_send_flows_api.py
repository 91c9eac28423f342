"""Starting flows for one subscriber: `send-sub-flow`, `send-sub-flow-by-flow-name` (with the
run's own variables), `send-sub-flow-by-user-id`, `send-main-flow` and `send-node`. The flows'
messages reach the API channel's webhook, a sink on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sending_support import delivered, make_flow, ns, reachable, text_flow, texts_to
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from builders import Tenant, make_field
from fake_webhook import FakeWebhook
from konversation.db import utcnow
from konversation.flows import service as flows
from konversation.flows.index import node_numbers
from konversation.flows.models import FlowKind
from konversation.jobs.runtime import Runtime
from konversation.runtime.models import Run
from konversation.subscribers.models import Subscriber

PAUSED = {"paused_until": utcnow() + dt.timedelta(hours=1)}


async def sent(runtime: Runtime, webhook: FakeWebhook, subscriber: Subscriber) -> list[str]:
    await runtime.settle()
    return texts_to(webhook, subscriber)


class TestSendSubFlow:
    async def test_the_flow_runs_and_its_messages_arrive_in_order(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
    ) -> None:
        welcome = await make_flow(session, tenant, "Welcome", "Hi {{first_name}}!", "Bye.")
        sam = await reachable(session, tenant, name="Sam Smith")
        response = await api.post(
            "/subscriber/send-sub-flow", json={"user_ns": ns(sam), "sub_flow_ns": welcome}
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "ok"}
        assert await sent(runtime, webhook, sam) == ["Hi Sam!", "Bye."]
        origin = await session.scalar(select(Run.origin).where(Run.subscriber_id == sam.id))
        assert origin == "api"

    async def test_an_unknown_sub_flow_or_subscriber_is_404(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        welcome = await make_flow(session, tenant, "Welcome", "Hi")
        sam = await reachable(session, tenant)
        no_flow = await api.post(
            "/subscriber/send-sub-flow",
            json={"user_ns": ns(sam), "sub_flow_ns": f"{tenant.flow_ns}s99"},
        )
        assert (no_flow.status_code, no_flow.json()) == (404, {"message": "Sub flow not found"})
        nobody = await api.post(
            "/subscriber/send-sub-flow",
            json={"user_ns": f"{tenant.flow_ns}u99", "sub_flow_ns": welcome},
        )
        assert (nobody.status_code, nobody.json()) == (404, {"message": "Subscriber not found"})

    @pytest.mark.parametrize(
        ("columns", "reason"),
        [
            ({"is_subscribed": False}, "The subscriber has unsubscribed from the bot."),
            (PAUSED, "The bot is paused for the subscriber until"),
        ],
        ids=["unsubscribed", "paused"],
    )
    async def test_a_subscriber_the_bot_may_not_run_for_is_refused(
        self,
        columns: dict[str, Any],
        reason: str,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
    ) -> None:
        welcome = await make_flow(session, tenant, "Welcome", "Hi")
        sam = await reachable(session, tenant, **columns)
        response = await api.post(
            "/subscriber/send-sub-flow", json={"user_ns": ns(sam), "sub_flow_ns": welcome}
        )
        assert response.status_code == 422
        [message] = response.json()["errors"]["user_ns"]
        assert message.startswith(reason)
        assert await sent(runtime, webhook, sam) == []

    async def test_the_main_flow_is_not_a_sub_flow(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        sam = await reachable(session, tenant)
        response = await api.post(
            "/subscriber/send-sub-flow",
            json={"user_ns": ns(sam), "sub_flow_ns": f"{tenant.flow_ns}s0"},
        )
        assert response.status_code == 404


class TestSendSubFlowByFlowName:
    async def test_variables_are_rendered_in_the_flows_texts(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
    ) -> None:
        await make_field(session, tenant.bot_id, "City")
        await make_flow(
            session, tenant, "Order update", "Order {{order_id}} ships to {{city|you}}, {{name}}."
        )
        sam = await reachable(session, tenant, name="Sam Smith")
        response = await api.post(
            "/subscriber/send-sub-flow-by-flow-name",
            json={
                "user_ns": ns(sam),
                "flow_name": "Order update",
                "variables": {"order_id": "A-1001", "name": "Samantha"},
            },
        )
        assert response.status_code == 200, response.text
        # The run's own variables win over the subscriber's details of the same name.
        assert await sent(runtime, webhook, sam) == ["Order A-1001 ships to you, Samantha."]

    async def test_variables_may_be_left_out_or_sent_as_a_json_string(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
    ) -> None:
        await make_flow(session, tenant, "Order update", "Order {{order_id|unknown}}.")
        sam = await reachable(session, tenant)
        for variables in (None, "", '{"order_id": 7}'):
            body: dict[str, Any] = {"user_ns": ns(sam), "flow_name": "Order update"}
            if variables is not None:
                body["variables"] = variables
            response = await api.post("/subscriber/send-sub-flow-by-flow-name", json=body)
            assert response.status_code == 200, response.text
        assert await sent(runtime, webhook, sam) == [
            "Order unknown.",
            "Order unknown.",
            "Order 7.",
        ]

    async def test_variables_must_be_an_object(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_flow(session, tenant, "Order update", "Hi")
        sam = await reachable(session, tenant)
        for variables in (["a"], "not json", 5):
            response = await api.post(
                "/subscriber/send-sub-flow-by-flow-name",
                json={"user_ns": ns(sam), "flow_name": "Order update", "variables": variables},
            )
            assert response.status_code == 422, variables
            assert list(response.json()["errors"]) == ["variables"]

    async def test_an_unknown_name_is_404(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        sam = await reachable(session, tenant)
        response = await api.post(
            "/subscriber/send-sub-flow-by-flow-name",
            json={"user_ns": ns(sam), "flow_name": "Nope"},
        )
        assert (response.status_code, response.json()) == (404, {"message": "Sub flow not found"})

    async def test_a_paused_subscriber_is_refused(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_flow(session, tenant, "Order update", "Hi")
        sam = await reachable(session, tenant, **PAUSED)
        response = await api.post(
            "/subscriber/send-sub-flow-by-flow-name",
            json={"user_ns": ns(sam), "flow_name": "Order update"},
        )
        assert response.status_code == 422
        assert list(response.json()["errors"]) == ["user_ns"]


class TestSendSubFlowByUserId:
    async def test_finds_the_subscriber_by_channel_id_and_ignores_extra_keys(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
    ) -> None:
        welcome = await make_flow(session, tenant, "Welcome", "Hello by phone")
        sam = await reachable(session, tenant, phone="+61 400 111 222")
        response = await api.post(
            "/subscriber/send-sub-flow-by-user-id",
            json={
                "user_id": "+61400111222",
                "sub_flow_ns": welcome,
                "flow_ns": tenant.flow_ns,
                "context": {"source": "crm"},
            },
        )
        assert response.status_code == 200, response.text
        assert await sent(runtime, webhook, sam) == ["Hello by phone"]

    async def test_an_unknown_user_id_is_404_and_refusals_name_user_id(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        welcome = await make_flow(session, tenant, "Welcome", "Hi")
        unknown = await api.post(
            "/subscriber/send-sub-flow-by-user-id",
            json={"user_id": "nobody", "sub_flow_ns": welcome},
        )
        assert (unknown.status_code, unknown.json()) == (404, {"message": "Subscriber not found"})
        sam = await reachable(session, tenant, is_subscribed=False)
        refused = await api.post(
            "/subscriber/send-sub-flow-by-user-id",
            json={"user_id": sam.user_id, "sub_flow_ns": welcome},
        )
        assert refused.status_code == 422
        assert refused.json()["errors"] == {
            "user_id": ["The subscriber has unsubscribed from the bot."]
        }


class TestSendMainFlow:
    async def test_the_main_flow_runs(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
    ) -> None:
        main = await flows.main_flow(session, tenant.bot_id)
        main.definition = text_flow("Main menu, {{first_name}}.")
        await session.commit()
        sam = await reachable(session, tenant, name="Sam Smith")
        response = await api.post("/subscriber/send-main-flow", json={"user_ns": ns(sam)})
        assert response.status_code == 200, response.text
        assert await sent(runtime, webhook, sam) == ["Main menu, Sam."]

    async def test_refusals(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        nobody = await api.post("/subscriber/send-main-flow", json={"user_ns": "f1u999999"})
        assert nobody.status_code == 404
        sam = await reachable(session, tenant, **PAUSED)
        paused = await api.post("/subscriber/send-main-flow", json={"user_ns": ns(sam)})
        assert paused.status_code == 422
        missing = await api.post("/subscriber/send-main-flow", json={})
        assert missing.json()["errors"] == {"user_ns": ["The user_ns field is required."]}


class TestSendNode:
    async def test_the_flow_runs_from_that_node_on(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
    ) -> None:
        flow = await flows.create_flow(
            session,
            tenant.bot_id,
            name="Steps",
            kind=FlowKind.SUB,
            definition=text_flow("One", "Two", "Three"),
        )
        node = (await node_numbers(session, flow))["say1"]
        await session.commit()
        sam = await reachable(session, tenant)
        response = await api.post(
            "/subscriber/send-node",
            json={"user_ns": ns(sam), "node_ns": f"{tenant.flow_ns}n{node}"},
        )
        assert response.status_code == 200, response.text
        assert await sent(runtime, webhook, sam) == ["Two", "Three"]

    async def test_an_unknown_or_foreign_node_is_404(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        sam = await reachable(session, tenant)
        for node_ns in (f"{tenant.flow_ns}n999", f"f{tenant.bot_id + 1}n1", "not-a-node"):
            response = await api.post(
                "/subscriber/send-node", json={"user_ns": ns(sam), "node_ns": node_ns}
            )
            assert (response.status_code, response.json()) == (404, {"message": "Node not found"})

    async def test_an_unsubscribed_subscriber_is_refused(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
    ) -> None:
        flow = await flows.create_flow(
            session, tenant.bot_id, name="Steps", definition=text_flow("One")
        )
        node = (await node_numbers(session, flow))["say0"]
        await session.commit()
        sam = await reachable(session, tenant, is_subscribed=False)
        response = await api.post(
            "/subscriber/send-node",
            json={"user_ns": ns(sam), "node_ns": f"{tenant.flow_ns}n{node}"},
        )
        assert response.status_code == 422
        assert await sent(runtime, webhook, sam) == []
        assert delivered(webhook) == []
