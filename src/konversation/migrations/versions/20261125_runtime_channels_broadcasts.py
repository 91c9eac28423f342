"""Runtime state, bot channels, the outbox, broadcasts, keyword triggers and node ids

Revision ID: f4e530172018
Revises: 6ff4a978fc8c
Create Date: 2026-11-25 13:20:38.978296
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import konversation.db

revision: str = "f4e530172018"
down_revision: str | None = "6ff4a978fc8c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bot_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bot_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("uid", sa.String(length=64), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column(
            "config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", konversation.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["bots.id"], name=op.f("fk_bot_channels_bot_id_bots"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_channels")),
        sa.UniqueConstraint("bot_id", "type", name=op.f("uq_bot_channels_bot_id_type")),
        sa.UniqueConstraint("uid", name=op.f("uq_bot_channels_uid")),
    )
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bot_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("flow_id", sa.Integer(), nullable=False),
        sa.Column(
            "audience",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("message_type", sa.String(length=32), nullable=True),
        sa.Column(
            "user_fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "bot_fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scheduled_at", konversation.db.UTCDateTime(), nullable=False),
        sa.Column("next_run_at", konversation.db.UTCDateTime(), nullable=False),
        sa.Column("leased_until", konversation.db.UTCDateTime(), nullable=True),
        sa.Column("max_per_minute", sa.Integer(), nullable=False),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("started_at", konversation.db.UTCDateTime(), nullable=True),
        sa.Column("finished_at", konversation.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", konversation.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["bots.id"], name=op.f("fk_broadcasts_bot_id_bots"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["flow_id"], ["flows.id"], name=op.f("fk_broadcasts_flow_id_flows"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_broadcasts_bot_id"), ["bot_id"], unique=False)
        batch_op.create_index(
            "ix_broadcasts_status_next_run_at", ["status", "next_run_at"], unique=False
        )

    op.create_table(
        "flow_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bot_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=True),
        sa.Column(
            "stack",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "variables",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("wait", sa.String(length=16), nullable=True),
        sa.Column("due_at", konversation.db.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "offered",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", konversation.db.UTCDateTime(), nullable=False),
        sa.Column("created_at", konversation.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["bots.id"], name=op.f("fk_flow_runs_bot_id_bots"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["flow_id"], ["flows.id"], name=op.f("fk_flow_runs_flow_id_flows"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_flow_runs_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_runs")),
    )
    with op.batch_alter_table("flow_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flow_runs_bot_id"), ["bot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_flow_runs_flow_id"), ["flow_id"], unique=False)
        batch_op.create_index("ix_flow_runs_status_due_at", ["status", "due_at"], unique=False)
        batch_op.create_index(
            "ix_flow_runs_subscriber_id_status", ["subscriber_id", "status"], unique=False
        )

    op.create_table(
        "keyword_triggers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bot_id", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.Integer(), nullable=False),
        sa.Column("keyword", sa.String(length=100), nullable=False),
        sa.Column("match", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["bot_id"],
            ["bots.id"],
            name=op.f("fk_keyword_triggers_bot_id_bots"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["flow_id"],
            ["flows.id"],
            name=op.f("fk_keyword_triggers_flow_id_flows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_keyword_triggers")),
    )
    with op.batch_alter_table("keyword_triggers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_keyword_triggers_bot_id_keyword", ["bot_id", "keyword"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_keyword_triggers_flow_id"), ["flow_id"], unique=False)

    op.create_table(
        "node_refs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bot_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["bots.id"], name=op.f("fk_node_refs_bot_id_bots"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["flow_id"], ["flows.id"], name=op.f("fk_node_refs_flow_id_flows"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_node_refs")),
        sa.UniqueConstraint("bot_id", "number", name=op.f("uq_node_refs_bot_id_number")),
        sa.UniqueConstraint("flow_id", "node_id", name=op.f("uq_node_refs_flow_id_node_id")),
    )
    op.create_table(
        "broadcast_recipients",
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("at", konversation.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
            name=op.f("fk_broadcast_recipients_broadcast_id_broadcasts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_broadcast_recipients_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "broadcast_id", "subscriber_id", name=op.f("pk_broadcast_recipients")
        ),
    )
    with op.batch_alter_table("broadcast_recipients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_broadcast_recipients_subscriber_id"), ["subscriber_id"], unique=False
        )

    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("bot_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("recipient", sa.String(length=128), nullable=True),
        sa.Column(
            "body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", konversation.db.UTCDateTime(), nullable=False),
        sa.Column("leased_until", konversation.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", konversation.db.UTCDateTime(), nullable=False),
        sa.Column("sent_at", konversation.db.UTCDateTime(), nullable=True),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["bots.id"], name=op.f("fk_deliveries_bot_id_bots"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_deliveries_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_deliveries_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("key", name=op.f("uq_deliveries_key")),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deliveries_bot_id"), ["bot_id"], unique=False)
        batch_op.create_index("ix_deliveries_status_due_at", ["status", "due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_deliveries_subscriber_id"), ["subscriber_id"], unique=False
        )

    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_channel", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.drop_column("last_channel")

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_subscriber_id"))
        batch_op.drop_index("ix_deliveries_status_due_at")
        batch_op.drop_index(batch_op.f("ix_deliveries_bot_id"))

    op.drop_table("deliveries")
    with op.batch_alter_table("broadcast_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_broadcast_recipients_subscriber_id"))

    op.drop_table("broadcast_recipients")
    op.drop_table("node_refs")
    with op.batch_alter_table("keyword_triggers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_keyword_triggers_flow_id"))
        batch_op.drop_index("ix_keyword_triggers_bot_id_keyword")

    op.drop_table("keyword_triggers")
    with op.batch_alter_table("flow_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_flow_runs_subscriber_id_status")
        batch_op.drop_index("ix_flow_runs_status_due_at")
        batch_op.drop_index(batch_op.f("ix_flow_runs_flow_id"))
        batch_op.drop_index(batch_op.f("ix_flow_runs_bot_id"))

    op.drop_table("flow_runs")
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_index("ix_broadcasts_status_next_run_at")
        batch_op.drop_index(batch_op.f("ix_broadcasts_bot_id"))

    op.drop_table("broadcasts")
    op.drop_table("bot_channels")
