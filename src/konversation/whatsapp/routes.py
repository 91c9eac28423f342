"""The Whatsapp Template group, and the Sending group's two template sends (bot-level keys)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from konversation.channels.models import ChannelType
from konversation.subscribers import service as subscribers
from konversation.whatsapp import service
from konversation.whatsapp.service import GraphAccess, TemplateSend
from konversation.whatsapp.wire import (
    SendTemplateByUserIdIn,
    SendTemplateIn,
    TemplateContentIn,
    TemplateNameIn,
    WhatsAppTemplateIn,
    WhatsAppTemplateOut,
)
from konversation.wire import envelope
from konversation.wire.auth import ManageFlow
from konversation.wire.envelope import DataOut, OkOut, PageOut
from konversation.wire.errors import wire_errors
from konversation.wire.params import PageParams
from konversation.wire.session import Session

router = APIRouter()

READ = wire_errors(401, 403, 422)
META = wire_errors(400, 401, 403, 404, 422)
META_NOTE = " 400 when the bot has no WhatsApp number connected or Meta refuses the call."


def _graph(request: Request) -> GraphAccess:
    runtime = request.app.state.runtime
    return GraphAccess(runtime.http, runtime.settings.graph_api_base)


Graph = Annotated[GraphAccess, Depends(_graph)]


@router.post(
    "/whatsapp-template/list",
    tags=["Whatsapp Template"],
    responses=READ,
    summary="List the bot's WhatsApp templates",
    description="As stored here, with Meta's status; `sync` reads them from Meta again.",
)
async def list_templates(
    key: ManageFlow,
    session: Session,
    paging: PageParams,
    name: Annotated[str | None, Query(description="Only templates whose name has this.")] = None,
) -> PageOut[WhatsAppTemplateOut]:
    found, total = await service.list_templates(session, key.bot_id, name=name, window=paging)
    return envelope.page([WhatsAppTemplateOut.of(t) for t in found], total=total, window=paging)


@router.post(
    "/whatsapp-template/create",
    tags=["Whatsapp Template"],
    responses=META,
    summary="Submit a WhatsApp template",
    description="Meta reviews it; it can be sent once approved." + META_NOTE,
)
async def create_template(
    body: WhatsAppTemplateIn, key: ManageFlow, session: Session, graph: Graph
) -> DataOut[WhatsAppTemplateOut]:
    template = await service.create_template(
        session,
        key.bot_id,
        graph,
        name=body.name,
        language=body.language,
        category=body.category,
        components=[c.model_dump(exclude_none=True) for c in body.components],
    )
    return envelope.one(WhatsAppTemplateOut.of(template))


@router.delete(
    "/whatsapp-template/delete",
    tags=["Whatsapp Template"],
    responses=META,
    summary="Delete a WhatsApp template",
    description="In every language, at Meta and here; 404 for a name not stored." + META_NOTE,
)
async def delete_template(
    body: TemplateNameIn, key: ManageFlow, session: Session, graph: Graph
) -> OkOut:
    await service.delete_template(session, key.bot_id, graph, name=body.name)
    return envelope.ok()


@router.post(
    "/whatsapp-template/sync",
    tags=["Whatsapp Template"],
    responses=wire_errors(400, 401, 403, 409, 422),
    summary="Read the templates from Meta",
    description="Every template of the business account with its status; those Meta no "
    "longer has are forgotten. Answers their `count`." + META_NOTE,
)
async def sync_templates(key: ManageFlow, session: Session, graph: Graph) -> OkOut:
    count = await service.sync_templates(session, key.bot_id, graph)
    return envelope.ok(count=count)


SEND_NOTE = (
    "An approved template, sent at once, also outside the 24-hour window. 404 for an unknown "
    "template (name and lang); 422 for a missing parameter (named), a template not approved, "
    "or a subscriber without a WhatsApp number." + META_NOTE
)


def _send(content: TemplateContentIn) -> TemplateSend:
    return TemplateSend(content.name, content.lang, content.params.values())


@router.post(
    "/subscriber/send-whatsapp-template",
    tags=["Sending"],
    responses=META,
    summary="Send a WhatsApp template",
    description=SEND_NOTE,
)
async def send_template(
    body: SendTemplateIn, key: ManageFlow, session: Session, graph: Graph
) -> OkOut:
    subscriber = await subscribers.get_subscriber(session, key.bot_id, body.user_ns)
    await service.send_template(session, key.bot_id, graph, subscriber, _send(body.content))
    return envelope.ok()


@router.post(
    "/subscriber/send-whatsapp-template-by-user-id",
    tags=["Sending"],
    responses=META,
    summary="Send a WhatsApp template to a number",
    description="The subscriber named by their WhatsApp number; `create_if_not_found: yes` "
    "makes one of a new number. " + SEND_NOTE,
)
async def send_template_by_user_id(
    body: SendTemplateByUserIdIn, key: ManageFlow, session: Session, graph: Graph
) -> OkOut:
    number = body.user_id.strip().lstrip("+")
    subscriber = await subscribers.find_on_channel(
        session, key.bot_id, ChannelType.WHATSAPP, number
    )
    if subscriber is None and (body.create_if_not_found or "").strip().lower() == "yes":
        subscriber = await subscribers.create_on_channel(
            session, key.bot_id, channel=ChannelType.WHATSAPP, user_id=number
        )
    if subscriber is None:
        subscriber = await subscribers.get_by_user_id(session, key.bot_id, number)
    await service.send_template(session, key.bot_id, graph, subscriber, _send(body.content))
    return envelope.ok()
