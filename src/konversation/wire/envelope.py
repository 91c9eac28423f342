"""The three answer shapes of the Connect API: `{"status": "ok"}`, `{"data": ...}`, and pages."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from konversation.db import PageRequest

T = TypeVar("T")


class OkOut(BaseModel):
    """An action succeeded."""

    model_config = ConfigDict(extra="allow")

    status: Literal["ok"] = "ok"


class DataOut(BaseModel, Generic[T]):
    """One object, wrapped."""

    data: T
    status: Literal["ok"] = "ok"


class ListOut(BaseModel, Generic[T]):
    """A whole list, wrapped, for answers that are not paginated."""

    data: list[T]
    status: Literal["ok"] = "ok"


class Meta(BaseModel):
    """Where this page sits in the whole list, in the style of a classic paginator."""

    current_page: int = Field(examples=[1])
    last_page: int = Field(examples=[1])
    per_page: int = Field(examples=[10])
    total: int = Field(examples=[3])
    from_: int | None = Field(alias="from", examples=[1])
    to: int | None = Field(examples=[3])

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class PageOut(BaseModel, Generic[T]):
    data: list[T]
    meta: Meta
    status: Literal["ok"] = "ok"


def ok(**extra: object) -> OkOut:
    return OkOut(**extra)


def one(item: T) -> DataOut[T]:
    return DataOut[T](data=item)


def page(items: Sequence[T], *, total: int, window: PageRequest) -> PageOut[T]:
    first = window.offset + 1
    return PageOut[T](
        data=list(items),
        meta=Meta(
            current_page=window.page,
            last_page=max(1, math.ceil(total / window.limit)),
            per_page=window.limit,
            total=total,
            from_=first if items else None,
            to=first + len(items) - 1 if items else None,
        ),
    )
