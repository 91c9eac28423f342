"""Interactive API docs served entirely from this package: no CDN, no outside requests.

Swagger UI's assets are vendored under ``static/swagger`` (see ``static/swagger/VERSION``).
The OpenAPI document itself is served by FastAPI at ``/api-docs``; it declares the
``/api`` server, so "Try it out" calls land on this same origin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from konversation.wire.static_files import static_files

STATIC_DIR: Final = Path(__file__).resolve().parent / "static"
STATIC_URL: Final = "/static"
SWAGGER_URL: Final = f"{STATIC_URL}/swagger"
OPENAPI_URL: Final = "/api-docs"
DOCS_TITLE: Final = "Konversation Connect API"

SWAGGER_UI_PARAMETERS: Final[dict[str, Any]] = {
    "persistAuthorization": True,
    "displayRequestDuration": True,
    "tryItOutEnabled": False,
    # A search box over the groups: with some 190 operations it is the quickest way in.
    "filter": True,
    # Never show the online validator badge (an image from an outside host), whatever the layout.
    "validatorUrl": None,
}


def _swagger_ui_page() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title=DOCS_TITLE,
        swagger_js_url=f"{SWAGGER_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_URL}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_URL}/favicon-32x32.png",
        swagger_ui_parameters=dict(SWAGGER_UI_PARAMETERS),
    )


def install_docs(app: FastAPI) -> None:
    """Mount the package's static files and serve Swagger UI at ``/api``."""
    app.mount(STATIC_URL, static_files(STATIC_DIR), name="static")

    async def swagger_ui() -> HTMLResponse:
        return _swagger_ui_page()

    for path in ("/api", "/api/"):
        app.add_api_route(
            path,
            swagger_ui,
            methods=["GET"],
            include_in_schema=False,
            response_class=HTMLResponse,
        )
