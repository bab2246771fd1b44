"""What a spreadsheet keeps in a cell besides its value: line breaks escaped as _x000D_, the error
a failed formula shows (#N/A), a formula saved without its result. Each was stored as text, or
lost, without a word (found by probing with files as Excel, WPS and generators write them)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from filehelpers import FIXTURES, ingest, sample_rows, write_rows
from xinyong.core import db
from xinyong.records import service as records
from xinyong.records.models import Record

NUMBER = "行政处罚决定书文号"


def _workbook(path, headers, rows, cells=None):
    """An .xlsx of the rows; ``cells`` puts raw cell values (formulas, error values) in place:
    {(row index, header): value}."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for n, r in enumerate(rows):
        sheet.append([(cells or {}).get((n, h), r[h]) for h in headers])
    workbook.save(path)
    return path


def _stored(number: str) -> dict[str, str]:
    with db.transaction() as session:
        record = session.scalars(select(Record).where(Record.decision_no == number)).one()
        return records.current_values(session, record)


def test_line_breaks_excel_escapes_in_a_workbook_are_read_as_the_cell_shows_them(database, tmp_path):
    """Excel stores a line break typed in a cell as _x000D_ and a line feed: the escape was stored
    and published, and a decision number ending in one became a second record of its decision
    when the same row came as CSV."""
    headers, rows = sample_rows()
    row = dict(rows[0])
    facts = "经查，当事人存在以下违法行为：\n1. 未取得许可；\n2. 超范围经营。"
    written = dict(row, 违法事实=facts.replace("\n", "_x000D_\n"), **{NUMBER: row[NUMBER] + "_x000D_"})
    literal = dict(rows[1], 备注="代码写作 _x005F_x000D_ 的原文")  # an escaped underscore: the text as typed
    report = ingest(_workbook(tmp_path / "breaks.xlsx", headers, [written, literal]))
    assert (report.accepted, report.rejected) == (2, 0), report.errors
    assert _stored(row[NUMBER])["violation_facts"] == facts
    assert _stored(rows[1][NUMBER])["remarks"] == "代码写作 _x000D_ 的原文"

    again = ingest(write_rows(tmp_path / "same.csv", headers, [dict(row, 违法事实=facts)]))
    assert (again.accepted, again.unchanged) == (0, 1), "the same decision, not a second record"


def test_a_formulas_error_value_is_refused_naming_the_cell_in_every_format(database, tmp_path):
    """#N/A (VLOOKUP found nothing) in 违法事实 was published as the facts, #REF! as the deciding
    body; an old .xls dropped the error cell, so a fine was stored without its amount."""
    import xlwt

    headers, rows = sample_rows()
    fine = "罚款金额（万元）"
    fined = [n for n, r in enumerate(rows) if r[fine] and "罚款" in r["处罚类别"]][:1]
    assert fined
    three = [rows[fined[0]], rows[1], rows[2]]
    errors = {(0, fine): "#DIV/0!", (1, "违法事实"): "#N/A", (2, "处罚机关"): "#REF!"}
    expected = [(2, fine, "formula_error"), (3, "违法事实", "formula_error"), (4, "处罚机关", "formula_error")]

    report = ingest(_workbook(tmp_path / "errors.xlsx", headers, three, errors))
    assert (report.accepted, report.rejected) == (0, 3)
    assert [(e.line, e.field, e.code) for e in report.errors] == expected
    assert "#N/A" in report.errors[1].message

    as_text = [dict(r, **{h: v for (n, h), v in errors.items() if n == i}) for i, r in enumerate(three)]
    from_csv = ingest(write_rows(tmp_path / "errors.csv", headers, as_text))
    assert [(e.line, e.field, e.code) for e in from_csv.errors] == expected

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("行政处罚")
    for column, h in enumerate(headers):
        sheet.write(0, column, h)
    for n, r in enumerate(three, start=1):
        for column, h in enumerate(headers):
            if (n - 1, h) in errors:
                sheet.row(n).set_cell_error(column, {"#DIV/0!": 0x07, "#N/A": 0x2A, "#REF!": 0x17}[errors[(n - 1, h)]])
            else:
                sheet.write(n, column, r[h])
    book.save(str(tmp_path / "errors.xls"))
    old = ingest(tmp_path / "errors.xls")
    assert [(e.line, e.field, e.code) for e in old.errors] == expected
    with db.transaction() as session:
        assert session.scalars(select(Record)).all() == [], "nothing stored from any of them"


