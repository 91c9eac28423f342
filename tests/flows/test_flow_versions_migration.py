"""The flow versions migration: the documents live before it become every flow's version 1."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import Connection, select

from konversation.db import make_engine, make_session_factory, session_scope
from konversation.flows import service as flows
from konversation.flows.models import Flow, FlowKind, FlowVersion
from konversation.schema import alembic_config, upgrade
from konversation.workspaces import service as workspaces
from konversation.workspaces.models import User

BEFORE = "807c9e1f5b86"
DOCUMENT = {
    "version": 1,
    "start": "hi",
    "nodes": [{"id": "hi", "type": "send_message", "messages": [{"type": "text", "text": "Hi"}]}],
}


async def test_every_flow_gets_its_live_document_as_version_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'before.db'}"
    engine = make_engine(url)
    config = alembic_config(url)

    def migrate(connection: Connection, to: str, *, down: bool = False) -> None:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, to)

    try:
        await upgrade(engine)
        factory = make_session_factory(engine)
        async with session_scope(factory) as session:
            owner = User(name="Ada", email="ada@example.com", password_hash="!")
            session.add(owner)
            await session.flush()
            workspace = await workspaces.create_workspace(session, name="Acme", owner=owner)
            bot = await workspaces.create_bot(session, workspace.id, name="Acme bot")
            await flows.create_flow(
                session, bot.id, name="Main flow", kind=FlowKind.MAIN, definition=DOCUMENT
            )
        async with engine.begin() as connection:
            await connection.run_sync(migrate, BEFORE, down=True)
        async with engine.begin() as connection:
            await connection.run_sync(migrate, "head")

        async with session_scope(factory) as session:
            flow = await session.scalar(select(Flow))
            version = await session.scalar(select(FlowVersion))
            assert flow is not None
            assert version is not None
            assert (flow.published_version, flow.draft, flow.draft_revision) == (1, None, 0)
            assert (version.flow_id, version.number, version.definition) == (flow.id, 1, DOCUMENT)
            assert (version.published_by, version.note) == ("upgrade", "")
    finally:
        await engine.dispose()
