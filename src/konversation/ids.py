"""Namespaced identifiers of the Connect API: `f<bot>` plus a kind letter and a per-bot number."""

from __future__ import annotations

import re
from enum import StrEnum

from konversation.errors import NotFound

_NS = re.compile(r"^f(\d+)([a-z]{1,2})(\d+)$")
_BOT_NS = re.compile(r"^f(\d+)$")


class Kind(StrEnum):
    TAG = "t"
    SUB_FLOW = "s"
    FIELD = "v"
    SUBSCRIBER = "u"
    SEGMENT = "sg"
    NODE = "n"
    EVENT = "e"


def format_ns(bot_id: int, kind: Kind, number: int) -> str:
    return f"f{bot_id}{kind.value}{number}"


def bot_ns(bot_id: int) -> str:
    return f"f{bot_id}"


# Ids are 32-bit integer columns: anything larger can only name something that does not exist.
MAX_ID = 2**31 - 1


def parse_ns(value: str, kind: Kind) -> tuple[int, int] | None:
    """(bot id, number) when `value` is a well-formed id of `kind`, else None."""
    match = _NS.match(value.strip())
    if match is None or match.group(2) != kind.value:
        return None
    bot_id, number = int(match.group(1)), int(match.group(3))
    return (bot_id, number) if max(bot_id, number) <= MAX_ID else None


def number_in_bot(value: str, kind: Kind, bot_id: int, not_found: str) -> int:
    """The per-bot number of `value`; an id of another bot or kind is simply not found here."""
    parsed = parse_ns(value, kind)
    if parsed is None or parsed[0] != bot_id:
        raise NotFound(not_found)
    return parsed[1]


def parse_bot_ns(value: str) -> int | None:
    match = _BOT_NS.match(value.strip())
    return int(match.group(1)) if match and int(match.group(1)) <= MAX_ID else None
