"""Extract the testable facts of the reference OpenAPI document into `reference_operations.json`.

Usage: python tests/data/extract_reference.py REFERENCE.json [OUTPUT.json]

OUTPUT defaults to `reference_operations.json` beside this script. Only facts are kept (methods,
paths, tags, scopes, parameter and property names, required flags, enum values); no prose is
copied from the reference. Standard library only, so it runs without the project installed.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")
SCOPE = re.compile(r"Scope required:\s*\(([^)]*)\)")
KNOWN_SCOPES = {"Manage Flow", "Manage Team"}


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow local `$ref`s (`#/components/schemas/X`) until a schema proper is reached."""
    seen: set[str] = set()
    while "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/") or ref in seen:
            raise ValueError(f"cannot resolve {ref}")
        seen.add(ref)
        node: Any = document
        for part in ref[2:].split("/"):
            node = node[part]
        schema = node
    return schema


def scope_of(description: str) -> str | None:
    found: list[str] = [s.strip() for s in SCOPE.findall(description)]
    if not found:
        return None
    if len(found) > 1 or found[0] not in KNOWN_SCOPES:
        raise ValueError(f"unexpected scope text: {found}")
    return found[0]


def shape(document: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """Property names, required names and nested shapes of an object schema."""
    schema = resolve(document, schema)
    result: dict[str, Any] = {
        "properties": sorted(schema.get("properties", {})),
        "required": sorted(schema.get("required", [])),
    }
    if depth < 3:
        nested: dict[str, Any] = {}
        for name, prop in sorted(schema.get("properties", {}).items()):
            inner = _object_inside(document, prop)
            if inner is not None:
                key, sub = inner
                nested[name + key] = shape(document, sub, depth + 1)
        if nested:
            result["nested"] = nested
    return result


def _object_inside(
    document: dict[str, Any], prop: dict[str, Any]
) -> tuple[str, dict[str, Any]] | None:
    """An object schema held by `prop` directly (`""`) or as array items (`"[]"`)."""
    prop = resolve(document, prop)
    if "properties" in prop:
        return "", prop
    items = prop.get("items")
    if isinstance(items, dict) and "properties" in resolve(document, items):
        return "[]", resolve(document, items)
    return None


def enums(document: dict[str, Any], schema: dict[str, Any], prefix: str) -> dict[str, list[Any]]:
    """Every enum under `schema`, keyed by a dotted path (`[]` marks array items)."""
    found: dict[str, list[Any]] = {}
    schema = resolve(document, schema)
    if "enum" in schema:
        found[prefix] = list(schema["enum"])
    for name, prop in schema.get("properties", {}).items():
        found.update(enums(document, prop, f"{prefix}.{name}"))
    items = schema.get("items")
    if isinstance(items, dict):
        found.update(enums(document, items, f"{prefix}[]"))
    return found


def operation_facts(
    document: dict[str, Any], path: str, method: str, op: dict[str, Any]
) -> dict[str, Any]:
    params = [resolve(document, p) for p in op.get("parameters", [])]
    facts: dict[str, Any] = {
        "operation_id": op.get("operationId"),
        "method": method.upper(),
        "path": path,
        "tag": (op.get("tags") or [None])[0],
        "scope": scope_of(op.get("description", "")),
        "path_parameters": [p["name"] for p in params if p["in"] == "path"],
        "query": [
            {"name": p["name"], "required": bool(p.get("required", False))}
            for p in params
            if p["in"] == "query"
        ],
        "body_required": False,
        "body": None,
        "enums": {},
    }
    for p in params:
        if p["in"] == "query" and "schema" in p:
            facts["enums"].update(enums(document, p["schema"], f"query.{p['name']}"))
    body = op.get("requestBody")
    if body is not None:
        body = resolve(document, body)
        schema = body.get("content", {}).get("application/json", {}).get("schema", {})
        facts["body_required"] = bool(body.get("required", False))
        facts["body"] = shape(document, schema)
        facts["enums"].update(enums(document, schema, "body"))
    return facts


def extract(document: dict[str, Any]) -> dict[str, Any]:
    operations = [
        operation_facts(document, path, method, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]
    operations.sort(key=lambda o: (o["path"], METHODS.index(o["method"].lower())))
    return {
        "source": "uchat-openapi-3.0.json",
        "openapi": document.get("openapi"),
        "info_version": document.get("info", {}).get("version"),
        "server_base_paths": sorted(
            {"/" + s["url"].split("://", 1)[-1].partition("/")[2] for s in document["servers"]}
        ),
        "security_schemes": {
            name: {"type": s.get("type"), "scheme": s.get("scheme")}
            for name, s in document.get("components", {}).get("securitySchemes", {}).items()
        },
        "tags": [t["name"] for t in document.get("tags", [])],
        "operation_count": len(operations),
        "operations": operations,
    }


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    document = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    output = (
        Path(argv[2]) if len(argv) == 3 else Path(__file__).with_name("reference_operations.json")
    )
    facts = extract(document)
    output.write_text(json.dumps(facts, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{facts['operation_count']} operations written to {output.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
