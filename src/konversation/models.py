"""Every table, imported in one place so that Alembic and the tests see the whole schema."""

from konversation.audit.models import AuditEntry
from konversation.channels.models import BotChannel
from konversation.commerce.models import (
    BusinessHours,
    Cart,
    CartItem,
    DiscountCode,
    Order,
    OrderItem,
    Product,
    ProductTag,
    ProductTagLink,
    ProductType,
    ProductVariant,
    ProductVendor,
    ShopLocation,
)
from konversation.conversations.models import AgentActivity, Conversation, Message
from konversation.dashboard.models import LoginFailure
from konversation.db import Base
from konversation.events.models import CustomEvent, CustomEventLog
from konversation.flow_templates.models import FlowTemplate, TemplateLink
from konversation.flows.models import (
    Field,
    Flow,
    InboundWebhook,
    KeywordTrigger,
    NodeRef,
    Tag,
    TemplateInstall,
)
from konversation.idempotency.models import IdempotentRequest
from konversation.integrations.calls import IntegrationCall
from konversation.integrations.models import Integration
from konversation.integrations.shop_import_models import ShopImport
from konversation.keys.models import ApiKey
from konversation.knowledge.models import EmbeddingJob, KnowledgeRevision, KnowledgeRow
from konversation.labels.models import Label
from konversation.miniapps.models import InstalledApp
from konversation.runtime.models import Delivery, Run
from konversation.segments.models import Segment
from konversation.sending.models import Broadcast, BroadcastRecipient
from konversation.subscribers.models import (
    StatusCount,
    Subscriber,
    SubscriberChannel,
    SubscriberFieldValue,
    SubscriberLabel,
    SubscriberTag,
)
from konversation.tickets.models import Ticket, TicketChange, TicketColumn, TicketList
from konversation.webhooks.models import WebhookDelivery, WebhookEndpoint
from konversation.whatsapp.models import WhatsAppTemplate
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
    "AuditEntry",
    "Base",
    "Bot",
    "BotChannel",
    "BotCounter",
    "Broadcast",
    "BroadcastRecipient",
    "BusinessHours",
    "Cart",
    "CartItem",
    "Conversation",
    "CustomEvent",
    "CustomEventLog",
    "Delivery",
    "DiscountCode",
    "EmbeddingJob",
    "Field",
    "Flow",
    "FlowTemplate",
    "IdempotentRequest",
    "InboundWebhook",
    "InstalledApp",
    "Integration",
    "IntegrationCall",
    "KeywordTrigger",
    "KnowledgeRevision",
    "KnowledgeRow",
    "Label",
    "LoginFailure",
    "Membership",
    "Message",
    "NodeRef",
    "Order",
    "OrderItem",
    "Product",
    "ProductTag",
    "ProductTagLink",
    "ProductType",
    "ProductVariant",
    "ProductVendor",
    "Run",
    "Segment",
    "ShopImport",
    "ShopLocation",
    "StatusCount",
    "Subscriber",
    "SubscriberChannel",
    "SubscriberFieldValue",
    "SubscriberLabel",
    "SubscriberTag",
    "Tag",
    "TemplateInstall",
    "TemplateLink",
    "Ticket",
    "TicketChange",
    "TicketColumn",
    "TicketList",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WhatsAppTemplate",
    "Workspace",
]
