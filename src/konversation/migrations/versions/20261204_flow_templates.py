"""Flow templates: packaged flows, their installs and one-time links

Revision ID: 7d4f6b8c2e53
Revises: 7c3e5a7b1d42
Create Date: 2026-12-04 18:35:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import konversation.db

revision: str = "7d4f6b8c2e53"
down_revision: str | None = "7c3e5a7b1d42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "flow_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("template_ns", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("image", sa.String(length=1024), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("flow_type", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("source_bot_id", sa.Integer(), nullable=True),
        sa.Column(
            "document",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", konversation.db.UTCDateTime(), nullable=False),
        sa.Column("created_at", konversation.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_bot_id"],
            ["bots.id"],
            name=op.f("fk_flow_templates_source_bot_id_bots"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_flow_templates_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_templates")),
        sa.UniqueConstraint("template_ns", name=op.f("uq_flow_templates_template_ns")),
    )
    with op.batch_alter_table("flow_templates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_flow_templates_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "template_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("expires_at", konversation.db.UTCDateTime(), nullable=False),
        sa.Column("used_at", konversation.db.UTCDateTime(), nullable=True),
        sa.Column("used_by_bot_id", sa.Integer(), nullable=True),
        sa.Column("created_at", konversation.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["flow_templates.id"],
            name=op.f("fk_template_links_template_id_flow_templates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["used_by_bot_id"],
            ["bots.id"],
            name=op.f("fk_template_links_used_by_bot_id_bots"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_links")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_template_links_token_digest")),
    )
    with op.batch_alter_table("template_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_template_links_template_id"), ["template_id"], unique=False
        )

    # A template's installs are listed by its ns.
    with op.batch_alter_table("template_installs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_template_installs_template_ns"), ["template_ns"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("template_installs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_template_installs_template_ns"))

    with op.batch_alter_table("template_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_template_links_template_id"))

    op.drop_table("template_links")
    with op.batch_alter_table("flow_templates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flow_templates_workspace_id"))

    op.drop_table("flow_templates")
