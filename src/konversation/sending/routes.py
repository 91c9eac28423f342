"""The Sending group: emails, SMS, texts, content, flows and nodes to one subscriber, and
broadcasts of a sub flow to many."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from konversation.runtime.engine import Engine
from konversation.sending import broadcasts, service
from konversation.sending.email import SmtpConfig
from konversation.sending.models import Broadcast
from konversation.sending.sms import SmsGatewayConfig
from konversation.sending.wire import (
    BroadcastBySegmentIn,
    BroadcastByTagIn,
    BroadcastByUserIdIn,
    BroadcastByUserNsIn,
    BroadcastOut,
    BroadcastQueuedOut,
    SendContentIn,
    SendEmailIn,
    SendMainFlowIn,
    SendNodeIn,
    SendSmsIn,
    SendSubFlowByFlowNameIn,
    SendSubFlowByUserIdIn,
    SendSubFlowIn,
    SendTextIn,
)
from konversation.settings import Settings
from konversation.wire import envelope
from konversation.wire.auth import ManageFlow
from konversation.wire.envelope import DataOut, OkOut
from konversation.wire.errors import wire_errors
from konversation.wire.session import Session

router = APIRouter(tags=["Sending"])

SEND = wire_errors(400, 401, 403, 404, 422)
DELIVER = wire_errors(401, 403, 404, 422)
REFUSALS = (
    "422 (on `user_ns`) when the subscriber has unsubscribed from the bot, has no {address} "
    "or has not opted in to {kind}. 400 when the server has no {kind} service configured, "
    "or when it refused the message or could not be reached."
)


def _smtp(request: Request) -> SmtpConfig | None:
    settings: Settings = request.app.state.settings
    if not (settings.smtp_host and settings.smtp_from):
        return None
    password = settings.smtp_password
    return SmtpConfig(
        host=settings.smtp_host,
        sender=settings.smtp_from,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=password.get_secret_value() if password else None,
        starttls=settings.smtp_starttls,
    )


def _sms_gateway(request: Request) -> SmsGatewayConfig | None:
    settings: Settings = request.app.state.settings
    if not settings.sms_gateway_url:
        return None
    token = settings.sms_gateway_token
    return SmsGatewayConfig(
        url=settings.sms_gateway_url,
        token=token.get_secret_value() if token else None,
        sender=settings.sms_sender,
    )


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.runtime.engine
    return engine


Smtp = Annotated[SmtpConfig | None, Depends(_smtp)]
SmsGateway = Annotated[SmsGatewayConfig | None, Depends(_sms_gateway)]
FlowEngine = Annotated[Engine, Depends(_engine)]

UNSUBSCRIBED = "422 (on `user_ns`) when the subscriber has unsubscribed from the bot"
NOT_RUNNABLE = (
    UNSUBSCRIBED + " or the bot is paused for them, or is on WhatsApp and has not written in "
    "24 hours while the flow does not open with a `whatsapp_template` node"
)
DELIVERED = (
    " The messages go to the channel the subscriber last wrote from, after the call succeeds."
)


@router.post(
    "/subscriber/send-email",
    responses=SEND,
    summary="Email the subscriber",
    description="A plain-text email, logged as a message from the bot. "
    + REFUSALS.format(address="email address", kind="email"),
)
async def send_email(body: SendEmailIn, key: ManageFlow, session: Session, smtp: Smtp) -> OkOut:
    await service.send_email(
        session,
        key.bot_id,
        user_ns=body.user_ns,
        content=body.content,
        subject=body.subject,
        smtp=smtp,
    )
    return envelope.ok()


@router.post(
    "/subscriber/send-sms",
    responses=SEND,
    summary="Text the subscriber",
    description="An SMS to the subscriber's phone, logged as a message from the bot. "
    + REFUSALS.format(address="phone number", kind="SMS"),
)
async def send_sms(
    body: SendSmsIn, key: ManageFlow, session: Session, gateway: SmsGateway
) -> OkOut:
    await service.send_sms(
        session, key.bot_id, user_ns=body.user_ns, content=body.content, gateway=gateway
    )
    return envelope.ok()


@router.post(
    "/subscriber/send-text",
    responses=DELIVER,
    summary="Send the subscriber a text",
    description="A text from the bot, sent as written. It goes out while the bot is paused "
    f"for the subscriber (agents keep talking then). {UNSUBSCRIBED}.{DELIVERED}",
)
async def send_text(
    body: SendTextIn, key: ManageFlow, session: Session, engine: FlowEngine
) -> OkOut:
    await service.send_text(session, engine, key.bot_id, user_ns=body.user_ns, content=body.content)
    return envelope.ok()


@router.post(
    "/subscriber/send-content",
    responses=DELIVER,
    summary="Send the subscriber dynamic content",
    description="Messages (text, image, file, audio, video, cards) with buttons and quick "
    "replies, actions on tags and user fields (done first), and a `goto` node to go on at. "
    "Node targets are node ids (`f1n3`) or node names. Tags and fields are named and must "
    "exist. Texts are sent as written. A `dynamic_block_callback` quick reply is refused; a "
    "`url` quick reply becomes a link button of the last message. "
    f"{NOT_RUNNABLE} (unless sent as an agent, without `goto`).{DELIVERED}",
)
async def send_content(
    body: SendContentIn, key: ManageFlow, session: Session, engine: FlowEngine
) -> OkOut:
    await service.send_content(
        session,
        engine,
        key.bot_id,
        user_ns=body.user_ns,
        content=body.data,
        as_agent=bool(body.send_as_agent),
    )
    return envelope.ok()


@router.post(
    "/subscriber/send-sub-flow",
    responses=DELIVER,
    summary="Start a sub flow for the subscriber",
    description=f"The flow runs until it waits or ends. {NOT_RUNNABLE}.{DELIVERED}",
)
async def send_sub_flow(
    body: SendSubFlowIn, key: ManageFlow, session: Session, engine: FlowEngine
) -> OkOut:
    await service.send_sub_flow(
        session, engine, key.bot_id, user_ns=body.user_ns, sub_flow_ns=body.sub_flow_ns
    )
    return envelope.ok()


@router.post(
    "/subscriber/send-sub-flow-by-flow-name",
    responses=DELIVER,
    summary="Start a sub flow, named, for the subscriber",
    description="The sub flow of that name (the oldest, if names repeat). `variables` are "
    "available to the flow's texts as `{{name}}`. "
    f"{NOT_RUNNABLE}.{DELIVERED}",
)
async def send_sub_flow_by_flow_name(
    body: SendSubFlowByFlowNameIn, key: ManageFlow, session: Session, engine: FlowEngine
) -> OkOut:
    await service.send_sub_flow_by_flow_name(
        session,
        engine,
        key.bot_id,
        user_ns=body.user_ns,
        flow_name=body.flow_name,
        variables=body.variables,
    )
    return envelope.ok()


@router.post(
    "/subscriber/send-sub-flow-by-user-id",
    responses=DELIVER,
    summary="Start a sub flow for the subscriber with this channel id",
    description="The subscriber is named by their id on their channel (a phone's `+` is "
    "ignored). Other keys in the body are ignored. 422 (on `user_id`) when the subscriber has "
    f"unsubscribed or the bot is paused for them.{DELIVERED}",
)
async def send_sub_flow_by_user_id(
    body: SendSubFlowByUserIdIn, key: ManageFlow, session: Session, engine: FlowEngine
) -> OkOut:
    await service.send_sub_flow_by_user_id(
        session, engine, key.bot_id, user_id=body.user_id, sub_flow_ns=body.sub_flow_ns
    )
    return envelope.ok()


@router.post(
    "/subscriber/send-main-flow",
    responses=DELIVER,
    summary="Start the main flow for the subscriber",
    description=f"{NOT_RUNNABLE}.{DELIVERED}",
)
async def send_main_flow(
    body: SendMainFlowIn, key: ManageFlow, session: Session, engine: FlowEngine
) -> OkOut:
    await service.send_main_flow(session, engine, key.bot_id, user_ns=body.user_ns)
    return envelope.ok()


@router.post(
    "/subscriber/send-node",
    responses=DELIVER,
    summary="Run a flow from one of its nodes for the subscriber",
    description="`node_ns` (`f1n3`) names a node of any of the bot's flows; that flow runs "
    f"from the node on. {NOT_RUNNABLE}.{DELIVERED}",
)
async def send_node(
    body: SendNodeIn, key: ManageFlow, session: Session, engine: FlowEngine
) -> OkOut:
    await service.send_node(session, engine, key.bot_id, user_ns=body.user_ns, node_ns=body.node_ns)
    return envelope.ok()


# Broadcasts

BROADCAST = (
    "The broadcast is stored and runs in the background: the answer's `broadcast_id` follows "
    "it with `GET /subscriber/broadcast-status`. Each recipient gets the sub flow once, at "
    "most `max_per_minute` (default 60) a minute, from `scheduled_time` (unix seconds; now "
    "when empty or past). Recipients unsubscribed or paused when their turn comes are "
    "skipped. `user_fields` (up to 10) are set on each recipient first; `bot_fields` (up to "
    "10) once, when it starts. `type` WHATSAPP_TEMPLATE reaches WhatsApp subscribers who "
    "have not written in 24 hours only through a sub flow that opens with a "
    "`whatsapp_template` node (422 on `sub_flow_ns` when its template is unknown or not "
    "approved); with another sub flow they are skipped, as WhatsApp would refuse its "
    "messages. EMAIL, SMS and FACEBOOK_NOTIFICATION are kept as given and change nothing: "
    "the sub flow goes out on each recipient's channel. 404 for an unknown sub flow."
)


def _queued(broadcast: Broadcast) -> BroadcastQueuedOut:
    return BroadcastQueuedOut(broadcast_id=broadcast.id, total=broadcasts.total(broadcast))


@router.post(
    "/subscriber/broadcast",
    responses=DELIVER,
    summary="Broadcast a sub flow to listed subscribers",
    description="`user_ns_list` names up to 200 subscribers, comma-separated; those that do "
    "not exist are left out (`total` counts the others), and 404 when none exists. " + BROADCAST,
)
async def broadcast(
    body: BroadcastByUserNsIn, key: ManageFlow, session: Session
) -> BroadcastQueuedOut:
    made = await broadcasts.broadcast_to_subscribers(
        session, key.bot_id, body.user_ns_list, body.request()
    )
    return _queued(made)


@router.post(
    "/subscriber/broadcast-by-user-id",
    responses=DELIVER,
    summary="Broadcast a sub flow to subscribers by channel id",
    description="`user_id_list` names up to 200 subscribers by their channel ids, "
    "comma-separated; those that do not exist are left out (`total` counts the others), and "
    "404 when none exists. " + BROADCAST,
)
async def broadcast_by_user_id(
    body: BroadcastByUserIdIn, key: ManageFlow, session: Session
) -> BroadcastQueuedOut:
    made = await broadcasts.broadcast_to_user_ids(
        session, key.bot_id, body.user_id_list, body.request()
    )
    return _queued(made)


@router.post(
    "/subscriber/broadcast-by-tag",
    responses=DELIVER,
    summary="Broadcast a sub flow to tagged subscribers",
    description="To subscribers with any of `tags` and none of `exclude_tags` (up to 10 tag "
    "ids each), as tagged when their turn comes. " + BROADCAST,
)
async def broadcast_by_tag(
    body: BroadcastByTagIn, key: ManageFlow, session: Session
) -> BroadcastQueuedOut:
    made = await broadcasts.broadcast_to_tags(
        session, key.bot_id, body.tags, body.exclude_tags or [], body.request()
    )
    return _queued(made)


@router.post(
    "/subscriber/broadcast-by-segment",
    responses=DELIVER,
    summary="Broadcast a sub flow to the subscribers of segments",
    description="To subscribers matching any of the segments (`segment_ns`, up to 10, "
    "comma-separated), as they match when their turn comes. " + BROADCAST,
)
async def broadcast_by_segment(
    body: BroadcastBySegmentIn, key: ManageFlow, session: Session
) -> BroadcastQueuedOut:
    made = await broadcasts.broadcast_to_segments(
        session, key.bot_id, body.segment_ns, body.request()
    )
    return _queued(made)


@router.get(
    "/subscriber/broadcast-status",
    responses=wire_errors(401, 403, 404, 422),
    summary="How far a broadcast has got (an extension)",
    description="Not in the reference API: the progress of a broadcast made with one of the "
    "broadcast operations. `total` is known at once for lists, and for tags and segments "
    "once the broadcast is done.",
)
async def broadcast_status(
    key: ManageFlow,
    session: Session,
    broadcast_id: Annotated[int, Query(description="As answered by the broadcast operation.")],
) -> DataOut[BroadcastOut]:
    found = await broadcasts.get_broadcast(session, key.bot_id, broadcast_id)
    return envelope.one(BroadcastOut.of(found, await broadcasts.sub_flow_ns(session, found)))
