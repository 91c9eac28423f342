"""Team labels: listed, created and deleted per workspace, and found by name for subscribers."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.db import PageRequest, contains_text, fetch_page
from konversation.errors import Invalid, NotFound
from konversation.labels.models import Label

NOT_FOUND = "Label not found"


async def list_labels(
    session: AsyncSession, workspace_id: int, *, name: str | None, window: PageRequest
) -> tuple[Sequence[Label], int]:
    query = select(Label).where(Label.workspace_id == workspace_id).order_by(Label.id)
    if name:
        query = query.where(contains_text(Label.name, name))
    return await fetch_page(session, query, window)


async def create_label(session: AsyncSession, workspace_id: int, *, name: str) -> Label:
    name = name.strip()
    if not name:
        raise Invalid.field("name", "The name field is required.")
    if await labels_named(session, workspace_id, [name]):
        raise Invalid.field("name", "The name has already been taken.")
    label = Label(workspace_id=workspace_id, name=name)
    session.add(label)
    await session.flush()
    return label


async def delete_label(session: AsyncSession, workspace_id: int, *, label_id: int) -> None:
    """Delete a label; the database takes it off every subscriber that had it."""
    label = await session.scalar(
        select(Label).where(Label.workspace_id == workspace_id, Label.id == label_id)
    )
    await _delete(session, label)


async def delete_label_by_name(session: AsyncSession, workspace_id: int, *, name: str) -> None:
    await _delete(session, (await labels_named(session, workspace_id, [name])).get(name))


async def _delete(session: AsyncSession, label: Label | None) -> None:
    if label is None:
        raise NotFound(NOT_FOUND)
    await session.delete(label)
    await session.flush()


async def labels_named(
    session: AsyncSession, workspace_id: int, names: Collection[str]
) -> dict[str, Label]:
    """The workspace's labels called any of `names` (exactly), by name."""
    labels = await session.scalars(
        select(Label).where(Label.workspace_id == workspace_id, Label.name.in_(set(names)))
    )
    return {label.name: label for label in labels}
