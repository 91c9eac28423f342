"""The selected bot's flows: the list, export and import of the whole flow document, and a
read-only diagram of one flow."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Final

from fastapi import File, Form, UploadFile
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from konversation.dashboard.pages_common import Builder, messages_of, selected_bot
from konversation.dashboard.pages_diagram import diagram
from konversation.dashboard.web import DbSession, flash, page_router, redirect, render
from konversation.errors import Invalid, KonversationError
from konversation.flows import export
from konversation.flows import service as flows
from konversation.flows.models import MAIN_FLOW_NUMBER, Flow
from konversation.ids import Kind, format_ns
from konversation.wire.errors import field_errors
from konversation.workspaces.models import Bot

router = page_router()

PAGE: Final = "/dashboard/flows"
MAIN: Final = "main"
# What an import form may hold; a bigger document is refused before it is read.
MAX_DOCUMENT_BYTES: Final = 10 * 1024 * 1024


@router.get(PAGE)
async def flow_list(request: Request, viewer: Builder, session: DbSession) -> Response:
    bot = selected_bot(viewer)
    return await _list_page(request, session, bot)


async def _list_page(
    request: Request,
    session: AsyncSession,
    bot: Bot,
    *,
    import_errors: list[str] | None = None,
    pasted: str = "",
    new_errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    found = await flows.bot_flows(session, bot.id)
    return render(
        request,
        "flows_list.html",
        {
            "bot": bot,
            "flows": [(flow, flow_ref(flow), _node_count(flow)) for flow in found],
            "import_errors": import_errors or [],
            "pasted": pasted,
            "new_errors": new_errors or [],
        },
        status_code=status_code,
    )


def flow_ref(flow: Flow) -> str:
    """How a flow is named in the dashboard's URLs: `main`, or its sub flow id."""
    if flow.number == MAIN_FLOW_NUMBER:
        return MAIN
    return format_ns(flow.bot_id, Kind.SUB_FLOW, flow.number)


async def find_flow(session: AsyncSession, bot: Bot, ref: str) -> Flow:
    """The bot's flow that `ref` (see `flow_ref`) names."""
    if ref == MAIN:
        return await flows.main_flow(session, bot.id)
    return await flows.SUB_FLOWS.by_ns(session, bot.id, ref)


def _node_count(flow: Flow) -> int:
    nodes = flow.definition.get("nodes")
    return len(nodes) if isinstance(nodes, list) else 0


@router.get(f"{PAGE}/export")
async def flow_export(viewer: Builder, session: DbSession) -> Response:
    """The bot's whole flow as the document `POST /api/flow/import` and this page take back."""
    bot = selected_bot(viewer)
    document = await export.export_flow(session, bot.id)
    body = json.dumps(document.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{export_filename(bot)}"'},
    )


def export_filename(bot: Bot) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", bot.name.lower()).strip("-") or "bot"
    return f"{slug}-f{bot.id}-flow.json"


@router.post(f"{PAGE}/new")
async def flow_new(
    request: Request, viewer: Builder, session: DbSession, name: Annotated[str, Form()] = ""
) -> Response:
    """An empty sub flow, opened in the editor."""
    bot = selected_bot(viewer)
    try:
        async with session.begin_nested():
            flow = await flows.create_flow(
                session, bot.id, name=name, published_by=viewer.user.name
            )
    except KonversationError as refused:
        return await _list_page(
            request, session, bot, new_errors=messages_of(refused), status_code=422
        )
    return redirect(request, f"{PAGE}/{flow_ref(flow)}/edit")


@router.post(f"{PAGE}/import")
async def flow_import(
    request: Request,
    viewer: Builder,
    session: DbSession,
    file: Annotated[UploadFile | None, File()] = None,
    document: Annotated[str, Form()] = "",
) -> Response:
    """Bring a flow document (uploaded or pasted) into the bot: all of it, or nothing."""
    bot = selected_bot(viewer)
    text = document
    if file is not None and file.filename:
        raw = await file.read(MAX_DOCUMENT_BYTES + 1)
        if len(raw) > MAX_DOCUMENT_BYTES:
            return await _refused(request, session, bot, ["The file is too big to import."], "")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return await _refused(request, session, bot, ["The file is not UTF-8 text."], "")
    try:
        parsed = read_document(text)
        async with session.begin_nested():
            counts = await export.import_flow(
                session, bot.id, parsed, published_by=viewer.user.name
            )
    except KonversationError as refused:
        return await _refused(request, session, bot, messages_of(refused), document)
    flash(request, f"Imported: {describe_counts(counts)}.", "success")
    return redirect(request, PAGE)


async def _refused(
    request: Request, session: AsyncSession, bot: Bot, messages: list[str], pasted: str
) -> Response:
    return await _list_page(
        request, session, bot, import_errors=messages, pasted=pasted, status_code=422
    )


def read_document(text: str) -> export.FlowDocument:
    """The flow document in `text`; Invalid naming every problem. The API's answer to
    `GET /api/flow/export` (the document under `data`) is taken as well."""
    if not text.strip():
        raise Invalid.field("document", "Choose a file or paste a flow document.")
    try:
        raw: Any = json.loads(text)
    except json.JSONDecodeError as error:
        raise Invalid.field(
            "document",
            f"The document is not valid JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}.",
        ) from None
    if isinstance(raw, dict) and "format" not in raw and isinstance(raw.get("data"), dict):
        raw = raw["data"]
    if not isinstance(raw, dict):
        raise Invalid.field("document", "The document must be a JSON object.")
    try:
        return export.FlowDocument.model_validate(raw)
    except ValidationError as refused:
        raise Invalid(field_errors(refused.errors())) from None


def describe_counts(counts: export.ImportCounts) -> str:
    parts = []
    for kind, tally in (
        ("flows", counts.flows),
        ("tags", counts.tags),
        ("user fields", counts.user_fields),
        ("bot fields", counts.bot_fields),
        ("inbound webhooks", counts.inbound_webhooks),
    ):
        if tally.created or tally.updated:
            parts.append(f"{kind} {tally.created} created, {tally.updated} updated")
    return "; ".join(parts) or "nothing new"


@router.get(PAGE + "/{ref}")
async def flow_diagram(request: Request, viewer: Builder, session: DbSession, ref: str) -> Response:
    bot = selected_bot(viewer)
    flow = await find_flow(session, bot, ref)
    definition = flow.definition
    triggers = definition.get("triggers")
    return render(
        request,
        "flows_diagram.html",
        {
            "bot": bot,
            "flow": flow,
            "ref": flow_ref(flow),
            "start": definition.get("start"),
            "triggers": triggers if isinstance(triggers, list) else [],
            "picture": diagram(definition),
        },
    )
