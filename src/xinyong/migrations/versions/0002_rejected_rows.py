"""rejected rows of a batch, kept for download

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "batch_rejected_rows",
        sa.Column("id", BigId, nullable=False),
        sa.Column("batch_id", BigId, nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("cells", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_batch_rejected_rows_batch_id_batches"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_rejected_rows")),
    )
    op.create_index(op.f("ix_batch_rejected_rows_batch_id"), "batch_rejected_rows", ["batch_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_batch_rejected_rows_batch_id"), table_name="batch_rejected_rows")
    op.drop_table("batch_rejected_rows")
