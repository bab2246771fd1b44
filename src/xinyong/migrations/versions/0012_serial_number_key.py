"""decision numbers: 第1号, 01号 and 1号 are one serial number

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22

Until now the key of a decision number (``records.decision_key``) folded brackets, width, spaces
and case but compared the serial number as written, so a department that sent
石家监督罚〔2024〕1号 once and 石家监督罚〔2024〕第01号 later (another template, one that pads the
number) had two published penalties for one decision. GB/T 9704-2012 7.2.3 writes the serial
number without 第 and without padding zeros; the key now drops them before the closing 号.

Records whose key changes get the new key and lose their ``current_key_hash`` (it was made with
the old key; they compare by their content hash until their next version, as records stored
before migration 0008 do). Records of one party whose keys now collide are merged as migration
0008 merged them: the first stored keeps its id, the versions of all of them are numbered again
in the order they were received, the last one received is current, and each merge is logged.

The downgrade gives the records the old key again; merged records stay merged.
"""

import importlib.util
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _migration_0008() -> ModuleType:
    """Migration 0008, whose frozen fold and merge of colliding records this one reuses."""
    path = Path(__file__).with_name("0008_decision_key.py")
    spec = importlib.util.spec_from_file_location("xinyong_migration_0008", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# A frozen copy of the serial-number part of ``xinyong.core.names.document_number_key`` as it
# was when this migration was written (its other part is 0008's fold).
_SERIAL = re.compile(r"第*0*([0-9]+)号\Z")


def _fold(raw: str, base: Callable[[str], str] | None = None) -> str:
    key = (base or _migration_0008()._fold)(raw)
    if key.endswith("号"):
        serial = _SERIAL.search(key)
        if serial and serial.end(1) - serial.start() > len(serial.group(1)):
            return f"{key[:serial.start()]}{serial.group(1)}号"
    return key


_COLUMNS = "id, kind, authority_uscc, decision_no, decision_key, subject_id, revoked_at, revoke_reason"


def upgrade() -> None:
    m0008 = _migration_0008()
    conn = op.get_bind()
    # only a key that ends in 号 with a 第 or a 0 in it can change
    candidates = conn.execute(sa.text(
        f"SELECT {_COLUMNS} FROM records "
        "WHERE decision_key LIKE '%号' AND (decision_key LIKE '%第%' OR decision_key LIKE '%0%') ORDER BY id"
    )).all()
    moved: dict[tuple[str, str, str, int], list[sa.Row]] = {}
    for row in candidates:
        key = _fold(row.decision_no, m0008._fold)
        if key != row.decision_key:
            moved.setdefault((row.kind, row.authority_uscc, key, row.subject_id), []).append(row)
    moving = {row.id for rows in moved.values() for row in rows}
    keepers: dict[int, str] = {}
    for (kind, authority, key, subject), rows in moved.items():
        # the party's record already stored under the new key, if any
        stored = conn.execute(sa.text(
            f"SELECT {_COLUMNS} FROM records WHERE kind = :kind AND authority_uscc = :authority "
            "AND decision_key = :key AND subject_id = :subject"),
            {"kind": kind, "authority": authority, "key": key, "subject": subject}).all()
        rows = sorted([*rows, *(row for row in stored if row.id not in moving)], key=lambda r: r.id)
        if len(rows) > 1:
            m0008._merge(conn, rows)
        keepers[rows[0].id] = key
    _rekey(conn, keepers)


def downgrade() -> None:
    fold = _migration_0008()._fold
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, decision_no, decision_key FROM records WHERE decision_key LIKE '%号'"))
    _rekey(conn, {row.id: fold(row.decision_no) for row in rows if fold(row.decision_no) != row.decision_key})


def _rekey(conn: sa.Connection, keys: dict[int, str]) -> None:
    """Give records their keys (id → key) and drop their key hashes; in two steps, so that no
    moment has two records of one party under one key."""
    if not keys:
        return
    update = sa.text("UPDATE records SET decision_key = :key, current_key_hash = NULL WHERE id = :id")
    conn.execute(update, [{"id": record, "key": f"#0012-{record}"} for record in keys])
    conn.execute(update, [{"id": record, "key": key} for record, key in keys.items()])
