"""drop the trigram index on subjects' current names (PostgreSQL)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21

Name search reads ``subject_names`` only (every name a subject appeared under, the current
one included, is there), so the GIN trigram index on ``subjects.name_norm`` answered no query
and cost every intake its upkeep for each new subject and each rename.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_subjects_name_norm_trgm")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX IF NOT EXISTS ix_subjects_name_norm_trgm ON subjects USING gin (name_norm gin_trgm_ops)"
        )
