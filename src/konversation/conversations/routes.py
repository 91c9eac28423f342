"""Routes of the Flow Conversation group (being written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Flow Conversation"])
