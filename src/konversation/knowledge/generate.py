"""Computing every embedding of a workspace's knowledge base again, in the background: after
the OpenAI integration was first saved, or to move the rows to another embedding model.

`start_generation` queues a job, or answers the one already queued or running (a workspace has
one at a time). The job pump calls `run_due_generations`, whose every step takes the next
`BATCH` rows in id order after the job's cursor, asks for their embeddings outside any
transaction, then stores them together with the job's progress in one transaction: a job goes on
where it stopped, in whichever process. A row rewritten meanwhile keeps the embedding its write
gave it. A batch the service failed to answer (unreachable, busy, failing) is tried again after
a pause, `MAX_ATTEMPTS` times at most; a refused key or a removed integration fails the job at
once, with the reason.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, bindparam, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from konversation.db import QUEUED, session_scope, table_of, utcnow
from konversation.errors import NotFound
from konversation.jobs.leases import step_each
from konversation.knowledge.models import LIVE_JOBS, EmbeddingJob, JobStatus, KnowledgeRow
from konversation.knowledge.openai import NotConfigured, OpenAI, ServiceFailed
from konversation.knowledge.search import changed, pack
from konversation.knowledge.service import embedded_text

NO_JOB = "The embeddings of this workspace were never generated."
BATCH = 100
MAX_ATTEMPTS = 5
RETRY_SECONDS = (2, 10, 60, 300)
LEASE = dt.timedelta(seconds=120)
ROWS = table_of(KnowledgeRow)


async def start_generation(
    session: AsyncSession, openai: OpenAI, workspace_id: int
) -> EmbeddingJob:
    """Queue the computing of every row's embedding (400 without an OpenAI integration)."""
    await openai.required_account(session, workspace_id)
    live = await session.scalar(
        select(EmbeddingJob).where(
            EmbeddingJob.workspace_id == workspace_id, EmbeddingJob.status.in_(LIVE_JOBS)
        )
    )
    if live is not None:
        return live
    total = await session.scalar(
        select(func.count()).where(KnowledgeRow.workspace_id == workspace_id)
    )
    job = EmbeddingJob(
        workspace_id=workspace_id,
        status=JobStatus.QUEUED,
        total=int(total or 0),
        done=0,
        cursor=0,
        attempts=0,
        due_at=utcnow(),
    )
    session.add(job)
    session.info[QUEUED] = True  # wakes the job pump once the request commits
    await session.flush()
    return job


async def latest_generation(session: AsyncSession, workspace_id: int) -> EmbeddingJob:
    job = await session.scalar(
        select(EmbeddingJob)
        .where(EmbeddingJob.workspace_id == workspace_id)
        .order_by(EmbeddingJob.id.desc())
        .limit(1)
    )
    if job is None:
        raise NotFound(NO_JOB)
    return job


def due_now(now: dt.datetime) -> ColumnElement[bool]:
    """Whether a generation step is due, for the pump's look at what there is to do."""
    return exists().where(EmbeddingJob.status.in_(LIVE_JOBS), EmbeddingJob.due_at <= now)


async def run_due_generations(
    sessions: async_sessionmaker[AsyncSession], openai: OpenAI, *, lease: dt.timedelta = LEASE
) -> int:
    """Embed one batch of rows of every generation that is due; answers how many batches were
    stored or tried."""

    async def step(job_id: int) -> int:
        return await _step(sessions, openai, job_id)

    return await step_each(
        sessions,
        EmbeddingJob,
        ready=EmbeddingJob.status.in_(LIVE_JOBS) & (EmbeddingJob.due_at <= utcnow()),
        order_by=(EmbeddingJob.due_at, EmbeddingJob.id),
        lease=lease,
        step=step,
    )


async def _step(sessions: async_sessionmaker[AsyncSession], openai: OpenAI, job_id: int) -> int:
    async with session_scope(sessions) as session:
        job = await session.get_one(EmbeddingJob, job_id)
        cursor, workspace_id = job.cursor, job.workspace_id
        batch = (
            await session.execute(
                select(KnowledgeRow.id, KnowledgeRow.heading, KnowledgeRow.text)
                .where(KnowledgeRow.workspace_id == workspace_id, KnowledgeRow.id > cursor)
                .order_by(KnowledgeRow.id)
                .limit(BATCH)
            )
        ).all()
        try:
            account = await openai.required_account(session, workspace_id)
        except (NotConfigured, ServiceFailed) as refused:
            _fail(job, str(refused))
            return 1
    try:
        texts = [embedded_text(heading, text) for _, heading, text in batch]
        vectors = await openai.embed(account, texts)
    except ServiceFailed as failed:
        async with session_scope(sessions) as session:
            _count_failure(await session.get_one(EmbeddingJob, job_id), failed)
        return 1  # an attempt made and recorded is work done, as a stored batch is
    async with session_scope(sessions) as session:
        job = await session.get_one(EmbeddingJob, job_id, with_for_update=True)
        if job.status not in LIVE_JOBS or job.cursor != cursor:
            return 0  # another worker stored this batch after our lease ran out
        if batch:
            stored = [
                {
                    "row_id": row_id,
                    "was_heading": heading,
                    "was_text": text,
                    "vector": pack(vector),
                    "model": openai.embedding_model,
                }
                for (row_id, heading, text), vector in zip(batch, vectors, strict=True)
            ]
            await session.execute(_STORE, stored)
            await changed(session, workspace_id)
        _advance(job, [row_id for row_id, _, _ in batch])
    return 1


# The row's heading and text are compared so that a row rewritten since it was read keeps the
# embedding its own write computed.
_STORE = (
    update(ROWS)
    .where(
        ROWS.c.id == bindparam("row_id"),
        ROWS.c.heading == bindparam("was_heading"),
        ROWS.c.text == bindparam("was_text"),
    )
    .values(embedding=bindparam("vector"), embedding_model=bindparam("model"))
)


def _advance(job: EmbeddingJob, row_ids: list[int]) -> None:
    now = utcnow()
    job.started_at = job.started_at or now
    job.attempts, job.error = 0, None
    job.done += len(row_ids)
    job.total = max(job.total, job.done)  # rows added since the start are embedded too
    if len(row_ids) < BATCH:
        job.status, job.finished_at = JobStatus.DONE, now
        return
    job.status, job.cursor = JobStatus.RUNNING, row_ids[-1]


def _count_failure(job: EmbeddingJob, failed: ServiceFailed) -> None:
    if not failed.retryable or job.attempts + 1 >= MAX_ATTEMPTS:
        _fail(job, str(failed))
        return
    job.error = str(failed)
    job.due_at = utcnow() + dt.timedelta(seconds=RETRY_SECONDS[job.attempts])
    job.attempts += 1


def _fail(job: EmbeddingJob, reason: str) -> None:
    job.status, job.error, job.finished_at = JobStatus.FAILED, reason, utcnow()
