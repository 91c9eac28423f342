"""Messages delivered straight to a subscriber's email address or phone, without a flow.

The delivery services are configured once for the whole server (`KONVERSATION_SMTP_*`,
`KONVERSATION_SMS_*`). Both failures below are answered as 400: neither is a validation
error of a field, and the error family has no "bad gateway" yet.
"""

from __future__ import annotations

from konversation.errors import BadRequest


class NotConfigured(BadRequest):
    """The server has no delivery service for this kind of message."""


class DeliveryFailed(BadRequest):
    """The mail server or the SMS gateway refused the message or could not be reached."""
