"""Integration uses: stored media and outgoing conversion events

Revision ID: 807c9e1f5b86
Revises: 7f6b8d0e4a75
Create Date: 2026-12-04 18:35:00.000000
"""

from collections.abc import Sequence

revision: str = "807c9e1f5b86"
down_revision: str | None = "7f6b8d0e4a75"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