@pytest.mark.parametrize("column", ["罚款金额（万元）", "违法事实"])
def test_a_formula_saved_without_its_result_rejects_its_row(database, tmp_path, column):
    """A workbook written by a program (openpyxl, PhpSpreadsheet, EasyExcel) keeps formulas but
    no results: the amount read as empty (a fine stored without it, class decided without it)
    and a text column as missing. A formula outside the catalogue's columns (序号 =ROW()-1)
    loses nothing and rejects nothing."""
    headers, rows = sample_rows()
    fined = next(r for r in rows if r["罚款金额（万元）"] and "罚款" in r["处罚类别"])
    formula = "=ROUND(3569/10000,4)" if column.startswith("罚款") else '=CONCATENATE("经查，","无证经营")'
    with_index = ["序号", *headers]
    two = [dict(fined, 序号=""), dict(rows[1], 序号="")]
    cells = {(0, column): formula, (0, "序号"): "=ROW()-1", (1, "序号"): "=ROW()-1"}
    report = ingest(_workbook(tmp_path / "generated.xlsx", with_index, two, cells))
    assert (report.accepted, report.rejected) == (1, 1)
    assert [(e.line, e.field, e.code) for e in report.errors] == [(2, column, "formula_without_result")]
    assert "计算结果" in report.errors[0].message


def test_control_characters_in_a_text_are_removed_and_said(database, tmp_path):
    """A NUL from a database export was stored and published inside 违法事实."""
    headers, rows = sample_rows()
    row = dict(rows[0], 违法事实="经查，当事人\x00无证经营\x07")
    report = ingest(write_rows(tmp_path / "nul.csv", headers, [row]))
    assert (report.accepted, report.rejected) == (1, 0)
    assert [(w.line, w.field, w.code) for w in report.warnings if w.code == "control_characters_removed"] == [
        (2, "违法事实", "control_characters_removed")]
    assert _stored(row[NUMBER])["violation_facts"] == "经查，当事人无证经营"


def test_the_sample_workbook_cells_still_read_as_before(database, tmp_path):
    """The cell checks leave plain values alone: the sample rows as a workbook are unchanged."""
    headers, rows = sample_rows()
    ingest(FIXTURES / "penalties.csv")
    report = ingest(_workbook(tmp_path / "plain.xlsx", headers, rows))
    assert (report.unchanged, report.rejected) == (len(rows), 0), report.errors[:3]


def _with_builtin_format(path, format_id):
    """The workbook ``path`` with the number cells formatted as the built-in ``format_id``, cited
    by its id alone, as Chinese Excel and WPS write 2024年8月13日 (numFmtId 31): openpyxl writes a
    <numFmt> definition of its own, which is taken out, and its cell style points at the id."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    styles = parts["xl/styles.xml"].decode()
    defined = re.search(r'<numFmt numFmtId="(\d+)" formatCode="yyyy/mm/dd"\s*/>', styles)
    assert defined, styles[:500]
    styles = styles.replace(defined[0], "").replace(f'numFmtId="{defined[1]}"', f'numFmtId="{format_id}"')
    parts["xl/styles.xml"] = styles.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def _dated_workbook(path, headers, rows, dates, format_id):
    """An .xlsx of the rows whose ``dates`` columns are date cells in the built-in ``format_id``."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for r in rows:
        sheet.append([dt.datetime.strptime(r[h], "%Y/%m/%d") if h in dates else r[h] for h in headers])
        for column, h in enumerate(headers, start=1):
            if h in dates:
                sheet.cell(sheet.max_row, column).number_format = "yyyy/mm/dd"
    workbook.save(path)
    return _with_builtin_format(path, format_id)


