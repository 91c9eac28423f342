"""Our `/api-docs` against the facts of the reference API (`tests/data/reference_operations.json`).

The facts are extracted from the reference OpenAPI document by `tests/data/extract_reference.py`.
Operations are matched by method and path (relative to `/api`). Groups are implemented one at a
time: `COMPLETED_GROUPS` names the ones that must be complete; any operation implemented ahead of
its group is checked all the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from builders import Tenant, make_key

FACTS = json.loads(
    (Path(__file__).parent.parent / "data" / "reference_operations.json").read_text("utf-8")
)
REFERENCE: dict[tuple[str, str], dict[str, Any]] = {
    (op["method"], op["path"]): op for op in FACTS["operations"]
}
REFERENCE_TAGS = frozenset(FACTS["tags"])
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
OTHER_SCOPE = {"Manage Flow": "Manage Team", "Manage Team": "Manage Flow"}

# Reference groups (first tag) whose every operation is implemented; extend as groups land.
COMPLETED_GROUPS = (
    "Flow",
    "Flow Tag",
    "Flow User Field",
    "Flow Bot Field",
    "Workspace",
    "User",
    "Subscriber",
    "Team Label",
    "Flow Custom Events",
    "Flow Segment",
    "Flow Conversation",
    "Ecommerce",
    "Template",
    "Ticket List",
    "Whatsapp Template",
    "Sending",
    "Integration",
    "Mini-App",
    "OpenAI",
)

# Operations of our own under reference tags, with the permission each needs.
EXTENSIONS: dict[tuple[str, str], str | None] = {
    ("GET", "/flow/export"): "Manage Flow",  # the bot's flows as one portable document
    ("POST", "/flow/import"): "Manage Flow",  # the reverse of /flow/export
    ("GET", "/flow/schema"): "Manage Flow",  # the JSON Schema of a flow definition
    ("GET", "/subscriber/broadcast-status"): "Manage Flow",  # a broadcast's progress
    # Catalogue imports from a connected store, and following one.
    ("POST", "/integration/shopify/import"): "Manage Team",
    ("GET", "/integration/shopify/import"): "Manage Team",
    ("POST", "/integration/woocommerce/import"): "Manage Team",
    ("GET", "/integration/woocommerce/import"): "Manage Team",
    ("POST", "/template/create"): "Manage Team",  # a template of a bot's flows
    ("DELETE", "/template/{templateNs}/delete"): "Manage Team",
    ("POST", "/template/install"): "Manage Flow",  # a one-time link's token, into the key's bot
    ("POST", "/team/ticket-lists/create"): "Manage Team",  # a board and its typed columns
    ("DELETE", "/team/ticket-lists/{listId}/delete"): "Manage Team",
    # Mini-apps: installing one (its actions and triggers), reading what it declared, removing it.
    ("POST", "/installed-mini-app/install"): "Manage Team",
    ("GET", "/installed-mini-app/{app_id}"): "Manage Team",
    ("DELETE", "/installed-mini-app/{app_id}/uninstall"): "Manage Team",
    ("GET", "/openai-embeddings/generate"): "Manage Team",  # a generation's progress
}

# (method, path, field) where our request schema is deliberately more lenient than the reference.
LENIENT_BODY = {
    # The reference's create-* body reuses its response model: `var_ns` is assigned by the server
    # and `is_template_field` is set by template installs, so a client can't choose either.
    ("POST", "/flow/create-bot-field", "var_ns"),
    ("POST", "/flow/create-bot-field", "is_template_field"),
    ("POST", "/flow/create-user-field", "var_ns"),
    # A user field holds one value per subscriber, set with set-user-field; the reference
    # requires a `value` at creation (its response model again). A sent `value` is ignored.
    ("POST", "/flow/create-user-field", "value"),
    # Without `data` (e.g. a wrong key such as `bot_fields`) these answer 400 rather than 422,
    # as clients expect (wire-facts.md), so `data` is optional in the schema.
    ("PUT", "/flow/set-bot-fields", "data"),
    ("PUT", "/flow/set-bot-fields-by-name", "data"),
    # The reference's own text asks for a phone *or* an email; the service requires one of them
    # and answers 422 naming both when neither is sent.
    ("POST", "/subscriber/create", "phone"),
    ("POST", "/subscriber/create", "email"),
    # Some clients omit `minutes` (wire-facts.md): a documented default of 60 applies.
    ("POST", "/subscriber/pause-bot", "minutes"),
}

# Operations that take no parameters and no body, so they can never answer 422 and need not
# document it (the answers test checks that they indeed take nothing).
NOTHING_TO_VALIDATE = {
    ("GET", "/me"),
    ("GET", "/shop/business-hours/info"),
    ("GET", "/flow/export"),
    ("GET", "/flow/schema"),
    ("GET", "/openai-embeddings/generate"),  # the key says whose generation
    # Reading and clearing an integration: the key says whose.
    *(
        (method, f"/integration/{service}")
        for method in ("GET", "DELETE")
        for service in (
            "shopify",
            "woocommerce",
            "dropi",
            "meta-conversions-api",
            "openai",
            "s3storage",
        )
    ),
}

# (method, path) where a request without a valid key and with an empty body answers 422 before
# the key is checked. Clients expect 401/403 first; each entry is a known bug to fix in the app.
VALIDATES_BEFORE_AUTH: dict[tuple[str, str], str] = {}


def test_the_allow_lists_name_real_differences() -> None:
    """Entries must point at reference facts (the body test also refuses unused entries)."""
    for method, path, field in LENIENT_BODY:
        facts = REFERENCE[method, path]["body"]
        *outer, name = field.split(".")
        for segment in outer:
            facts = facts["nested"][segment]
        assert name in facts["properties"], (method, path, field)
    for key in NOTHING_TO_VALIDATE:
        assert key in EXTENSIONS or REFERENCE[key]["body"] is None
        assert key in EXTENSIONS or REFERENCE[key]["query"] == []
    assert set(VALIDATES_BEFORE_AUTH) <= set(REFERENCE) | set(EXTENSIONS)


# Reading our document


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = doc
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def _alternatives(doc: dict[str, Any], schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The concrete schemas behind `$ref`, `anyOf`, `oneOf` and `allOf`."""
    schema = _resolve(doc, schema)
    members = [*schema.get("anyOf", []), *schema.get("oneOf", []), *schema.get("allOf", [])]
    if not members:
        yield schema
    for member in members:
        yield from _alternatives(doc, member)


