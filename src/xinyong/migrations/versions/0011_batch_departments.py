"""batches sent without a sender count for the department all their records come from

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24

A file ingested on the command line names no sending department. Since 2026-11-22 intake gives
such a batch to the department its rows come from when they all come from one, so that the
quality page (归集质量, 重错码) counts its rows and rejections; batches stored before stayed
without a department and were counted for none. This gives them the department of the record
versions they stored when those all come from one department. A batch that stored nothing (every
row rejected or unchanged), or rows of several departments, stays without one.

The downgrade leaves the departments: a batch's department is read the same way by an older
platform, and which batches were filled here is not kept.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.text("""
        UPDATE batches SET department_id = (
            SELECT MIN(v.department_id) FROM record_versions v WHERE v.batch_id = batches.id
        )
        WHERE department_id IS NULL
          AND id IN (
            SELECT v.batch_id FROM record_versions v
            WHERE v.batch_id IN (SELECT b.id FROM batches b WHERE b.department_id IS NULL)
            GROUP BY v.batch_id HAVING COUNT(DISTINCT v.department_id) = 1
          )
    """))


def downgrade() -> None:
    pass
