"""The migrations create exactly the tables the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from xinyong.core.registry import metadata


def _relevant(diff: object) -> bool:
    # Index and constraint naming differences SQLite reflects loosely are not schema drift.
    kind = diff[0] if isinstance(diff, tuple) else diff[0][0]  # type: ignore[index]
    return kind in {"add_table", "remove_table", "add_column", "remove_column"}


def test_models_and_migrations_agree(database):
    with database.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    tables_and_columns = [d for d in diffs if _relevant(d)]
    # the name-search structures (FTS tables on SQLite) live only in migrations
    tables_and_columns = [d for d in tables_and_columns
                          if not (d[0] == "remove_table" and str(d[1].name).startswith("subject_name_fts"))]
    assert tables_and_columns == []
