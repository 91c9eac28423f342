"""The audit log of the workspaces the viewer manages: keys, sign-ins and API deletions."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends
from starlette.requests import Request
from starlette.responses import Response

from konversation.audit import service as audit
from konversation.dashboard.auth import Viewer, managers_only
from konversation.dashboard.pages_common import Paging, page_number
from konversation.dashboard.web import DbSession, page_router, render
from konversation.db import PageRequest

router = page_router()

PAGE: Final = "/dashboard/audit"
PAGE_SIZE: Final = 50


Manager = Annotated[
    Viewer, Depends(managers_only("Only owners and admins of a workspace read its audit log."))
]


@router.get(PAGE)
async def audit_log(
    request: Request,
    viewer: Manager,
    session: DbSession,
    page: str | None = None,
) -> Response:
    workspaces = {w.id: w for w in viewer.managed_workspaces}
    window = PageRequest(page=page_number(page), limit=PAGE_SIZE)
    entries, total = await audit.entries(session, list(workspaces), window)
    return render(
        request,
        "audit_list.html",
        {
            "entries": entries,
            "workspaces": workspaces,
            "paging": Paging(window.page, total, size=PAGE_SIZE),
        },
    )
