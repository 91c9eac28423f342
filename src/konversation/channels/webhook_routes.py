"""Webhooks."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/webhooks", tags=["Webhooks"], include_in_schema=False)
