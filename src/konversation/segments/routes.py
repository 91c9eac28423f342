"""Routes of the Flow Segment group (being written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Flow Segment"])
