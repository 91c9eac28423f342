"""Mini-apps and catalogue imports from shops

Revision ID: 7f6b8d0e4a75
Revises: 7e5a7c9d3f64
Create Date: 2026-12-04 18:35:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import konversation.db

revision: str = "7f6b8d0e4a75"
down_revision: str | None = "7e5a7c9d3f64"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("external_id", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "ix_products_workspace_id_source_external_id",
            ["workspace_id", "source", "external_id"],
            unique=True,
        )
    with op.batch_alter_table("product_variants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "ix_product_variants_product_id_external_id",
            ["product_id", "external_id"],
            unique=True,
        )

    op.create_table(
        "shop_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cursor", sa.String(length=1024), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("next_run_at", konversation.db.UTCDateTime(), nullable=False),
        sa.Column("leased_until", konversation.db.UTCDateTime(), nullable=True),
        sa.Column("started_at", konversation.db.UTCDateTime(), nullable=True),
        sa.Column("finished_at", konversation.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", konversation.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_shop_imports_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_imports")),
    )
    with op.batch_alter_table("shop_imports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_shop_imports_status_next_run_at", ["status", "next_run_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_shop_imports_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "installed_apps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("app_ns", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("intro", sa.Text(), nullable=False),
        sa.Column("logo", sa.String(length=1024), nullable=True),
        sa.Column("image", sa.String(length=1024), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("auth_type", sa.String(length=16), nullable=False),
        sa.Column("base_url", sa.String(length=2048), nullable=False),
        sa.Column("sealed_api_key", sa.Text(), nullable=True),
        sa.Column("param_names", _json(), nullable=False),
        sa.Column("actions", _json(), nullable=False),
        sa.Column("triggers", _json(), nullable=False),
        sa.Column("updated_at", konversation.db.UTCDateTime(), nullable=False),
        sa.Column("created_at", konversation.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_installed_apps_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installed_apps")),
        sa.UniqueConstraint(
            "workspace_id", "app_ns", name=op.f("uq_installed_apps_workspace_id_app_ns")
        ),
    )


def downgrade() -> None:
    op.drop_table("installed_apps")
    with op.batch_alter_table("shop_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_imports_workspace_id"))
        batch_op.drop_index("ix_shop_imports_status_next_run_at")
    op.drop_table("shop_imports")
    with op.batch_alter_table("product_variants", schema=None) as batch_op:
        batch_op.drop_index("ix_product_variants_product_id_external_id")
        batch_op.drop_column("external_id")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_workspace_id_source_external_id")
        batch_op.drop_column("external_id")
        batch_op.drop_column("source")
