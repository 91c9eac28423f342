"""Tags, user fields and bot fields of the selected bot: list, create, rename, delete."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from typing import Annotated, Any, Final

from fastapi import Form
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from konversation.dashboard.pages_common import Builder, messages_of, selected_bot
from konversation.dashboard.web import DbSession, flash, page_router, redirect, render
from konversation.errors import KonversationError, NotFound
from konversation.flows import service as flows
from konversation.flows.catalog import Catalog
from konversation.flows.models import Field, FieldScope, Tag, VarType
from konversation.ids import Kind, format_ns

router = page_router()

PAGE: Final = "/dashboard/tags"
SCOPES: Final = {FieldScope.USER.value: flows.USER_FIELDS, FieldScope.BOT.value: flows.BOT_FIELDS}
SECTION: Final = {FieldScope.USER.value: "user-fields", FieldScope.BOT.value: "bot-fields"}

Text = Annotated[str, Form()]


@router.get(PAGE)
async def tags_and_fields(request: Request, viewer: Builder, session: DbSession) -> Response:
    bot = selected_bot(viewer)
    return render(
        request,
        "fields_list.html",
        {
            "bot": bot,
            "tags": await flows.TAGS.all(session, bot.id),
            "user_fields": await flows.USER_FIELDS.all(session, bot.id),
            "bot_fields": await flows.BOT_FIELDS.all(session, bot.id),
            "var_types": [t.value for t in VarType],
            "ns": lambda item: _ns(bot.id, item),
            "shown": shown_value,
        },
    )


def shown_value(value: Any) -> str:
    """A stored field value as a person types it: text as it is, anything else as JSON."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _ns(bot_id: int, item: Tag | Field) -> str:
    return format_ns(bot_id, Kind.TAG if isinstance(item, Tag) else Kind.FIELD, item.number)


# Tags


@router.post(f"{PAGE}/create")
async def create_tag(
    request: Request, viewer: Builder, session: DbSession, name: Text = ""
) -> Response:
    bot = selected_bot(viewer)
    return await _change(
        request,
        session,
        flows.create_tag(session, bot.id, name=name),
        f'Tag "{name.strip()}" created.',
        "tags",
    )


@router.post(PAGE + "/{tag_ns}/rename")
async def rename_tag(
    request: Request, viewer: Builder, session: DbSession, tag_ns: str, name: Text = ""
) -> Response:
    bot = selected_bot(viewer)
    tag = await flows.TAGS.by_ns(session, bot.id, tag_ns)
    old = tag.name
    return await _change(
        request,
        session,
        flows.rename(session, flows.TAGS, bot.id, tag, name),
        f'Tag "{old}" renamed to "{name.strip()}".',
        "tags",
    )


@router.post(PAGE + "/{tag_ns}/delete")
async def delete_tag(
    request: Request, viewer: Builder, session: DbSession, tag_ns: str
) -> Response:
    bot = selected_bot(viewer)
    tag = await flows.TAGS.by_ns(session, bot.id, tag_ns)
    return await _change(
        request, session, flows.delete(session, tag), f'Tag "{tag.name}" deleted.', "tags"
    )


# User fields and bot fields


@router.post("/dashboard/fields/{scope}/create")
async def create_field(
    request: Request,
    viewer: Builder,
    session: DbSession,
    scope: str,
    name: Text = "",
    var_type: Text = VarType.TEXT.value,
    description: Text = "",
    value: Text = "",
) -> Response:
    bot = selected_bot(viewer)
    catalog = _catalog(scope)
    made = flows.create_field(
        session,
        bot.id,
        scope=FieldScope(scope),
        name=name,
        var_type=var_type,
        description=description.strip(),
        value=_typed_input(value),
    )
    return await _change(
        request, session, made, f'{catalog.label} "{name.strip()}" created.', SECTION[scope]
    )


@router.post("/dashboard/fields/{scope}/{var_ns}/rename")
async def rename_field(
    request: Request, viewer: Builder, session: DbSession, scope: str, var_ns: str, name: Text = ""
) -> Response:
    bot = selected_bot(viewer)
    catalog = _catalog(scope)
    field = await catalog.by_ns(session, bot.id, var_ns)
    old = field.name
    return await _change(
        request,
        session,
        flows.rename(session, catalog, bot.id, field, name),
        f'{catalog.label} "{old}" renamed to "{name.strip()}".',
        SECTION[scope],
    )


@router.post("/dashboard/fields/bot/{var_ns}/value")
async def set_bot_field(
    request: Request, viewer: Builder, session: DbSession, var_ns: str, value: Text = ""
) -> Response:
    bot = selected_bot(viewer)
    field = await flows.BOT_FIELDS.by_ns(session, bot.id, var_ns)
    return await _change(
        request,
        session,
        flows.set_bot_field(session, bot.id, var_ns=var_ns, value=_typed_input(value)),
        f'Bot field "{field.name}" saved.',
        SECTION[FieldScope.BOT.value],
    )


@router.post("/dashboard/fields/{scope}/{var_ns}/delete")
async def delete_field(
    request: Request, viewer: Builder, session: DbSession, scope: str, var_ns: str
) -> Response:
    bot = selected_bot(viewer)
    catalog = _catalog(scope)
    field = await catalog.by_ns(session, bot.id, var_ns)
    return await _change(
        request,
        session,
        flows.delete(session, field),
        f'{catalog.label} "{field.name}" deleted.',
        SECTION[scope],
    )


def _catalog(scope: str) -> Catalog[Field]:
    if scope not in SCOPES:
        raise NotFound("Page not found")
    return SCOPES[scope]


def _typed_input(value: str) -> Any:
    """A bot field's value as typed in the form: blank is no value; the field's type reads the
    text (numbers, dates, yes/no) when it is stored."""
    return value if value.strip() else None


async def _change(
    request: Request, session: AsyncSession, change: Awaitable[object], done: str, section: str
) -> Response:
    """Run `change` (a service call) and go back to the list, saying how it went. A refusal is
    rolled back, so nothing of it is stored."""
    try:
        async with session.begin_nested():
            await change
    except KonversationError as refused:
        for message in messages_of(refused):
            flash(request, message, "error")
    else:
        flash(request, done, "success")
    return redirect(request, f"{PAGE}#{section}")