@pytest.mark.parametrize("format_id", [31, 27, 58])
def test_cells_in_a_chinese_built_in_date_format_are_dates(database, tmp_path, format_id):
    """Found by probing: cells formatted 2024年8月13日 (id 31), 2024年8月 (27) or 8月13日 (58),
    the zh-CN built-in date formats Chinese Excel and WPS cite by id without defining them, came
    through as serial numbers: each date was warned excel_serial_date ("format the column as a
    date") though it was one, and 9999年12月31日 (长期) rejected the row as no date."""
    headers, rows = sample_rows()
    sent = [dict(rows[0], 处罚有效期="9999/12/31"), rows[1]]
    path = _dated_workbook(tmp_path / "cn_dates.xlsx", headers, sent, {"处罚决定日期", "处罚有效期"}, format_id)
    report = ingest(path)
    assert (report.accepted, report.rejected) == (2, 0), report.errors[:3]
    assert report.warnings == []
    stored = _stored(rows[0][NUMBER])
    assert (stored["decision_date"], stored["valid_until"]) == ("2024-08-13", "2099-12-31")


def test_cells_in_a_chinese_built_in_time_format_stay_numbers(database, tmp_path):
    """A zh-CN built-in time format (id 32, 0时00分) shows no date: the number in a date column
    is read as a serial with the warning to check it, as in a General cell."""
    headers, rows = sample_rows()
    path = _dated_workbook(tmp_path / "cn_time.xlsx", headers, rows[:1], {"处罚决定日期"}, 32)
    report = ingest(path)
    assert report.accepted == 1
    assert [(w.field, w.code) for w in report.warnings] == [("处罚决定日期", "excel_serial_date")]
    assert "45517" in report.warnings[0].message


def test_excel_serial_of_9999_12_31_in_an_open_ended_column_is_no_end(database, tmp_path):
    """9999/12/31 (长期) saved from a General cell is 2958465, Excel's last day: it rejected the
    row as no date while 9999/12/31 written as a date means no end. Read so, with the serial
    warning; in a column that is not open-ended it stays no date."""
    headers, rows = sample_rows()
    sent = [dict(rows[0], 处罚有效期="2958465"), dict(rows[1], 处罚决定日期="2958465")]
    report = ingest(write_rows(tmp_path / "serial.csv", headers, sent))
    assert (report.accepted, report.rejected) == (1, 1)
    assert [(e.line, e.field, e.code) for e in report.errors] == [(3, "处罚决定日期", "invalid_date")]
    assert [(w.line, w.field, w.code) for w in report.warnings] == [(2, "处罚有效期", "excel_serial_date")]
    assert "9999/12/31（长期）" in report.warnings[0].message
    assert _stored(rows[0][NUMBER])["valid_until"] == "2099-12-31"


def _formatted_workbook(path, headers, rows, formats):
    """An .xlsx or .xls of the rows whose cells ``formats`` holds are numbers in a number format:
    {(row index, header): (number, format code)}."""
    if path.suffix == ".xlsx":
        import openpyxl

        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append(headers)
        for n, r in enumerate(rows):
            sheet.append([formats[(n, h)][0] if (n, h) in formats else r[h] for h in headers])
            for column, h in enumerate(headers, start=1):
                if (n, h) in formats:
                    sheet.cell(n + 2, column).number_format = formats[(n, h)][1]
        workbook.save(path)
        return path
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Sheet1")
    for column, h in enumerate(headers):
        sheet.write(0, column, h)
    for n, r in enumerate(rows, start=1):
        for column, h in enumerate(headers):
            if (n - 1, h) in formats:
                number, code = formats[(n - 1, h)]
                sheet.write(n, column, number, xlwt.easyxf(num_format_str=code))
            else:
                sheet.write(n, column, r[h])
    book.save(str(path))
    return path


