"""Checking a flow document (see `konversation.flows.format` for its shape) before it is stored.

Every problem is reported at once, under the dotted path of the offending value, in a sentence
that names the node, such as `Node "ask-email" (send_message): the text of message 1 is
required.` A node without a usable id is named by its position (`Node #4`).
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from konversation.errors import Invalid
from konversation.flows.format import (
    FORMAT_VERSION,
    MAX_NODES,
    NODE_TYPES,
    PATTERN_WORDS,
    FlowDefinition,
    NodeBase,
    Path,
    Trigger,
)
from konversation.flows.models import FlowKind

__all__ = ["FORMAT_VERSION", "empty_definition", "validate_definition"]

# What a workflow, which runs in the background with nobody to talk to, cannot hold.
_NOT_IN_WORKFLOWS = {
    "send_message": "a workflow runs in the background, so it cannot send messages",
    "user_input": "a workflow runs in the background, so it cannot wait for an answer",
    "products": "a workflow runs in the background, so it cannot show products",
    "cart": "a workflow runs in the background, so it cannot show the cart",
    "whatsapp_template": "a workflow runs in the background, so it cannot send messages",
    "knowledge_answer": "a workflow runs in the background, so it cannot answer anyone",
}
_RESULT_KEYS = ("output", "value")
_KIND_WORDS = {
    FlowKind.MAIN: "the main flow",
    FlowKind.SUB: "a sub flow",
    FlowKind.WORKFLOW: "a workflow",
    FlowKind.FUNCTION: "a function flow",
}


def empty_definition() -> dict[str, Any]:
    return {"version": FORMAT_VERSION, "start": None, "nodes": []}


def validate_definition(
    document: Any, path: str = "definition", *, kind: FlowKind | None = None
) -> dict[str, Any]:
    """`document` if it is a valid flow document for a flow of `kind` (None: of any kind).

    Raises Invalid naming every problem, under paths that start with `path`.
    """
    if not isinstance(document, dict):
        raise Invalid.field(path, f"The {path} field must be an object.")
    # A stored flow's kind is plain text: read it as the enum it names.
    kind = None if kind is None else FlowKind(kind)
    check = _Check(path)
    check.envelope(document)
    nodes = document.get("nodes")
    if isinstance(nodes, list):
        check.nodes(nodes, kind)
    check.start(document.get("start"))
    check.triggers(document.get("triggers", []))
    if check.errors:
        raise Invalid(check.errors)
    return document


_TRIGGERS = TypeAdapter(list[Trigger])


class _Check:
    """The problems of one document, gathered by dotted path."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.errors: dict[str, list[str]] = {}
        self.node_ids: dict[str, int] = {}

    def add(self, where: str, message: str) -> None:
        self.errors.setdefault(f"{self.path}.{where}", []).append(message)

    def envelope(self, document: dict[str, Any]) -> None:
        for key in sorted(document.keys() - FlowDefinition.model_fields.keys()):
            self.add(key, f"The {self.path}.{key} field is not part of a flow document.")
        if "version" not in document:
            self.add("version", f"The {self.path}.version field is required.")
        elif document["version"] != FORMAT_VERSION or isinstance(document["version"], bool):
            self.add("version", f"The {self.path}.version field must be {FORMAT_VERSION}.")
        nodes = document.get("nodes")
        if nodes is None:
            self.add("nodes", f"The {self.path}.nodes field is required.")
        elif not isinstance(nodes, list):
            self.add("nodes", f"The {self.path}.nodes field must be an array.")
        elif len(nodes) > MAX_NODES:
            self.add(
                "nodes", f"The {self.path}.nodes field must not have more than {MAX_NODES} items."
            )

    def start(self, start: Any) -> None:
        if start is None:
            return
        if not isinstance(start, str):
            self.add("start", f"The {self.path}.start field must be a node id or null.")
        elif start not in self.node_ids:
            self.add(
                "start", f'The {self.path}.start field names node "{start}", which does not exist.'
            )

    def triggers(self, triggers: Any) -> None:
        try:
            _TRIGGERS.validate_python(triggers)
        except ValidationError as refused:
            for error in refused.errors(include_url=False, include_input=False):
                inner = _document_path(error["loc"], triggers, missing=error["type"] == "missing")
                where = _dotted(("triggers", *inner))
                self.add(where, f"The {self.path}.{where} field {_predicate(error)}.")

    def nodes(self, nodes: list[Any], kind: FlowKind | None) -> None:
        read = [self._node(index, raw, kind) for index, raw in enumerate(nodes)]
        # Ports are checked once every id is known: a port may name a node further down.
        for index, node in enumerate(read):
            if node is not None:
                self._links(index, node, _label(nodes[index], index))

    def _node(self, index: int, raw: Any, kind: FlowKind | None) -> NodeBase | None:
        """The node at `index` as its model, or None when it is refused."""
        where = f"nodes.{index}"
        if not isinstance(raw, dict):
            self.add(where, f"The {self.path}.{where} field must be an object.")
            return None
        label = _label(raw, index)
        node_id = raw.get("id")
        if isinstance(node_id, str) and node_id:
            if node_id in self.node_ids:
                self.add(
                    f"{where}.id",
                    f'{label}: the id "{node_id}" is already used by node '
                    f"#{self.node_ids[node_id] + 1}.",
                )
            self.node_ids.setdefault(node_id, index)
        model = NODE_TYPES.get(raw["type"]) if isinstance(raw.get("type"), str) else None
        if model is None:
            self.add(f"{where}.type", f"{label}: {_type_problem(raw.get('type'))}.")
            return None
        self._kind_rules(where, raw, label, kind)
        try:
            return model.model_validate(raw)
        except ValidationError as refused:
            for error in refused.errors(include_url=False, include_input=False):
                inner = _document_path(error["loc"], raw, missing=error["type"] == "missing")
                self.add(_dotted((where, *inner)), f"{label}: {_sentence(error, inner)}.")
            return None

    def _kind_rules(
        self, where: str, raw: dict[str, Any], label: str, kind: FlowKind | None
    ) -> None:
        if kind is FlowKind.WORKFLOW and raw["type"] in _NOT_IN_WORKFLOWS:
            self.add(f"{where}.type", f"{label}: {_NOT_IN_WORKFLOWS[raw['type']]}.")
        if kind is not None and kind is not FlowKind.FUNCTION and raw["type"] == "return":
            for key in _RESULT_KEYS:
                if raw.get(key) is not None:
                    self.add(
                        f"{where}.{key}",
                        f"{label}: only a function flow returns a result, so a return node "
                        f"in {_KIND_WORDS[kind]} takes no {key}.",
                    )

    def _links(self, index: int, node: NodeBase, label: str) -> None:
        where = ("nodes", index)
        for port in node.ports():
            if port.target is not None and port.target not in self.node_ids:
                self.add(
                    _dotted((*where, *port.path)),
                    f'{label}: {_phrase(port.path)} points to node "{port.target}", '
                    "which does not exist.",
                )
        first_use: dict[str, Path] = {}
        for item_path, item_id in node.item_ids():
            if item_id in first_use:
                self.add(
                    _dotted((*where, *item_path, "id")),
                    f'{label}: the id "{item_id}" of {_phrase(item_path)} is already used by '
                    f"{_phrase(first_use[item_id])}.",
                )
            first_use.setdefault(item_id, item_path)


