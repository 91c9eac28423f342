#!/usr/bin/env python3
"""Set up the project's virtual environment, then serve, test or check.

    python3 dev.py serve [ARGS]   install requirements/app.txt, run `konversation serve ARGS`
    python3 dev.py test [ARGS]    install requirements/test.txt and Chromium, run pytest -n 2 ARGS
                                  (without ARGS, the flow editor's Vitest tests first)
    python3 dev.py check          ruff, ruff format, mypy, `alembic check` and the flow editor's
                                  bundle against its source

Standard library only, so any Python 3.11 runs it. Everything goes into `.venv`, from the
hash-pinned files in requirements/ (`pip install --require-hashes`); the install is redone only
when those files or pyproject.toml change. `scripts/lock.sh` regenerates the pinned files.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
PYTHON = BIN / "python"
STAMP = VENV / "konversation-requirements.sha256"
REQUIREMENTS = ROOT / "requirements"
APP, TEST, BUILD = (REQUIREMENTS / f"{name}.txt" for name in ("app", "test", "build"))
CHROMIUM = Path("/usr/bin/chromium")
FRONTEND = ROOT / "scripts" / "frontend.sh"

# Run by the venv's Python: `alembic check` against the database URL given as argv[1].
ALEMBIC_CHECK = """
import sys
from alembic import command
from alembic.util import CommandError
from konversation.schema import alembic_config
try:
    command.check(alembic_config(sys.argv[1]))
except CommandError as error:
    sys.exit(f"alembic check: {error}")
"""


def say(message: str) -> None:
    print(f"dev.py: {message}", flush=True)


def run(*command: str | os.PathLike[str]) -> None:
    subprocess.run([os.fspath(part) for part in command], cwd=ROOT, check=True)


def succeeds(*command: str | os.PathLike[str]) -> bool:
    try:
        done = subprocess.run([os.fspath(part) for part in command], cwd=ROOT, capture_output=True)
    except OSError:  # no such program, or a venv whose Python is gone
        return False
    return done.returncode == 0


def apt_install(*packages: str) -> None:
    """Install Debian packages, through sudo when not root."""
    sudo: list[str] = []
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            sys.exit(f"dev.py: please install, as root: apt-get install {' '.join(packages)}")
        sudo = ["sudo"]
    apt = [*sudo, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]
    say(f"installing {', '.join(packages)} from Debian's packages")
    run(*apt, "-qq", "update")
    run(*apt, "-q", "install", "-y", *packages)


def ensure_venv() -> None:
    if succeeds(PYTHON, "-m", "pip", "--version"):
        return
    if succeeds(PYTHON, "-c", ""):
        say("adding pip to .venv")
        run(PYTHON, "-m", "ensurepip", "--upgrade")
        return
    if importlib.util.find_spec("ensurepip") is None:  # Debian splits venv support off
        apt_install(f"python3.{sys.version_info.minor}-venv")
    say(f"creating .venv with Python {sys.version.split()[0]}")
    run(sys.executable, "-m", "venv", "--clear", VENV)


def digest(requirements: Path) -> str:
    """What an install from `requirements` depends on: the pins, and the project's metadata."""
    sha = hashlib.sha256()
    for path in (requirements, BUILD, ROOT / "pyproject.toml"):
        sha.update(path.read_bytes())
    return sha.hexdigest()


def pip_install(*args: str | os.PathLike[str]) -> None:
    run(PYTHON, "-m", "pip", "--disable-pip-version-check", "--quiet", "install", *args)


def install(requirements: Path, *or_else: Path) -> None:
    """Bring .venv to `requirements` (an install from one of `or_else` will do as well)."""
    ensure_venv()
    wanted = digest(requirements)
    if STAMP.is_file() and STAMP.read_text().strip() in {wanted, *map(digest, or_else)}:
        return
    STAMP.unlink(missing_ok=True)
    say(f"installing {requirements.relative_to(ROOT)} into .venv (hash-checked; takes a while)")
    pip_install("--require-hashes", "--only-binary", ":all:", "-r", BUILD, "-r", requirements)
    say("installing konversation itself into .venv (editable)")
    pip_install("--no-deps", "--no-build-isolation", "--editable", ".")
    STAMP.write_text(wanted + "\n")


def exec_venv(program: str, *args: str) -> None:
    os.chdir(ROOT)
    os.execv(BIN / program, [os.fspath(BIN / program), *args])  # a bare argv[0] loses the venv


def serve(args: list[str]) -> None:
    install(APP, TEST)
    say("starting konversation serve")
    exec_venv("konversation", "serve", *args)


def frontend(*steps: str) -> None:
    """Steps of the flow editor's front end (scripts/frontend.sh), with Debian's Node.js and npm
    installed when npm is missing."""
    if shutil.which("npm") is None:
        apt_install("nodejs", "npm")
    for step in steps:
        say(f"flow editor: {step}")
        run("bash", FRONTEND, step)


def test(args: list[str]) -> None:
    install(TEST)
    if not CHROMIUM.exists():
        apt_install("chromium")
    if not args:  # the whole suite: the editor's own tests too
        frontend("install", "test")
    say("running pytest")
    exec_venv("python", "-m", "pytest", "-n", "2", *args)


def check(args: list[str]) -> None:
    if args:
        sys.exit("dev.py: check takes no arguments")
    install(TEST)
    failed: list[str] = []

    def step(name: str, *command: str, env: dict[str, str] | None = None) -> bool:
        say(name)
        if subprocess.run([BIN / command[0], *command[1:]], cwd=ROOT, env=env).returncode:
            failed.append(name)
            return False
        return True

    step("ruff check", "ruff", "check")
    step("ruff format --check", "ruff", "format", "--check")
    step("mypy", "mypy")
    step("mypy dev.py", "mypy", "dev.py")
    with tempfile.TemporaryDirectory(prefix="konversation-check-") as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/check.db"
        env = {**os.environ, "KONVERSATION_DATABASE_URL": url}
        if step("konversation migrate (temporary SQLite)", "konversation", "migrate", env=env):
            step("alembic check", "python", "-c", ALEMBIC_CHECK, url, env=env)
    try:
        frontend("install", "check")
    except subprocess.CalledProcessError:
        failed.append("the flow editor's bundle")
    if failed:
        sys.exit(f"dev.py: failed: {'; '.join(failed)}")
    say("all checks passed")


COMMANDS = {"serve": serve, "test": test, "check": check}


def main() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 (run by whatever python3 is there)
        sys.exit("dev.py: needs Python 3.11 or newer")
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    try:
        COMMANDS[sys.argv[1]](sys.argv[2:])
    except subprocess.CalledProcessError as error:
        command = " ".join(map(os.fspath, error.cmd))
        sys.exit(f"dev.py: failed (exit {error.returncode}): {command}")


if __name__ == "__main__":
    main()
