"""Web pages and XML workbooks that systems export as “Excel” (an HTML table, an XML Spreadsheet 2003
named .xls): read as Excel and WPS show them, through the workbook path, with the rows numbered
as Excel numbers them."""

from __future__ import annotations

import html
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import select

from filehelpers import count, ingest, sample_rows, write_rows
from xinyong.core import db
from xinyong.core.errors import FileUnreadable
from xinyong.ingest import markup
from xinyong.ingest.models import Batch
from xinyong.records import service as records
from xinyong.records.models import Record

pytestmark = pytest.mark.usefixtures("database")

AUTHORITY = "处罚机关统一社会信用代码"


def _cell(value: str, tag: str = "td", attrs: str = "") -> str:
    """A cell as report tools write it: the value on a line of its own, &nbsp; for nothing."""
    return f"<{tag}{attrs}>\n      {html.escape(value) if value else '&nbsp;'}\n    </{tag}>"


def _page(headers: list[str], rows: list[dict[str, str]], *, charset: str | None = "gb2312",
          above: str = "", below: str = "", row_attrs: dict[int, str] | None = None) -> str:
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">' if charset else ""
    lines = [f"<html><head>{meta}<title>行政处罚信息导出</title>",
             "<style>td { mso-number-format:'\\@'; }</style></head><body>", above, '<table border="1">',
             "  <tr>" + "".join(_cell(h, "th") for h in headers) + "</tr>"]
    for index, row in enumerate(rows):
        lines.append(f"  <tr{(row_attrs or {}).get(index, '')}>" + "".join(_cell(row[h]) for h in headers) + "</tr>")
    lines += [below, "</table></body></html>"]
    return "\n".join(lines)


def _stored(field: str) -> dict[str, str]:
    """{decision number: the stored value of ``field``} of every record."""
    with db.transaction() as session:
        return {r.decision_no: records.current_values(session, r).get(field) for r in session.scalars(select(Record))}


@pytest.mark.parametrize("chunk", [markup.MARKUP_CHUNK_CHARS, 7], ids=["whole", "seven-characters-at-a-time"])
def test_an_html_table_named_xls_is_read_as_excel_shows_it(tmp_path, monkeypatch, chunk):
    """A report tool's “Excel” is a GBK page with a title above the table: it was refused. Its
    table is read (entities, &nbsp;, white space, <br> in a cell as a line break, a footer row),
    a rejected row is named by the row Excel shows it on, and the records are those of the same
    rows sent as CSV. Read seven characters at a time, tags and entities cut anywhere read the same."""
    monkeypatch.setattr(markup, "MARKUP_CHUNK_CHARS", chunk)
    headers, rows = sample_rows()
    rows = rows[:6]
    rows[1]["违法事实"] = "经查，当事人存在不执行政府定价的行为。\n已责令改正。"
    rows[2]["备注"] = "A&B <已整改>"
    rows[3]["处罚决定日期"] = "2027/01/01"  # in the future: rejected
    page = _page(headers, rows, above="<h3>2024年行政处罚信息</h3>",
                 below=f'  <tr><td colspan="{len(headers)}">填报人：张三　联系电话：0311-88881234</td></tr>')
    page = page.replace(html.escape(rows[1]["违法事实"]), "经查，当事人存在不执行政府定价的行为。<br>\n   已责令改正。")
    path = tmp_path / "行政处罚.xls"
    path.write_bytes(page.encode("gbk"))

    report = ingest(path)
    assert (report.format, report.encoding, report.rows_total, report.accepted, report.rejected) == (
        "html", "GBK", 6, 5, 1), report.errors
    # the title is row 1 in Excel, the header row 2, the fourth record row 6
    assert [(e.line, e.field, e.code) for e in report.errors] == [(6, "处罚决定日期", "future_date")]
    assert [(w.line, w.code) for w in report.warnings if w.code == "footer_skipped"] == [(9, "footer_skipped")]
    notes = [w.message for w in report.warnings if w.code == "file_note"]
    assert notes[0].startswith("文件是网页表格（HTML，扩展名为 .xls，不是 Excel 工作簿），已按表格读取"), notes
    stored = _stored("violation_facts")
    assert stored[rows[1]["行政处罚决定书文号"]] == "经查，当事人存在不执行政府定价的行为。\n已责令改正。"
    assert _stored("remarks")[rows[2]["行政处罚决定书文号"]] == "A&B <已整改>"
    kept = [r for r in rows if r["处罚决定日期"] != "2027/01/01"]
    again = ingest(write_rows(tmp_path / "p.csv", headers, kept))
    assert (again.unchanged, again.corrected) == (5, 0), "the page's cells must be the CSV's values"