@pytest.mark.parametrize("suffix", ["xlsx", "xls"])
def test_an_amount_whose_format_shows_a_unit_is_read_as_shown(database, tmp_path, suffix):
    """Found by probing: 2000 shown “2,000.00元” (#,##0.00"元") in the 万元 column was stored as
    2000 万元 — 严重, published for three years — and 20000 shown “2.0000万元” (0!.0000"万元", 元
    shown in 万元) as 20000 万元, while the same cells exported to CSV are 0.2 and 2 万元. The cell
    is read as shown, as its CSV export is: the unit after the amount counts, with its warning."""
    headers, rows = sample_rows()
    fine = "罚款金额（万元）"
    three = [r for r in rows if "罚款" in r["处罚类别"]][:3]
    formats = {(0, fine): (2000, '#,##0.00"元"'), (1, fine): (20000, '0!.0000"万元"'), (2, fine): (0.2, "0.00")}
    report = ingest(_formatted_workbook(tmp_path / f"units.{suffix}", headers, three, formats))
    assert (report.accepted, report.rejected) == (3, 0), report.errors
    assert [(w.line, w.field, w.code) for w in report.warnings] == [(2, fine, "amount_unit_converted")]
    assert "2,000.00元" in report.warnings[0].message
    assert [_stored(r[NUMBER])["fine_amount"] for r in three] == ["0.2", "2", "0.2"]

    shown = [dict(r, **{fine: text}) for r, text in zip(three, ["2,000.00元", "2.0000万元", "0.20"], strict=True)]
    exported = ingest(write_rows(tmp_path / "units.csv", headers, shown))
    assert (exported.unchanged, exported.rejected) == (3, 0), "the CSV export of the cells is the same records"


@pytest.mark.parametrize("suffix", ["xlsx", "xls"])
def test_a_code_whose_format_adds_a_prefix_or_zeros_is_read_as_shown(database, tmp_path, suffix):
    """A 许可编号 cell holding 1 under "XK2024"000000 shows XK2024000001 and was stored as 1."""
    headers, rows = sample_rows("licences.csv")
    two = rows[:2]
    assert [r["许可编号"] for r in two] == ["XK2024000001", "XK2024000002"]
    formats = {(0, "许可编号"): (1, '"XK2024"000000'), (1, "许可编号"): (2, '"XK2024"000000')}
    report = ingest(_formatted_workbook(tmp_path / f"codes.{suffix}", headers, two, formats), "licences")
    assert (report.accepted, report.rejected) == (2, 0), report.errors
    assert report.warnings == []
    again = ingest(write_rows(tmp_path / "codes.csv", headers, two), "licences")
    assert again.unchanged == 2, "stored as shown: XK2024000001, not 1"

    padded = {(0, "许可编号"): (2, "000000")}
    cells = ingest(_formatted_workbook(tmp_path / f"padded.{suffix}", headers, [dict(rows[2])], padded), "licences")
    assert cells.accepted == 1
    with db.transaction() as session:
        record = session.scalars(select(Record).where(Record.decision_no == rows[2]["行政许可决定文书号"])).one()
        assert records.current_values(session, record)["licence_no"] == "000002"


def test_a_format_the_reader_cannot_render_is_said_never_guessed(database, tmp_path):
    """Chinese numerals with a unit ([DBNum2]0"元": 贰仟元): an amount is not read as the bare
    value (its unit decides the class and the publication); another column keeps its value, with
    a warning."""
    headers, rows = sample_rows()
    fine = "罚款金额（万元）"
    two = [r for r in rows if "罚款" in r["处罚类别"]][:2]
    formats = {(0, fine): (2000, '[DBNum2]0"元"'), (1, "备注"): (5, '[DBNum2]0"号"')}
    report = ingest(_formatted_workbook(tmp_path / "numerals.xlsx", headers, two, formats))
    assert (report.accepted, report.rejected) == (1, 1)
    assert [(e.line, e.field, e.code) for e in report.errors] == [(2, fine, "number_format")]
    assert "[DBNum2]0\"元\"" in report.errors[0].message
    assert [(w.line, w.field, w.code) for w in report.warnings] == [(3, "备注", "number_format")]
    assert _stored(two[1][NUMBER])["remarks"] == "5"


