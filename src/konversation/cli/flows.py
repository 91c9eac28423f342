"""`konversation flows`: export and import a bot's whole flow."""

from __future__ import annotations

import typer

app = typer.Typer(help="Export and import flows.", no_args_is_help=True)
