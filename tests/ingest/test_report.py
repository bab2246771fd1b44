"""The quality report: complete in the file and over HTTP, however many issues a batch has."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest

from filehelpers import FIXTURES, ingest, sample_rows, write_rows
from webhelpers import login, make_user
from xinyong.accounts.access import Role
from xinyong.core import db
from xinyong.ingest import service
from xinyong.ingest.models import Batch

pytestmark = pytest.mark.usefixtures("database")

REPORT_KEYS = ["kind", "file", "batch_id", "format", "encoding", "layout", "rows_total", "accepted",
               "corrected", "unchanged", "rejected", "errors_count", "warnings_count", "errors",
               "warnings", "departments_registered"]


@pytest.fixture
def many_issues(tmp_path, monkeypatch):
    """A file with seven bad rows (two errors each), two good rows and an unknown column; the
    report keeps three issues of each kind in memory and reads the rest two at a time."""
    monkeypatch.setattr(service, "ISSUE_SAMPLE", 3)
    monkeypatch.setattr(service, "REPORT_PAGE", 2)
    headers, rows = sample_rows()
    headers.append("内部编号")
    rows = rows[:9]
    for i, row in enumerate(rows):
        row["内部编号"] = f"A{i}"
        if i not in (3, 7):
            row["罚款金额（万元）"] = "约三万"
            row["处罚决定日期"] = "2024/02/30"
    return write_rows(tmp_path / "many.csv", headers, rows)


def _expected_errors() -> list[tuple[int, str, str]]:
    # file order; within a line, the order of the columns
    bad_lines = [line for line in range(2, 11) if line not in (5, 9)]
    return [(line, field, code) for line in bad_lines
            for field, code in (("罚款金额（万元）", "not_a_number"), ("处罚决定日期", "invalid_date"))]


def test_full_report_lists_every_issue_in_order_while_memory_holds_the_first(many_issues, tmp_path):
    report = ingest(many_issues)
    assert (report.rows_total, report.accepted, report.rejected) == (9, 2, 7)
    assert (report.errors_count, report.warnings_count) == (14, 1)
    expected = _expected_errors()
    assert [(e.line, e.field, e.code) for e in report.errors] == expected[:3]

    out = tmp_path / "report.json"
    service.write_report(report, out)
    full = json.loads(out.read_text(encoding="utf-8"))
    assert list(full) == REPORT_KEYS
    assert [(e["line"], e["field"], e["code"]) for e in full["errors"]] == expected
    assert all(set(e) == {"line", "field", "code", "message"} and e["message"] for e in full["errors"])
    assert [(w["line"], w["field"], w["code"]) for w in full["warnings"]] == [(1, "内部编号", "unknown_column")]
    assert full["rows_total"] == sum(full[k] for k in ("accepted", "corrected", "unchanged", "rejected"))
    assert full["departments_registered"] == [d.model_dump() for d in report.departments_registered] != []


def test_stored_report_keeps_file_wide_warnings(many_issues):
    """The unknown column is in the report read back later, not only in the one returned at once."""
    report = ingest(many_issues)
    with db.transaction() as session:
        again = service.batch_report(session, session.get(Batch, report.batch_id))
    assert (again.errors_count, again.warnings_count) == (14, 1)
    assert again.warnings == report.warnings and again.errors == report.errors


def test_report_with_no_issues_is_valid_json(tmp_path):
    report = ingest(FIXTURES / "penalties.csv")
    service.write_report(report, tmp_path / "r.json")
    full = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert full["errors"] == [] and full["warnings"] == [] and full["accepted"] == 47


def test_api_and_workbench_serve_the_full_report(many_issues, client, database):
    with db.transaction() as session:  # the credit office: the file holds several departments' data
        make_user(session, Role.ADMIN, username="admin_a")
    csrf = login(client, "admin_a")
    response = client.post("/api/v1/batches?kind=penalties", headers={"X-CSRF-Token": csrf},
                           files={"file": ("many.csv", many_issues.read_bytes(), "text/csv")})
    assert response.status_code == 201, response.text
    submitted = response.json()
    assert list(submitted) == REPORT_KEYS
    assert [(e["line"], e["field"], e["code"]) for e in submitted["errors"]] == _expected_errors()
    batch_id = submitted["batch_id"]
    assert client.get(f"/api/v1/batches/{batch_id}").json() == submitted

    page = client.get(f"/workbench/batches/{batch_id}").text
    assert "错误（14）" in page and "警告（1）" in page
    assert "此处列出前 3 条，全部 14 条" in page
    shown = page.split('id="errors"')[1].split("</table>")[0]
    assert shown.count("<tr><td>") == 3
    download = client.get(f"/workbench/batches/{batch_id}/report.json")
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    assert download.json() == submitted


def test_rejected_rows_download_pairs_each_row_with_all_its_errors(many_issues, client, database):
    """Rows and errors are read a page at a time each; every row still gets its own two errors."""
    with db.transaction() as session:  # the credit office: the file holds several departments' data
        make_user(session, Role.ADMIN, username="admin_a")
    csrf = login(client, "admin_a")
    response = client.post("/api/v1/batches?kind=penalties", headers={"X-CSRF-Token": csrf},
                           files={"file": ("many.csv", many_issues.read_bytes(), "text/csv")})
    batch_id = response.json()["batch_id"]
    expected = [(str(line), "罚款金额（万元）；处罚决定日期", "not_a_number；invalid_date")
                for line in range(2, 11) if line not in (5, 9)]

    download = client.get(f"/workbench/batches/{batch_id}/rejected.csv")
    assert download.status_code == 200 and download.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert [(r["行号"], r["出错列"], r["错误代码"]) for r in rows] == expected
    assert [r["内部编号"] for r in rows] == [f"A{i}" for i in range(9) if i not in (3, 7)]

    download = client.get(f"/workbench/batches/{batch_id}/rejected.xlsx")
    assert download.status_code == 200 and "rejected.xlsx" in download.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(download.content), read_only=True).worksheets[0]
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    at = table[0].index("行号")
    assert [tuple(r[at:at + 3]) for r in table[1:]] == expected


def test_rejected_rows_of_json_lines_keep_keys_first_met_on_later_lines(tmp_path):
    """JSON Lines may bring a key on a later line: the rejected-rows table has a column for it,
    with each row's own value, though the first rejected row did not have it."""
    _, rows = sample_rows()
    records = [{k: v for k, v in r.items() if v} for r in rows[:3]]
    for r in records:
        r.pop("备注", None)
        r["处罚决定日期"] = "2024/02/30"
    records[2]["备注"] = "第三行才有的备注"
    path = tmp_path / "varying.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    report = ingest(path)
    assert report.rejected == 3
    table = list(service.rejected_table(report.batch_id))
    header = table[0]
    assert "备注" in header
    assert [row[header.index("备注")] for row in table[1:]] == ["", "", "第三行才有的备注"]


