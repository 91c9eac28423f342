"""Query parameters every list shares: `limit`, `page`, yes/no flags and unix times."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import BeforeValidator

from konversation.db import PageRequest
from konversation.errors import Invalid

MAX_LIMIT = 100
MAX_PAGE = 1_000_000
DEFAULT_LIMIT = 10


async def _paging(
    limit: Annotated[
        int | None,
        Query(
            description=f"How many items a page holds: 1 to {MAX_LIMIT}, {DEFAULT_LIMIT} if unset."
        ),
    ] = None,
    page: Annotated[
        int | None,
        Query(description=f"Which page to return, counting from 1; at most {MAX_PAGE:,}."),
    ] = None,
) -> PageRequest:
    # Small numbers are clamped, never refused: clients loop on pages and must not break. A
    # page past MAX_PAGE can only be a mistake (or a probe), and would overflow the offset.
    if page is not None and page > MAX_PAGE:
        raise Invalid.field("page", f"The page field must be at most {MAX_PAGE}.")
    return PageRequest(
        page=1 if page is None else max(1, page),
        limit=DEFAULT_LIMIT if limit is None else min(MAX_LIMIT, max(1, limit)),
    )


PageParams = Annotated[PageRequest, Depends(_paging)]


def _none_when_blank(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


# Form builders (n8n and the like) send optional fields empty: read them as not sent.
BlankIsNone = BeforeValidator(_none_when_blank)

_YES = {"yes", "true", "1"}
_NO = {"no", "false", "0"}


def yes_no(value: str | None, name: str) -> bool | None:
    """`yes|no`, also `true|false|1|0`; None when the filter is absent or empty."""
    if value is None or value.strip() == "":
        return None
    lowered = value.strip().lower()
    if lowered in _YES:
        return True
    if lowered in _NO:
        return False
    raise Invalid.field(name, f"The {name} field must be yes or no.")


# A time in unix seconds; empty is not given.
UnixTime = Annotated[int | None, BlankIsNone]


def unix_moment(seconds: int | None, name: str) -> dt.datetime | None:
    """The moment `seconds` names, for the parameter `name`; None when not given."""
    if seconds is None:
        return None
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise Invalid.field(name, f"The {name} field must be a unix timestamp.") from None


def unix_moment_after(seconds: int | None, name: str) -> dt.datetime | None:
    """The end of the second `seconds` names: an upper bound that takes in the whole second,
    as a client asking up to `now` expects."""
    return unix_moment(None if seconds is None else seconds + 1, name)
