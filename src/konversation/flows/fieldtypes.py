"""Typed values of user and bot fields: what each type accepts, and how values are normalised.

Values are kept as JSON: text as a string, number as an int or float, boolean as a bool,
date as `YYYY-MM-DD`, datetime as ISO 8601 with its offset, array as a list. None clears a field.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from typing import Any

from konversation.flows.models import VarType

TEXT_LIMIT = 20_000
LONGTEXT_LIMIT = 500_000

_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


class BadValue(ValueError):
    """The value cannot be read as the field's type; the message finishes 'The X field must...'."""


def normalize(var_type: str, value: Any) -> Any:
    """`value` as stored for a field of `var_type`; over-long text is cut, never refused."""
    if value is None or (isinstance(value, str) and value == ""):
        return None
    return _NORMALIZERS[VarType(var_type)](value)


def _text(limit: int) -> Callable[[Any], str]:
    def cut(value: Any) -> str:
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (dict, list)):
            text = json.dumps(value, ensure_ascii=False)
        else:
            text = str(value)
        return text[:limit]

    return cut


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise BadValue("must be a number")
    if isinstance(value, (int, float)):
        number: int | float = value
    else:
        try:
            number = float(str(value).strip().replace(",", ""))
        except ValueError:
            raise BadValue("must be a number") from None
    if isinstance(number, float):
        if not math.isfinite(number):
            raise BadValue("must be a number")
        if number.is_integer() and abs(number) < 2**53:
            return int(number)
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise BadValue("must be true or false")


def _date(value: Any) -> str:
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise BadValue("must be a date (YYYY-MM-DD)") from None


def _datetime(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.UTC).isoformat()
    text = str(value).strip().replace("Z", "+00:00")
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadValue("must be a date and time (ISO 8601)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.isoformat()


def _array(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            raise BadValue("must be an array") from None
        if isinstance(parsed, list):
            return parsed
    raise BadValue("must be an array")


_NORMALIZERS: dict[VarType, Callable[[Any], Any]] = {
    VarType.TEXT: _text(TEXT_LIMIT),
    VarType.LONGTEXT: _text(LONGTEXT_LIMIT),
    VarType.NUMBER: _number,
    VarType.BOOLEAN: _boolean,
    VarType.DATE: _date,
    VarType.DATETIME: _datetime,
    VarType.ARRAY: _array,
}
