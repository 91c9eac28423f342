"""Every table, imported in one place so that Alembic and the tests see the whole schema."""

from konversation.conversations.models import AgentActivity, Conversation, Message
from konversation.db import Base
from konversation.events.models import CustomEvent, CustomEventLog
from konversation.flows.models import Field, Flow, InboundWebhook, Tag, TemplateInstall
from konversation.keys.models import ApiKey
from konversation.labels.models import Label
from konversation.segments.models import Segment
from konversation.subscribers.models import (
    StatusCount,
    Subscriber,
    SubscriberChannel,
    SubscriberFieldValue,
    SubscriberLabel,
    SubscriberTag,
)
from konversation.workspaces.models import (
    AgentGroup,
    Bot,
    BotCounter,
    Membership,
    User,
    Workspace,
)

__all__ = [
    "AgentActivity",
    "AgentGroup",
    "ApiKey",
    "Base",
    "Bot",
    "BotCounter",
    "Conversation",
    "CustomEvent",
    "CustomEventLog",
    "Field",
    "Flow",
    "InboundWebhook",
    "Label",
    "Membership",
    "Message",
    "Segment",
    "StatusCount",
    "Subscriber",
    "SubscriberChannel",
    "SubscriberFieldValue",
    "SubscriberLabel",
    "SubscriberTag",
    "Tag",
    "TemplateInstall",
    "User",
    "Workspace",
]
