"""The Connect API's shapes for team labels."""

from __future__ import annotations

from pydantic import BaseModel, Field

from konversation.labels.models import Label


class TeamLabelOut(BaseModel):
    id: int = Field(examples=[1])
    name: str = Field(examples=["Priority"])

    @classmethod
    def of(cls, label: Label) -> TeamLabelOut:
        return cls(id=label.id, name=label.name)


class CreateLabelIn(BaseModel):
    name: str = Field(max_length=255, examples=["Priority"])


class LabelIdIn(BaseModel):
    id: int = Field(examples=[1])


class LabelNameIn(BaseModel):
    name: str = Field(examples=["Priority"])
