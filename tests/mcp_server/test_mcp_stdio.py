"""`konversation mcp` over stdio, started by the SDK's own client as MCP clients start it: the key
comes from the environment, tool calls meet the key's permissions and rate limits, and a key
that is not live stops the command before it serves anything."""

from __future__ import annotations

import os
import subprocess
import sys

from mcp_support import all_tools, answer_of, stdio_client

from builders import Sessions, Tenant, make_key
from konversation.db import session_scope
from konversation.settings import Settings


async def test_an_agent_runs_the_bot_over_stdio_within_its_keys_rights(
    settings: Settings, tenant: Tenant, sessions: Sessions, server_secret: bytes, app: object
) -> None:
    async with session_scope(sessions) as session:
        token = await make_key(session, server_secret, tenant, permissions=["Manage Flow"])
    operations = sum(len(item) for item in app.openapi()["paths"].values())  # type: ignore[attr-defined]

    client = stdio_client(settings, token, KONVERSATION_RATE_LIMIT_WRITES="1")
    async with client:
        tools = await all_tools(client)
        created = await client.call_tool("flow_create_tag", {"name": "VIP"})
        # One write a second: of the writes right after, one is refused (the process's clock
        # runs, so which one depends on where the second turns).
        burst = [await client.call_tool("flow_create_tag", {"name": f"Lead {i}"}) for i in range(5)]
        listed = await client.call_tool("flow_tags", {"limit": 100})
        refused = await client.call_tool("openai_embeddings", {})

    assert len(tools) == operations
    assert answer_of(created)["data"]["name"] == "VIP"
    limited = [answer_of(call) for call in burst if call.is_error]
    assert limited
    assert {answer["status_code"] for answer in limited} == {429}
    made = {answer_of(call)["data"]["name"] for call in burst if not call.is_error}
    assert {tag["name"] for tag in answer_of(listed)["data"]} == {"VIP", *made}
    assert refused.is_error is True
    assert answer_of(refused)["status_code"] == 403


def test_a_key_that_is_not_live_stops_the_command(settings: Settings) -> None:
    env = {
        **os.environ,
        "KONVERSATION_DATABASE_URL": settings.database_url,
        "KONVERSATION_SECRET_KEY": settings.secret_key or "",
        "KONVERSATION_API_KEY": "not-a-key",
    }
    finished = subprocess.run(
        [sys.executable, "-m", "konversation", "mcp"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert finished.returncode == 1
    assert "not valid" in finished.stderr
    assert finished.stdout == ""
