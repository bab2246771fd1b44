"""The audit log: hash-chained, and `xinyong audit verify` finds tampering."""

from __future__ import annotations

import sqlalchemy as sa
from typer.testing import CliRunner

from xinyong.cli import app
from xinyong.core import audit, db
from xinyong.core.models import AuditEntry


def _write(n: int) -> None:
    with db.transaction() as session:
        for i in range(n):
            audit.record(session, actor="user:admin", action="record.revoke", target_type="record",
                         target_id=str(i), subject_id=7, before={"status": "公示中"},
                         after={"status": "已撤销", "reason": f"第{i}次"}, ip="127.0.0.1")


def _verify() -> tuple[int, str]:
    result = CliRunner().invoke(app, ["audit", "verify"])
    return result.exit_code, result.output


def test_intact_chain_verifies(database):
    _write(5)
    code, output = _verify()
    assert code == 0 and "共 5 条" in output


def test_altered_entry_is_named(database):
    _write(5)
    with database.begin() as conn:
        conn.execute(sa.update(AuditEntry).where(AuditEntry.seq == 3).values(actor="user:someone-else"))
    code, output = _verify()
    assert code == 4 and "第 3 条记录的内容被修改" in output


def test_removed_entry_is_named(database):
    _write(5)
    with database.begin() as conn:
        conn.execute(sa.delete(AuditEntry).where(AuditEntry.seq == 2))
    code, output = _verify()
    assert code == 4 and "第 2 条" in output and "删除" in output


def test_removed_newest_entries_are_named(database):
    _write(5)
    with database.begin() as conn:
        conn.execute(sa.delete(AuditEntry).where(AuditEntry.seq >= 4))
    code, output = _verify()
    assert code == 4 and "第 4 条至第 5 条" in output


def test_inserted_entry_is_named(database):
    _write(3)
    with database.begin() as conn:
        row = conn.execute(sa.select(AuditEntry).where(AuditEntry.seq == 2)).mappings().one()
        forged = {k: v for k, v in row.items() if k != "id"}
        conn.execute(sa.update(AuditEntry).where(AuditEntry.seq >= 2).values(seq=AuditEntry.seq + 10))
        conn.execute(sa.insert(AuditEntry).values({**forged, "actor": "user:forger"}))
    code, output = _verify()
    assert code == 4, output


def test_entry_rolled_back_with_its_change(database):
    try:
        with db.transaction() as session:
            audit.record(session, actor="user:a", action="x", target_type="t")
            raise RuntimeError("the change failed")
    except RuntimeError:
        pass
    _write(1)
    assert _verify()[0] == 0
    with db.transaction() as session:
        assert [e.seq for e in session.scalars(sa.select(AuditEntry))] == [1]


def test_reads_about_a_subject(database):
    with db.transaction() as session:
        audit.record(session, actor="user:approver1", action="read.subject", target_type="subject",
                     target_id="7", subject_id=7, ip="10.0.0.8")
        audit.record(session, actor="user:admin", action="record.revoke", target_type="record", subject_id=7)
        audit.record(session, actor="user:approver2", action="read.subject", target_type="subject", subject_id=8)
    with db.transaction() as session:
        reads = audit.entries_about_subject(session, 7)
    assert [(e.actor, e.ip) for e in reads] == [("user:approver1", "10.0.0.8")]
