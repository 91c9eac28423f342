"""GET /flow/export and POST /flow/import: a bot's whole flow as one document, out and back in."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from builders import ClientFor, Sessions, Tenant, make_key, make_tenant
from konversation.flows import service as flows
from konversation.flows.models import Field, FieldScope, Flow, FlowKind, InboundWebhook, Tag
from konversation.workspaces.models import Bot, BotCounter

Json = dict[str, Any]


# A source bot whose definitions name its own tags, fields and sub flows.


def _main(ns: dict[str, str]) -> Json:
    return {
        "version": 1,
        "start": "m1",
        "nodes": [
            {
                "id": "m1",
                "type": "condition",
                "branches": [
                    {
                        "id": "blue",
                        "conditions": [
                            {
                                "subject": {"type": "field", "var_ns": ns["colour"]},
                                "operator": "eq",
                                "value": "blue",
                            }
                        ],
                        "next": "m2",
                    }
                ],
            },
            {"id": "m2", "type": "start_flow", "sub_flow_ns": ns["welcome"]},
        ],
    }


def _text(node_id: str, text: str, then: str | None) -> Json:
    return {
        "id": node_id,
        "type": "send_message",
        "messages": [{"type": "text", "text": text}],
        "next": then,
    }


def _welcome(ns: dict[str, str], source: str) -> Json:
    return {
        "version": 1,
        "start": "n1",
        "nodes": [
            _text("n1", f"Hi {{{{{ns['colour']}}}}}!", "n2"),
            {
                "id": "n2",
                "type": "action",
                "actions": [
                    {"type": "add_tag", "tag_ns": ns["vip"]},
                    {"type": "add_tag", "tag_ns": ns["lead"]},
                ],
                "next": "n3",
            },
            _text("n3", f"{ns['vip']},{ns['lead']};({ns['hours']})", "n4"),
            {
                "id": "n4",
                "type": "action",
                "actions": [
                    {"type": "set_field", "var_ns": ns["age"], "value": 42},
                    {"type": "set_bot_field", "var_ns": ns["discount"], "value": 5},
                    # Ids as keys are rewritten too.
                    {
                        "type": "notify_webhook",
                        "url": "https://example.com/hook",
                        "payload": {ns["age"]: 42, ns["discount"]: 5},
                    },
                ],
                "next": "n5",
            },
            {"id": "n5", "type": "start_flow", "sub_flow_ns": ns["survey"], "next": "n6"},
            # Not whole ids of the source bot's items: left exactly as they are.
            _text(
                "n6",
                f"x{source}t1 {source}t1x {source}t10 {source}sg1 {source}t999 "
                f"{source}n1 f{source}t1",
                None,
            ),
        ],
    }


def _survey(ns: dict[str, str]) -> Json:
    return {
        "version": 1,
        "start": "s1",
        "nodes": [
            {
                "id": "s1",
                "type": "action",
                "actions": [{"type": "set_field", "var_ns": ns["age"], "value": 42}],
            },
            {"id": "s2", "type": "start_flow", "sub_flow_ns": ns["welcome"]},
        ],
    }


@dataclass(frozen=True)
class Furnished:
    ns: dict[str, str]


async def _furnish(session: AsyncSession, bot_id: int) -> Furnished:
    ns: dict[str, str] = {}
    for key, name in (("vip", "VIP"), ("lead", "Lead")):
        tag = await flows.create_tag(session, bot_id, name=name)
        ns[key] = f"f{bot_id}t{tag.number}"
    for key, name, scope, var_type, value in (
        ("colour", "Favourite colour", FieldScope.USER, "text", None),
        ("age", "Age", FieldScope.USER, "number", None),
        ("hours", "opening_hours", FieldScope.BOT, "text", "9:00 to 17:00"),
        ("discount", "discount", FieldScope.BOT, "number", 10),
    ):
        field = await flows.create_field(
            session,
            bot_id,
            scope=scope,
            name=name,
            var_type=var_type,
            description=f"About {name}",
            value=value,
        )
        ns[key] = f"f{bot_id}v{field.number}"
    welcome = await flows.create_flow(session, bot_id, name="Welcome")
    survey = await flows.create_flow(session, bot_id, name="Survey", kind=FlowKind.WORKFLOW)
    ns["welcome"], ns["survey"] = f"f{bot_id}s{welcome.number}", f"f{bot_id}s{survey.number}"
    welcome.definition = _welcome(ns, f"f{bot_id}")
    survey.definition = _survey(ns)
    (await flows.main_flow(session, bot_id)).definition = _main(ns)
    await flows.set_default_start_flow(session, bot_id, sub_flow_ns=ns["welcome"])
    await flows.set_audio_transcription(session, bot_id, stt_model="whisper-1")
    session.add(
        InboundWebhook(
            bot_id=bot_id, hook_uid=f"uid-{bot_id}", name="Orders", sub_flow_number=survey.number
        )
    )
    await session.commit()
    return Furnished(ns)


@pytest.fixture
async def source(session: AsyncSession, tenant: Tenant) -> Furnished:
    return await _furnish(session, tenant.bot_id)


@pytest.fixture
async def target(sessions: Sessions, server_secret: bytes) -> Tenant:
    """A second bot, in another workspace, that already has some items of the same names."""
    other = await make_tenant(sessions, server_secret, email="target@example.com")
    async with sessions() as session:
        for name in ("Lead", "Spare"):
            await flows.create_tag(session, other.bot_id, name=name)
        await flows.create_field(
            session, other.bot_id, scope=FieldScope.BOT, name="discount", var_type="text",
            value="old",
        )  # fmt: skip
        await flows.create_field(
            session, other.bot_id, scope=FieldScope.USER, name="Age", var_type="text"
        )
        await flows.create_flow(session, other.bot_id, name="Survey")
        bot = await session.get(Bot, other.bot_id)
        assert bot is not None
        bot.name = "Target bot"
        await session.commit()
    return other


async def _export(api: httpx.AsyncClient) -> Json:
    response = await api.get("/flow/export")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    return body["data"]  # type: ignore[no-any-return]


async def _state(sessions: Sessions, bot_id: int) -> Json:
    """Everything an import may touch, read straight from the database."""
    async with sessions() as session:
        bot = await session.get(Bot, bot_id)
        assert bot is not None

        async def rows(model: Any, *columns: str) -> list[tuple[Any, ...]]:
            found = await session.scalars(select(model).where(model.bot_id == bot_id))
            return sorted((tuple(getattr(r, c) for c in columns) for r in found), key=repr)

        return {
            "bot": (bot.name, bot.start_sub_flow, bot.web_chat_start_sub_flow, bot.stt_model),
            "tags": await rows(Tag, "number", "name"),
            "fields": await rows(
                Field, "number", "scope", "name", "var_type", "description", "value"
            ),
            "flows": await rows(Flow, "number", "kind", "name", "definition", "revision"),
            "hooks": await rows(InboundWebhook, "name", "hook_uid", "sub_flow_number", "status"),
            "counters": await rows(BotCounter, "kind", "value"),
        }


class TestExport:
    async def test_answers_the_whole_flow_as_one_versioned_document(
        self, api: httpx.AsyncClient, tenant: Tenant, source: Furnished
    ) -> None:
        ns, bot = source.ns, f"f{tenant.bot_id}"
        document = await _export(api)
        assert list(document) == [
            "format", "version", "bot", "flows", "tags", "user_fields", "bot_fields",
            "inbound_webhooks",
        ]  # fmt: skip
        assert (document["format"], document["version"]) == ("konversation.flow", 1)
        assert document["bot"] == {
            "name": "Acme bot",
            "flow_ns": bot,
            "start_flow": ns["welcome"],
            "web_chat_start_flow": "main",
            "stt_model": "whisper-1",
        }
        assert document["flows"] == [
            {"name": "Main flow", "kind": "main", "sub_flow_ns": None, "definition": _main(ns)},
            {
                "name": "Welcome",
                "kind": "sub",
                "sub_flow_ns": ns["welcome"],
                "definition": _welcome(ns, bot),
            },
            {
                "name": "Survey",
                "kind": "workflow",
                "sub_flow_ns": ns["survey"],
                "definition": _survey(ns),
            },
        ]
        assert document["tags"] == [
            {"name": "VIP", "tag_ns": ns["vip"]},
            {"name": "Lead", "tag_ns": ns["lead"]},
        ]
        assert document["user_fields"] == [
            {
                "name": "Favourite colour",
                "var_ns": ns["colour"],
                "var_type": "text",
                "description": "About Favourite colour",
            },
            {"name": "Age", "var_ns": ns["age"], "var_type": "number", "description": "About Age"},
        ]
        assert document["bot_fields"] == [
            {
                "name": "opening_hours",
                "var_ns": ns["hours"],
                "var_type": "text",
                "description": "About opening_hours",
                "value": "9:00 to 17:00",
            },
            {
                "name": "discount",
                "var_ns": ns["discount"],
                "var_type": "number",
                "description": "About discount",
                "value": 10,
            },
        ]
        # The webhook's URL stays with its bot: the document names only what it starts.
        assert document["inbound_webhooks"] == [
            {"name": "Orders", "sub_flow_ns": ns["survey"], "status": "active"}
        ]

    async def test_a_new_bot_exports_its_empty_main_flow(
        self, api: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        document = await _export(api)
        assert document["flows"] == [
            {
                "name": "Main flow",
                "kind": "main",
                "sub_flow_ns": None,
                "definition": {"version": 1, "start": None, "nodes": []},
            }
        ]
        assert document["bot"]["start_flow"] == "main"
        assert document["tags"] == document["bot_fields"] == document["inbound_webhooks"] == []

    async def test_the_document_schema_is_published_with_the_operations(
        self, client: httpx.AsyncClient
    ) -> None:
        spec = (await client.get("/api-docs")).json()
        body = spec["paths"]["/flow/import"]["post"]["requestBody"]["content"]["application/json"]
        assert body["schema"]["$ref"].startswith("#/components/schemas/FlowDocument")
        assert body["examples"]["document"]["value"]["format"] == "konversation.flow"
        assert "/flow/export" in spec["paths"]
        schema = spec["components"]["schemas"][body["schema"]["$ref"].rsplit("/", 1)[-1]]
        assert {"format", "version", "bot"} <= set(schema["required"])


class TestImportIntoAnotherBot:
    async def test_rewrites_every_id_to_the_target_bots_items(
        self,
        api: httpx.AsyncClient,
        client_for: ClientFor,
        sessions: Sessions,
        tenant: Tenant,
        source: Furnished,
        target: Tenant,
    ) -> None:
        document = await _export(api)
        response = await client_for(target.token).post("/flow/import", json=document)
        assert response.status_code == 200, response.text
        assert response.json() == {
            "status": "ok",
            "data": {
                "flows": {"created": 1, "updated": 2},
                "tags": {"created": 1, "updated": 1},
                "user_fields": {"created": 1, "updated": 1},
                "bot_fields": {"created": 1, "updated": 1},
                "inbound_webhooks": {"created": 1, "updated": 0},
            },
        }

        result = await _export(client_for(target.token))
        t = f"f{target.bot_id}"
        tags = {tag["name"]: tag["tag_ns"] for tag in result["tags"]}
        assert tags == {"Lead": f"{t}t1", "Spare": f"{t}t2", "VIP": f"{t}t3"}
        fields = {f["name"]: f for f in result["user_fields"] + result["bot_fields"]}
        flows_ = {f["name"]: f for f in result["flows"]}
        ns = {
            "vip": tags["VIP"],
            "lead": tags["Lead"],
            "colour": fields["Favourite colour"]["var_ns"],
            "age": fields["Age"]["var_ns"],
            "hours": fields["opening_hours"]["var_ns"],
            "discount": fields["discount"]["var_ns"],
            "welcome": flows_["Welcome"]["sub_flow_ns"],
            "survey": flows_["Survey"]["sub_flow_ns"],
        }
        # The target's own numbering, not the source's: the "Survey" it had is kept.
        assert ns["survey"] == f"{t}s1"
        assert ns["welcome"] == f"{t}s2"
        assert flows_["Main flow"]["definition"] == _main(ns)
        assert flows_["Welcome"]["definition"] == _welcome(ns, f"f{tenant.bot_id}")
        assert flows_["Survey"] == {
            "name": "Survey", "kind": "workflow", "sub_flow_ns": ns["survey"],
            "definition": _survey(ns),
        }  # fmt: skip
        assert result["bot"] == {
            "name": "Target bot",
            "flow_ns": t,
            "start_flow": ns["welcome"],
            "web_chat_start_flow": "main",
            "stt_model": "whisper-1",
        }
        # Existing fields take the document's type, description and value.
        assert fields["discount"]["var_type"] == "number"
        assert fields["discount"]["value"] == 10
        assert fields["Age"]["var_type"] == "number"
        assert fields["Age"]["description"] == "About Age"
        assert result["inbound_webhooks"] == [
            {"name": "Orders", "sub_flow_ns": ns["survey"], "status": "active"}
        ]
        hooks = (await _state(sessions, target.bot_id))["hooks"]
        assert hooks[0][1] != f"uid-{tenant.bot_id}"

    async def test_importing_again_updates_and_changes_nothing_more(
        self,
        api: httpx.AsyncClient,
        client_for: ClientFor,
        sessions: Sessions,
        source: Furnished,
        target: Tenant,
    ) -> None:
        document = await _export(api)
        into_target = client_for(target.token)
        assert (await into_target.post("/flow/import", json=document)).status_code == 200
        once = await _state(sessions, target.bot_id)
        response = await into_target.post("/flow/import", json=document)
        assert response.status_code == 200
        assert response.json()["data"] == {
            "flows": {"created": 0, "updated": 3},
            "tags": {"created": 0, "updated": 2},
            "user_fields": {"created": 0, "updated": 2},
            "bot_fields": {"created": 0, "updated": 2},
            "inbound_webhooks": {"created": 0, "updated": 1},
        }
        assert await _state(sessions, target.bot_id) == once

    async def test_a_hand_written_document_without_ids_is_taken(
        self, client_for: ClientFor, sessions: Sessions, target: Tenant
    ) -> None:
        document = {
            "format": "konversation.flow",
            "version": 1,
            "bot": {"name": "Notes", "flow_ns": "f123456"},
            "flows": [{"name": "Promo", "definition": {"version": 1, "nodes": []}}],
            "tags": [{"name": "Promo"}],
        }
        response = await client_for(target.token).post("/flow/import", json=document)
        assert response.status_code == 200, response.text
        assert response.json()["data"]["flows"] == {"created": 1, "updated": 0}
        state = await _state(sessions, target.bot_id)
        assert (3, "Promo") in state["tags"]
        assert any(f[2] == "Promo" and f[1] == "sub" for f in state["flows"])


class TestImportIntoTheSameBot:
    async def test_re_importing_an_export_only_updates_and_keeps_everything(
        self, api: httpx.AsyncClient, sessions: Sessions, tenant: Tenant, source: Furnished
    ) -> None:
        document = await _export(api)
        before = await _state(sessions, tenant.bot_id)
        response = await api.post("/flow/import", json=document)
        assert response.status_code == 200, response.text
        assert response.json()["data"] == {
            "flows": {"created": 0, "updated": 3},
            "tags": {"created": 0, "updated": 2},
            "user_fields": {"created": 0, "updated": 2},
            "bot_fields": {"created": 0, "updated": 2},
            "inbound_webhooks": {"created": 0, "updated": 1},
        }
        assert await _state(sessions, tenant.bot_id) == before
        assert await _export(api) == document

    async def test_nothing_is_deleted_and_a_changed_definition_is_a_new_revision(
        self, api: httpx.AsyncClient, sessions: Sessions, tenant: Tenant, source: Furnished
    ) -> None:
        document = await _export(api)
        document["tags"] = document["tags"][:1]
        document["flows"][2]["definition"]["nodes"].pop()
        assert (await api.post("/flow/import", json=document)).status_code == 200
        state = await _state(sessions, tenant.bot_id)
        assert [name for _n, name in state["tags"]] == ["VIP", "Lead"]
        survey = next(f for f in state["flows"] if f[2] == "Survey")
        assert len(survey[3]["nodes"]) == 1
        assert survey[4] == 2


Mutation = Callable[[Json, str], None]


def _pop_node_id(doc: Json, _bot: str) -> None:
    definition = doc["flows"][2]["definition"]
    del definition["nodes"][0]["id"]
    definition["start"] = "s2"


def _bad_value_and_bad_node(doc: Json, bot: str) -> None:
    doc["bot_fields"][1]["value"] = "ten"
    doc["flows"][1]["definition"]["nodes"][1]["id"] = "n1"


def _set(path: str, value: Any) -> Mutation:
    def mutate(doc: Json, bot: str) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = (
            value.replace("{bot}", bot) if isinstance(value, str) else value
        )

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(doc: Json, _bot: str) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        del node[last]

    return mutate


def _append(key: str, item: Json) -> Mutation:
    def mutate(doc: Json, _bot: str) -> None:
        doc[key].append(item)

    return mutate


INVALID: list[tuple[str, Mutation, dict[str, list[str]]]] = [
    ("unknown version", _set("version", 2), {"version": ["The version field must be 1."]}),
    ("no version", _delete("version"), {"version": ["The version field is required."]}),
    (
        "another format",
        _set("format", "uchat.flow"),
        {"format": ["The format field must be konversation.flow."]},
    ),
    (
        "a node without id",
        _pop_node_id,
        {"flows.2.definition.nodes.0.id": ["Node #1 (action): the id is required."]},
    ),
    (
        "a flow without name",
        _delete("flows.1.name"),
        {"flows.1.name": ["The flows.1.name field is required."]},
    ),
    (
        "a definition that is no object",
        _set("flows.0.definition", "hello"),
        {"flows.0.definition": ["The flows.0.definition field must be an object."]},
    ),
    (
        "an unknown field type",
        _set("user_fields.0.var_type", "colour"),
        {"user_fields.0.var_type": ["The selected user_fields.0.var_type is invalid."]},
    ),
    (
        "a value of the wrong type, and a node id used twice",
        _bad_value_and_bad_node,
        {
            "flows.1.definition.nodes.1.id": [
                'Node "n1" (action): the id "n1" is already used by node #1.'
            ],
            "flows.1.definition.nodes.0.next": [
                'Node "n1" (send_message): the next points to node "n2", which does not exist.'
            ],
            "bot_fields.1.value": ["The bot_fields.1.value field must be a number."],
        },
    ),
    (
        "a start flow the document lacks",
        _set("bot.start_flow", "{bot}s99"),
        {
            "bot.start_flow": [
                "The selected bot.start_flow is invalid: "
                "use main or the sub_flow_ns of a flow in flows."
            ]
        },
    ),
    (
        "a tag name given twice",
        _append("tags", {"name": "VIP"}),
        {"tags.2.name": ["The tags.2.name field has a duplicate value."]},
    ),
    (
        "a tag id of another bot",
        _set("tags.0.tag_ns", "f999999t1"),
        {"tags.0.tag_ns": ["The tags.0.tag_ns field must be an id of bot {bot}, such as {bot}t1."]},
    ),
    (
        "a field id given twice",
        _set("bot_fields.0.var_ns", "{bot}v1"),
        {"bot_fields.0.var_ns": ["The bot_fields.0.var_ns field has a duplicate value."]},
    ),
    (
        "two main flows",
        _append(
            "flows", {"name": "Other", "kind": "main", "definition": {"version": 1, "nodes": []}}
        ),
        {"flows.3.kind": ["The document must not have more than one main flow."]},
    ),
    (
        "a webhook starting a flow the document lacks",
        _set("inbound_webhooks.0.sub_flow_ns", "{bot}s77"),
        {
            "inbound_webhooks.0.sub_flow_ns": [
                "The selected inbound_webhooks.0.sub_flow_ns is invalid: "
                "use the sub_flow_ns of a flow in flows."
            ]
        },
    ),
    (
        "a source bot id that is none",
        _set("bot.flow_ns", "bot-1"),
        {"bot.flow_ns": ["The bot.flow_ns field must be a bot id such as f1."]},
    ),
]


class TestImportRefusals:
    @pytest.mark.parametrize(
        ("mutate", "errors"), [(m, e) for _n, m, e in INVALID], ids=[n for n, _m, _e in INVALID]
    )
    async def test_answers_422_per_field_and_stores_nothing(
        self,
        api: httpx.AsyncClient,
        client_for: ClientFor,
        sessions: Sessions,
        tenant: Tenant,
        source: Furnished,
        target: Tenant,
        mutate: Mutation,
        errors: dict[str, list[str]],
    ) -> None:
        bot = f"f{tenant.bot_id}"
        document = copy.deepcopy(await _export(api))
        mutate(document, bot)
        before = await _state(sessions, target.bot_id)
        response = await client_for(target.token).post("/flow/import", json=document)
        assert response.status_code == 422, response.text
        expected = {
            path: [m.replace("{bot}", bot) for m in messages] for path, messages in errors.items()
        }
        assert response.json()["errors"] == expected
        assert response.json()["message"].startswith(next(iter(expected.values()))[0])
        assert await _state(sessions, target.bot_id) == before

    async def test_a_body_that_is_no_object_answers_422(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/flow/import", json=["konversation.flow"])
        assert response.status_code == 422
        assert response.json()["message"] == "The body field must be an object."


class TestAccess:
    @pytest.mark.parametrize(
        ("method", "path"), [("GET", "/flow/export"), ("POST", "/flow/import")]
    )
    async def test_without_a_key_answers_401(
        self, client: httpx.AsyncClient, method: str, path: str
    ) -> None:
        response = await client.request(method, f"/api{path}", json={})
        assert response.status_code == 401
        assert response.json() == {"message": "Unauthenticated."}

    @pytest.mark.parametrize(
        ("method", "path"), [("GET", "/flow/export"), ("POST", "/flow/import")]
    )
    async def test_a_key_without_manage_flow_answers_403(
        self,
        client_for: ClientFor,
        session: AsyncSession,
        server_secret: bytes,
        tenant: Tenant,
        method: str,
        path: str,
    ) -> None:
        token = await make_key(session, server_secret, tenant, permissions=["Manage Team"])
        response = await client_for(token).request(method, path, json={})
        assert response.status_code == 403
        assert "message" in response.json()