def test_merged_header_and_cells_merged_down_are_read_as_in_a_workbook(tmp_path):
    """A header drawn over two rows (rowspan for the columns of one row, 处罚机关 over 名称 | 统一社会
    信用代码 with colspan), the same authority merged down its rows, a row hidden with display:none
    and a hidden column (<col>): read as the workbook path reads a merged header, merged cells and
    hidden rows and columns."""
    headers, sample = sample_rows()
    rows = [dict(sample[i], 备注="内部：待复核") for i in (6, 16, 27)]  # one authority
    assert headers[-1] == "备注"
    group = headers.index("处罚机关")
    assert headers[group + 1] == AUTHORITY
    top = "".join(_cell(h, "th", ' rowspan="2"') for h in headers[:group])
    top += _cell("处罚机关", "th", ' colspan="2"')
    top += "".join(_cell(h, "th", ' rowspan="2"') for h in headers[group + 2:])
    below = _cell("名称", "th") + _cell("统一社会信用代码", "th")
    columns = f'<col span="{len(headers) - 1}"><col style="width:0;display:none">'  # 备注 hidden
    lines = ["<html><body><table>", columns, f"<tr>{top}</tr>", f"<tr>{below}</tr>"]
    for index, row in enumerate(rows):
        cells = [_cell(row[h]) for h in headers]
        if index == 0:  # the authority's two cells merged down the three rows
            cells[group] = _cell(row["处罚机关"], attrs=' rowspan="3"')
            cells[group + 1] = _cell(row[AUTHORITY], attrs=' rowspan="3"')
        else:
            del cells[group:group + 2]
        hidden = ' style="display:none"' if index == 1 else ""
        lines.append(f"<tr{hidden}>{''.join(cells)}</tr>")
    path = tmp_path / "merged.xls"
    path.write_text("\n".join([*lines, "</table></body></html>"]), encoding="utf-8")

    report = ingest(path)
    assert (report.rows_total, report.accepted, report.rejected) == (3, 3, 0), report.errors
    notes = [w.message for w in report.warnings if w.code == "file_note"]
    assert any(n.startswith("表头占第 1–2 行") for n in notes), notes
    assert "工作表中有 2 处跨行合并的单元格：合并的值已填入它所占的每一行。" in notes
    assert any(n.startswith("工作表中有 1 行是隐藏的（筛选或隐藏后看不到）：第 4 行。") for n in notes), notes
    assert any(n.startswith("工作表中有 1 列是隐藏的（隐藏后看不到）：“备注”（AD 列）。") for n in notes), notes
    again = ingest(write_rows(tmp_path / "p.csv", headers, rows))
    assert (again.unchanged, again.corrected) == (3, 0)


@pytest.mark.parametrize(("name", "encoding", "charset", "said", "note"), [
    ("export.xls", "utf-8-sig", None, "UTF-8 (BOM)", None),
    ("export.html", "utf-8", None, "UTF-8", None),
    # the page says UTF-8 (a template's default) while the system wrote GBK
    ("export", "gbk", "utf-8", "GBK", "文件声明的字符编码是 utf-8，但内容不是 utf-8 编码，已按 GBK 读取"),
], ids=["bom", "utf8-html-no-charset", "gbk-declared-utf8-no-name"])
def test_a_page_is_decoded_by_what_it_says_and_else_as_csv_is(tmp_path, name, encoding, charset, said, note):
    """A BOM decides; a declared charset the bytes fit decides (GB2312 above); none, or one they
    do not fit, falls back to the CSV reader's detection. Under any name, the content decides."""
    headers, rows = sample_rows()
    path = tmp_path / name
    path.write_bytes(_page(headers, rows[:3], charset=charset).encode(encoding))
    report = ingest(path)
    assert (report.format, report.encoding, report.accepted, report.rejected) == ("html", said, 3, 0), report.errors
    notes = [w.message for w in report.warnings if w.code == "file_note"]
    named = "，扩展名为 .xls，不是 Excel 工作簿" if name.endswith(".xls") else ""
    assert notes[0].startswith(f"文件是网页表格（HTML{named}），已按表格读取"), notes
    assert (note is None) == (not any(n.startswith("文件声明的字符编码") for n in notes)), notes
    assert note is None or any(n.startswith(note) for n in notes), notes


def test_a_page_without_a_table_is_refused_saying_what_it_is(database, tmp_path):
    """An export that failed gives the system's error page (登录超时) under the .xls name: no table,
    nothing stored, and the message says it is a page without a table, with its title."""
    path = tmp_path / "行政处罚.xls"
    path.write_text("<html><head><title>登录超时</title></head><body><p>请重新登录</p></body></html>",
                    encoding="utf-8")
    with pytest.raises(FileUnreadable) as raised:
        ingest(path)
    message = str(raised.value)
    assert message.startswith(
        "文件扩展名为 .xls，但内容是网页（HTML），不是 Excel 工作簿，网页中没有表格（网页标题为“登录超时”）"), message
    assert "另存为 .xlsx 或 CSV（UTF-8）" in message
    assert count(database, Batch) == 0


