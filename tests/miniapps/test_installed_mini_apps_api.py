"""Installed mini-apps through the API: installed once per workspace (ours), listed in pages in
the reference's shape, given an API key that is sealed and never shown, read and uninstalled;
another workspace's apps stay out of reach, and every operation needs Manage Team."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from miniapps_support import declaration, install
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from builders import ClientFor, Sessions, Tenant, make_key, make_tenant
from konversation.audit.models import AuditEntry
from konversation.integrations.secrets import unseal
from konversation.keys.models import Permission
from konversation.miniapps.models import InstalledApp

KEY = "ak_live_0123456789abcdef"
LISTED = {
    "id", "title", "intro", "logo", "image", "app_ns", "status", "version", "auth_type",
    "param_names", "has_api_key",
}  # fmt: skip


async def test_an_installed_app_is_listed_in_the_reference_shape(api: httpx.AsyncClient) -> None:
    installed = await install(api)
    assert installed["actions"][0] == {
        "name": "lookup", "method": "GET", "path": "/customers", "param_names": ["phone"]
    }  # fmt: skip
    assert installed["triggers"] == [{"name": "paid", "description": "An invoice was paid."}]
    assert installed["base_url"] == "http://127.0.0.1:9/api"

    listed = await api.get("/installed-mini-app/list")

    assert listed.status_code == 200
    body = listed.json()
    assert body["meta"] == {
        "current_page": 1, "last_page": 1, "per_page": 10, "total": 1, "from": 1, "to": 1
    }  # fmt: skip
    [app] = body["data"]
    assert set(app) == LISTED
    assert app == {
        "id": installed["id"],
        "title": "Acme CRM",
        "intro": "Looks up customers.",
        "logo": "https://crm.example.com/logo.png",
        "image": None,
        "app_ns": "acme_crm",
        "status": "active",
        "version": "2.1",
        "auth_type": "apikey",
        "param_names": ["api_key"],
        "has_api_key": False,
    }
    info = await api.get(f"/installed-mini-app/{installed['id']}")
    assert info.status_code == 200
    assert info.json()["data"] == installed


async def test_the_list_pages_and_filters_by_title(api: httpx.AsyncClient) -> None:
    for number in range(3):
        await install(api, app_ns=f"app{number}", title=f"Shop helper {number}")
    await install(api, app_ns="crm", title="Acme CRM")

    second = (await api.get("/installed-mini-app/list", params={"limit": 2, "page": 2})).json()
    assert [a["app_ns"] for a in second["data"]] == ["app2", "crm"]
    assert (second["meta"]["total"], second["meta"]["last_page"]) == (4, 2)
    found = (await api.get("/installed-mini-app/list", params={"title": "HELPER 1"})).json()
    assert [a["app_ns"] for a in found["data"]] == ["app1"]
    everything = (await api.get("/installed-mini-app/list", params={"title": ""})).json()
    assert everything["meta"]["total"] == 4


async def test_an_app_ns_is_installed_once_per_workspace(
    api: httpx.AsyncClient, client_for: ClientFor, sessions: Sessions, server_secret: bytes
) -> None:
    await install(api)
    again = await api.post("/installed-mini-app/install", json=declaration(title="Other"))
    assert again.status_code == 409
    assert "acme_crm" in again.json()["message"]
    stranger = await make_tenant(sessions, server_secret)
    theirs = client_for(stranger.token)
    assert (await theirs.post("/installed-mini-app/install", json=declaration())).status_code == 200
    assert (await api.get("/installed-mini-app/list")).json()["meta"]["total"] == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"app_ns": None}, "app_ns"),
        ({"app_ns": "has space"}, "app_ns"),
        ({"title": "  "}, "title"),
        ({"base_url": None}, "base_url"),
        ({"base_url": "ftp://crm.example.com"}, "base_url"),
        ({"base_url": "http://10.1.2.3/api"}, "base_url"),  # private, not an allowed network
        ({"auth_type": "password"}, "auth_type"),
        ({"logo": "javascript:alert(1)"}, "logo"),
        ({"actions": [{"name": "a", "method": "TRACE", "path": "/a"}]}, "actions.0.method"),
        ({"actions": [{"name": "a", "method": "GET", "path": "a?b"}]}, "actions.0.path"),
        ({"triggers": [{"name": "x" * 36}]}, "triggers.0.name"),
        ({"triggers": [{"name": "paid"}, {"name": "paid"}]}, "triggers"),
    ],
    ids=[
        "no app_ns", "app_ns with a space", "blank title", "no base_url", "ftp base_url",
        "private base_url", "unknown auth_type", "logo not a web address", "unknown method",
        "path not absolute", "long trigger name", "trigger declared twice",
    ],
)  # fmt: skip
async def test_a_malformed_install_is_refused_and_installs_nothing(
    api: httpx.AsyncClient, change: dict[str, Any], field: str
) -> None:
    body = {k: v for k, v in (declaration() | change).items() if v is not None}
    response = await api.post("/installed-mini-app/install", json=body)
    assert response.status_code == 422, response.text
    assert any(name.startswith(field) for name in response.json()["errors"]), response.json()
    assert (await api.get("/installed-mini-app/list")).json()["data"] == []


class TestApiKey:
    async def test_the_key_is_sealed_and_never_shown(
        self, api: httpx.AsyncClient, session: AsyncSession, server_secret: bytes
    ) -> None:
        app = await install(api)
        response = await api.post(
            f"/installed-mini-app/update-api-key/{app['id']}", json={"api_key": KEY}
        )
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}

        stored = await session.scalar(select(InstalledApp.sealed_api_key))
        assert stored is not None
        assert KEY not in stored
        assert unseal(server_secret, stored) == KEY
        listed = await api.get("/installed-mini-app/list")
        info = await api.get(f"/installed-mini-app/{app['id']}")
        for shown in (listed, info):
            assert KEY not in shown.text
            assert KEY[-4:] not in shown.text
        assert listed.json()["data"][0]["has_api_key"] is True

    async def test_only_an_app_authorised_by_key_takes_one(
        self, api: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        app = await install(api, auth_type="oauth2")
        response = await api.post(
            f"/installed-mini-app/update-api-key/{app['id']}", json={"api_key": KEY}
        )
        assert response.status_code == 422
        assert "oauth2" in response.json()["errors"]["api_key"][0]
        assert await session.scalar(select(InstalledApp.sealed_api_key)) is None

    @pytest.mark.parametrize("body", [{}, {"api_key": ""}, {"api_key": 12}])
    async def test_a_key_is_required(self, api: httpx.AsyncClient, body: dict[str, Any]) -> None:
        app = await install(api)
        response = await api.post(f"/installed-mini-app/update-api-key/{app['id']}", json=body)
        assert response.status_code == 422
        assert "api_key" in response.json()["errors"]

    async def test_an_unknown_app_is_not_found(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/installed-mini-app/update-api-key/999", json={"api_key": KEY})
        assert response.status_code == 404
        assert response.json() == {"message": "Mini app not found"}


async def test_uninstalling_removes_the_app_and_its_key(
    api: httpx.AsyncClient, session: AsyncSession
) -> None:
    app = await install(api)
    await api.post(f"/installed-mini-app/update-api-key/{app['id']}", json={"api_key": KEY})

    gone = await api.delete(f"/installed-mini-app/{app['id']}/uninstall")

    assert gone.status_code == 200
    assert gone.json() == {"status": "ok"}
    assert await session.scalar(select(InstalledApp.id)) is None
    assert (await api.delete(f"/installed-mini-app/{app['id']}/uninstall")).status_code == 404
    assert (await api.get(f"/installed-mini-app/{app['id']}")).status_code == 404
    assert (await install(api))["app_ns"] == "acme_crm"  # the app_ns is free again


async def test_changes_are_audited_without_the_key(
    api: httpx.AsyncClient, session: AsyncSession
) -> None:
    app = await install(api)
    await api.post(f"/installed-mini-app/update-api-key/{app['id']}", json={"api_key": KEY})
    await api.delete(f"/installed-mini-app/{app['id']}/uninstall")

    query = select(AuditEntry).where(AuditEntry.action != "key.created").order_by(AuditEntry.id)
    entries = (await session.scalars(query)).all()

    assert [(e.action, e.target, e.details) for e in entries[:2]] == [
        (
            "integration.saved",
            "/installed-mini-app/install",
            {"app_ns": "acme_crm", "base_url": "http://127.0.0.1:9/api"},
        ),
        (
            "integration.saved",
            f"/installed-mini-app/update-api-key/{app['id']}",
            {"app_ns": "acme_crm", "settings": ["api_key"]},
        ),
    ]
    assert entries[2].target == f"DELETE /api/installed-mini-app/{app['id']}/uninstall"
    assert KEY not in str([e.details for e in entries])


async def test_another_workspaces_apps_are_out_of_reach(
    api: httpx.AsyncClient,
    client_for: ClientFor,
    session: AsyncSession,
    sessions: Sessions,
    server_secret: bytes,
) -> None:
    stranger = await make_tenant(sessions, server_secret)
    theirs = await install(client_for(stranger.token), title="Their app")
    app_id = theirs["id"]

    calls = [
        api.get(f"/installed-mini-app/{app_id}"),
        api.post(f"/installed-mini-app/update-api-key/{app_id}", json={"api_key": KEY}),
        api.delete(f"/installed-mini-app/{app_id}/uninstall"),
    ]
    for call in calls:
        response = await call
        assert response.status_code == 404
        assert response.json() == {"message": "Mini app not found"}
    assert (await api.get("/installed-mini-app/list")).json()["data"] == []
    untouched = await session.scalar(select(InstalledApp).where(InstalledApp.id == app_id))
    assert untouched is not None
    assert untouched.sealed_api_key is None


OPERATIONS = [
    ("GET", "/installed-mini-app/list", None),
    ("POST", "/installed-mini-app/install", declaration()),
    ("GET", "/installed-mini-app/1", None),
    ("POST", "/installed-mini-app/update-api-key/1", {"api_key": KEY}),
    ("DELETE", "/installed-mini-app/1/uninstall", None),
]


@pytest.mark.parametrize(
    ("method", "path", "body"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
async def test_every_operation_needs_a_key_with_manage_team(
    client_for: ClientFor,
    session: AsyncSession,
    tenant: Tenant,
    server_secret: bytes,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    flow_only = await make_key(
        session, server_secret, tenant, permissions=[Permission.MANAGE_FLOW.value]
    )
    for token, status in [("kv_not-a-key", 401), (flow_only, 403)]:
        response = await client_for(token).request(method, path, json=body)
        assert response.status_code == status, response.text
        assert response.json()["message"]
    assert await session.scalar(select(InstalledApp.id)) is None
