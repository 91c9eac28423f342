"""The deployment examples in deploy/ stay true: every variable they set is a setting, and
every command they run is one the command line takes, with options it knows."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from typer.testing import CliRunner

from konversation.cli.main import app
from konversation.settings import Settings

DEPLOY = Path(__file__).parent.parent / "deploy"


def _commands() -> list[list[str]]:
    """Every `konversation ...` command line of the examples, `$PORT`/`%i` made a number."""
    lines = (DEPLOY / "Procfile").read_text().splitlines()
    for unit in (DEPLOY / "systemd").glob("*.service"):
        lines += [line.removeprefix("ExecStart=") for line in unit.read_text().splitlines()]
    found = []
    for line in lines:
        if line.startswith("#") or "konversation " not in line:
            continue
        words = shlex.split(re.sub(r"\$PORT|%i", "8001", line.split(":", 1)[-1]))
        found.append(words[[w.endswith("konversation") for w in words].index(True) + 1 :])
    return found


def test_the_examples_set_only_real_settings() -> None:
    named = re.findall(
        r"^(?:Environment=)?KONVERSATION_(\w+)=",
        "\n".join(p.read_text() for p in DEPLOY.rglob("*") if p.is_file()),
        re.M,
    )
    assert named
    assert {name.lower() for name in named} <= set(Settings.model_fields)


def test_the_examples_run_real_commands_with_real_options() -> None:
    commands = _commands()
    assert {words[0] for words in commands} == {"serve", "worker", "scheduler"}
    for words in commands:
        helped = CliRunner().invoke(app, [words[0], "--help"])
        assert helped.exit_code == 0, words
        for option in (w for w in words[1:] if w.startswith("--")):
            assert option in helped.output, (words, option)
