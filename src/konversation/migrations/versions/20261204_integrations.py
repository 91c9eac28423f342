"""Integrations: saved settings of outside services, secrets encrypted

Revision ID: 7a1c3e5f9b20
Revises: 5e2d7f1c9a34
Create Date: 2026-12-04 18:35:00.000000
"""

from collections.abc import Sequence

revision: str = "7a1c3e5f9b20"
down_revision: str | None = "5e2d7f1c9a34"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
