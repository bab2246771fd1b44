"""How a file's header is recognised: headers spread over two rows, and the field codes of the
双公示 data standard (CF_XDR_MC…) that database exports use as column names."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from tests.filehelpers import FIXTURES, ingest, sample_rows, write_rows

# A provincial template writes some columns as a group name over the columns' own names.
GROUPS = {
    "行政相对人代码": ["行政相对人代码_1(统一社会信用代码)", "行政相对人代码_2(工商注册号)",
                "行政相对人代码_3(组织机构代码)", "行政相对人代码_4(税务登记号)",
                "行政相对人代码_5(事业单位证书号)", "行政相对人代码_6(社会组织登记证号)"],
    "法定代表人": ["法定代表人", "法定代表人证件类型", "法定代表人证件号码"],
    "处罚机关": ["处罚机关", "处罚机关统一社会信用代码"],
    "数据来源单位": ["数据来源单位", "数据来源单位统一社会信用代码"],
}
NAMES_UNDER_GROUPS = {
    "行政相对人代码": ["统一社会信用代码", "工商注册号", "组织机构代码", "税务登记号", "事业单位证书号",
                "社会组织登记证号"],
    "法定代表人": ["姓名", "证件类型", "证件号码"],
    "处罚机关": ["名称", "统一社会信用代码"],
    "数据来源单位": ["名称", "统一社会信用代码"],
}


def _two_header_rows(headers: list[str]) -> tuple[list[str], list[str], list[tuple[int, int]]]:
    """The group row, the row of names under it (empty under a column of one name) and the
    (first, last) column of each group, for the current layout's headers."""
    top, below, spans = [], [], []
    column = 0
    while column < len(headers):
        group = next((g for g, members in GROUPS.items() if members[0] == headers[column]), None)
        if group is None:
            top.append(headers[column])
            below.append("")
            column += 1
            continue
        members = GROUPS[group]
        assert headers[column:column + len(members)] == members
        top.extend([group] + [""] * (len(members) - 1))
        below.extend(NAMES_UNDER_GROUPS[group])
        spans.append((column, column + len(members) - 1))
        column += len(members)
    return top, below, spans


