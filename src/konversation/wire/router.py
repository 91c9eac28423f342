"""Every domain's Connect API routes, under `/api`."""

from __future__ import annotations

from fastapi import APIRouter

from konversation.commerce.catalog_routes import router as catalog
from konversation.commerce.order_routes import router as orders
from konversation.conversations.routes import router as conversations
from konversation.events.routes import router as events
from konversation.flow_templates.routes import router as flow_templates
from konversation.flows.routes import router as flows
from konversation.integrations.routes import router as integrations
from konversation.integrations.shop_import_routes import router as shop_imports
from konversation.keys.routes import router as keys
from konversation.knowledge.routes import router as knowledge
from konversation.labels.routes import router as labels
from konversation.miniapps.routes import router as miniapps
from konversation.segments.routes import router as segments
from konversation.sending.routes import router as sending
from konversation.subscribers.attribute_routes import router as subscriber_attributes
from konversation.subscribers.routes import router as subscribers
from konversation.subscribers.state_routes import router as subscriber_state
from konversation.tickets.routes import router as tickets
from konversation.webhooks.routes import router as webhooks
from konversation.whatsapp.routes import router as whatsapp
from konversation.workspaces.routes import router as workspaces

API_PREFIX = "/api"
DOMAINS = (
    keys,
    flows,
    subscribers,
    subscriber_attributes,
    subscriber_state,
    labels,
    events,
    segments,
    conversations,
    workspaces,
    sending,
    catalog,
    orders,
    webhooks,
    whatsapp,
    flow_templates,
    tickets,
    integrations,
    shop_imports,
    miniapps,
    knowledge,
)


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for domain in DOMAINS:
        router.include_router(domain)
    return router
