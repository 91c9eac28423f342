"""`konversation keys`: create, list and revoke API keys."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from konversation.audit.service import Actor
from konversation.cli.context import database, run_or_exit
from konversation.db import session_scope
from konversation.keys import service
from konversation.keys.models import Permission
from konversation.settings import Settings

app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
console = Console()


@app.command("create")
def create(
    name: Annotated[str, typer.Option(help="A name to recognise the key by.")],
    workspace: Annotated[int, typer.Option(help="Workspace id.")],
    bot: Annotated[int | None, typer.Option(help="Bot id (the n of f<n>).")] = None,
    permission: Annotated[
        list[Permission] | None,
        typer.Option(help="Repeat for several; both when omitted."),
    ] = None,
) -> None:
    """Create a key and print its token once."""
    chosen = [p.value for p in (permission or list(Permission))]
    settings = Settings()

    async def run() -> tuple[int, str]:
        async with database(settings) as (_engine, sessions), session_scope(sessions) as session:
            issued = await service.create_key(
                session,
                workspace,
                name=name,
                bot_id=bot,
                permissions=chosen,
                server_secret=settings.server_secret(),
                by=Actor.command_line(),
            )
            return issued.key.id, issued.token

    key_id, token = run_or_exit(run())
    console.print(f"Key {key_id} created. Its token is shown only now:")
    print(token)


@app.command("list")
def list_() -> None:
    """List keys (never their tokens)."""

    async def run() -> Table:
        table = Table(
            "id", "name", "workspace", "bot", "permissions", "created", "last used", "revoked"
        )
        async with database(Settings()) as (_engine, sessions), session_scope(sessions) as session:
            for key in await service.list_keys(session):
                table.add_row(
                    str(key.id),
                    key.name,
                    str(key.workspace_id),
                    f"f{key.bot_id}" if key.bot_id else "-",
                    ", ".join(key.permissions),
                    f"{key.created_at:%Y-%m-%d %H:%M}",
                    f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never",
                    f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "",
                )
        return table

    console.print(asyncio.run(run()))


@app.command("revoke")
def revoke(key_id: Annotated[int, typer.Argument(help="The key's id, from `keys list`.")]) -> None:
    """Revoke a key: it stops working on the next request."""

    async def run() -> str:
        async with database(Settings()) as (_engine, sessions), session_scope(sessions) as session:
            key = await service.revoke_key(session, key_id, by=Actor.command_line())
            return key.name

    console.print(f"Key {key_id} ({run_or_exit(run())}) is revoked.")
