"""What the tests of copying subscribers' files share: the workspace's bucket saved as its S3
storage integration, a file received, and the message it was logged with."""

from __future__ import annotations

from paid_orders_support import save
from sqlalchemy import select

from builders import Sessions, Tenant
from fake_s3 import ACCESS_KEY, BUCKET, REGION, FakeS3
from konversation.channels.base import Attachment, InboundMessage
from konversation.conversations.models import Message
from konversation.db import session_scope, utcnow
from konversation.integrations.kinds import Kind
from konversation.jobs.runtime import Runtime


async def connect(
    sessions: Sessions, secret: bytes, tenant: Tenant, fake: FakeS3, key: str
) -> None:
    """The tenant's workspace stores files in the fake's bucket, signing with `key`."""
    values = {
        "url": fake.url,
        "api_key": ACCESS_KEY,
        "secret": key,
        "bucket": BUCKET,
        "region": REGION,
    }
    await save(sessions, secret, tenant.workspace_id, Kind.S3, values)


async def receive(
    runtime: Runtime,
    tenant: Tenant,
    url: str,
    *,
    channel: str = "api",
    user_id: str = "customer-42",
    message_id: str = "m-1",
) -> None:
    """The subscriber `user_id` sent an image that `channel` refers to as `url`."""
    event = InboundMessage(
        user_id=user_id,
        message_id=message_id,
        sent_at=utcnow(),
        attachments=(Attachment("image", url),),
    )
    async with session_scope(runtime.sessions) as session:
        await runtime.engine.receive(session, tenant.bot_id, channel, event)


async def logged(sessions: Sessions, tenant: Tenant) -> Message:
    """The one message the bot received."""
    async with sessions() as session:
        return (
            await session.scalars(
                select(Message).where(Message.bot_id == tenant.bot_id, Message.direction == "in")
            )
        ).one()
