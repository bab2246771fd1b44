"""content hashes computed from the data a version stores

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-23

Whether a row sent again is ``unchanged`` or corrects its record is decided by a keyed content
hash (``record_versions.content_hash``, ``records.current_hash`` and ``current_key_hash``). It
was computed over the row as validated, personal ids in clear; a version stores them masked (the
legal representative's id is kept encrypted apart, an organisation's 证件号码 masked only). A
correction that keeps values of the version it corrects (its file has no column for them) could
therefore not get the hash of the row a department would send with those values: it kept the
hash of the row as sent, and the same decision sent later in full, with the very same values,
was stored once more.

The hash is now computed over the version's data as stored, with the legal representative's id
counted by its blind index (which the masked form would hide) wherever the representative is
registered (the data names one). This revision computes it again for every stored version and
record, from the stored data; the blind index of a legal representative's id is the one
``legal_representatives`` holds for the version's subject and that masked id (the one registered
under the version's representative's name when there are several). The digest's key is derived
from the running platform's secret key (``xinyong content hash v1``, as ``core.crypto`` derives
it): run the upgrade with the settings the platform runs with.

A record whose stored data differs from what intake would store for the same row today (a
version stored before an organisation's 证件号码 was kept masked only, or before a text's ids
were masked) gets one version more the first time it is sent again, as it would have for the
texts anyway. The downgrade cannot compute the old hashes (they need ids the platform keeps
masked only) and leaves these: after a downgrade, each record sent again gets one version more,
once.
"""

import hashlib
import hmac
import json
from collections.abc import Sequence

import orjson
import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PAGE = 5_000
_PURPOSE = b"xinyong content hash v1"


# A frozen copy of ``xinyong.ingest.service._RowBuilder.version_hashes``: a migration must give
# the same result whatever the code becomes later.
def _hashes(key: bytes, data: dict[str, str], legal_rep_index: str | None, decision_key: str) -> tuple[str, str]:
    hashed = data
    if legal_rep_index and data.get("legal_rep") and data.get("legal_rep_id_number"):
        hashed = {**data, "legal_rep_id_number": legal_rep_index}
    content = orjson.dumps(hashed, option=orjson.OPT_SORT_KEYS)
    keyed = content.replace(orjson.dumps(data["decision_no"]), orjson.dumps(decision_key))
    return (hmac.new(key, content, hashlib.sha256).hexdigest(), hmac.new(key, keyed, hashlib.sha256).hexdigest())


def upgrade() -> None:
    from xinyong.core.crypto import derive_key  # the running platform's master key, not frozen code

    key = derive_key(_PURPOSE)
    conn = op.get_bind()
    last = 0
    while page := conn.execute(sa.text(
            "SELECT v.id, v.record_id, v.subject_id, v.version, v.data, r.decision_key, r.current_version "
            "FROM record_versions v JOIN records r ON r.id = v.record_id WHERE v.id > :last ORDER BY v.id LIMIT :n"),
            {"last": last, "n": _PAGE}).all():
        last = page[-1].id
        rows = [(row, json.loads(row.data)) for row in page]
        indexes = _legal_rep_indexes(conn, {(row.subject_id, data["legal_rep_id_number"])
                                            for row, data in rows if data.get("legal_rep_id_number")})
        versions, records = [], []
        for row, data in rows:
            masked = data.get("legal_rep_id_number")
            index = masked and (indexes.get((row.subject_id, masked, data.get("legal_rep")))
                                or indexes.get((row.subject_id, masked, None)))
            content_hash, key_hash = _hashes(key, data, index, row.decision_key)
            versions.append({"id": row.id, "hash": content_hash})
            if row.version == row.current_version:
                records.append({"id": row.record_id, "hash": content_hash, "key_hash": key_hash})
        conn.execute(sa.text("UPDATE record_versions SET content_hash = :hash WHERE id = :id"), versions)
        if records:
            conn.execute(sa.text("UPDATE records SET current_hash = :hash, current_key_hash = :key_hash "
                                 "WHERE id = :id"), records)


def _legal_rep_indexes(conn: sa.Connection, wanted: set[tuple[int, str]]) -> dict[tuple[int, str, str | None], str]:
    """The blind index of each (subject, masked id), by (subject, masked id, name) and by
    (subject, masked id, None) for any name."""
    found: dict[tuple[int, str, str | None], str] = {}
    subjects = sorted({subject for subject, _masked in wanted})
    for start in range(0, len(subjects), 500):
        rows = conn.execute(
            sa.text("SELECT subject_id, name, id_masked, id_index FROM legal_representatives "
                    "WHERE subject_id IN :subjects AND id_index <> '' ORDER BY id")
            .bindparams(sa.bindparam("subjects", expanding=True)),
            {"subjects": subjects[start:start + 500]})
        for subject, name, masked, index in rows:
            if (subject, masked) in wanted:
                found.setdefault((subject, masked, name), index)
                found.setdefault((subject, masked, None), index)
    return found


def downgrade() -> None:
    """The hashes of the old definition need personal ids the platform keeps masked only: they
    are left as they are (see above)."""
