"""The knowledge base: a workspace's rows of text, each with its embedding, and the jobs that
compute the embeddings of every row again."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from konversation.db import Base, LeasedJob, Timestamped, UTCDateTime, utcnow

MAX_HEADING = 50
MAX_TEXT = 1000
MAX_TYPE = 50


class KnowledgeRow(Timestamped, Base):
    """One piece of knowledge. `embedding` is the vector of its heading and text as packed
    little-endian float32, computed by `embedding_model`; both are None until computed (the
    workspace had no OpenAI integration when the row was written)."""

    __tablename__ = "knowledge_rows"
    __table_args__ = (UniqueConstraint("workspace_id", "heading"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(MAX_TYPE), default="")
    heading: Mapped[str] = mapped_column(String(MAX_HEADING))
    text: Mapped[str] = mapped_column(Text)
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    embedding_model: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class KnowledgeRevision(Base):
    """A counter each change of a workspace's rows moves on, in the same transaction: every
    process keeps its search matrices until the counter says they are stale."""

    __tablename__ = "knowledge_revisions"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(Integer, default=0)


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


LIVE_JOBS = (JobStatus.QUEUED, JobStatus.RUNNING)


class EmbeddingJob(LeasedJob, Timestamped, Base):
    """Computing the embedding of every row of a workspace again, in batches, in the background.

    Rows are taken in id order after `cursor`, so a job goes on where it stopped, in whichever
    process; `done` of `total` rows are finished. A failed batch is tried again after a pause,
    `attempts` times at most, then the job fails with `error`.
    """

    __tablename__ = "knowledge_embedding_jobs"
    __table_args__ = (Index("ix_knowledge_embedding_jobs_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
