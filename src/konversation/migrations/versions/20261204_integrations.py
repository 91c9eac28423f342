"""Integrations: saved settings of outside services, secrets encrypted

Revision ID: 7a1c3e5f9b20
Revises: 5e2d7f1c9a34
Create Date: 2026-12-04 18:35:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import konversation.db

revision: str = "7a1c3e5f9b20"
down_revision: str | None = "5e2d7f1c9a34"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "integrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("public", _json(), nullable=False),
        sa.Column("sealed", _json(), nullable=False),
        sa.Column("updated_at", konversation.db.UTCDateTime(), nullable=False),
        sa.Column("created_at", konversation.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_integrations_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrations")),
        sa.UniqueConstraint("workspace_id", "kind", name=op.f("uq_integrations_workspace_id_kind")),
    )


def downgrade() -> None:
    op.drop_table("integrations")
