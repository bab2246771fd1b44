"""Text files and values as departments' systems really write them, found by probing: NUL padding
from database exports, the separator of tab-separated and semicolon-rich files, exports joined
with their BOMs, compact date-times, annotated headers, JSON whose first element is no record, and
common spellings of catalogue values."""

from __future__ import annotations

import csv
import json

import pytest
from sqlalchemy import select

from filehelpers import DECISION_DATE, DECISION_NO, NAME, USCC, ingest, sample_rows, write_rows
from xinyong.catalogue.service import get_catalogue, normalize_header
from xinyong.core import db
from xinyong.core.errors import FileUnreadable
from xinyong.ingest.models import BatchIssue
from xinyong.records import service as records
from xinyong.records.models import Record, RecordVersion

pytestmark = pytest.mark.usefixtures("database")

FINE = "罚款金额（万元）"
LICENCE_NO = "行政许可决定文书号"


def _stored(field: str) -> dict[str, str | None]:
    """{decision number: the stored value of ``field``} of every record."""
    with db.transaction() as session:
        return {r.decision_no: records.current_values(session, r).get(field) for r in session.scalars(select(Record))}


def _organisations(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The sample rows of organisations (not individual businesses: a 92 code makes one)."""
    return [r for r in rows if r["行政相对人类别"] == "法人及非法人组织" and not r[USCC].startswith("92")]


def _stored_issue_texts(batch_id: int) -> str:
    with db.transaction() as session:
        issues = session.execute(select(BatchIssue.field, BatchIssue.message).where(BatchIssue.batch_id == batch_id))
        return "".join(f"{field or ''}{message}" for field, message in issues)


# -- NUL ---------------------------------------------------------------------------------------

def test_nul_padding_of_a_date_amount_or_code_is_removed_on_both_databases(tmp_path):
    """A database pads a fixed-width (CHAR) field with NUL; JSON writes it \\u0000. In a date, an
    amount, a code or a header it crashed PostgreSQL (“text fields cannot contain NUL”: a
    traceback, HTTP 500) and on SQLite rejected the row with a message quoting the invisible
    NUL. The padding is removed with the warning texts already got; the rows are stored."""
    headers, rows = sample_rows()
    sent = [dict(r) for r in _organisations(rows)[:3]]
    sent[0][DECISION_DATE] += "\x00\x00"
    sent[1][FINE] = "7.19\x00"
    sent[2]["行政相对人类别"] = "法人及非法人组织\x00"
    path = tmp_path / "padded.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:  # the first column name padded too
        writer = csv.writer(fh)
        writer.writerow([f"{headers[0]}\x00", *headers[1:], "序号\x00\x00"])
        writer.writerows([[r[h] for h in headers] + ["1\x00"] for r in sent])
    report = ingest(path)
    assert (report.rows_total, report.accepted, report.rejected) == (3, 3, 0), report.errors
    removed = [(w.line, w.field) for w in report.warnings if w.code == "control_characters_removed"]
    assert removed == [(2, DECISION_DATE), (3, FINE), (4, "行政相对人类别")]
    assert [w.message for w in report.warnings if w.code == "unknown_column"] == ["列“序号”不在目录中，已忽略"]
    stored = {field: _stored(field) for field in ("decision_date", "fine_amount", "subject_category")}
    assert stored["decision_date"][sent[0][DECISION_NO]] == "2024-08-13"
    assert stored["fine_amount"][sent[1][DECISION_NO]] == "7.19"
    assert stored["subject_category"][sent[2][DECISION_NO]] == "法人及非法人组织"

    padded = {k: (f"{v}\x00" if k == DECISION_DATE else v or None) for k, v in sent[0].items()}
    json_path = tmp_path / "padded.json"
    json_path.write_text(json.dumps([{f"{NAME}\x00" if k == NAME else k: v for k, v in padded.items()}]),
                         encoding="utf-8")  # ASCII JSON: the NULs as \u0000
    again = ingest(json_path)
    assert (again.unchanged, again.rejected) == (1, 0), again.errors


def test_a_nul_inside_a_date_or_code_rejects_the_row_showing_where_it_is(tmp_path):
    """Inside a value a NUL leaves no telling what was meant: the row is rejected, and the
    message shows it (〈NUL〉) instead of quoting it invisibly; nothing stored holds a NUL."""
    headers, rows = sample_rows()
    sent = [dict(r) for r in _organisations(rows)[:3]]
    sent[0][DECISION_DATE] = "2024/08\x00/13"
    sent[1][USCC] = sent[1][USCC][:9] + "\x00" + sent[1][USCC][9:]
    sent[2]["违法事实"] = "逾期\x00未改正"  # a text: the NUL is removed
    report = ingest(write_rows(tmp_path / "inner.csv", headers, sent))
    assert (report.accepted, report.rejected) == (1, 2)
    assert [(e.line, e.field, e.code) for e in report.errors] == [
        (2, DECISION_DATE, "control_characters"), (3, USCC, "control_characters")]
    assert "“2024/08〈NUL〉/13”中间有不可见的控制字符" in report.errors[0].message
    assert "\x00" not in _stored_issue_texts(report.batch_id)
    assert _stored("violation_facts")[sent[2][DECISION_NO]] == "逾期未改正"


def test_a_message_quoting_a_cell_with_a_nul_shows_it(tmp_path):
    """Whatever quotes a cell as written (a footer label here) cannot store its NUL: it is shown."""
    headers, rows = sample_rows()
    path = write_rows(tmp_path / "footer.csv", headers, [*rows[:1], {NAME: "填报人：张三\x00"}])
    report = ingest(path)
    assert [w.message for w in report.warnings if w.code == "footer_skipped"] == [
        "第 3 行是表尾（“填报人：张三〈NUL〉”…），不是记录，已跳过"]


# -- the separator -----------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "encoding", "delimiter", "text"), [
    ("unicode_text.txt", "utf-16", "\t", "经查,当事人生产的" + ",".join(f"第{i}批次" for i in range(1, 40))),
    ("tab.tsv", "utf-8", "\t", "经查,当事人生产的" + ",".join(f"第{i}批次" for i in range(1, 40))),
    ("semicolons.csv", "utf-8-sig", ",", ";".join(f"《某某条例》第{i}条" for i in range(1, 40))),
], ids=["excel-unicode-text", "tsv", "comma-csv-with-semicolons"])
def test_the_separator_is_the_one_that_splits_the_header(tmp_path, name, encoding, delimiter, text):
    """The separator was the character most frequent on one of the first lines, quoted texts
    included: a record whose 违法事实 had more commas than the header has tabs (Excel's “Unicode
    文本”, a TSV) or whose 处罚依据 had more semicolons than the header has commas made the whole file
    unreadable (“第 1 行不是可识别的表头”)."""
    headers, rows = sample_rows()
    sent = [dict(r) for r in rows[:3]]
    sent[0]["违法事实" if delimiter == "\t" else "处罚依据"] = text
    path = tmp_path / name
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=headers, delimiter=delimiter)
        writer.writeheader()
        writer.writerows(sent)
    report = ingest(path)
    assert (report.format, report.accepted, report.rejected) == ("csv", 3, 0), report.errors


# -- files joined as bytes ---------------------------------------------------------------------

def test_csv_exports_joined_with_their_boms_are_read_as_one(tmp_path):
    """Two Excel “CSV UTF-8” files joined with copy /b: the second header, behind its BOM, was a
    rejected record with 14 errors instead of a repeated header."""
    headers, rows = sample_rows()
    parts = [write_rows(tmp_path / f"{n}.csv", headers, rows[n * 2:n * 2 + 2], encoding="utf-8-sig", newline="\r\n")
             for n in range(2)]
    path = tmp_path / "joined.csv"
    path.write_bytes(b"".join(p.read_bytes() for p in parts))
    report = ingest(path)
    assert (report.rows_total, report.accepted, report.rejected) == (4, 4, 0), report.errors
    assert [(w.line, w.code) for w in report.warnings if w.code == "repeated_header"] == [(4, "repeated_header")]


def test_json_exports_joined_with_their_boms_lose_no_record(tmp_path):
    """JSON Lines after an inner BOM was an invalid_json record; a second JSON document (an array,
    or records in a wrapping object) after the first was dropped without a word."""
    _, rows = sample_rows()
    records_ = [{k: v or None for k, v in r.items()} for r in rows[:4]]
    lines = ["\ufeff" + "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part)
             for part in (records_[:2], records_[2:])]
    documents = {
        "joined.jsonl": "".join(lines),
        "arrays.json": "".join("\ufeff" + json.dumps(part, ensure_ascii=False) + "\r\n"
                               for part in (records_[:2], records_[2:])),
        "wrapped.json": "".join("\ufeff" + json.dumps({"rows": part, "total": 2}, ensure_ascii=False) + "\r\n"
                                for part in (records_[:2], records_[2:])),
    }
    for name, text in documents.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        report = ingest(path)
        assert (report.rows_total, report.rejected) == (4, 0), (name, report.errors)
    path = tmp_path / "trailing.json"
    path.write_text(json.dumps({"rows": records_[:2]}, ensure_ascii=False) + " 42", encoding="utf-8")
    with pytest.raises(FileUnreadable, match="记录之后还有多余的内容"):
        ingest(path)


# -- dates -------------------------------------------------------------------------------------

def test_compact_date_times_and_framed_end_dates(tmp_path):
    """Databases export 20240326000000 (yyyyMMddHHmmss: an invalid date) and 202408101200
    (yyyyMMddHHmm: read as Unix milliseconds, 1976); 有效期至 was written 2029年3月25日止 or 至长期."""
    headers, rows = sample_rows("licences.csv")
    written = [("许可决定日期", "20240326000000"), ("有效期自", "202408101200"), ("许可决定日期", "202404150930"),
               ("有效期至", "2029年3月25日止"), ("有效期至", "至长期"), ("有效期至", "不限期"),
               ("有效期至", "至2029/03/25止")]
    sent = [dict(rows[n], **{column: value}) for n, (column, value) in enumerate(written)]
    report = ingest(write_rows(tmp_path / "compact.csv", headers, sent), "licences")
    assert (report.accepted, report.rejected) == (7, 0), report.errors
    assert not [w for w in report.warnings if w.code == "timestamp_date"]
    stored = {column: _stored(key) for column, key in
              (("许可决定日期", "decision_date"), ("有效期自", "valid_from"), ("有效期至", "valid_to"))}
    assert [stored[column][r[LICENCE_NO]] for r, (column, _v) in zip(sent, written, strict=True)] == [
        "2024-03-26", "2024-08-10", "2024-04-15", "2029-03-25", "2099-12-31", "2099-12-31", "2029-03-25"]


def test_twelve_digits_that_are_no_date_time_are_still_a_timestamp_and_至今_is_no_date(tmp_path):
    """978307200000 is no yyyyMMddHHmm (month 72): Unix milliseconds, 2001/01/01, with the
    warning. 至今 in 处罚有效期 says neither an end nor 长期: it stays an invalid date, and the
    message says what to write when there is no end."""
    headers, rows = sample_rows("licences.csv")
    report = ingest(write_rows(tmp_path / "licence.csv", headers, [dict(rows[0], 有效期自="978307200000")]), "licences")
    assert [(w.line, w.code) for w in report.warnings if w.code == "timestamp_date"] == [(2, "timestamp_date")]
    assert _stored("valid_from")[rows[0][LICENCE_NO]] == "2001-01-01"
    headers, rows = sample_rows()
    report = ingest(write_rows(tmp_path / "penalty.csv", headers, [dict(rows[0], 处罚有效期="至今")]))
    assert [(e.line, e.code, e.message) for e in report.errors] == [
        (2, "invalid_date", "“处罚有效期”不是有效日期：至今（应为 YYYY/MM/DD，如 2024/08/13；没有截止日期的填“长期”）")]


# -- headers -----------------------------------------------------------------------------------

def test_headers_annotated_with_type_length_or_own_field_code_are_read(tmp_path):
    """罚款金额（万元，数值） was ignored: a 0.2 万元 fine was classed 一般 and published, a 150 万元
    one 一般 instead of 严重; 行政相对人名称（CF_XDR_MC） and 违法事实（限5000字） made the file unreadable."""
    headers, rows = sample_rows()
    sent = [dict(r, 处罚类别="罚款") for r in _organisations(rows)[:2]]
    sent[0][FINE], sent[1][FINE] = "0.2", "150"
    annotated = {FINE: "罚款金额（万元，数值）", "备注": "备注（500字以内）", NAME: "行政相对人名称（CF_XDR_MC）",
                 "违法事实": "违法事实（限5000字）", "处罚依据": "处罚依据（文本，不超过2000个字符）"}
    path = write_rows(tmp_path / "annotated.csv", [annotated.get(h, h) for h in headers],
                      [{annotated.get(h, h): v for h, v in r.items()} for r in sent])
    report = ingest(path)
    assert (report.accepted, report.rejected) == (2, 0), report.errors
    assert not [w for w in report.warnings if w.code == "unknown_column"]
    fines = _stored("fine_amount")
    with db.transaction() as session:
        classes = session.execute(select(Record.decision_no, RecordVersion.penalty_class).join(
            RecordVersion, (RecordVersion.record_id == Record.id) & (RecordVersion.version == Record.current_version)))
        stored = {number: (fines[number], penalty_class) for number, penalty_class in classes}
    assert stored == {sent[0][DECISION_NO]: ("0.2", "轻微"), sent[1][DECISION_NO]: ("150", "严重")}


@pytest.mark.parametrize(("header", "said"), [
    ("行政相对人名称（CF_XDR_SHXYM）", "括号中的字段代码 CF_XDR_SHXYM 却是“行政相对人代码_1(统一社会信用代码)”的代码"),
    ("行政相对人名称（CF_XDR_XM）", "括号中的 CF_XDR_XM 不是“行政相对人名称”的字段代码（应为 CF_XDR_MC）"),
], ids=["another-field's-code", "no-field's-code"])
def test_a_header_whose_field_code_names_another_column_is_refused(tmp_path, header, said):
    headers, rows = sample_rows()
    path = write_rows(tmp_path / "conflict.csv", [header if h == NAME else h for h in headers],
                      [{header if h == NAME else h: v for h, v in r.items()} for r in rows[:2]])
    with pytest.raises(FileUnreadable) as raised:
        ingest(path)
    assert said in str(raised.value) and "无法确定这一列是哪一栏" in str(raised.value)


def test_field_codes_in_camel_case_name_their_columns():
    """Java programs map CF_XDR_MC to cfXdrMc: such JSON keys name the column as the code does."""
    catalogue = get_catalogue()
    mapping = catalogue.header_map(catalogue.item("penalty"), "current")
    assert [mapping.get(normalize_header(k)) for k in ("cfXdrMc", "cfXdrShxym", "cfWsh", "cfJdrq", "cfNrFk")] == [
        "subject_name", "uscc", "decision_no", "decision_date", "fine_amount"]


# -- JSON --------------------------------------------------------------------------------------

def test_a_first_element_that_is_no_object_rejects_itself_only(tmp_path):
    """[null, {…}, {…}] was unreadable as a whole (“第 1 行不是 JSON 对象”) where [{…}, {…}, null]
    rejected one record: either way it is one rejected record, named as a JSON record is."""
    _, rows = sample_rows()
    path = tmp_path / "null_first.json"
    path.write_text(json.dumps([None, *rows[:2]], ensure_ascii=False), encoding="utf-8")
    report = ingest(path)
    assert (report.rows_total, report.accepted, report.rejected) == (3, 2, 1)
    assert [(e.line, e.code, e.message) for e in report.errors] == [
        (1, "invalid_json", "第 1 条记录不是有效的 JSON 对象（应为 {…}）")]
    path.write_text(json.dumps([None] * 7 + rows[:1], ensure_ascii=False), encoding="utf-8")
    with pytest.raises(FileUnreadable, match="文件的前 6 条记录都不是 JSON 对象"):
        ingest(path)
    path.write_text(json.dumps([{"编号": 1, "名称": "x"}]), encoding="utf-8")
    with pytest.raises(FileUnreadable, match="第 1 条记录的键不是双公示格式的列名"):
        ingest(path)


def test_column_definitions_before_the_records_are_passed_over_and_no_array_of_records_is_dropped(tmp_path):
    """A table API sends its columns' definitions before its rows: the first array of objects was
    taken for the records. Records in two arrays (法人, 自然人) lost the second without a word."""
    _, rows = sample_rows()
    path = tmp_path / "table.json"
    path.write_text(json.dumps({"columns": [{"title": NAME, "dataIndex": "xdrmc"}] * 3, "list": rows[:3]},
                               ensure_ascii=False), encoding="utf-8")
    report = ingest(path)
    assert (report.rows_total, report.accepted) == (3, 3), report.errors
    path.write_text(json.dumps({"data": {"法人": rows[3:5], "count": 2, "tags": ["a"], "自然人": rows[5:7]}},
                               ensure_ascii=False), encoding="utf-8")
    report = ingest(path)
    assert (report.rows_total, report.accepted) == (4, 4), report.errors


# -- spellings of catalogue values -------------------------------------------------------------

def test_common_spellings_of_catalogue_values_are_read(tmp_path):
    """Spellings that can mean one value only: kinds of organisation for 法人及非法人组织, an
    amount's unit in brackets or with 人民币 after it, 警告并处罚款, an Excel table's 汇总 row."""
    headers, rows = sample_rows()
    written = [("行政相对人类别", w) for w in ("机关", "事业单位", "社会组织", "其他组织", "企业法人")]
    written += [(FINE, "5000（元）"), (FINE, "0.5（万元）"), (FINE, "5000元人民币"), ("处罚类别", "警告并处罚款"),
                ("处罚类别", "警告，并处罚款")]
    sent = [dict(r, **{column: value}) for r, (column, value) in zip(_organisations(rows), written, strict=False)]
    path = write_rows(tmp_path / "spellings.csv", headers, [*sent, {NAME: "汇总", FINE: "43.88"}])
    report = ingest(path)
    assert (report.rows_total, report.accepted, report.rejected) == (len(sent), len(sent), 0), report.errors
    assert [(w.line, w.code) for w in report.warnings if w.code in ("footer_skipped", "amount_unit_converted")] == [
        (7, "amount_unit_converted"), (9, "amount_unit_converted"), (len(sent) + 2, "footer_skipped")]
    numbers = [r[DECISION_NO] for r in sent]
    category, fine, kinds = _stored("subject_category"), _stored("fine_amount"), _stored("penalty_kinds")
    assert {category[n] for n in numbers[:5]} == {"法人及非法人组织"}
    assert [fine[n] for n in numbers[5:8]] == ["0.5", "0.5", "0.5"]
    assert [kinds[n] for n in numbers[8:]] == ["警告;罚款", "警告;罚款"]


def test_licence_statuses_that_end_a_licence_are_无效_and_行政许可_is_no_category(tmp_path):
    headers, rows = sample_rows("licences.csv")
    written = [("当前状态", "已撤销"), ("当前状态", "吊销"), ("当前状态", "已注销"), ("许可类别", "行政许可")]
    sent = [dict(rows[n], **{column: value}) for n, (column, value) in enumerate(written)]
    report = ingest(write_rows(tmp_path / "statuses.csv", headers, sent), "licences")
    assert (report.accepted, report.rejected) == (3, 1)
    assert [(e.line, e.code) for e in report.errors] == [(5, "not_in_code_table")]
    assert "“行政许可”是信息的种类，不是许可类别" in report.errors[0].message
    status = _stored("licence_status")
    assert [status[r[LICENCE_NO]] for r in sent[:3]] == ["2", "2", "2"]


def test_no_value_of_a_several_valued_code_table_holds_the_word_that_joins_values():
    """并 separates the kinds of one cell (警告并处罚款): no spelling of a kind may hold it."""
    catalogue = get_catalogue()
    for item in catalogue.items.values():
        for f in item.fields:
            if f.type == "codes" and f.code_table:
                spellings = [s for v in catalogue.code_table(f.code_table).values for s in (v.value, *v.aliases)]
                assert not [s for s in spellings if "并" in s], f.key

