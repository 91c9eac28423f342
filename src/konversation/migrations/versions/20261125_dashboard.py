"""The dashboard: failed sign-ins, counted for the lockout

Revision ID: e1f78b2de8f0
Revises: 3d06e13c0478
Create Date: 2026-11-25 14:33:24.850581
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import konversation.db

revision: str = "e1f78b2de8f0"
down_revision: str | None = "3d06e13c0478"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("created_at", konversation.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index("ix_login_failures_created_at", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_login_failures_email_created_at", ["email", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failures_email_created_at")
        batch_op.drop_index("ix_login_failures_created_at")

    op.drop_table("login_failures")
