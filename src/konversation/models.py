"""Every table, imported in one place so that Alembic and the tests see the whole schema."""

from konversation.db import Base
from konversation.flows.models import Field, Flow, InboundWebhook, Tag, TemplateInstall
from konversation.keys.models import ApiKey
from konversation.subscribers.models import (
    Message,
    Subscriber,
    SubscriberChannel,
    SubscriberFieldValue,
    SubscriberTag,
)
from konversation.workspaces.models import Bot, BotCounter, Membership, User, Workspace

__all__ = [
    "ApiKey",
    "Base",
    "Bot",
    "BotCounter",
    "Field",
    "Flow",
    "InboundWebhook",
    "Membership",
    "Message",
    "Subscriber",
    "SubscriberChannel",
    "SubscriberFieldValue",
    "SubscriberTag",
    "Tag",
    "TemplateInstall",
    "User",
    "Workspace",
]
