"""Every domain's Connect API routes, under `/api`."""

from __future__ import annotations

from fastapi import APIRouter

from konversation.flows.routes import router as flows
from konversation.keys.routes import router as keys
from konversation.subscribers.routes import router as subscribers
from konversation.workspaces.routes import router as workspaces

API_PREFIX = "/api"


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for domain in (keys, flows, subscribers, workspaces):
        router.include_router(domain)
    return router
