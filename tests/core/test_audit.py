"""The audit log: hash-chained with the platform's key, and `xinyong audit verify` finds tampering."""

from __future__ import annotations

import base64
import re

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from audithelpers import chain_without_the_key
from audithelpers import write_entries as _write
from xinyong.cli import app
from xinyong.core import audit, db
from xinyong.core.config import reset_settings
from xinyong.core.crypto import reset_keyring
from xinyong.core.models import AuditEntry, AuditHead


def _verify(*options: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["audit", "verify", *options])
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


def test_entry_altered_and_chain_recomputed_without_the_key_is_named(database):
    """Someone who can write the database but does not hold the platform's key alters an entry and
    hashes it and every later entry again, and the head, as the chain used to be hashed."""
    _write(5)
    with database.begin() as conn:
        conn.execute(sa.update(AuditEntry).where(AuditEntry.seq == 3).values(actor="user:someone-else"))
        chain_without_the_key(conn, from_seq=3)
    code, output = _verify()
    assert code == 4 and "第 3 条记录的内容被修改" in output


@pytest.fixture
def another_key(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The platform runs with another XINYONG_SECRET_KEY than the one the log was written with."""
    monkeypatch.setenv("XINYONG_SECRET_KEY", base64.b64encode(b"y" * 32).decode())
    reset_settings()
    reset_keyring()
    yield
    reset_settings()
    reset_keyring()


def test_chain_verified_with_another_key_is_broken_and_the_key_is_suspected(database, request):
    _write(3)
    assert _verify()[0] == 0
    request.getfixturevalue("another_key")
    code, output = _verify()
    assert code == 4
    assert "第 1 条" in output and "XINYONG_SECRET_KEY 可能与写入审计日志时的密钥不同" in output


def test_head_recorded_outside_shows_the_newest_entries_removed_with_the_head(database):
    _write(5)
    code, output = _verify()
    (anchor,) = re.findall(r"链头.*：(\d+:[0-9a-f]{64})", output)
    assert code == 0 and anchor.startswith("5:")
    _write(2)
    code, output = _verify("--anchor", anchor)
    assert code == 0 and "第 5 条记录仍在审计日志中" in output
    code, output = _verify("--anchor", "5:" + "0" * 64)
    assert code == 4 and "第 5 条记录的哈希与在数据库外记下的不同" in output
    # the newest entries removed and the head set back to the last one left: the chain verifies
    with database.begin() as conn:
        conn.execute(sa.delete(AuditEntry).where(AuditEntry.seq >= 4))
        third = conn.execute(sa.select(AuditEntry.hash).where(AuditEntry.seq == 3)).scalar_one()
        conn.execute(sa.update(AuditHead).values(seq=3, hash=third))
    assert _verify()[0] == 0
    code, output = _verify("--anchor", anchor)
    assert code == 4 and "第 5 条记录已不在审计日志中" in output and "第 4 条起" in output
    code, output = _verify("--anchor", "5:abc")
    assert code == 2 and "序号:哈希" in output


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
