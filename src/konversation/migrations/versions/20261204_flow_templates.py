"""Flow templates: packaged flows, their installs and one-time links

Revision ID: 7d4f6b8c2e53
Revises: 7c3e5a7b1d42
Create Date: 2026-12-04 18:35:00.000000
"""

from collections.abc import Sequence

revision: str = "7d4f6b8c2e53"
down_revision: str | None = "7c3e5a7b1d42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
