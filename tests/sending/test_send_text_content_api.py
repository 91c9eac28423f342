"""`POST /subscriber/send-text` and `/subscriber/send-content`: messages outside any flow,
delivered to the subscriber's channel (here the API channel's webhook, a sink on 127.0.0.1)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from sending_support import delivered, ns, reachable, texts_to
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from builders import Tenant, make_field, make_tag
from fake_webhook import FakeWebhook
from konversation.db import utcnow
from konversation.flows import service as flows
from konversation.flows.index import node_numbers
from konversation.jobs.runtime import Runtime
from konversation.subscribers.models import SubscriberFieldValue, SubscriberTag

PAUSED = {"paused_until": utcnow() + dt.timedelta(hours=1)}


class TestSendText:
    async def test_the_text_reaches_the_subscribers_channel(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
    ) -> None:
        sam = await reachable(session, tenant)
        response = await api.post(
            "/subscriber/send-text", json={"user_ns": ns(sam), "content": "Hi {{first_name}}!"}
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "ok"}
        await runtime.settle()
        assert delivered(webhook) == [
            (
                sam.user_id,
                {"type": "text", "text": "Hi {{first_name}}!", "buttons": [], "quick_replies": []},
            )
        ]

    async def test_the_text_is_in_the_message_log_as_the_bots(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, webhook: FakeWebhook
    ) -> None:
        sam = await reachable(session, tenant)
        await api.post("/subscriber/send-text", json={"user_ns": ns(sam), "content": "Shipped."})
        log = await api.get(
            "/subscriber/chat-messages", params={"user_ns": ns(sam), "include_bot": "yes"}
        )
        assert [(m["type"], m["content"]) for m in log.json()["data"]] == [("out", "Shipped.")]

    async def test_goes_out_while_the_bot_is_paused(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
    ) -> None:
        sam = await reachable(session, tenant, **PAUSED)
        response = await api.post(
            "/subscriber/send-text", json={"user_ns": ns(sam), "content": "An agent here."}
        )
        assert response.status_code == 200, response.text
        await runtime.settle()
        assert texts_to(webhook, sam) == ["An agent here."]

    async def test_an_unsubscribed_subscriber_is_refused(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
    ) -> None:
        sam = await reachable(session, tenant, is_subscribed=False)
        response = await api.post(
            "/subscriber/send-text", json={"user_ns": ns(sam), "content": "Hello?"}
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "user_ns": ["The subscriber has unsubscribed from the bot."]
        }
        await runtime.settle()
        assert delivered(webhook) == []

    async def test_an_unknown_subscriber_is_404(
        self, api: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        response = await api.post(
            "/subscriber/send-text", json={"user_ns": f"{tenant.flow_ns}u999", "content": "Hi"}
        )
        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}

    async def test_a_blank_or_missing_text_is_refused(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        sam = await reachable(session, tenant)
        blank = await api.post("/subscriber/send-text", json={"user_ns": ns(sam), "content": " "})
        assert blank.status_code == 422
        assert blank.json()["errors"] == {"content": ["The content field is required."]}
        missing = await api.post("/subscriber/send-text", json={"user_ns": ns(sam)})
        assert missing.json()["errors"] == {"content": ["The content field is required."]}


async def send_content(
    api: httpx.AsyncClient, user_ns: str, content: dict[str, Any], **extra: Any
) -> httpx.Response:
    body = {"user_ns": user_ns, "data": {"version": "v1", "content": content}, **extra}
    return await api.post("/subscriber/send-content", json=body)


MENU = {
    "version": 1,
    "start": "menu",
    "nodes": [
        {
            "id": "menu",
            "type": "send_message",
            "name": "Opening hours",
            "messages": [{"type": "text", "text": "We open at nine, {{first_name}}."}],
        },
        {"id": "prices", "type": "send_message", "messages": [{"type": "text", "text": "Cheap."}]},
    ],
}


class TestSendContent:
    async def test_each_kind_of_message_reaches_the_channel(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
    ) -> None:
        sam = await reachable(session, tenant)
        content = {
            "messages": [
                {
                    "type": "text",
                    "text": "Look:",
                    "buttons": [
                        {"type": "url", "caption": "Shop", "url": "https://example.com/shop"},
                        {"type": "call", "caption": "Call us", "phone": "+15550100"},
                    ],
                },
                {"type": "image", "url": "https://example.com/a.png", "caption": "New"},
                {"type": "file", "url": "https://example.com/a.pdf"},
                {
                    "type": "cards",
                    "elements": [
                        {"title": "Red", "subtitle": "Warm", "image_url": "https://e.com/r.png"},
                        {"title": "Blue"},
                    ],
                },
            ]
        }
        response = await send_content(api, ns(sam), content)
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "ok"}
        await runtime.settle()
        messages = [message for _, message in delivered(webhook)]
        assert messages == [
            {
                "type": "text",
                "text": "Look:",
                "buttons": [
                    {"type": "url", "title": "Shop", "url": "https://example.com/shop"},
                    {"type": "phone", "title": "Call us", "phone": "+15550100"},
                ],
                "quick_replies": [],
            },
            {
                "type": "image",
                "url": "https://example.com/a.png",
                "caption": "New",
                "buttons": [],
                "quick_replies": [],
            },
            {
                "type": "file",
                "url": "https://example.com/a.pdf",
                "caption": None,
                "buttons": [],
                "quick_replies": [],
            },
            {
                "type": "cards",
                "cards": [
                    {
                        "title": "Red",
                        "subtitle": "Warm",
                        "image_url": "https://e.com/r.png",
                        "buttons": [],
                    },
                    {"title": "Blue", "subtitle": None, "image_url": None, "buttons": []},
                ],
                "quick_replies": [],
            },
        ]

    async def test_a_node_quick_reply_leads_to_its_node_by_id_or_name(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
    ) -> None:
        flow = await flows.create_flow(session, tenant.bot_id, name="Menu", definition=MENU)
        numbers = await node_numbers(session, flow)
        await session.commit()
        sam = await reachable(session, tenant)
        content = {
            "messages": [{"type": "text", "text": "What do you want to know?"}],
            "quick_replies": [
                {"type": "node", "caption": "Hours", "target": "Opening hours"},
                {
                    "type": "node",
                    "caption": "Prices",
                    "target": f"f{tenant.bot_id}n{numbers['prices']}",
                },
                {"type": "url", "caption": "Website", "target": "https://example.com"},
            ],
        }
        response = await send_content(api, ns(sam), content)
        assert response.status_code == 200, response.text
        await runtime.settle()
        [(_, message)] = delivered(webhook)
        assert message["quick_replies"] == [
            {"title": "Hours", "payload": f"kv:{numbers['menu']}"},
            {"title": "Prices", "payload": f"kv:{numbers['prices']}"},
        ]
        assert message["buttons"] == [
            {"type": "url", "title": "Website", "url": "https://example.com"}
        ]

    async def test_goto_runs_the_flow_from_that_node_after_the_messages(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
    ) -> None:
        await flows.create_flow(session, tenant.bot_id, name="Menu", definition=MENU)
        await session.commit()
        sam = await reachable(session, tenant, name="Sam Smith")
        content = {"messages": [{"type": "text", "text": "Right away."}], "goto": "Opening hours"}
        response = await send_content(api, ns(sam), content)
        assert response.status_code == 200, response.text
        await runtime.settle()
        assert texts_to(webhook, sam) == ["Right away.", "We open at nine, Sam."]

    async def test_actions_change_tags_and_fields_by_name(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, webhook: FakeWebhook
    ) -> None:
        vip = await make_tag(session, tenant.bot_id, "VIP")
        await make_tag(session, tenant.bot_id, "Lead")
        await make_field(session, tenant.bot_id, "Order number", var_type="number")
        await make_field(session, tenant.bot_id, "City")
        sam = await reachable(session, tenant)
        await api.post("/subscriber/add-tag-by-name", json={"user_ns": ns(sam), "tag_name": "Lead"})
        await api.post(
            "/subscriber/set-user-field-by-name",
            json={"user_ns": ns(sam), "field_name": "City", "value": "Lisbon"},
        )
        content = {
            "actions": [
                {"action": "add_tag", "tag_name": "VIP"},
                {"action": "remove_tag", "tag_name": "Lead"},
                {"action": "set_field_value", "field_name": "Order number", "value": "1001"},
                {"action": "unset_field_value", "field_name": "City"},
            ]
        }
        response = await send_content(api, ns(sam), content)
        assert response.status_code == 200, response.text
        info = (await api.get("/subscriber/get-info", params={"user_ns": ns(sam)})).json()["data"]
        assert [t["tag_ns"] for t in info["tags"]] == [vip]
        values = {f["name"]: f["value"] for f in info["user_fields"]}
        assert values["Order number"] == 1001
        assert values.get("City") is None
        assert delivered(webhook) == []

    async def test_everything_unknown_is_refused_at_once_and_nothing_changes(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, webhook: FakeWebhook
    ) -> None:
        await make_tag(session, tenant.bot_id, "VIP")
        await make_field(session, tenant.bot_id, "Age", var_type="number")
        sam = await reachable(session, tenant)
        content = {
            "messages": [
                {
                    "type": "text",
                    "text": "Hi",
                    "buttons": [{"type": "node", "caption": "Go", "target": "Nowhere"}],
                }
            ],
            "actions": [
                {"action": "add_tag", "tag_name": "VIP"},
                {"action": "add_tag", "tag_name": "Ghost"},
                {"action": "set_field_value", "field_name": "Age", "value": "old"},
                {"action": "set_field_value", "field_name": "Shoe size", "value": 9},
            ],
            "quick_replies": [{"type": "node", "caption": "More", "target": "f999n1"}],
            "goto": "Lost node",
        }
        response = await send_content(api, ns(sam), content)
        assert response.status_code == 422
        where = "data.content"
        assert response.json()["errors"] == {
            f"{where}.actions.1.tag_name": [f"The selected {where}.actions.1.tag_name is invalid."],
            f"{where}.actions.2.value": [f"The {where}.actions.2.value field must be a number."],
            f"{where}.actions.3.field_name": [
                f"The selected {where}.actions.3.field_name is invalid."
            ],
            f"{where}.messages.0.buttons.0.target": [
                f"The selected {where}.messages.0.buttons.0.target is invalid."
            ],
            f"{where}.quick_replies.0.target": [
                f"The selected {where}.quick_replies.0.target is invalid."
            ],
            f"{where}.goto": [f"The selected {where}.goto is invalid."],
        }
        tagged = await session.scalars(
            select(SubscriberTag.tag_id).where(SubscriberTag.subscriber_id == sam.id)
        )
        assert tagged.all() == []

    async def test_the_shape_is_checked(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        sam = await reachable(session, tenant)
        cases: list[tuple[dict[str, Any], str, str]] = [
            (
                {"messages": [{"type": "text"}]},
                "data.content.messages.0",
                "The data.content.messages.0 field needs a text.",
            ),
            (
                {"messages": [{"type": "video", "url": "ftp://x"}]},
                "data.content.messages.0.url",
                "The data.content.messages.0.url field must be a web address starting with "
                "https:// or http://.",
            ),
            (
                {"messages": [{"type": "sticker", "text": "x"}]},
                "data.content.messages.0.type",
                "The selected data.content.messages.0.type is invalid.",
            ),
            (
                {
                    "messages": [{"type": "text", "text": "x"}],
                    "quick_replies": [
                        {
                            "type": "dynamic_block_callback",
                            "caption": "More",
                            "url": "https://e.com",
                        }
                    ],
                },
                "data.content.quick_replies.0.type",
                "The data.content.quick_replies.0.type field must be node or url: this server "
                "does not call back for content.",
            ),
            ({}, "data.content", "The data.content field needs messages, actions or a goto."),
        ]
        for content, path, message in cases:
            response = await send_content(api, ns(sam), content)
            assert response.status_code == 422, content
            errors = response.json()["errors"]
            assert path in errors, (content, errors)
            if message:
                assert errors[path] == [message]
        wrong_version = await api.post(
            "/subscriber/send-content",
            json={"user_ns": ns(sam), "data": {"version": "v9", "content": {"goto": "x"}}},
        )
        assert wrong_version.json()["errors"] == {
            "data.version": ["The selected data.version is invalid."]
        }

    async def test_url_quick_replies_must_fit_as_buttons_of_the_last_message(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        sam = await reachable(session, tenant)
        link = {"type": "url", "caption": "Open", "url": "https://example.com"}
        content = {
            "messages": [{"type": "text", "text": "Three links", "buttons": [link] * 3}],
            "quick_replies": [{"type": "url", "caption": "More", "url": "https://example.com"}],
        }
        response = await send_content(api, ns(sam), content)
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "data.content.quick_replies": [
                "The data.content.quick_replies field has url quick replies that do not fit as "
                "buttons on the last message (at most 3 buttons)."
            ]
        }

    async def test_paused_refuses_the_bots_content_but_not_an_agents(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        tenant: Tenant,
        webhook: FakeWebhook,
        runtime: Runtime,
    ) -> None:
        sam = await reachable(session, tenant, **PAUSED)
        content = {"messages": [{"type": "text", "text": "Hello from a person"}]}
        as_bot = await send_content(api, ns(sam), content)
        assert as_bot.status_code == 422
        assert as_bot.json()["errors"]["user_ns"][0].startswith(
            "The bot is paused for the subscriber until"
        )
        as_agent = await send_content(api, ns(sam), content, send_as_agent=True)
        assert as_agent.status_code == 200, as_agent.text
        await runtime.settle()
        assert texts_to(webhook, sam) == ["Hello from a person"]

    async def test_an_unsubscribed_subscriber_gets_nothing_even_from_an_agent(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        sam = await reachable(session, tenant, is_subscribed=False)
        content = {"messages": [{"type": "text", "text": "Hello"}]}
        response = await send_content(api, ns(sam), content, send_as_agent=True)
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "user_ns": ["The subscriber has unsubscribed from the bot."]
        }

    async def test_a_field_value_is_kept_typed(
        self, api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant
    ) -> None:
        await make_field(session, tenant.bot_id, "Subscribed", var_type="boolean")
        sam = await reachable(session, tenant)
        content = {
            "actions": [{"action": "set_field_value", "field_name": "Subscribed", "value": "yes"}]
        }
        assert (await send_content(api, ns(sam), content)).status_code == 200
        value = await session.scalar(
            select(SubscriberFieldValue.value).where(SubscriberFieldValue.subscriber_id == sam.id)
        )
        assert value is True

    async def test_an_unknown_subscriber_is_404(
        self, api: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        response = await send_content(api, f"{tenant.flow_ns}u77", {"goto": "x"})
        assert response.status_code == 404
        assert response.json() == {"message": "Subscriber not found"}
