"""No key reaches past its own bot and workspace: every operation of the API, called with one
tenant's key and another tenant's identifiers, reads nothing of the other and changes nothing
of it; and a key without Manage Team reaches no workspace operation.

The calls are generated from `/api-docs`: each parameter is filled with the other tenant's
identifier of the kind its name asks for (a `user_ns`, a `tag_ns`, a product id...), so every
operation is tried against real data of the other tenant.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from builders import Tenant, make_key, make_tenant

REFERENCE = Path(__file__).parent.parent / "data" / "reference_operations.json"
SECRET = "zq-secret-of-b"  # in the names of the other tenant's things
# What the other tenant keeps that a call aimed at it never sends: none may come back.
UNSENT = ("zq-person-b", "zq-label-b", "zq-type-b", "zq-value-b", "zq-answer-b", "zq-hook-b")


class Other:
    """The other tenant's things, made through its own key, and where to find them."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.ids: dict[str, Any] = {}

    async def fill(self, api: httpx.AsyncClient) -> None:
        async def made(path: str, body: dict[str, Any]) -> dict[str, Any]:
            answer = await api.post(path, json=body)
            assert answer.status_code == 200, (path, answer.text)
            data: dict[str, Any] = answer.json().get("data", {})
            return data

        tag = await made("/flow/create-tag", {"name": f"tag {SECRET}"})
        field = await made(
            "/flow/create-user-field", {"name": f"field_{SECRET}", "var_type": "text"}
        )
        await made(
            "/flow/create-bot-field",
            {"name": f"bot_{SECRET}", "var_type": "text", "value": "zq-value-b"},
        )
        await made("/team/create-label", {"name": "zq-label-b"})
        kind = await made("/shop/product-types/create", {"name": "zq-type-b"})
        hook = await made(
            "/event-webhook/create",
            {
                "url": "http://127.0.0.1:9/zq-hook-b",
                "events": ["subscriber.created"],
                "description": "zq-hook-b",
            },
        )
        person = await made(
            "/subscriber/create", {"first_name": "zq-person-b", "phone": "+4479001"}
        )
        self.ids = {
            "user_ns": person["user_ns"],
            "user_id": person.get("user_id") or "4479001",
            "tag_ns": tag["tag_ns"],
            "var_ns": _ns_in(field),
            "flow_ns": f"f{self.tenant.bot_id}",
            "sub_flow_ns": f"f{self.tenant.bot_id}s1",
            "id": _first_int(kind),
            "webhook_id": hook["id"],
        }
        [announced] = (await api.get("/event-webhook/deliveries")).json()["data"]
        self.ids["delivery_id"] = announced["id"]
        tagged = await api.post(
            "/subscriber/add-tag", json={"user_ns": person["user_ns"], "tag_ns": tag["tag_ns"]}
        )
        assert tagged.status_code == 200, tagged.text
        noted = await api.put(
            "/subscriber/set-user-field",
            json={
                "user_ns": person["user_ns"],
                "var_ns": self.ids["var_ns"],
                "value": "zq-answer-b",
            },
        )
        assert noted.status_code == 200, noted.text

    def value_for(self, name: str, path: str) -> Any:
        """The other tenant's identifier of the kind a parameter called `name` of the operation
        at `path` asks for."""
        lowered = name.lower()
        if lowered in {"webhook_id", "delivery_id"}:
            return self.ids[lowered]
        if lowered == "id" and "/event-webhook" in path:
            return self.ids["webhook_id"]
        if lowered.endswith("_ns") or lowered == "ns":
            for kind in ("user", "tag", "sub_flow", "flow"):
                if kind in lowered:
                    return self.ids[f"{kind}_ns"]
            return self.ids["var_ns"]
        if lowered == "user_id":
            return self.ids["user_id"]
        if lowered.endswith("id"):
            return self.ids["id"]
        if "name" in lowered:
            return f"tag {SECRET}"
        return "sent-by-a"


def _ns_in(data: dict[str, Any]) -> str:
    return next(v for v in data.values() if isinstance(v, str) and re.fullmatch(r"f\d+v\d+", v))


