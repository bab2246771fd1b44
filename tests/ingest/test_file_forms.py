"""Files as departments really send them, found by probing with real-world files: a CSV renamed
.xlsx, a web page named .xlsx, a template's notes row under the header, the date forms of
databases and of Chinese Windows and .NET, and licence templates filled in ahead."""

from __future__ import annotations

import csv

import pytest
from sqlalchemy import select

from filehelpers import USCC, ingest, sample_rows, write_rows
from xinyong.core import db
from xinyong.core.errors import FileUnreadable
from xinyong.records import service as records
from xinyong.records.models import Record

pytestmark = pytest.mark.usefixtures("database")


def _stored_dates(field: str = "decision_date") -> dict[str, str]:
    """{decision number: the stored date} of every record."""
    with db.transaction() as session:
        return {r.decision_no: records.current_values(session, r)[field] for r in session.scalars(select(Record))}


@pytest.mark.parametrize(("suffix", "encoding", "delimiter", "said"), [
    (".xlsx", "utf-8-sig", ",", "UTF-8 (BOM) 编码、逗号分隔的 CSV 文本"),
    (".xls", "gbk", "\t", "GBK 编码、制表符分隔的 CSV 文本"),
], ids=["utf8-csv-xlsx", "gbk-tsv-xls"])
def test_a_csv_file_renamed_as_a_workbook_is_read_as_csv_and_the_report_says_so(
        tmp_path, suffix, encoding, delimiter, said):
    """Staff rename 处罚.csv to 处罚.xlsx so that the upload takes it: it was refused as “not an
    Excel workbook” without a word of what it is (a .xls so named was read without a word). The
    text is read as the CSV it is, and a note says what the file is and how to name it."""
    headers, rows = sample_rows()
    path = tmp_path / f"处罚{suffix}"
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=headers, delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows[:3])
    report = ingest(path)
    assert (report.format, report.rows_total, report.accepted, report.rejected) == ("csv", 3, 3, 0), report.errors
    notes = [w.message for w in report.warnings if w.code == "file_note"]
    assert notes[0].startswith(f"文件扩展名为 {suffix}，但内容不是 Excel 工作簿，而是 {said}"), notes
    assert "以后请使用 .csv 扩展名" in notes[0]
    again = ingest(write_rows(tmp_path / "处罚.csv", headers, rows[:3]))
    assert (again.unchanged, again.corrected) == (3, 0), "the renamed file must give the records the CSV gives"


def test_a_text_renamed_xlsx_that_holds_no_table_says_it_is_text(tmp_path):
    """A text that is no 双公示 table under an .xlsx name: the message says it is text, not a
    damaged workbook, and what reading it as text found."""
    path = tmp_path / "说明.xlsx"
    path.write_text("本月无行政处罚信息。\n报送人：张三\n", encoding="utf-8")
    with pytest.raises(FileUnreadable) as raised:
        ingest(path)
    message = str(raised.value)
    assert message.startswith("文件扩展名为 .xlsx，但内容是文本（如改了扩展名的 CSV 文件），不是 Excel 工作簿"), message
    assert "不是可识别的表头" in message


@pytest.mark.parametrize(("name", "content", "said"), [
    ("导出.xlsx", "<html><head><meta charset=\"utf-8\"></head><body><table><tr><td>行政相对人名称</td></tr>"
                "</table></body></html>",
     "文件扩展名为 .xlsx，但内容是网页表格（HTML），不是 Excel 工作簿；按表格读取时：第 1 行不是可识别的表头"),
    # Excel's 单个文件网页 (MHTML), as some systems export their “Excel”
    ("导出.xls", "MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"----=_NextPart\"\r\n\r\n"
               "------=_NextPart\r\nContent-Type: text/html; charset=\"utf-8\"\r\n\r\n"
               "<html><table></table></html>\r\n",
     "文件扩展名为 .xls，但内容是单个文件网页（MHTML，Excel“另存为”中的“单个文件网页”），不是 Excel 工作簿，"
     "平台读不了这种格式"),
], ids=["html-xlsx", "mhtml-xls"])
def test_a_web_page_named_as_a_workbook_that_holds_no_records_is_refused_as_a_web_page(tmp_path, name, content, said):
    """Old systems export an HTML table (or a web archive) as “Excel”: under .xlsx it was refused
    as “not an Excel workbook”, and an MHTML .xls as a CSV without a header. A page's table is
    read now (tests/ingest/test_web_tables.py); one without a 双公示 header, and a web archive,
    are refused saying what the file is and how to save it."""
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FileUnreadable) as raised:
        ingest(path)
    message = str(raised.value)
    assert message.startswith(said), message
    assert "另存为 .xlsx 或 CSV（UTF-8）" in message


