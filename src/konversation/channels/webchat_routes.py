"""The web chat: the page, the widget script and the visitor's live connection."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/webchat", tags=["Web chat"], include_in_schema=False)
