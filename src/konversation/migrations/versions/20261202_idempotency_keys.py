"""Idempotency keys: each caller's keys, the request they named and the answer given

Revision ID: c4e8b1d95a60
Revises: a7d3c91f0b25
Create Date: 2026-12-02 19:53:36.301624
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import konversation.db

revision: str = "c4e8b1d95a60"
down_revision: str | None = "a7d3c91f0b25"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotent_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=255), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", konversation.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotent_requests")),
        sa.UniqueConstraint("owner", "key", name=op.f("uq_idempotent_requests_owner_key")),
    )
    with op.batch_alter_table("idempotent_requests", schema=None) as batch_op:
        batch_op.create_index("ix_idempotent_requests_created_at", ["created_at"])


def downgrade() -> None:
    with op.batch_alter_table("idempotent_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_idempotent_requests_created_at")
    op.drop_table("idempotent_requests")
