"""The Connect API's shapes of knowledge base rows and of embedding generations."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from konversation.knowledge.models import (
    MAX_HEADING,
    MAX_TEXT,
    MAX_TYPE,
    EmbeddingJob,
    KnowledgeRow,
)
from konversation.knowledge.service import MAX_IMPORT, Entry
from konversation.subscribers.wire import wire_time

Heading = Annotated[str, Field(max_length=MAX_HEADING, examples=["Opening hours"])]
Text = Annotated[
    str, Field(max_length=MAX_TEXT, examples=["We are open from 9:00 to 18:00, Monday to Friday."])
]
Type = Annotated[str, Field(max_length=MAX_TYPE, examples=["faq"])]


class EmbeddingOut(BaseModel):
    id: int = Field(examples=[78])
    type: str = Field(examples=["faq"])
    heading: str = Field(examples=["Opening hours"])
    text: str = Field(examples=["We are open from 9:00 to 18:00, Monday to Friday."])
    embedded: bool = Field(
        examples=[True],
        description="Whether the row has an embedding of the current model, so that answers "
        "can find it (ours).",
    )

    @classmethod
    def of(cls, row: KnowledgeRow, model: str) -> EmbeddingOut:
        return cls(
            id=row.id,
            type=row.type,
            heading=row.heading,
            text=row.text,
            embedded=row.embedding is not None and row.embedding_model == model,
        )


class EntryIn(BaseModel):
    type: Type = ""
    heading: Heading
    text: Text

    def entry(self) -> Entry:
        return Entry(heading=self.heading, text=self.text, type=self.type)


class EntryChangeIn(BaseModel):
    type: Type | None = None
    heading: Heading | None = None
    text: Text | None = None


class ImportIn(BaseModel):
    rows: list[EntryIn] = Field(max_length=MAX_IMPORT)


class GenerationOut(BaseModel):
    """An embedding generation's progress (ours)."""

    id: int = Field(examples=[3])
    status: str = Field(examples=["running"], description="queued, running, done or failed.")
    total: int = Field(examples=[250], description="Rows to embed.")
    done: int = Field(examples=[100], description="Rows embedded so far.")
    error: str | None = Field(examples=[None], description="Why the last try failed.")
    started_at: str | None = Field(examples=["2024-10-15 09:30:00"])
    finished_at: str | None = Field(examples=[None])

    @classmethod
    def of(cls, job: EmbeddingJob) -> GenerationOut:
        return cls(
            id=job.id,
            status=job.status,
            total=job.total,
            done=job.done,
            error=job.error,
            started_at=wire_time(job.started_at),
            finished_at=wire_time(job.finished_at),
        )
