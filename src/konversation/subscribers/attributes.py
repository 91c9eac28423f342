"""What is put on a subscriber: tags, user field values and team labels.

Requests name the items they touch in one of two ways, by namespaced id (`tag_ns`, `var_ns`)
or by name (`tag_name`, `field_name`, `name`, `label_name`), and either one item at the top
level or up to twenty in `data`. A `Pick` carries any of these, so each write exists once.
Every item is found and checked before anything is written: a refused request changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from konversation.db import dialect_insert, utcnow
from konversation.errors import Invalid, NotFound
from konversation.flows import fieldtypes
from konversation.flows.catalog import Catalog
from konversation.flows.models import Field, Tag
from konversation.flows.service import TAGS, USER_FIELDS
from konversation.ids import Kind, format_ns, parse_ns
from konversation.labels.models import Label
from konversation.labels.service import NOT_FOUND as LABEL_NOT_FOUND
from konversation.labels.service import labels_named
from konversation.subscribers.models import (
    SubscriberFieldValue,
    SubscriberLabel,
    SubscriberTag,
    value_key,
)
from konversation.subscribers.service import subscriber_id
from konversation.webhooks import service as webhooks
from konversation.webhooks.models import EventType

MAX_ITEMS = 20

M = TypeVar("M")
Named = TypeVar("Named", Tag, Field)


@dataclass(frozen=True)
class Pick:
    """The items a request names.

    `key` is the body key naming each item; keys ending in `_ns` hold namespaced ids, the others
    names. `listed` items came in `data`, so their errors point at `data.<index>.<key>`.
    """

    key: str
    refs: tuple[str, ...]
    listed: bool

    @classmethod
    def one(cls, key: str, ref: str) -> Pick:
        return cls(key, (ref,), listed=False)

    @classmethod
    def many(cls, key: str, refs: Sequence[str]) -> Pick:
        return cls(key, tuple(refs), listed=True)

    @property
    def by_ns(self) -> bool:
        return self.key.endswith("_ns")

    def path(self, index: int, key: str | None = None) -> str:
        """Where item `index`'s `key` (by default the one naming it) sits in the request."""
        key = key or self.key
        return f"data.{index}.{key}" if self.listed else key


# Tags


async def add_tags(session: AsyncSession, bot_id: int, *, user_ns: str, tags: Pick) -> None:
    """Tag a subscriber; a tag they already have is left as it is."""
    subscriber_pk = await subscriber_id(session, bot_id, user_ns)
    found = await _catalog_items(session, TAGS, bot_id, tags)
    added = await _link(session, SubscriberTag.tag_id, subscriber_pk, {t.id for t in found})
    await _count_tagged(session, added, 1)
    await _announce_tags(session, bot_id, user_ns, EventType.TAG_ADDED, found, added)


async def remove_tags(session: AsyncSession, bot_id: int, *, user_ns: str, tags: Pick) -> None:
    """Untag a subscriber; a tag they do not have is simply not there to remove."""
    subscriber_pk = await subscriber_id(session, bot_id, user_ns)
    found = await _catalog_items(session, TAGS, bot_id, tags)
    removed = await _unlink(session, SubscriberTag.tag_id, subscriber_pk, {t.id for t in found})
    await _count_tagged(session, removed, -1)
    await _announce_tags(session, bot_id, user_ns, EventType.TAG_REMOVED, found, removed)


async def _count_tagged(session: AsyncSession, tag_ids: Sequence[int], delta: int) -> None:
    # Only the links really made or removed move a count, so it stays exact under retries.
    if tag_ids:
        await session.execute(
            update(Tag)
            .where(Tag.id.in_(tag_ids))
            .values(subscriber_count=Tag.subscriber_count + delta)
        )


