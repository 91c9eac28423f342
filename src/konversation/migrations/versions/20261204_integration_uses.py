"""Integration uses: stored media and outgoing conversion events

Revision ID: 807c9e1f5b86
Revises: 7f6b8d0e4a75
Create Date: 2026-12-04 18:35:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import konversation.db

revision: str = "807c9e1f5b86"
down_revision: str | None = "7f6b8d0e4a75"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "integration_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=191), nullable=False),
        sa.Column("subject", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", konversation.db.UTCDateTime(), nullable=False),
        sa.Column("leased_until", konversation.db.UTCDateTime(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("result", JSON, nullable=True),
        sa.Column("created_at", konversation.db.UTCDateTime(), nullable=False),
        sa.Column("done_at", konversation.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_integration_calls_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_calls")),
        sa.UniqueConstraint(
            "workspace_id", "kind", "key", name=op.f("uq_integration_calls_workspace_id_kind_key")
        ),
    )
    with op.batch_alter_table("integration_calls", schema=None) as batch_op:
        batch_op.create_index(
            "ix_integration_calls_due", ["status", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("integration_calls", schema=None) as batch_op:
        batch_op.drop_index("ix_integration_calls_due")

    op.drop_table("integration_calls")
