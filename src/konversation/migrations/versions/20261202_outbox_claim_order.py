"""The outbox is claimed in (due time, id) order: one index serves both

Revision ID: 8b51c0e2a7d4
Revises: e1f78b2de8f0
Create Date: 2026-12-02 04:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8b51c0e2a7d4"
down_revision: str | None = "e1f78b2de8f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_status_due_at")
        batch_op.create_index(
            "ix_deliveries_status_due_at_id", ["status", "due_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_status_due_at_id")
        batch_op.create_index("ix_deliveries_status_due_at", ["status", "due_at"], unique=False)
