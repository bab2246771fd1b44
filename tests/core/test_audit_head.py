"""The audit log's head (table ``audit_head``) deleted or out of step with the newest entry:
every audited action is refused clearly — 503 in Chinese on pages and in the API, a log line
naming the fault and the command to run — and nothing it would have changed is kept."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from audithelpers import write_entries
from filehelpers import FIXTURES
from webhelpers import PASSWORD, login, make_department, make_user
from xinyong.accounts import service as accounts
from xinyong.accounts.access import Role
from xinyong.accounts.models import User
from xinyong.core import db
from xinyong.core.models import AuditEntry, AuditHead
from xinyong.ingest.models import Batch

PAUSED = "需要记入审计日志的操作已暂停，请联系系统管理员"


def _count(engine: sa.Engine, model: type) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def _delete_head(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.delete(AuditHead))


def _refused_page(response, problem: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 503, (response.status_code, response.text[:300])
    assert "服务暂不可用" in response.text and problem in response.text and PAUSED in response.text


def _operator_told(caplog: pytest.LogCaptureFixture) -> None:
    lines = [r.getMessage() for r in caplog.records if r.name == "xinyong.audit" and r.levelno == logging.ERROR]
    assert lines, [r.getMessage() for r in caplog.records]
    assert "audit_head" in lines[-1] and "xinyong audit restore-head" in lines[-1]


def test_a_deleted_head_refuses_audited_pages_and_api_calls_in_chinese(client, database, caplog):
    """The head deleted (someone writing the database, a failed restore): the next entry was
    numbered 1 again and collided with the first — a bare 500 on every audited page and call."""
    with db.transaction() as session:
        department = make_department(session, uscc="11440402A20Y55BB2N", name="珠海市生态环境局")
        key, _ = accounts.create_api_key(session, department_id=department.id, name="报送系统", created_by="test")
        admin = make_user(session, Role.ADMIN).username
    _delete_head(database)
    entries = _count(database, AuditEntry)

    with caplog.at_level(logging.ERROR, logger="xinyong.audit"):
        page = client.post("/login", data={"username": admin, "password": PASSWORD}, follow_redirects=False)
    _refused_page(page, "审计日志的链头缺失")
    assert not client.cookies.get("xy_session")  # not logged in: the login is not audited
    _operator_told(caplog)

    sent = (FIXTURES / "penalties_with_errors.csv").read_bytes()  # one row of this department's is valid
    api = client.post("/api/v1/batches?kind=penalties", headers={"X-API-Key": key},
                      files={"file": ("penalties.csv", sent, "text/csv")})
    assert api.status_code == 503
    error = api.json()["error"]
    assert error["code"] == "audit_log_unavailable" and "审计日志的链头缺失" in error["message"]
    assert "xinyong audit restore-head" in error["message"]
    assert _count(database, Batch) == 0 and _count(database, AuditEntry) == entries


def test_a_form_page_keeps_no_unaudited_change(client, database):
    """The user page shows its form again on a user's mistake and lets the request's transaction
    commit: the refusal is no such mistake, and the user is not created without an entry."""
    with db.transaction() as session:
        admin = make_user(session, Role.ADMIN).username
    token = login(client, admin)
    _delete_head(database)
    form = {"csrf_token": token, "username": "li.auditor", "display_name": "李四", "role": "auditor",
            "password": PASSWORD, "password_again": PASSWORD}
    _refused_page(client.post("/admin/users", data=form), "审计日志的链头缺失")
    with database.connect() as conn:
        assert conn.execute(sa.select(User).where(User.username == "li.auditor")).first() is None


def _head_behind(conn: sa.Connection) -> str:
    second = conn.execute(sa.select(AuditEntry.hash).where(AuditEntry.seq == 2)).scalar_one()
    conn.execute(sa.update(AuditHead).values(seq=2, hash=second))
    return "审计日志的链头指向第 2 条记录，落后于最新的第 3 条"


def _head_altered(conn: sa.Connection) -> str:
    conn.execute(sa.update(AuditHead).values(hash="f" * 64))
    return "审计日志的链头与最新的第 3 条记录的哈希不符"


def _newest_deleted(conn: sa.Connection) -> str:
    conn.execute(sa.delete(AuditEntry).where(AuditEntry.seq == 3))
    return "最新的第 3 条至第 3 条记录被删除"


@pytest.mark.parametrize("damage", [_head_behind, _head_altered, _newest_deleted])
def test_a_head_out_of_step_with_the_newest_entry_is_refused_too(client, database, caplog, damage):
    """A head set back collided as a deleted one did (500); a head altered, or left in place when
    the newest entries were deleted, was chained on silently, the break found only by the next
    `audit verify`."""
    with db.transaction() as session:
        admin = make_user(session, Role.ADMIN).username
    with database.begin() as conn:
        conn.execute(sa.delete(AuditEntry))
        conn.execute(sa.delete(AuditHead))
    write_entries(3)
    with database.begin() as conn:
        problem = damage(conn)
    entries = _count(database, AuditEntry)
    with caplog.at_level(logging.ERROR, logger="xinyong.audit"):
        page = client.post("/login", data={"username": admin, "password": PASSWORD}, follow_redirects=False)
    _refused_page(page, problem)
    _operator_told(caplog)
    assert _count(database, AuditEntry) == entries