async def _announce_tags(
    session: AsyncSession,
    bot_id: int,
    user_ns: str,
    event_type: EventType,
    tags: Sequence[Tag],
    changed: Sequence[int],
) -> None:
    """Tell the bot's event webhooks of the tags really added or removed, one event each."""
    for tag in (t for t in tags if t.id in set(changed)):
        data = {
            "subscriber": {"user_ns": user_ns},
            "tag": {"tag_ns": format_ns(bot_id, Kind.TAG, tag.number), "name": tag.name},
        }
        await webhooks.emit(session, bot_id, event_type, data)


# User field values


async def set_fields(
    session: AsyncSession, bot_id: int, *, user_ns: str, fields: Pick, values: Sequence[Any]
) -> None:
    """Give a subscriber field values, each typed by its field's definition.

    `values` follow `fields.refs`; an empty value (None or "") clears its field. Over-long text
    is cut to its type's limit. A field named twice takes the last of its values.
    """
    subscriber_pk = await subscriber_id(session, bot_id, user_ns)
    found = await _catalog_items(session, USER_FIELDS, bot_id, fields)
    typed: dict[int, Any] = {}
    errors: dict[str, list[str]] = {}
    for index, (field, value) in enumerate(zip(found, values, strict=True)):
        try:
            typed[field.id] = fieldtypes.normalize(field.var_type, value)
        except fieldtypes.BadValue as bad:
            path = fields.path(index, "value")
            errors[path] = [f"The {path} field {bad}."]
    if errors:
        raise Invalid(errors)
    announced = await webhooks.listening(session, bot_id, EventType.FIELD_CHANGED)
    before = await _values(session, subscriber_pk, list(typed)) if announced else {}
    await _store_values(session, subscriber_pk, typed)
    if announced:
        changed = [f for f in {f.id: f for f in found}.values() if before.get(f.id) != typed[f.id]]
        await _announce_values(session, bot_id, user_ns, changed, before, typed)


async def _values(
    session: AsyncSession, subscriber_id: int, field_ids: list[int]
) -> dict[int, Any]:
    rows = await session.execute(
        select(SubscriberFieldValue.field_id, SubscriberFieldValue.value).where(
            SubscriberFieldValue.subscriber_id == subscriber_id,
            SubscriberFieldValue.field_id.in_(field_ids),
        )
    )
    return {field_id: value for field_id, value in rows}


async def _announce_values(
    session: AsyncSession,
    bot_id: int,
    user_ns: str,
    fields: Sequence[Field],
    before: Mapping[int, Any],
    after: Mapping[int, Any],
) -> None:
    """Tell the bot's event webhooks of each field whose value really changed."""
    for field in fields:
        data = {
            "subscriber": {"user_ns": user_ns},
            "field": {
                "var_ns": format_ns(bot_id, Kind.FIELD, field.number),
                "name": field.name,
                "var_type": field.var_type,
            },
            "value": after[field.id],
            "previous_value": before.get(field.id),
        }
        await webhooks.emit(session, bot_id, EventType.FIELD_CHANGED, data)


async def clear_fields(session: AsyncSession, bot_id: int, *, user_ns: str, fields: Pick) -> None:
    await set_fields(
        session, bot_id, user_ns=user_ns, fields=fields, values=[None] * len(fields.refs)
    )


async def _store_values(
    session: AsyncSession, subscriber_id: int, typed: Mapping[int, Any]
) -> None:
    cleared = [field_id for field_id, value in typed.items() if value is None]
    if cleared:
        await session.execute(
            delete(SubscriberFieldValue).where(
                SubscriberFieldValue.subscriber_id == subscriber_id,
                SubscriberFieldValue.field_id.in_(cleared),
            )
        )
    rows = [
        {"subscriber_id": subscriber_id, "field_id": f, "value": v, "value_key": value_key(v)}
        for f, v in typed.items()
        if v is not None
    ]
    if rows:
        insert = dialect_insert(session)(SubscriberFieldValue).values(rows)
        await session.execute(
            insert.on_conflict_do_update(
                index_elements=[SubscriberFieldValue.subscriber_id, SubscriberFieldValue.field_id],
                set_={"value": insert.excluded.value, "value_key": insert.excluded.value_key},
            )
        )


