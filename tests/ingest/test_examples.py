"""A template's example: its filled-in example row, and the sheets named as examples, are never
stored or published, and the records beside them are never lost."""

from __future__ import annotations

import pytest

from filehelpers import DECISION_NO, NAME, USCC, count, ingest, sample_rows, write_rows
from xinyong.core.errors import FileUnreadable, NotFound
from xinyong.records.models import Record
from xinyong.subjects.service import find_by_code

pytestmark = pytest.mark.usefixtures("database")

SAMPLE_CODE = "91350100M000100Y43"  # GB 32100's sample code: it passes the check


def _example(row: dict[str, str], **changes: str) -> dict[str, str]:
    """A provincial template's example row, as the probe found one."""
    return {**row, **{
        NAME: "示例：XX市XX贸易有限公司", USCC: SAMPLE_CODE, DECISION_NO: "XX市监罚〔2024〕1号",
        "法定代表人": "张三", "法定代表人证件类型": "", "法定代表人证件号码": "", "违法行为类型": "示例：销售过期食品",
        "违法事实": "示例：经查，当事人……（此行为填写示例，报送前请删除）", "备注": "填写示例，请删除",
    }, **changes}


def _stored(code: str) -> bool:
    from xinyong.core import db

    with db.transaction() as session:
        try:
            find_by_code(session, code)
        except NotFound:
            return False
    return True


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_a_templates_example_row_is_refused_and_the_records_under_it_are_stored(database, tmp_path, form):
    """Found by probing: the example row a template ships under its header (示例, the GB 32100
    sample code, 此行为填写示例，报送前请删除) was accepted and published as a penalty."""
    import openpyxl

    headers, rows = sample_rows()
    records = [_example(rows[0]), *rows[1:3]]
    if form == "csv":
        path = write_rows(tmp_path / "example.csv", headers, records)
    else:
        wb = openpyxl.Workbook()
        wb.active.append(headers)
        for r in records:
            wb.active.append([r[h] for h in headers])
        path = tmp_path / "example.xlsx"
        wb.save(path)
    report = ingest(path)
    assert (report.rows_total, report.accepted, report.rejected) == (3, 2, 1)
    [error] = report.errors
    assert (error.line, error.field, error.code) == (2, NAME, "example_row")
    assert error.message == ("第 2 行是模板的填写示例（“行政相对人名称”为“示例：XX市XX贸易有限公司”），未保存："
                             "请删除示例行后再报送")
    assert not _stored(SAMPLE_CODE) and count(database, Record) == 2


@pytest.mark.parametrize(("changes", "field", "said"), [
    ({NAME: "XX县XX食品店"}, NAME, "“行政相对人名称”为“XX县XX食品店”"),
    ({NAME: "（示例）某某贸易有限公司"}, NAME, "“行政相对人名称”为“（示例）某某贸易有限公司”"),
    ({NAME: "石家庄市某贸易有限公司"}, USCC, f"“{USCC}”{SAMPLE_CODE}是国家标准中的示例代码"),
    ({NAME: "石家庄市某贸易有限公司", USCC: "911301026CR765LW53", "违法行为类型": "销售过期食品",
      "违法事实": "经查，当事人销售过期食品。"}, "备注", "“备注”写有“填写示例，请删除”"),
    ({NAME: "石家庄市某贸易有限公司", USCC: "911301026CR765LW53", "备注": "",
      "违法事实": "经查，当事人销售过期食品（此行为填写示例，报送前请删除）"},
     "违法事实", "“违法事实”写有“此行为填写示例”"),
])
def test_an_example_row_is_told_by_its_name_its_sample_code_or_what_it_says(database, tmp_path, changes, field,
                                                                            said):
    headers, rows = sample_rows()
    report = ingest(write_rows(tmp_path / "example.csv", headers, [_example(rows[0], **changes)]))
    assert (report.accepted, report.rejected) == (0, 1)
    [error] = report.errors
    assert (error.field, error.code) == (field, "example_row")
    assert error.message == f"第 2 行是模板的填写示例（{said}），未保存：请删除示例行后再报送"


