"""The knowledge base's rows: listing, reading, writing and importing them.

A row is embedded as it is written when the workspace has an OpenAI integration: the embedding
is asked for before anything is stored, so a refused key or an unreachable service answers 400
and leaves the knowledge base as it was. Without an integration, rows are stored without an
embedding and take no part in searches until the embeddings are generated (see `generate`).
Every write moves the workspace's revision on (see `search.changed`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.db import PageRequest, contains_text, fetch_page, utcnow
from konversation.errors import Invalid, NotFound
from konversation.ids import MAX_ID
from konversation.knowledge.models import KnowledgeRow
from konversation.knowledge.openai import OpenAI
from konversation.knowledge.search import changed, pack

NOT_FOUND = "Embedding not found"
MAX_IMPORT = 100
TAKEN = "The heading has already been taken."


@dataclass(frozen=True)
class Entry:
    """What a row says: the text to find and give, under a heading unique in the workspace."""

    heading: str
    text: str
    type: str = ""


def embedded_text(heading: str, text: str) -> str:
    """What an embedding is computed of: the heading carries meaning too."""
    return f"{heading}\n{text}"


@dataclass(frozen=True)
class Imported:
    inserted: int
    updated: int
    skipped: int


# Reading


async def list_rows(
    session: AsyncSession,
    workspace_id: int,
    *,
    heading: str | None,
    text: str | None,
    window: PageRequest,
) -> tuple[Sequence[KnowledgeRow], int]:
    query = _rows_of(workspace_id)
    if heading:
        query = query.where(contains_text(KnowledgeRow.heading, heading))
    if text:
        query = query.where(contains_text(KnowledgeRow.text, text))
    return await fetch_page(session, query.order_by(KnowledgeRow.id), window)


async def get_row(session: AsyncSession, workspace_id: int, row_id: int) -> KnowledgeRow:
    row = None
    if 0 < row_id <= MAX_ID:
        row = await session.scalar(_rows_of(workspace_id).where(KnowledgeRow.id == row_id))
    if row is None:
        raise NotFound(NOT_FOUND)
    return row


def _rows_of(workspace_id: int) -> Select[KnowledgeRow]:
    return select(KnowledgeRow).where(KnowledgeRow.workspace_id == workspace_id)


async def _row_headed(
    session: AsyncSession, workspace_id: int, heading: str
) -> KnowledgeRow | None:
    return await session.scalar(_rows_of(workspace_id).where(KnowledgeRow.heading == heading))


# Writing


async def create_row(
    session: AsyncSession, openai: OpenAI, workspace_id: int, entry: Entry
) -> KnowledgeRow:
    entry = _checked(entry)
    if await _row_headed(session, workspace_id, entry.heading) is not None:
        raise Invalid.field("heading", TAKEN)
    row = KnowledgeRow(workspace_id=workspace_id)
    await _write(session, openai, workspace_id, [(row, entry)])
    return row


async def update_row(
    session: AsyncSession,
    openai: OpenAI,
    workspace_id: int,
    row_id: int,
    *,
    heading: str | None,
    text: str | None,
    type_: str | None,
) -> KnowledgeRow:
    """Change what is given; what is left out stays as it was."""
    row = await get_row(session, workspace_id, row_id)
    entry = _checked(
        Entry(
            heading=row.heading if heading is None else heading,
            text=row.text if text is None else text,
            type=row.type if type_ is None else type_,
        )
    )
    if entry.heading != row.heading:
        other = await _row_headed(session, workspace_id, entry.heading)
        if other is not None:
            raise Invalid.field("heading", TAKEN)
    await _write(session, openai, workspace_id, [(row, entry)])
    return row


async def delete_row(session: AsyncSession, workspace_id: int, row_id: int) -> None:
    row = await get_row(session, workspace_id, row_id)
    await session.delete(row)
    await changed(session, workspace_id)


async def import_rows(
    session: AsyncSession, openai: OpenAI, workspace_id: int, entries: Sequence[Entry]
) -> Imported:
    """Add each entry whose heading is new, update the row of a known heading whose text or type
    differs, and skip the ones the knowledge base already holds as they are. Entries are taken
    in order, so a heading given twice is added once and then updated (or skipped): each entry
    is counted once."""
    if len(entries) > MAX_IMPORT:
        raise Invalid.field("rows", f"At most {MAX_IMPORT} rows can be imported at once.")
    checked = [_checked(entry, at=f"rows.{i}.") for i, entry in enumerate(entries)]
    headings = {entry.heading for entry in checked}
    known = {
        row.heading: row
        for row in await session.scalars(
            _rows_of(workspace_id).where(KnowledgeRow.heading.in_(headings))
        )
    }
    state = {heading: _entry_of(row) for heading, row in known.items()}
    wanted: dict[str, Entry] = {}
    inserted = updated = skipped = 0
    for entry in checked:
        before = state.get(entry.heading)
        if before is None:
            inserted += 1
        elif _holds(before, entry):
            skipped += 1
            continue
        else:
            updated += 1
        state[entry.heading] = wanted[entry.heading] = entry
    writes = [
        (known.get(heading) or KnowledgeRow(workspace_id=workspace_id), entry)
        for heading, entry in wanted.items()
    ]
    await _write(session, openai, workspace_id, writes)
    return Imported(inserted=inserted, updated=updated, skipped=skipped)


def _entry_of(row: KnowledgeRow) -> Entry:
    return Entry(heading=row.heading, text=row.text, type=row.type)


def _holds(current: Entry, wanted: Entry) -> bool:
    return (current.text, current.type) == (wanted.text, wanted.type)


async def _write(
    session: AsyncSession,
    openai: OpenAI,
    workspace_id: int,
    writes: Sequence[tuple[KnowledgeRow, Entry]],
) -> None:
    """Give each row its entry, embedding those whose heading or text changed first."""
    if not writes:
        return
    account = await openai.account(session, workspace_id)
    if account is None:
        for row, entry in writes:
            if _rewords(row, entry):
                row.embedding = row.embedding_model = None
    else:
        to_embed = [
            (row, entry)
            for row, entry in writes
            if _rewords(row, entry) or row.embedding_model != openai.embedding_model
        ]
        texts = [embedded_text(entry.heading, entry.text) for _, entry in to_embed]
        vectors = await openai.embed(account, texts)
        for (row, _), vector in zip(to_embed, vectors, strict=True):
            row.embedding, row.embedding_model = pack(vector), openai.embedding_model
    for row, entry in writes:
        row.heading, row.text, row.type = entry.heading, entry.text, entry.type
        row.updated_at = utcnow()
        session.add(row)
    await changed(session, workspace_id)
    await session.flush()


def _rewords(row: KnowledgeRow, entry: Entry) -> bool:
    return (row.heading, row.text) != (entry.heading, entry.text)


def _checked(entry: Entry, *, at: str = "") -> Entry:
    """The entry with its heading trimmed; a heading or text that is blank is refused."""
    errors: dict[str, list[str]] = {}
    heading, text = entry.heading.strip(), entry.text.strip()
    if not heading:
        errors[f"{at}heading"] = ["The heading field is required."]
    if not text:
        errors[f"{at}text"] = ["The text field is required."]
    if errors:
        raise Invalid(errors)
    return Entry(heading=heading, text=entry.text, type=entry.type.strip())
