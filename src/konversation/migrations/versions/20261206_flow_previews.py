"""Flow previews: a copy of a flow that runs its draft for the editor's test subscribers

Revision ID: b2c3d4e5f6a7
Revises: a1b2c3d4e5f6
Create Date: 2026-12-06 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b2c3d4e5f6a7"
down_revision: str | None = "a1b2c3d4e5f6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A column and an index only: SQLite adds and drops both in place. Rebuilding the flows table
# instead would drop the old one, which cascades to every row that refers to a flow.
def upgrade() -> None:
    op.add_column("flows", sa.Column("preview_of", sa.Integer(), nullable=True))
    op.create_index("ix_flows_preview_of", "flows", ["preview_of"], unique=True)


def downgrade() -> None:
    op.execute("DELETE FROM flows WHERE preview_of IS NOT NULL")
    op.drop_index("ix_flows_preview_of", table_name="flows")
    op.drop_column("flows", "preview_of")
