"""Email through an SMTP server, with the standard library's client run off the event loop."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from konversation.sending import DeliveryFailed

TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    sender: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    # Upgrade to TLS when the server offers it; a server that does not is used as it is.
    starttls: bool = True


async def send_email(config: SmtpConfig, *, to: str, subject: str, text: str) -> None:
    """Deliver a plain-text email; raises `DeliveryFailed` saying why it could not."""
    message = _plain_text(config.sender, to, subject, text)
    try:
        await asyncio.to_thread(_submit, config, message)
    except OSError as exc:  # smtplib's errors are OSErrors too
        raise DeliveryFailed(f"The email could not be delivered: {_reason(exc)}.") from exc


def _plain_text(sender: str, to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid()
    message.set_content(text)
    return message


def _submit(config: SmtpConfig, message: EmailMessage) -> None:
    with smtplib.SMTP(config.host, config.port, timeout=TIMEOUT_SECONDS) as smtp:
        smtp.ehlo()
        if config.starttls and smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if config.username:
            smtp.login(config.username, config.password or "")
        smtp.send_message(message)


def _reason(exc: OSError) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, answer = next(iter(exc.recipients.values()))
        return f"the mail server refused the recipient ({code} {_text(answer)})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the mail server answered {exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPException):
        return f"the mail server failed ({exc})"
    return f"the mail server could not be reached ({exc.strerror or exc})"


def _text(answer: bytes | str) -> str:
    return answer.decode(errors="replace") if isinstance(answer, bytes) else answer
