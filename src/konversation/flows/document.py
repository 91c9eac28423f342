"""The flow document: a versioned JSON object holding a flow's nodes.

This module checks the envelope every version shares: `version`, a list of `nodes` each with a
unique string `id` and a `type`, and an optional `start` naming one of them. The node types and
their fields are checked by the runtime's own validator once it knows them.
"""

from __future__ import annotations

from typing import Any

from konversation.errors import Invalid

FORMAT_VERSION = 1


def empty_definition() -> dict[str, Any]:
    return {"version": FORMAT_VERSION, "start": None, "nodes": []}


def validate_definition(document: Any, path: str = "definition") -> dict[str, Any]:
    """`document` if it is a well-formed flow document, else Invalid naming the problem."""
    errors: dict[str, list[str]] = {}
    if not isinstance(document, dict):
        raise Invalid.field(path, f"The {path} field must be an object.")
    if document.get("version") != FORMAT_VERSION:
        errors[f"{path}.version"] = [f"The {path}.version field must be {FORMAT_VERSION}."]
    nodes = document.get("nodes")
    if not isinstance(nodes, list):
        errors[f"{path}.nodes"] = [f"The {path}.nodes field must be an array."]
        nodes = []
    seen: set[str] = set()
    for index, node in enumerate(nodes):
        where = f"{path}.nodes.{index}"
        if not isinstance(node, dict):
            errors[where] = [f"The {where} field must be an object."]
            continue
        node_id, node_type = node.get("id"), node.get("type")
        if not isinstance(node_id, str) or not node_id:
            errors[f"{where}.id"] = [f"The {where}.id field must be a non-empty string."]
        elif node_id in seen:
            errors[f"{where}.id"] = [f"Node id {node_id!r} is used twice."]
        else:
            seen.add(node_id)
        if not isinstance(node_type, str) or not node_type:
            errors[f"{where}.type"] = [f"The {where}.type field must be a non-empty string."]
    start = document.get("start")
    if start is not None and start not in seen:
        errors[f"{path}.start"] = [f"The {path}.start node {start!r} does not exist."]
    if errors:
        raise Invalid(errors)
    return document
