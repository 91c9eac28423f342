"""Ticket lists: boards, typed columns, items and their change log

Revision ID: 7b2d4f6a0c31
Revises: 7a1c3e5f9b20
Create Date: 2026-12-04 18:35:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import konversation.db

revision: str = "7b2d4f6a0c31"
down_revision: str | None = "7a1c3e5f9b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "ticket_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("icon", sa.String(length=64), nullable=True),
        sa.Column("list_code", sa.String(length=32), nullable=False),
        sa.Column("is_live", sa.Boolean(), nullable=False),
        sa.Column("created_at", konversation.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_ticket_lists_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_lists")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_ticket_lists_workspace_id_name")),
    )

    op.create_table(
        "ticket_columns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("options", JSON_DOC, nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["ticket_lists.id"],
            name=op.f("fk_ticket_columns_list_id_ticket_lists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_columns")),
        sa.UniqueConstraint("list_id", "key", name=op.f("uq_ticket_columns_list_id_key")),
        sa.UniqueConstraint("list_id", "name", name=op.f("uq_ticket_columns_list_id_name")),
    )

    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("values", JSON_DOC, nullable=False),
        sa.Column("updated_at", konversation.db.UTCDateTime(), nullable=False),
        sa.Column("created_at", konversation.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["ticket_lists.id"],
            name=op.f("fk_tickets_list_id_ticket_lists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_tickets_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_list_id_id", ["list_id", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_tickets_subscriber_id"), ["subscriber_id"], unique=False
        )

    op.create_table(
        "ticket_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("bot_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_number", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("column_name", sa.String(length=16), nullable=True),
        sa.Column("old_value", JSON_DOC, nullable=True),
        sa.Column("new_value", JSON_DOC, nullable=True),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=True),
        sa.Column("created_at", konversation.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["ticket_lists.id"],
            name=op.f("fk_ticket_changes_list_id_ticket_lists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_changes")),
    )
    with op.batch_alter_table("ticket_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ticket_changes_list_id_created_at", ["list_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_ticket_changes_list_id_item_id", ["list_id", "item_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_changes_list_id_item_id")
        batch_op.drop_index("ix_ticket_changes_list_id_created_at")

    op.drop_table("ticket_changes")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tickets_subscriber_id"))
        batch_op.drop_index("ix_tickets_list_id_id")

    op.drop_table("tickets")
    op.drop_table("ticket_columns")
    op.drop_table("ticket_lists")
