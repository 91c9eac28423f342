"""The selected workspace's members and their roles."""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from konversation.dashboard.pages_common import (
    PAGE_SIZE,
    Builder,
    Paging,
    page_number,
    query_string,
    selected_workspace,
)
from konversation.dashboard.web import DbSession, page_router, render
from konversation.db import PageRequest
from konversation.workspaces.models import Role
from konversation.workspaces.service import list_members

router = page_router()

PAGE: Final = "/dashboard/members"
ROLES: Final = [role.value for role in Role]
# What each role may do, as the page explains it.
ROLE_WORDS: Final = {
    Role.OWNER.value: "everything, including API keys and the workspace itself",
    Role.ADMIN.value: "everything, including API keys",
    Role.MEMBER.value: "bots, channels, flows, tags, fields, subscribers and the shop",
    Role.AGENT.value: "subscribers and their chats, and the shop's orders",
}


@router.get(PAGE)
async def member_list(
    request: Request,
    viewer: Builder,
    session: DbSession,
    q: str = "",
    role: str = "",
    page: str | None = None,
) -> Response:
    workspace = selected_workspace(viewer)
    role = role if role in ROLES else ""
    window = PageRequest(page=page_number(page), limit=PAGE_SIZE)
    members, total = await list_members(
        session, workspace.id, name=q.strip() or None, role=role or None, window=window
    )
    return render(
        request,
        "members_list.html",
        {
            "workspace": workspace,
            "members": members,
            "paging": Paging(window.page, total),
            "q": q,
            "role": role,
            "roles": ROLES,
            "role_words": ROLE_WORDS,
            "query": query_string({"q": q, "role": role}),
        },
    )
