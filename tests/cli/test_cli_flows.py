"""`konversation flows export` and `konversation flows import`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner, Result

from builders import ClientFor, Sessions, Tenant, make_tenant
from konversation.cli.main import app
from konversation.flows import service as flows
from konversation.flows.export import FlowDocument
from konversation.flows.models import FieldScope, Flow, Tag
from konversation.settings import Settings

runner = CliRunner()


async def _cli(settings: Settings, *args: str) -> Result:
    env = {
        "KONVERSATION_DATABASE_URL": settings.database_url,
        "KONVERSATION_SECRET_KEY": settings.secret_key or "",
    }
    return await asyncio.to_thread(lambda: runner.invoke(app, list(args), env=env))


async def _furnish(session: AsyncSession, bot_id: int) -> dict[str, str]:
    vip = await flows.create_tag(session, bot_id, name="VIP")
    hours = await flows.create_field(
        session, bot_id, scope=FieldScope.BOT, name="opening_hours", var_type="text", value="9-5"
    )
    ns = {"vip": f"f{bot_id}t{vip.number}", "hours": f"f{bot_id}v{hours.number}"}
    welcome = await flows.create_flow(
        session,
        bot_id,
        name="Welcome",
        definition={
            "version": 1,
            "start": "n1",
            "nodes": [
                {
                    "id": "n1",
                    "type": "send_message",
                    "messages": [{"type": "text", "text": f"Open {{{{{ns['hours']}}}}}"}],
                    "next": "n2",
                },
                {
                    "id": "n2",
                    "type": "action",
                    "actions": [{"type": "add_tag", "tag_ns": ns["vip"]}],
                },
            ],
        },
    )
    ns["welcome"] = f"f{bot_id}s{welcome.number}"
    await flows.set_default_start_flow(session, bot_id, sub_flow_ns=ns["welcome"])
    await session.commit()
    return ns


async def _exported(api: httpx.AsyncClient) -> dict[str, Any]:
    response = await api.get("/flow/export")
    assert response.status_code == 200
    return response.json()["data"]  # type: ignore[no-any-return]


async def _names(sessions: Sessions, bot_id: int) -> tuple[list[str], list[str]]:
    async with sessions() as session:
        tags = await session.scalars(select(Tag.name).where(Tag.bot_id == bot_id))
        flow_names = await session.scalars(select(Flow.name).where(Flow.bot_id == bot_id))
        return sorted(tags), sorted(flow_names)


class TestFlowsExport:
    async def test_writes_the_document_to_standard_output(
        self, settings: Settings, session: AsyncSession, api: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        await _furnish(session, tenant.bot_id)
        result = await _cli(settings, "flows", "export", "--bot", str(tenant.bot_id))
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == await _exported(api)

    async def test_writes_the_document_to_a_file(
        self,
        settings: Settings,
        session: AsyncSession,
        api: httpx.AsyncClient,
        tenant: Tenant,
        tmp_path: Path,
    ) -> None:
        await _furnish(session, tenant.bot_id)
        target = tmp_path / "flow.json"
        result = await _cli(
            settings, "flows", "export", "--bot", str(tenant.bot_id), "--output", str(target)
        )
        assert result.exit_code == 0, result.output
        assert "written to" in result.stdout
        assert json.loads(target.read_text(encoding="utf-8")) == await _exported(api)

    async def test_an_unknown_bot_fails_clearly(self, settings: Settings) -> None:
        result = await _cli(settings, "flows", "export", "--bot", "424242")
        assert result.exit_code == 1
        assert "Flow not found" in result.output


class TestFlowsImport:
    async def test_brings_an_export_into_another_bot_and_prints_the_counts(
        self,
        settings: Settings,
        session: AsyncSession,
        sessions: Sessions,
        server_secret: bytes,
        tenant: Tenant,
        client_for: ClientFor,
        tmp_path: Path,
    ) -> None:
        await _furnish(session, tenant.bot_id)
        other = await make_tenant(sessions, server_secret, email="other@example.com")
        await flows.create_tag(session, other.bot_id, name="Existing")
        await session.commit()
        file = tmp_path / "flow.json"
        exported = await _cli(
            settings, "flows", "export", "--bot", str(tenant.bot_id), "-o", str(file)
        )
        assert exported.exit_code == 0, exported.output

        result = await _cli(settings, "flows", "import", "--bot", str(other.bot_id), str(file))
        assert result.exit_code == 0, result.output
        lines = [line.strip() for line in result.stdout.splitlines()]
        assert "flows: 1 created, 1 updated" in lines
        assert "tags: 1 created, 0 updated" in lines
        assert "user fields: 0 created, 0 updated" in lines
        assert "bot fields: 1 created, 0 updated" in lines
        assert "inbound webhooks: 0 created, 0 updated" in lines

        document = await _exported(client_for(other.token))
        t = f"f{other.bot_id}"
        welcome = next(f for f in document["flows"] if f["name"] == "Welcome")
        assert welcome["definition"]["nodes"] == [
            {
                "id": "n1",
                "type": "send_message",
                "messages": [{"type": "text", "text": f"Open {{{{{t}v1}}}}"}],
                "next": "n2",
            },
            {"id": "n2", "type": "action", "actions": [{"type": "add_tag", "tag_ns": f"{t}t2"}]},
        ]
        assert document["bot"]["start_flow"] == welcome["sub_flow_ns"] == f"{t}s1"

        again = await _cli(settings, "flows", "import", "--bot", str(other.bot_id), str(file))
        assert again.exit_code == 0, again.output
        assert "tags: 0 created, 1 updated" in again.stdout

    async def test_a_refused_document_prints_every_problem_and_changes_nothing(
        self,
        settings: Settings,
        session: AsyncSession,
        sessions: Sessions,
        api: httpx.AsyncClient,
        tenant: Tenant,
        tmp_path: Path,
    ) -> None:
        await _furnish(session, tenant.bot_id)
        document = await _exported(api)
        document["tags"].append({"name": "Brand new"})
        document["flows"].append({"name": "New flow", "definition": {"version": 1, "nodes": []}})
        document["flows"][1]["definition"]["nodes"][0]["id"] = ""
        document["bot_fields"][0]["var_type"] = "number"
        file = tmp_path / "flow.json"
        file.write_text(json.dumps(document), encoding="utf-8")
        before = await _names(sessions, tenant.bot_id)

        result = await _cli(settings, "flows", "import", "--bot", str(tenant.bot_id), str(file))
        assert result.exit_code == 1
        assert "nothing was changed" in result.stderr
        assert "Node #1 (send_message): the id is required." in result.stderr
        assert "The bot_fields.0.value field must be a number." in result.stderr
        assert await _names(sessions, tenant.bot_id) == before

    async def test_a_document_of_another_version_is_refused_for_that(
        self, settings: Settings, tenant: Tenant, tmp_path: Path
    ) -> None:
        file = tmp_path / "flow.json"
        file.write_text(json.dumps({"format": "konversation.flow", "version": 7}))
        result = await _cli(settings, "flows", "import", "--bot", str(tenant.bot_id), str(file))
        assert result.exit_code == 1
        assert "The version field must be 1." in result.stderr

    async def test_a_file_that_is_not_json_is_refused(
        self, settings: Settings, tenant: Tenant, tmp_path: Path
    ) -> None:
        file = tmp_path / "flow.json"
        file.write_text("format: konversation.flow\n")
        result = await _cli(settings, "flows", "import", "--bot", str(tenant.bot_id), str(file))
        assert result.exit_code == 1
        assert "is not a JSON document" in result.stderr

    async def test_an_unknown_bot_fails_clearly(
        self, settings: Settings, api: httpx.AsyncClient, tmp_path: Path
    ) -> None:
        file = tmp_path / "flow.json"
        file.write_text(json.dumps(await _exported(api)))
        result = await _cli(settings, "flows", "import", "--bot", "424242", str(file))
        assert result.exit_code == 1
        assert "Flow not found" in result.output


class TestFlowsSchema:
    async def test_prints_the_documents_json_schema(self, settings: Settings) -> None:
        result = await _cli(settings, "flows", "schema")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == FlowDocument.model_json_schema()
