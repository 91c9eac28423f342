"""A workspace connects outside services through `/integration/<service>`: secrets are encrypted at
rest and only ever read back masked, a bad save changes nothing, and each workspace sees its own."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from builders import ClientFor, Sessions, Tenant, make_key, make_tenant
from konversation.audit.models import AuditEntry
from konversation.integrations import service
from konversation.integrations.kinds import Kind

# What a client saves for each service, and which of it is secret.
SAVED: dict[Kind, tuple[dict[str, Any], set[str]]] = {
    Kind.SHOPIFY: (
        {"url": "acme.myshopify.com", "api_key": "shpka_0123456789", "token": "shpat_abcdef987654"},
        {"api_key", "token"},
    ),
    Kind.WOOCOMMERCE: (
        {
            "url": "https://shop.example.com",
            "api_key": "ck_1234567890ab",
            "token": "cs_0987654321cd",
        },
        {"api_key", "token"},
    ),
    Kind.DROPI: ({"url": "https://api.dropi.co/", "api_key": "dropi-key-123456"}, {"api_key"}),
    Kind.META_CONVERSIONS: (
        {"token": "EAAG-conversions-token-1", "dataset_id": "1234567890123456"},
        {"token"},
    ),
    Kind.OPENAI: ({"api_key": "sk-test-0123456789abcdef", "org_id": "org-acme"}, {"api_key"}),
    Kind.S3: (
        {
            "url": "https://s3.eu-north-1.amazonaws.com",
            "api_key": "AKIAEXAMPLEKEY01",
            "secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCY",
            "bucket": "acme-chat-media",
            "region": "eu-north-1",
        },
        {"api_key", "secret"},
    ),
}


def path(kind: Kind) -> str:
    return f"/integration/{kind.value}"


@pytest.mark.parametrize("kind", list(Kind))
async def test_a_saved_integration_reads_back_with_its_secrets_masked(
    api: httpx.AsyncClient, kind: Kind
) -> None:
    body, secrets = SAVED[kind]
    saved = await api.post(path(kind), json=body)
    assert saved.status_code == 200, saved.text
    read = await api.get(path(kind))
    assert read.status_code == 200
    data = read.json()["data"]
    assert saved.json()["data"] == data
    assert data["status"] == "active"
    for name, value in body.items():
        if name in secrets:
            assert data[name] == "••••" + value[-4:]
        else:
            assert data[name] == value


@pytest.mark.parametrize("kind", list(Kind))
async def test_the_services_get_the_secrets_that_no_reader_sees(
    api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, server_secret: bytes, kind: Kind
) -> None:
    body, secrets = SAVED[kind]
    assert (await api.post(path(kind), json=body)).status_code == 200
    loaded = await service.load(session, server_secret, tenant.workspace_id, kind)
    assert loaded is not None
    assert {name: loaded[name] for name in body} == body
    stored = (await session.execute(text("SELECT public, sealed FROM integrations"))).one()
    for name in secrets:
        assert body[name] not in str(stored.public) + str(stored.sealed)


async def test_an_unconnected_integration_reads_as_inactive(api: httpx.AsyncClient) -> None:
    read = await api.get("/integration/openai")
    assert read.status_code == 200
    assert read.json()["data"] == {
        "api_key": "",
        "org_id": "",
        "base_url": "",
        "status": "inactive",
    }


async def test_reading_s3_names_the_access_key_both_ways(api: httpx.AsyncClient) -> None:
    body, _ = SAVED[Kind.S3]
    await api.post(path(Kind.S3), json=body)
    data = (await api.get(path(Kind.S3))).json()["data"]
    assert data["key"] == data["api_key"] == "••••EY01"


async def test_defaults_fill_what_a_save_leaves_out(
    api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, server_secret: bytes
) -> None:
    body, _ = SAVED[Kind.SHOPIFY]
    data = (await api.post(path(Kind.SHOPIFY), json=body)).json()["data"]
    assert data["wait_time"] == 30
    s3 = dict(SAVED[Kind.S3][0])
    del s3["region"]
    assert (await api.post(path(Kind.S3), json=s3)).json()["data"]["region"] == "us-east-1"


async def test_saving_back_what_was_read_keeps_the_secrets(
    api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, server_secret: bytes
) -> None:
    body, _ = SAVED[Kind.SHOPIFY]
    await api.post(path(Kind.SHOPIFY), json=body)
    read = (await api.get(path(Kind.SHOPIFY))).json()["data"]
    changed = {k: v for k, v in read.items() if k != "status"} | {"wait_time": 45}
    assert (await api.post(path(Kind.SHOPIFY), json=changed)).status_code == 200
    loaded = await service.load(session, server_secret, tenant.workspace_id, Kind.SHOPIFY)
    assert loaded == body | {"wait_time": 45}


async def test_a_new_secret_replaces_the_old(
    api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, server_secret: bytes
) -> None:
    body, _ = SAVED[Kind.OPENAI]
    await api.post(path(Kind.OPENAI), json=body)
    renewed = body | {"api_key": "sk-renewed-9999999999", "base_url": "http://127.0.0.1:9/v1"}
    data = (await api.post(path(Kind.OPENAI), json=renewed)).json()["data"]
    assert data["api_key"] == "••••9999"
    loaded = await service.load(session, server_secret, tenant.workspace_id, Kind.OPENAI)
    assert loaded is not None
    assert (loaded["api_key"], loaded["base_url"]) == (renewed["api_key"], renewed["base_url"])


@pytest.mark.parametrize(
    ("kind", "missing"),
    [(Kind.SHOPIFY, "token"), (Kind.S3, "bucket"), (Kind.META_CONVERSIONS, "dataset_id")],
)
async def test_a_save_without_a_required_setting_is_refused_and_keeps_the_old_one(
    api: httpx.AsyncClient,
    session: AsyncSession,
    tenant: Tenant,
    server_secret: bytes,
    kind: Kind,
    missing: str,
) -> None:
    body, _ = SAVED[kind]
    await api.post(path(kind), json=body)
    for broken in ({k: v for k, v in body.items() if k != missing}, body | {missing: ""}):
        refused = await api.post(path(kind), json=broken)
        assert refused.status_code == 422, refused.text
        assert missing in refused.json()["errors"]
    loaded = await service.load(session, server_secret, tenant.workspace_id, kind)
    assert loaded is not None
    assert {name: loaded[name] for name in body} == body


async def test_a_cleared_integration_is_forgotten(
    api: httpx.AsyncClient, session: AsyncSession, tenant: Tenant, server_secret: bytes
) -> None:
    body, _ = SAVED[Kind.DROPI]
    await api.post(path(Kind.DROPI), json=body)
    cleared = await api.delete(path(Kind.DROPI))
    assert cleared.json() == {"status": "ok"}
    assert (await api.get(path(Kind.DROPI))).json()["data"]["status"] == "inactive"
    assert await service.load(session, server_secret, tenant.workspace_id, Kind.DROPI) is None
    assert (await api.delete(path(Kind.DROPI))).json() == {"status": "ok"}


async def test_saves_are_audited_without_their_values(
    api: httpx.AsyncClient, session: AsyncSession
) -> None:
    body, _ = SAVED[Kind.OPENAI]
    await api.post(path(Kind.OPENAI), json=body)
    await api.delete(path(Kind.OPENAI))
    entries = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    actions = [(e.action, e.target) for e in entries]
    assert ("integration.saved", "/integration/openai") in actions
    assert ("api.delete", "DELETE /api/integration/openai") in actions
    saved = next(e for e in entries if e.action == "integration.saved")
    assert saved.details == {"settings": ["api_key", "org_id"]}
    assert body["api_key"] not in str([e.details for e in entries])


async def test_each_workspace_sees_only_its_own_integrations(
    api: httpx.AsyncClient, sessions: Sessions, server_secret: bytes, client_for: ClientFor
) -> None:
    body, _ = SAVED[Kind.OPENAI]
    await api.post(path(Kind.OPENAI), json=body)
    other = await make_tenant(sessions, server_secret, email="other@example.com")
    theirs = client_for(other.token)
    assert (await theirs.get(path(Kind.OPENAI))).json()["data"]["status"] == "inactive"
    await theirs.delete(path(Kind.OPENAI))
    assert (await api.get(path(Kind.OPENAI))).json()["data"]["status"] == "active"


async def test_a_key_without_manage_team_is_refused(
    session: AsyncSession, server_secret: bytes, tenant: Tenant, client_for: ClientFor
) -> None:
    flow_only = client_for(
        await make_key(session, server_secret, tenant, permissions=["Manage Flow"])
    )
    body, _ = SAVED[Kind.OPENAI]
    for answer in (
        await flow_only.get(path(Kind.OPENAI)),
        await flow_only.post(path(Kind.OPENAI), json=body),
        await flow_only.delete(path(Kind.OPENAI)),
    ):
        assert answer.status_code == 403, answer.text