def _label(raw: Any, index: int) -> str:
    node_id, node_type = (raw.get("id"), raw.get("type")) if isinstance(raw, dict) else (None, None)
    name = f'Node "{node_id}"' if isinstance(node_id, str) and node_id else f"Node #{index + 1}"
    return (
        f"{name} ({node_type})" if isinstance(node_type, str) and node_type in NODE_TYPES else name
    )


def _type_problem(node_type: Any) -> str:
    known = _alternatives(list(NODE_TYPES))
    if node_type is None:
        return f"the type is required: use {known}"
    return f'the type "{node_type}" is unknown: use {known}'


# Pydantic's errors, in the document's places and in sentences


def _document_path(loc: tuple[str | int, ...], data: Any, *, missing: bool) -> Path:
    """`loc` without the names pydantic inserts for the member of a union it tried.

    At most one such name stands between two places of the document: the `type` value of a
    discriminated union, or a name the data does not hold (unions picked by a function), or any
    name under a list or a text (a question). Only a missing field is named while absent.
    """
    path: list[str | int] = []
    skipped = False
    for position, part in enumerate(loc):
        absent_ok = missing and position == len(loc) - 1
        if not skipped and _names_a_member(part, data, absent_ok=absent_ok):
            skipped = True
            continue
        skipped = False
        path.append(part)
        data = _child(data, part)
    return tuple(path)


