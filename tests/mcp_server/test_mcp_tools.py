"""The MCP tools are made from the API's own document: every operation has one, named after its
path, with an input schema that is valid JSON Schema holding the operation's parameters and
body fields, in pages, narrowed by an owner's allow-list of groups."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from konversation.mcp_server.catalog import PAGE_SIZE, catalog_of


@pytest.fixture(scope="module")
def document(app: Any) -> dict[str, Any]:
    found: dict[str, Any] = app.openapi()
    return found


def _operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(m.upper(), p) for p, item in document["paths"].items() for m in item}


def test_every_operation_of_the_api_has_one_tool(document: dict[str, Any]) -> None:
    catalog = catalog_of(document)

    assert {(op.method, op.path) for op in catalog.operations} == _operations(document)
    names = [op.name for op in catalog.operations]
    assert len(set(names)) == len(names) == len(_operations(document))
    assert all(len(name) <= 64 and name.replace("_", "").isalnum() for name in names)


def test_a_tool_is_named_after_its_path_and_takes_its_fields(document: dict[str, Any]) -> None:
    catalog = catalog_of(document)

    add_tag = catalog.get("subscriber_add_tag")
    assert add_tag is not None
    assert (add_tag.method, add_tag.path, add_tag.group) == (
        "POST",
        "/subscriber/add-tag",
        "Subscriber",
    )
    assert add_tag.input_schema["required"] == ["user_ns", "tag_ns"]
    assert "(POST /api/subscriber/add-tag)" in add_tag.description
    # Paths with several methods, and paths that differ only in their parameters, stay apart.
    assert {"integration_openai_get", "integration_openai_post", "integration_openai_delete"} <= {
        op.name for op in catalog.operations
    }
    item_delete = catalog.get("team_ticket_lists_listid_delete_listitemid")
    assert item_delete is not None
    assert item_delete.path_params == ("listId", "listItemId")
    assert item_delete.path_for({"listId": 3, "listItemId": "a/b"}) == (
        "/team/ticket-lists/3/delete/a%2Fb"
    )
    subscribers = catalog.get("subscribers")
    assert subscribers is not None
    assert {"limit", "page", "tag_ns"} <= set(subscribers.query_params)


def test_every_input_schema_is_valid_json_schema_with_its_definitions(
    document: dict[str, Any],
) -> None:
    for operation in catalog_of(document).operations:
        schema = operation.input_schema
        Draft202012Validator.check_schema(schema)
        defined = set(schema.get("$defs", {}))
        assert _refs(schema) <= {f"#/$defs/{name}" for name in defined}, operation.name


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        own = {value["$ref"]} if "$ref" in value else set()
        return own.union(*(_refs(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_refs(item) for item in value))
    return set()


def test_a_body_made_of_nested_models_carries_their_definitions(document: dict[str, Any]) -> None:
    flows = catalog_of(document).get("flow_import")
    assert flows is not None
    validator = Draft202012Validator(flows.input_schema)

    assert list(validator.iter_errors({})), "the import's required fields are required"


def test_the_allow_list_keeps_only_the_named_groups(document: dict[str, Any]) -> None:
    catalog = catalog_of(document, ["Subscriber", "sending"])

    assert {op.group for op in catalog.operations} == {"Subscriber", "Sending"}


def test_tools_come_in_pages(document: dict[str, Any]) -> None:
    catalog = catalog_of(document)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page, cursor = catalog.page(cursor)
        assert len(page) <= PAGE_SIZE
        seen.extend(op.name for op in page)
        if cursor is None:
            break

    assert seen == [op.name for op in catalog.operations]