@pytest.mark.parametrize("suffix", ["xlsx", "xls"])
def test_a_number_typed_into_a_date_cell_is_said_to_be_no_date(database, tmp_path, suffix):
    """20240813 typed into a yyyy/m/d cell (Excel shows ########): the XLSX row was rejected as
    formula_error “#VALUE!（公式出错…）”, with openpyxl's English warning on stderr, while the XLS
    one was read as 2024/08/13 without a word. Both now read it as 2024/08/13 with a warning that
    says what it is; a number that is no date either is an invalid_date saying so."""
    import warnings

    headers, rows = sample_rows()
    date = "处罚决定日期"
    formats = {(0, date): (20240813, "yyyy/m/d"), (1, date): (99999999, "yyyy/m/d")}
    path = _formatted_workbook(tmp_path / f"typed.{suffix}", headers, rows[:2], formats)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = ingest(path)
    assert [str(w.message) for w in caught if "openpyxl" in w.filename] == []
    assert (report.accepted, report.rejected) == (1, 1)
    assert [(w.line, w.field, w.code) for w in report.warnings] == [(2, date, "date_cell_number")]
    assert "数字 20240813" in report.warnings[0].message and "2024/08/13" in report.warnings[0].message
    assert [(e.line, e.field, e.code) for e in report.errors] == [(3, date, "invalid_date")]
    assert "日期格式" in report.errors[0].message and "公式" not in report.errors[0].message
    assert _stored(rows[0][NUMBER])["decision_date"] == "2024-08-13"


def test_half_a_character_in_a_workbook_rejects_its_row_and_a_whole_one_is_read(database, tmp_path):
    """A generator that escapes UTF-16 halves writes 𠮷 as _xD842__xDFB7_: read as 𠮷. Half of it
    alone (_xD842_) crashed the intake (TypeError: surrogates not allowed; a 500 over the API): the
    row is rejected, handed back with the escape as written, and the rest stored."""
    headers, rows = sample_rows()
    three = [dict(rows[0], 行政相对人名称="_xD842__xDFB7_野家餐饮管理有限公司"),
             dict(rows[1], 行政相对人名称="_xD842_野家餐饮管理有限公司"), rows[2]]
    report = ingest(_workbook(tmp_path / "halves.xlsx", headers, three))
    assert (report.accepted, report.rejected) == (2, 1)
    assert [(e.line, e.field, e.code) for e in report.errors] == [(3, "行政相对人名称", "invalid_character")]
    assert "_xD842_" in report.errors[0].message
    assert _stored(rows[0][NUMBER])["subject_name"] == "𠮷野家餐饮管理有限公司"
    with db.transaction() as session:
        from xinyong.ingest import service

        ((line, cells),) = service.rejected_rows(session, report.batch_id)
    assert (line, cells["行政相对人名称"]) == (3, "_xD842_野家餐饮管理有限公司")


def test_a_strict_open_xml_workbook_is_named_as_such_not_damaged(tmp_path):
    """Excel's “Strict Open XML 电子表格” (Save As) uses other namespaces, which openpyxl does not
    read: it was reported as damaged (AssertionError), with an English warning. (The workbook is
    emulated: a transitional one with the Strict namespaces.)"""
    import zipfile

    from xinyong.core.errors import FileUnreadable

    headers, rows = sample_rows()
    transitional = _workbook(tmp_path / "transitional.xlsx", headers, rows[:2])
    strict = tmp_path / "strict.xlsx"
    swap = {b"http://schemas.openxmlformats.org/spreadsheetml/2006/main": b"http://purl.oclc.org/ooxml/spreadsheetml/main",
            b"http://schemas.openxmlformats.org/officeDocument/2006/relationships":
                b"http://purl.oclc.org/ooxml/officeDocument/relationships"}
    with zipfile.ZipFile(transitional) as source, zipfile.ZipFile(strict, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            for old, new in swap.items():
                data = data.replace(old, new)
            target.writestr(info, data)
    with pytest.raises(FileUnreadable) as raised:
        ingest(strict)
    message = str(raised.value)
    assert "Strict Open XML" in message and "Excel 工作簿(*.xlsx)" in message
    assert "损坏" not in message and "Error" not in message
