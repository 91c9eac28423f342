"""SMS through an HTTP gateway: one JSON POST per message.

The gateway receives `{"to": "+<digits>", "from": <sender or null>, "text": ...}` with the
token, when one is configured, as `Authorization: Bearer <token>`; any 2xx accepts the message.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from konversation.sending import DeliveryFailed

TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class SmsGatewayConfig:
    url: str
    token: str | None = None
    sender: str | None = None


async def send_sms(config: SmsGatewayConfig, *, to: str, text: str) -> None:
    """Hand the message to the gateway; raises `DeliveryFailed` saying why it could not."""
    headers = {"Authorization": f"Bearer {config.token}"} if config.token else {}
    body = {"to": to, "from": config.sender, "text": text}
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
            response = await client.post(config.url, json=body, headers=headers)
    except httpx.HTTPError as exc:
        reason = f"the SMS gateway could not be reached ({type(exc).__name__})"
        raise DeliveryFailed(f"The SMS could not be delivered: {reason}.") from exc
    if not response.is_success:
        reason = f"the SMS gateway answered {response.status_code}"
        raise DeliveryFailed(f"The SMS could not be delivered: {reason}.")


def international(phone: str | None) -> str | None:
    """The number as `+` and its digits, or None when it has no digits."""
    digits = "".join(c for c in phone or "" if c.isdigit())
    return f"+{digits}" if digits else None
