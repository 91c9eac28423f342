"""A bot's whole flow as one versioned JSON document: pulled out, and pushed back in.

The document (`{"format": "konversation.flow", "version": 1, ...}`) carries the bot's flow
settings, its main flow and sub flows with their definitions, tags, user fields, bot fields with
their values and inbound webhooks. The pydantic models below are its only definition: the API,
the CLI and the JSON Schema all come from them.

An import is checked as a whole before anything is written, then applied in the caller's unit of
work: items are matched by name and created when missing, and nothing is deleted. The document
may come from another bot or server, so every id of the source bot (`f<bot>t<n>`, `f<bot>s<n>`,
`f<bot>v<n>`) found in the definitions, as a whole token even inside a longer string, is rewritten
to the id of the matching item of the target bot. Ids of items the document does not carry are
left as they are.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Self, TypeVar

from pydantic import (
    BaseModel,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)
from pydantic import Field as Doc
from pydantic_core import InitErrorDetails
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.errors import Invalid
from konversation.flows import fieldtypes, service, versions
from konversation.flows.document import validate_definition
from konversation.flows.models import (
    MAIN_FLOW_NUMBER,
    Field,
    FieldScope,
    Flow,
    FlowKind,
    InboundWebhook,
    Tag,
    VarType,
)
from konversation.ids import Kind, bot_ns, format_ns, parse_bot_ns, parse_ns
from konversation.workspaces.service import get_bot

FORMAT = "konversation.flow"
VERSION = 1
MAIN = service.MAIN

Name = Annotated[str, Doc(max_length=255, description="What an import matches the item by.")]


# The document


SttModel = Annotated[str, Doc(json_schema_extra={"enum": list(service.STT_MODELS)})]
_KEPT = "When absent or null, an import keeps the bot's own setting."


class DocumentBot(BaseModel):
    """The source bot and its flow-level settings."""

    name: str = Doc(max_length=255, description="The source bot's name; an import keeps its own.")
    flow_ns: str = Doc(
        description="The source bot's id: its ids in the definitions are rewritten on import.",
        examples=["f1"],
    )
    start_flow: str | None = Doc(
        default=None,
        description="Where conversations start: `main`, or the `sub_flow_ns` of one of `flows`. "
        + _KEPT,
        examples=["main"],
    )
    web_chat_start_flow: str | None = Doc(
        default=None,
        description="Where web chat conversations start, in the same form. " + _KEPT,
        examples=["main"],
    )
    stt_model: SttModel | None = Doc(
        default=None, description="How voice messages are transcribed. " + _KEPT
    )


class DocumentFlow(BaseModel):
    """The main flow or a sub flow, with its definition."""

    name: Name
    kind: FlowKind = Doc(default=FlowKind.SUB, description="At most one flow is the main flow.")
    sub_flow_ns: str | None = Doc(
        default=None,
        description="The flow's id in the source bot; null for the main flow.",
        examples=["f1s1"],
    )
    definition: dict[str, Any] = Doc(
        description="The flow document: `{version: 1, start, nodes: [{id, type, ...}]}`."
    )


class DocumentTag(BaseModel):
    name: Name
    tag_ns: str | None = Doc(default=None, description="The tag's id in the source bot.")


class DocumentUserField(BaseModel):
    name: Name
    var_ns: str | None = Doc(default=None, description="The field's id in the source bot.")
    var_type: VarType
    description: str = ""


class DocumentBotField(DocumentUserField):
    value: Any = Doc(
        default=None,
        description="A string, number, boolean or array, read according to `var_type`.",
    )


class DocumentInboundWebhook(BaseModel):
    """A webhook; an import gives a new one its own URL."""

    name: Name
    sub_flow_ns: str = Doc(description="The flow it starts: the `sub_flow_ns` of one of `flows`.")
    status: str = Doc(default="active", max_length=16)


class FlowDocument(BaseModel):
    """A bot's whole flow, as `GET /flow/export` gives it and `POST /flow/import` takes it."""

    format: Literal["konversation.flow"]
    version: Literal[1]
    bot: DocumentBot
    flows: list[DocumentFlow] = []
    tags: list[DocumentTag] = []
    user_fields: list[DocumentUserField] = []
    bot_fields: list[DocumentBotField] = []
    inbound_webhooks: list[DocumentInboundWebhook] = []

    @model_validator(mode="wrap")
    @classmethod
    def _format_and_version_first(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        # A document of another format or version is refused for that alone, rather than with
        # one message for every field whose shape differs from this version's.
        if isinstance(data, dict):
            for key, expected in (("format", FORMAT), ("version", VERSION)):
                if data.get(key) != expected:
                    raise _refused(key, data.get(key), expected, missing=key not in data)
        return handler(data)


def _refused(key: str, given: Any, expected: object, *, missing: bool) -> ValidationError:
    detail: InitErrorDetails = (
        {"type": "missing", "loc": (key,), "input": given}
        if missing
        else {
            "type": "value_error",
            "loc": (key,),
            "input": given,
            "ctx": {"error": ValueError(f"must be {expected}")},
        }
    )
    return ValidationError.from_exception_data(FlowDocument.__name__, [detail])


class ImportTally(BaseModel):
    created: int = 0
    updated: int = 0


class ImportCounts(BaseModel):
    """How many items of each kind an import created, and how many existing ones it updated."""

    flows: ImportTally = Doc(default_factory=ImportTally)
    tags: ImportTally = Doc(default_factory=ImportTally)
    user_fields: ImportTally = Doc(default_factory=ImportTally)
    bot_fields: ImportTally = Doc(default_factory=ImportTally)
    inbound_webhooks: ImportTally = Doc(default_factory=ImportTally)


def json_schema() -> dict[str, Any]:
    return FlowDocument.model_json_schema()


# Export


async def export_flow(session: AsyncSession, bot_id: int) -> FlowDocument:
    bot = await get_bot(session, bot_id)
    flows = await service.bot_flows(session, bot_id)
    hooks = await session.scalars(
        select(InboundWebhook).where(InboundWebhook.bot_id == bot_id).order_by(InboundWebhook.id)
    )
    return FlowDocument(
        format=FORMAT,
        version=VERSION,
        bot=DocumentBot(
            name=bot.name,
            flow_ns=bot_ns(bot_id),
            start_flow=_flow_ref(bot_id, bot.start_sub_flow),
            web_chat_start_flow=_flow_ref(bot_id, bot.web_chat_start_sub_flow),
            stt_model=bot.stt_model,
        ),
        flows=[
            DocumentFlow(
                name=flow.name,
                kind=FlowKind(flow.kind),
                sub_flow_ns=None if flow.kind == FlowKind.MAIN else _flow_ref(bot_id, flow.number),
                definition=flow.definition,
            )
            for flow in flows
        ],
        tags=[
            DocumentTag(name=tag.name, tag_ns=format_ns(bot_id, Kind.TAG, tag.number))
            for tag in await service.TAGS.all(session, bot_id)
        ],
        user_fields=[
            DocumentUserField(**_field_part(field))
            for field in await service.USER_FIELDS.all(session, bot_id)
        ],
        bot_fields=[
            DocumentBotField(**_field_part(field), value=field.value)
            for field in await service.BOT_FIELDS.all(session, bot_id)
        ],
        inbound_webhooks=[
            DocumentInboundWebhook(
                name=hook.name,
                sub_flow_ns=_flow_ref(bot_id, hook.sub_flow_number),
                status=hook.status,
            )
            for hook in hooks
        ],
    )


def _flow_ref(bot_id: int, number: int | None) -> str:
    if number is None or number == MAIN_FLOW_NUMBER:
        return MAIN
    return format_ns(bot_id, Kind.SUB_FLOW, number)


def _field_part(field: Field) -> dict[str, Any]:
    return {
        "name": field.name,
        "var_ns": format_ns(field.bot_id, Kind.FIELD, field.number),
        "var_type": VarType(field.var_type),
        "description": field.description,
    }


# Import: first the checks, which need nothing stored


@dataclass(frozen=True)
class _Checked:
    """A document that passed every check, with what the checks worked out."""

    source_bot: int
    bot_field_values: list[Any]


class _Problems:
    """Messages per dotted path, gathered so that a refusal names every problem at once."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def names(self, items: Iterable[tuple[str, str]]) -> None:
        """Names are required and, since an import matches by them, unique within their kind."""
        seen: set[str] = set()
        for where, name in items:
            path = f"{where}.name"
            if not name.strip():
                self.add(path, f"The {path} field is required.")
            elif name.strip() in seen:
                self.add(path, f"The {path} field has a duplicate value.")
            seen.add(name.strip())

    def ids(self, items: Iterable[tuple[str, str | None]], kind: Kind, source: int) -> None:
        """Ids, when given, are ids of the source bot and of their kind, each given once."""
        seen: set[str] = set()
        for path, value in items:
            if value is None:
                continue
            parsed = parse_ns(value, kind)
            if parsed is None or parsed[0] != source or value != value.strip():
                example = format_ns(source, kind, 1)
                self.add(
                    path, f"The {path} field must be an id of bot f{source}, such as {example}."
                )
            elif value in seen:
                self.add(path, f"The {path} field has a duplicate value.")
            seen.add(value)


def check_document(document: FlowDocument) -> _Checked:
    """Everything an import relies on, checked before anything is written; Invalid lists all."""
    problems = _Problems()
    source = parse_bot_ns(document.bot.flow_ns)
    if source is None:
        problems.add("bot.flow_ns", "The bot.flow_ns field must be a bot id such as f1.")
    stt_model = document.bot.stt_model
    if stt_model is not None and stt_model not in service.STT_MODELS:
        problems.add(
            "bot.stt_model",
            f"The selected bot.stt_model is invalid: use one of {', '.join(service.STT_MODELS)}.",
        )
    sub_flows = _check_flows(problems, document.flows, source)
    for key in ("start_flow", "web_chat_start_flow"):
        ref = getattr(document.bot, key)
        if ref is not None and not _names_a_flow(ref, sub_flows):
            problems.add(
                f"bot.{key}",
                f"The selected bot.{key} is invalid: "
                "use main or the sub_flow_ns of a flow in flows.",
            )
    problems.names((f"tags.{i}", t.name) for i, t in enumerate(document.tags))
    problems.names((f"user_fields.{i}", f.name) for i, f in enumerate(document.user_fields))
    problems.names((f"bot_fields.{i}", f.name) for i, f in enumerate(document.bot_fields))
    if source is not None:
        problems.ids(
            ((f"tags.{i}.tag_ns", t.tag_ns) for i, t in enumerate(document.tags)), Kind.TAG, source
        )
        # User and bot fields share one series of ids.
        var_ns = [
            *((f"user_fields.{i}.var_ns", f.var_ns) for i, f in enumerate(document.user_fields)),
            *((f"bot_fields.{i}.var_ns", f.var_ns) for i, f in enumerate(document.bot_fields)),
        ]
        problems.ids(var_ns, Kind.FIELD, source)
    values = []
    for index, field in enumerate(document.bot_fields):
        try:
            values.append(fieldtypes.normalize(field.var_type, field.value))
        except fieldtypes.BadValue as bad:
            problems.add(f"bot_fields.{index}.value", f"The bot_fields.{index}.value field {bad}.")
    hooks = document.inbound_webhooks
    problems.names((f"inbound_webhooks.{i}", h.name) for i, h in enumerate(hooks))
    for index, hook in enumerate(hooks):
        if not _names_a_flow(hook.sub_flow_ns, sub_flows):
            path = f"inbound_webhooks.{index}.sub_flow_ns"
            problems.add(
                path, f"The selected {path} is invalid: use the sub_flow_ns of a flow in flows."
            )
    if problems.errors or source is None:
        raise Invalid(problems.errors)
    return _Checked(source_bot=source, bot_field_values=values)


def _check_flows(
    problems: _Problems, flows: Sequence[DocumentFlow], source: int | None
) -> set[str]:
    """Check every flow; answer the ids of the sub flows, which other parts may name."""
    mains = [i for i, flow in enumerate(flows) if flow.kind is FlowKind.MAIN]
    subs = [i for i, flow in enumerate(flows) if flow.kind is not FlowKind.MAIN]
    for index in mains[1:]:
        problems.add(f"flows.{index}.kind", "The document must not have more than one main flow.")
    for index in mains:
        if flows[index].sub_flow_ns is not None:
            path = f"flows.{index}.sub_flow_ns"
            problems.add(path, f"The {path} field must be null for the main flow.")
    problems.names((f"flows.{i}", flows[i].name) for i in mains)
    problems.names((f"flows.{i}", flows[i].name) for i in subs)
    if source is not None:
        problems.ids(
            ((f"flows.{i}.sub_flow_ns", flows[i].sub_flow_ns) for i in subs), Kind.SUB_FLOW, source
        )
    for index, flow in enumerate(flows):
        try:
            validate_definition(flow.definition, f"flows.{index}.definition", kind=flow.kind)
        except Invalid as invalid:
            for path, messages in invalid.errors.items():
                for message in messages:
                    problems.add(path, message)
    return {ns for i in subs if (ns := flows[i].sub_flow_ns) is not None}


def _names_a_flow(ref: str, sub_flows: set[str]) -> bool:
    return ref.strip().lower() == MAIN or ref in sub_flows


# Import: then the writes


async def import_flow(
    session: AsyncSession,
    bot_id: int,
    document: FlowDocument,
    *,
    published_by: str = versions.IMPORT,
) -> ImportCounts:
    """Bring `document` into the bot: all of it, or nothing when any part is refused. Each
    definition it changes is published as the flow's next version, by `published_by`."""
    bot = await get_bot(session, bot_id)
    checked = check_document(document)
    counts = ImportCounts()
    ids: dict[str, str] = {}

    tags = _by_name(await service.TAGS.all(session, bot_id))
    for tag_part in document.tags:
        tag = await _upsert_tag(session, bot_id, tags, tag_part.name.strip(), counts.tags)
        _remember(ids, tag_part.tag_ns, format_ns(bot_id, Kind.TAG, tag.number))
    user_fields = _by_name(await service.USER_FIELDS.all(session, bot_id))
    for user_part in document.user_fields:
        field = await _upsert_field(
            session, bot_id, user_fields, user_part, None, counts.user_fields
        )
        _remember(ids, user_part.var_ns, format_ns(bot_id, Kind.FIELD, field.number))
    bot_fields = _by_name(await service.BOT_FIELDS.all(session, bot_id))
    for bot_part, value in zip(document.bot_fields, checked.bot_field_values, strict=True):
        field = await _upsert_field(session, bot_id, bot_fields, bot_part, value, counts.bot_fields)
        _remember(ids, bot_part.var_ns, format_ns(bot_id, Kind.FIELD, field.number))

    # Flows are found or created before any definition is written, so that every id a
    # definition may name is known by then.
    sub_flows = _by_name(await service.SUB_FLOWS.all(session, bot_id))
    targets = [
        await _flow_for(session, bot_id, sub_flows, part, counts.flows, published_by)
        for part in document.flows
    ]
    for part, flow in zip(document.flows, targets, strict=True):
        if part.kind is not FlowKind.MAIN:
            _remember(ids, part.sub_flow_ns, format_ns(bot_id, Kind.SUB_FLOW, flow.number))
    rewrite = _rewriter(checked.source_bot, ids)
    for part, flow in zip(document.flows, targets, strict=True):
        definition = rewrite(part.definition)
        if flow.definition != definition:
            await versions.publish_definition(session, flow, definition, published_by=published_by)

    settings = document.bot
    if settings.start_flow is not None:
        bot.start_sub_flow = _flow_number(settings.start_flow, rewrite)
    if settings.web_chat_start_flow is not None:
        bot.web_chat_start_sub_flow = _flow_number(settings.web_chat_start_flow, rewrite)
    if settings.stt_model is not None:
        bot.stt_model = settings.stt_model

    hooks = _by_name(
        await session.scalars(
            select(InboundWebhook)
            .where(InboundWebhook.bot_id == bot_id)
            .order_by(InboundWebhook.id)
        )
    )
    for hook_part in document.inbound_webhooks:
        _upsert_webhook(session, bot_id, hooks, hook_part, rewrite, counts.inbound_webhooks)
    await session.flush()
    return counts


N = TypeVar("N", Tag, Field, Flow, InboundWebhook)


def _by_name(items: Iterable[N]) -> dict[str, N]:
    """Items by name; where a name is shared (flows, webhooks), the first one in `items` order."""
    found: dict[str, N] = {}
    for item in items:
        found.setdefault(item.name, item)
    return found


def _remember(ids: dict[str, str], source_ns: str | None, target_ns: str) -> None:
    if source_ns is not None:
        ids[source_ns] = target_ns


async def _upsert_tag(
    session: AsyncSession, bot_id: int, existing: dict[str, Tag], name: str, counts: ImportTally
) -> Tag:
    if (tag := existing.get(name)) is not None:
        counts.updated += 1
        return tag
    counts.created += 1
    existing[name] = tag = await service.create_tag(session, bot_id, name=name)
    return tag


async def _upsert_field(
    session: AsyncSession,
    bot_id: int,
    existing: dict[str, Field],
    part: DocumentUserField,
    value: Any,
    counts: ImportTally,
) -> Field:
    name = part.name.strip()
    scope = FieldScope.BOT if isinstance(part, DocumentBotField) else FieldScope.USER
    field = existing.get(name)
    if field is None:
        counts.created += 1
        existing[name] = field = await service.create_field(
            session,
            bot_id,
            scope=scope,
            name=name,
            var_type=part.var_type.value,
            description=part.description,
            value=value,
        )
        return field
    counts.updated += 1
    field.var_type = part.var_type.value
    field.description = part.description
    if scope is FieldScope.BOT:
        field.value = value
    return field


async def _flow_for(
    session: AsyncSession,
    bot_id: int,
    sub_flows: dict[str, Flow],
    part: DocumentFlow,
    counts: ImportTally,
    published_by: str,
) -> Flow:
    """The target's flow for `part` (its main flow, or its sub flow of that name); a new flow
    starts empty and gets its definition once all ids are known."""
    name = part.name.strip()
    if part.kind is FlowKind.MAIN:
        flow = await session.scalar(
            select(Flow).where(Flow.bot_id == bot_id, Flow.number == MAIN_FLOW_NUMBER)
        )
    else:
        flow = sub_flows.get(name)
    if flow is None:
        counts.created += 1
        return await service.create_flow(
            session, bot_id, name=name, kind=part.kind, published_by=published_by
        )
    counts.updated += 1
    flow.name = name
    flow.kind = part.kind.value
    return flow


def _upsert_webhook(
    session: AsyncSession,
    bot_id: int,
    existing: dict[str, InboundWebhook],
    part: DocumentInboundWebhook,
    rewrite: Callable[[Any], Any],
    counts: ImportTally,
) -> None:
    name = part.name.strip()
    hook = existing.get(name)
    if hook is None:
        counts.created += 1
        # A new webhook gets its own URL: the source's URL keeps starting the source's flow.
        hook = InboundWebhook(bot_id=bot_id, hook_uid=secrets.token_urlsafe(24), name=name)
        session.add(hook)
        existing[name] = hook
    else:
        counts.updated += 1
    number = _flow_number(part.sub_flow_ns, rewrite)
    hook.sub_flow_number = MAIN_FLOW_NUMBER if number is None else number
    hook.status = part.status


def _flow_number(ref: str, rewrite: Callable[[Any], Any]) -> int | None:
    """The target's number for a checked flow reference; None for the main flow."""
    if ref.strip().lower() == MAIN:
        return None
    parsed = parse_ns(rewrite(ref), Kind.SUB_FLOW)
    if parsed is None:
        raise AssertionError(f"unchecked flow reference {ref!r}")
    return parsed[1]


def _rewriter(source_bot: int, ids: Mapping[str, str]) -> Callable[[Any], Any]:
    """Rewrites the source bot's ids that `ids` knows, wherever they occur in a JSON value.

    An id counts as a whole token: not preceded or followed by a letter, digit or underscore,
    so `f1t1` in `{{f1t1}}` or `f1t1,f1t2` is rewritten, but not in `f1t10` or `xf1t1`.
    """
    token = re.compile(rf"(?<![0-9A-Za-z_])f{source_bot}[tsv][0-9]+(?![0-9A-Za-z_])")

    def in_text(text: str) -> str:
        return token.sub(lambda match: ids.get(match.group(0), match.group(0)), text)

    def rewrite(value: Any) -> Any:
        if isinstance(value, str):
            return in_text(value)
        if isinstance(value, list):
            return [rewrite(item) for item in value]
        if isinstance(value, dict):
            return {
                (in_text(key) if isinstance(key, str) else key): rewrite(item)
                for key, item in value.items()
            }
        return value

    return rewrite