def _first_int(data: dict[str, Any]) -> int:
    return next(v for k, v in data.items() if k.endswith("id") and isinstance(v, int))


async def _operations(client: httpx.AsyncClient) -> list[tuple[str, str, dict[str, Any]]]:
    document = (await client.get("/api-docs")).json()
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def _request(other: Other, path: str, operation: dict[str, Any]) -> dict[str, Any]:
    """The call of `operation` aimed at the other tenant's things."""
    params = operation.get("parameters", [])
    for parameter in params:
        if parameter["in"] == "path":
            path = path.replace(
                "{" + parameter["name"] + "}", str(other.value_for(parameter["name"], path))
            )
    query = {p["name"]: other.value_for(p["name"], path) for p in params if p["in"] == "query"}
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    names = _property_names(schema.get("schema", {}))
    return {
        "url": path,
        "params": query,
        "json": {name: other.value_for(name, path) for name in names} if schema else None,
    }


_COMPONENTS: dict[str, Any] = {}


def _property_names(schema: dict[str, Any]) -> list[str]:
    if "$ref" in schema:
        schema = _COMPONENTS.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return list(schema.get("properties", {}))


async def _snapshot(api: httpx.AsyncClient, other: Other) -> dict[str, Any]:
    """What the other tenant sees of its own things."""
    seen: dict[str, Any] = {}
    for path, params in (
        ("/flow/tags", {}),
        ("/flow/user-fields", {}),
        ("/flow/bot-fields", {}),
        ("/subscribers", {}),
        ("/subscriber/get-info", {"user_ns": other.ids["user_ns"]}),
        ("/team/labels", {}),
        ("/shop/product-types", {}),
        ("/event-webhooks", {}),
        ("/event-webhook/deliveries", {}),
    ):
        answer = await api.get(path, params=params)
        seen[path] = (answer.status_code, answer.json())
    return seen


@pytest.fixture
async def other(
    sessions: async_sessionmaker[AsyncSession],
    server_secret: bytes,
    client_for,  # type: ignore[no-untyped-def]
) -> tuple[Other, httpx.AsyncClient]:
    tenant = await make_tenant(sessions, server_secret)
    api = client_for(tenant.token)
    found = Other(tenant)
    await found.fill(api)
    return found, api


async def test_no_operation_reads_or_changes_another_tenants_things(
    api: httpx.AsyncClient,
    client: httpx.AsyncClient,
    other: tuple[Other, httpx.AsyncClient],
) -> None:
    them, their_api = other
    document = (await client.get("/api-docs")).json()
    _COMPONENTS.update(document["components"]["schemas"])
    before = await _snapshot(their_api, them)
    leaks, failures = [], []
    for method, path, operation in await _operations(client):
        answer = await api.request(method, **_request(them, path, operation))
        if any(unsent in answer.text for unsent in UNSENT):
            leaks.append(f"{method} {path}")
        if answer.status_code >= 500:
            failures.append(f"{method} {path}: {answer.status_code}")
    after = await _snapshot(their_api, them)
    assert leaks == []
    assert failures == []
    assert after == before


async def test_a_key_without_manage_team_reaches_no_workspace_operation(
    client: httpx.AsyncClient,
    client_for,  # type: ignore[no-untyped-def]
    sessions: async_sessionmaker[AsyncSession],
    tenant: Tenant,
    server_secret: bytes,
) -> None:
    async with sessions() as session:
        token = await make_key(session, server_secret, tenant, permissions=["Manage Flow"])
    flow_only = client_for(token)
    scopes = {
        (op["method"], op["path"]): op["scope"]
        for op in json.loads(REFERENCE.read_text("utf-8"))["operations"]
    }
    reached = []
    checked = 0
    for method, path, _operation in await _operations(client):
        if scopes.get((method, path)) != "Manage Team":
            continue
        checked += 1
        url = re.sub(r"\{[^}]+\}", "1", path)
        answer = await flow_only.request(method, url, json={} if method != "GET" else None)
        if answer.status_code != 403:
            reached.append(f"{method} {path}: {answer.status_code}")
    assert checked > 40
    assert reached == []