def test_records_that_only_look_like_examples_are_stored(database, tmp_path):
    """The marks are strict: a person named 张某某, a violation of deleting data, a text that
    mentions an example, a brand ending in XX, are records."""
    headers, rows = sample_rows()
    person = next(r for r in rows if r["行政相对人类别"] == "自然人")
    records = [
        dict(person, **{NAME: "张某某"}),
        dict(rows[0], 违法事实="经查，当事人擅自删除在线监测数据，并示例性地修改了台账。"),
        dict(rows[1], 备注="罚款已缴纳，详见示例文书编号说明"),
        dict(rows[2], **{NAME: "石家庄MAXX健身有限公司"}),
    ]
    report = ingest(write_rows(tmp_path / "records.csv", headers, records))
    assert (report.accepted, report.rejected) == (4, 0), report.errors


def _workbook(tmp_path, name: str, sheets: list[tuple[str, list[dict[str, str]]]]):  # type: ignore[no-untyped-def]
    import openpyxl

    headers, _rows = sample_rows()
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, records in sheets:
        sheet = wb.create_sheet(title)
        sheet.append(headers)
        for r in records:
            sheet.append([r[h] for h in headers])
    wb.save(tmp_path / name)
    return tmp_path / name


def test_records_on_a_sheet_named_as_the_template_form_are_read_beside_an_example_sheet(database, tmp_path):
    """Found by probing: of 填写示例 (one example row) and 行政处罚信息样表 (the records), only the
    example was stored and published, and the note said 填写示例 was both read and passed over.
    样表 names a template's form, where the records are typed: it is no example."""
    _headers, rows = sample_rows()
    path = _workbook(tmp_path, "template.xlsx", [("填写示例", [_example(rows[0])]),
                                                 ("行政处罚信息样表", rows[1:4])])
    report = ingest(path)
    assert (report.rows_total, report.accepted, report.rejected) == (3, 3, 0)
    assert not _stored(SAMPLE_CODE) and all(_stored(r[USCC]) for r in rows[1:4])
    [note] = [w.message for w in report.warnings if w.code == "file_note"]
    assert note == "工作簿有 2 个工作表，只读取“行政处罚信息样表”；“填写示例”是示例、说明或代码表，未读取。"


def test_records_on_a_sheet_named_yangbiao_are_read_when_the_first_sheet_is_empty(database, tmp_path):
    """Found by probing: an untouched 行政处罚 sheet in front and the records on 样表 gave a batch
    of no rows, exit 0, nothing said."""
    _headers, rows = sample_rows()
    report = ingest(_workbook(tmp_path, "template.xlsx", [("行政处罚", []), ("样表", rows[1:4])]))
    assert (report.rows_total, report.accepted, report.rejected) == (3, 3, 0)
    [note] = [w.message for w in report.warnings if w.code == "file_note"]
    assert note == "工作簿有 2 个工作表，只读取“样表”；“行政处罚”没有数据行。"


def test_a_workbook_whose_rows_are_only_on_an_example_sheet_is_refused(database, tmp_path):
    """Rows under the header of a sheet named as an example are not read when another sheet has the
    header: when that sheet is empty, the file is refused and says why, rather than being taken
    for a file without records."""
    _headers, rows = sample_rows()
    path = _workbook(tmp_path, "template.xlsx", [("行政处罚", []), ("填写示例", rows[1:4])])
    with pytest.raises(FileUnreadable) as refused:
        ingest(path)
    assert refused.value.message == (
        "工作簿中只有工作表“填写示例”在表头下有数据，而按名称它是示例、说明或代码表，不作为记录读取；"
        "其他工作表（“行政处罚”）没有数据行。未保存任何数据：如果这些是要报送的记录，请把工作表改名"
        "（去掉“示例”“说明”等字样）后重新提交；如果只是模板自带的示例，请把记录填在数据工作表中再提交。")
    assert count(database, Record) == 0