# -- XML Spreadsheet 2003 ------------------------------------------------------------------

_WORKBOOK = ('<?xml version="1.0" encoding="{encoding}"?>\n<?mso-application progid="Excel.Sheet"?>\n'
             '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
             'xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-microsoft-com:office:excel" '
             'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet" xmlns:html="http://www.w3.org/TR/REC-html40">\n'
             '<Styles><Style ss:ID="Default" ss:Name="Normal"/>'
             '<Style ss:ID="date"><NumberFormat ss:Format="Short Date"/></Style>'
             '<Style ss:ID="yuan"><NumberFormat ss:Format="#,##0.00&quot;元&quot;"/></Style></Styles>\n'
             '{sheets}</Workbook>\n')


def _xml_cell(value: str, kind: str = "String", attrs: str = "", inside: str = "") -> str:
    return f'<Cell{attrs}><Data ss:Type="{kind}">{escape(value)}</Data>{inside}</Cell>'


def _xml_row(headers: list[str], row: dict[str, str], *, attrs: str = "", yuan: bool = False,
             merged_down: dict[str, int] | None = None, covered: frozenset[str] = frozenset(),
             written: dict[str, str] | None = None) -> str:
    """A record's row as Excel writes it: empty cells left out (the next cell says its ss:Index),
    the decision date a DateTime, the amount a Number (in 元 under a 元 format with ``yuan``);
    ``written``: a column's cell as given (<Cell …>, its ss:Index added)."""
    cells, skipped = [], False
    for column, header in enumerate(headers, start=1):
        value = row[header]
        if header in (written or {}):
            at = f' ss:Index="{column}"' if skipped else ""
            cells.append(written[header].replace("<Cell", f"<Cell{at}", 1))
            skipped = False
            continue
        if not value or header in covered:
            skipped = True
            continue
        at = f' ss:Index="{column}"' if skipped else ""
        skipped = False
        if header in (merged_down or {}):
            at += f' ss:MergeDown="{merged_down[header]}"'
        if header == "处罚决定日期":
            cells.append(_xml_cell(value.replace("/", "-") + "T00:00:00.000", "DateTime", at + ' ss:StyleID="date"'))
        elif header == "罚款金额（万元）" and yuan:
            cells.append(_xml_cell(str(round(float(value) * 10000, 2)), "Number", at + ' ss:StyleID="yuan"'))
        elif header == "罚款金额（万元）":
            cells.append(_xml_cell(value, "Number", at))
        else:
            cells.append(_xml_cell(value, attrs=at))
    return f"<Row{attrs}>{''.join(cells)}</Row>\n"


def _worksheet(name: str, rows: str, *, hidden: bool = False) -> str:
    options = ('<WorksheetOptions xmlns="urn:schemas-microsoft-com:office:excel">'
               + ("<Visible>SheetHidden</Visible>" if hidden else "<Selected/>") + "</WorksheetOptions>")
    return f'<Worksheet ss:Name="{name}"><Table>\n{rows}</Table>{options}</Worksheet>\n'