# Team labels


async def add_labels(
    session: AsyncSession, bot_id: int, *, workspace_id: int, user_ns: str, labels: Pick
) -> None:
    """Put the workspace's labels on a subscriber; labels are never created on the way."""
    subscriber_pk = await subscriber_id(session, bot_id, user_ns)
    found = await _labels(session, workspace_id, labels)
    await _link(session, SubscriberLabel.label_id, subscriber_pk, {label.id for label in found})


async def remove_labels(
    session: AsyncSession, bot_id: int, *, workspace_id: int, user_ns: str, labels: Pick
) -> None:
    subscriber_pk = await subscriber_id(session, bot_id, user_ns)
    found = await _labels(session, workspace_id, labels)
    await _unlink(session, SubscriberLabel.label_id, subscriber_pk, {label.id for label in found})


async def _labels(session: AsyncSession, workspace_id: int, pick: Pick) -> list[Label]:
    _check_size(pick)
    named = await labels_named(session, workspace_id, pick.refs)
    return _in_order(pick, named, LABEL_NOT_FOUND)


# Finding what a request names


async def _catalog_items(
    session: AsyncSession, catalog: Catalog[Named], bot_id: int, pick: Pick
) -> list[Named]:
    """The bot's tags or fields `pick` names, in its order; ids of another bot are not found."""
    _check_size(pick)
    model = catalog.model
    found: dict[str, Named]
    if pick.by_ns:
        numbers = {
            ref: parsed[1]
            for ref in pick.refs
            if (parsed := parse_ns(ref, catalog.kind)) is not None and parsed[0] == bot_id
        }
        query = catalog.query(bot_id).where(model.number.in_(set(numbers.values())))
        by_number = {item.number: item for item in await session.scalars(query)}
        found = {ref: by_number[n] for ref, n in numbers.items() if n in by_number}
    else:
        query = catalog.query(bot_id).where(model.name.in_(set(pick.refs)))
        found = {item.name: item for item in await session.scalars(query)}
    return _in_order(pick, found, catalog.not_found)


def _check_size(pick: Pick) -> None:
    if not pick.listed:
        return
    if not pick.refs:
        raise Invalid.field("data", "The data field is required.")
    if len(pick.refs) > MAX_ITEMS:
        raise Invalid.field("data", f"The data field must not have more than {MAX_ITEMS} items.")


def _in_order(pick: Pick, found: Mapping[str, M], not_found: str) -> list[M]:
    """The named items in the request's order, when every one of them exists."""
    missing = [index for index, ref in enumerate(pick.refs) if ref not in found]
    if missing and not pick.listed:
        raise NotFound(not_found)
    if missing:
        raise Invalid({pick.path(i): [f"The selected {pick.path(i)} is invalid."] for i in missing})
    return [found[ref] for ref in pick.refs]


# Links between subscribers and tags or labels


async def _link(
    session: AsyncSession, item: InstrumentedAttribute[int], subscriber_id: int, ids: set[int]
) -> list[int]:
    """Link a subscriber to the items `ids` in `item`'s table; answer those newly linked."""
    if not ids:
        return []
    now = utcnow()
    rows = [{"subscriber_id": subscriber_id, item.key: i, "created_at": now} for i in sorted(ids)]
    insert = dialect_insert(session)(item.class_).values(rows)
    return list(await session.scalars(insert.on_conflict_do_nothing().returning(item)))


async def _unlink(
    session: AsyncSession, item: InstrumentedAttribute[int], subscriber_id: int, ids: set[int]
) -> list[int]:
    """Unlink a subscriber from the items `ids`; answer those that were linked."""
    if not ids:
        return []
    table = item.class_
    statement = (
        delete(table)
        .where(table.subscriber_id == subscriber_id, item.in_(ids))
        .returning(item)
        .execution_options(synchronize_session=False)
    )
    return list(await session.scalars(statement))
