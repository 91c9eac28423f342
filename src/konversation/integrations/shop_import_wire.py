"""Shapes of the catalogue import operations."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from konversation.integrations.shop_import_models import ShopImport


class ImportOut(BaseModel):
    import_id: int = Field(examples=[7])
    source: Literal["shopify", "woocommerce"] = Field(examples=["shopify"])
    status: Literal["queued", "running", "done", "failed"] = Field(examples=["running"])
    pages: int = Field(description="Pages of products read so far.", examples=[3])
    imported: int = Field(description="Products new to the catalogue.", examples=[120])
    updated: int = Field(description="Products imported before, brought up to date.", examples=[4])
    skipped: int = Field(
        description="Products the catalogue cannot hold (no name, no variant to sell, more "
        "than two options).",
        examples=[1],
    )
    failed: int = Field(description="Products the catalogue's checks refused.", examples=[0])
    error: str | None = Field(
        description="Why the import stopped, or why the last try of a page failed.",
        examples=[None],
    )
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    @classmethod
    def of(cls, job: ShopImport) -> ImportOut:
        return cls(
            import_id=job.id,
            source=job.source,
            status=job.status,
            pages=job.pages,
            imported=job.imported,
            updated=job.updated,
            skipped=job.skipped,
            failed=job.failed,
            error=job.error,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )
