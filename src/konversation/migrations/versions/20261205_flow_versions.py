"""Flow versions: a draft per flow, and every published document kept

Revision ID: a1b2c3d4e5f6
Revises: 807c9e1f5b86
Create Date: 2026-12-05 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import konversation.db

revision: str = "a1b2c3d4e5f6"
down_revision: str | None = "807c9e1f5b86"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
# Who published the documents that were live before versions were kept.
EARLIER = "upgrade"


def upgrade() -> None:
    with op.batch_alter_table("flows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draft", JSON, nullable=True))
        batch_op.add_column(
            sa.Column("draft_revision", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("published_version", sa.Integer(), nullable=True))
    versions = op.create_table(
        "flow_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("published_at", konversation.db.UTCDateTime(), nullable=False),
        sa.Column("published_by", sa.String(length=255), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["flow_id"],
            ["flows.id"],
            name=op.f("fk_flow_versions_flow_id_flows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_versions")),
        sa.UniqueConstraint("flow_id", "number", name=op.f("uq_flow_versions_flow_id_number")),
    )
    _first_versions(versions)


def _first_versions(versions: sa.Table) -> None:
    """Every flow's current document becomes its version 1."""
    flows = sa.table(
        "flows",
        sa.column("id", sa.Integer()),
        sa.column("definition", JSON),
        sa.column("published_version", sa.Integer()),
    )
    bind = op.get_bind()
    now = konversation.db.utcnow()
    rows = [
        {
            "flow_id": flow_id,
            "number": 1,
            "definition": definition,
            "published_at": now,
            "published_by": EARLIER,
            "note": "",
        }
        for flow_id, definition in bind.execute(sa.select(flows.c.id, flows.c.definition))
    ]
    if rows:
        op.bulk_insert(versions, rows)
    bind.execute(sa.update(flows).values(published_version=1))


def downgrade() -> None:
    op.drop_table("flow_versions")
    with op.batch_alter_table("flows", schema=None) as batch_op:
        batch_op.drop_column("published_version")
        batch_op.drop_column("draft_revision")
        batch_op.drop_column("draft")
