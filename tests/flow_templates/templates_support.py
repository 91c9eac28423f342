"""What the template tests share: a source bot with flows worth packaging, and the calls that
make a template of it and a link to install it."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.flows.models import TemplateInstall


def greeting_document() -> dict[str, Any]:
    """A flow document of another bot (f90): a sub flow "Greeting" that tags the subscriber
    "Greeted" (by the source's tag id) and sets a user field; a bot field with a value."""
    return {
        "format": "konversation.flow",
        "version": 1,
        "bot": {"name": "Elsewhere", "flow_ns": "f90"},
        "flows": [
            {
                "name": "Greeting",
                "kind": "sub",
                "sub_flow_ns": "f90s1",
                "definition": {
                    "version": 1,
                    "start": "hello",
                    "nodes": [
                        {
                            "id": "hello",
                            "type": "send_message",
                            "position": {"x": 0, "y": 0},
                            "messages": [{"type": "text", "text": "Hi {{f90v1|there}}!"}],
                            "next": "tag",
                        },
                        {
                            "id": "tag",
                            "type": "action",
                            "position": {"x": 0, "y": 200},
                            "actions": [{"type": "add_tag", "tag_ns": "f90t1"}],
                        },
                    ],
                },
            }
        ],
        "tags": [{"name": "Greeted", "tag_ns": "f90t1"}],
        "user_fields": [{"name": "nickname", "var_ns": "f90v1", "var_type": "text"}],
        "bot_fields": [
            {"name": "greeting_hours", "var_ns": "f90v2", "var_type": "text", "value": "9 to 5"}
        ],
    }


async def fill_bot(api: httpx.AsyncClient) -> None:
    """Give the key's bot the flows of `greeting_document`."""
    answer = await api.post("/flow/import", json=greeting_document())
    assert answer.status_code == 200, answer.text


async def make_template(api: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    """A template of the key's bot, once the bot holds the greeting flows."""
    await fill_bot(api)
    answer = await api.post("/template/create", json={"name": "Greeter", **fields})
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


async def make_link(api: httpx.AsyncClient, template_ns: str, **params: Any) -> dict[str, Any]:
    answer = await api.post(f"/template/{template_ns}/generate-one-time-link", params=params)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


async def install_token(api: httpx.AsyncClient, **params: Any) -> str:
    """The one-time token of a link to a new template of the key's bot."""
    template = await make_template(api)
    return str((await make_link(api, template["template_ns"], **params))["one_time_token"])


async def installs_made(session: AsyncSession) -> int:
    """How many installs are recorded, in every workspace."""
    return int(await session.scalar(select(func.count()).select_from(TemplateInstall)) or 0)


async def names(api: httpx.AsyncClient, path: str) -> list[str]:
    """The names a bot's list operation answers (tags, sub flows, fields)."""
    answer = await api.get(path, params={"limit": 100})
    assert answer.status_code == 200, answer.text
    return [item["name"] for item in answer.json()["data"]]
