"""The Flow, Flow Tag, Flow User Field and Flow Bot Field groups of the Connect API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from konversation.flows import export, service, versions
from konversation.flows import format as flow_format
from konversation.flows.models import FieldScope
from konversation.flows.service import BOT_FIELDS, SUB_FLOWS, TAGS, USER_FIELDS
from konversation.flows.wire import (
    AudioTranscriptionIn,
    BotFieldOut,
    BotUsersCountOut,
    CreateBotFieldIn,
    CreateTagIn,
    CreateUserFieldIn,
    InboundWebhookOut,
    NameIn,
    SetBotFieldByNameIn,
    SetBotFieldIn,
    SetBotFieldsByNameIn,
    SetBotFieldsIn,
    StartFlowIn,
    SubFlowNsIn,
    SubFlowOut,
    TagNsIn,
    TagOut,
    TemplateInstallOut,
    UserFieldOut,
    VarNsIn,
)
from konversation.keys.models import ApiKey
from konversation.subscribers.service import count_by_status
from konversation.wire import envelope
from konversation.wire.auth import ManageFlow
from konversation.wire.envelope import DataOut, ListOut, OkOut, PageOut
from konversation.wire.errors import wire_errors
from konversation.wire.params import PageParams
from konversation.wire.session import Session
from konversation.workspaces.service import list_members
from konversation.workspaces.wire import AgentOut, RoleFilter

router = APIRouter()

READ = wire_errors(401, 403, 404, 422)
WRITE = wire_errors(401, 403, 404, 422)
# A create can lose a race for a unique name to a concurrent create.
CREATE = wire_errors(401, 403, 404, 409, 422)
BULK = wire_errors(400, 401, 403, 404, 422)
NameFilter = Annotated[str | None, Query(description="Only items whose name contains this text.")]


# Flow


@router.get("/flow/subflows", tags=["Flow"], responses=READ, summary="List sub flows")
async def flow_subflows(
    key: ManageFlow, session: Session, paging: PageParams, name: NameFilter = None
) -> PageOut[SubFlowOut]:
    items, total = await SUB_FLOWS.page(session, key.bot_id, name=name, window=paging)
    return envelope.page([SubFlowOut.of(f) for f in items], total=total, window=paging)


@router.delete("/flow/delete-sub-flow", tags=["Flow"], responses=WRITE, summary="Delete a sub flow")
async def flow_delete_sub_flow(body: SubFlowNsIn, key: ManageFlow, session: Session) -> OkOut:
    await service.delete_sub_flow(session, key.bot_id, sub_flow_ns=body.sub_flow_ns)
    return envelope.ok()


@router.get(
    "/flow/bot-users-count",
    tags=["Flow"],
    responses=READ,
    summary="Count subscribers by conversation status",
)
async def flow_bot_users_count(key: ManageFlow, session: Session) -> ListOut[BotUsersCountOut]:
    counts = await count_by_status(session, key.bot_id)
    return ListOut(data=[BotUsersCountOut(status=s.value, num=n) for s, n in counts.items()])


@router.get("/flow/agents", tags=["Flow"], responses=READ, summary="List the bot's agents")
async def flow_agents(
    key: ManageFlow,
    session: Session,
    paging: PageParams,
    name: NameFilter = None,
    role: RoleFilter = None,
) -> PageOut[AgentOut]:
    members, total = await list_members(
        session, key.workspace_id, name=name, role=role, window=paging
    )
    return envelope.page([AgentOut.of(m) for m in members], total=total, window=paging)


@router.get(
    "/flow/template-installs", tags=["Flow"], responses=READ, summary="List installed templates"
)
async def flow_template_installs(
    key: ManageFlow, session: Session, paging: PageParams
) -> PageOut[TemplateInstallOut]:
    items, total = await service.list_template_installs(session, key.bot_id, window=paging)
    return envelope.page(
        [TemplateInstallOut.of(i, key.workspace_id) for i in items], total=total, window=paging
    )


@router.post(
    "/flow/set-default-start-flow",
    tags=["Flow"],
    responses=WRITE,
    summary="Choose the flow new conversations start in",
)
async def flow_set_default_start_flow(
    body: StartFlowIn, key: ManageFlow, session: Session
) -> OkOut:
    await service.set_default_start_flow(session, key.bot_id, sub_flow_ns=body.sub_flow_ns)
    return envelope.ok()


@router.post(
    "/flow/set-web-chat-widget-default-start-flow",
    tags=["Flow"],
    responses=WRITE,
    summary="Choose the flow web chat conversations start in",
)
async def flow_set_web_chat_widget_default_start_flow(
    body: StartFlowIn, key: ManageFlow, session: Session
) -> OkOut:
    await service.set_default_start_flow(
        session, key.bot_id, sub_flow_ns=body.sub_flow_ns, web_chat=True
    )
    return envelope.ok()


@router.post(
    "/flow/settings/set-audio-transcription",
    tags=["Flow"],
    responses=WRITE,
    summary="Choose how voice messages are transcribed",
)
async def flow_set_audio_transcription(
    body: AudioTranscriptionIn, key: ManageFlow, session: Session
) -> OkOut:
    await service.set_audio_transcription(session, key.bot_id, stt_model=body.stt_model)
    return envelope.ok()


@router.get(
    "/flow/inbound-webhooks", tags=["Flow"], responses=READ, summary="List inbound webhooks"
)
async def flow_inbound_webhooks(
    request: Request, key: ManageFlow, session: Session, paging: PageParams, name: NameFilter = None
) -> PageOut[InboundWebhookOut]:
    items, total = await service.list_inbound_webhooks(
        session, key.bot_id, name=name, window=paging
    )
    base_url = str(request.base_url).rstrip("/")
    return envelope.page(
        [InboundWebhookOut.of(h, base_url) for h in items], total=total, window=paging
    )


# Flow Tag


@router.get("/flow/tags", tags=["Flow Tag"], responses=READ, summary="List tags")
async def flow_tags(
    key: ManageFlow, session: Session, paging: PageParams, name: NameFilter = None
) -> PageOut[TagOut]:
    items, total = await TAGS.page(session, key.bot_id, name=name, window=paging)
    return envelope.page([TagOut.of(t) for t in items], total=total, window=paging)


@router.post("/flow/create-tag", tags=["Flow Tag"], responses=CREATE, summary="Create a tag")
async def flow_create_tag(body: CreateTagIn, key: ManageFlow, session: Session) -> DataOut[TagOut]:
    return envelope.one(TagOut.of(await service.create_tag(session, key.bot_id, name=body.name)))


@router.delete("/flow/delete-tag", tags=["Flow Tag"], responses=WRITE, summary="Delete a tag")
async def flow_delete_tag(body: TagNsIn, key: ManageFlow, session: Session) -> OkOut:
    await service.delete(session, await TAGS.by_ns(session, key.bot_id, body.tag_ns))
    return envelope.ok()


@router.delete(
    "/flow/delete-tag-by-name", tags=["Flow Tag"], responses=WRITE, summary="Delete a tag by name"
)
async def flow_delete_tag_by_name(body: NameIn, key: ManageFlow, session: Session) -> OkOut:
    await service.delete(session, await TAGS.by_name(session, key.bot_id, body.name))
    return envelope.ok()


# Flow User Field


@router.get(
    "/flow/user-fields", tags=["Flow User Field"], responses=READ, summary="List user fields"
)
async def flow_user_fields(
    key: ManageFlow, session: Session, paging: PageParams, name: NameFilter = None
) -> PageOut[UserFieldOut]:
    items, total = await USER_FIELDS.page(session, key.bot_id, name=name, window=paging)
    return envelope.page([UserFieldOut.of(f) for f in items], total=total, window=paging)


@router.post(
    "/flow/create-user-field",
    tags=["Flow User Field"],
    responses=CREATE,
    summary="Create a user field",
)
async def flow_create_user_field(
    body: CreateUserFieldIn, key: ManageFlow, session: Session
) -> DataOut[UserFieldOut]:
    field = await service.create_field(
        session,
        key.bot_id,
        scope=FieldScope.USER,
        name=body.name,
        var_type=body.var_type,
        description=body.description,
    )
    return envelope.one(UserFieldOut.of(field))


@router.delete(
    "/flow/delete-user-field",
    tags=["Flow User Field"],
    responses=WRITE,
    summary="Delete a user field",
)
async def flow_delete_user_field(body: VarNsIn, key: ManageFlow, session: Session) -> OkOut:
    await service.delete(session, await USER_FIELDS.by_ns(session, key.bot_id, body.var_ns))
    return envelope.ok()


@router.delete(
    "/flow/delete-user-field-by-name",
    tags=["Flow User Field"],
    responses=WRITE,
    summary="Delete a user field by name",
)
async def flow_delete_user_field_by_name(body: NameIn, key: ManageFlow, session: Session) -> OkOut:
    await service.delete(session, await USER_FIELDS.by_name(session, key.bot_id, body.name))
    return envelope.ok()


# Flow Bot Field


@router.get("/flow/bot-fields", tags=["Flow Bot Field"], responses=READ, summary="List bot fields")
async def flow_bot_fields(
    key: ManageFlow, session: Session, paging: PageParams, name: NameFilter = None
) -> PageOut[BotFieldOut]:
    items, total = await BOT_FIELDS.page(session, key.bot_id, name=name, window=paging)
    return envelope.page([BotFieldOut.of(f) for f in items], total=total, window=paging)


@router.post(
    "/flow/create-bot-field",
    tags=["Flow Bot Field"],
    responses=CREATE,
    summary="Create a bot field",
)
async def flow_create_bot_field(
    body: CreateBotFieldIn, key: ManageFlow, session: Session
) -> DataOut[BotFieldOut]:
    field = await service.create_field(
        session,
        key.bot_id,
        scope=FieldScope.BOT,
        name=body.name,
        var_type=body.var_type,
        description=body.description,
        value=body.value,
    )
    return envelope.one(BotFieldOut.of(field))


@router.put(
    "/flow/set-bot-field", tags=["Flow Bot Field"], responses=WRITE, summary="Set a bot field"
)
async def flow_set_bot_field(
    body: SetBotFieldIn, key: ManageFlow, session: Session
) -> DataOut[BotFieldOut]:
    field = await service.set_bot_field(session, key.bot_id, var_ns=body.var_ns, value=body.value)
    return envelope.one(BotFieldOut.of(field))


@router.put(
    "/flow/set-bot-field-by-name",
    tags=["Flow Bot Field"],
    responses=WRITE,
    summary="Set a bot field by name",
)
async def flow_set_bot_field_by_name(
    body: SetBotFieldByNameIn, key: ManageFlow, session: Session
) -> DataOut[BotFieldOut]:
    field = await service.set_bot_field_by_name(
        session, key.bot_id, name=body.name, value=body.value
    )
    return envelope.one(BotFieldOut.of(field))


@router.put(
    "/flow/set-bot-fields",
    tags=["Flow Bot Field"],
    responses=BULK,
    summary="Set up to 20 bot fields at once",
)
async def flow_set_bot_fields(body: SetBotFieldsIn, key: ManageFlow, session: Session) -> OkOut:
    await service.set_bot_fields(session, key.bot_id, body.items(), by="var_ns")
    return envelope.ok()


@router.put(
    "/flow/set-bot-fields-by-name",
    tags=["Flow Bot Field"],
    responses=BULK,
    summary="Set up to 20 bot fields at once, by name",
)
async def flow_set_bot_fields_by_name(
    body: SetBotFieldsByNameIn, key: ManageFlow, session: Session
) -> OkOut:
    await service.set_bot_fields(session, key.bot_id, body.items(), by="name")
    return envelope.ok()


@router.delete(
    "/flow/delete-bot-field", tags=["Flow Bot Field"], responses=WRITE, summary="Delete a bot field"
)
async def flow_delete_bot_field(body: VarNsIn, key: ManageFlow, session: Session) -> OkOut:
    await service.delete(session, await BOT_FIELDS.by_ns(session, key.bot_id, body.var_ns))
    return envelope.ok()


@router.delete(
    "/flow/delete-bot-field-by-name",
    tags=["Flow Bot Field"],
    responses=WRITE,
    summary="Delete a bot field by name",
)
async def flow_delete_bot_field_by_name(body: NameIn, key: ManageFlow, session: Session) -> OkOut:
    await service.delete(session, await BOT_FIELDS.by_name(session, key.bot_id, body.name))
    return envelope.ok()


# Flow: the whole flow as one document

IMPORT_EXAMPLE = {
    "format": "konversation.flow",
    "version": 1,
    "bot": {
        "name": "Acme bot",
        "flow_ns": "f1",
        "start_flow": "f1s1",
        "web_chat_start_flow": "main",
        "stt_model": "none",
    },
    "flows": [
        {
            "name": "Main flow",
            "kind": "main",
            "sub_flow_ns": None,
            "definition": {"version": 1, "start": None, "nodes": []},
        },
        {
            "name": "Welcome",
            "kind": "sub",
            "sub_flow_ns": "f1s1",
            "definition": {
                "version": 1,
                "start": "n1",
                "nodes": [
                    {
                        "id": "n1",
                        "type": "send_message",
                        "messages": [{"type": "text", "text": "Hi! Your colour: {{f1v1}}"}],
                        "next": "n2",
                    },
                    {
                        "id": "n2",
                        "type": "action",
                        "actions": [{"type": "add_tag", "tag_ns": "f1t1"}],
                    },
                ],
            },
        },
    ],
    "tags": [{"name": "VIP", "tag_ns": "f1t1"}],
    "user_fields": [
        {"name": "Favourite colour", "var_ns": "f1v1", "var_type": "text", "description": ""}
    ],
    "bot_fields": [
        {
            "name": "opening_hours",
            "var_ns": "f1v2",
            "var_type": "text",
            "description": "",
            "value": "9:00 to 17:00",
        }
    ],
    "inbound_webhooks": [{"name": "New order", "sub_flow_ns": "f1s1", "status": "active"}],
}


@router.get(
    "/flow/export",
    tags=["Flow"],
    responses=wire_errors(401, 403, 404),
    summary="Export the bot's whole flow as one document",
    description=(
        "The bot's flow settings, main flow, sub flows with their definitions, tags, user "
        "fields, bot fields with their values and inbound webhooks, as one versioned document "
        "(`format` `konversation.flow`, `version` 1). Send `data` back to `POST /flow/import`."
    ),
)
async def flow_export(key: ManageFlow, session: Session) -> DataOut[export.FlowDocument]:
    return envelope.one(await export.export_flow(session, key.bot_id))


@router.post(
    "/flow/import",
    tags=["Flow"],
    responses=wire_errors(401, 403, 404, 409, 422),
    summary="Import a flow document into the bot",
    description=(
        "Checks the whole document first and applies all of it or nothing. Items are matched "
        "by name: missing tags, fields, sub flows and webhooks are created, existing ones "
        "updated, nothing is deleted, and the main flow's definition is replaced. The document "
        "may come from another bot: the source bot's ids (`bot.flow_ns`) in the definitions "
        "and start flows are rewritten to this bot's ids."
    ),
)
async def flow_import(
    document: Annotated[
        export.FlowDocument,
        Body(openapi_examples={"document": {"summary": "A small bot", "value": IMPORT_EXAMPLE}}),
    ],
    key: ManageFlow,
    session: Session,
) -> DataOut[export.ImportCounts]:
    caller = await session.get(ApiKey, key.key_id)
    # The flows' new versions are published by the key, named as its owner named it.
    published_by = caller.name if caller is not None else versions.IMPORT
    return envelope.one(
        await export.import_flow(session, key.bot_id, document, published_by=published_by)
    )


@router.get(
    "/flow/schema",
    tags=["Flow"],
    responses=wire_errors(401, 403, 404),
    summary="The JSON Schema of a flow document",
    description=(
        "The shape of a flow's `definition` (version 1): its nodes, their fields and their "
        "ports, with every limit. Rules across nodes are checked on top: node ids are unique, "
        "ports name existing nodes, workflows hold no send_message or user_input nodes, and "
        "only function flows return an output."
    ),
)
async def flow_schema(key: ManageFlow) -> DataOut[dict[str, Any]]:
    return envelope.one(flow_format.flow_schema())
