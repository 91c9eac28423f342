"""The Sending group's direct deliveries: an email or an SMS to one subscriber, no flow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from konversation.sending import service
from konversation.sending.email import SmtpConfig
from konversation.sending.sms import SmsGatewayConfig
from konversation.sending.wire import SendEmailIn, SendSmsIn
from konversation.settings import Settings
from konversation.wire import envelope
from konversation.wire.auth import ManageFlow
from konversation.wire.envelope import OkOut
from konversation.wire.errors import wire_errors
from konversation.wire.session import Session

router = APIRouter(tags=["Sending"])

SEND = wire_errors(400, 401, 403, 404, 422)
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


Smtp = Annotated[SmtpConfig | None, Depends(_smtp)]
SmsGateway = Annotated[SmsGatewayConfig | None, Depends(_sms_gateway)]


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
