"""name search indexes (pg_trgm, SQLite FTS5 trigram)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21

PostgreSQL: trigram GIN indexes on the normalised current and former names.
SQLite: one FTS5 table with the trigram tokenizer holding both, kept in sync by triggers. Its
rowid encodes the source row so that a trigger can reach its entry without a scan: a subject's
current name is ``2 * subjects.id``, a name from ``subject_names`` is ``2 * subject_names.id + 1``.
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PG_UPGRADE = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_subjects_name_norm_trgm ON subjects USING gin (name_norm gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_subject_names_name_norm_trgm "
    "ON subject_names USING gin (name_norm gin_trgm_ops)",
)
# The extension stays: other objects may use it, and dropping it needs more privileges.
_PG_DOWNGRADE = (
    "DROP INDEX IF EXISTS ix_subject_names_name_norm_trgm",
    "DROP INDEX IF EXISTS ix_subjects_name_norm_trgm",
)

_SQLITE_UPGRADE = (
    "CREATE VIRTUAL TABLE subject_name_fts USING fts5(name_norm, subject_id UNINDEXED, tokenize='trigram')",
    # subjects: the current name
    """CREATE TRIGGER subjects_fts_insert AFTER INSERT ON subjects BEGIN
         INSERT INTO subject_name_fts (rowid, name_norm, subject_id) VALUES (2 * new.id, new.name_norm, new.id);
       END""",
    """CREATE TRIGGER subjects_fts_update AFTER UPDATE OF name_norm ON subjects BEGIN
         UPDATE subject_name_fts SET name_norm = new.name_norm WHERE rowid = 2 * new.id;
       END""",
    """CREATE TRIGGER subjects_fts_delete AFTER DELETE ON subjects BEGIN
         DELETE FROM subject_name_fts WHERE rowid = 2 * old.id;
       END""",
    # subject_names: every name a subject appeared under
    """CREATE TRIGGER subject_names_fts_insert AFTER INSERT ON subject_names BEGIN
         INSERT INTO subject_name_fts (rowid, name_norm, subject_id)
         VALUES (2 * new.id + 1, new.name_norm, new.subject_id);
       END""",
    """CREATE TRIGGER subject_names_fts_update AFTER UPDATE OF name_norm, subject_id ON subject_names BEGIN
         UPDATE subject_name_fts SET name_norm = new.name_norm, subject_id = new.subject_id
         WHERE rowid = 2 * new.id + 1;
       END""",
    """CREATE TRIGGER subject_names_fts_delete AFTER DELETE ON subject_names BEGIN
         DELETE FROM subject_name_fts WHERE rowid = 2 * old.id + 1;
       END""",
    # backfill what is already there
    "INSERT INTO subject_name_fts (rowid, name_norm, subject_id) SELECT 2 * id, name_norm, id FROM subjects",
    "INSERT INTO subject_name_fts (rowid, name_norm, subject_id) "
    "SELECT 2 * id + 1, name_norm, subject_id FROM subject_names",
)
_SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS subject_names_fts_delete",
    "DROP TRIGGER IF EXISTS subject_names_fts_update",
    "DROP TRIGGER IF EXISTS subject_names_fts_insert",
    "DROP TRIGGER IF EXISTS subjects_fts_delete",
    "DROP TRIGGER IF EXISTS subjects_fts_update",
    "DROP TRIGGER IF EXISTS subjects_fts_insert",
    "DROP TABLE IF EXISTS subject_name_fts",
)


def _run(statements: Sequence[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _run(_PG_UPGRADE)
    elif dialect == "sqlite":
        _run(_SQLITE_UPGRADE)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _run(_PG_DOWNGRADE)
    elif dialect == "sqlite":
        _run(_SQLITE_DOWNGRADE)
