"""What the mini-app tests share: an app's install declaration, and installing it by the API."""

from __future__ import annotations

from typing import Any

import httpx


def declaration(app_ns: str = "acme_crm", **fields: Any) -> dict[str, Any]:
    """The body of `POST /installed-mini-app/install` for an app with two actions and one
    trigger, `paid`; `fields` replace its own."""
    return {
        "app_ns": app_ns,
        "title": "Acme CRM",
        "intro": "Looks up customers.",
        "logo": "https://crm.example.com/logo.png",
        "version": "2.1",
        "base_url": "http://127.0.0.1:9/api",
        "param_names": ["api_key"],
        "actions": [
            {"name": "lookup", "method": "GET", "path": "/customers", "param_names": ["phone"]},
            {"name": "note", "method": "POST", "path": "/notes", "param_names": ["text"]},
        ],
        "triggers": [{"name": "paid", "description": "An invoice was paid."}],
        **fields,
    }


async def install(api: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await api.post("/installed-mini-app/install", json=declaration(**fields))
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data