def _names_a_member(part: str | int, data: Any, *, absent_ok: bool) -> bool:
    if not isinstance(part, str) or part == _KEY:
        return False
    if isinstance(data, dict):
        return data.get("type") == part or (part not in data and not absent_ok)
    return True


def _child(data: Any, part: str | int) -> Any:
    if isinstance(data, dict):
        return data.get(part)
    if isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
        return data[part]
    return None


# Where pydantic places an error in a mapping's key rather than its value.
_KEY = "[key]"
_ITEM_NOUNS = {
    "messages": "message",
    "question": "message",
    "buttons": "button",
    "cards": "card",
    "quick_replies": "quick reply",
    "actions": "action",
    "save": "save rule",
    "branches": "branch",
    "conditions": "condition",
    "choices": "choice",
}
_KEY_NOUNS = {"headers": "header", "outputs": "output", "payload": "key"}


def _phrase(path: Path) -> str:
    """A place in a node in words, innermost first: `the title of button 2 of message 1`."""
    parts: list[str] = []
    parent: str | int | None = None
    for part in path:
        if isinstance(part, int) and isinstance(parent, str) and parent in _ITEM_NOUNS:
            parts[-1] = f"{_ITEM_NOUNS[parent]} {part + 1}"
        elif isinstance(part, int):
            parts.append(f"item {part + 1}")
        elif isinstance(parent, str) and parent in _KEY_NOUNS:
            parts[-1] = f'{_KEY_NOUNS[parent]} "{part}"'
        elif part == _KEY:
            parts.append("the name")
        else:
            parts.append(f"the {part}")
        parent = part
    return " of ".join(reversed(parts))


def _sentence(error: ErrorDetails, path: Path) -> str:
    if error["type"] == "extra_forbidden":
        owner = _phrase(path[:-1])
        return f'the field "{path[-1]}"{f" of {owner}" if owner else ""} is unknown'
    where = _phrase(path)
    predicate = _predicate(error)
    return f"{where} {predicate}" if where else predicate


def _predicate(error: ErrorDetails) -> str:
    kind, ctx = error["type"], error.get("ctx", {})
    match kind:
        case "missing":
            return "is required"
        case "string_type":
            return "must be text"
        case "string_too_short":
            count = ctx["min_length"]
            return "is required" if count == 1 else f"must be at least {count} characters long"
        case "string_too_long":
            return f"must not be longer than {ctx['max_length']} characters"
        case "string_pattern_mismatch":
            return PATTERN_WORDS.get(ctx["pattern"], "is not in the expected form")
        case "int_type" | "int_parsing" | "int_from_float":
            return "must be a whole number"
        case "float_type" | "float_parsing" | "finite_number":
            return "must be a number"
        case "bool_type" | "bool_parsing":
            return "must be true or false"
        case "greater_than_equal":
            return f"must be at least {ctx['ge']}"
        case "less_than_equal":
            return f"must be at most {ctx['le']}"
        case "too_short":
            count = ctx["min_length"]
            return f"must have at least {count} item{'s' if count != 1 else ''}"
        case "too_long":
            return f"must not have more than {ctx['max_length']} items"
        case "list_type":
            return "must be a list"
        case "dict_type" | "model_type" | "model_attributes_type":
            return "must be an object"
        case "literal_error" | "enum":
            return f"must be {_unquoted(ctx['expected'])}"
        case "union_tag_invalid":
            expected = _alternatives(_unquoted(ctx["expected_tags"]).split(", "))
            return f'has an unknown type "{ctx["tag"]}": use {expected}'
        case "union_tag_not_found":
            return "needs a type"
        case "value_error":
            return str(ctx["error"])
    # Our own custom errors (and any other) carry a message written to follow the place.
    return error["msg"]


def _unquoted(expected: str) -> str:
    return expected.replace("'", "")


def _alternatives(options: list[str]) -> str:
    return options[0] if len(options) == 1 else f"{', '.join(options[:-1])} or {options[-1]}"


def _dotted(path: Path) -> str:
    return ".".join(str(part) for part in path if part != _KEY)
