"""MCP over streamable HTTP at /mcp, run by the SDK's own client against the real server on
loopback: the agent's key is its Bearer token, every tool call is the REST call with its
permission checks and rate limits, and the bot's flows, tags and fields are readable
resources."""

from __future__ import annotations

import json

import httpx
import mcp_types as types
import pytest
from mcp_support import all_tools, answer_of, http_client, mcp_server
from sqlalchemy import select

from builders import Sessions, Tenant, make_key
from konversation.audit.models import AuditEntry
from konversation.db import session_scope
from konversation.settings import Settings


@pytest.fixture
def url(settings: Settings) -> object:
    with mcp_server(settings) as found:
        yield found


async def _flow_only_key(sessions: Sessions, server_secret: bytes, tenant: Tenant) -> str:
    async with session_scope(sessions) as session:
        return await make_key(session, server_secret, tenant, permissions=["Manage Flow"])


async def test_an_agent_lists_every_operation_as_a_tool_page_by_page(
    url: str, tenant: Tenant, app: object
) -> None:
    document = app.openapi()  # type: ignore[attr-defined]
    operations = sum(len(item) for item in document["paths"].values())

    async with http_client(url, tenant.token) as client:
        first = await client.list_tools(cache_mode="bypass")
        tools = await all_tools(client)

    assert first.next_cursor is not None  # more than one page
    assert len(tools) == operations
    add_tag = next(tool for tool in tools if tool.name == "subscriber_add_tag")
    assert add_tag.input_schema["required"] == ["user_ns", "tag_ns"]
    assert add_tag.annotations is not None
    assert add_tag.annotations.read_only_hint is False
    assert add_tag.meta == {"group": "Subscriber"}


async def test_an_agent_reads_and_writes_through_tools(
    url: str, tenant: Tenant, api: httpx.AsyncClient
) -> None:
    async with http_client(url, tenant.token) as client:
        created = await client.call_tool("flow_create_tag", {"name": "VIP"})
        listed = await client.call_tool("flow_tags", {"name": "VI"})

    assert created.is_error is False
    made = answer_of(created)["data"]
    assert made["name"] == "VIP"
    assert [tag["tag_ns"] for tag in answer_of(listed)["data"]] == [made["tag_ns"]]
    rest = await api.get("/flow/tags")
    assert [tag["name"] for tag in rest.json()["data"]] == ["VIP"]


async def test_a_call_is_audited_as_the_rest_call_is(
    url: str, tenant: Tenant, sessions: Sessions
) -> None:
    async with http_client(url, tenant.token) as client:
        saved = await client.call_tool(
            "integration_openai_post", {"api_key": "sk-test-0123456789abcdef"}
        )
        deleted = await client.call_tool("integration_openai_delete", {})

    assert (saved.is_error, deleted.is_error) == (False, False)
    async with session_scope(sessions) as session:
        query = select(AuditEntry).where(AuditEntry.action != "key.created")
        entries = (await session.scalars(query.order_by(AuditEntry.id))).all()
    assert [(e.action, e.target, e.actor_kind) for e in entries] == [
        ("integration.saved", "/integration/openai", "key"),
        ("api.delete", "DELETE /api/integration/openai", "key"),
    ]


async def test_a_refused_call_is_a_tool_error_with_the_apis_status_and_message(
    url: str, tenant: Tenant, sessions: Sessions, server_secret: bytes
) -> None:
    token = await _flow_only_key(sessions, server_secret, tenant)

    async with http_client(url, token) as client:
        refused = await client.call_tool("openai_embeddings", {})
        invalid = await client.call_tool("flow_create_tag", {})
        unknown = await client.call_tool("no_such_tool", {})

    assert refused.is_error is True
    assert answer_of(refused)["status_code"] == 403
    assert "Manage Team" in answer_of(refused)["message"]
    assert invalid.is_error is True
    assert answer_of(invalid)["status_code"] == 422
    assert "name" in answer_of(invalid)["errors"]
    assert unknown.is_error is True


async def test_the_rate_limit_is_a_tool_error(settings: Settings, tenant: Tenant) -> None:
    with mcp_server(settings, stop_clock=True, rate_limit_writes=1) as url:
        async with http_client(url, tenant.token) as client:
            first = await client.call_tool("flow_create_tag", {"name": "First"})
            second = await client.call_tool("flow_create_tag", {"name": "Second"})

    assert first.is_error is False
    assert second.is_error is True
    assert answer_of(second)["status_code"] == 429


async def test_mcp_refuses_a_request_without_a_live_key(url: str) -> None:
    hello = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    async with httpx.AsyncClient() as http:
        missing = await http.post(url, json=hello)
        wrong = await http.post(url, json=hello, headers={"Authorization": "Bearer nope"})

    for refused in (missing, wrong):
        assert refused.status_code == 401
        assert refused.json() == {"message": "Unauthenticated."}


async def test_the_bots_flows_tags_and_fields_are_resources(
    url: str, tenant: Tenant, api: httpx.AsyncClient
) -> None:
    for name in ("VIP", "Lead"):
        assert (await api.post("/flow/create-tag", json={"name": name})).status_code == 200

    async with http_client(url, tenant.token) as client:
        listed = await client.list_resources()
        tags = await client.read_resource("konversation://tags")
        flows = await client.read_resource("konversation://flows")

    assert {str(r.uri) for r in listed.resources} == {
        "konversation://flows",
        "konversation://tags",
        "konversation://user-fields",
        "konversation://bot-fields",
    }
    [content] = tags.contents
    assert isinstance(content, types.TextResourceContents)
    assert sorted(tag["name"] for tag in json.loads(content.text)["data"]) == ["Lead", "VIP"]
    [document] = flows.contents
    assert isinstance(document, types.TextResourceContents)
    assert "data" in json.loads(document.text)


async def test_an_owner_offers_only_the_groups_they_allow(
    settings: Settings, tenant: Tenant
) -> None:
    with mcp_server(settings, mcp_groups=["Subscriber", "Sending"]) as url:
        async with http_client(url, tenant.token) as client:
            tools = await all_tools(client)
            hidden = await client.call_tool("flow_create_tag", {"name": "VIP"})

    assert {tool.meta["group"] for tool in tools if tool.meta} == {"Subscriber", "Sending"}
    assert hidden.is_error is True
