"""One-line helpers for the audit log's tests: write entries, and chain them the way someone who
can write the database but does not hold the platform's key can."""

from __future__ import annotations

import datetime as dt
import hashlib

import orjson
import sqlalchemy as sa

from xinyong.core import audit, db
from xinyong.core.models import AuditEntry, AuditHead


def write_entries(n: int) -> None:
    with db.transaction() as session:
        for i in range(n):
            audit.record(session, actor="user:admin", action="record.revoke", target_type="record",
                         target_id=str(i), subject_id=7, before={"status": "公示中"},
                         after={"status": "已撤销", "reason": f"第{i}次"}, ip="127.0.0.1")


def chain_without_the_key(conn: sa.Connection, from_seq: int = 1) -> dict[int, str]:
    """Hash the entries from ``from_seq`` on again with plain SHA-256 over the previous hash and
    the entry's fields (the digest before migration 0013) and move the head along; the hashes by
    sequence number."""
    hashes: dict[int, str] = {}
    prev = "0" * 64
    for entry in conn.execute(sa.select(AuditEntry.__table__).order_by(AuditEntry.seq)).all():
        digest = entry.hash
        if entry.seq >= from_seq:
            fields = [entry.seq, entry.at.astimezone(dt.UTC).isoformat(timespec="microseconds"), entry.actor,
                      entry.action, entry.target_type, entry.target_id, entry.subject_id, entry.ip,
                      entry.before, entry.after]
            digest = hashlib.sha256(prev.encode() + orjson.dumps(fields)).hexdigest()
            conn.execute(sa.update(AuditEntry).where(AuditEntry.seq == entry.seq)
                         .values(prev_hash=prev, hash=digest))
        hashes[entry.seq] = prev = digest
    conn.execute(sa.update(AuditHead).values(hash=prev))
    return hashes
