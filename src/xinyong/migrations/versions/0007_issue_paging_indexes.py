"""indexes to read a batch's issues and rejected rows a page at a time

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21

Full quality reports and rejected-row downloads read a batch's issues by (severity, id) and its
rejected rows by line, a page at a time after the last one read. With an index on ``batch_id``
alone each page had to fetch and sort every issue of the batch (quadratic for a file with a
million errors); these indexes start each page where the last one ended. They also serve
every lookup by ``batch_id`` (a leading column), so the single-column indexes go.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_batch_issues_batch_severity_id", "batch_issues", ["batch_id", "severity", "id"])
    op.drop_index("ix_batch_issues_batch_id", table_name="batch_issues")
    op.create_index("ix_batch_rejected_rows_batch_line", "batch_rejected_rows", ["batch_id", "line"])
    op.drop_index("ix_batch_rejected_rows_batch_id", table_name="batch_rejected_rows")


def downgrade() -> None:
    op.create_index("ix_batch_rejected_rows_batch_id", "batch_rejected_rows", ["batch_id"])
    op.drop_index("ix_batch_rejected_rows_batch_line", table_name="batch_rejected_rows")
    op.create_index("ix_batch_issues_batch_id", "batch_issues", ["batch_id"])
    op.drop_index("ix_batch_issues_batch_severity_id", table_name="batch_issues")
