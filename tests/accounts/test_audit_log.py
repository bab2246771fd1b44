"""The audit log for its readers: the workbench page, its CSV download and the API (auditors and
administrators), with the chain's state, filters in China time, actions in words and ids masked;
every read of the log is itself an entry."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa

from filehelpers import FIXTURES, ingest
from webhelpers import login, make_department, make_user
from xinyong.accounts import service
from xinyong.accounts.access import Role
from xinyong.core import audit, clock, db, ids
from xinyong.core.models import AuditEntry
from xinyong.ingest.service import audit_submission
from xinyong.records.models import Record
from xinyong.subjects.models import Subject

USCC = "911301026CR765LW53"  # a company of tests/fixtures/penalties.csv
CLEAR_ID = ids.make_ric("130102", dt.date(1990, 3, 12), 31)  # a resident id written into an old entry
CHINA = clock.CHINA_TZ


@pytest.fixture
def log(database: sa.Engine) -> dict[str, object]:
    """A log with entries at known moments: users created, a batch sent by an officer of one
    department, an API key of that department, a record read by an approver, and an old entry
    that holds a resident id in clear (written before texts were masked)."""
    # 15:30 UTC on the 20th
    with clock.frozen(dt.datetime(2026, 11, 20, 23, 30, tzinfo=CHINA)), db.transaction() as s:
        department = make_department(s, name="审计测试部门")
        officer = make_user(s, Role.OFFICER, department=department, username="baosong01")
        make_user(s, Role.OFFICER, username="baosong02")  # another department
        make_user(s, Role.AUDITOR, username="shenji01")
        make_user(s, Role.ADMIN, username="guanli01")
        make_user(s, Role.APPROVER, username="shenpi01")
        make_user(s, Role.SUBJECT, username="zhuti01")
        _plain, key = service.create_api_key(s, department_id=department.id, name="报送系统",
                                             created_by="user:guanli01")
        uscc, officer_name, key_id = department.uscc, officer.username, key.id
    with clock.frozen(dt.datetime(2026, 11, 21, 0, 30, tzinfo=CHINA)):  # still the 20th in UTC
        report = ingest(FIXTURES / "penalties.csv", submitted_by=f"user:{officer_name}")
        with db.transaction() as s:
            audit_submission(s, report, actor=f"user:{officer_name}", ip="10.0.0.7")
            subject_id = s.scalar(sa.select(Subject.id).where(Subject.uscc == USCC))
            record_id = s.scalar(sa.select(Record.id).where(Record.subject_id == subject_id).limit(1))
            audit.record(s, actor="user:shenpi01", action=audit.READ_RECORD, target_type="record",
                         target_id=str(record_id), subject_id=subject_id, ip="10.0.0.8")
            audit.record(s, actor="user:baosong01", action="record.revoke", target_type="record",
                         target_id=str(record_id), subject_id=subject_id, before={"revoked_at": None},
                         after={"revoke_reason": f"当事人身份证号{CLEAR_ID}填错", "revoked_at": "2026-11-21"})
    return {"department": uscc, "batch_id": report.batch_id, "record_id": record_id, "subject_id": subject_id,
            "key_id": key_id}


def _rows(page: str) -> list[dict[str, str]]:
    """The entries of the page's table: sequence number, action, actor and the cells' text."""
    if 'id="audit-entries"' not in page:
        return []
    body = page.split('id="audit-entries"', 1)[1].split("</table>", 1)[0]
    rows = []
    for seq, action, actor, cells in re.findall(
            r'<tr data-seq="(\d+)" data-action="([^"]+)" data-actor="([^"]+)">(.*?)</tr>', body, re.S):
        rows.append({"seq": int(seq), "action": action, "actor": actor,
                     "text": " ".join(re.sub(r"<[^>]+>", " ", cells).split())})
    return rows


def _seqs(client, **filters: str) -> list[int]:  # type: ignore[no-untyped-def]
    response = client.get("/workbench/audit", params=filters)
    assert response.status_code == 200, response.text[:500]
    return [r["seq"] for r in _rows(response.text)]


def _entries(engine: sa.Engine, action: str) -> list[sa.Row]:
    with engine.connect() as conn:
        return conn.execute(sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)).all()


def test_auditors_and_administrators_read_the_log_newest_first_in_words_and_nobody_else(client, log, database):
    """审计人员 were promised the audit log (the demo's account table) and no page showed it."""
    for who in ("baosong01", "shenpi01", "zhuti01"):
        login(client, who)
        assert client.get("/workbench/audit").status_code == 403
        assert client.get("/workbench/audit.csv").status_code == 403
        client.cookies.clear()
    assert client.get("/workbench/audit", follow_redirects=False).headers["location"].startswith("/login")
    for who in ("shenji01", "guanli01"):
        login(client, who)
        page = client.get("/workbench/audit")
        assert page.status_code == 200
        assert 'href="/workbench/audit" aria-current="page">审计日志' in page.text  # in the workbench's menu
        rows = _rows(page.text)
        assert [r["seq"] for r in rows] == sorted((r["seq"] for r in rows), reverse=True)
        words = {r["action"]: r["text"] for r in rows}
        assert "报送数据（一个批次）" in words["batch.submit"] and "user:baosong01" in words["batch.submit"]
        assert "10.0.0.7" in words["batch.submit"] and f"批次 {log['batch_id']}" in words["batch.submit"]
        assert "查阅一条信用记录（含政务共享信息）" in words["read.record"]
        assert "石家庄市瑞丰新源贸易有限公司" in words["read.record"] and USCC in words["read.record"]
        assert "登录" in words["user.login"] and "创建 API 密钥" in words["api_key.create"]
        assert "角色：部门报送人员" in page.text  # a user's facts in words
        client.cookies.clear()
    # every read of the log is an entry of its own, with the reader and how they read it
    reads = _entries(database, audit.READ_AUDIT_LOG)
    assert [r.actor for r in reads] == ["user:shenji01", "user:guanli01"]
    assert '"format":"page"' in reads[0].after


def test_the_chain_s_state_is_at_the_top_up_to_which_entry_it_verifies_or_where_it_breaks(client, log, database):
    with database.connect() as conn:
        newest = conn.execute(sa.select(sa.func.max(AuditEntry.seq))).scalar_one()
    login(client, "shenji01")
    state = client.get("/workbench/audit").text.split('id="chain-state"', 1)[1].split("</div>", 1)[0]
    newest += 1  # the auditor's login
    assert f"第 1 条至第 {newest} 条记录校验无误" in state and "哈希链完整" in state
    with database.begin() as conn:  # someone with write access to the database alters an entry
        conn.execute(sa.update(AuditEntry).where(AuditEntry.seq == 5).values(ip="203.0.113.9"))
    state = client.get("/workbench/audit").text.split('id="chain-state"', 1)[1].split("</div>", 1)[0]
    assert "哈希链校验未通过" in state and "第 5 条记录的内容被修改" in state
    assert "第 1 条至第 4 条记录校验无误" in state
    chain = client.get("/api/v1/audit/chain").json()
    assert (chain["intact"], chain["verified_through"], chain["first_bad_seq"]) == (False, 4, 5)


def test_filters_time_in_china_time_actor_department_action_subject_and_record(client, log, database):
    login(client, "shenji01")
    everything = _seqs(client)
    with database.connect() as conn:
        at = dict(conn.execute(sa.select(AuditEntry.seq, AuditEntry.at)).all())
    # China time: the batch was sent at 00:30 on the 21st, which is still the 20th in UTC
    on_the_21st = _seqs(client, since="2026-11-21", until="2026-11-21")
    assert on_the_21st and all(at[s].astimezone(CHINA).date() == dt.date(2026, 11, 21) for s in on_the_21st)
    assert set(_seqs(client, until="2026-11-20")) == {s for s in everything if s not in on_the_21st
                                                      and at[s].astimezone(CHINA).date() == dt.date(2026, 11, 20)}
    assert _seqs(client, since="2026-11-21 00:00", until="2026-11-21 00:29") == []
    batch = [e.seq for e in _entries(database, "batch.submit")]
    assert _seqs(client, action="batch.submit") == batch
    officer = set(_seqs(client, actor="baosong01"))
    assert officer and all(s in officer for s in batch)
    # a department: what its officers and its API key did (another department's officer is not in it)
    with db.transaction() as s:
        service.revoke_api_key(s, log["key_id"], actor=f"api_key:{log['key_id']}")
    by_department = _rows(client.get("/workbench/audit", params={"department": log["department"]}).text)
    assert {r["actor"] for r in by_department} == {"user:baosong01", f"api_key:{log['key_id']}"}
    # a subject by its code: the reads and changes of its records; a record by its number
    about = _rows(client.get("/workbench/audit", params={"subject": USCC}).text)
    assert [r["action"] for r in about] == ["record.revoke", "read.record"]
    record = _seqs(client, target_type="record", target_id=str(log["record_id"]))
    assert record == [r["seq"] for r in about]
    # what cannot be read is said; a subject that does not exist matches nothing
    page = client.get("/workbench/audit", params={"since": "昨天", "subject": "91110000MA0000000X"})
    assert "起始时间“昨天”不是有效的时间" in page.text and "信用主体：" in page.text
    assert 'id="audit-entries"' not in page.text and "没有符合条件的记录" in page.text


def test_personal_ids_are_masked_in_entries_the_page_the_download_and_the_api(client, log):
    masked = ids.mask_ric(CLEAR_ID)
    login(client, "guanli01")
    page = client.get("/workbench/audit", params={"action": "record.revoke"})
    assert CLEAR_ID not in page.text and f"撤销原因：当事人身份证号{masked}填错" in page.text
    download = client.get("/workbench/audit.csv", params={"action": "record.revoke"})
    assert CLEAR_ID not in download.content.decode("utf-8-sig") and masked in download.content.decode("utf-8-sig")
    answer = client.get("/api/v1/audit", params={"action": "record.revoke"})
    assert CLEAR_ID not in answer.text and answer.json()["items"][0]["after"]["revoke_reason"].count(masked) == 1


def test_the_csv_download_holds_every_filtered_entry_and_is_itself_audited(client, log, database):
    login(client, "shenji01")
    response = client.get("/workbench/audit.csv", params={"actor": "baosong01", "since": "2026-11-21"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["序号", "时间（北京时间）", "操作人", "操作人姓名与单位", "操作"]
    wanted = [e.seq for e in reversed(_entries(database, "batch.submit") + _entries(database, "record.revoke"))]
    assert [int(r[0]) for r in rows[1:]] == sorted(wanted, reverse=True)
    assert {r[4] for r in rows[1:]} == {"报送数据（一个批次）", "撤销记录"}
    assert rows[-1][1].startswith("2026-11-21 00:30")  # China time
    (read,) = _entries(database, audit.READ_AUDIT_LOG)
    assert read.actor == "user:shenji01" and '"format":"csv"' in read.after
    assert '"actor":"baosong01"' in read.after and '"since":"2026-11-21"' in read.after


def test_the_api_gives_the_log_to_auditors_not_to_department_systems(client, log, database):
    with db.transaction() as s:
        department_id = service.find_department(s, log["department"]).id
        plaintext, _key = service.create_api_key(s, department_id=department_id, name="另一个系统",
                                                 created_by="test")
    assert client.get("/api/v1/audit", headers={"X-API-Key": plaintext}).status_code == 403
    assert client.get("/api/v1/audit/chain", headers={"X-API-Key": plaintext}).status_code == 403
    login(client, "shenji01")
    answer = client.get("/api/v1/audit", params={"action": "batch.submit"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["total"] == 1 and body["items"][0]["action_label"] == "报送数据（一个批次）"
    assert body["items"][0]["target_url"] == f"/workbench/batches/{log['batch_id']}"
    assert body["items"][0]["at_china"].startswith("2026-11-21 00:30")
    bad = client.get("/api/v1/audit", params={"until": "2026-13-01"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_filter"
    assert '"format":"json"' in _entries(database, audit.READ_AUDIT_LOG)[-1].after
