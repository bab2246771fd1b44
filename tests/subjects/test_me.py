"""A subject sees its whole file and who read its non-public data (谁查询了我)."""

from __future__ import annotations

from sqlalchemy import select

from filehelpers import FIXTURES, ingest
from webhelpers import login, make_user
from xinyong.accounts.models import Department
from xinyong.core import db
from xinyong.records.models import Record
from xinyong.subjects.models import Subject

USCC = "911301026CR765LW53"


def test_subject_sees_who_read_its_nonpublic_data(client):
    ingest(FIXTURES / "penalties.csv")
    with db.transaction() as session:
        subject_id = session.scalar(select(Subject.id).where(Subject.uscc == USCC))
        approver = make_user(session, "approver", username="shenpi01")
        owner = make_user(session, "subject", subject_id=subject_id, username="company01")
        approver_name, owner_name = approver.username, owner.username
    login(client, approver_name)
    assert client.get(f"/subjects/{USCC}").status_code == 200  # staff view: non-public fields, audited
    client.cookies.clear()
    login(client, owner_name)
    page = client.get("/me")
    assert page.status_code == 200
    assert "石家监督罚〔2024〕1号" in page.text
    readers = page.text.split('id="readers"', 1)[1]
    assert f"user:{approver_name}" in readers


def test_me_is_only_for_subjects(client):
    with db.transaction() as session:
        officer = make_user(session, "officer", username="baosong01")
        name = officer.username
    login(client, name)
    assert client.get("/me").status_code == 403


def test_an_officer_opening_a_record_of_the_subject_is_a_read_it_is_told_of(client):
    """The workbench's record page shows government fields and its correction form the personal
    ids in clear: both used to be read unseen (an auditor or administrator could browse every
    department's records without a trace)."""
    ingest(FIXTURES / "penalties.csv")
    with db.transaction() as session:
        subject_id = session.scalar(select(Subject.id).where(Subject.uscc == USCC))
        record_id, department_id = session.execute(
            select(Record.id, Record.department_id).where(Record.subject_id == subject_id).limit(1)).one()
        officer = make_user(session, "officer", department=session.get(Department, department_id))
        owner = make_user(session, "subject", subject_id=subject_id)
        officer_name, owner_name = officer.username, owner.username
    login(client, officer_name)
    assert client.get(f"/workbench/records/{record_id}").status_code == 200
    assert client.get(f"/workbench/records/{record_id}/correct").status_code == 200
    client.cookies.clear()
    login(client, owner_name)
    readers = client.get("/me").text.split('id="readers"', 1)[1]
    assert readers.count(f"user:{officer_name}") == 2
    assert "一条信用记录（含政务共享信息）" in readers and "在线更正，含证件号码" in readers
    assert "read.record" not in readers  # said in words, not as the log's action code
