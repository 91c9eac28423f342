"""`konversation`: serve, migrate, and manage keys and flows from a shell."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
import uvicorn
from prometheus_client import start_http_server
from rich.console import Console

from konversation.app import create_app
from konversation.cli.channels import app as channels_app
from konversation.cli.context import database
from konversation.cli.flows import app as flows_app
from konversation.cli.keys import app as keys_app
from konversation.demo import DemoSecrets, create_demo, is_empty
from konversation.errors import Unauthenticated
from konversation.jobs.worker import run_scheduler, run_worker
from konversation.logs import configure_logging, logging_config
from konversation.mcp_server.stdio import serve_stdio
from konversation.schema import setting_up, upgrade
from konversation.settings import Settings

app = typer.Typer(help="Konversation: a self-hosted chatbot platform.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(flows_app, name="flows")
app.add_typer(channels_app, name="channels")
console = Console()
# How long a stopping server waits for the requests in hand.
GRACEFUL_SECONDS = 20


@app.command()
def migrate() -> None:
    """Bring the database to the current schema."""
    asyncio.run(_migrate(Settings()))
    console.print("Database is up to date.")


async def _migrate(settings: Settings) -> None:
    async with database(settings) as (engine, _sessions), setting_up(engine):
        await upgrade(engine)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    demo: Annotated[
        bool, typer.Option(help="Create the demo workspace on an empty database.")
    ] = True,
) -> None:
    """Migrate, create the demo workspace on a first start, and serve the API and dashboard."""
    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = Settings(**overrides)  # type: ignore[arg-type]
    created = asyncio.run(_prepare(settings, with_demo=demo))
    if created is not None:
        _announce(created, settings)
    console.print(f"Serving on {settings.base_url} (API docs at {settings.base_url}/api)")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=logging_config(settings.log_level, settings.log_format),
        log_level=settings.log_level,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )


@app.command()
def mcp(
    key: Annotated[
        str,
        typer.Option(
            envvar="KONVERSATION_API_KEY",
            help="The API key the agent acts with.",
            show_default=False,
        ),
    ],
) -> None:
    """Serve the Connect API to an AI agent as an MCP server over stdio."""
    try:
        asyncio.run(serve_stdio(Settings(), key))
    except Unauthenticated:
        Console(stderr=True).print("[red]The API key is not valid (unknown or revoked).[/red]")
        raise typer.Exit(1) from None


@app.command()
def worker() -> None:
    """Run background jobs (deliveries, delays, broadcasts) taken from Redis."""
    settings = _distributed_settings()
    console.print("Worker started; waiting for jobs.")
    asyncio.run(run_worker(settings))


@app.command()
def scheduler() -> None:
    """Look for due work every second and hand it to the workers through Redis."""
    settings = _distributed_settings()
    console.print("Scheduler started.")
    asyncio.run(run_scheduler(settings))


def _distributed_settings() -> Settings:
    """The settings of a worker or scheduler, which need Redis; logging set up, and metrics
    served when a port is given."""
    settings = Settings()
    if not settings.redis_url:
        Console(stderr=True).print(
            "[red]Set KONVERSATION_REDIS_URL: without Redis, `konversation serve` runs the "
            "jobs itself.[/red]"
        )
        raise typer.Exit(1)
    configure_logging(settings.log_level, settings.log_format)
    if settings.metrics_port is not None:
        start_http_server(settings.metrics_port, addr=settings.host)
    return settings


async def _prepare(settings: Settings, *, with_demo: bool) -> DemoSecrets | None:
    async with database(settings) as (engine, sessions), setting_up(engine):
        await upgrade(engine)
        if not with_demo:
            return None
        async with sessions() as session:
            if not await is_empty(session):
                return None
            created = await create_demo(session, server_secret=settings.server_secret())
            await session.commit()
            return created


def _announce(created: DemoSecrets, settings: Settings) -> None:
    # Plain lines, never wrapped, so the key can be copied straight from the terminal.
    lines = [
        "A demo workspace was created. These secrets are shown only now:",
        f"  Dashboard:       {settings.base_url}/dashboard",
        f"  Dashboard login: {created.email}",
        f"  Password:        {created.password}",
        f"  API key:         {created.api_key}",
        f"Talk to the demo bot: {settings.base_url}/webchat/{created.web_chat_uid}",
        "First call:",
        f"  curl -H 'Authorization: Bearer {created.api_key}' {settings.base_url}/api/flow/tags",
    ]
    for line in lines:
        console.print(line, soft_wrap=True, highlight=False, markup=False)
