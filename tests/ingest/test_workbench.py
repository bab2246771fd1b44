"""The department workbench: upload, quality report, rejected rows, records, revoke and correct."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from webhelpers import login, make_department, make_user
from xinyong.accounts.access import Role
from xinyong.core import db
from xinyong.core.config import reset_settings
from xinyong.core.models import AuditEntry
from xinyong.ingest.models import Batch, RejectedRow
from xinyong.records.models import Record, RecordVersion

FIXTURES = Path(__file__).parents[1] / "fixtures"
WITH_ERRORS = FIXTURES / "penalties_with_errors.csv"
DEPARTMENT_A = ("11440402A20Y55BB2N", "珠海市生态环境局")  # the source of the file's one valid row
REASONS = ["行号", "出错列", "错误代码", "错误说明"]


@pytest.fixture
def people(database: sa.Engine) -> dict[str, str]:
    """Officer A (the file's department), officer B (another department) and an administrator."""
    with db.transaction() as session:
        a = make_department(session, uscc=DEPARTMENT_A[0], name=DEPARTMENT_A[1])
        b = make_department(session)
        make_user(session, Role.OFFICER, department=a, username="officer_a")
        make_user(session, Role.OFFICER, department=b, username="officer_b")
        make_user(session, Role.ADMIN, username="admin1")
    return {"a": "officer_a", "b": "officer_b", "admin": "admin1"}


def _count(engine: sa.Engine, model: type) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def _upload(client, csrf: str, content: bytes, name: str = "penalties_with_errors.csv",  # type: ignore[no-untyped-def]
            kind: str = "penalties"):
    return client.post("/workbench/upload", data={"kind": kind, "csrf_token": csrf},
                       files={"file": (name, content, "application/octet-stream")}, follow_redirects=False)


def _upload_fixture(client, csrf: str) -> int:  # type: ignore[no-untyped-def]
    response = _upload(client, csrf, WITH_ERRORS.read_bytes())
    assert response.status_code == 303, response.text[:500]
    match = re.fullmatch(r"/workbench/batches/(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def _record_id(engine: sa.Engine, batch_id: int) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(RecordVersion.record_id).where(RecordVersion.batch_id == batch_id)).scalar_one()


def test_officer_uploads_and_reads_the_quality_report(client, people, database) -> None:  # type: ignore[no-untyped-def]
    csrf = login(client, people["a"])
    batch_id = _upload_fixture(client, csrf)
    page = client.get(f"/workbench/batches/{batch_id}")
    assert page.status_code == 200
    assert 'id="rejected-count">5<' in page.text
    errors = page.text.split('id="errors"')[1].split("</table>")[0]
    lines = {int(n) for n in re.findall(r"<tr><td>(\d+)</td>", errors)}
    assert lines == {2, 3, 4, 5, 6}
    assert "uscc_checksum" in errors and "2024/13/40" in errors
    with database.connect() as conn:
        batch = conn.execute(sa.select(Batch)).one()
    assert batch.department_id is not None and batch.submitted_by == "user:officer_a"
    assert (batch.rows_total, batch.accepted, batch.rejected) == (6, 1, 5)
    # the list shows it, and only to its own department
    assert f"/workbench/batches/{batch_id}" in client.get("/workbench").text
    client.cookies.clear()
    login(client, people["b"])
    assert f"/workbench/batches/{batch_id}" not in client.get("/workbench").text


def test_rejected_rows_keep_their_ids_sealed_at_rest_and_every_download_is_audited(  # type: ignore[no-untyped-def]
        client, people, database) -> None:
    """Found by probing: a rejected row's resident ids were stored in clear (the download hands
    the row back as sent), and an auditor's download of them left no trace in the audit log."""
    batch_id = _upload_fixture(client, login(client, people["a"]))
    ids = set(re.findall(r"\b\d{17}[\dXx]\b", WITH_ERRORS.read_text(encoding="utf-8")))
    with database.connect() as conn:
        stored = conn.scalars(sa.select(RejectedRow.cells).where(RejectedRow.batch_id == batch_id)).all()
    assert len(stored) == 5 and ids
    assert not [n for n in ids if any(n in cells for cells in stored)], "no id in clear at rest"
    assert not [c for c in stored if "行政相对人名称" in c], "the rows are sealed whole"

    csv_text = client.get(f"/workbench/batches/{batch_id}/rejected.csv").content.decode("utf-8-sig")
    assert [n for n in ids if n in csv_text], "the department gets its rows back as sent"
    assert client.get(f"/workbench/batches/{batch_id}/rejected.xlsx").status_code == 200
    with database.connect() as conn:
        reads = conn.execute(sa.select(AuditEntry.actor, AuditEntry.target_id, AuditEntry.after)
                             .where(AuditEntry.action == "read.rejected_rows")).all()
    assert [(r.actor, r.target_id, json.loads(r.after)["format"]) for r in reads] == [
        ("user:officer_a", str(batch_id), "csv"), ("user:officer_a", str(batch_id), "xlsx")]


def test_rejected_rows_download_as_csv_and_xlsx(client, people, database) -> None:  # type: ignore[no-untyped-def]
    batch_id = _upload_fixture(client, login(client, people["a"]))
    with open(WITH_ERRORS, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        original_headers, sent = list(reader.fieldnames or []), list(reader)

    response = client.get(f"/workbench/batches/{batch_id}/rejected.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert ".csv" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    reader = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
    rows = list(reader)
    assert reader.fieldnames == original_headers + REASONS
    assert [r["行号"] for r in rows] == ["2", "3", "4", "5", "6"]
    assert [r["行政处罚决定书文号"] for r in rows] == [r["行政处罚决定书文号"] for r in sent[:5]]
    assert rows[2]["处罚决定日期"] == "2024/13/40"  # as the department sent it
    assert all(r["错误代码"] and r["错误说明"] for r in rows)
    assert sent[5]["行政相对人名称"] not in response.text

    response = client.get(f"/workbench/batches/{batch_id}/rejected.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert table[0] == original_headers + REASONS
    assert len(table) == 6
    assert [r[len(original_headers)] for r in table[1:]] == ["2", "3", "4", "5", "6"]


def test_another_department_gets_403(client, people, database) -> None:  # type: ignore[no-untyped-def]
    batch_id = _upload_fixture(client, login(client, people["a"]))
    record_id = _record_id(database, batch_id)
    assert client.get(f"/workbench/records/{record_id}").status_code == 200
    client.cookies.clear()
    csrf = login(client, people["b"])
    for url in (f"/workbench/batches/{batch_id}", f"/workbench/batches/{batch_id}/rejected.csv",
                f"/workbench/batches/{batch_id}/rejected.xlsx", f"/workbench/records/{record_id}",
                f"/workbench/records/{record_id}/correct"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/workbench/records/{record_id}/revoke",
                       data={"reason": "误报", "csrf_token": csrf}).status_code == 403
    listing = client.get("/workbench/records")
    assert listing.status_code == 200 and f"/workbench/records/{record_id}" not in listing.text
    with database.connect() as conn:
        assert conn.execute(sa.select(Record.revoked_at)).scalar_one() is None


@pytest.mark.parametrize("extra", [300 * 1024, 10 * 1024], ids=["declared-length", "while-streaming"])
def test_upload_over_the_limit_is_refused(client, people, database, monkeypatch, extra) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XINYONG_UPLOAD_MAX_MB", "1")
    reset_settings()
    csrf = login(client, people["a"])
    big = WITH_ERRORS.read_bytes() + b"\n" * (1024 * 1024 + extra)
    response = _upload(client, csrf, big)
    assert response.status_code == 413
    assert "1 MB" in response.text
    assert _count(database, Batch) == 0


@pytest.mark.parametrize(("name", "content"), [
    ("penalties.xlsx", b"this is not a workbook at all\n"),
    ("penalties.csv", b"\x00\x01\x02\x03binary\x00" * 50),
])
def test_a_file_that_is_not_what_it_claims_is_refused(client, people, database, name, content) -> None:  # type: ignore[no-untyped-def]
    response = _upload(client, login(client, people["a"]), content, name=name)
    assert response.status_code == 422
    assert 'role="alert"' in response.text and "未保存任何数据" in response.text
    assert _count(database, Batch) == 0 and _count(database, RejectedRow) == 0


def test_post_without_csrf_token_is_refused(client, people, database) -> None:  # type: ignore[no-untyped-def]
    login(client, people["a"])
    response = client.post("/workbench/upload", data={"kind": "penalties"},
                           files={"file": ("p.csv", WITH_ERRORS.read_bytes(), "text/csv")}, follow_redirects=False)
    assert response.status_code == 403
    assert _count(database, Batch) == 0


def test_revoke_with_reason(client, people, database) -> None:  # type: ignore[no-untyped-def]
    csrf = login(client, people["a"])
    record_id = _record_id(database, _upload_fixture(client, csrf))
    missing = client.post(f"/workbench/records/{record_id}/revoke", data={"reason": " ", "csrf_token": csrf})
    assert missing.status_code == 400
    assert client.post(f"/workbench/records/{record_id}/revoke",
                       data={"reason": "决定已被复议撤销"}).status_code == 403  # no CSRF token
    response = client.post(f"/workbench/records/{record_id}/revoke",
                           data={"reason": "决定已被复议撤销", "csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    status = page.text.split('id="status"')[1].split("</dd>")[0]
    assert "已撤销" in status and "决定已被复议撤销" in page.text
    with database.connect() as conn:
        record = conn.execute(sa.select(Record)).one()
        entry = conn.execute(sa.select(AuditEntry).where(AuditEntry.action == "record.revoke")).one()
    assert record.revoke_reason == "决定已被复议撤销" and record.revoked_at is not None
    assert entry.actor == "user:officer_a" and entry.target_id == str(record_id)
    assert "决定已被复议撤销" in entry.after and entry.before is not None
    again = client.post(f"/workbench/records/{record_id}/revoke", data={"reason": "再次", "csrf_token": csrf})
    assert again.status_code == 409


def test_correction_stores_a_new_version(client, people, database) -> None:  # type: ignore[no-untyped-def]
    csrf = login(client, people["a"])
    first_batch = _upload_fixture(client, csrf)
    record_id = _record_id(database, first_batch)
    form = client.get(f"/workbench/records/{record_id}/correct")
    assert form.status_code == 200 and 'name="penalty_content"' in form.text

    response = client.post(f"/workbench/records/{record_id}/correct", data={
        "csrf_token": csrf, "penalty_content": "警告并处罚款", "fine_amount": "1.5", "reason": "金额录入错误",
    }, follow_redirects=False)
    assert response.status_code == 303, response.text[:800]
    page = client.get(response.headers["location"])
    assert "第 2 版" in page.text and "已更正" in page.text and "警告并处罚款" in page.text
    with database.connect() as conn:
        versions = conn.execute(sa.select(RecordVersion).where(RecordVersion.record_id == record_id)
                                .order_by(RecordVersion.version)).all()
        record = conn.execute(sa.select(Record)).one()
        batch = conn.execute(sa.select(Batch).where(Batch.id == versions[-1].batch_id)).one()
        entry = conn.execute(sa.select(AuditEntry).where(AuditEntry.action == "record.correct")).one()
    assert [v.version for v in versions] == [1, 2] and record.current_version == 2
    assert versions[1].batch_id != first_batch and versions[1].line == 2
    assert versions[1].department_id == versions[0].department_id
    assert '"fine_amount":"1.5"' in versions[1].data and "警告并处罚款" in versions[1].data
    assert batch.submitted_by == "user:officer_a" and batch.file_name.startswith("在线更正：")
    assert "金额录入错误" in entry.after and entry.target_id == str(record_id)
    assert f"/workbench/batches/{batch.id}" in page.text  # provenance of version 2

    # an invalid value is refused with the intake's message and nothing changes
    bad = client.post(f"/workbench/records/{record_id}/correct", data={
        "csrf_token": csrf, "fine_amount": "五千", "reason": "再改",
    })
    assert bad.status_code == 422 and "应为数字" in bad.text
    with database.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(RecordVersion)).scalar_one() == 2


PERSON_ID = "440304200004153080"
PERSON_ID_MASKED = "4403**********3080"


def test_an_id_typed_into_a_correction_or_revocation_is_never_kept_in_clear(client, people, database) -> None:  # type: ignore[no-untyped-def]
    """Found by probing: the new version stored an id typed into a correction masked, but the
    audit entry kept the typed values and the reason verbatim, and a revocation's reason was kept
    whole in the record and its audit entry — the audit log is append-only and hash-chained, so
    an id in it could never be removed."""
    csrf = login(client, people["a"])
    record_id = _record_id(database, _upload_fixture(client, csrf))
    response = client.post(f"/workbench/records/{record_id}/correct", data={
        "csrf_token": csrf, "remarks": f"当事人身份证号 {PERSON_ID}",
        "violation_facts": f"当事人（ID{PERSON_ID}）无证经营", "reason": f"补充当事人身份证号{PERSON_ID}",
    }, follow_redirects=False)
    assert response.status_code == 303, response.text[:800]
    response = client.post(f"/workbench/records/{record_id}/revoke",
                           data={"reason": f"误报，当事人应为No{PERSON_ID}", "csrf_token": csrf},
                           follow_redirects=False)
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert f"误报，当事人应为No{PERSON_ID_MASKED}" in page.text and PERSON_ID not in page.text
    with database.connect() as conn:
        stored = " ".join(conn.scalars(sa.select(RecordVersion.data)).all())
        entries = {e.action: e for e in conn.execute(sa.select(AuditEntry)).all()}
        record = conn.execute(sa.select(Record)).one()
    assert PERSON_ID not in stored
    correction, revocation = entries["record.correct"], entries["record.revoke"]
    assert PERSON_ID not in correction.after and PERSON_ID not in (correction.before or "")
    assert json.loads(correction.after) | {"batch_id": None} == {
        "remarks": f"当事人身份证号 {PERSON_ID_MASKED}", "violation_facts": f"当事人（ID{PERSON_ID_MASKED}）无证经营",
        "reason": f"补充当事人身份证号{PERSON_ID_MASKED}", "batch_id": None}
    assert record.revoke_reason == f"误报，当事人应为No{PERSON_ID_MASKED}"
    assert json.loads(revocation.after)["revoke_reason"] == record.revoke_reason


def test_an_id_in_the_name_of_a_submitted_file_is_masked_in_the_audit_log(client, people, database) -> None:  # type: ignore[no-untyped-def]
    csrf = login(client, people["a"])
    response = _upload(client, csrf, WITH_ERRORS.read_bytes(), name=f"处罚_No{PERSON_ID}.csv")
    assert response.status_code == 303, response.text[:500]
    with database.connect() as conn:
        after = conn.scalar(sa.select(AuditEntry.after).where(AuditEntry.action == "batch.submit"))
    assert json.loads(after)["file"] == f"处罚_No{PERSON_ID_MASKED}.csv"


def test_credit_office_pages(client, people, database) -> None:  # type: ignore[no-untyped-def]
    _upload_fixture(client, login(client, people["a"]))
    assert client.get("/workbench/quality").status_code == 403
    client.cookies.clear()
    login(client, people["admin"])
    quality = client.get("/workbench/quality")
    assert quality.status_code == 200
    row = quality.text.split(f'data-department="{DEPARTMENT_A[0]}"')[1].split("</tr>")[0]
    cells = re.findall(r"<td>(.*?)</td>", row, flags=re.S)
    assert cells[0] == "1" and cells[1] == "1"  # one record, one batch
    assert "83.3%（5/6）" in cells[2]
    assert "（0/1）" in cells[3] or "（1/1）" in cells[3]
    catalogue = client.get("/workbench/catalogue")
    assert catalogue.status_code == 200 and "行政处罚信息" in catalogue.text and "政务共享" in catalogue.text
    assert "<code>CF_XDR_MC</code>" in catalogue.text and "<code>XK_LYDWDM</code>" in catalogue.text
    policies = client.get("/workbench/policies")
    assert policies.status_code == 200 and "《" in policies.text
    assert "公示时限（决定后几个工作日内公示）" in policies.text and "7个工作日" in policies.text
    assert "publication_deadline" not in policies.text and "penalty, licence" not in policies.text
    assert "另有地区规则：130100（河北省石家庄市）、410481（河南省舞钢市）" in policies.text
    # the administrator sees every department's batches and may filter them
    assert "penalties_with_errors.csv" in client.get("/workbench").text
    records = client.get("/workbench/records?kind=penalty&q=珠海")
    assert records.status_code == 200


def test_officer_fills_the_excel_template_and_gets_the_same_outcome_as_the_csv(client, people, database) -> None:  # type: ignore[no-untyped-def]
    """The template of the catalogue page: the current columns, code columns formatted as text (so
    Excel keeps every digit of an id), a drop-down list for coded columns, an explanation sheet;
    filled with the rows of the CSV, it gives the CSV's outcome."""
    csrf = login(client, people["a"])
    assert "/workbench/catalogue/penalty/template.xlsx" in client.get("/workbench/catalogue").text
    response = client.get("/workbench/catalogue/penalty/template.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    headers = [c.value for c in sheet[1]]
    with open(WITH_ERRORS, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        sent = list(reader)
        assert set(reader.fieldnames or []) <= set(headers)
    assert "地方编码" not in headers  # a 2016 column is not in the current template
    column = {h: openpyxl.utils.get_column_letter(i) for i, h in enumerate(headers, start=1)}
    for header in ("行政相对人代码_1(统一社会信用代码)", "证件号码", "法定代表人证件号码"):
        assert sheet.column_dimensions[column[header]].number_format == "@", header
    lists = {str(v.sqref).split(":")[0][:-1]: v.formula1 for v in sheet.data_validations.dataValidation}
    assert "法人及非法人组织" in lists[column["行政相对人类别"]]
    explained = {row[0]: row[3] for row in workbook["填报说明"].iter_rows(min_row=2, values_only=True)}
    assert set(explained) == set(headers) and "单位万元" in explained["罚款金额（万元）"]

    for row in sent:
        sheet.append([row.get(h, "") for h in headers])
    filled = io.BytesIO()
    workbook.save(filled)
    response = _upload(client, csrf, filled.getvalue(), name="模板.xlsx")
    assert response.status_code == 303, response.text[:500]
    with database.connect() as conn:
        batch = conn.execute(sa.select(Batch)).one()
    assert (batch.file_format, batch.rows_total, batch.accepted, batch.rejected) == ("xlsx", 6, 1, 5)

    csv_template = client.get("/workbench/catalogue/licence/template.csv")
    assert csv_template.content.startswith(b"\xef\xbb\xbf")
    first_line = csv_template.content.decode("utf-8-sig").split("\r\n")[0]
    assert first_line.split(",")[:2] == ["行政相对人名称", "行政相对人类别"]
    assert client.get("/workbench/catalogue/penalty/template.pdf").status_code == 404
    assert client.get("/workbench/catalogue/nothing/template.csv").status_code == 404


def test_rows_of_a_workbook_with_two_sheets_are_shown_under_their_sheet(client, people, database) -> None:  # type: ignore[no-untyped-def]
    """A workbook with records on two sheets: the report page, the rejected-rows download and the
    record's provenance give each row as staff find it in Excel, its sheet and its own row."""
    with open(WITH_ERRORS, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        headers, sent = list(reader.fieldnames or []), list(reader)
    workbook = openpyxl.Workbook()
    for title, rows in (("第一批", sent[:3]), ("第二批", sent[3:])):
        sheet = workbook.active if title == "第一批" else workbook.create_sheet(title)
        sheet.title = title
        sheet.append(headers)
        for row in rows:
            sheet.append([row[h] for h in headers])
    filled = io.BytesIO()
    workbook.save(filled)
    csrf = login(client, people["a"])
    response = _upload(client, csrf, filled.getvalue(), name="两个工作表.xlsx")
    assert response.status_code == 303, response.text[:500]
    batch_id = int(response.headers["location"].rsplit("/", 1)[1])

    errors = client.get(f"/workbench/batches/{batch_id}").text.split('id="errors"')[1].split("</table>")[0]
    places = set(re.findall(r"<tr><td>([^<]+)</td>", errors))
    assert places == {"第一批 2", "第一批 3", "第一批 4", "第二批 2", "第二批 3"}
    download = client.get(f"/workbench/batches/{batch_id}/rejected.csv").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(download)))
    assert [(r["工作表"], r["行号"]) for r in rows] == [
        ("第一批", "2"), ("第一批", "3"), ("第一批", "4"), ("第二批", "2"), ("第二批", "3")]
    # the one valid row is the last of the second sheet: row 4 there
    record = client.get(f"/workbench/records/{_record_id(database, batch_id)}").text
    assert "工作表“第二批”第 4 行" in record


def test_the_record_page_lists_the_other_parties_of_the_decision(client, people, database) -> None:  # type: ignore[no-untyped-def]
    """共同违法: a decision naming two companies is a record for each; either record's page names
    the other party, with a link, so that an officer sees the whole decision."""
    from xinyong.core.ids import make_uscc

    with open(WITH_ERRORS, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        headers = list(reader.fieldnames or [])
        valid = next(r for r in reader if r["数据来源单位统一社会信用代码"] == DEPARTMENT_A[0])
    partner = dict(valid, **{"行政相对人名称": "珠海市共同违法贸易有限公司",
                             "行政相对人代码_1(统一社会信用代码)": make_uscc("91440402MA0000077"),
                             "行政处罚决定书文号": valid["行政处罚决定书文号"].replace("〔", "[").replace("〕", "]")})
    body = io.StringIO()
    writer = csv.DictWriter(body, fieldnames=headers)
    writer.writeheader()
    writer.writerows([valid, partner])
    csrf = login(client, people["a"])
    response = _upload(client, csrf, body.getvalue().encode("utf-8"), name="joint.csv")
    assert response.status_code == 303, response.text[:500]
    batch_id = int(response.headers["location"].rsplit("/", 1)[1])
    with database.connect() as conn:
        ids = conn.scalars(sa.select(RecordVersion.record_id).where(RecordVersion.batch_id == batch_id)
                           .order_by(RecordVersion.line)).all()
    assert len(set(ids)) == 2
    first = client.get(f"/workbench/records/{ids[0]}").text
    parties = first.split('id="parties"')[1].split("</section>")[0]
    assert f'<a href="/workbench/records/{ids[1]}">珠海市共同违法贸易有限公司</a>' in parties
    assert f"文号写作 {partner['行政处罚决定书文号']}" in parties
    second = client.get(f"/workbench/records/{ids[1]}").text
    assert valid["行政相对人名称"] in second.split('id="parties"')[1].split("</section>")[0]
    # a decision with one party has no such section
    alone = dict(valid, **{"行政处罚决定书文号": valid["行政处罚决定书文号"] + "之一"})
    body = io.StringIO()
    writer = csv.DictWriter(body, fieldnames=headers)
    writer.writeheader()
    writer.writerow(alone)
    response = _upload(client, csrf, body.getvalue().encode("utf-8"), name="alone.csv")
    page = client.get(f"/workbench/records/{_record_id(database, int(response.headers['location'].rsplit('/', 1)[1]))}")
    assert alone["行政处罚决定书文号"] in page.text and 'id="parties"' not in page.text


def test_the_rejected_rows_csv_cannot_run_formulas_and_reads_back_as_sent(database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A cell that starts with = + - @ is a formula to Excel when it opens a CSV (=HYPERLINK(…)
    sent in a 备注 would be a live link in the download). Such cells get Excel's text mark ',
    plain negative numbers excepted; the file sent back again gives the values as first sent."""
    from filehelpers import ingest, sample_rows, write_rows
    from xinyong.ingest import service

    headers, rows = sample_rows()
    risky = {"备注": '=HYPERLINK("http://example.com","点击")', "违法事实": "-2+3 @SUM(A1)",
             "处罚内容": "+罚款", "罚款金额（万元）": "-3"}
    report = ingest(write_rows(tmp_path / "risky.csv", headers, [dict(rows[0], **risky)]))
    assert report.rejected == 1  # the negative amount
    table = list(service.rejected_table(report.batch_id))
    text = b"".join(service.rejected_csv(table)).decode("utf-8-sig")
    download = list(csv.DictReader(io.StringIO(text)))
    assert download[0]["备注"] == "'" + risky["备注"]
    assert download[0]["违法事实"] == "'-2+3 @SUM(A1)" and download[0]["处罚内容"] == "'+罚款"
    assert download[0]["罚款金额（万元）"] == "-3"
    fixed = dict(download[0], **{"罚款金额（万元）": "3"})
    resent = ingest(write_rows(tmp_path / "again.csv", list(download[0]), [fixed]))
    assert resent.accepted == 1, resent.errors
    with database.connect() as conn:
        data = conn.scalars(sa.select(RecordVersion.data)).one()
    stored = json.loads(data)
    assert (stored["remarks"], stored["violation_facts"], stored["penalty_content"]) == (
        risky["备注"], risky["违法事实"], risky["处罚内容"])


def test_a_batch_sent_on_the_command_line_counts_for_the_department_its_rows_come_from(  # type: ignore[no-untyped-def]
        client, people, database, tmp_path) -> None:
    """Found by probing: batches ingested with `xinyong ingest` (no sender) counted for nobody, so
    the collection-quality page showed a department's web uploads only: a false rejection rate.
    A file whose rows all come from one department is that department's batch; a file mixing
    departments stays unassigned."""
    from filehelpers import ingest, sample_rows, write_rows

    headers, rows = sample_rows()
    source = "数据来源单位统一社会信用代码"
    own = [r for r in rows if r[source] == rows[0][source]]
    mixed = next(r for r in rows if r[source] != rows[0][source])
    broken = dict(own[0], 处罚决定日期="2024/13/40", 行政处罚决定书文号="坏罚〔2024〕1号")
    single = ingest(write_rows(tmp_path / "one.csv", headers, [*own, broken]))
    several = ingest(write_rows(tmp_path / "two.csv", headers, [own[0], mixed]))
    with database.connect() as conn:
        owners = dict(conn.execute(sa.select(Batch.id, Batch.department_id)).all())
        department_id = conn.execute(sa.text("SELECT id FROM departments WHERE uscc = :u"),
                                     {"u": rows[0][source]}).scalar_one()
    assert (owners[single.batch_id], owners[several.batch_id]) == (department_id, None)
    login(client, people["admin"])
    row = client.get("/workbench/quality").text.split(f'data-department="{rows[0][source]}"')[1].split("</tr>")[0]
    cells = re.findall(r"<td>(.*?)</td>", row, flags=re.S)
    assert cells[1] == "1" and f"（1/{len(own) + 1}）" in cells[2]