def test_rejected_rows_that_are_no_records_are_handed_back_as_written(tmp_path):
    """A JSON Lines line that is not JSON comes back in 原始内容, as written; a CSV row with a quote
    never closed comes back with what it swallowed; control characters pasted into a cell (which
    Excel cannot hold) are left out of the Excel download instead of breaking it."""
    _, rows = sample_rows()
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join([json.dumps(rows[0], ensure_ascii=False), '{"行政相对人名称": "甲公司",',
                               json.dumps(dict(rows[1], 违法事实="事实\x0b说明", 处罚决定日期="2024/02/30"),
                                          ensure_ascii=False)]) + "\n", encoding="utf-8")
    report = ingest(path)
    assert [(e.line, e.code) for e in report.errors] == [(2, "invalid_json"), (3, "invalid_date")]
    table = list(service.rejected_table(report.batch_id))
    header = table[0]
    assert table[1][header.index("原始内容")] == '{"行政相对人名称": "甲公司",'
    assert table[2][header.index("违法事实")] == "事实\x0b说明"
    service.rejected_xlsx(iter(table), tmp_path / "rejected.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "rejected.xlsx", read_only=True).worksheets[0]
    written = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert written[1][header.index("原始内容")] == '{"行政相对人名称": "甲公司",'
    assert written[2][header.index("违法事实")] == "事实说明"

    headers, rows = sample_rows()
    lines = [",".join(headers), ",".join(rows[0].values()), '"' + ",".join(rows[1].values()),
             ",".join(rows[2].values()) + '"', ",".join(rows[3].values())]
    path = tmp_path / "quote.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = ingest(path)
    assert [(e.line, e.code) for e in report.errors] == [(3, "unclosed_quote")]
    table = list(service.rejected_table(report.batch_id))
    name = table[1][table[0].index(headers[0])]
    assert name.startswith(rows[1][headers[0]]) and rows[2][headers[0]] in name
