"""The Connect API's shape for the caller."""

from __future__ import annotations

from pydantic import BaseModel, Field


class MeOut(BaseModel):
    """The person an API key acts for."""

    id: int = Field(examples=[1])
    name: str = Field(examples=["Ada Owner"])
    email: str = Field(examples=["owner@example.com"])
