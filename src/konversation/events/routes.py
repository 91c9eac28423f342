"""Routes of the Flow Custom Events group (being written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Flow Custom Events"])
