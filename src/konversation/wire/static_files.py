"""The package's static files, compressed for browsers that take gzip: the Swagger UI and the
flow editor's bundle are megabytes of script that gzip brings to about a third."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp

# Smaller answers (icons, a short stylesheet) gain too little to be worth compressing.
MINIMUM_BYTES: Final = 1024


def static_files(directory: Path) -> ASGIApp:
    return GZipMiddleware(StaticFiles(directory=directory), minimum_size=MINIMUM_BYTES)
