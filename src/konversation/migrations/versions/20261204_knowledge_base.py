"""Knowledge base: rows with their embeddings

Revision ID: 7e5a7c9d3f64
Revises: 7d4f6b8c2e53
Create Date: 2026-12-04 18:35:00.000000
"""

from collections.abc import Sequence

revision: str = "7e5a7c9d3f64"
down_revision: str | None = "7d4f6b8c2e53"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
