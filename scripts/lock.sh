#!/usr/bin/env bash
# Regenerates the hash-pinned requirement files in requirements/ from pyproject.toml:
#
#   requirements/app.txt    what the server needs
#   requirements/test.txt   the same plus the `test` extra (pytest, mypy, ruff, playwright, ...)
#   requirements/build.txt  the build backend that installs the project itself (`pip install
#                           --no-build-isolation -e .`): [build-system] requires, plus `editables`,
#                           which hatchling asks for when it builds an editable install; pinned to
#                           the same versions as test.txt where the two overlap
#
# One resolution for Python 3.11 and newer on every platform (--universal), wheels only, so that
# `pip install --require-hashes --only-binary :all:` (what dev.py runs) never builds anything.
# The files name no index or host: this script checks that.
#
# Needs uv: $UV if set, else .venv/bin/uv, else `uv` on PATH (`pip install uv` brings it).
# Options are passed on to uv, e.g. `scripts/lock.sh --upgrade` or `--upgrade-package fastapi`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n "${UV:-}" ]]; then
    uv=$UV
elif [[ -x .venv/bin/uv ]]; then
    uv=.venv/bin/uv
else
    uv=uv
fi

compile() {
    "$uv" pip compile --quiet --universal --python-version 3.11 --generate-hashes \
        --only-binary :all: --no-emit-index-url --no-emit-find-links \
        --custom-compile-command "scripts/lock.sh" "$@"
}

build_requires() {
    python3 -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))
                ["build-system"]["requires"], sep="\n")'
    echo "editables"
}

compile pyproject.toml -o requirements/app.txt "$@"
compile pyproject.toml --extra test -o requirements/test.txt "$@"
build_requires | compile - -c requirements/test.txt -o requirements/build.txt "$@"

if grep -nEi 'https?:|file:|--(extra-)?index-url|--find-links|--trusted-host' requirements/*.txt
then
    echo "lock.sh: the lines above name an index or a host; requirement files must not" >&2
    exit 1
fi
echo "lock.sh: wrote requirements/app.txt, test.txt and build.txt"
