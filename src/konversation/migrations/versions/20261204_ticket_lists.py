"""Ticket lists: boards, typed columns, items and their change log

Revision ID: 7b2d4f6a0c31
Revises: 7a1c3e5f9b20
Create Date: 2026-12-04 18:35:00.000000
"""

from collections.abc import Sequence

revision: str = "7b2d4f6a0c31"
down_revision: str | None = "7a1c3e5f9b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
