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


# --- the head deleted or out of step: verify says so, restore-head repairs it deliberately ------


def _restore_head(*options: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["audit", "restore-head", *options], env={"COLUMNS": "250"})
    return result.exit_code, result.output


def _entries(engine: sa.Engine) -> list[AuditEntry]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(AuditEntry).order_by(AuditEntry.seq)))


def test_verify_names_a_deleted_head_and_the_command_that_restores_it(database):
    _write(3)
    with database.begin() as conn:
        conn.execute(sa.delete(AuditHead))
    code, output = _verify()
    assert code == 4 and "审计日志的链头缺失" in output and "第 1 条至第 3 条记录" in output
    assert "拒绝一切需要记入审计日志的操作" in output and "xinyong audit restore-head" in output


def test_an_audited_command_is_refused_with_the_fault_in_chinese(database):
    """`xinyong ingest` with the head deleted: a traceback of a unique-constraint violation."""
    import os
    import subprocess
    import sys

    from filehelpers import FIXTURES

    _write(2)
    with database.begin() as conn:
        conn.execute(sa.delete(AuditHead))
    done = subprocess.run([sys.executable, "-m", "xinyong.cli", "ingest", "penalties", str(FIXTURES / "penalties.csv")],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "250"}, timeout=300)
    assert done.returncode == 4, done.stderr[-2000:]
    assert "错误：审计日志的链头缺失" in done.stderr and "xinyong audit restore-head" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(_entries(database)) == 2


def test_restore_head_puts_the_head_on_the_newest_entry_and_audits_itself(database):
    _write(3)
    with database.begin() as conn:
        conn.execute(sa.delete(AuditHead))
    code, output = _restore_head()
    assert code == 2 and "--reason" in output
    code, output = _restore_head("--reason", "工单 118：恢复备份时漏了 audit_head")
    assert code == 0, output
    assert "链头的问题：审计日志的链头缺失" in output and "已校验 3 条记录" in output
    assert "记入审计日志第 4 条" in output
    assert "与链头一同被删除的最新记录，从数据库本身无法发现" in output and "--anchor" in output
    (anchor,) = re.findall(r"链头（请记在数据库之外.*：(\d+:[0-9a-f]{64})", output)
    assert anchor.startswith("4:")
    restore = _entries(database)[-1]
    assert restore.action == "audit.restore_head" and restore.actor.endswith("audit restore-head")
    assert '"head":null' in (restore.before or "") and "工单 118" in (restore.after or "")
    code, output = _verify()
    assert code == 0 and "共 4 条" in output
    _write(1)  # audited actions work again
    assert _verify()[0] == 0
    code, output = _restore_head("--reason", "again")
    assert code == 0 and "无需恢复" in output and len(_entries(database)) == 5


def test_restore_head_refuses_when_the_newest_entries_were_deleted_unless_the_break_is_accepted(database):
    _write(5)
    code, output = _verify()
    (anchor,) = re.findall(r"链头.*：(\d+:[0-9a-f]{64})", output)
    with database.begin() as conn:
        conn.execute(sa.delete(AuditEntry).where(AuditEntry.seq >= 4))  # the head left at 5
    code, output = _restore_head("--reason", "查看")
    assert code == 4 and "未恢复链头" in output and "最新的第 4 条至第 5 条记录被删除" in output
    assert "--accept-break" in output
    with database.connect() as conn:
        assert conn.execute(sa.select(AuditHead.seq)).scalar_one() == 5  # nothing changed
    code, output = _restore_head("--reason", "事故 7：已比对备份", "--accept-break")
    assert code == 0 and "已按 --accept-break 接受：最新的第 4 条至第 5 条记录被删除" in output
    assert "第 4 条至第 5 条记录被删除" in (_entries(database)[-1].after or "")
    assert _verify()[0] == 0
    code, output = _verify("--anchor", anchor)  # the anchor recorded before still shows it
    assert code == 4 and "第 5 条记录已不在审计日志中" in output


def test_restore_head_checks_an_anchor_first(database):
    _write(3)
    with database.begin() as conn:
        conn.execute(sa.delete(AuditHead))
    code, output = _restore_head("--reason", "x", "--anchor", "5:" + "a" * 64)
    assert code == 4 and "在数据库外记下的第 5 条记录已不在审计日志中" in output and "未恢复链头" in output
    third = _entries(database)[-1]
    code, output = _restore_head("--reason", "x", "--anchor", f"3:{third.hash}")
    assert code == 0 and "在数据库外记下的第 3 条记录仍在审计日志中" in output
