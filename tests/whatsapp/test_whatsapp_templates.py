"""WhatsApp templates through the Connect API, against the fake Cloud API: create, sync (paged),
list, delete, and sending them to subscribers with their parameters filled in."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update
from whatsapp_support import SHIPPED

from builders import Sessions, Tenant
from fake_whatsapp import WABA_ID, FakeWhatsApp, message_delivery, signed, text_message
from konversation.conversations.models import Message
from konversation.db import session_scope
from konversation.runtime.models import Delivery
from konversation.subscribers.models import Subscriber
from konversation.whatsapp.models import WhatsAppTemplate

ADA = "61412345678"


@pytest.fixture
async def ada_ns(
    client: httpx.AsyncClient, app: FastAPI, connected: Any, sessions: Sessions, tenant: Tenant
) -> str:
    """Ada wrote to the bot on WhatsApp."""
    body = json.dumps(message_delivery(ADA, text_message("hello"))).encode()
    await client.post(f"/webhooks/whatsapp/{connected.uid}", content=body, headers=signed(body))
    async with session_scope(sessions) as session:
        ada = await session.scalar(select(Subscriber).where(Subscriber.user_id == ADA))
        assert ada is not None
        return f"f{tenant.bot_id}u{ada.number}"


def content(**params: str) -> dict[str, Any]:
    return {"namespace": "x", "name": "order_shipped", "lang": "en_US", "params": params}


class TestManaging:
    async def test_a_created_template_is_submitted_and_listed_as_pending(
        self, api: httpx.AsyncClient, connected: Any, fake_whatsapp: FakeWhatsApp
    ) -> None:
        response = await api.post("/whatsapp-template/create", json=SHIPPED)
        assert response.status_code == 200, response.text
        [call] = fake_whatsapp.calls
        assert (call.method, call.path) == ("POST", f"/{WABA_ID}/message_templates")
        assert call.body["name"] == "order_shipped"
        listed = await api.post("/whatsapp-template/list", params={"name": "shipped"})
        [item] = listed.json()["data"]
        assert item["status"] == "PENDING"
        assert item["params"] == ["BODY_{{1}}", "BODY_{{2}}", "QUICK_REPLY_1"]
        assert listed.json()["meta"]["total"] == 1

    async def test_sync_follows_the_pages_and_forgets_what_meta_dropped(
        self,
        api: httpx.AsyncClient,
        connected: Any,
        fake_whatsapp: FakeWhatsApp,
        sessions: Sessions,
    ) -> None:
        for n in range(130):
            fake_whatsapp.templates.append(
                {**SHIPPED, "name": f"t{n:03}", "id": str(n), "status": "APPROVED"}
            )
        response = await api.post("/whatsapp-template/sync")
        assert response.json() == {"status": "ok", "count": 130}
        assert len([c for c in fake_whatsapp.calls if c.method == "GET"]) == 2
        fake_whatsapp.templates = fake_whatsapp.templates[:5]
        assert (await api.post("/whatsapp-template/sync")).json()["count"] == 5
        page = await api.post("/whatsapp-template/list", params={"limit": 2, "page": 3})
        assert [t["name"] for t in page.json()["data"]] == ["t004"]

    async def test_delete_removes_it_at_meta_and_here(
        self, api: httpx.AsyncClient, approved: None, fake_whatsapp: FakeWhatsApp
    ) -> None:
        response = await api.request(
            "DELETE", "/whatsapp-template/delete", json={"name": "order_shipped"}
        )
        assert response.status_code == 200
        assert fake_whatsapp.templates == []
        assert (await api.post("/whatsapp-template/list")).json()["data"] == []
        again = await api.request(
            "DELETE", "/whatsapp-template/delete", json={"name": "order_shipped"}
        )
        assert again.status_code == 404

    async def test_meta_refusals_are_400_with_meta_reason_and_store_nothing(
        self,
        api: httpx.AsyncClient,
        connected: Any,
        fake_whatsapp: FakeWhatsApp,
        sessions: Sessions,
    ) -> None:
        fake_whatsapp.fail_next(400, 100, "Invalid parameter")
        response = await api.post("/whatsapp-template/create", json=SHIPPED)
        assert response.status_code == 400
        assert "Invalid parameter" in response.json()["message"]
        async with session_scope(sessions) as session:
            assert await session.scalar(select(func.count()).select_from(WhatsAppTemplate)) == 0

    async def test_without_a_whatsapp_number_the_call_says_so(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/whatsapp-template/sync")
        assert response.status_code == 400
        assert "not connected to WhatsApp" in response.json()["message"]


class TestSending:
    async def test_parameters_are_filled_from_the_request_and_the_subscriber(
        self,
        api: httpx.AsyncClient,
        approved: None,
        ada_ns: str,
        fake_whatsapp: FakeWhatsApp,
        sessions: Sessions,
    ) -> None:
        fake_whatsapp.reset()
        body = {
            "user_ns": ada_ns,
            "content": content(**{"BODY_{{1}}": "{{first_name}}", "BODY_{{2}}": "A-1"}),
        }
        response = await api.post("/subscriber/send-whatsapp-template", json=body)
        assert response.status_code == 200, response.text
        [sent] = fake_whatsapp.messages()
        assert sent["to"] == ADA
        assert sent["template"]["components"] == [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Ada"}, {"type": "text", "text": "A-1"}],
            }
        ]
        async with session_scope(sessions) as session:
            logged = await session.scalar(select(Message).where(Message.msg_type == "template"))
            assert logged is not None
            assert logged.content == "Hi Ada, order A-1 has shipped."
            delivery = await session.scalar(
                select(Delivery).where(Delivery.external_id == fake_whatsapp.wamids[0])
            )
            assert delivery is not None

    async def test_templates_go_out_outside_the_window(
        self, api: httpx.AsyncClient, approved: None, ada_ns: str, sessions: Sessions
    ) -> None:
        async with session_scope(sessions) as session:
            await session.execute(
                update(Subscriber).values(
                    last_interaction_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
                )
            )
        params = {"BODY_{{1}}": "Ada", "BODY_{{2}}": "A-1"}
        text = await api.post("/subscriber/send-text", json={"user_ns": ada_ns, "content": "hi"})
        assert text.status_code == 422
        sent = await api.post(
            "/subscriber/send-whatsapp-template",
            json={"user_ns": ada_ns, "content": content(**params)},
        )
        assert sent.status_code == 200

    async def test_missing_parameters_are_named_and_nothing_is_sent(
        self, api: httpx.AsyncClient, approved: None, ada_ns: str, fake_whatsapp: FakeWhatsApp
    ) -> None:
        fake_whatsapp.reset()
        body = {"user_ns": ada_ns, "content": content(**{"BODY_{{1}}": "Ada"})}
        response = await api.post("/subscriber/send-whatsapp-template", json=body)
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "content.params.BODY_{{2}}": ["The BODY_{{2}} parameter is required."]
        }
        assert fake_whatsapp.messages() == []

    async def test_an_unknown_template_is_404(
        self, api: httpx.AsyncClient, approved: None, ada_ns: str
    ) -> None:
        body = {"user_ns": ada_ns, "content": content() | {"name": "nope"}}
        response = await api.post("/subscriber/send-whatsapp-template", json=body)
        assert response.status_code == 404
        assert response.json()["message"] == "Template not found"

    async def test_by_user_id_creates_the_subscriber_when_asked(
        self,
        api: httpx.AsyncClient,
        approved: None,
        fake_whatsapp: FakeWhatsApp,
        sessions: Sessions,
    ) -> None:
        params = {"BODY_{{1}}": "there", "BODY_{{2}}": "A-2"}
        body = {"user_id": "+61400000001", "content": content(**params)}
        unknown = await api.post("/subscriber/send-whatsapp-template-by-user-id", json=body)
        assert unknown.status_code == 404
        created = await api.post(
            "/subscriber/send-whatsapp-template-by-user-id",
            json=body | {"create_if_not_found": "yes"},
        )
        assert created.status_code == 200, created.text
        assert fake_whatsapp.messages()[-1]["to"] == "61400000001"

    async def test_a_graph_error_is_a_clear_400(
        self, api: httpx.AsyncClient, approved: None, ada_ns: str, fake_whatsapp: FakeWhatsApp
    ) -> None:
        fake_whatsapp.fail_next(400, 132000, "Number of parameters does not match")
        params = {"BODY_{{1}}": "Ada", "BODY_{{2}}": "A-1"}
        response = await api.post(
            "/subscriber/send-whatsapp-template",
            json={"user_ns": ada_ns, "content": content(**params)},
        )
        assert response.status_code == 400
        assert response.json()["message"] == (
            "WhatsApp refused to send the template: WhatsApp refused the call: "
            "(132000) Number of parameters does not match"
        )