def _notes_row(headers: list[str]) -> dict[str, str]:
    """A template's row under the header saying how to fill each column."""
    said = {
        "行政相对人名称": "必填，请填写全称", "行政相对人类别": "请选择：法人及非法人组织、自然人、个体工商户",
        "行政相对人代码_1(统一社会信用代码)": "请填写统一社会信用代码", "法定代表人": "选填",
        "证件类型": "自然人必填", "证件号码": "自然人必填", "行政处罚决定书文号": "必填",
        "违法行为类型": "必填", "处罚类别": "可多选，多个用分号隔开", "罚款金额（万元）": "单位：万元，保留六位小数",
        "处罚决定日期": "格式：YYYY-MM-DD", "处罚有效期": "YYYY/MM/DD", "公示截止期": "非必填",
        "处罚机关": "示例：石家庄市市场监督管理局", "处罚机关统一社会信用代码": "请填写统一社会信用代码",
        "备注": "填写说明：无则不填",
    }
    assert set(said) <= set(headers)
    return {h: said.get(h, "") for h in headers}


@pytest.mark.parametrize("first", ["PK编号", "[序号]", "{编号}"])
def test_a_csv_whose_first_column_begins_like_a_workbook_or_json_is_read_as_csv(tmp_path, first):
    """A .csv whose first column is named PK编号 begins with "PK", as a zip (an .xlsx) does: it was
    read as a workbook and refused. A database's bracketed name ([序号], {编号}) began it as JSON.
    Workbooks are told by their real signatures and JSON by how its text goes on: it is text."""
    headers, rows = sample_rows()
    path = write_rows(tmp_path / "处罚.csv", [first, *headers], [{first: str(n), **r} for n, r in enumerate(rows[:3])])
    report = ingest(path)
    assert (report.format, report.rows_total, report.accepted, report.rejected) == ("csv", 3, 3, 0), report.errors
    assert [(w.field, w.code) for w in report.warnings if w.code == "unknown_column"] == [(first, "unknown_column")]


def test_a_notes_row_under_the_header_is_passed_over_with_one_note(tmp_path):
    """Templates put a row of fill-in instructions under the column names (必填 | 格式：YYYY-MM-DD |
    请填写统一社会信用代码 …): it was a rejected row with 14 errors. It is passed over, not counted,
    and one note says so."""
    headers, rows = sample_rows()
    report = ingest(write_rows(tmp_path / "notes.csv", headers, [_notes_row(headers), *rows[:3]]))
    assert (report.rows_total, report.accepted, report.rejected, report.errors) == (3, 3, 0, [])
    notes = [w for w in report.warnings if "填写说明" in w.message]
    assert [(w.line, w.code) for w in notes] == [(None, "file_note")]
    assert notes[0].message.startswith("第 2 行是模板的填写说明（“必填，请填写全称”"), notes[0].message
    assert notes[0].message.endswith("不是记录，已跳过，不计入数据行")


def test_a_notes_row_on_each_sheet_of_records_is_passed_over(tmp_path):
    """法人 and 自然人 on sheets of their own, each with the template's notes row under its header."""
    import openpyxl

    headers, rows = sample_rows()
    workbook = openpyxl.Workbook()
    for title, persons in (("法人", False), ("自然人", True)):
        sheet = workbook.create_sheet(title)
        sheet.append(headers)
        sheet.append([_notes_row(headers)[h] for h in headers])
        for r in [r for r in rows if (r["行政相对人类别"] == "自然人") == persons][:2]:
            sheet.append([r[h] for h in headers])
    del workbook[workbook.sheetnames[0]]
    workbook.save(tmp_path / "sheets.xlsx")
    report = ingest(tmp_path / "sheets.xlsx")
    assert (report.rows_total, report.accepted, report.rejected) == (4, 4, 0), report.errors[:3]
    notes = [w.message.partition("是模板的填写说明")[0] for w in report.warnings if "填写说明" in w.message]
    assert notes == ["工作表“法人”第 2 行", "工作表“自然人”第 2 行"], notes


