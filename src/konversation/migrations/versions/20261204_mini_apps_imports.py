"""Mini-apps and catalogue imports from shops

Revision ID: 7f6b8d0e4a75
Revises: 7e5a7c9d3f64
Create Date: 2026-12-04 18:35:00.000000
"""

from collections.abc import Sequence

revision: str = "7f6b8d0e4a75"
down_revision: str | None = "7e5a7c9d3f64"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
