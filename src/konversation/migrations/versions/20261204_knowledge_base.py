"""Knowledge base: rows with their embeddings

Revision ID: 7e5a7c9d3f64
Revises: 7d4f6b8c2e53
Create Date: 2026-12-04 18:35:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import konversation.db

revision: str = "7e5a7c9d3f64"
down_revision: str | None = "7d4f6b8c2e53"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "knowledge_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("heading", sa.String(length=50), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("embedding_model", sa.String(length=100), nullable=True),
        sa.Column("updated_at", konversation.db.UTCDateTime(), nullable=False),
        sa.Column("created_at", konversation.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_knowledge_rows_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_rows")),
        sa.UniqueConstraint(
            "workspace_id", "heading", name=op.f("uq_knowledge_rows_workspace_id_heading")
        ),
    )
    op.create_table(
        "knowledge_revisions",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_knowledge_revisions_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_knowledge_revisions")),
    )
    op.create_table(
        "knowledge_embedding_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("due_at", konversation.db.UTCDateTime(), nullable=False),
        sa.Column("leased_until", konversation.db.UTCDateTime(), nullable=True),
        sa.Column("started_at", konversation.db.UTCDateTime(), nullable=True),
        sa.Column("finished_at", konversation.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", konversation.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_knowledge_embedding_jobs_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_embedding_jobs")),
    )
    with op.batch_alter_table("knowledge_embedding_jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_knowledge_embedding_jobs_status_due_at", ["status", "due_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_knowledge_embedding_jobs_workspace_id"), ["workspace_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("knowledge_embedding_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_knowledge_embedding_jobs_workspace_id"))
        batch_op.drop_index("ix_knowledge_embedding_jobs_status_due_at")

    op.drop_table("knowledge_embedding_jobs")
    op.drop_table("knowledge_revisions")
    op.drop_table("knowledge_rows")
