"""A correction keeps the record's value of every field its file has no column for: an absent
column is what the department's system does not send, not a value gone (an empty cell in a column
the file has clears it). New records are not affected: an absent column is empty there."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from filehelpers import DECISION_NO, HEADERS_2016, in_2016_layout, ingest, sample_rows, write_rows
from xinyong.ingest import service, store
from xinyong.records.models import Record, RecordVersion

pytestmark = pytest.mark.usefixtures("database")

LICENCE = "暂扣或吊销证照名称及编号"
NARROW_DROPS = ("法定代表人证件类型", "法定代表人证件号码", LICENCE)


def _versions(database, decision_no: str) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    with database.connect() as conn:
        found = conn.scalars(
            select(RecordVersion.data).join(Record, Record.id == RecordVersion.record_id)
            .where(Record.decision_no == decision_no).order_by(RecordVersion.version)).all()
    return [json.loads(d) for d in found]


@pytest.mark.parametrize(("flush_rows", "merge_rows"), [(1, 2), (5000, 20000)],
                         ids=["merged-every-two-rows", "merged-once"])
def test_a_correction_from_a_narrower_template_keeps_what_its_file_has_no_column_for(
        database, tmp_path, monkeypatch, flush_rows, merge_rows):
    """Found by review: a correction from a template without the legal representative's id or
    暂扣或吊销证照名称及编号 (another province's, or the department's system that does not export
    them) stored the new version without them, and only a file note said so."""
    monkeypatch.setattr(service, "FLUSH_ROWS", flush_rows)
    monkeypatch.setattr(service, "MERGE_ROWS", merge_rows)
    monkeypatch.setattr(store, "COMPLETION_PAGE", merge_rows // 2)  # rows completed a page at a time
    headers, rows = sample_rows()
    first = {**rows[0], LICENCE: "食品经营许可证JY11301020012345", "备注": "首次报送"}
    stored = [first, *rows[1:6]]
    ingest(write_rows(tmp_path / "full.csv", headers, stored))

    narrow = [h for h in headers if h not in NARROW_DROPS]
    fixed = {**first, "违法事实": "经查，当事人存在不执行政府定价的行为（更正）", "备注": ""}  # 备注 cleared
    new = {**rows[7], DECISION_NO: "石家监督罚〔2026〕901号"}  # a decision not sent before
    sent = [fixed, *rows[1:6], new]
    report = ingest(write_rows(tmp_path / "narrow.csv", narrow, [{h: r[h] for h in narrow} for r in sent]))
    assert (report.accepted, report.corrected, report.unchanged, report.rejected) == (1, 1, 5, 0)

    before, after = _versions(database, first[DECISION_NO])
    assert after["violation_facts"] == fixed["违法事实"]
    assert "remarks" not in after  # an empty cell in a column the file has clears the value
    for key in ("legal_rep_id_type", "legal_rep_id_number", "licence_affected"):
        assert after[key] == before[key], key  # the file has no column for them: kept
    assert after["legal_rep_id_number"] == "1301**********9238"  # kept masked, as stored
    [created] = _versions(database, new[DECISION_NO])
    assert "legal_rep_id_number" not in created and "licence_affected" not in created  # a new record: empty

    # one note for the file, no warning per row (none of the kept values decides a class)
    assert [w.code for w in report.warnings] == ["file_note"]
    assert report.warnings[0].message.startswith(
        "文件没有这些列：“法定代表人证件类型”、“法定代表人证件号码”、“暂扣或吊销证照名称及编号”。"
        "没有某一列不等于清空该栏目：更正此前已报送的记录时，这些栏目沿用已登记记录的内容")

    # the version so completed is what both files say: each sent again changes nothing
    again = ingest(write_rows(tmp_path / "narrow.csv", narrow, [{h: r[h] for h in narrow} for r in sent]))
    assert (again.accepted, again.corrected, again.unchanged) == (0, 0, 7)
    full = ingest(write_rows(tmp_path / "full_again.csv", headers, [fixed, *rows[1:6]]))
    assert (full.accepted, full.corrected, full.unchanged) == (0, 0, 6)
    assert len(_versions(database, first[DECISION_NO])) == 2


def test_a_2016_correction_keeps_the_period_and_the_representatives_id_but_not_a_cleared_document(
        database, tmp_path):
    """The 2016 layout has no 处罚有效期 (a new record is open-ended, 长期), no legal
    representative's id and no 证件类型: a correction keeps the record's. Its 居民身份证号 column
    is there: empty, it clears the organisation's 证件号码, and the type goes with the number."""
    headers, rows = sample_rows()
    row = {**rows[0], "处罚有效期": "2025/08/13", "证件类型": "身份证", "证件号码": "130102200203109238"}
    ingest(write_rows(tmp_path / "current.csv", headers, [row]))
    old = in_2016_layout(row, 备注="已整改")
    report = ingest(write_rows(tmp_path / "old.csv", HEADERS_2016, [old]),
                    department_uscc=row["数据来源单位统一社会信用代码"])
    assert (report.layout, report.corrected, report.rejected) == ("2016", 1, 0)
    before, after = _versions(database, row[DECISION_NO])
    assert before["valid_until"] == after["valid_until"] == "2025-08-13"
    assert after["legal_rep_id_number"] == before["legal_rep_id_number"] == "1301**********9238"
    assert before["id_type"] == "身份证" and before["id_number"] == "1301**********9238"
    assert "id_number" not in after and "id_type" not in after
    assert after["remarks"] == "已整改" and after["fine_amount"] == before["fine_amount"]
    # a decision sent for the first time in the 2016 layout is open-ended, as before
    report = ingest(write_rows(tmp_path / "new.csv", HEADERS_2016, [{**old, DECISION_NO: "石家监督罚〔2026〕902号"}]),
                    department_uscc=row["数据来源单位统一社会信用代码"])
    assert report.accepted == 1
    [created] = _versions(database, "石家监督罚〔2026〕902号")
    assert created["valid_until"] == "2099-12-31"


def test_a_correction_of_the_party_keeps_nothing_of_the_former_party(database, tmp_path):
    """The department named the wrong company and sends the decision again for the right one, in
    a template without the legal representative's id: the former company's representative's id
    is not the right company's."""
    headers, rows = sample_rows()
    a, b = rows[0], rows[1]
    ingest(write_rows(tmp_path / "a.csv", headers, [a]))
    narrow = [h for h in headers if h not in NARROW_DROPS]
    right = {**b, **{k: a[k] for k in (DECISION_NO, "处罚机关", "处罚机关统一社会信用代码", "处罚决定日期")}}
    report = ingest(write_rows(tmp_path / "b.csv", narrow, [{h: right[h] for h in narrow}]))
    assert report.corrected == 1 and [w.code for w in report.warnings if w.code == "party_changed"] == ["party_changed"]
    before, after = _versions(database, a[DECISION_NO])
    assert before["legal_rep_id_number"] == "1301**********9238"
    assert after["legal_rep"] == b["法定代表人"]
    assert "legal_rep_id_number" not in after and "legal_rep_id_type" not in after
    assert after["fine_amount"] == b["罚款金额（万元）"]  # what the file has is the file's
