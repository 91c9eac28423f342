"""Text templates: `{{name}}` placeholders filled in from a mapping of variables.

A placeholder is `{{name}}` or `{{name|fallback text}}`, with optional spaces inside the braces.
A name is made of ASCII letters, digits and underscores, in parts joined by single dots
(`first_name`, `user.email`, `bot.opening_hours`, `f1v3`). The whole name is one key of the
mapping: dots never reach into a value, and nothing in a template is ever evaluated, so
`{{__class__}}` or `{{a.__init__}}` are simply names that are usually not there.

A value is written as text: None as nothing, booleans as `true`/`false`, numbers as Python
writes them, lists and tuples as their items joined by ", ", mappings as JSON, anything else
with `str()`. When that text is blank (or the name is unknown), the fallback is used, or nothing.
What is not a well-formed placeholder (`{{ not a name }}`, `{{a`, `{{a|b{c}}`) stays as written,
and a value's own text is inserted as it is: a value holding `{{...}}` is never rendered again.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from decimal import Decimal

# Possessive quantifiers keep matching linear on long or hostile texts.
_PLACEHOLDER = re.compile(
    r"\{\{\s*+(?P<name>[A-Za-z0-9_]++(?:\.[A-Za-z0-9_]++)*+)\s*+"
    r"(?:\|(?P<fallback>[^{}]*+))?\}\}"
)


def render(text: str, variables: Mapping[str, object]) -> str:
    """`text` with every placeholder replaced, in one pass over the text."""

    def fill(match: re.Match[str]) -> str:
        value = as_text(variables.get(match["name"]))
        if value.strip():
            return value
        return (match["fallback"] or "").strip()

    return _PLACEHOLDER.sub(fill, text)


def names_in(text: str) -> set[str]:
    """The names of the variables `text` uses."""
    return {match["name"] for match in _PLACEHOLDER.finditer(text)}


def has_placeholder(text: str) -> bool:
    return _PLACEHOLDER.search(text) is not None


def as_text(value: object) -> str:
    """How a variable's value reads inside a text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(as_text(item) for item in value)
    if isinstance(value, Mapping):
        return json.dumps(value, ensure_ascii=False, default=as_text)
    return str(value)
