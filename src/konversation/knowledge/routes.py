"""The OpenAI group: the workspace's knowledge base, for keys with Manage Team."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from konversation.knowledge import generate, service
from konversation.knowledge.models import KnowledgeRow
from konversation.knowledge.openai import OpenAI
from konversation.knowledge.wire import (
    EmbeddingOut,
    EntryChangeIn,
    EntryIn,
    GenerationOut,
    ImportIn,
)
from konversation.wire import envelope
from konversation.wire.auth import ManageTeam
from konversation.wire.envelope import DataOut, OkOut, PageOut
from konversation.wire.errors import wire_errors
from konversation.wire.params import BlankIsNone, PageParams
from konversation.wire.session import Session

router = APIRouter(tags=["OpenAI"])

ERRORS = wire_errors(401, 403, 404, 422)
# Writes call the embeddings service when the workspace has an OpenAI integration; a heading
# can be taken by a concurrent write.
WRITES = wire_errors(400, 401, 403, 404, 409, 422)
_EMBEDDED = (
    "When the workspace has an OpenAI integration, the row's embedding is computed before "
    "anything is stored: a refused key or an unreachable service answers 400 and nothing "
    "changes. Without one, the row is stored without an embedding (see generate). Headings are "
    "unique in the workspace."
)


def _openai(request: Request) -> OpenAI:
    client: OpenAI = request.app.state.runtime.openai
    return client


Client = Annotated[OpenAI, Depends(_openai)]
RowId = Annotated[int, Path(alias="id", description="The row's id.", examples=[78])]
Filter = Annotated[str | None, BlankIsNone]


def _out(row: KnowledgeRow, openai: OpenAI) -> DataOut[EmbeddingOut]:
    return envelope.one(EmbeddingOut.of(row, openai.embedding_model))


@router.get("/openai-embeddings", responses=ERRORS, summary="List the knowledge base's rows")
async def openai_embeddings(
    key: ManageTeam,
    session: Session,
    openai: Client,
    paging: PageParams,
    heading: Annotated[Filter, Query(description="Only rows whose heading contains this.")] = None,
    text: Annotated[Filter, Query(description="Only rows whose text contains this.")] = None,
) -> PageOut[EmbeddingOut]:
    rows, total = await service.list_rows(
        session, key.workspace_id, heading=heading, text=text, window=paging
    )
    model = openai.embedding_model
    return envelope.page([EmbeddingOut.of(r, model) for r in rows], total=total, window=paging)


@router.get("/openai-embeddings/{id}/get-info", responses=ERRORS, summary="One knowledge base row")
async def openai_embedding_info(
    row_id: RowId, key: ManageTeam, session: Session, openai: Client
) -> DataOut[EmbeddingOut]:
    return _out(await service.get_row(session, key.workspace_id, row_id), openai)


@router.post(
    "/openai-embeddings/create",
    responses=WRITES,
    summary="Add a row to the knowledge base",
    description=_EMBEDDED,
)
async def create_openai_embedding(
    body: EntryIn, key: ManageTeam, session: Session, openai: Client
) -> DataOut[EmbeddingOut]:
    row = await service.create_row(session, openai, key.workspace_id, body.entry())
    return _out(row, openai)


@router.put(
    "/openai-embeddings/{id}/update",
    responses=WRITES,
    summary="Change a knowledge base row",
    description="What the body leaves out stays as it was; a new heading or text is embedded "
    "again. " + _EMBEDDED,
)
async def update_openai_embedding(
    row_id: RowId, body: EntryChangeIn, key: ManageTeam, session: Session, openai: Client
) -> DataOut[EmbeddingOut]:
    row = await service.update_row(
        session,
        openai,
        key.workspace_id,
        row_id,
        heading=body.heading,
        text=body.text,
        type_=body.type,
    )
    return _out(row, openai)


@router.delete(
    "/openai-embeddings/{id}/delete", responses=ERRORS, summary="Remove a knowledge base row"
)
async def delete_openai_embedding(row_id: RowId, key: ManageTeam, session: Session) -> OkOut:
    await service.delete_row(session, key.workspace_id, row_id)
    return envelope.ok()


@router.post(
    "/openai-embeddings/import",
    responses=WRITES,
    summary="Import up to 100 rows",
    description="Each row whose heading is new is added (`inserted`), a known heading whose "
    "text or type differs is changed (`updated`), and a row the knowledge base already holds "
    "as it is is left alone (`skipped`). Rows are taken in order and each is counted once. "
    "One invalid row refuses the whole import (422). " + _EMBEDDED,
)
async def import_openai_embeddings(
    body: ImportIn, key: ManageTeam, session: Session, openai: Client
) -> OkOut:
    entries = [row.entry() for row in body.rows]
    done = await service.import_rows(session, openai, key.workspace_id, entries)
    return envelope.ok(inserted=done.inserted, updated=done.updated, skipped=done.skipped)


@router.post(
    "/openai-embeddings/generate",
    # 422: a reused Idempotency-Key, as on every POST.
    responses=wire_errors(400, 401, 403, 422),
    summary="Compute every row's embedding again",
    description="Starts computing the embedding of every row in the background, in batches, "
    "and answers at once with the generation's progress (`data`, ours); asked again while one "
    "runs, answers that one. Needs the workspace's OpenAI integration (400 without). Follow it "
    "with GET /openai-embeddings/generate.",
)
async def generate_openai_embeddings(
    key: ManageTeam, session: Session, openai: Client
) -> DataOut[GenerationOut]:
    job = await generate.start_generation(session, openai, key.workspace_id)
    return envelope.one(GenerationOut.of(job))


@router.get(
    "/openai-embeddings/generate",
    responses=wire_errors(401, 403, 404),
    summary="Follow the latest embedding generation (ours)",
    description="The progress of the workspace's latest generation: rows done of the total, "
    "and why it failed if it did.",
)
async def openai_embeddings_generation(key: ManageTeam, session: Session) -> DataOut[GenerationOut]:
    job = await generate.latest_generation(session, key.workspace_id)
    return envelope.one(GenerationOut.of(job))
