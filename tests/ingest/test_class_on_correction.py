"""A correction never changes a penalty's class or publication for a column its file lacks, and a
department sees it named whenever a correction changes them."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from filehelpers import DECISION_NO, HEADERS_2016, USCC, in_2016_layout, ingest, sample_rows, write_rows
from xinyong.records.models import Record, RecordVersion

pytestmark = pytest.mark.usefixtures("database")

FINE = "罚款金额（万元）"


def _minor(**changes: str) -> tuple[list[str], dict[str, str]]:
    """A 2,000 元 fine on a company: 轻微, not published (DOMAIN §7)."""
    headers, rows = sample_rows()
    return headers, {**rows[0], "处罚类别": "罚款", FINE: "0.2", "处罚内容": "罚款人民币2000元", **changes}


def _versions(database, decision_no: str) -> list[tuple[int, str, bool, str | None]]:  # type: ignore[no-untyped-def]
    with database.connect() as conn:
        found = conn.execute(
            select(RecordVersion.version, RecordVersion.penalty_class, RecordVersion.published, RecordVersion.data)
            .join(Record, Record.id == RecordVersion.record_id)
            .where(Record.decision_no == decision_no).order_by(RecordVersion.version)).all()
    return [(v, c, bool(p), json.loads(d).get("fine_amount")) for v, c, p, d in found]


def _public(client, code: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [r["decision_no"] for r in client.get(f"/api/v1/subjects/{code}").json().get("records", [])]


def test_a_decision_sent_again_in_the_2016_layout_keeps_its_fine_class_and_publication(database, client, tmp_path):
    """Found by probing: a 轻微 penalty (a 0.2 万元 fine, not published) sent again in the 2016
    layout, which has no amount column (the fine is in 处罚结果), became version 2 without its
    fine, classed 一般 and published; the report said nothing (corrected 1, exit 0)."""
    headers, row = _minor()
    ingest(write_rows(tmp_path / "current.csv", headers, [row]))
    old = in_2016_layout(row)  # 处罚结果 罚款人民币2000元: the fine is in the text only
    report = ingest(write_rows(tmp_path / "old.csv", HEADERS_2016, [old]),
                    department_uscc=row["数据来源单位统一社会信用代码"])
    assert (report.layout, report.corrected, report.rejected) == ("2016", 1, 0)
    assert _versions(database, row[DECISION_NO]) == [(1, "轻微", False, "0.2"), (2, "轻微", False, "0.2")]
    assert _public(client, row[USCC]) == []
    [kept] = [w for w in report.warnings if w.code == "kept_from_record"]
    assert (kept.line, kept.field) == (2, FINE)
    assert kept.message == ("文件没有“罚款金额（万元）”列：本行更正已登记的记录，"
                            "沿用该记录已登记的“罚款金额（万元）”0.2，失信严重程度据此认定为“轻微”（不予公示）；"
                            "如该值确有变化，请用含该列的文件重新报送")
    assert not [w for w in report.warnings if w.code == "class_changed"]
    # the 2016 layout says, as the current one does, what its missing columns do to a correction
    [note] = [w.message for w in report.warnings if w.code == "file_note"]
    kept_columns = "“罚款金额（万元）”、“没收违法所得、没收非法财物的金额（万元）”、“公示截止期”"
    assert note.startswith("这是 2016 年格式的文件，文件没有这些列："), note
    assert "“暂扣或吊销证照名称及编号”" in note and "“处罚有效期”" in note
    assert "更正此前已报送的记录时，这些栏目沿用已登记记录的内容" in note
    assert "新记录中这些栏目为空（“处罚有效期”按长期保存）" in note
    assert f"其中{kept_columns}是认定处罚失信严重程度和是否公示的依据：沿用时据此重新认定" in note


def test_a_decision_sent_again_without_the_amount_column_changes_nothing(database, client, tmp_path):
    """Found by probing: the same, in a current-layout template without the amount column. The
    file says nothing of the amount: the row is the record as stored, so nothing changes."""
    headers, row = _minor()
    ingest(write_rows(tmp_path / "current.csv", headers, [row]))
    fewer = [h for h in headers if h != FINE]
    report = ingest(write_rows(tmp_path / "fewer.csv", fewer, [{h: row[h] for h in fewer}]))
    assert (report.corrected, report.unchanged, report.rejected) == (0, 1, 0)
    assert _versions(database, row[DECISION_NO]) == [(1, "轻微", False, "0.2")]
    assert _public(client, row[USCC]) == []
    [note] = [w.message for w in report.warnings if w.code == "file_note"]
    assert note == ("文件没有这些列：“罚款金额（万元）”。没有某一列不等于清空该栏目：更正此前已报送的记录时，"
                    "这些栏目沿用已登记记录的内容（要清空某一栏目，请用含该列的文件报送并将该单元格留空）；"
                    "新记录中这些栏目为空。其中“罚款金额（万元）”是认定处罚失信严重程度和是否公示的依据："
                    "沿用时据此重新认定，不因文件缺少这些列而改变（沿用的行另有提示）")

    # a real correction in that template keeps the fine, and its version says so; a second row of
    # the same record in the file takes the next version number
    changed = {**{h: row[h] for h in fewer}, "备注": "已缴纳"}
    report = ingest(write_rows(tmp_path / "twice.csv", fewer, [{h: row[h] for h in fewer}, changed]))
    assert (report.corrected, report.unchanged) == (1, 1)
    assert _versions(database, row[DECISION_NO]) == [(1, "轻微", False, "0.2"), (2, "轻微", False, "0.2")]
    assert [(w.line, w.code) for w in report.warnings if w.code in ("kept_from_record", "class_changed")] == [
        (3, "kept_from_record")]


def test_rows_of_one_record_in_a_narrow_file_each_keep_the_fine(database, client, tmp_path):
    """A file without the amount column that corrects a record three times, its middle row being
    the record as stored: each version keeps the fine and its class (轻微, not published)."""
    headers, row = _minor()
    ingest(write_rows(tmp_path / "current.csv", headers, [row]))
    fewer = [h for h in headers if h != FINE]
    sent = [{**{h: row[h] for h in fewer}, "备注": remark} for remark in ("已缴纳", "", "已整改")]
    report = ingest(write_rows(tmp_path / "fewer.csv", fewer, sent))
    assert (report.corrected, report.unchanged) == (3, 0)
    assert _versions(database, row[DECISION_NO]) == [(v, "轻微", False, "0.2") for v in (1, 2, 3, 4)]
    assert _public(client, row[USCC]) == []
    assert [w.line for w in report.warnings if w.code == "kept_from_record"] == [2, 3, 4]


@pytest.mark.parametrize(("first", "then", "message"), [
    ("0.2", "5", "本行更正了已登记的处罚：失信严重程度由“轻微”改为“一般”（未达到其他类别的认定条件，按一般处理），"
                 "由不予公示改为公示（公示至 {end}）。请核对处罚类别、罚款金额等栏目是否正确"),
    ("5", "0.2", "本行更正了已登记的处罚：失信严重程度由“一般”改为“轻微”"
                 "（处罚类别仅为罚款，罚款0.2万元未超过0.3万元），"  # an organisation's limit in the national pack
                 "由公示改为不予公示。请核对处罚类别、罚款金额等栏目是否正确"),
    ("0.2", "", "本行更正了已登记的处罚：失信严重程度由“轻微”改为“一般”（未达到其他类别的认定条件，按一般处理），"
                "由不予公示改为公示（公示至 {end}）。请核对处罚类别、罚款金额等栏目是否正确"),
])
def test_a_correction_that_changes_the_class_names_the_change(database, client, tmp_path, first, then, message):
    """A department that corrects the amount (or empties its cell: the column is there) changes
    the class, and the report names the class before and after and what happens to publication."""
    headers, row = _minor(**{FINE: first})
    ingest(write_rows(tmp_path / "first.csv", headers, [row]))
    report = ingest(write_rows(tmp_path / "then.csv", headers, [{**row, FINE: then}]))
    assert report.corrected == 1
    [(_version, _class, published, fine)] = _versions(database, row[DECISION_NO])[1:]
    assert (fine or "") == then
    [warning] = [w for w in report.warnings if w.code == "class_changed"]
    assert (warning.line, warning.field) == (2, "处罚类别")
    with database.connect() as conn:
        end = conn.scalar(select(RecordVersion.publication_end).where(RecordVersion.version == 2))
    assert warning.message == message.format(end=f"{end:%Y/%m/%d}")
    assert _public(client, row[USCC]) == ([row[DECISION_NO]] if published else [])
    assert not [w for w in report.warnings if w.code == "kept_from_record"]


def test_a_correction_that_keeps_the_class_says_nothing_of_it(database, tmp_path):
    headers, row = _minor()
    ingest(write_rows(tmp_path / "first.csv", headers, [row]))
    report = ingest(write_rows(tmp_path / "then.csv", headers, [{**row, "备注": "已缴纳"}]))
    assert report.corrected == 1
    assert not [w for w in report.warnings
                if w.code in ("class_changed", "kept_from_record", "publication_end_changed")]


def test_a_declared_class_is_kept_by_a_correction_from_a_file_without_its_column(database, client, tmp_path):
    """What a department declared (失信严重程度 严重 for a small fine) is what the class was decided
    from: a file without that column says nothing of it, and the penalty stays published as 严重."""
    headers, row = _minor()
    ingest(write_rows(tmp_path / "declared.csv", [*headers, "失信严重程度"], [{**row, "失信严重程度": "严重"}]))
    assert _versions(database, row[DECISION_NO]) == [(1, "严重", True, "0.2")]
    report = ingest(write_rows(tmp_path / "then.csv", headers, [{**row, "备注": "已缴纳"}]))
    assert report.corrected == 1
    assert _versions(database, row[DECISION_NO])[1] == (2, "严重", True, "0.2")
    assert _public(client, row[USCC]) == [row[DECISION_NO]]
    [kept] = [w.message for w in report.warnings if w.code == "kept_from_record"]
    assert kept.startswith("文件没有“失信严重程度”列：本行更正已登记的记录，沿用该记录已登记的“失信严重程度”严重，"
                           "失信严重程度据此认定为“严重”（公示至 ")


# the 2016 layout's own columns, which a current-layout file may carry (当前状态 in words)
LEGACY = {"地方编码": "130102", "数据更新时间戳": "2024-08-20 10:20:30", "当前状态": "正常"}


@pytest.mark.parametrize("legal_rep_id", ["130102200203109238", ""])
def test_a_completed_correction_sent_again_in_full_changes_nothing(database, tmp_path, legal_rep_id):
    """Found by hand: a correction from the 2016 layout (no amount columns) kept the record's fine,
    but its version was stored with the content hash of the row as sent, without the fine. The
    same decision sent later in the current layout, with the amount column and the very values of
    that version, was stored once more: versions 2 and 3 alike (0.2 万元, 轻微). The legal
    representative's id, which the 2016 layout has no column for either, is kept encrypted, its
    version holding it masked: the hash must count it all the same."""
    headers, row = _minor(法定代表人证件号码=legal_rep_id, 法定代表人证件类型="身份证" if legal_rep_id else "")
    ingest(write_rows(tmp_path / "current.csv", headers, [row]))
    report = ingest(write_rows(tmp_path / "old.csv", HEADERS_2016, [in_2016_layout(row, 备注="已缴纳")]),
                    department_uscc=row["数据来源单位统一社会信用代码"])
    assert (report.corrected, report.rejected) == (1, 0)
    assert _versions(database, row[DECISION_NO]) == [(1, "轻微", False, "0.2"), (2, "轻微", False, "0.2")]

    # the values of version 2, each in its column of the current layout (which may carry the
    # 2016 layout's own columns)
    full = {**row, "备注": "已缴纳", **LEGACY}
    report = ingest(write_rows(tmp_path / "full.csv", [*headers, *LEGACY], [full]))
    assert (report.accepted, report.corrected, report.unchanged, report.rejected) == (0, 0, 1, 0)
    assert _versions(database, row[DECISION_NO]) == [(1, "轻微", False, "0.2"), (2, "轻微", False, "0.2")]
    # and the completed version is what the narrow file says too: sent again, nothing changes
    report = ingest(write_rows(tmp_path / "old.csv", HEADERS_2016, [in_2016_layout(row, 备注="已缴纳")]),
                    department_uscc=row["数据来源单位统一社会信用代码"])
    assert (report.corrected, report.unchanged) == (0, 1)
    assert len(_versions(database, row[DECISION_NO])) == 2


def _end_warnings(report) -> list[tuple[int | None, str | None, str, str]]:  # type: ignore[no-untyped-def]
    return [(w.line, w.field, w.code, w.message) for w in report.warnings
            if w.code in ("class_changed", "publication_end_changed")]


def test_a_correction_of_the_declared_end_says_how_long_the_penalty_is_now_published(database, client, tmp_path):
    """A correction that keeps the class and the publication but moves 公示截止期 changes how long
    the public sees the penalty: it said nothing."""
    headers, row = _minor(**{FINE: "5", "公示截止期": "2025/08/13"})  # 一般, 3 to 36 months (Order 58)
    ingest(write_rows(tmp_path / "first.csv", headers, [row]))
    report = ingest(write_rows(tmp_path / "then.csv", headers, [{**row, "公示截止期": "2026/02/13"}]))
    assert report.corrected == 1
    assert _end_warnings(report) == [(
        2, "公示截止期", "publication_end_changed",
        "本行更正了已登记的处罚：失信严重程度仍为“一般”，公示截止日期由 2025/08/13 改为 2026/02/13"
        "（“公示截止期”由 2025/08/13 改为 2026/02/13），公众可查询到该处罚的期限随之改变。"
        "请核对处罚决定日期、公示截止期是否正确")]
    # a declared end given where there was none moves it too
    report = ingest(write_rows(tmp_path / "none.csv", headers, [{**row, "公示截止期": "", "备注": "改"}]))
    [(_line, field, code, message)] = _end_warnings(report)
    assert (field, code) == ("公示截止期", "publication_end_changed")
    assert "公示截止日期由 2026/02/13 改为 2027/08/13（“公示截止期”由 2026/02/13 改为空）" in message


def test_a_moved_decision_date_under_another_rule_says_how_long_the_penalty_is_now_published(database, tmp_path):
    """A decision date moved across 2026-04-01, where Order 36 (一般: 12 months) replaced Order 58
    (36 months): the class stays 一般 and published, the end moves by two years."""
    headers, row = _minor(**{FINE: "5", "处罚决定日期": "2026/03/20"})
    ingest(write_rows(tmp_path / "first.csv", headers, [row]))
    report = ingest(write_rows(tmp_path / "then.csv", headers, [{**row, "处罚决定日期": "2026/04/10"}]))
    assert report.corrected == 1
    assert _end_warnings(report) == [(
        2, "处罚决定日期", "publication_end_changed",
        "本行更正了已登记的处罚：失信严重程度仍为“一般”，公示截止日期由 2029/03/20 改为 2027/04/10"
        "（“处罚决定日期”由 2026/03/20 改为 2026/04/10），公众可查询到该处罚的期限随之改变。"
        "请核对处罚决定日期、公示截止期是否正确")]


def test_a_class_change_that_moves_the_end_names_both(database, tmp_path):
    """一般 to 严重 under Order 36: both published, 12 months then 36. ``class_changed`` names the
    new end too (one warning per row on what the public sees)."""
    headers, row = _minor(**{FINE: "5", "处罚决定日期": "2026/05/10"})
    ingest(write_rows(tmp_path / "first.csv", headers, [row]))
    report = ingest(write_rows(tmp_path / "then.csv", headers, [{**row, FINE: "150"}]))
    [(line, field, code, message)] = _end_warnings(report)
    assert (line, field, code) == (2, "处罚类别", "class_changed")
    assert message.startswith("本行更正了已登记的处罚：失信严重程度由“一般”改为“严重”（")
    assert message.endswith("，公示截止日期由 2027/05/10 改为 2029/05/10。请核对处罚类别、罚款金额等栏目是否正确")
