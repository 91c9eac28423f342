"""`konversation flows`: export and import a bot's whole flow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

from konversation.cli.context import database, run_or_exit
from konversation.db import session_scope
from konversation.errors import Invalid
from konversation.flows import export
from konversation.settings import Settings
from konversation.wire.errors import field_errors

app = typer.Typer(help="Export and import flows.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)

BotOption = Annotated[int, typer.Option("--bot", help="Bot id (the n of f<n>).")]


@app.command("export")
def export_(
    bot: BotOption,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write here instead of standard output."),
    ] = None,
) -> None:
    """Write the bot's whole flow as one JSON document."""

    async def run() -> export.FlowDocument:
        async with database(Settings()) as (_engine, sessions), session_scope(sessions) as session:
            return await export.export_flow(session, bot)

    text = _dumps(run_or_exit(run()).model_dump(mode="json"))
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    _say(f"Flow of bot f{bot} written to {output}.")


@app.command("import")
def import_(
    bot: BotOption,
    file: Annotated[
        Path,
        typer.Argument(
            help="A document written by `flows export` or `GET /flow/export`.",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
) -> None:
    """Bring a flow document into the bot: all of it, or nothing when any part is refused."""
    document = _read(file)

    async def run() -> export.ImportCounts | Invalid:
        try:
            async with (
                database(Settings()) as (_engine, sessions),
                session_scope(sessions) as session,
            ):
                return await export.import_flow(session, bot, document)
        except Invalid as invalid:  # raised, and so rolled back, before it is reported
            return invalid

    counts = run_or_exit(run())
    if isinstance(counts, Invalid):
        _fail(file, counts)
    _say(f"Imported {file} into bot f{bot}:")
    for kind, tally in counts:
        _say(f"  {kind.replace('_', ' ')}: {tally.created} created, {tally.updated} updated")


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema of the flow document."""
    typer.echo(_dumps(export.json_schema()), nl=False)


def _read(file: Path) -> export.FlowDocument:
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        _say(f"{file} is not a JSON document: {error}", err=True)
        raise typer.Exit(1) from None
    if not isinstance(raw, dict):
        _say(f"{file} does not hold a flow document (a JSON object).", err=True)
        raise typer.Exit(1)
    try:
        return export.FlowDocument.model_validate(raw)
    except ValidationError as refused:
        _fail(file, Invalid(field_errors(refused.errors())))


def _fail(file: Path, invalid: Invalid) -> NoReturn:
    _say(f"{file} was refused; nothing was changed:", err=True)
    for messages in invalid.errors.values():
        for message in messages:
            _say(f"  {message}", err=True)
    raise typer.Exit(1)


def _say(text: str, *, err: bool = False) -> None:
    # Paths and messages are printed as they are: never read as markup, never wrapped.
    target = errors if err else console
    target.print(text, style="red" if err else None, markup=False, highlight=False, soft_wrap=True)


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"
