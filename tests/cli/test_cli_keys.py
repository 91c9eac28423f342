"""`konversation keys` and the first start of `konversation serve`."""

from __future__ import annotations

import asyncio

import httpx
from typer.testing import CliRunner

from builders import ClientFor, Tenant
from konversation.cli.main import _prepare, app
from konversation.settings import Settings

runner = CliRunner()


async def _cli(settings: Settings, *args: str) -> str:
    env = {
        "KONVERSATION_DATABASE_URL": settings.database_url,
        "KONVERSATION_SECRET_KEY": settings.secret_key or "",
    }
    result = await asyncio.to_thread(runner.invoke, app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


class TestKeysCommands:
    async def test_create_prints_a_working_token_once_and_list_never_shows_it(
        self, settings: Settings, tenant: Tenant, client_for: ClientFor
    ) -> None:
        output = await _cli(
            settings,
            "keys", "create", "--name", "CRM", "--workspace", str(tenant.workspace_id),
            "--bot", str(tenant.bot_id), "--permission", "Manage Flow",
        )  # fmt: skip
        token = output.strip().splitlines()[-1]
        assert token.startswith("kv_")
        assert (await client_for(token).get("/flow/tags")).status_code == 200
        assert (await client_for(token).get("/team-info")).status_code == 403
        listing = await _cli(settings, "keys", "list")
        assert "CRM" in listing
        assert token not in listing
        # kv_<16 hex>_<secret>: the secret itself may hold underscores.
        assert token[len("kv_") + 16 + 1 :] not in listing

    async def test_revoke_stops_the_key(
        self, settings: Settings, tenant: Tenant, api: httpx.AsyncClient
    ) -> None:
        await _cli(settings, "keys", "revoke", str(tenant.key_id))
        assert (await api.get("/me")).status_code == 401

    async def test_revoking_an_unknown_key_fails_clearly(self, settings: Settings) -> None:
        env = {"KONVERSATION_DATABASE_URL": settings.database_url}
        result = await asyncio.to_thread(runner.invoke, app, ["keys", "revoke", "999"], env=env)
        assert result.exit_code == 1
        assert "API key not found" in result.output


class TestFirstStart:
    async def test_creates_the_demo_once_and_its_key_reads_the_demo_tags(
        self, settings: Settings, client_for: ClientFor
    ) -> None:
        created = await _prepare(settings, with_demo=True)
        assert created is not None
        assert await _prepare(settings, with_demo=True) is None
        body = (await client_for(created.api_key).get("/flow/tags")).json()
        assert [t["name"] for t in body["data"]] == ["VIP", "Lead", "Customer"]
        subflows = (await client_for(created.api_key).get("/flow/subflows")).json()["data"]
        assert [f["name"] for f in subflows] == [
            "Welcome",
            "Shop",
            "Order shipped",
            "Opening hours",
        ]