def test_a_record_is_never_taken_for_a_notes_row(tmp_path):
    """Only the row right under the header, holding no party's name, decision number, code or date
    that is not an instruction, is passed over: a record whose cells begin like instructions is
    rejected with its errors, and so is a notes row further down."""
    headers, rows = sample_rows()
    looks_like_notes = dict(rows[0], 处罚决定日期="格式：YYYY-MM-DD", 处罚有效期="请填写", 备注="注：罚款已缴纳")
    report = ingest(write_rows(tmp_path / "record.csv", headers, [looks_like_notes, rows[1]]))
    assert (report.rows_total, report.accepted, report.rejected) == (2, 1, 1)
    assert {(e.line, e.field, e.code) for e in report.errors} >= {(2, "处罚决定日期", "invalid_date")}
    coded = dict(_notes_row(headers), **{USCC: rows[0][USCC]})
    report = ingest(write_rows(tmp_path / "coded.csv", headers, [coded, rows[1]]))
    assert (report.rows_total, report.rejected) == (2, 1), "a valid code is no instruction"
    report = ingest(write_rows(tmp_path / "below.csv", headers, [rows[1], _notes_row(headers)]))
    assert (report.rows_total, report.rejected) == (2, 1)
    assert {e.line for e in report.errors} == {3}
    assert not [w for w in report.warnings if "填写说明" in w.message]


def test_dates_as_databases_windows_and_dotnet_write_them_are_read(tmp_path):
    """PostgreSQL's timestamptz text (2024-03-05 00:00:00+08), the long date of Chinese Windows
    and .NET with its weekday (2024年3月5日星期二) and .NET's 12-hour time (2024/3/5 上午 12:00:00)
    were refused as no date. The time is ignored as in 2024-03-05 00:00:00; an offset other than
    China's gives the date in China, as an ISO offset does."""
    headers, rows = sample_rows()
    written = ["2024-03-05 00:00:00+08", "2024-03-05 00:00:00+08:00", "2024-03-05 00:00:00.000+08",
               "2024年3月5日星期二", "2024年3月5日 星期二", "2024年3月5日 周二", "2024年3月5日（星期二）",
               "2024/3/5 上午 12:00:00", "2024/3/5 下午 3:15:00", "2024-03-05 00:00:00",
               "2024-03-04 16:00:00+00", "2024-03-05 23:30:00-05"]
    sent = [dict(rows[n], 处罚决定日期=w) for n, w in enumerate(written)]
    report = ingest(write_rows(tmp_path / "dates.csv", headers, sent))
    assert (report.accepted, report.rejected) == (len(written), 0), report.errors
    stored = _stored_dates()
    assert [stored[r["行政处罚决定书文号"]] for r in sent] == ["2024-03-05"] * 11 + ["2024-03-06"]


def test_a_weekday_the_date_does_not_fall_on_rejects_the_row(tmp_path):
    """2024年3月5日星期五: 5 March 2024 was a Tuesday. One of the two is wrong: never guessed."""
    headers, rows = sample_rows()
    report = ingest(write_rows(tmp_path / "weekday.csv", headers, [dict(rows[0], 处罚决定日期="2024年3月5日星期五")]))
    assert report.rejected == 1
    [(field, code, message)] = [(e.field, e.code, e.message) for e in report.errors]
    assert (field, code) == ("处罚决定日期", "weekday_mismatch")
    assert "2024年3月5日是星期二，不是星期五" in message, message


def test_licence_template_rows_with_category_and_status_filled_in_ahead_are_passed_over(tmp_path):
    """Licence templates fill 许可类别 (普通) and 当前状态 (有效) in ahead as well as the party's
    category, the authority and the source department: such rows were rejected records with their
    errors. They are unused template rows, passed over with one note."""
    import openpyxl

    headers, rows = sample_rows("licences.csv")
    ahead = ("行政相对人类别", "许可类别", "许可机关", "许可机关统一社会信用代码", "当前状态", "数据来源单位",
             "数据来源单位统一社会信用代码")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for r in rows[:3]:
        sheet.append([r[h] for h in headers])
    for _ in range(20):  # rows 5-24
        sheet.append([rows[0][h] if h in ahead else None for h in headers])
    workbook.save(tmp_path / "licence_template.xlsx")
    report = ingest(tmp_path / "licence_template.xlsx", kind="licences")
    assert (report.rows_total, report.accepted, report.rejected, report.errors) == (3, 3, 0, [])
    [note] = [w.message for w in report.warnings if "预先填好" in w.message]
    assert note.startswith("第 5–24 行（共 20 行）只有模板预先填好的列"), note
    assert "“许可类别”" in note and "“当前状态”" in note
