"""Routes of the Team Label group (being written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Team Label"])
