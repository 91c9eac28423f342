"""The domain never imports the web, so services stay usable from jobs and the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import konversation

PACKAGE = Path(konversation.__file__).parent
WEB = ("fastapi", "starlette", "konversation.wire", "uvicorn")
WEB_FILES = ("routes.py", "wire.py")
WEB_PACKAGES = {"wire", "cli", "dashboard", "mcp_server"}
WEB_MODULES = {"app.py", "__main__.py"}


def _domain_modules() -> list[Path]:
    return [
        path
        for path in PACKAGE.rglob("*.py")
        if not path.name.endswith(WEB_FILES)
        and path.relative_to(PACKAGE).parts[0] not in WEB_PACKAGES | WEB_MODULES | {"migrations"}
    ]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _is_web(module: str) -> bool:
    return module.startswith(WEB) or module.endswith(("routes", "wire"))


def test_domain_modules_import_nothing_of_the_web() -> None:
    modules = _domain_modules()
    assert len(modules) > 10
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(m for m in _imports(path) if _is_web(m))
        for path in modules
    }
    assert {k: v for k, v in offenders.items() if v} == {}
