"""The MCP tools, made from the Connect API's own OpenAPI document, so they never drift from it.

Every operation becomes one tool: its name comes from the path (`POST /subscriber/add-tag` is
`subscriber_add_tag`; where one path has several methods, the method is added:
`integration_openai_get`), its description from the operation's summary and description, and
its input schema joins the path and query parameters with the top-level fields of the JSON
body, the schemas these refer to carried along under `$defs`. The group of a tool is the
operation's tag, which an owner's allow-list of groups narrows.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

REF_PREFIX = "#/components/schemas/"
METHODS = ("get", "post", "put", "patch", "delete")
PAGE_SIZE = 50


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str
    group: str
    summary: str
    description: str
    input_schema: dict[str, Any]
    path_params: tuple[str, ...] = ()
    query_params: tuple[str, ...] = ()
    body_fields: tuple[str, ...] = ()
    # When the body is not an object of named fields, it is given whole as `body`.
    whole_body: bool = False

    def path_for(self, arguments: Mapping[str, Any]) -> str:
        path = self.path
        for name in self.path_params:
            path = path.replace("{" + name + "}", _segment(arguments.get(name)))
        return path


class Catalog:
    def __init__(self, operations: Sequence[Operation]) -> None:
        self.operations = tuple(operations)
        self._by_name = {op.name: op for op in self.operations}

    def get(self, name: str) -> Operation | None:
        return self._by_name.get(name)

    def page(self, cursor: str | None, size: int = PAGE_SIZE) -> tuple[list[Operation], str | None]:
        """One page of the tools from `cursor` (an offset the previous page gave, or None)."""
        start = int(cursor) if cursor and cursor.isdigit() else 0
        end = start + size
        return list(self.operations[start:end]), str(end) if end < len(self.operations) else None


def catalog_of(document: Mapping[str, Any], groups: Sequence[str] = ()) -> Catalog:
    """The tools of `document`'s operations, only those of `groups` when any are named."""
    wanted = {group.casefold() for group in groups}
    found = [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]
    names = _names([(method, path) for method, path, _ in found])
    schemas = document.get("components", {}).get("schemas", {})
    operations = [
        _operation(names[method, path], method, path, operation, schemas)
        for method, path, operation in found
    ]
    kept = [op for op in operations if not wanted or op.group.casefold() in wanted]
    return Catalog(kept)


def _names(keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Each operation's tool name: its path's words; where two operations would share one,
    their path parameters' names too, and then their methods."""
    names: dict[tuple[str, str], str] = {}
    for key in keys:
        for spelling in range(SPELLINGS):
            name = _spelled(key, spelling)
            if spelling == SPELLINGS - 1 or [_spelled(k, spelling) for k in keys].count(name) == 1:
                names[key] = name
                break
    return names


SPELLINGS = 3


def _spelled(key: tuple[str, str], spelling: int) -> str:
    method, path = key
    words = _words(path, with_params=spelling > 0)
    return f"{words}_{method}" if spelling == 2 else words


def _operation(
    name: str,
    method: str,
    path: str,
    operation: Mapping[str, Any],
    schemas: Mapping[str, Any],
) -> Operation:
    properties: dict[str, Any] = {}
    required: list[str] = []
    located: dict[str, list[str]] = {"path": [], "query": []}
    for parameter in operation.get("parameters", []):
        where = parameter["in"]
        if where not in located:
            continue
        located[where].append(parameter["name"])
        schema = dict(parameter.get("schema", {}))
        if parameter.get("description"):
            schema["description"] = parameter["description"]
        properties[parameter["name"]] = schema
        if parameter.get("required"):
            required.append(parameter["name"])
    body_fields, whole_body = _add_body(operation, schemas, properties, required)
    input_schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        input_schema["required"] = required
    defs = _definitions(input_schema, schemas)
    if defs:
        input_schema["$defs"] = defs
    return Operation(
        name=name,
        method=method.upper(),
        path=path,
        group=(operation.get("tags") or ["Other"])[0],
        summary=operation.get("summary", name),
        description=_description(method, path, operation),
        input_schema=_rewrite_refs(input_schema),
        path_params=tuple(located["path"]),
        query_params=tuple(located["query"]),
        body_fields=body_fields,
        whole_body=whole_body,
    )


def _add_body(
    operation: Mapping[str, Any],
    schemas: Mapping[str, Any],
    properties: dict[str, Any],
    required: list[str],
) -> tuple[tuple[str, ...], bool]:
    """Add the JSON body's fields to the tool's; answers their names, or that the body is given
    whole (not an object of named fields, or a field would shadow a parameter)."""
    body = operation.get("requestBody", {})
    schema = body.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return (), False
    resolved = _resolve(schema, schemas)
    fields = resolved.get("properties")
    if resolved.get("type", "object") != "object" or not fields or set(fields) & set(properties):
        properties["body"] = copy.deepcopy(schema)
        if body.get("required"):
            required.append("body")
        return (), True
    properties.update(copy.deepcopy(fields))
    required.extend(resolved.get("required", []))
    return tuple(fields), False


def _resolve(schema: Mapping[str, Any], schemas: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF_PREFIX):
        return _resolve(schemas.get(ref.removeprefix(REF_PREFIX), {}), schemas)
    return schema


def _definitions(schema: Any, schemas: Mapping[str, Any]) -> dict[str, Any]:
    """Every component schema `schema` refers to, directly or through others."""
    found: dict[str, Any] = {}
    pending = list(_refs(schema))
    while pending:
        name = pending.pop()
        if name in found or name not in schemas:
            continue
        found[name] = copy.deepcopy(schemas[name])
        pending.extend(_refs(found[name]))
    return dict(sorted(found.items()))


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            yield ref.removeprefix(REF_PREFIX)
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def _rewrite_refs(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: (
                "#/$defs/" + item.removeprefix(REF_PREFIX)
                if key == "$ref" and isinstance(item, str) and item.startswith(REF_PREFIX)
                else _rewrite_refs(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_rewrite_refs(item) for item in value]
    return value


def _words(path: str, *, with_params: bool) -> str:
    parts = [p for p in path.strip("/").split("/") if with_params or not p.startswith("{")]
    return re.sub(r"[^a-z0-9]+", "_", "_".join(parts).lower()).strip("_")


def _description(method: str, path: str, operation: Mapping[str, Any]) -> str:
    parts = [operation.get("summary", ""), operation.get("description", "")]
    text = "\n\n".join(part for part in parts if part)
    return f"{text}\n\n({method.upper()} /api{path})".strip()


def _segment(value: Any) -> str:
    return quote(str(value if value is not None else ""), safe="")
