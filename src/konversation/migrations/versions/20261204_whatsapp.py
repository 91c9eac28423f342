"""WhatsApp: message templates and the Cloud API channel's state

Revision ID: 7c3e5a7b1d42
Revises: 7b2d4f6a0c31
Create Date: 2026-12-04 18:35:00.000000
"""

from collections.abc import Sequence

revision: str = "7c3e5a7b1d42"
down_revision: str | None = "7b2d4f6a0c31"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
