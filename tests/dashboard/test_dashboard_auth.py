"""Sessions, CSRF tokens, the lockout and roles of the dashboard, over HTTP against a live server.

These speak plain HTTP (httpx) to the app on loopback, the way a forged form or a script
would; the browser tests show the same pages from a person's side.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import httpx
import pytest
from dashboard_browsing import DashboardClient, make_person, page_csrf_token
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from konversation.app import create_app
from konversation.dashboard.models import LoginFailure
from konversation.db import session_scope, utcnow
from konversation.demo import DemoSecrets
from konversation.keys.models import ApiKey
from konversation.settings import Settings
from konversation.workspaces import service as workspaces
from konversation.workspaces.models import Role, User
from loopback import serving

KEY_FORM = {"name": "Made by a script", "workspace_id": "1", "bot_id": "1",
            "permissions": ["Manage Flow"]}  # fmt: skip


async def key_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ApiKey)) or 0)


async def api_status(base_url: str, token: str) -> int:
    async with httpx.AsyncClient(base_url=f"{base_url}/api") as client:
        answer = await client.get("/flow/tags", headers={"Authorization": f"Bearer {token}"})
        return answer.status_code


async def log_in(
    client: httpx.AsyncClient, email: str, password: str, next: str = "/dashboard"
) -> httpx.Response:
    token = await page_csrf_token(client, "/dashboard/login")
    form = {"email": email, "password": password, "csrf_token": token, "next": next}
    return await client.post("/dashboard/login", data=form)


@pytest.fixture
async def anonymous(dashboard_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=dashboard_url) as client:
        yield client


async def test_a_post_without_this_sessions_csrf_token_is_refused_and_changes_nothing(
    owner_http: DashboardClient,
    dashboard_url: str,
    demo: DemoSecrets,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert await key_count(sessions) == 1
    missing = await owner_http.http.post("/dashboard/keys", data=KEY_FORM)
    assert missing.status_code == 403
    assert "security token is missing or out of date" in missing.text

    other = await DashboardClient.signed_in(dashboard_url, demo.email, demo.password)
    try:
        assert other.csrf_token != owner_http.csrf_token
        foreign = {**KEY_FORM, "csrf_token": other.csrf_token}
        assert (await owner_http.http.post("/dashboard/keys", data=foreign)).status_code == 403
        wrong_header = {"X-CSRF-Token": other.csrf_token}
        refused = await owner_http.http.post("/dashboard/keys", data=KEY_FORM, headers=wrong_header)
        assert refused.status_code == 403
    finally:
        await other.aclose()
    assert await key_count(sessions) == 1

    # The same form with the session's token, as htmx sends it, is taken.
    headers = {"X-CSRF-Token": owner_http.csrf_token, "HX-Request": "true"}
    made = await owner_http.http.post("/dashboard/keys", data=KEY_FORM, headers=headers)
    assert made.status_code == 200
    assert "it will never be shown again" in made.text
    assert await key_count(sessions) == 2


async def test_logging_in_and_out_needs_the_token_too(
    owner_http: DashboardClient, anonymous: httpx.AsyncClient, demo: DemoSecrets
) -> None:
    form = {"email": demo.email, "password": demo.password}
    assert (await anonymous.post("/dashboard/login", data=form)).status_code == 403

    assert (await owner_http.http.post("/dashboard/logout")).status_code == 403
    assert (await owner_http.http.get("/dashboard")).status_code == 200
    logged_out = await owner_http.post("/dashboard/logout", {})
    assert logged_out.status_code == 303
    assert logged_out.headers["location"] == "/dashboard/login"
    gone = await owner_http.http.get("/dashboard/keys")
    assert gone.status_code == 303
    assert gone.headers["location"] == "/dashboard/login?next=/dashboard/keys"


async def test_the_lockout_holds_across_server_processes_and_lifts_after_15_minutes(
    anonymous: httpx.AsyncClient,
    settings: Settings,
    demo: DemoSecrets,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    for attempt in range(5):
        refused = await log_in(anonymous, demo.email, f"guess {attempt}")
        assert refused.status_code == 401
        assert "The email or password is incorrect." in refused.text

    with serving(create_app(settings)) as second_server:
        async with httpx.AsyncClient(base_url=second_server) as elsewhere:
            locked = await log_in(elsewhere, demo.email, demo.password)
            assert locked.status_code == 429
            assert "Too many failed attempts for this email" in locked.text
            # Other addresses are not locked out.
            agent = await make_person(sessions, 1, Role.AGENT)
            assert (await log_in(elsewhere, agent.email, agent.password)).status_code == 303

    # A quarter of an hour passes.
    async with session_scope(sessions) as session:
        await session.execute(
            update(LoginFailure).values(created_at=utcnow() - dt.timedelta(minutes=15, seconds=1))
        )
    welcome = await log_in(anonymous, demo.email, demo.password)
    assert welcome.status_code == 303
    async with sessions() as session:
        left = await session.scalar(
            select(func.count()).select_from(LoginFailure).where(LoginFailure.email == demo.email)
        )
    assert left == 0


async def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(
    owner_http: DashboardClient, dashboard_url: str, demo: DemoSecrets
) -> None:
    other = await DashboardClient.signed_in(dashboard_url, demo.email, demo.password)
    new = "a brand new password"
    try:
        wrong = await owner_http.post(
            "/dashboard/account/password",
            {"current_password": "nope", "new_password": new, "confirm_password": new},
        )
        assert wrong.status_code == 422
        assert "The current password is incorrect." in wrong.text
        short = await owner_http.post(
            "/dashboard/account/password",
            {
                "current_password": demo.password,
                "new_password": "short",
                "confirm_password": "short",
            },
        )
        assert short.status_code == 422
        assert "at least 10 characters" in short.text

        changed = await owner_http.post(
            "/dashboard/account/password",
            {"current_password": demo.password, "new_password": new, "confirm_password": new},
        )
        assert changed.status_code == 303
        assert (await owner_http.http.get("/dashboard")).status_code == 200
        ended = await other.http.get("/dashboard")
        assert ended.status_code == 303
        assert ended.headers["location"].startswith("/dashboard/login")
    finally:
        await other.aclose()
    async with httpx.AsyncClient(base_url=dashboard_url) as fresh:
        assert (await log_in(fresh, demo.email, demo.password)).status_code == 401
        assert (await log_in(fresh, demo.email, new)).status_code == 303


async def test_the_profile_keeps_emails_unique_and_asks_the_password_to_change_one(
    owner_http: DashboardClient, sessions: async_sessionmaker[AsyncSession], demo: DemoSecrets
) -> None:
    agent = await make_person(sessions, 1, Role.AGENT)
    taken = await owner_http.post(
        "/dashboard/account/profile",
        {"name": "Owner", "email": agent.email, "current_password": demo.password},
    )
    assert taken.status_code == 422
    assert "Another account uses this email." in taken.text
    unconfirmed = await owner_http.post(
        "/dashboard/account/profile", {"name": "Owner", "email": "new@example.com"}
    )
    assert unconfirmed.status_code == 422
    assert "The current password is incorrect." in unconfirmed.text

    renamed = await owner_http.post(
        "/dashboard/account/profile",
        {"name": "Olive Owner", "email": "New@Example.com", "current_password": demo.password},
    )
    assert renamed.status_code == 303
    async with sessions() as session:
        owner = await session.get(User, 1)
    assert owner is not None
    assert (owner.name, owner.email) == ("Olive Owner", "new@example.com")
    assert "Olive Owner" in (await owner_http.http.get("/dashboard")).text


async def test_an_agent_may_neither_see_create_nor_revoke_keys(
    dashboard_url: str, demo: DemoSecrets, sessions: async_sessionmaker[AsyncSession]
) -> None:
    agent = await make_person(sessions, 1, Role.AGENT)
    client = await DashboardClient.signed_in(dashboard_url, agent.email, agent.password)
    try:
        assert (await client.http.get("/dashboard/keys")).status_code == 403
        assert (await client.http.get("/dashboard/keys/bots?workspace_id=1")).status_code == 403
        assert (await client.post("/dashboard/keys", KEY_FORM)).status_code == 403
        assert (await client.post("/dashboard/keys/1/revoke", {})).status_code == 403
        assert (await client.http.get("/dashboard")).status_code == 200
    finally:
        await client.aclose()
    assert await key_count(sessions) == 1
    assert await api_status(dashboard_url, demo.api_key) == 200


async def test_an_admin_manages_the_keys_of_their_own_workspaces_only(
    dashboard_url: str, demo: DemoSecrets, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with session_scope(sessions) as session:
        owner = await workspaces.create_user(
            session, name="Other Owner", email="other@example.com", password="x" * 12
        )
        elsewhere = await workspaces.create_workspace(session, name="Elsewhere", owner=owner)
    admin = await make_person(sessions, elsewhere.id, Role.ADMIN, email="admin@example.com")
    client = await DashboardClient.signed_in(dashboard_url, admin.email, admin.password)
    try:
        page = await client.http.get("/dashboard/keys")
        assert page.status_code == 200
        assert "Demo key" not in page.text
        assert (await client.post("/dashboard/keys", KEY_FORM)).status_code == 403
        assert (await client.post("/dashboard/keys/1/revoke", {})).status_code == 403
        mine = {**KEY_FORM, "workspace_id": str(elsewhere.id), "bot_id": "1"}
        refused = await client.post("/dashboard/keys", mine)
        assert refused.status_code == 422
        assert "Choose a chatbot of this workspace." in refused.text
    finally:
        await client.aclose()
    assert await api_status(dashboard_url, demo.api_key) == 200


async def test_what_users_type_is_escaped_on_the_pages(owner_http: DashboardClient) -> None:
    script = "<script>alert('key')</script>"
    made = await owner_http.post("/dashboard/keys", {**KEY_FORM, "name": script})
    assert made.status_code == 200
    page = (await owner_http.http.get("/dashboard/keys")).text
    assert script not in page
    assert "&lt;script&gt;alert(&#39;key&#39;)&lt;/script&gt;" in page


async def test_the_switcher_keeps_to_the_users_workspaces_and_their_bots(
    owner_http: DashboardClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with session_scope(sessions) as session:
        owner = await session.get(User, 1)
        assert owner is not None
        second = await workspaces.create_workspace(session, name="Second shop", owner=owner)
        bot = await workspaces.create_bot(session, second.id, name="Second bot")
        stranger = await workspaces.create_user(
            session, name="Stranger", email="stranger@example.com", password="y" * 12
        )
        foreign = await workspaces.create_workspace(session, name="Not yours", owner=stranger)

    # The bot field still names the old workspace's bot: the new workspace's first bot wins.
    moved = await owner_http.post(
        "/dashboard/switch", {"workspace_id": str(second.id), "bot_id": "1"}
    )
    assert moved.status_code == 303
    page = (await owner_http.http.get("/dashboard")).text
    assert f'<option value="{second.id}" selected>Second shop</option>' in page
    assert f'<option value="{bot.id}" selected>Second bot</option>' in page

    await owner_http.post("/dashboard/switch", {"workspace_id": str(foreign.id), "bot_id": ""})
    page = (await owner_http.http.get("/dashboard")).text
    assert "Not yours" not in page
    assert f'<option value="{second.id}" selected>Second shop</option>' in page


async def test_only_paths_of_this_site_are_followed_after_logging_in(
    anonymous: httpx.AsyncClient, demo: DemoSecrets
) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        answer = await log_in(anonymous, demo.email, demo.password, next=target)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/dashboard"
        await anonymous.post(
            "/dashboard/logout",
            data={"csrf_token": await page_csrf_token(anonymous, "/dashboard")},
        )


async def test_the_session_cookie_is_signed_http_only_and_kept_to_the_dashboard(
    anonymous: httpx.AsyncClient, demo: DemoSecrets
) -> None:
    answer = await log_in(anonymous, demo.email, demo.password)
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/dashboard" in cookie
    assert "secure" not in cookie  # served over plain http here

    page = await anonymous.get("/dashboard")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["cache-control"] == "no-store"

    # Tampering with the signed cookie is the same as having none.
    value = anonymous.cookies["konversation_session"]
    anonymous.cookies.set("konversation_session", "x" + value[1:], path="/dashboard")
    assert (await anonymous.get("/dashboard")).status_code == 303


async def test_behind_https_the_session_cookie_is_secure(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"public_url": "https://bots.example.com"}))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
            page = await client.get("/dashboard/login")
    finally:
        await app.state.engine.dispose()
    assert "secure" in page.headers["set-cookie"].lower()


async def test_an_unknown_dashboard_page_is_a_404_page_after_logging_in(
    owner_http: DashboardClient, anonymous: httpx.AsyncClient
) -> None:
    missing = await owner_http.http.get("/dashboard/no/such/page")
    assert missing.status_code == 404
    assert "There is no such page." in missing.text
    assert missing.headers["content-type"].startswith("text/html")
    assert (await anonymous.get("/dashboard/no/such/page")).status_code == 303
    assert (await anonymous.get("/")).headers["location"] == "/dashboard"