def _csv(path: Path, header_rows: list[list[str]], rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(header_rows + rows)
    return path


@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
def test_header_of_two_rows_with_group_names_is_read_as_one(database, tmp_path, suffix):
    """行政相对人代码 over 统一社会信用代码 | 工商注册号 …, 法定代表人 over 姓名 | 证件类型 | 证件号码,
    处罚机关 over 名称 | 统一社会信用代码: every column lands where the one-row header puts it (the
    legal representative's id type is not taken for the subject's), and line numbers stay the
    sheet's rows."""
    headers, rows = sample_rows()
    rows[3]["处罚决定日期"] = "2027/01/01"  # in the future: rejected, on row 1 + 2 + 4 = 7
    top, below, spans = _two_header_rows(headers)
    title = ["2024年行政处罚信息报送表"]
    path = tmp_path / f"two_rows.{suffix}"
    if suffix == "xlsx":
        import openpyxl
        from openpyxl.utils import get_column_letter

        wb = openpyxl.Workbook()
        ws = wb.active
        for values in (title, top, below):
            ws.append(values)
        for r in rows:
            ws.append([r[h] for h in headers])
        ws.merge_cells(start_row=1, end_row=1, start_column=1, end_column=8)
        for first, last in spans:
            ws.merge_cells(start_row=2, end_row=2, start_column=first + 1, end_column=last + 1)
        grouped = {c for first, last in spans for c in range(first, last + 1)}
        for column in range(len(headers)):
            if column not in grouped:  # a column of one name: merged down the two header rows
                letter = get_column_letter(column + 1)
                ws.merge_cells(f"{letter}2:{letter}3")
        wb.save(path)
    else:
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerows([title, top, below])
            writer.writerows([r[h] for h in headers] for r in rows)

    report = ingest(path)
    assert (report.accepted, report.rejected) == (46, 1), report.errors[:3]
    assert [(e.line, e.field, e.code) for e in report.errors] == [(7, "处罚决定日期", "future_date")]
    notes = [w.message for w in report.warnings if w.code == "file_note"]
    assert any("表头占第 2–3 行" in n for n in notes), notes
    assert not any("跨行合并" in n for n in notes), "merged header cells are not data merged down rows"
    assert not [w for w in report.warnings if w.code == "unknown_column"]
    again = ingest(FIXTURES / "penalties.csv")
    assert (again.unchanged, again.accepted, again.corrected) == (46, 1, 0), "every column must land as in the CSV"


def test_group_that_is_itself_a_column_keeps_its_name_when_what_is_under_it_is_unknown(database, tmp_path):
    """法定代表人（负责人） over 负责人名称 | 证件类型 | 证件号码 reads as the legal representative's
    columns, never as the subject's own 证件类型 / 证件号码; a name under a group that is no column
    and means nothing with it is reported as an unknown column, not guessed."""
    headers, rows = sample_rows()
    top, below, _ = _two_header_rows(headers)
    start = headers.index("法定代表人")
    top[start], below[start] = "法定代表人（负责人）", "负责人名称"
    below[headers.index("行政相对人代码_6(社会组织登记证号)")] = "其他代码"
    report = ingest(_csv(tmp_path / "groups.csv", [top, below], [[r[h] for h in headers] for r in rows[:3]]))
    assert (report.accepted, report.rejected) == (3, 0), report.errors
    assert [w.field for w in report.warnings if w.code == "unknown_column"] == ["行政相对人代码（其他代码）"]
    again = ingest(FIXTURES / "penalties.csv")
    assert (again.unchanged, again.corrected) == (3, 0), "the legal representative's columns must land as in the CSV"


def test_row_of_field_codes_under_the_names_is_part_of_the_header(database, tmp_path):
    """Templates of the data standard put each column's field code (CF_XDR_MC…) under its name:
    that row is not a record. Two such exports pasted together repeat both rows: skipped."""
    headers, rows = sample_rows()
    codes = [PENALTY_CODES[h].upper() for h in headers]
    cells = [[r[h] for h in headers] for r in rows[:20]]
    report = ingest(_csv(tmp_path / "codes.csv", [headers, codes], [*cells[:10], headers, codes, *cells[10:]]))
    assert (report.rows_total, report.accepted, report.rejected) == (20, 20, 0), report.errors[:3]
    assert [(w.line, w.code) for w in report.warnings if w.code == "repeated_header"] == [
        (13, "repeated_header"), (14, "repeated_header")]
    assert any("表头占第 1–2 行" in w.message for w in report.warnings if w.code == "file_note")


def test_row_of_fill_marks_under_the_names_is_part_of_the_header(database, tmp_path):
    """A template's row saying 必填 / 选填 under each name is not a record."""
    headers, rows = sample_rows()
    items_required = {"行政相对人名称", "行政相对人类别", "行政处罚决定书文号", "处罚决定日期"}
    marks = ["（必填）" if h in items_required else "选填" for h in headers]
    report = ingest(_csv(tmp_path / "marks.csv", [headers, marks], [[r[h] for h in headers] for r in rows[:5]]))
    assert (report.rows_total, report.accepted, report.rejected) == (5, 5, 0), report.errors[:3]


# The field codes of the data standard, as a department's database names its columns.
PENALTY_CODES = {
    "行政相对人名称": "cf_xdr_mc", "行政相对人类别": "cf_xdr_lb", "行政相对人代码_1(统一社会信用代码)": "cf_xdr_shxym",
    "行政相对人代码_2(工商注册号)": "cf_xdr_gszc", "行政相对人代码_3(组织机构代码)": "cf_xdr_zzjg",
    "行政相对人代码_4(税务登记号)": "cf_xdr_swdj", "行政相对人代码_5(事业单位证书号)": "cf_xdr_sydw",
    "行政相对人代码_6(社会组织登记证号)": "cf_xdr_shzz", "法定代表人": "cf_frdb", "法定代表人证件类型": "cf_fr_zjlx",
    "法定代表人证件号码": "cf_fr_zjhm", "证件类型": "cf_xdr_zjlx", "证件号码": "cf_xdr_zjhm",
    "行政处罚决定书文号": "cf_wsh", "违法行为类型": "cf_wfxw", "违法事实": "cf_sy", "处罚依据": "cf_yj",
    "处罚类别": "cf_cflb", "处罚内容": "cf_nr", "罚款金额（万元）": "cf_nr_fk",
    "没收违法所得、没收非法财物的金额（万元）": "cf_nr_wfff", "暂扣或吊销证照名称及编号": "cf_nr_zkdx",
    "处罚决定日期": "cf_jdrq", "处罚有效期": "cf_yxq", "公示截止期": "cf_gsjzq", "处罚机关": "cf_cfjg",
    "处罚机关统一社会信用代码": "cf_cfjgdm", "数据来源单位": "cf_sjly", "数据来源单位统一社会信用代码": "cf_sjlydm",
    "备注": "bz",
}
LICENCE_CODES = {
    "行政相对人名称": "XK_XDR_MC", "行政相对人类别": "XK_XDR_LB", "行政相对人代码_1(统一社会信用代码)": "XK_XDR_SHXYM",
    "行政相对人代码_2(工商注册号)": "XK_XDR_GSZC", "行政相对人代码_3(组织机构代码)": "XK_XDR_ZZJG",
    "行政相对人代码_4(税务登记号)": "XK_XDR_SWDJ", "行政相对人代码_5(事业单位证书号)": "XK_XDR_SYDW",
    "行政相对人代码_6(社会组织登记证号)": "XK_XDR_SHZZ", "法定代表人": "XK_FRDB", "法定代表人证件类型": "XK_FR_ZJLX",
    "法定代表人证件号码": "XK_FR_ZJHM", "证件类型": "XK_XDR_ZJLX", "证件号码": "XK_XDR_ZJHM",
    "行政许可决定文书名称": "XK_XKWS", "行政许可决定文书号": "XK_WSH", "许可类别": "XK_XKLB", "许可证书名称": "XK_XKZS",
    "许可编号": "XK_XKBH", "许可内容": "XK_NR", "许可决定日期": "XK_JDRQ", "有效期自": "XK_YXQZ",
    "有效期至": "XK_YXQZI",
    "许可机关": "XK_XKJG", "许可机关统一社会信用代码": "XK_XKJGDM", "当前状态": "XK_ZT", "数据来源单位": "XK_LYDW",
    "数据来源单位统一社会信用代码": "XK_LYDWDM", "备注": "BZ",
}


@pytest.mark.parametrize(("kind", "fixture", "codes"), [
    ("penalties", "penalties.csv", PENALTY_CODES),
    ("licences", "licences.csv", LICENCE_CODES),
])
def test_database_export_named_by_field_codes_gives_the_same_records(database, tmp_path, kind, fixture, codes):
    """A department's 前置库 exports JSON Lines (null for an empty value) or CSV whose keys are
    the standard's field codes, in lower or upper case: read as the named columns."""
    headers, rows = sample_rows(fixture)
    assert set(codes) == set(headers)
    path = tmp_path / "export.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps({codes[h]: (r[h] or None) for h in headers}, ensure_ascii=False) + "\n")
    report = ingest(path, kind)
    assert (report.accepted, report.rejected) == (len(rows), 0), report.errors[:3]
    assert not [w for w in report.warnings if w.code == "unknown_column"]
    as_csv = write_rows(tmp_path / "export.csv", [codes[h].swapcase() for h in headers],
                        [{codes[h].swapcase(): r[h] for h in headers} for r in rows])
    assert ingest(as_csv, kind).unchanged == len(rows)
    assert ingest(FIXTURES / fixture, kind).unchanged == len(rows), "every column must land as in the CSV"


def test_2016_layout_named_by_its_field_codes(database, tmp_path):
    """The 2016 standard's codes (CF_CFMC 处罚名称, CF_JG 处罚结果, CF_XZJG 处罚机关 …) mark the
    2016 layout and map like its headers."""
    ingest(FIXTURES / "penalties.csv")  # registers the departments
    _, rows = sample_rows()
    r = rows[0]
    row = {
        "CF_WSH": "石家监督罚〔2016〕8号", "CF_CFMC": "不执行政府定价", "CF_CFLB1": "罚款", "CF_CFLB2": "警告",
        "CF_SY": r["违法事实"], "CF_YJ": r["处罚依据"], "CF_XDR_MC": r["行政相对人名称"],
        "CF_XDR_SHXYM": r["行政相对人代码_1(统一社会信用代码)"], "CF_XDR_ZDM": "", "CF_XDR_GSDJ": "",
        "CF_XDR_SWDJ": "", "CF_XDR_SFZ": "", "CF_FR": r["法定代表人"], "CF_JG": "罚款 1 万元",
        "CF_JDRQ": "2024/08/20", "CF_XZJG": r["处罚机关"], "CF_ZT": "0", "DFBM": "130102",
        "SJC": "2024/08/21 10:00:00", "BZ": "",
    }
    path = write_rows(tmp_path / "old.csv", list(row), [row])
    report = ingest(path, department_uscc=r["数据来源单位统一社会信用代码"])
    assert (report.layout, report.accepted, report.rejected) == ("2016", 1, 0), report.errors
    assert not [w for w in report.warnings if w.code == "unknown_column"]


def test_licence_templates_that_name_the_columns_otherwise_lose_nothing(database, tmp_path):
    """Found by probing: 许可证书编号, 有效期限至, 许可证状态… were ignored as unknown columns and
    every row stored without its number, dates or status (exit 0). A group 许可证书 over
    名称 | 编号 is read as the two columns; a second column of one field (有效期（止） beside
    有效期至) fills the first one's empty cells instead of being called unknown."""
    import openpyxl

    headers, rows = sample_rows("licences.csv")
    reference = ingest(FIXTURES / "licences.csv", "licences")
    assert reference.accepted == len(rows)
    renamed = {"许可编号": "许可证书编号", "有效期自": "有效期限自", "有效期至": "有效期限至", "当前状态": "许可证状态"}
    report = ingest(write_rows(tmp_path / "other_names.csv", [renamed.get(h, h) for h in headers],
                               [{renamed.get(h, h): v for h, v in r.items()} for r in rows]), "licences")
    assert (report.unchanged, report.rejected) == (len(rows), 0), "every value must land as in the standard file"
    assert [w.code for w in report.warnings if w.code == "unknown_column"] == []

    certificate = headers.index("许可证书名称")
    assert headers[certificate + 1] == "许可编号"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    group = {certificate: ("许可证书", "名称"), certificate + 1: ("", "编号")}
    sheet.append([group.get(i, (h, ""))[0] for i, h in enumerate(headers)])
    sheet.append([group.get(i, (h, ""))[1] for i, h in enumerate(headers)])
    for r in rows:
        sheet.append([r[h] for h in headers])
    workbook.save(tmp_path / "group.xlsx")
    grouped = ingest(tmp_path / "group.xlsx", "licences")
    assert (grouped.unchanged, grouped.rejected) == (len(rows), 0), grouped.warnings[:3]

    emptied = [dict(r, 有效期至="") for r in rows]
    for r, original in zip(emptied, rows, strict=True):
        r["有效期（止）"] = original["有效期至"]
    doubled = ingest(write_rows(tmp_path / "doubled.csv", [*headers, "有效期（止）"], emptied), "licences")
    assert (doubled.unchanged, doubled.rejected) == (len(rows), 0)
    notes = [w.message for w in doubled.warnings if w.code == "file_note" and "同一栏目" in w.message]
    assert notes == ["列“有效期（止）”与列“有效期至”是同一栏目（有效期至）："
                     "以“有效期至”为准，其为空的行取“有效期（止）”"]
    # where both are filled and disagree, the first wins and the row says so
    differing = [dict(r, **{"有效期（止）": "2031/01/01"}) for r in rows[:1]]
    said = ingest(write_rows(tmp_path / "differ.csv", [*headers, "有效期（止）"], differing), "licences")
    assert said.unchanged == 1
    assert [(w.line, w.field, w.code) for w in said.warnings if w.code == "duplicate_column_differs"] == [
        (2, "有效期至", "duplicate_column_differs")]


def test_a_licence_period_in_one_column_is_read_as_its_start_and_end(database, tmp_path):
    """Found by probing: provincial templates have one column 许可有效期 holding the whole period
    (2024/01/01至2029/12/31); it was an unknown column, every row stored without its dates, exit 0.
    The period is split into 有效期自 and 有效期至, however it is written; what is no period is
    refused naming the column, and a single date is kept as the end with a warning."""
    import openpyxl
    from sqlalchemy import select

    from xinyong.core import db
    from xinyong.records import service as records
    from xinyong.records.models import Record

    headers, rows = sample_rows("licences.csv")
    reference = ingest(FIXTURES / "licences.csv", "licences")
    assert reference.accepted == len(rows)
    start, end = headers.index("有效期自"), headers.index("有效期至")
    one_column = [*headers[:start], "许可有效期", *headers[end + 1:]]
    spellings = ["{}至{}", "{}到{}", "{} - {}", "{}~{}", "自{}起至{}止", "{}-{}"]

    def period(r: dict[str, str], n: int) -> dict[str, str]:
        written = spellings[n % len(spellings)].format(r["有效期自"], r["有效期至"].replace("/", "-"))
        return {**{h: v for h, v in r.items() if h in one_column}, "许可有效期": written}

    report = ingest(write_rows(tmp_path / "period.csv", one_column,
                               [period(r, n) for n, r in enumerate(rows)]), "licences")
    assert (report.unchanged, report.rejected) == (len(rows), 0), "the same dates as the standard file"
    assert not [w for w in report.warnings if w.code == "unknown_column"]

    # 长期, a start only, one date, and what is no period; in a workbook with the period under a group
    cases = {"2024年1月1日至长期": ("2024-01-01", "2099-12-31"), "2024-01-01起": ("2024-01-01", None),
             "2029/12/31": (None, "2029-12-31"), "5年": None}
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(one_column)
    changed = []
    for n, (written, _) in enumerate(cases.items()):
        r = dict(rows[n], 许可有效期=written)
        r["行政许可决定文书号"] = f"期限许〔2024〕{n + 1}号"
        changed.append(r)
        sheet.append([r[h] for h in one_column])
    workbook.save(tmp_path / "cases.xlsx")
    said = ingest(tmp_path / "cases.xlsx", "licences")
    assert (said.accepted, said.rejected) == (3, 1)
    assert [(e.line, e.field, e.code) for e in said.errors] == [(5, "许可有效期", "invalid_period")]
    assert "5年" in said.errors[0].message and "2024/01/01至2029/12/31" in said.errors[0].message
    assert [(w.line, w.code) for w in said.warnings if w.code == "period_one_date"] == [(4, "period_one_date")]
    with db.transaction() as session:
        stored = {r.decision_no: records.current_values(session, r) for r in session.scalars(select(Record))}
    for n, expected in enumerate(cases.values()):
        data = stored.get(changed[n]["行政许可决定文书号"])
        assert (data and (data.get("valid_from"), data.get("valid_to"))) == expected


def test_a_file_missing_required_columns_names_the_columns_it_did_not_recognise(database, tmp_path):
    """A province's export with its own names for two columns was told only which columns were
    missing; it now also lists the headers not recognised, among which are the ones to rename.
    A penalties file sent as licences is told that its header is a penalties header."""
    from xinyong.core.errors import FileUnreadable

    headers, rows = sample_rows()
    renamed = ["处罚对象名称" if h == "行政相对人名称" else "文书编号" if h == "行政处罚决定书文号" else h
               for h in headers]
    for r in rows[:2]:
        r["处罚对象名称"], r["文书编号"] = r.pop("行政相对人名称"), r.pop("行政处罚决定书文号")
    with pytest.raises(FileUnreadable) as raised:
        ingest(write_rows(tmp_path / "province.csv", renamed, rows[:2]))
    said = raised.value.message
    assert "缺少必需的列：“行政相对人名称”、“行政处罚决定书文号”" in said
    assert "未能识别的列：“处罚对象名称”、“文书编号”" in said
    with pytest.raises(FileUnreadable) as raised:
        ingest(FIXTURES / "penalties.csv", "licences")
    assert "这个文件的表头是行政处罚信息的：请确认报送的类别（许可或处罚）选对了" in raised.value.message


@pytest.mark.parametrize("fine_header", ["罚款金额（单位：人民币元）", "罚款金额（人民币：元）", "罚款金额/元"])
def test_common_template_spellings_and_fill_notes_lose_nothing(database, tmp_path, fine_header):
    """Found by probing: 公示截止日期, 法定代表人身份证号, 处罚有效期至, the fine headed
    罚款金额（单位：人民币元）, （人民币：元） or /元, and headers carrying a note on how to fill them
    (（格式：YYYY/MM/DD）, （法人必填）, （选填，保留两位小数）) were unknown columns: the rows were
    stored without the fine, the declared 公示截止期 and the legal representative's id (exit 0).
    Every value lands as in the standard file; the fine is read in 元 and converted."""
    from decimal import Decimal

    headers, rows = sample_rows()
    rows = [dict(r, 公示截止期="2026/08/13") for r in rows[:4]]
    reference = ingest(write_rows(tmp_path / "standard.csv", headers, rows))
    assert (reference.accepted, reference.rejected) == (len(rows), 0), reference.errors[:3]
    renamed = {
        "罚款金额（万元）": fine_header,
        "公示截止期": "公示截止日期",
        "法定代表人证件号码": "法定代表人身份证号",
        "处罚有效期": "处罚有效期至",
        "处罚决定日期": "处罚决定日期（格式：YYYY/MM/DD）",
        "行政相对人代码_1(统一社会信用代码)": "统一社会信用代码（法人必填）",
        "没收违法所得、没收非法财物的金额（万元）": "没收金额（万元）（选填，保留两位小数）",
    }
    in_yuan = [{renamed.get(h, h): v for h, v in r.items()} for r in rows]
    for r in in_yuan:
        r[fine_header] = format((Decimal(r[fine_header]) * 10000).normalize(), "f") if r[fine_header] else ""
    report = ingest(write_rows(tmp_path / "template.csv", [renamed.get(h, h) for h in headers], in_yuan))
    assert (report.unchanged, report.rejected) == (len(rows), 0), "every value must land as in the standard file"
    assert [w.message for w in report.warnings if w.code == "unknown_column"] == []
    assert f"“{fine_header}”列的金额以元为单位，已换算为万元保存" in [w.message for w in report.warnings]


def test_a_second_amount_column_in_another_unit_is_read_in_its_own_unit(database, tmp_path):
    """罚款金额（元） beside 罚款金额（万元）: a row whose 万元 cell is empty takes the 元 column's
    value, which was read as 万元 (5000 元 stored as a fine of 5000 万元). It is converted."""
    from sqlalchemy import select

    from xinyong.records.models import RecordVersion

    headers, rows = sample_rows()
    at = headers.index("罚款金额（万元）") + 1
    sent = [dict(rows[0], **{"罚款金额（万元）": "", "罚款金额（元）": "5000"})]
    report = ingest(write_rows(tmp_path / "two_units.csv", [*headers[:at], "罚款金额（元）", *headers[at:]], sent))
    assert (report.accepted, report.rejected) == (1, 0), report.errors
    with database.connect() as conn:
        data = json.loads(conn.execute(select(RecordVersion.data)).scalar_one())
    assert data["fine_amount"] == "0.5"
    assert [w.message for w in report.warnings if w.code == "file_note" and "同一栏目" in w.message] == [
        "列“罚款金额（元）”与列“罚款金额（万元）”是同一栏目（罚款金额（万元））：以“罚款金额（万元）”为准，"
        "其为空的行取“罚款金额（元）”（以元为单位，换算为万元保存）"]