def _properties(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for alt in _alternatives(doc, schema):
        found.update(alt.get("properties", {}))
    return found


def _required(doc: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    return {name for alt in _alternatives(doc, schema) for name in alt.get("required", [])}


def _free_form(doc: dict[str, Any], schema: dict[str, Any]) -> bool:
    """True when the schema declares no properties at all, so it takes any object."""
    return not any("properties" in alt for alt in _alternatives(doc, schema))


def _step(doc: dict[str, Any], schema: dict[str, Any], segment: str) -> dict[str, Any] | None:
    """One step of a reference path such as `data[]`: the property, then its items if `[]`."""
    name, brackets = segment.removesuffix("[]"), segment.endswith("[]")
    prop = _properties(doc, schema).get(name)
    if prop is None or not brackets:
        return prop
    items = [alt["items"] for alt in _alternatives(doc, prop) if "items" in alt]
    if not items:
        return None
    return items[0] if len(items) == 1 else {"anyOf": items}


def _enum(doc: dict[str, Any], schema: dict[str, Any]) -> set[Any] | None:
    """The values a schema admits, or None when it admits any value of its type."""
    values: set[Any] = set()
    for alt in _alternatives(doc, schema):
        if alt.get("type") == "null":
            continue
        if "enum" in alt:
            values.update(alt["enum"])
        elif "const" in alt:
            values.add(alt["const"])
        else:
            return None
    return values


class Declared:
    """One operation of our document."""

    def __init__(self, doc: dict[str, Any], method: str, path: str, op: dict[str, Any]) -> None:
        self.doc = doc
        self.method = method
        self.path = path
        self.tags: list[str] = op.get("tags", [])
        params = [_resolve(doc, p) for p in op.get("parameters", [])]
        self.query = {p["name"]: bool(p.get("required")) for p in params if p["in"] == "query"}
        self.path_parameters = [p["name"] for p in params if p["in"] == "path"]
        body = _resolve(doc, op.get("requestBody", {}))
        self.body: dict[str, Any] | None = (
            body["content"]["application/json"]["schema"]
            if "application/json" in body.get("content", {})
            else None
        )
        self.responses = set(op.get("responses", {}))


def declared(doc: dict[str, Any]) -> dict[tuple[str, str], Declared]:
    return {
        (method.upper(), path): Declared(doc, method.upper(), path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method.upper() in METHODS
    }


def scope_of(key: tuple[str, str]) -> str | None:
    return REFERENCE[key]["scope"] if key in REFERENCE else EXTENSIONS.get(key)


def show(key: tuple[str, str]) -> str:
    return f"{key[0]} {key[1]}"


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api-docs")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


@pytest.fixture
async def ours(document: dict[str, Any]) -> dict[tuple[str, str], Declared]:
    return declared(document)


# (a) to (e): the document against the facts


def test_the_facts_cover_the_whole_reference() -> None:
    assert FACTS["operation_count"] == len(REFERENCE) == 187
    assert FACTS["server_base_paths"] == ["/api"]
    assert not set(EXTENSIONS) & set(REFERENCE)


def test_every_reference_group_is_complete() -> None:
    """With every group listed, `test_completed_groups_are_complete` covers all 187 operations."""
    assert sorted(COMPLETED_GROUPS) == sorted(REFERENCE_TAGS)


async def test_operations_under_reference_tags_are_reference_operations(
    ours: dict[tuple[str, str], Declared],
) -> None:
    strangers = [
        show(key)
        for key, op in ours.items()
        if REFERENCE_TAGS & set(op.tags) and key not in REFERENCE and key not in EXTENSIONS
    ]
    assert not strangers, "not in the reference (nor in EXTENSIONS):\n" + "\n".join(strangers)


async def test_completed_groups_are_complete(ours: dict[tuple[str, str], Declared]) -> None:
    missing = [
        f"{show(key)} ({op['tag']})"
        for key, op in REFERENCE.items()
        if op["tag"] in COMPLETED_GROUPS and key not in ours
    ]
    assert not missing, "not implemented:\n" + "\n".join(missing)


async def test_operations_carry_the_reference_tag(ours: dict[tuple[str, str], Declared]) -> None:
    wrong = [
        f"{show(key)}: {op.tags} instead of {REFERENCE[key]['tag']!r} first"
        for key, op in ours.items()
        if key in REFERENCE and op.tags[:1] != [REFERENCE[key]["tag"]]
    ]
    assert not wrong, "\n".join(wrong)


async def test_query_parameters_include_the_reference_ones(
    ours: dict[tuple[str, str], Declared],
) -> None:
    problems = []
    for key, op in ours.items():
        if key not in REFERENCE:
            continue
        for param in REFERENCE[key]["query"]:
            name = param["name"]
            if name not in op.query:
                problems.append(f"{show(key)}: no query parameter {name!r}")
            elif param["required"] and not op.query[name]:
                problems.append(f"{show(key)}: query parameter {name!r} should be required")
    assert not problems, "\n".join(problems)


def _compare_objects(
    doc: dict[str, Any],
    schema: dict[str, Any],
    facts: dict[str, Any],
    where: str,
    key: tuple[str, str],
    problems: list[str],
    lenient: set[tuple[str, str, str]],
) -> None:
    ours = _properties(doc, schema)
    required = _required(doc, schema)
    for name in facts["properties"]:
        field = f"{where}{name}"
        if name not in ours:
            if (*key, field) in LENIENT_BODY:
                lenient.add((*key, field))
            else:
                problems.append(f"{show(key)}: body has no property {field!r}")
    for name in facts["required"]:
        field = f"{where}{name}"
        if name in ours and name not in required:
            if (*key, field) in LENIENT_BODY:
                lenient.add((*key, field))
            else:
                problems.append(f"{show(key)}: body property {field!r} should be required")
    for segment, nested in facts.get("nested", {}).items():
        inner = _step(doc, schema, segment)
        if inner is None or _free_form(doc, inner):
            continue  # missing is reported above; a free-form object takes any property
        _compare_objects(doc, inner, nested, f"{where}{segment}.", key, problems, lenient)


async def test_request_bodies_include_the_reference_properties(
    ours: dict[tuple[str, str], Declared],
) -> None:
    problems: list[str] = []
    lenient: set[tuple[str, str, str]] = set()
    for key, op in ours.items():
        facts = REFERENCE.get(key, {}).get("body")
        if facts is None:
            continue
        if op.body is None:
            problems.append(f"{show(key)}: takes no JSON body")
            continue
        _compare_objects(op.doc, op.body, facts, "", key, problems, lenient)
    assert not problems, "\n".join(problems)
    stale = {entry for entry in LENIENT_BODY if entry[:2] in ours} - lenient
    assert not stale, f"LENIENT_BODY entries no longer needed: {sorted(stale)}"


async def test_enums_admit_the_reference_values(ours: dict[tuple[str, str], Declared]) -> None:
    problems = []
    for key, op in ours.items():
        for where, values in REFERENCE.get(key, {}).get("enums", {}).items():
            location, *segments = where.split(".")
            schema: dict[str, Any] | None
            if location == "body":
                schema = op.body
                for segment in segments:
                    schema = None if schema is None else _step(op.doc, schema, segment)
            else:
                schema = None  # the reference has no enum outside bodies today
            admitted = None if schema is None else _enum(op.doc, schema)
            if admitted is not None and not set(values) <= admitted:
                problems.append(f"{show(key)}: {where} refuses {sorted(set(values) - admitted)}")
    assert not problems, "\n".join(problems)


async def test_operations_document_their_answers(ours: dict[tuple[str, str], Declared]) -> None:
    problems = []
    for key, op in ours.items():
        if key not in REFERENCE and key not in EXTENSIONS:
            continue
        expected = {"200", "401", "422"}
        if key in NOTHING_TO_VALIDATE:
            if op.query or op.body or op.path_parameters:
                problems.append(f"{show(key)}: takes input, so is not in NOTHING_TO_VALIDATE")
            expected.discard("422")
        if scope_of(key):
            expected.add("403")
        if missing := expected - op.responses:
            problems.append(f"{show(key)}: does not document {sorted(missing)}")
    assert not problems, "\n".join(problems)


# (f) permissions, generated from the facts


def _url(key: tuple[str, str]) -> str:
    path = key[1]
    for name in REFERENCE.get(key, {}).get("path_parameters", []):
        path = path.replace("{" + name + "}", "1")
    return "/api" + path


async def call(
    client: httpx.AsyncClient, key: tuple[str, str], token: str | None
) -> httpx.Response:
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    method = key[0]
    if method in BODY_METHODS:
        return await client.request(method, _url(key), headers=headers, json={})
    return await client.request(method, _url(key), headers=headers)


def _cases(keys: list[tuple[str, str]]) -> list[Any]:
    return [
        pytest.param(
            key,
            id=show(key),
            marks=[pytest.mark.xfail(strict=True, reason=VALIDATES_BEFORE_AUTH[key])]
            if key in VALIDATES_BEFORE_AUTH
            else [],
        )
        for key in keys
    ]


# Every operation of the completed groups needs a key; GUARDED ones need a permission too.
COMPLETED = [key for key, op in REFERENCE.items() if op["tag"] in COMPLETED_GROUPS]
GUARDED = [key for key in COMPLETED if REFERENCE[key]["scope"]]
BAD_TOKENS = {
    "no key": None,
    "malformed key": "not-a-key",
    "unknown key": "kv_" + "0" * 16 + "_" + "A" * 43,
}


@pytest.mark.parametrize("key", _cases(GUARDED))
async def test_a_key_without_the_scope_gets_403(
    key: tuple[str, str],
    client: httpx.AsyncClient,
    session: AsyncSession,
    server_secret: bytes,
    tenant: Tenant,
) -> None:
    other = OTHER_SCOPE[REFERENCE[key]["scope"]]
    token = await make_key(session, server_secret, tenant, permissions=[other])
    response = await call(client, key, token)
    assert response.status_code == 403, response.text
    message = response.json().get("message")
    assert isinstance(message, str)
    assert message


@pytest.mark.parametrize("token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
@pytest.mark.parametrize("key", _cases(COMPLETED))
async def test_without_a_valid_key_answers_401(
    key: tuple[str, str], token: str | None, client: httpx.AsyncClient
) -> None:
    response = await call(client, key, token)
    assert response.status_code == 401, response.text
    assert response.json() == {"message": "Unauthenticated."}


@pytest.mark.parametrize(
    "key",
    [pytest.param(key, id=show(key)) for key in COMPLETED if key[0] in BODY_METHODS],
)
async def test_a_malformed_body_without_a_key_answers_401(
    key: tuple[str, str], client: httpx.AsyncClient
) -> None:
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    response = await client.request(key[0], _url(key), headers=headers, content=b"{not json")
    assert response.status_code == 401, response.text
    assert response.json() == {"message": "Unauthenticated."}


async def test_operations_ahead_of_their_group_check_keys_too(
    ours: dict[tuple[str, str], Declared],
    client: httpx.AsyncClient,
    session: AsyncSession,
    server_secret: bytes,
    tenant: Tenant,
) -> None:
    """The checks above, for implemented operations not yet covered by COMPLETED_GROUPS."""
    ahead = [key for key in ours if key in REFERENCE or key in EXTENSIONS]
    ahead = [key for key in ahead if key not in COMPLETED]
    tokens = {
        scope: await make_key(session, server_secret, tenant, permissions=[other])
        for scope, other in OTHER_SCOPE.items()
    }
    problems = []
    for key in ahead:
        scope = scope_of(key)
        if scope is not None:
            response = await call(client, key, tokens[scope])
            if response.status_code != 403 or not response.json().get("message"):
                problems.append(f"{show(key)} without {scope}: {response.status_code}")
        for label, bad in BAD_TOKENS.items():
            response = await call(client, key, bad)
            if (response.status_code, response.json()) != (401, {"message": "Unauthenticated."}):
                problems.append(f"{show(key)} with {label}: {response.status_code}")
    assert not problems, "\n".join(problems)


# (g) the document itself, and what lies around the operations


async def test_the_document_is_json_with_the_bearer_scheme(client: httpx.AsyncClient) -> None:
    # Clients fetch it with their key, so a key (even a stale one) must not get in the way.
    response = await client.get("/api-docs", headers={"Authorization": "Bearer not-a-key"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    assert doc["servers"] == [{"url": "/api"}]
    schemes = doc["components"]["securitySchemes"]
    bearer = [
        name for name, s in schemes.items() if (s["type"], s.get("scheme")) == ("http", "bearer")
    ]
    assert bearer
    assert any(name in requirement for requirement in doc["security"] for name in bearer)
    assert all(not path.startswith("/api/") for path in doc["paths"])


@pytest.mark.parametrize("authorized", [False, True], ids=["no key", "with a key"])
async def test_unknown_routes_answer_json_404(
    authorized: bool, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    headers = {"Authorization": f"Bearer {tenant.token}"} if authorized else {}
    response = await client.get("/api/no-such/operation", headers=headers)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert isinstance(response.json()["message"], str)


@pytest.mark.parametrize("key", [("POST", "/flow/tags"), ("GET", "/flow/create-tag")], ids=show)
async def test_a_wrong_method_answers_json_405(
    key: tuple[str, str], api: httpx.AsyncClient
) -> None:
    response = await api.request(*key)
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("application/json")
    assert isinstance(response.json()["message"], str)
