"""A bot's flows, tags, user fields and bot fields, and the flow-level settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete as delete_rows
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.db import PageRequest, contains_text, fetch_page
from konversation.errors import BadRequest, Invalid, NotFound
from konversation.flows import fieldtypes, versions
from konversation.flows.catalog import Catalog
from konversation.flows.document import empty_definition, validate_definition
from konversation.flows.index import index_flow
from konversation.flows.models import (
    LISTED_FLOW,
    MAIN_FLOW_NUMBER,
    Field,
    FieldScope,
    Flow,
    FlowKind,
    InboundWebhook,
    Tag,
    TemplateInstall,
    VarType,
)
from konversation.ids import Kind, format_ns
from konversation.workspaces.service import get_bot, next_number

TAGS = Catalog(Tag, Kind.TAG, "Tag")
USER_FIELDS = Catalog(Field, Kind.FIELD, "User field", (Field.scope == FieldScope.USER,))
BOT_FIELDS = Catalog(Field, Kind.FIELD, "Bot field", (Field.scope == FieldScope.BOT,))
SUB_FLOWS = Catalog(Flow, Kind.SUB_FLOW, "Sub flow", (Flow.kind != FlowKind.MAIN, LISTED_FLOW))

MAX_BULK_BOT_FIELDS = 20
STT_MODELS = ("none", "whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe")
MAIN = "main"


async def delete(session: AsyncSession, item: Tag | Field | Flow) -> None:
    """Remove a tag or field (with every subscriber's use of it) or a flow."""
    await session.delete(item)
    await session.flush()


# Tags


async def rename(
    session: AsyncSession, catalog: Catalog[Any], bot_id: int, item: Tag | Field, name: str
) -> Tag | Field:
    """Give a tag or field a new name, unique among its kind in the bot (flows and API calls
    that name it by id keep working; those naming it by its old name do not)."""
    name = _required_name(name)
    other = await catalog.find_by_name(session, bot_id, name)
    if other is not None and other is not item:
        raise Invalid.field("name", "The name has already been taken.")
    item.name = name
    await session.flush()
    return item


async def create_tag(session: AsyncSession, bot_id: int, *, name: str) -> Tag:
    name = _required_name(name)
    if await TAGS.find_by_name(session, bot_id, name) is not None:
        raise Invalid.field("name", "The name has already been taken.")
    tag = Tag(bot_id=bot_id, number=await next_number(session, bot_id, Kind.TAG), name=name)
    session.add(tag)
    await session.flush()
    return tag


# User fields and bot fields


async def create_field(
    session: AsyncSession,
    bot_id: int,
    *,
    scope: FieldScope,
    name: str,
    var_type: str,
    description: str | None = None,
    value: Any = None,
) -> Field:
    name = _required_name(name)
    catalog = USER_FIELDS if scope is FieldScope.USER else BOT_FIELDS
    if await catalog.find_by_name(session, bot_id, name) is not None:
        raise Invalid.field("name", "The name has already been taken.")
    field = Field(
        bot_id=bot_id,
        number=await next_number(session, bot_id, Kind.FIELD),
        scope=scope.value,
        name=name,
        var_type=_var_type(var_type),
        description=description or "",
        value=_typed(var_type, value, "value") if scope is FieldScope.BOT else None,
    )
    session.add(field)
    await session.flush()
    return field


async def set_bot_field(session: AsyncSession, bot_id: int, *, var_ns: str, value: Any) -> Field:
    field = await BOT_FIELDS.by_ns(session, bot_id, var_ns)
    field.value = _typed(field.var_type, value, "value")
    return field


async def set_bot_field_by_name(
    session: AsyncSession, bot_id: int, *, name: str, value: Any
) -> Field:
    field = await BOT_FIELDS.by_name(session, bot_id, name)
    field.value = _typed(field.var_type, value, "value")
    return field


@dataclass(frozen=True)
class FieldValue:
    """One item of a bulk write: the field by id (`var_ns`) or by `name`, and its new value."""

    key: str
    value: Any


async def set_bot_fields(
    session: AsyncSession, bot_id: int, items: Sequence[FieldValue] | None, *, by: str
) -> None:
    """Set up to twenty bot fields at once: all of them, or none when any item is refused."""
    if items is None:
        raise BadRequest("The data field is required.")
    if len(items) > MAX_BULK_BOT_FIELDS:
        raise Invalid.field(
            "data", f"The data field must not have more than {MAX_BULK_BOT_FIELDS} items."
        )
    fields = {
        format_ns(bot_id, Kind.FIELD, f.number) if by == "var_ns" else f.name: f
        for f in await BOT_FIELDS.all(session, bot_id)
    }
    errors: dict[str, list[str]] = {}
    updates: list[tuple[Field, Any]] = []
    for index, item in enumerate(items):
        field = fields.get(item.key)
        if field is None:
            errors[f"data.{index}.{by}"] = [f"The selected data.{index}.{by} is invalid."]
            continue
        try:
            updates.append((field, fieldtypes.normalize(field.var_type, item.value)))
        except fieldtypes.BadValue as bad:
            errors[f"data.{index}.value"] = [f"The data.{index}.value field {bad}."]
    if errors:
        raise Invalid(errors)
    for field, value in updates:
        field.value = value


def _var_type(var_type: str) -> str:
    if var_type not in {t.value for t in VarType}:
        raise Invalid.field("var_type", "The selected var_type is invalid.")
    return var_type


def _typed(var_type: str, value: Any, path: str) -> Any:
    try:
        return fieldtypes.normalize(var_type, value)
    except fieldtypes.BadValue as bad:
        raise Invalid.field(path, f"The {path} field {bad}.") from None


def _required_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise Invalid.field("name", "The name field is required.")
    return name


# Flows


async def create_flow(
    session: AsyncSession,
    bot_id: int,
    *,
    name: str,
    kind: FlowKind = FlowKind.SUB,
    definition: dict[str, Any] | None = None,
    published_by: str = versions.IMPORT,
) -> Flow:
    """A new sub flow, or the bot's main flow when `kind` is main (a bot has exactly one);
    the document it is made with is its version 1."""
    document = validate_definition(
        definition if definition is not None else empty_definition(), kind=kind
    )
    if kind is FlowKind.MAIN:
        number = MAIN_FLOW_NUMBER
    else:
        number = await next_number(session, bot_id, Kind.SUB_FLOW)
    flow = Flow(
        bot_id=bot_id,
        number=number,
        kind=kind.value,
        name=_required_name(name),
        definition=document,
    )
    session.add(flow)
    await session.flush()
    await index_flow(session, flow)
    await versions.record_first_version(session, flow, published_by=published_by)
    return flow


async def save_definition(
    session: AsyncSession,
    flow: Flow,
    definition: dict[str, Any],
    *,
    published_by: str = versions.IMPORT,
) -> Flow:
    """Publish a new document for the flow, checked like an import, as its next version (and
    its draft); the same document again changes nothing."""
    document = validate_definition(definition, kind=FlowKind(flow.kind))
    if document != flow.definition:
        await versions.publish_definition(session, flow, document, published_by=published_by)
    return flow


async def bot_flows(session: AsyncSession, bot_id: int) -> list[Flow]:
    """The bot's main flow and sub flows, in number order."""
    found = await session.scalars(
        select(Flow).where(Flow.bot_id == bot_id, LISTED_FLOW).order_by(Flow.number)
    )
    return list(found)


async def main_flow(session: AsyncSession, bot_id: int) -> Flow:
    flow = await session.scalar(
        select(Flow).where(Flow.bot_id == bot_id, Flow.number == MAIN_FLOW_NUMBER)
    )
    if flow is None:
        raise NotFound("Main flow not found")
    return flow


async def delete_sub_flow(session: AsyncSession, bot_id: int, *, sub_flow_ns: str) -> None:
    flow = await SUB_FLOWS.by_ns(session, bot_id, sub_flow_ns)
    bot = await get_bot(session, bot_id)
    # Nothing may be left starting a flow that no longer exists.
    if bot.start_sub_flow == flow.number:
        bot.start_sub_flow = None
    if bot.web_chat_start_sub_flow == flow.number:
        bot.web_chat_start_sub_flow = None
    await session.execute(
        delete_rows(InboundWebhook).where(
            InboundWebhook.bot_id == bot_id, InboundWebhook.sub_flow_number == flow.number
        )
    )
    await session.execute(delete_rows(Flow).where(Flow.preview_of == flow.id))
    await session.delete(flow)
    await session.flush()


async def set_default_start_flow(
    session: AsyncSession, bot_id: int, *, sub_flow_ns: str, web_chat: bool = False
) -> None:
    """Start conversations in a sub flow, or in the main flow when given `main`."""
    number = None
    if sub_flow_ns.strip().lower() != MAIN:
        number = (await SUB_FLOWS.by_ns(session, bot_id, sub_flow_ns)).number
    bot = await get_bot(session, bot_id)
    if web_chat:
        bot.web_chat_start_sub_flow = number
    else:
        bot.start_sub_flow = number


async def set_audio_transcription(session: AsyncSession, bot_id: int, *, stt_model: str) -> None:
    if stt_model not in STT_MODELS:
        raise Invalid.field(
            "stt_model", f"The selected stt_model is invalid: use one of {', '.join(STT_MODELS)}."
        )
    (await get_bot(session, bot_id)).stt_model = stt_model


# What is attached to flows


async def list_inbound_webhooks(
    session: AsyncSession, bot_id: int, *, name: str | None, window: PageRequest
) -> tuple[Sequence[InboundWebhook], int]:
    query = (
        select(InboundWebhook).where(InboundWebhook.bot_id == bot_id).order_by(InboundWebhook.id)
    )
    if name:
        query = query.where(contains_text(InboundWebhook.name, name))
    return await fetch_page(session, query, window)


async def list_template_installs(
    session: AsyncSession, bot_id: int, *, window: PageRequest
) -> tuple[Sequence[TemplateInstall], int]:
    query = (
        select(TemplateInstall)
        .where(TemplateInstall.bot_id == bot_id)
        .order_by(TemplateInstall.id.desc())
    )
    return await fetch_page(session, query, window)
