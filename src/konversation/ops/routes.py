"""Probes and metrics for operators and their tools, outside the Connect API:

- `GET /healthz`: 200 while the process serves (liveness);
- `GET /readyz`: 200 when the database and Redis (if configured) answer, else 503 with what
  failed, and 503 once the process is stopping (readiness: a load balancer sends it no more);
- `GET /metrics`: Prometheus text format.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from konversation.metrics import QUEUE_DEPTH
from konversation.ops import service

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    found = await service.readiness(
        state.engine, state.settings.redis_url, stopping=getattr(state, "stopping", False)
    )
    return JSONResponse(
        {"status": "ok" if found.ready else "unavailable", "checks": found.checks},
        status_code=200 if found.ready else 503,
    )


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    async with request.app.state.read_sessions() as session:
        depths = await service.queue_depths(session)
    for kind, depth in depths.items():
        QUEUE_DEPTH.labels(kind).set(depth)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
