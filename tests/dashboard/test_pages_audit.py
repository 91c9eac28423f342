"""The audit log page: what owners and admins see of sign-ins and key changes, and who may not."""

from __future__ import annotations

import httpx
from dashboard_browsing import make_person, page_csrf_token
from fastapi import FastAPI
from pages_support import signed_in, text_of, workspace_of
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from konversation.demo import DemoSecrets
from konversation.workspaces.models import Role


async def test_the_audit_log_shows_sign_ins_and_key_changes_with_their_request_ids(
    app: FastAPI, demo: DemoSecrets, session: AsyncSession
) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as stranger:
        token = await page_csrf_token(stranger, "/dashboard/login")
        wrong = await stranger.post(
            "/dashboard/login",
            data={"email": demo.email, "password": "not it", "csrf_token": token},
        )
    assert wrong.status_code == 401
    owner = await signed_in(app, demo.email, demo.password)
    try:
        workspace_id = await workspace_of(session, demo.bot_id)
        created = await owner.post(
            "/dashboard/keys",
            {"workspace_id": str(workspace_id), "name": "Make.com", "permissions": ["Manage Flow"]},
        )
        assert created.status_code == 200, created.text
        page = await owner.http.get("/dashboard/audit")
    finally:
        await owner.aclose()
    assert page.status_code == 200
    text = text_of(page)
    for expected in ("login.failed", "login.succeeded", "key.created", "(Make.com)"):
        assert expected in text, expected
    assert created.headers["X-Request-Id"] in page.text
    assert wrong.headers["X-Request-Id"] in page.text
    # Newest first: the key, then the sign-in, then the failed attempt.
    assert text.index("key.created") < text.index("login.succeeded") < text.index("login.failed")


async def test_only_owners_and_admins_read_the_audit_log(
    app: FastAPI,
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    demo: DemoSecrets,
) -> None:
    workspace_id = await workspace_of(session, demo.bot_id)
    refused = []
    for role in (Role.MEMBER, Role.AGENT):
        person = await make_person(
            sessions, workspace_id, role, name=role.value, email=f"{role.value}@example.com"
        )
        client = await signed_in(app, person.email, person.password)
        try:
            refused.append((await client.http.get("/dashboard/audit")).status_code)
        finally:
            await client.aclose()
    assert refused == [403, 403]
