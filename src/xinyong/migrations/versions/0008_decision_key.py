"""decision numbers compared by their key (〔2024〕 = [2024]); each party of a decision has its record

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22

Until now a record was identified by the decision number exactly as written, so a department that
sent 石家监督罚〔2024〕1号 once and 石家监督罚[2024]1号 later (another template, another input
method) had two published penalties for one decision. ``records.decision_key`` holds the number
with brackets, width, spaces and case folded; ``records.current_key_hash`` the content hash with
that key for the number, so that a number written another way is no other content (records stored
before have none and keep comparing by their content hash).

One decision may name several parties (共同违法), one row each in a department's file; until now
the second party's row was taken as a correction of the first party's record and moved it. The
party is now part of the identity: (kind, authority USCC, key, subject).

Records of one party whose numbers already collide are merged: the first received keeps its id,
the versions of all of them are numbered again in the order they were received, and the last one
received is current. Each merge is logged (alembic's logger, at warning level) with the ids.
"""

import json
import logging
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

# A frozen copy of ``xinyong.core.names.document_number_key`` as it was when this migration was
# written: a migration must give the same result whatever the code becomes later.
_BRACKETS = str.maketrans("【〔[〖", "((((") | str.maketrans("】〕]〗", "))))")
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_TABLE = (_BRACKETS | str.maketrans("", "", _INVISIBLE)
          | str.maketrans("〈《「『〘{", "((((((") | str.maketrans("〉》」』〙}", "))))))"))


def _fold(raw: str) -> str:
    return "".join(unicodedata.normalize("NFKC", raw).translate(_TABLE).split()).casefold()


def upgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_key", sa.Text(), nullable=True))
        # the content hash with the number's key for its spelling; records stored before have none
        # and compare by their content hash as before
        batch_op.add_column(sa.Column("current_key_hash", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    records = conn.execute(
        sa.text("SELECT id, kind, authority_uscc, decision_no, subject_id, revoked_at, revoke_reason FROM records "
                "ORDER BY id")
    ).all()
    groups: dict[tuple[str, str, str], list[sa.Row]] = {}
    for row in records:
        groups.setdefault((row.kind, row.authority_uscc, _fold(row.decision_no), row.subject_id), []).append(row)
    keys = [{"id": rows[0].id, "key": key[2]} for key, rows in groups.items()]
    if keys:
        conn.execute(sa.text("UPDATE records SET decision_key = :key WHERE id = :id"), keys)
    for rows in groups.values():
        if len(rows) > 1:
            _merge(conn, rows)
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.alter_column("decision_key", existing_type=sa.Text(), nullable=False)
        batch_op.drop_constraint("uq_records_kind_authority_uscc_decision_no", type_="unique")
        batch_op.create_unique_constraint(
            "uq_records_kind_authority_uscc_decision_key_subject_id",
            ["kind", "authority_uscc", "decision_key", "subject_id"],
        )


def _merge(conn: sa.Connection, rows: list[sa.Row]) -> None:
    """Fold the records ``rows`` (first received first) into the first one."""
    keeper, others = rows[0], rows[1:]
    ids = [r.id for r in rows]
    versions = conn.execute(
        sa.text(
            "SELECT id, record_id, version, content_hash, subject_id, department_id, data "
            "FROM record_versions WHERE record_id IN :ids ORDER BY received_at, batch_id, line, id"
        ).bindparams(sa.bindparam("ids", expanding=True)),
        {"ids": ids},
    ).all()
    # two steps, so that no moment has two versions of one record with the same number
    conn.execute(
        sa.text("UPDATE record_versions SET record_id = :keeper, version = :temp WHERE id = :id"),
        [{"keeper": keeper.id, "temp": -(n + 1), "id": v.id} for n, v in enumerate(versions)],
    )
    conn.execute(
        sa.text("UPDATE record_versions SET version = -version WHERE record_id = :keeper"),
        {"keeper": keeper.id},
    )
    last = versions[-1]
    # the others go first: the keeper may take the number one of them is stored under
    conn.execute(
        sa.text("DELETE FROM records WHERE id IN :ids").bindparams(sa.bindparam("ids", expanding=True)),
        {"ids": [r.id for r in others]},
    )
    number = json.loads(last.data).get("decision_no", keeper.decision_no)
    taken = conn.execute(
        sa.text("SELECT 1 FROM records WHERE kind = :kind AND authority_uscc = :authority "
                "AND decision_no = :number AND id <> :id"),
        {"kind": keeper.kind, "authority": keeper.authority_uscc, "number": number, "id": keeper.id},
    ).first()
    if taken:  # another party's record holds that spelling: until the old identity goes, keep ours
        number = keeper.decision_no
    revoked = [r for r in rows if r.revoked_at is not None]
    latest_revocation = max(revoked, key=lambda r: r.revoked_at) if revoked else None
    conn.execute(
        sa.text(
            "UPDATE records SET current_version = :version, current_hash = :hash, subject_id = :subject, "
            "department_id = :department, decision_no = :number, revoked_at = :revoked_at, "
            "revoke_reason = :reason WHERE id = :id"
        ),
        {
            "version": len(versions), "hash": last.content_hash, "subject": last.subject_id,
            "department": last.department_id, "number": number,
            "revoked_at": latest_revocation.revoked_at if latest_revocation else None,
            "reason": latest_revocation.revoke_reason if latest_revocation else None, "id": keeper.id,
        },
    )
    log.warning(
        "records %s: one decision number spelled %d ways (%s), merged into record %d with %d versions",
        ", ".join(str(i) for i in ids), len(rows), " / ".join(r.decision_no for r in rows), keeper.id,
        len(versions),
    )


def downgrade() -> None:
    # fails (unique violation) once two parties of one decision have their records: the older
    # identity has room for one
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_constraint("uq_records_kind_authority_uscc_decision_key_subject_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_records_kind_authority_uscc_decision_no", ["kind", "authority_uscc", "decision_no"]
        )
        batch_op.drop_column("current_key_hash")
        batch_op.drop_column("decision_key")