def test_an_xml_spreadsheet_named_xls_is_read_as_a_workbook(tmp_path):
    """SpreadsheetML as Excel 2003 saves it and report tools export it as .xls: it was refused. Its
    sheets are read as a workbook's (an instructions sheet passed over, a hidden sheet of records
    named), rows numbered as Excel shows them (ss:Index skips rows and cells), typed cells read
    as typed (DateTime, Number, a 元 number format), a cell's comment no value, a hidden row named."""
    headers, sample = sample_rows()
    rows = [dict(r) for r in sample[10:15]]
    rows[2]["处罚决定日期"] = "2027/01/01"
    comment = '<Comment ss:Author="张三"><ss:Data xmlns="http://www.w3.org/TR/REC-html40"><B>张三:</B>核对</ss:Data></Comment>'
    body = f'<Row><Cell ss:MergeAcross="5">{_xml_cell("2024年行政处罚信息")[6:]}</Row>\n'
    body += '<Row ss:Index="3">' + "".join(_xml_cell(h) for h in headers) + "</Row>\n"  # row 2 left empty
    body += _xml_row(headers, rows[0]).replace(f"{escape(rows[0]['行政相对人名称'])}</Data>",
                                               f"{escape(rows[0]['行政相对人名称'])}</Data>{comment}")
    body += _xml_row(headers, rows[1], attrs=' ss:Hidden="1"')
    body += _xml_row(headers, rows[2])
    body += _xml_row(headers, rows[3], yuan=True)
    body += _xml_row(headers, rows[4])
    old = "".join(_xml_cell(h) for h in headers)
    sheets = (_worksheet("填报说明", "<Row>" + _xml_cell("本表按双公示标准填写") + "</Row>\n")
              + _worksheet("行政处罚", body)
              + _worksheet("旧数据", f"<Row>{old}</Row>\n" + _xml_row(headers, sample[20]), hidden=True))
    path = tmp_path / "行政处罚.xls"
    path.write_text(_WORKBOOK.format(encoding="UTF-8", sheets=sheets), encoding="utf-8")

    report = ingest(path)
    assert (report.format, report.rows_total, report.accepted, report.rejected) == ("xml", 5, 4, 1), report.errors
    # title row 1, row 2 empty, header row 3, records from row 4
    assert [(e.line, e.field, e.code) for e in report.errors] == [(6, "处罚决定日期", "future_date")]
    assert [(w.line, w.code) for w in report.warnings if w.code == "amount_unit_converted"] == [
        (7, "amount_unit_converted")]
    notes = [w.message for w in report.warnings if w.code == "file_note"]
    assert notes[0].startswith(
        "文件是 XML 电子表格（Excel 2003 XML，扩展名为 .xls，不是 Excel 工作簿），已按工作簿读取"), notes
    assert any("只读取“行政处罚”" in n and "隐藏的工作表“旧数据”未读取，其中“旧数据”有双公示表头和数据行" in n
               for n in notes), notes
    assert any(n.startswith("工作表中有 1 行是隐藏的（筛选或隐藏后看不到）：第 5 行。") for n in notes), notes
    kept = [r for r in rows if r["处罚决定日期"] != "2027/01/01"]
    again = ingest(write_rows(tmp_path / "p.csv", headers, kept))
    assert (again.unchanged, again.corrected) == (4, 0), "typed cells must give the CSV's values"


def test_records_on_two_sheets_of_an_xml_workbook_are_named_by_sheet_and_row(tmp_path):
    """法人 and 自然人 on sheets of their own (GBK, as declared): both read, a row named by its sheet
    and its own row; cells merged down (ss:MergeDown) count for every row they cover; a formula
    saved without its result rejects its row."""
    headers, sample = sample_rows()
    firms = [dict(sample[i]) for i in (6, 16)]  # one authority, merged down
    persons = [dict(sample[i]) for i in (40, 41)]
    persons[1]["处罚决定日期"] = "2027/01/01"
    firm_rows = _xml_row(headers, firms[0], merged_down={"处罚机关": 1, AUTHORITY: 1})
    firm_rows += _xml_row(headers, firms[1], covered=frozenset({"处罚机关", AUTHORITY}))
    firm_rows += _xml_row(headers, sample[27], written={"罚款金额（万元）": '<Cell ss:Formula="=RC[-1]*2"/>'})
    header_row = "<Row>" + "".join(_xml_cell(h) for h in headers) + "</Row>\n"
    sheets = (_worksheet("法人", header_row + firm_rows)
              + _worksheet("自然人", header_row + "".join(_xml_row(headers, r) for r in persons)))
    path = tmp_path / "处罚.xml"
    path.write_bytes(_WORKBOOK.format(encoding="GB2312", sheets=sheets).encode("gbk"))

    report = ingest(path)
    assert (report.format, report.encoding, report.rows_total, report.accepted, report.rejected) == (
        "xml", "GBK", 5, 3, 2), report.errors
    assert sorted((e.sheet, e.line, e.field, e.code) for e in report.errors) == [
        ("法人", 4, "罚款金额（万元）", "formula_without_result"), ("自然人", 3, "处罚决定日期", "future_date")]
    assert [s.name for s in report.sheets] == ["法人", "自然人"]
    assert _stored("authority_uscc")[firms[1]["行政处罚决定书文号"]] == firms[0][AUTHORITY]


@pytest.mark.parametrize(("text", "said"), [
    ('<?xml version="1.0"?>\n<!DOCTYPE Workbook [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n'
     '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet><Table><Row><Cell><Data>&b;'
     "</Data></Cell></Row></Table></Worksheet></Workbook>",
     "XML 文件中声明了实体（<!ENTITY …>），Excel 或 WPS 保存的 XML 表格不会这样写，疑似恶意构造的文件"),
    ('<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">\n'
     '<Worksheet ss:Name="x" xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"><Table>\n<Row><Cell><Data>',
     "XML 表格格式错误（文件第 4 行"),
], ids=["entities", "cut-short"])
def test_an_xml_workbook_that_is_no_table_of_records_is_refused(database, tmp_path, text, said):
    """A SpreadsheetML workbook declaring entities (a “billion laughs”) is refused before anything
    expands; one cut short says where it ends. Nothing is stored."""
    path = tmp_path / "导出.xls"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FileUnreadable) as raised:
        ingest(path)
    assert said in str(raised.value), str(raised.value)
    assert count(database, Batch) == 0
