"""Collection of 双公示 files: outcomes a department would see in its report."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from filehelpers import DECISION_NO, FIXTURES, count, ingest, sample_rows, write_rows
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Department
from xinyong.core import clock, db, ids
from xinyong.core.errors import FileUnreadable, NotFound
from xinyong.core.ids import make_org_code, make_uscc
from xinyong.ingest import service
from xinyong.ingest.models import Batch
from xinyong.records import service as records_service
from xinyong.records.models import Record, RecordVersion
from xinyong.records.service import records_of_subject
from xinyong.subjects.models import Subject
from xinyong.subjects.service import describe, find_by_code

pytestmark = pytest.mark.usefixtures("database")


def test_valid_sample_file_is_stored_whole(database):
    report = ingest(FIXTURES / "penalties.csv")
    assert (report.rows_total, report.accepted, report.rejected) == (47, 47, 0)
    assert report.errors == []
    assert count(database, Record) == 47
    with database.connect() as conn:
        kinds = dict(conn.execute(select(Subject.kind, func.count()).group_by(Subject.kind)).all())
    # the sample README: 40 organisations, 5 natural persons, 2 individual businesses
    assert kinds == {"organisation": 40, "natural_person": 5, "individual_business": 2}


def test_gbk_crlf_copy_of_the_same_records_changes_nothing(database):
    ingest(FIXTURES / "penalties.csv")
    report = ingest(FIXTURES / "penalties_gbk.csv")
    assert report.encoding == "GBK"
    assert (report.accepted, report.corrected, report.unchanged, report.rejected) == (0, 0, 47, 0)
    assert count(database, RecordVersion) == 47


def test_sample_with_errors_rejects_five_rows_and_keeps_the_valid_one(database):
    report = ingest(FIXTURES / "penalties_with_errors.csv")
    assert (report.rows_total, report.accepted, report.rejected) == (6, 1, 5)
    by_line = {e.line: e for e in report.errors}
    assert sorted(by_line) == [2, 3, 4, 5, 6]
    assert by_line[2].field == "行政相对人代码_1(统一社会信用代码)"
    assert by_line[2].code == "uscc_checksum"
    assert by_line[3].field == "行政处罚决定书文号" and by_line[3].code == "missing_required"
    assert by_line[4].field == "处罚决定日期" and by_line[4].code == "invalid_date"
    assert "2024/13/40" in by_line[4].message
    assert by_line[5].field == "处罚类别" and "赔礼道歉" in by_line[5].message
    assert by_line[6].field == "罚款金额（万元）" and by_line[6].code == "not_a_number"
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in e.message) for e in report.errors)
    assert count(database, Record) == 1


def test_same_file_twice_changes_nothing(database):
    first = ingest(FIXTURES / "licences.csv", "licences")
    assert first.accepted == 50
    before = (count(database, Record), count(database, RecordVersion), count(database, Subject))
    second = ingest(FIXTURES / "licences.csv", "licences")
    assert (second.accepted, second.corrected, second.unchanged) == (0, 0, 50)
    assert (count(database, Record), count(database, RecordVersion), count(database, Subject)) == before
    assert second.departments_registered == []
    assert len(first.departments_registered) > 0


def test_correction_is_a_new_version_and_the_old_one_is_kept(database, tmp_path):
    headers, rows = sample_rows()
    ingest(write_rows(tmp_path / "v1.csv", headers, rows[:3]))
    rows[1]["处罚内容"] = "责令改正，罚款（更正后）"
    report = ingest(write_rows(tmp_path / "v2.csv", headers, rows[:3]))
    assert (report.accepted, report.corrected, report.unchanged) == (0, 1, 2)
    with database.connect() as conn:
        versions = conn.execute(
            select(RecordVersion.version, RecordVersion.data, RecordVersion.batch_id, RecordVersion.line)
            .join(Record, Record.id == RecordVersion.record_id)
            .where(Record.decision_no == rows[1]["行政处罚决定书文号"])
            .order_by(RecordVersion.version)
        ).all()
    assert [v.version for v in versions] == [1, 2]
    assert json.loads(versions[1].data)["penalty_content"] == "责令改正，罚款（更正后）"
    assert versions[0].batch_id != versions[1].batch_id and versions[1].line == 3


def test_an_online_correction_is_not_refused_for_a_code_the_platform_derived(database, tmp_path):
    """The organisation code stored with a record is taken from its USCC; an online correction
    wrote it back into the row it validates, and refused a fine changed on a record whose USCC
    holds no valid organisation code (found by probing)."""
    from xinyong.core.ids import InvalidCode, make_uscc, validate_org_code

    headers, rows = sample_rows()
    uscc = make_uscc("91130102MA0000801")
    with pytest.raises(InvalidCode):
        validate_org_code(uscc[8:17])
    ingest(write_rows(tmp_path / "v1.csv", headers, [dict(rows[0], **{
        "行政相对人代码_1(统一社会信用代码)": uscc, "行政相对人代码_3(组织机构代码)": ""})]))
    with db.transaction() as session:
        record_id = session.scalars(select(Record.id)).one()
        report = service.correct_record(session, record_id, changes={"fine_amount": "3"}, reason="金额更正",
                                        actor="officer", ip=None)
        assert (report.corrected, report.rejected) == (1, 0), report.errors
        assert records_service.current_values(session, session.get(Record, record_id))["fine_amount"] == "3"


def test_repeats_and_corrections_inside_one_file(database, tmp_path):
    headers, rows = sample_rows()
    changed = dict(rows[0], 处罚内容="责令改正并处罚款（第二次报送）")
    file_rows = [rows[0], rows[1], rows[0], changed, rows[1]]
    report = ingest(write_rows(tmp_path / "dups.csv", headers, file_rows))
    assert report.rows_total == 5
    assert (report.accepted, report.corrected, report.unchanged, report.rejected) == (2, 1, 2, 0)
    assert report.accepted + report.corrected + report.unchanged + report.rejected == report.rows_total
    assert count(database, RecordVersion) == 3


def test_a_decision_number_written_another_way_is_the_same_decision(database, tmp_path):
    """〔2024〕, [2024], 【2024】, full-width digits and stray spaces are one decision: a department
    that changes template or input method does not publish a second penalty, and a number written
    another way is no other content (it used to be a correction, and a file holding two spellings
    added versions each time it was sent)."""
    headers, rows = sample_rows()
    first = rows[0]
    number = first["行政处罚决定书文号"]
    assert "〔" in number and "〕" in number
    ingest(write_rows(tmp_path / "v1.csv", headers, [first, rows[1]]))
    spellings = [
        number.replace("〔", "[").replace("〕", "]"),
        number.replace("〔", "【").replace("〕", "】"),
        number.replace("〔", "（").replace("〕", "）").translate(str.maketrans("0123456789", "０１２３４５６７８９")),
        number.replace("〔", " 〔 ").replace("〕", "〕 "),
        number.replace("〕", "〕第00"),  # a template that pads the serial number (第001号)
    ]
    respelled = write_rows(tmp_path / "v2.csv", headers, [dict(first, 行政处罚决定书文号=s) for s in spellings])
    for _sending in range(2):
        report = ingest(respelled)
        assert (report.accepted, report.corrected, report.unchanged, report.rejected) == (0, 0, 5, 0)
        assert [(w.line, w.field, w.code) for w in report.warnings] == [
            (line, "行政处罚决定书文号", "decision_no_respelled") for line in (2, 3, 4, 5, 6)]
        assert f"与已登记的“{number}”是同一文号的不同写法" in report.warnings[0].message
        assert "内容相同，未作改动" in report.warnings[0].message
        assert f"与文件中前面一行的“{spellings[0]}”" in report.warnings[1].message
    assert count(database, Record) == 2 and count(database, RecordVersion) == 2
    # a change of content under another spelling corrects the record, which then shows that spelling
    changed = ingest(write_rows(tmp_path / "v3.csv", headers,
                                [dict(first, 行政处罚决定书文号=spellings[0], 处罚内容="罚款（更正）")]))
    assert (changed.corrected, [w.code for w in changed.warnings]) == (1, ["decision_no_respelled"])
    assert "本行作为该决定的更正保存" in changed.warnings[0].message
    with database.connect() as conn:
        record = conn.execute(select(Record).where(Record.decision_no == spellings[0])).one()
        versions = conn.scalars(select(RecordVersion.data).where(RecordVersion.record_id == record.id)
                                .order_by(RecordVersion.version)).all()
    assert [json.loads(d)["decision_no"] for d in versions] == [number, spellings[0]]
    # a real other number is another decision: another serial number, or digits other than the
    # serial number's padding
    others = ingest(write_rows(tmp_path / "v4.csv", headers, [
        dict(first, 行政处罚决定书文号=number.replace("号", "0号")),
        dict(first, 行政处罚决定书文号=number.replace("〕", "〕1")),
        dict(first, 行政处罚决定书文号=number.replace("〕", "〕2024-0"))]))
    assert others.accepted == 3 and count(database, Record) == 5


def test_a_file_that_writes_one_number_two_ways_changes_nothing_when_sent_again(database, tmp_path):
    headers, rows = sample_rows()
    number = rows[0]["行政处罚决定书文号"]
    twice = [rows[0], dict(rows[0], 行政处罚决定书文号=number.replace("〔", "[").replace("〕", "]"))]
    path = write_rows(tmp_path / "twice.csv", headers, twice)
    outcomes = [(r.accepted, r.corrected, r.unchanged) for r in (ingest(path), ingest(path), ingest(path))]
    assert outcomes == [(1, 0, 1), (0, 0, 2), (0, 0, 2)]
    assert count(database, RecordVersion) == 1


def test_a_row_that_replaces_a_row_above_it_says_so(database, tmp_path):
    """One licence decision, one company, two certificates on two rows: by the identity rule the
    second row corrects the first; the report says so instead of keeping silent."""
    headers, rows = sample_rows("licences.csv")
    second = dict(rows[0], 许可证书名称="医疗器械经营许可证", 许可编号="陕西食药监械经营许20250001号")
    path = write_rows(tmp_path / "two.csv", headers, [rows[0], second])
    report = ingest(path, "licences")
    assert (report.accepted, report.corrected) == (1, 1)
    assert [(w.line, w.code) for w in report.warnings] == [(3, "corrected_in_file")]
    assert "以本行为准" in report.warnings[0].message
    # the same file again ends where the record is: nothing changes (each send added two versions)
    for _sending in range(2):
        again = ingest(path, "licences")
        assert (again.accepted, again.corrected, again.unchanged) == (0, 0, 2)
    assert count(database, RecordVersion) == 2


def _penalties_of(code: str) -> list[str]:
    with db.transaction() as session:
        return sorted(r.decision_no for r in records_of_subject(session, find_by_code(session, code).id,
                                                                 clock.today()))


USCC_HEADER = "行政相对人代码_1(统一社会信用代码)"


def _parties(count: int) -> tuple[list[str], list[dict[str, str]]]:
    """``count`` sample rows of organisations, all under the first row's decision and authority."""
    headers, rows = sample_rows()
    first = rows[0]
    same = {k: first[k] for k in ("行政处罚决定书文号", "处罚机关", "处罚机关统一社会信用代码")}
    organisations = [r for r in rows if r[USCC_HEADER]]
    parties = [dict(r, **same) for r in organisations[:count]]
    assert len({p[USCC_HEADER] for p in parties}) == count
    return headers, parties


def test_each_party_of_one_decision_has_its_own_record(database, tmp_path):
    """共同违法: one decision names two companies, one row each. Each keeps its penalty; neither
    row corrects the other (it used to move the record to the second company)."""
    headers, (a, b) = _parties(2)
    number = a["行政处罚决定书文号"]
    report = ingest(write_rows(tmp_path / "joint.csv", headers, [a, b]))
    assert (report.accepted, report.corrected, report.rejected, report.warnings) == (2, 0, 0, [])
    assert _penalties_of(a[USCC_HEADER]) == [number] and _penalties_of(b[USCC_HEADER]) == [number]
    again = ingest(write_rows(tmp_path / "joint2.csv", headers, [b, dict(a, 处罚内容="罚款（更正）")]))
    assert (again.accepted, again.corrected, again.unchanged, again.warnings) == (0, 1, 1, [])
    assert count(database, Record) == 2 and count(database, RecordVersion) == 3


def test_a_number_sent_for_another_party_alone_corrects_the_party_and_says_so(database, tmp_path):
    headers, (a, b, c) = _parties(3)
    ingest(write_rows(tmp_path / "a.csv", headers, [a]))
    # the department typed the wrong company and sends the decision again with the right one
    report = ingest(write_rows(tmp_path / "b.csv", headers, [b]))
    assert (report.accepted, report.corrected) == (0, 1)
    # (the two companies' decision dates differ: the publication's end moves with it, and says so)
    assert [w.code for w in report.warnings] == ["party_changed", "publication_end_changed"]
    ((line, field, code, message),) = [(w.line, w.field, w.code, w.message) for w in report.warnings
                                       if w.code == "party_changed"]
    assert (line, field, code) == (2, "行政相对人名称", "party_changed")
    assert (f"原为“{a['行政相对人名称']}”（{a[USCC_HEADER]}），本行为“{b['行政相对人名称']}”"
            f"（{b[USCC_HEADER]}），按更正处理") in message
    assert _penalties_of(a[USCC_HEADER]) == [] and _penalties_of(b[USCC_HEADER]) == [a["行政处罚决定书文号"]]
    assert count(database, Record) == 1 and count(database, RecordVersion) == 2
    # with two parties stored, a third party alone is one more party, not a guess at which to correct
    ingest(write_rows(tmp_path / "ab.csv", headers, [a, b]))
    assert count(database, Record) == 2
    third = ingest(write_rows(tmp_path / "c.csv", headers, [c]))
    assert (third.accepted, third.corrected) == (1, 0)
    ((code, message),) = [(w.code, w.message) for w in third.warnings]
    assert code == "another_party" and "等 2 个不在本文件中" in message
    assert f"本行当事人“{c['行政相对人名称']}”（{c[USCC_HEADER]}）" in message
    assert all(_penalties_of(p[USCC_HEADER]) == [a["行政处罚决定书文号"]] for p in (a, b, c))


def test_two_namesakes_whose_masked_ids_look_alike_are_told_apart_in_the_message(database, tmp_path):
    headers, rows = sample_rows()
    person = next(r for r in rows if r["行政相对人类别"] == "自然人")
    first = dict(person, 行政相对人名称="张三", 证件号码="130102198503070312")
    second = dict(first, 证件号码="130102198504030312")
    ingest(write_rows(tmp_path / "a.csv", headers, [first]))
    report = ingest(write_rows(tmp_path / "b.csv", headers, [second]))
    (message,) = [w.message for w in report.warnings if w.code == "party_changed"]
    assert "原为“张三”（1301**********0312），本行为“张三”（1301**********0312）" in message
    assert "名称和遮盖后的号码相同，但证件号码不同" in message


def test_a_revoked_record_is_never_moved_to_another_party(database, tmp_path):
    from xinyong.records.service import revoke_record

    headers, (a, b) = _parties(2)
    ingest(write_rows(tmp_path / "a.csv", headers, [a]))
    with db.transaction() as session:
        record_id = session.scalars(select(Record.id)).one()
        revoke_record(session, record_id, reason="当事人填写错误", actor="admin", ip=None)
    report = ingest(write_rows(tmp_path / "b.csv", headers, [b]))
    assert (report.accepted, report.corrected, report.warnings) == (1, 0, [])
    with db.transaction() as session:
        revoked = session.get(Record, record_id)
        assert revoked.revoked_at is not None and revoked.current_version == 1
    assert _penalties_of(b[USCC_HEADER]) == [a["行政处罚决定书文号"]]


def test_a_correction_of_a_revoked_record_is_kept_and_says_the_record_stays_revoked(database, tmp_path):
    """Found by probing: a correction sent for a record the credit office had revoked was counted
    as corrected without a word, and the department could not tell it stayed unpublished."""
    from xinyong.records.service import revoke_record

    headers, rows = sample_rows()
    ingest(write_rows(tmp_path / "a.csv", headers, [rows[0]]))
    with db.transaction() as session:
        record_id = session.scalars(select(Record.id)).one()
        revoke_record(session, record_id, reason="决定已被复议撤销", actor="admin", ip=None)
    report = ingest(write_rows(tmp_path / "fix.csv", headers, [dict(rows[0], 处罚内容="责令改正（更正）")]))
    assert report.corrected == 1
    assert [(w.line, w.field, w.code) for w in report.warnings] == [(2, "行政处罚决定书文号", "record_revoked")]
    assert "仍为已撤销" in report.warnings[0].message
    with db.transaction() as session:
        record = session.get(Record, record_id)
        assert (record.revoked_at is not None, record.current_version) == (True, 2)
    again = ingest(write_rows(tmp_path / "fix.csv", headers, [dict(rows[0], 处罚内容="责令改正（更正）")]))
    assert (again.unchanged, again.warnings) == (1, []), "a re-send changes nothing and says nothing"


def test_parties_of_one_decision_far_apart_in_a_big_file_are_not_taken_for_a_correction(
        database, tmp_path, monkeypatch):
    """PostgreSQL merges a big file in steps: a party whose row comes in a later step than the
    stored party's unchanged row is still one more party (SQLite merges once: the same outcome)."""
    monkeypatch.setattr(service, "FLUSH_ROWS", 1)
    monkeypatch.setattr(service, "MERGE_ROWS", 2)
    headers, rows = sample_rows()
    _, (a, b) = _parties(2)
    ingest(write_rows(tmp_path / "a.csv", headers, [a]))
    between = [r for r in rows[5:10]]
    report = ingest(write_rows(tmp_path / "all.csv", headers, [a, *between, b]))
    assert (report.unchanged, report.corrected, report.accepted) == (1, 0, 1 + len(between))
    assert [w.code for w in report.warnings if w.code in ("party_changed", "another_party")] == []
    assert _penalties_of(a[USCC_HEADER]) == [a["行政处罚决定书文号"]]
    assert _penalties_of(b[USCC_HEADER]) == [a["行政处罚决定书文号"]]


@pytest.mark.parametrize(("flush_rows", "merge_rows"), [(1, 2), (5000, 20000)],
                         ids=["merged-every-two-rows", "merged-once"])
def test_outcome_does_not_depend_on_how_a_file_is_merged(database, tmp_path, monkeypatch, flush_rows, merge_rows):
    """On PostgreSQL a big file is merged in steps while its later rows are still being checked:
    repeats, corrections and a new name on either side of a step come out as in one step (SQLite
    merges once; the same outcome is expected there)."""
    monkeypatch.setattr(service, "FLUSH_ROWS", flush_rows)
    monkeypatch.setattr(service, "MERGE_ROWS", merge_rows)
    headers, rows = sample_rows()
    a, b = rows[0], rows[1]
    b_fixed = dict(b, 处罚内容="责令改正（第一次更正）")
    b_fixed_again = dict(b, 处罚内容="责令改正（第二次更正）")
    renamed = dict(a, **{"行政相对人名称": "石家庄市瑞丰新源科技有限公司",
                         "行政处罚决定书文号": "石家监督罚〔2025〕8号", "处罚决定日期": "2025/02/10"})
    renamed_later = dict(renamed, **{"行政处罚决定书文号": "石家监督罚〔2025〕9号"})
    file_rows = [a, b, a, b_fixed, renamed, renamed_later, b_fixed_again, b_fixed_again]
    report = ingest(write_rows(tmp_path / "steps.csv", headers, file_rows))
    assert (report.accepted, report.corrected, report.unchanged, report.rejected) == (4, 2, 2, 0)
    assert [(w.line, w.code) for w in report.warnings] == [
        (5, "corrected_in_file"), (6, "subject_renamed"), (8, "corrected_in_file")]
    with database.connect() as conn:
        versions = conn.execute(
            select(RecordVersion.version, RecordVersion.line)
            .join(Record, Record.id == RecordVersion.record_id)
            .where(Record.decision_no == b["行政处罚决定书文号"]).order_by(RecordVersion.version)
        ).all()
    assert [tuple(v) for v in versions] == [(1, 3), (2, 5), (3, 8)]
    with db.transaction() as session:
        subject = describe(session, find_by_code(session, a["行政相对人代码_1(统一社会信用代码)"]))
    assert subject.name == "石家庄市瑞丰新源科技有限公司"
    assert [n.name for n in subject.names] == [a["行政相对人名称"], "石家庄市瑞丰新源科技有限公司"]
    assert count(database, Subject) == 2
    assert len(report.departments_registered) == len({r["数据来源单位统一社会信用代码"] for r in (a, b)})


def test_file_that_breaks_after_some_merges_stores_nothing(database, tmp_path, monkeypatch):
    """Rows already merged when the file turns out unreadable are rolled back with the batch."""
    monkeypatch.setattr(service, "FLUSH_ROWS", 1)
    monkeypatch.setattr(service, "MERGE_ROWS", 2)
    headers, rows = sample_rows()
    broken = dict(rows[5], 违法事实="证" * (10 * 1024 * 1024 + 1))  # past the CSV reader's field limit
    path = write_rows(tmp_path / "broken.csv", headers, [*rows[:5], broken, *rows[6:8]])
    with pytest.raises(FileUnreadable, match="CSV 格式错误"):
        ingest(path)
    assert (count(database, Batch), count(database, Record), count(database, Subject)) == (0, 0, 0)
    assert not [t for t in threading.enumerate() if t.name == "ingest-prepare"]


def test_department_named_in_file_is_registered_once(database):
    report = ingest(FIXTURES / "penalties.csv")
    registered = {d.uscc: d.name for d in report.departments_registered}
    assert registered["11130102XBGQUWLD4Q"] == "石家庄市市场监督管理局"
    with database.connect() as conn:
        stored = conn.execute(select(Department.uscc, Department.area_code, Department.auto_registered)).all()
    assert len(stored) == len(registered)
    assert ("11130102XBGQUWLD4Q", "130102", True) in stored
    assert ingest(FIXTURES / "penalties_gbk.csv").departments_registered == []


def test_a_department_registered_under_a_name_another_code_has_is_warned(database, tmp_path):
    """Found by probing: README's example file registered 珠海市生态环境局 under its own code next
    to the demo's 珠海市生态环境局, without a word; files naming the authority without its code
    (the 2016 layout) were then refused as ambiguous. The registration is warned, naming both
    codes, on the row that registered it."""
    headers, rows = sample_rows()
    name = rows[1]["数据来源单位"]
    registered = ids.make_uscc(rows[1]["数据来源单位统一社会信用代码"][:8] + "003703094")
    with db.transaction() as session:
        accounts.register_department(session, uscc=registered, name=name)
    report = ingest(write_rows(tmp_path / "p.csv", headers, rows[:3]))
    code = rows[1]["数据来源单位统一社会信用代码"]
    assert (report.accepted, report.rejected) == (3, 0)
    assert {d.uscc for d in report.departments_registered} >= {code}
    assert [(w.line, w.field, w.message) for w in report.warnings if w.code == "department_namesake"] == [
        (3, "数据来源单位统一社会信用代码",
         f"数据来源单位“{name}”（{code}）尚未在平台登记，已按本文件登记为新部门；平台已登记同名的部门“{name}”"
         f"（{registered}）：若是同一部门，其中一个统一社会信用代码有误；"
         "按名称确定机关时（2016 年格式的文件没有机关的代码）将无法区分。"
         "请核对“数据来源单位统一社会信用代码”，如有误请联系信用办")]
    assert ingest(write_rows(tmp_path / "p.csv", headers, rows[:3])).warnings == []  # said once


def test_line_numbers_are_physical_lines_even_with_multiline_cells(tmp_path):
    headers, rows = sample_rows()
    rows[0]["违法事实"] = "经查，\n当事人存在违法行为。\n证据确凿。"
    rows[1]["处罚决定日期"] = "2024/02/30"
    report = ingest(write_rows(tmp_path / "multi.csv", headers, rows[:2]))
    assert report.accepted == 1
    assert [(e.line, e.field) for e in report.errors] == [(5, "处罚决定日期")]


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("处罚决定日期", "2026/11/22", "future_date"),
        ("处罚机关统一社会信用代码", "11130102XBGQUWLD4A", "uscc_checksum"),
        ("处罚类别", "罚款；赔礼道歉", "not_in_code_table"),
        ("罚款金额（万元）", "-3", "negative_amount"),
        ("行政相对人类别", "外国公司", "not_in_code_table"),
        ("违法事实", "", "missing_required"),
        ("处罚有效期", "2024/01/01", "date_order"),
        ("处罚决定日期", "二〇二四年二月三十日", "invalid_date"),
    ],
)
def test_each_bad_value_rejects_its_row_only(tmp_path, column, value, code):
    headers, rows = sample_rows()
    rows[0][column] = value
    report = ingest(write_rows(tmp_path / "bad.csv", headers, rows[:2]))
    assert (report.accepted, report.rejected) == (1, 1)
    assert [(e.line, e.field, e.code) for e in report.errors] == [(2, column, code)]


def test_an_impossible_check_character_of_an_organisation_code_is_a_wrong_character(tmp_path):
    """Found by probing: 12345678# was told “校验位错误：应为 8，实为 #”, and counted under 校验位错误
    in the 重错码 report. No code has # for its check character: it is a wrong character, as the
    same # is in a USCC or a resident id."""
    headers, rows = sample_rows()
    rows[0].update({"行政相对人代码_1(统一社会信用代码)": "", "行政相对人代码_3(组织机构代码)": "12345678#"})
    report = ingest(write_rows(tmp_path / "bad.csv", headers, rows[:2]))
    assert [(e.line, e.field, e.code, e.message) for e in report.errors] == [
        (2, "行政相对人代码_3(组织机构代码)", "org_code_charset",
         "“行政相对人代码_3(组织机构代码)”：组织机构代码第 9 位（校验位）“#”不是有效字符（只能是数字或 X）")]


def test_a_company_code_as_the_deciding_or_sending_body_rejects_the_row(database, tmp_path):
    """A penalty decided by a company, or sent by a social organisation, is a mistaken column
    (often the party's own code copied): rejected, and no such body registered as a department."""
    from xinyong.core import ids

    headers, rows = sample_rows()
    company = rows[0]["行政相对人代码_1(统一社会信用代码)"]
    association = ids.make_uscc("51130100MJ0000001")
    army_unit = ids.make_uscc("A1130100MA0000001")
    rows[0]["处罚机关统一社会信用代码"] = company
    rows[1]["数据来源单位统一社会信用代码"] = association
    rows[2]["处罚机关统一社会信用代码"] = army_unit  # 军队: may decide
    with database.connect() as conn:
        departments_before = conn.scalar(select(func.count()).select_from(Department))
    report = ingest(write_rows(tmp_path / "bodies.csv", headers, rows[:3]))
    assert (report.accepted, report.rejected) == (1, 2)
    assert [(e.line, e.field, e.code) for e in report.errors] == [
        (2, "处罚机关统一社会信用代码", "not_a_public_body"), (3, "数据来源单位统一社会信用代码", "not_a_public_body")]
    assert f"{company} 是工商部门登记的企业的代码，不是行政机关或法律法规授权组织的代码" in report.errors[0].message
    assert "是民政部门登记的社会团体的代码" in report.errors[1].message
    assert association not in [d.uscc for d in report.departments_registered]
    with database.connect() as conn:
        registered = set(conn.scalars(select(Department.uscc)))
    assert company not in registered and association not in registered
    assert len(registered) - departments_before == len(report.departments_registered)


@pytest.mark.parametrize(
    ("column", "written", "stored_key", "stored"),
    [
        ("处罚决定日期", "2024 年 8 月 13 日", "decision_date", "2024-08-13"),
        ("处罚决定日期", "2024-08-13T09:30:00+08:00", "decision_date", "2024-08-13"),
        ("处罚决定日期", "2024年08月13日 09:30", "decision_date", "2024-08-13"),  # a database's datetime
        ("处罚决定日期", "2024年8月13日 9时30分", "decision_date", "2024-08-13"),
        ("处罚决定日期", "２０２４／０８／１３", "decision_date", "2024-08-13"),
        ("处罚决定日期", "二〇二四年八月十三日", "decision_date", "2024-08-13"),  # as the decision prints it
        ("处罚决定日期", "二零二三年十二月三十一日", "decision_date", "2023-12-31"),
        ("处罚决定日期", "二○二四年八月十三日", "decision_date", "2024-08-13"),  # ○, a circle, typed for 〇
        ("处罚决定日期", "二0二四年八月十三日", "decision_date", "2024-08-13"),
        ("罚款金额（万元）", "3.5万元", "fine_amount", "3.5"),
        ("罚款金额（万元）", "1,200 万", "fine_amount", "1200"),
    ],
)
def test_values_as_departments_write_them_are_read_as_meant(database, tmp_path, column, written, stored_key,
                                                             stored):
    headers, rows = sample_rows()
    rows[0][column] = written
    report = ingest(write_rows(tmp_path / "forms.csv", headers, rows[:1]))
    assert (report.accepted, report.errors, report.warnings) == (1, [], [])
    with database.connect() as conn:
        data = json.loads(conn.execute(select(RecordVersion.data)).scalar_one())
    assert data[stored_key] == stored


def test_excel_serial_date_is_read_with_a_warning(database, tmp_path):
    """A date column saved from Excel as numbers: 45517 is 2024/08/13; a number that cannot be
    a date of 1970-2099 is still an error."""
    headers, rows = sample_rows()
    rows[0]["处罚决定日期"] = "45517"
    rows[1]["处罚决定日期"] = "99999"
    report = ingest(write_rows(tmp_path / "serial.csv", headers, rows[:2]))
    assert (report.accepted, report.rejected) == (1, 1)
    assert [(e.line, e.code) for e in report.errors] == [(3, "invalid_date")]
    assert [(w.line, w.field, w.code) for w in report.warnings] == [(2, "处罚决定日期", "excel_serial_date")]
    assert "2024/08/13" in report.warnings[0].message
    with database.connect() as conn:
        assert conn.execute(select(RecordVersion.decision_date)).scalar_one() == dt.date(2024, 8, 13)


@pytest.mark.parametrize(("epoch", "expected"), [
    (dt.datetime(1899, 12, 30), dt.date(2021, 4, 1)), (dt.datetime(1904, 1, 1), dt.date(2025, 4, 2))])
def test_a_date_serial_in_a_number_cell_follows_the_workbooks_date_system(database, tmp_path, epoch, expected):
    """Excel for Mac may count days from 1904: the same serial 44287 is 2021/04/01 in one
    workbook and 2025/04/02 in the other (it was read as 2021 in both)."""
    import openpyxl

    headers, rows = sample_rows()
    workbook = openpyxl.Workbook()
    workbook.epoch = epoch
    sheet = workbook.active
    sheet.append(headers)
    sheet.append([44287 if h == "处罚决定日期" else rows[0][h] for h in headers])
    workbook.save(tmp_path / "serial.xlsx")
    report = ingest(tmp_path / "serial.xlsx")
    assert report.accepted == 1 and [w.code for w in report.warnings] == ["excel_serial_date"]
    assert f"{expected:%Y/%m/%d}" in report.warnings[0].message
    assert ("1904 日期系统" in report.warnings[0].message) == (epoch.year == 1904)
    with database.connect() as conn:
        assert conn.execute(select(RecordVersion.decision_date)).scalar_one() == expected


def _stored(database, key):
    with database.connect() as conn:
        return [json.loads(d).get(key) for (d,) in conn.execute(
            select(RecordVersion.data).order_by(RecordVersion.line))]


def test_amount_with_its_unit_written_is_converted_with_a_warning(database, tmp_path):
    """5000元 in the 万元 column is 0.5 万元, said in a warning; a unit that is no amount is not
    guessed."""
    headers, rows = sample_rows()
    rows[0]["罚款金额（万元）"] = "5000元"
    rows[1]["罚款金额（万元）"] = "¥1,234.5元"
    rows[2]["罚款金额（万元）"] = "3 美元"
    rows[3]["罚款金额（万元）"] = "人民币叁仟元"
    report = ingest(write_rows(tmp_path / "yuan.csv", headers, rows[:4]))
    assert (report.accepted, report.rejected) == (2, 2)
    assert [(e.line, e.field, e.code) for e in report.errors] == [
        (4, "罚款金额（万元）", "not_a_number"), (5, "罚款金额（万元）", "not_a_number")]
    assert [(w.line, w.code) for w in report.warnings] == [(2, "amount_unit_converted"),
                                                          (3, "amount_unit_converted")]
    assert "0.5 万元" in report.warnings[0].message
    assert _stored(database, "fine_amount") == ["0.5", "0.12345"]


def test_amounts_that_could_be_read_as_another_number_are_refused(database, tmp_path):
    """Found by probing: 3,5 was stored as 35 (a decimal comma or a typo, no thousands grouping),
    Excel's 1.23457E+11 as 12,345,700 万元 (严重, its digits lost), and an error under 罚款金额（元）
    named a column 罚款金额（万元） the file does not have."""
    headers, rows = sample_rows()
    column = "罚款金额（元）"
    headers[headers.index("罚款金额（万元）")] = column
    amounts = ["3,5", "1.23457E+11", "1.5e+02", "人民币伍仟元整", "(5,000.00)", "12,345.60", "1,200"]
    for r, amount in zip(rows, amounts, strict=False):
        r[column] = amount
        del r["罚款金额（万元）"]
    report = ingest(write_rows(tmp_path / "amounts.csv", headers, rows[:len(amounts)]))
    assert (report.accepted, report.rejected) == (2, 5)
    assert [(e.line, e.field, e.code) for e in report.errors] == [
        (2, column, "not_a_number"), (3, column, "excel_number"), (4, column, "excel_number"),
        (5, column, "not_a_number"), (6, column, "negative_amount")]
    assert "逗号不是千位分隔符" in report.errors[0].message
    assert all(f"“{column}”" in e.message and "（万元）" not in e.message for e in report.errors)
    assert _stored(database, "fine_amount") == ["1.23456", "0.12"]


def test_an_amount_whose_penalty_kind_is_not_listed_is_warned(database, tmp_path):
    """A fine of 500 万元 under 处罚类别 “警告” (found by probing) was stored as 严重 without a word:
    the kinds or the amount are wrong, and the class rests on them."""
    headers, rows = sample_rows()
    rows[0].update({"处罚类别": "警告", "罚款金额（万元）": "500"})
    rows[1].update({"处罚类别": "罚款", "罚款金额（万元）": "2", "没收违法所得、没收非法财物的金额（万元）": "1"})
    report = ingest(write_rows(tmp_path / "kinds.csv", headers, rows[:2]))
    assert report.accepted == 2
    assert [(w.line, w.field, w.code) for w in report.warnings] == [
        (2, "罚款金额（万元）", "amount_without_kind"),
        (3, "没收违法所得、没收非法财物的金额（万元）", "amount_without_kind")]
    assert "处罚类别（警告）中没有“罚款”" in report.warnings[0].message
    assert "没有“没收违法所得”或“没收非法财物”" in report.warnings[1].message


def test_amount_column_in_yuan_is_converted_to_wan_yuan(database, tmp_path):
    """A file whose header says 罚款金额（元）: every amount is read in 元 and stored in 万元."""
    headers, rows = sample_rows()
    headers[headers.index("罚款金额（万元）")] = "罚款金额(元)"
    for r, amount in zip(rows, ["50000", "3.5万元", "800"], strict=False):
        del r["罚款金额（万元）"]
        r["罚款金额(元)"] = amount
    report = ingest(write_rows(tmp_path / "yuan_column.csv", headers, rows[:3]))
    assert (report.accepted, report.rejected) == (3, 0)
    notes = [w for w in report.warnings if w.code == "file_note"]
    assert len(notes) == 1 and "以元为单位" in notes[0].message
    assert [(w.line, w.field, w.code) for w in report.warnings if w.code != "file_note"] == [
        (3, "罚款金额(元)", "amount_unit_converted")]
    assert _stored(database, "fine_amount") == ["5", "3.5", "0.08"]


def test_cells_that_say_nothing_and_no_end_are_read_as_meant(database, tmp_path):
    """无, / and — in a typed column are empty (a required one is then missing, not malformed);
    长期 and 9999/12/31 in 处罚有效期 are open-ended; in a text column 无 is kept as written."""
    headers, rows = sample_rows()
    rows[0].update({"罚款金额（万元）": "无", "行政相对人代码_3(组织机构代码)": "—", "公示截止期": "/",
                    "处罚有效期": "长期", "备注": "无"})
    rows[1].update({"法定代表人证件号码": "／", "处罚有效期": "9999-12-31", "公示截止期": "0000-00-00 00:00:00"})
    rows[2]["处罚决定日期"] = "无"
    report = ingest(write_rows(tmp_path / "placeholders.csv", headers, rows[:3]))
    assert (report.accepted, report.rejected, report.warnings) == (2, 1, [])
    assert [(e.line, e.field, e.code) for e in report.errors] == [(4, "处罚决定日期", "missing_required")]
    with database.connect() as conn:
        first, second = [json.loads(d) for (d,) in conn.execute(
            select(RecordVersion.data).order_by(RecordVersion.line))]
    assert "fine_amount" not in first and "publication_end_declared" not in first
    assert "publication_end_declared" not in second  # a database's "no date" is no date
    assert first["remarks"] == "无"
    assert first["valid_until"] == second["valid_until"] == "2099-12-31"


def test_a_database_null_is_empty_in_every_column_text_too(database, tmp_path):
    """A database export writes NULL or \\N for a value that is not set: never stored as text
    (it would be published as 备注 “NULL”), and in a required text column it is missing. Typed
    full-width (ＮＵＬＬ, from an input method in full-width mode), it is the same."""
    headers, rows = sample_rows()
    rows[0].update({"备注": "ＮＵＬＬ", "法定代表人": "\\N", "罚款金额（万元）": "null", "公示截止期": "None"})
    rows[1]["违法事实"] = "NULL"
    rows[2].update({"备注": "NULL 值说明", "公示截止期": ""})  # the same columns filled, for comparison
    report = ingest(write_rows(tmp_path / "nulls.csv", headers, rows[:3]))
    assert (report.accepted, report.rejected) == (2, 1)
    assert [(e.line, e.field, e.code) for e in report.errors] == [(3, "违法事实", "missing_required")]
    nulls, filled = [json.loads(d) for d in _stored_data(database)]
    assert not {"remarks", "legal_rep", "fine_amount"} & nulls.keys()
    assert {"remarks", "legal_rep", "fine_amount"} <= filled.keys() and filled["remarks"] == "NULL 值说明"


def _stored_data(database):
    with database.connect() as conn:
        return [d for (d,) in conn.execute(select(RecordVersion.data).order_by(RecordVersion.line))]


def test_person_without_id_type_is_a_resident_when_the_number_is_a_valid_resident_id(database, tmp_path):
    headers, rows = sample_rows()
    people = [r for r in rows if r["行政相对人类别"] == "自然人"][:2]
    for r in people:
        r["证件类型"] = ""
    people[1]["证件号码"] = people[1]["证件号码"][:-1] + ("0" if people[1]["证件号码"][-1] != "0" else "1")
    report = ingest(write_rows(tmp_path / "people.csv", headers, people))
    assert (report.accepted, report.rejected) == (1, 1)
    assert [(w.line, w.field, w.code) for w in report.warnings] == [(2, "证件类型", "id_type_inferred")]
    assert [(e.line, e.code) for e in report.errors] == [(3, "missing_person_id")]
    with db.transaction() as session:
        assert find_by_code(session, people[0]["证件号码"]).kind == "natural_person"


def test_licence_valid_for_ever_is_open_ended(database, tmp_path):
    headers, rows = sample_rows("licences.csv")
    rows[0]["有效期至"] = "长期有效"
    report = ingest(write_rows(tmp_path / "lic.csv", headers, rows[:1]), "licences")
    assert (report.accepted, report.errors) == (1, [])
    assert _stored(database, "valid_to") == ["2099-12-31"]


def test_a_licence_that_expires_before_it_was_granted_is_rejected(database, tmp_path):
    """Found by probing: 有效期至 2019/03/26 on a licence granted 2024/03/26 (2029 mistyped) was
    stored and published. A licence effective before its decision (a change or re-issue keeping
    the certificate's period) is stored as sent."""
    headers, rows = sample_rows("licences.csv")
    headers = [h if h != "有效期至" else "有效期（止）" for h in headers]  # the column as the file names it
    rows = [{("有效期（止）" if k == "有效期至" else k): v for k, v in r.items()} for r in rows[:2]]
    rows[0].update({"许可决定日期": "2024/03/26", "有效期自": "2019/03/26", "有效期（止）": "2019/03/26"})
    rows[1].update({"许可决定日期": "2024/08/10", "有效期自": "2021/08/10", "有效期（止）": "2026/08/10"})
    report = ingest(write_rows(tmp_path / "lic.csv", headers, rows), "licences")
    assert (report.accepted, report.rejected) == (1, 1)
    assert [(e.line, e.field, e.code) for e in report.errors] == [(2, "有效期（止）", "date_order")]
    assert report.errors[0].message.startswith("“有效期（止）”早于“许可决定日期”")
    assert report.warnings == []
    assert _stored(database, "valid_from") == ["2021-08-10"]


def test_date_messages_name_the_columns_as_the_file_heads_them(database, tmp_path):
    """Found by probing: a file headed 有效期（起）/有效期（止） was told “有效期至”早于“有效期自” and
    “有效期至”2209/05/01 晚于 2099/12/31, columns it does not have (the field was right). Every
    date message names the column as written; a period in one column (许可有效期) names it once."""
    headers, rows = sample_rows("licences.csv")
    own = {"有效期自": "有效期（起）", "有效期至": "有效期（止）"}
    headers = [own.get(h, h) for h in headers]
    rows = [{own.get(k, k): v for k, v in r.items()} for r in rows[:4]]
    rows[0].update({"有效期（起）": "2024/04/01", "有效期（止）": "2023/12/31"})
    rows[1].update({"有效期（止）": "2209/05/01"})
    rows[2].update({"有效期（起）": "2024/13/01"})
    report = ingest(write_rows(tmp_path / "lic.csv", headers, rows), "licences")
    assert [(e.line, e.field, e.code, e.message) for e in report.errors] == [
        (2, "有效期（止）", "date_order", "“有效期（止）”早于“有效期（起）”"),
        (4, "有效期（起）", "invalid_date", "“有效期（起）”不是有效日期：2024/13/01（应为 YYYY/MM/DD，如 2024/08/13）")]
    assert [(w.line, w.field, w.code, w.message) for w in report.warnings] == [
        (3, "有效期（止）", "read_as_open_ended",
         "“有效期（止）”2209/05/01 晚于 2099/12/31，已按长期（无截止日期）保存：若是年份写错，请更正后重新报送")]

    headers, rows = sample_rows("licences.csv")
    headers = ["许可有效期" if h == "有效期自" else h for h in headers if h != "有效期至"]
    row = {k: v for k, v in rows[4].items() if k not in ("有效期自", "有效期至")}
    report = ingest(write_rows(tmp_path / "period.csv", headers, [dict(row, 许可有效期="2024/04/01至2023/12/31")]),
                    "licences")
    assert [(e.line, e.field, e.code, e.message) for e in report.errors] == [
        (2, "许可有效期", "date_order", "“许可有效期”的截止日期早于起始日期")]

    headers, rows = sample_rows()
    headers = ["处罚有效期至" if h == "处罚有效期" else h for h in headers]
    row = {("处罚有效期至" if k == "处罚有效期" else k): v for k, v in rows[0].items()}
    report = ingest(write_rows(tmp_path / "pen.csv", headers, [dict(row, 处罚有效期至="2024/01/01")]))
    assert [(e.field, e.code, e.message) for e in report.errors] == [
        ("处罚有效期至", "date_order", "“处罚有效期至”早于“处罚决定日期”")]


def test_licence_codes_as_database_exports_write_them(database, tmp_path):
    """A 前置库 export writes the code of 许可类别 (02 特许, 06 其他) and of 行政相对人类别 (1); a
    code typed into a spreadsheet's number cell has lost its leading zero (5 for 05 登记)."""
    headers, rows = sample_rows("licences.csv")
    rows[0]["许可类别"], rows[1]["许可类别"], rows[2]["许可类别"] = "02", "06", "5"
    rows[0]["行政相对人类别"] = "1"
    report = ingest(write_rows(tmp_path / "codes.csv", headers, rows[:3]), "licences")
    assert (report.accepted, report.errors) == (3, [])
    assert _stored(database, "licence_category") == ["特许", "其他", "登记"]
    assert _stored(database, "subject_category")[0] == "法人及非法人组织"


def test_penalty_kinds_as_departments_write_them(database, tmp_path):
    headers, rows = sample_rows()
    written = ["警告 罚款", "警告/罚款", "法律、行政法规规定的其他行政处罚", "罚款、法律、行政法规规定的其他行政处罚",
               "其它"]
    for r, kinds in zip(rows, written, strict=False):
        r["处罚类别"] = kinds
    report = ingest(write_rows(tmp_path / "kinds.csv", headers, rows[:5]))
    assert (report.accepted, report.errors) == (5, [])
    assert _stored(database, "penalty_kinds") == ["警告;罚款", "警告;罚款", "其他", "罚款;其他", "其他"]


@pytest.mark.parametrize(
    ("written", "shown", "advice"),
    [
        ("暂扣或者吊销许可证、暂扣或者吊销执照", "“暂扣或者吊销许可证”、“暂扣或者吊销执照”",
         "“暂扣许可证件”或“吊销许可证件”"),
        ("警告、责令改正", "“责令改正”", "第二十八条"),
    ],
)
def test_kinds_that_are_no_longer_or_never_were_penalties_are_rejected_with_advice(tmp_path, written, shown,
                                                                                  advice):
    headers, rows = sample_rows()
    rows[0]["处罚类别"] = written
    report = ingest(write_rows(tmp_path / "old_kinds.csv", headers, rows[:1]))
    assert report.rejected == 1
    (error,) = report.errors
    assert (error.field, error.code) == ("处罚类别", "not_in_code_table")
    assert shown in error.message and advice in error.message
    assert error.message.count("修订前") <= 1  # the same advice is not repeated


def test_several_penalty_kinds_with_any_separator(database, tmp_path):
    headers, rows = sample_rows()
    rows[0]["处罚类别"] = "警告；罚款"
    rows[1]["处罚类别"] = "没收违法所得、罚款"
    rows[2]["处罚类别"] = "罚款;吊销许可证"
    report = ingest(write_rows(tmp_path / "kinds.csv", headers, rows[:3]))
    assert report.rejected == 0
    with database.connect() as conn:
        kinds = [json.loads(d)["penalty_kinds"] for (d,) in conn.execute(
            select(RecordVersion.data).order_by(RecordVersion.line))]
    assert kinds == ["警告;罚款", "没收违法所得;罚款", "罚款;吊销许可证件"]


def test_letter_authority_uscc_is_accepted(tmp_path):
    from xinyong.core.ids import make_uscc

    headers, rows = sample_rows()
    rows[0]["行政相对人代码_1(统一社会信用代码)"] = make_uscc("N1130102MA0000001")
    report = ingest(write_rows(tmp_path / "n.csv", headers, rows[:1]))
    assert (report.accepted, report.rejected) == (1, 0)


def test_individual_business_code_under_the_organisation_category_is_an_individual_business(database, tmp_path):
    from xinyong.core.ids import make_uscc

    headers, rows = sample_rows()
    code = make_uscc("92130102MA0000001")
    rows[0]["行政相对人代码_1(统一社会信用代码)"] = code
    report = ingest(write_rows(tmp_path / "92.csv", headers, rows[:1]))
    assert (report.accepted, report.rejected) == (1, 0)
    assert [(w.field, w.code) for w in report.warnings] == [("行政相对人类别", "category_from_code")]
    with db.transaction() as session:
        assert find_by_code(session, code).kind == "individual_business"


def test_an_enterprise_code_under_the_individual_business_category_is_an_organisation(database, tmp_path):
    """A 个人独资企业 has a 91 code and is an enterprise, often declared 个体工商户: the code decides,
    as it does the other way round."""
    headers, rows = sample_rows()
    row = dict(rows[0], 行政相对人类别="个体工商户")
    report = ingest(write_rows(tmp_path / "91.csv", headers, [row]))
    assert (report.accepted, report.rejected) == (1, 0)
    assert [(w.field, w.code) for w in report.warnings] == [("行政相对人类别", "category_from_code")]
    assert "是工商部门登记的企业的代码，不是个体工商户的" in report.warnings[0].message
    with db.transaction() as session:
        assert find_by_code(session, row["行政相对人代码_1(统一社会信用代码)"]).kind == "organisation"


def test_subject_category_left_empty_is_told_from_the_codes(database, tmp_path):
    """行政相对人类别 follows from the codes: a USCC beginning 92 is an individual business's, the
    placeholder with a registration number too, any other USCC an organisation's, an id number alone a
    person's. Each such row is stored with a warning; a row whose codes tell nothing is rejected. A
    file without the column at all is read the same way, with one note instead of a warning a row."""
    headers, rows = sample_rows()
    categories = ("法人及非法人组织", "个体工商户", "自然人")
    by_category = {c: [r for r in rows if r["行政相对人类别"] == c] for c in categories}
    from xinyong.core.ids import make_uscc

    organisation = by_category["法人及非法人组织"][0]
    placeholder, business_92 = by_category["个体工商户"][:2]
    business_92 = dict(business_92, **{"行政相对人代码_1(统一社会信用代码)": make_uscc("92130102MA0000001"),
                                       "行政相对人代码_2(工商注册号)": "", "行政处罚决定书文号": "测试罚〔2024〕92号"})
    person = by_category["自然人"][0]
    nothing = dict(by_category["法人及非法人组织"][1], **{"行政相对人代码_1(统一社会信用代码)": ""})
    chosen = [organisation, business_92, placeholder, person, nothing]
    for r in chosen:
        r["行政相对人类别"] = ""
    report = ingest(write_rows(tmp_path / "no_category.csv", headers, chosen))
    assert (report.accepted, report.rejected) == (4, 1)
    assert [(w.line, w.code) for w in report.warnings if w.field == "行政相对人类别"] == [
        (line, "category_inferred") for line in (2, 3, 4, 5)]
    assert "按统一社会信用代码判断为“个体工商户”" in report.warnings[1].message
    assert [(e.line, e.field, e.code) for e in report.errors] == [(6, "行政相对人类别", "missing_required")]
    with db.transaction() as session:
        kinds = {r["行政相对人名称"]: find_by_code(session, code).kind for r, code in (
            (organisation, organisation["行政相对人代码_1(统一社会信用代码)"]),
            (business_92, business_92["行政相对人代码_1(统一社会信用代码)"]),
            (placeholder, placeholder["行政相对人代码_2(工商注册号)"]),
            (person, person["证件号码"]))}
    assert list(kinds.values()) == ["organisation", "individual_business", "individual_business", "natural_person"]

    headers.remove("行政相对人类别")
    for r in rows:
        r.pop("行政相对人类别")
    whole = ingest(write_rows(tmp_path / "no_column.csv", headers, rows))
    assert (whole.rejected, whole.unchanged, whole.accepted) == (0, 3, len(rows) - 3), whole.errors[:3]
    assert not [w for w in whole.warnings if w.code == "category_inferred"]
    assert any("没有“行政相对人类别”列" in w.message for w in whole.warnings if w.code == "file_note")
    again = ingest(FIXTURES / "penalties.csv")
    assert (again.unchanged, again.corrected) == (len(rows), 0), "every category must be the one the file gave"


def test_individual_business_placeholder_needs_registration_number(tmp_path):
    headers, rows = sample_rows()
    business = next(r for r in rows if r["行政相对人代码_1(统一社会信用代码)"] == "00000000000000000X")
    ok = dict(business)
    business = dict(business, **{"行政相对人代码_2(工商注册号)": "", "行政处罚决定书文号": "测试罚〔2024〕9号"})
    reg_no = ok["行政相对人代码_2(工商注册号)"]
    wrong = reg_no[:14] + str((int(reg_no[14]) + 1) % 10)
    mistyped = dict(business, **{"行政相对人代码_2(工商注册号)": wrong, "行政处罚决定书文号": "测试罚〔2024〕10号"})
    short = dict(business, **{"行政相对人代码_2(工商注册号)": reg_no[:14], "行政处罚决定书文号": "测试罚〔2024〕11号"})
    report = ingest(write_rows(tmp_path / "ib.csv", headers, [ok, business, mistyped, short]))
    assert report.accepted == 1
    # a number that was given but is wrong gets its own error only, not "须填写工商注册号" as well
    assert [(e.line, e.code) for e in report.errors] == [
        (3, "placeholder_needs_reg_no"), (4, "reg_no_checksum"), (5, "reg_no_length")]


def test_missing_required_column_makes_the_file_unreadable(database, tmp_path):
    headers, rows = sample_rows()
    headers.remove("处罚决定日期")
    for r in rows:
        del r["处罚决定日期"]
    with pytest.raises(FileUnreadable, match="处罚决定日期"):
        ingest(write_rows(tmp_path / "nocol.csv", headers, rows))
    assert count(database, Batch) == 0


def test_utf8_bom_and_crlf(tmp_path):
    headers, rows = sample_rows()
    report = ingest(write_rows(tmp_path / "bom.csv", headers, rows, encoding="utf-8-sig", newline="\r\n"))
    assert (report.encoding, report.accepted, report.rejected) == ("UTF-8 (BOM)", 47, 0)


def test_excel_unicode_text_export_utf16_tab_separated_with_a_title_line(tmp_path):
    """Excel's "Unicode 文本" export: UTF-16 with a BOM, tabs between cells, CRLF; here with a
    title line above the header that has no tab at all."""
    headers, rows = sample_rows()
    rows[1]["处罚决定日期"] = "2024/13/40"
    lines = ["2024年行政处罚信息", "\t".join(headers), *("\t".join(r[h] for h in headers) for r in rows[:3])]
    path = tmp_path / "unicode.txt"
    path.write_bytes("\r\n".join(lines).encode("utf-16"))
    report = ingest(path)
    assert (report.encoding, report.accepted, report.rejected) == ("UTF-16", 2, 1)
    assert [(e.line, e.field, e.code) for e in report.errors] == [(4, "处罚决定日期", "invalid_date")]


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_gbk_lines_pasted_into_a_utf8_file_are_rejected_row_by_row(database, tmp_path, bom):
    """Two exports in different encodings pasted together: read as GBK the whole file would be
    nonsense without a complaint (and after a BOM the reader used to crash). The UTF-8 rows are
    stored; each GBK row is rejected, saying why; a note gives the line where it starts."""
    headers, rows = sample_rows()
    utf8 = write_rows(tmp_path / "u.csv", headers, rows[:3]).read_bytes()
    gbk = write_rows(tmp_path / "g.csv", headers, rows[3:5], encoding="gbk").read_bytes()
    path = tmp_path / "pasted.csv"
    path.write_bytes(bom + utf8 + gbk.split(b"\n", 1)[1])  # the GBK rows are lines 5 and 6
    report = ingest(path)
    assert (report.encoding, report.accepted, report.rejected) == ("UTF-8 (BOM)" if bom else "UTF-8", 3, 2)
    assert [(e.line, e.code) for e in report.errors] == [(5, "invalid_bytes"), (6, "invalid_bytes")]
    (note,) = [w.message for w in report.warnings if w.code == "file_note"]
    assert "约从第 5 行起" in note
    assert sorted(_stored(database, "subject_name")) == sorted(r["行政相对人名称"] for r in rows[:3])


def test_gb18030_only_characters(tmp_path):
    headers, rows = sample_rows()
    rows[0]["行政相对人名称"] = "石家庄市𠀀记贸易有限公司"  # outside GBK, inside GB18030
    report = ingest(write_rows(tmp_path / "gb.csv", headers, rows[:2], encoding="gb18030"))
    assert report.encoding == "GB18030" and report.accepted == 2


def test_xlsx_gives_the_same_outcome_as_csv(database, tmp_path):
    import openpyxl

    headers, rows = sample_rows()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        cells: list[object] = list(r.values())
        cells[headers.index("处罚决定日期")] = dt.datetime.strptime(r["处罚决定日期"], "%Y/%m/%d")
        if r["罚款金额（万元）"]:
            cells[headers.index("罚款金额（万元）")] = float(r["罚款金额（万元）"])
        ws.append(cells)
    wb.save(tmp_path / "p.xlsx")
    report = ingest(tmp_path / "p.xlsx")
    assert (report.format, report.accepted, report.rejected) == ("xlsx", 47, 0)
    again = ingest(FIXTURES / "penalties.csv")
    assert again.unchanged == 47, "the spreadsheet's typed cells must normalise to the CSV's text"


def test_line_breaks_in_a_cell_are_the_same_text_whatever_file_brings_them(database, tmp_path):
    """Found by probing: a CSV whose quoted 违法事实 held Windows line breaks (CRLF), then the same
    records as a workbook (read with LF), then the CSV again: each re-send counted as a correction
    and stored a spurious version shown as 已更正. A lone CR (old Mac text) and JSON are alike."""
    import openpyxl

    headers, rows = sample_rows()
    rows = rows[:2]
    rows[0]["违法事实"] = "经查，当事人存在违法行为。\r\n证据确凿。\r\n"
    rows[1]["备注"] = "第一行\r第二行"
    csv_path = write_rows(tmp_path / "crlf.csv", headers, rows, newline="\r\n")
    assert b"\r\n\xe8\xaf\x81" in csv_path.read_bytes()  # the CRLF is inside the quoted cell
    wb = openpyxl.Workbook()
    wb.active.append(headers)
    for r in rows:
        wb.active.append([r[h].replace("\r\n", "\n").replace("\r", "\n") for h in headers])
    wb.save(tmp_path / "same.xlsx")
    json_path = tmp_path / "same.json"
    json_path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")

    first = ingest(csv_path)
    assert (first.accepted, first.rejected) == (2, 0), first.errors
    for path in (tmp_path / "same.xlsx", csv_path, json_path):
        again = ingest(path)
        assert (again.unchanged, again.corrected) == (2, 0), path.name
    assert count(database, RecordVersion) == 2
    assert _stored(database, "violation_facts")[0] == "经查，当事人存在违法行为。\n证据确凿。"
    assert _stored(database, "remarks")[1] == "第一行\n第二行"


def test_old_excel_xls_gives_the_same_outcome_as_csv(database, tmp_path):
    """An Excel 97–2003 workbook as departments still export it: a title row above the header,
    typed date and number cells, a second sheet. Line numbers are the sheet's rows."""
    import xlwt

    headers, rows = sample_rows()
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("行政处罚")
    ws.write_merge(0, 0, 0, 5, "2024年行政处罚信息报送表")
    for col, header in enumerate(headers):
        ws.write(1, col, header)
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    rows[3]["处罚决定日期"] = "2027/01/01"  # in the future: rejected, on the sheet's row 6
    for index, r in enumerate(rows, start=2):
        for col, header in enumerate(headers):
            text = r[header]
            if header == "处罚决定日期":
                ws.write(index, col, dt.datetime.strptime(text, "%Y/%m/%d"), date_style)
            elif header == "罚款金额（万元）" and text:
                ws.write(index, col, float(text))
            else:
                ws.write(index, col, text)
    wb.add_sheet("说明").write(0, 0, "填报说明")
    wb.save(str(tmp_path / "p.xls"))

    report = ingest(tmp_path / "p.xls")
    assert (report.format, report.accepted, report.rejected) == ("xls", 46, 1)
    assert [(e.line, e.field, e.code) for e in report.errors] == [(6, "处罚决定日期", "future_date")]
    assert any(w.code == "file_note" and "只读取“行政处罚”" in w.message for w in report.warnings)
    again = ingest(FIXTURES / "penalties.csv")
    assert (again.unchanged, again.rejected) == (46, 0), "typed cells must normalise to the CSV's text"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html><body><table><tr><td>\xe8\xa1\x8c</td></tr></table></body></html>", "网页"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "Excel 97–2003"),
    ],
)
def test_files_named_xls_that_are_no_workbook_are_unreadable_with_advice(tmp_path, content, message):
    path = tmp_path / "export.xls"
    path.write_bytes(content)
    with pytest.raises(FileUnreadable, match=message) as raised:
        ingest(path)
    assert "另存为 .xlsx 或 CSV" in str(raised.value)


def test_workbook_read_from_the_first_visible_sheet_with_a_header(database, tmp_path):
    """An explanation sheet in front and a hidden sheet are passed over, and the report says
    which sheet was read; a workbook where no sheet has a header is unreadable, and says so."""
    import openpyxl

    headers, rows = sample_rows()
    wb = openpyxl.Workbook()
    wb.active.title = "填报说明"
    wb.active.append(["本表按双公示标准填写"])
    hidden = wb.create_sheet("旧数据")
    hidden.append(headers)
    hidden.sheet_state = "hidden"
    data = wb.create_sheet("行政处罚")
    data.append(headers)
    for r in rows[:3]:
        data.append(list(r.values()))
    wb.save(tmp_path / "sheets.xlsx")
    report = ingest(tmp_path / "sheets.xlsx")
    assert (report.accepted, report.rejected) == (3, 0)
    (note,) = [w.message for w in report.warnings if w.code == "file_note"]
    assert "只读取“行政处罚”" in note and "“填报说明”没有双公示表头" in note

    del wb["行政处罚"]
    wb.save(tmp_path / "no_data.xlsx")
    with pytest.raises(FileUnreadable, match="没有哪个工作表有双公示格式的表头"):
        ingest(tmp_path / "no_data.xlsx")


def test_records_on_several_sheets_are_all_read_and_example_sheets_are_not(database, tmp_path):
    """Templates put 法人 and 自然人 records on sheets of their own, with columns of their own, and
    a filled-in example and the code lists on others. Every sheet of records is read (before, only
    the first, and the persons were dropped with a note); the example row and the code lists are
    not. Every row is shown under its sheet and its own row number, as staff find it in Excel: in
    the report, the messages, the rejected-rows download and a record's provenance."""
    import openpyxl
    from sqlalchemy.orm import Session


    headers, rows = sample_rows()
    organisations = [r for r in rows if r["行政相对人类别"] != "自然人"]
    persons = [r for r in rows if r["行政相对人类别"] == "自然人"]
    assert len(persons) == 5
    wb = openpyxl.Workbook()
    example = wb.active
    example.title = "填写示例"
    example.append(headers)
    example.append([f"示例{v}" if h == "行政处罚决定书文号" else v for h, v in organisations[0].items()])
    sheet = wb.create_sheet("法人")
    sheet.append(["2024年行政处罚信息（法人）"])
    sheet.append(headers)
    for r in organisations:
        sheet.append(list(r.values()))
    # the persons' sheet: no organisation codes, its own column order, a column of its own
    person_headers = ["序号", *[h for h in reversed(headers) if not h.startswith("行政相对人代码")]]
    sheet = wb.create_sheet("自然人")
    sheet.append(person_headers)
    for n, r in enumerate(persons, 1):
        sheet.append([n, *[r[h] for h in person_headers[1:]]])
    sheet.cell(row=4, column=person_headers.index("处罚决定日期") + 1, value="2024/02/30")
    sheet.append([])
    sheet.append(["", "填报人：张三", "联系电话：0755-12345678"])
    codes = wb.create_sheet("代码表")
    codes.append(["行政相对人类别", "证件类型", "处罚类别"])
    codes.append(["法人及非法人组织", "身份证", "警告"])
    wb.save(tmp_path / "sheets.xlsx")

    report = ingest(tmp_path / "sheets.xlsx")
    assert (report.rows_total, report.accepted, report.rejected) == (47, 46, 1)
    (error,) = report.errors
    # row 4 of the persons' sheet, where Excel shows it (not the rows of 法人 plus 4)
    assert (error.sheet, error.line, error.field, error.code) == ("自然人", 4, "处罚决定日期", "invalid_date")
    assert [(s.name, s.rows_before) for s in report.sheets] == [("法人", 0), ("自然人", 2 + len(organisations))]
    footer = next(w for w in report.warnings if w.code == "footer_skipped")
    assert (footer.sheet, footer.line) == ("自然人", 8)
    assert footer.message.startswith("工作表“自然人”第 8 行是表尾")
    notes = [w.message for w in report.warnings if w.code == "file_note"]
    assert any("读取了有数据的“法人”、“自然人”" in n and "“填写示例”、“代码表”是示例、说明或代码表" in n
               for n in notes), notes
    assert any(w.code == "unknown_column" and w.field == "序号" for w in report.warnings)
    assert not any(str(d).startswith("示例") for d in _stored(database, "decision_no"))
    # the full report (API, --report) and the stored batch's report say the same
    full = json.loads("".join(service.report_chunks(report)))
    assert {k: full["errors"][0][k] for k in ("sheet", "line", "code")} == {
        "sheet": "自然人", "line": 4, "code": "invalid_date"}
    assert full["sheets"][1] == {"name": "自然人", "rows_before": 2 + len(organisations)}
    with Session(database) as session:
        stored = service.batch_report(session, service.get_batch(session, report.batch_id))
        assert (stored.errors[0].sheet, stored.errors[0].line) == ("自然人", 4)
        # a person's record comes from row 2 of the persons' sheet, and says so
        subject = find_by_code(session, persons[0]["证件号码"])
        (record,) = records_of_subject(session, subject.id, dt.date(2026, 11, 21))
        provenance = record.versions[-1].provenance
        assert (provenance.sheet, provenance.line, provenance.where) == ("自然人", 2, "工作表“自然人”第 2 行")
        # an organisation's record, from the first sheet, also names its sheet
        subject = find_by_code(session, organisations[0]["行政相对人代码_1(统一社会信用代码)"])
        records = records_of_subject(session, subject.id, dt.date(2026, 11, 21))
        first = next(r for r in records if r.decision_no == organisations[0]["行政处罚决定书文号"])
        assert (first.versions[-1].provenance.sheet, first.versions[-1].provenance.line) == ("法人", 3)
    with db.transaction() as session:
        ((_, rejected),) = service.rejected_rows(session, report.batch_id)
    bad = persons[2]
    assert rejected["证件号码"] == bad["证件号码"] and rejected["处罚决定日期"] == "2024/02/30"
    # the rejected-rows download has the persons' sheet's own column too, and the sheet
    head, row = list(service.rejected_table(report.batch_id))
    assert "序号" in head and row[head.index("序号")] == "3"
    assert head[-5:-3] == ["工作表", "行号"] and row[-5:-3] == ["自然人", "4"]
    # every column of both sheets landed where the one-sheet CSV puts it
    bad_line = next(n for n, r in enumerate(rows, 2) if r is bad)
    again = ingest(write_rows(tmp_path / "same.csv", headers, [r for r in rows if r is not bad]))
    assert (again.unchanged, again.accepted, again.corrected) == (46, 0, 0), bad_line
    # a one-sheet file names no sheet anywhere
    assert again.sheets == []
    assert not any("sheet" in i for i in json.loads("".join(service.report_chunks(again)))["warnings"])


@pytest.mark.parametrize("suffix", ["xlsx", "xls"])
def test_cells_merged_down_several_rows_count_for_every_row(database, tmp_path, suffix):
    """Staff merge a column's cells when rows share a value (the same 处罚机关): a spreadsheet shows
    the value in every row, and every row gets it; the report says so."""
    headers, rows = sample_rows()
    same = [r for r in rows if r["处罚机关统一社会信用代码"] == rows[0]["处罚机关统一社会信用代码"]][:2]
    assert len(same) == 2
    same.append(next(r for r in rows if r["处罚机关统一社会信用代码"] != same[0]["处罚机关统一社会信用代码"]))
    merged_columns = [headers.index(h) for h in ("处罚机关", "处罚机关统一社会信用代码")]
    path = tmp_path / f"merged.{suffix}"
    if suffix == "xlsx":
        import openpyxl
        from openpyxl.utils import get_column_letter

        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(headers)
        for r in same:
            ws.append(list(r.values()))
        for column in merged_columns:
            letter = get_column_letter(column + 1)
            ws[f"{letter}3"] = None
            ws.merge_cells(f"{letter}2:{letter}3")
        wb.save(path)
    else:
        import xlwt

        book = xlwt.Workbook(encoding="utf-8")
        sheet = book.add_sheet("行政处罚")
        for col, header in enumerate(headers):
            sheet.write(0, col, header)
        for row, r in enumerate(same, start=1):
            for col, header in enumerate(headers):
                if col in merged_columns and row <= 2:
                    if row == 1:
                        sheet.write_merge(1, 2, col, col, r[header])
                    continue
                sheet.write(row, col, r[header])
        book.save(str(path))
    report = ingest(path)
    assert (report.accepted, report.rejected) == (3, 0), report.errors
    assert any(w.code == "file_note" and "2 处跨行合并" in w.message for w in report.warnings)
    assert _stored(database, "authority_uscc") == [r["处罚机关统一社会信用代码"] for r in same]


@pytest.mark.parametrize("suffix", ["xlsx", "xls"])
def test_hidden_rows_are_read_and_the_report_names_them(database, tmp_path, suffix):
    """A filter left on, or rows hidden by hand: the sender did not see them when sending, yet
    they are records. They are stored like the others and the report names them (an empty hidden
    row is not named)."""
    headers, rows = sample_rows()
    rows = rows[:6]

    def workbook(name: str, hidden: tuple[int, ...]) -> Path:
        """The rows on one sheet under the header (row 1), the given sheet rows hidden."""
        path = tmp_path / f"{name}.{suffix}"
        if suffix == "xlsx":
            import openpyxl

            wb = openpyxl.Workbook()
            for r in [headers, *(list(r.values()) for r in rows)]:
                wb.active.append(r)
            for row in hidden:
                wb.active.row_dimensions[row].hidden = True
            wb.save(path)
            return path
        import xlwt

        book = xlwt.Workbook(encoding="utf-8")
        sheet = book.add_sheet("行政处罚")
        for n, r in enumerate([headers, *(list(r.values()) for r in rows)]):
            for column, value in enumerate(r):
                sheet.write(n, column, value)
        for row in hidden:
            sheet.row(row - 1).hidden = True
        book.save(str(path))
        return path

    report = ingest(workbook("hidden", (3, 4, 6, 8)))  # row 8 is empty
    assert (report.accepted, report.rejected) == (6, 0), report.errors
    (note,) = [w.message for w in report.warnings if w.code == "file_note" and "隐藏" in w.message]
    assert "3 行是隐藏的" in note and "第 3–4、6 行" in note
    # a sheet with nothing hidden says nothing of it
    again = ingest(workbook("shown", ()))
    assert again.unchanged == 6 and not any("隐藏" in w.message for w in again.warnings)


@pytest.mark.parametrize("suffix", ["xlsx", "xls"])
def test_hidden_columns_that_are_read_are_named(database, tmp_path, suffix):
    """Found by probing: a 备注 column of internal notes hidden before sending was stored in the
    public record without a word, where hidden rows get a note. A hidden column read with
    something in it is named (its header and letter); an empty one, or one outside the catalogue
    (not read), is not."""
    from openpyxl.utils import get_column_letter

    headers, rows = sample_rows()
    with_extra = [*headers, "内部编号"]
    sent = [dict(r, 备注="内部：经办人李四，拟不公开", 内部编号="N-1") for r in rows[:3]]
    hidden = [with_extra.index(h) for h in ("备注", "内部编号", "暂扣或吊销证照名称及编号")]  # 0-based
    path = tmp_path / f"hidden_columns.{suffix}"
    if suffix == "xlsx":
        import openpyxl

        wb = openpyxl.Workbook()
        for r in [with_extra, *([r[h] for h in with_extra] for r in sent)]:
            wb.active.append(r)
        for column in hidden:
            wb.active.column_dimensions[get_column_letter(column + 1)].hidden = True
        wb.save(path)
    else:
        import xlwt

        book = xlwt.Workbook(encoding="utf-8")
        sheet = book.add_sheet("行政处罚")
        for n, r in enumerate([with_extra, *([r[h] for h in with_extra] for r in sent)]):
            for column, value in enumerate(r):
                sheet.write(n, column, value)
        for column in hidden:
            sheet.col(column).hidden = True
        book.save(str(path))
    report = ingest(path)
    assert (report.accepted, report.rejected) == (3, 0), report.errors
    (note,) = [w.message for w in report.warnings if w.code == "file_note" and "隐藏" in w.message]
    assert "1 列是隐藏的" in note and f"“备注”（{get_column_letter(hidden[0] + 1)} 列）" in note
    assert "内部编号" not in note and "暂扣" not in note
    assert _stored(database, "remarks") == ["内部：经办人李四，拟不公开"] * 3, "read all the same"


def test_a_hidden_sheet_is_named_and_one_holding_records_said_so(database, tmp_path):
    """Found by probing: the note said only 工作簿有 2 个工作表，只读取“法人”, and the records on
    the hidden sheet 自然人 were dropped unnamed. A hidden sheet is still not read, but named, and
    one with a header of records and rows under it is said to look like records; a hidden code
    list is named without that."""
    import openpyxl

    headers, rows = sample_rows()
    wb = openpyxl.Workbook()
    wb.active.title = "法人"
    wb.active.append(headers)
    for r in rows[:3]:
        wb.active.append(list(r.values()))
    persons = wb.create_sheet("自然人")
    persons.append(headers)
    for r in rows[3:5]:
        persons.append(list(r.values()))
    persons.sheet_state = "hidden"
    codes = wb.create_sheet("下拉选项")
    codes.append(["行政相对人类别", "证件类型", "处罚类别"])
    codes.append(["法人及非法人组织", "身份证", "警告"])
    codes.sheet_state = "hidden"
    wb.save(tmp_path / "hidden_sheets.xlsx")
    report = ingest(tmp_path / "hidden_sheets.xlsx")
    assert (report.accepted, report.rejected) == (3, 0)
    (note,) = [w.message for w in report.warnings if w.code == "file_note" and "工作表" in w.message]
    assert "只读取“法人”" in note and "隐藏的工作表“自然人”、“下拉选项”未读取" in note
    assert "其中“自然人”有双公示表头和数据行，看来是记录" in note and "取消隐藏" in note


def test_xlsx_declaring_a_smaller_sheet_than_it_holds_is_read_whole(database, tmp_path):
    """Some generators write a wrong <dimension> (A1:A1, or the size of an older sheet); every row
    and column the sheet holds is read all the same."""
    import re
    import zipfile

    import openpyxl

    headers, rows = sample_rows()
    wb = openpyxl.Workbook()
    wb.active.append(headers)
    for r in rows[:10]:
        wb.active.append(list(r.values()))
    wb.save(tmp_path / "full.xlsx")
    with zipfile.ZipFile(tmp_path / "full.xlsx") as src, zipfile.ZipFile(tmp_path / "dim.xlsx", "w") as dst:
        for entry in src.infolist():
            data = src.read(entry.filename)
            if entry.filename == "xl/worksheets/sheet1.xml":
                data, n = re.subn(rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="A1:E3"/>', data)
                assert n == 1
            dst.writestr(entry, data)
    report = ingest(tmp_path / "dim.xlsx")
    assert (report.rows_total, report.accepted, report.rejected) == (10, 10, 0)


def test_id_numbers_excel_stored_as_numbers_are_rejected_as_such(database, tmp_path):
    """The classic spreadsheet accident: an 18-digit id typed into a number cell keeps only 15
    significant digits. The row is rejected with a message that says so, in CSV and in XLSX."""
    import openpyxl

    headers, rows = sample_rows()
    person = next(i for i, r in enumerate(rows) if r["行政相对人类别"] == "自然人")
    number = rows[person]["证件号码"]
    picked = [rows[0], rows[person]]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers)
    ws.append(list(picked[0].values()))
    cells: list[object] = list(picked[1].values())
    cells[headers.index("证件号码")] = float(number)  # what Excel keeps: 15 significant digits
    ws.append(cells)
    wb.save(tmp_path / "ids.xlsx")
    picked[1] = {**picked[1], "证件号码": f"{float(number):.6G}"}  # as a CSV export shows it
    for path in (tmp_path / "ids.xlsx", write_rows(tmp_path / "ids.csv", headers, picked)):
        report = ingest(path)
        assert (report.accepted + report.unchanged, report.rejected) == (1, 1), path.name
        assert [(e.line, e.field, e.code) for e in report.errors] == [(3, "证件号码", "excel_number")]
        assert "文本格式" in report.errors[0].message and number not in report.errors[0].message


@pytest.mark.parametrize("number_format", ["General", "0" * 19])
def test_a_long_number_excel_kept_as_a_number_in_a_text_column_is_rejected_as_such(database, tmp_path, number_format):
    """许可编号 1301021234567890123 typed into a number cell was stored and published as
    1.30102123456789E+18 (exit 0); like an id, it is refused saying why — also under a format of
    19 zeros, which shows the digits kept (1301021234567890000), not the number typed."""
    import openpyxl

    headers, rows = sample_rows("licences.csv")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers)
    ws.append([rows[0][h] for h in headers])
    cells: list[object] = [rows[1][h] for h in headers]
    cells[headers.index("许可编号")] = 1301021234567890123
    ws.append(cells)
    ws.cell(3, headers.index("许可编号") + 1).number_format = number_format
    wb.save(tmp_path / "numbers.xlsx")
    report = ingest(tmp_path / "numbers.xlsx", "licences")
    assert (report.accepted, report.rejected) == (1, 1)
    assert [(e.line, e.field, e.code) for e in report.errors] == [(3, "许可编号", "excel_number")]
    assert "后几位已经丢失" in report.errors[0].message


def test_fake_xlsx_is_unreadable(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_text("行政相对人名称,行政相对人类别\n", encoding="utf-8")
    with pytest.raises(FileUnreadable, match="不是 Excel"):
        ingest(path)


def test_json_lines(tmp_path):
    _, rows = sample_rows("licences.csv")
    path = tmp_path / "l.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in rows[:3]]
    lines.insert(2, "{broken json")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = ingest(path, "licences")
    assert (report.format, report.accepted, report.rejected) == ("jsonl", 3, 1)
    assert [(e.line, e.code) for e in report.errors] == [(3, "invalid_json")]


def test_json_lines_keys_may_differ_from_line_to_line(database, tmp_path):
    """Serialisers leave out empty keys: a key first met on a later line is read there (not
    dropped), a required key missing on one line rejects that line only, and an unknown key met
    late is reported on the line that brings it."""
    _, rows = sample_rows()
    records = [{k: v for k, v in r.items() if v} for r in rows[:4]]
    records[0].pop("罚款金额（万元）", None)
    records[0].pop("备注", None)
    records[1]["备注"] = "当场缴纳"
    records[1]["罚款金额（万元）"] = "7.5"
    del records[2]["违法事实"]
    records[3]["内部编号"] = "A-17"
    path = tmp_path / "varying.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    report = ingest(path)
    assert (report.accepted, report.rejected) == (3, 1)
    assert [(e.line, e.field, e.code) for e in report.errors] == [(3, "违法事实", "missing_required")]
    assert [(w.line, w.field, w.code) for w in report.warnings] == [(4, "内部编号", "unknown_column")]
    stored = dict(zip(_stored(database, "decision_no"), _stored(database, "remarks"), strict=True))
    assert stored[records[1]["行政处罚决定书文号"]] == "当场缴纳"
    fines = dict(zip(_stored(database, "decision_no"), _stored(database, "fine_amount"), strict=True))
    assert fines[records[1]["行政处罚决定书文号"]] == "7.5"


def test_a_status_digit_in_a_current_layout_penalty_file_is_refused_not_guessed(database, tmp_path):
    """当前状态 1 is 撤销 in the 2016 penalty coding and 有效 in the current licence coding that the
    same department system writes; read the 2016 way it hid every penalty of such a file (the
    probe's system), so a current-layout file must say it in words."""
    headers, rows = sample_rows()
    with_status = [*headers, "当前状态"]
    digit, word, revoked = (dict(rows[0], 当前状态="1"), dict(rows[1], 当前状态="正常"),
                            dict(rows[2], 当前状态="撤销"))
    report = ingest(write_rows(tmp_path / "status.csv", with_status, [digit, word, revoked]))
    assert (report.accepted, report.rejected) == (2, 1)
    assert [(e.line, e.field, e.code) for e in report.errors] == [(2, "当前状态", "code_ambiguous")]
    assert "含义不明确" in report.errors[0].message and "请填写文字" in report.errors[0].message
    with database.connect() as conn:
        published = dict(conn.execute(
            select(Record.decision_no, RecordVersion.published)
            .join(RecordVersion, RecordVersion.record_id == Record.id)).all())
    assert published == {word[DECISION_NO]: True, revoked[DECISION_NO]: False}


def test_layout_2016_with_department_given(database, tmp_path):
    ingest(FIXTURES / "penalties.csv")  # registers the departments
    _, rows = sample_rows()
    r = rows[0]
    headers = ["行政处罚决定书文号", "处罚名称", "处罚类别1", "处罚类别2", "处罚事由", "处罚依据",
               "行政相对人名称", "行政相对人代码_1(统一社会信用代码)", "行政相对人代码_2(组织机构代码)",
               "行政相对人代码_3(工商登记码)", "行政相对人代码_4(税务登记号)",
               "行政相对人代码_5(居民身份证号)", "法定代表人姓名", "处罚结果", "处罚决定日期", "处罚机关",
               "当前状态", "地方编码", "数据更新时间戳", "备注"]
    row = dict.fromkeys(headers, "")
    row.update({
        "行政处罚决定书文号": "石家监督罚〔2016〕8号", "处罚名称": "不执行政府定价", "处罚类别1": "罚款",
        "处罚类别2": "警告", "处罚事由": r["违法事实"], "处罚依据": r["处罚依据"],
        "行政相对人名称": r["行政相对人名称"],
        "行政相对人代码_1(统一社会信用代码)": r["行政相对人代码_1(统一社会信用代码)"],
        "法定代表人姓名": r["法定代表人"], "处罚结果": "罚款 1 万元", "处罚决定日期": "2024/08/20",
        "处罚机关": r["处罚机关"], "当前状态": "0", "地方编码": "130102",
        "数据更新时间戳": "2024/08/21 10:00:00",
    })
    revoked = dict(row, **{"行政处罚决定书文号": "石家监督罚〔2016〕9号", "当前状态": "1"})
    path = write_rows(tmp_path / "old.csv", headers, [row, revoked])
    with pytest.raises(FileUnreadable, match="--department"):
        ingest(path)
    report = ingest(path, department_uscc=r["数据来源单位统一社会信用代码"])
    assert (report.layout, report.accepted, report.rejected) == ("2016", 2, 0), report.errors
    assert [(w.line, w.field, w.code) for w in report.warnings if w.code != "file_note"] == [
        (3, "当前状态", "revoked_in_file")]
    with database.connect() as conn:
        stored = dict(conn.execute(
            select(Record.decision_no, Record.authority_uscc).where(Record.decision_no.like("石家监督罚〔2016〕%"))
        ).all())
        published = dict(conn.execute(
            select(Record.decision_no, RecordVersion.published)
            .join(RecordVersion, RecordVersion.record_id == Record.id)
            .where(Record.decision_no.like("石家监督罚〔2016〕%"))
        ).all())
    assert set(stored.values()) == {r["处罚机关统一社会信用代码"]}
    # a decision the file says was revoked (撤销) is kept but never shown to the public
    assert published == {"石家监督罚〔2016〕8号": True, "石家监督罚〔2016〕9号": False}
    # and is shown as revoked (已撤销), not as merely unpublished
    with db.transaction() as session:
        subject = find_by_code(session, r["行政相对人代码_1(统一社会信用代码)"])
        shown = {o.decision_no: o.versions[-1].status_label
                 for o in records_of_subject(session, subject.id, dt.date(2026, 11, 20))}
    assert (shown["石家监督罚〔2016〕8号"], shown["石家监督罚〔2016〕9号"]) == ("公示中", "已撤销")

    # an online correction of a 2016 record changes what the officer changed and keeps the rest,
    # its 2016 columns too (地方编码 and 数据更新时间戳 were dropped, found by probing)
    with database.connect() as conn:
        ids_by_no = dict(conn.execute(select(Record.decision_no, Record.id)
                                      .where(Record.decision_no.like("石家监督罚〔2016〕%"))).all())
    for number, record_id in ids_by_no.items():
        with db.transaction() as session:
            before = records_service.current_values(session, session.get(Record, record_id))
            corrected = service.correct_record(session, record_id, changes={"remarks": "经复核更正"},
                                               reason="补充备注", actor="officer", ip=None)
            assert (corrected.corrected, corrected.rejected) == (1, 0), corrected.errors
            after = records_service.current_values(session, session.get(Record, record_id))
        assert after == {**before, "remarks": "经复核更正"}, number
        assert (after["area_code"], after["source_updated_at"]) == ("130102", "2024/08/21 10:00:00")
    with database.connect() as conn:
        published = dict(conn.execute(
            select(Record.decision_no, RecordVersion.published)
            .join(RecordVersion, (RecordVersion.record_id == Record.id)
                  & (RecordVersion.version == Record.current_version))
            .where(Record.decision_no.like("石家监督罚〔2016〕%"))).all())
    assert published == {"石家监督罚〔2016〕8号": True, "石家监督罚〔2016〕9号": False}
    # a second department registered under the sender's name does not take the sender's rows;
    # a name two departments share that is not the sender's cannot be read
    with db.transaction() as session:
        from xinyong.accounts import service as accounts

        twin = make_uscc("11130102" + make_org_code("05999999"))
        accounts.register_department(session, uscc=twin, name=r["处罚机关"], auto=True)
        other = next(x for x in rows if x["处罚机关"] != r["处罚机关"])
        accounts.register_department(session, uscc=make_uscc("11130102" + make_org_code("05888888")),
                                     name=other["处罚机关"], auto=True)
    again = [dict(row, **{"行政处罚决定书文号": "石家监督罚〔2016〕10号"}),
             dict(row, **{"行政处罚决定书文号": "石家监督罚〔2016〕11号", "处罚机关": other["处罚机关"]})]
    report = ingest(write_rows(tmp_path / "again.csv", headers, again),
                    department_uscc=r["数据来源单位统一社会信用代码"])
    assert (report.accepted, report.rejected) == (1, 1)
    # the error names the column the file has (the 2016 layout has no authority code column)
    assert [(e.line, e.field, e.code) for e in report.errors] == [(3, "处罚机关", "authority_ambiguous")]
    assert other["处罚机关统一社会信用代码"] in report.errors[0].message
    with database.connect() as conn:
        assert conn.execute(select(Record.authority_uscc).where(
            Record.decision_no == "石家监督罚〔2016〕10号")).scalar_one() == r["处罚机关统一社会信用代码"]


def test_blank_lines_are_not_rows(tmp_path):
    headers, rows = sample_rows()
    path = write_rows(tmp_path / "blank.csv", headers, rows[:2])
    path.write_text(path.read_text(encoding="utf-8") + ",,,,\n\n", encoding="utf-8")
    report = ingest(path)
    assert (report.rows_total, report.accepted) == (2, 2)


def test_received_within_seven_working_days(database, tmp_path):
    headers, rows = sample_rows()
    rows[0]["处罚决定日期"] = "2026/11/12"  # 7th working day after: 2026-11-23
    rows[1]["处罚决定日期"] = "2026/11/11"  # 7th working day after: 2026-11-20 (yesterday)
    ingest(write_rows(tmp_path / "t.csv", headers, rows[:2]))
    with database.connect() as conn:
        got = dict(conn.execute(select(RecordVersion.line, RecordVersion.on_time)).all())
        deadlines = dict(conn.execute(select(RecordVersion.line, RecordVersion.deadline)).all())
    assert got == {2: True, 3: False}
    assert deadlines[2] == dt.date(2026, 11, 23)


def test_report_counts_add_up_and_serialise(tmp_path):
    report = ingest(FIXTURES / "penalties_with_errors.csv")
    payload = json.loads(report.model_dump_json())
    for key in ("kind", "file", "rows_total", "accepted", "corrected", "unchanged", "rejected",
                "errors", "warnings", "departments_registered"):
        assert key in payload
    outcomes = ("accepted", "corrected", "unchanged", "rejected")
    assert sum(payload[k] for k in outcomes) == payload["rows_total"]
    assert set(payload["errors"][0]) == {"line", "field", "code", "message"}


def test_batch_is_invisible_until_complete(database, tmp_path):
    """A batch that fails half way leaves nothing behind; the same command then completes it."""
    headers, rows = sample_rows()
    path = write_rows(tmp_path / "p.csv", headers, rows)
    with pytest.raises(RuntimeError), db.transaction() as session:
        from xinyong.ingest.service import ingest_file

        ingest_file(session, path, "penalties")
        raise RuntimeError("the process died before the commit")
    assert (count(database, Batch), count(database, Record), count(database, Subject)) == (0, 0, 0)
    assert count(database, Department) == 0
    assert ingest(path).accepted == 47


def test_clock_decides_future_dates(tmp_path):
    headers, rows = sample_rows()
    rows[0]["处罚决定日期"] = "2026/12/01"
    path = write_rows(tmp_path / "f.csv", headers, rows[:1])
    assert ingest(path).rejected == 1
    with clock.frozen(dt.date(2026, 12, 2)):
        assert ingest(path).accepted == 1


def test_template_marks_in_headers_and_excel_text_formulas_in_cells(tmp_path):
    """Templates mark columns （必填） / (选填) / *; exports write codes as ="…" so that Excel keeps
    them as text. Neither gets in the way; errors name the column as the file wrote it."""
    headers, rows = sample_rows()
    renamed = {h: (f"*{h}（必填）" if i % 3 == 0 else f"{h}(选填)" if i % 3 == 1 else h)
               for i, h in enumerate(headers)}
    moved = [{renamed[h]: v for h, v in r.items()} for r in rows[:3]]
    code_header = renamed["行政相对人代码_1(统一社会信用代码)"]
    moved[0][code_header] = f'="{moved[0][code_header]}"'
    date_header = renamed["处罚决定日期"]
    moved[1][date_header] = "2024/02/30"
    report = ingest(write_rows(tmp_path / "marked.csv", list(renamed.values()), moved))
    assert (report.accepted, report.rejected) == (2, 1)
    assert [(e.line, e.field, e.code) for e in report.errors] == [(3, date_header, "invalid_date")]
    assert not [w for w in report.warnings if w.code == "unknown_column"]


def test_file_without_source_columns_is_the_sending_departments_own(database, tmp_path):
    """A department's system often leaves out 数据来源单位: sent by a known department (API key,
    officer, --department), the rows are recorded as its own; sent by nobody known, the file
    cannot be read, and says which columns are missing."""
    ingest(FIXTURES / "licences.csv", "licences")  # registers the departments
    headers, rows = sample_rows()
    kept = [h for h in headers if not h.startswith("数据来源单位")]
    sender = rows[0]["数据来源单位统一社会信用代码"]
    others = [r for r in rows if r["数据来源单位统一社会信用代码"] != sender][:2]
    branch = make_uscc("11130102" + make_org_code("05123456"))  # a branch that decides, not registered
    for r in others:
        del r["数据来源单位"], r["数据来源单位统一社会信用代码"]
        r["处罚机关"], r["处罚机关统一社会信用代码"] = "石家庄市长安区某分局", branch
    path = write_rows(tmp_path / "no_source.csv", kept, others)
    with pytest.raises(FileUnreadable, match="数据来源单位"):
        ingest(path)
    report = ingest(path, department_uscc=sender)
    assert (report.accepted, report.rejected, report.departments_registered) == (2, 0, [])
    assert any(w.code == "file_note" and "报送部门" in w.message for w in report.warnings)
    with database.connect() as conn:
        sources = set(conn.execute(
            select(Department.uscc).join(RecordVersion, RecordVersion.department_id == Department.id)
            .join(Record, Record.id == RecordVersion.record_id)
            .where(Record.decision_no.in_([r["行政处罚决定书文号"] for r in others]))).scalars())
    assert sources == {sender}
    # a row decided by another registered department is that department's to send
    decided = dict(others[0], **{"处罚机关": rows[0]["处罚机关"], "处罚机关统一社会信用代码": sender,
                                 "行政处罚决定书文号": "石家监督罚〔2024〕777号"})
    elsewhere = [r for r in rows if r["处罚机关统一社会信用代码"] != sender][2]
    foreign = dict(others[0], **{"处罚机关": elsewhere["处罚机关"],
                                 "处罚机关统一社会信用代码": elsewhere["处罚机关统一社会信用代码"],
                                 "行政处罚决定书文号": "石家监督罚〔2024〕778号"})
    report = ingest(write_rows(tmp_path / "decided.csv", kept, [decided, foreign]), department_uscc=sender)
    assert (report.accepted, report.rejected) == (1, 1)
    assert [(e.line, e.field, e.code) for e in report.errors] == [(3, "处罚机关统一社会信用代码", "not_own_data")]


def test_unknown_columns_are_reported_not_fatal(tmp_path):
    headers, rows = sample_rows()
    headers.append("内部编号")
    for r in rows:
        r["内部编号"] = "A1"
    report = ingest(write_rows(tmp_path / "extra.csv", headers, rows[:1]))
    assert report.accepted == 1
    assert any(w.code == "unknown_column" and w.field == "内部编号" for w in report.warnings)


def test_footer_rows_and_a_repeated_header_are_skipped_and_a_stray_row_is_one_clear_error(tmp_path):
    """Files as offices assemble them: two exports pasted together (the header again in the
    middle), a footer with the total and who filled it in (skipped, with a warning: before, each
    was a rejected row and the file failed with exit 3), and a stray row that is neither a record
    nor a footer (one clear error)."""
    headers, rows = sample_rows()
    path = write_rows(tmp_path / "assembled.csv", headers, rows[:2])
    with open(path, "a", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)  # line 4
        writer.writerow([rows[2][h] for h in headers])  # line 5
        total = [""] * len(headers)
        total[0], total[headers.index("罚款金额（万元）")] = "合　计", "12.5"
        writer.writerow(total)  # line 6
        writer.writerow(["填报单位（盖章）：", "", "填报人：张三", "联系电话：0311-12345678"]
                        + [""] * (len(headers) - 4))  # line 7
        stray = [""] * len(headers)
        stray[0], stray[headers.index("罚款金额（万元）")] = "张三", "12.5"
        writer.writerow(stray)  # line 8
    report = ingest(path)
    assert (report.rows_total, report.accepted, report.rejected) == (4, 3, 1)
    assert [(e.line, e.field, e.code) for e in report.errors] == [(8, None, "not_a_record")]
    assert "张三" in report.errors[0].message and "表尾" in report.errors[0].message
    assert [(w.line, w.code) for w in report.warnings] == [(4, "repeated_header"), (6, "footer_skipped"),
                                                           (7, "footer_skipped")]
    assert "“合　计”" in report.warnings[1].message and "“填报单位（盖章）：”" in report.warnings[2].message


def test_a_row_that_numbers_the_columns_is_skipped(database, tmp_path):
    """Provincial templates print 1 | 2 | 3 … under the header (number cells in Excel): not a
    record, skipped with a warning instead of a rejected row and exit 3."""
    import openpyxl

    headers, rows = sample_rows()
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers)
    sheet.append(list(range(1, len(headers) + 1)))
    for row in rows[:2]:
        sheet.append([row[h] for h in headers])
    workbook.save(tmp_path / "numbered.xlsx")
    report = ingest(tmp_path / "numbered.xlsx")
    assert (report.rows_total, report.accepted, report.rejected) == (2, 2, 0), report.errors[:3]
    assert [(w.line, w.code) for w in report.warnings if w.code != "file_note"] == [(2, "column_numbers_skipped")]
    assert "第 2 行是各列的序号" in next(w.message for w in report.warnings if w.code == "column_numbers_skipped")
    # a record is never taken for one: a row of numbers in other places is still an error
    odd = dict(rows[2], **{h: str(i * 7) for i, h in enumerate(headers)})
    report = ingest(write_rows(tmp_path / "odd.csv", headers, [odd]))
    assert report.rejected == 1


def test_a_quote_never_closed_is_one_clear_error_naming_the_lines_it_swallowed(tmp_path):
    """A cell that starts with " and is never closed makes the CSV reader take the next lines into
    it: the report says so, with the lines, instead of listing odd values."""
    headers, rows = sample_rows()

    def line(row: dict[str, str], quoting: int = csv.QUOTE_MINIMAL) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, quoting=quoting, lineterminator="\n").writerow([row[h] for h in headers])
        return buffer.getvalue()

    text = ",".join(headers) + "\n" + line(rows[0]) + '"' + line(rows[1]) + line(rows[2]) + line(rows[3])
    text += line(rows[4], csv.QUOTE_ALL) + line(rows[5])  # the first " of line 6 closes the cell
    path = tmp_path / "quote.csv"
    path.write_text(text, encoding="utf-8")
    report = ingest(path)
    assert (report.rows_total, report.accepted, report.rejected) == (3, 2, 1)
    (error,) = report.errors
    assert (error.line, error.field, error.code) == (3, None, "unclosed_quote")
    assert "第 6 行" in error.message


def test_an_unquoted_comma_that_shifts_the_columns_rejects_the_row(tmp_path):
    """Text with a comma written without quotes moves every later cell one column to the right:
    the row is rejected as such rather than reported column by column. Empty cells after the
    last column (",,," from a spreadsheet) are harmless."""
    headers, rows = sample_rows()
    facts = headers.index("违法事实")

    def line(row: dict[str, str], facts_text: str | None = None) -> str:
        cells = [row[h] for h in headers]
        if facts_text is not None:
            cells[facts] = facts_text
        return ",".join(cells)

    text = "\n".join([",".join(headers), line(rows[0]) + ",,,",
                      line(rows[1], "经查,当事人存在违法行为"), line(rows[2]) + ",,已核对"]) + "\n"
    path = tmp_path / "shifted.csv"
    path.write_text(text, encoding="utf-8")
    report = ingest(path)
    assert (report.accepted, report.rejected) == (2, 1)
    assert [(e.line, e.field, e.code) for e in report.errors] == [(3, None, "column_count")]
    assert "多 1 个" in report.errors[0].message
    # a note typed beside the table, on a row that is right, is ignored with a warning
    assert [(w.line, w.code) for w in report.warnings] == [(4, "extra_cells")]
    assert "已核对" in report.warnings[0].message


def test_a_stray_quote_that_swallows_cells_up_to_a_later_quote_is_one_error(database, tmp_path):
    """A name typed with a leading English quote ("石家庄…) runs on to the next quote of the line
    (《规定》"第九条"): the cells between are read into it and every later column is shifted. The
    row gets one error naming the cell, not a list of odd values; a row that is right with fewer
    cells (an export leaving out empty last cells) is stored, with a quoted comma in it."""
    headers, rows = sample_rows()
    name, basis = headers.index("行政相对人名称"), headers.index("处罚依据")

    def line(row: dict[str, str]) -> list[str]:
        return [row[h] for h in headers]

    stray = line(rows[0])
    stray[name] = '"' + stray[name]
    stray[basis] = '《价格违法行为行政处罚规定》"第九条"'
    short = line(rows[1])
    short[headers.index("违法事实")] = '"经查，当事人存在违法行为, 证据确凿"'
    wrong_date = dict(zip(headers, short, strict=True), **{"处罚决定日期": "2024/02/30",
                                                          "行政处罚决定书文号": "舞钢交通罚〔2024〕3号"})
    text = "\n".join([",".join(headers), ",".join(stray), ",".join(short).rstrip(","),
                      ",".join(wrong_date.values()).rstrip(",")]) + "\n"
    assert len(next(csv.reader([text.splitlines()[2]]))) < len(headers)  # empty last cells left out
    path = tmp_path / "stray.csv"
    path.write_text(text, encoding="utf-8")
    report = ingest(path)
    assert (report.accepted, report.rejected) == (1, 2), report.errors
    error, dated = report.errors
    # the short row that is wrong for another reason is told that reason
    assert (dated.line, dated.field, dated.code) == (4, "处罚决定日期", "invalid_date")
    assert (error.line, error.field, error.code) == (2, "行政相对人名称", "quote_swallowed_cells")
    assert "“石家庄市瑞丰新源贸易有限公司,法人及非法人组织" in error.message and "各列已经错位" in error.message
    assert "这一行只剩" in error.message and f"表头有 {len(headers)} 列" in error.message


def test_an_unquoted_comma_in_the_last_column_keeps_the_whole_text(database, tmp_path):
    """备注 is the last column: a comma written there without quotes cut it, and what followed
    the comma was dropped as cells beside the table. The text is put back together."""
    headers, rows = sample_rows()
    assert headers[-1] == "备注"
    cells = [rows[0][h] for h in headers[:-1]] + ["已整改,罚款已缴纳,不再复查"]
    path = tmp_path / "remarks.csv"
    path.write_text(",".join(headers) + "\n" + ",".join(cells) + ",,\n", encoding="utf-8")
    report = ingest(path)
    assert (report.accepted, report.rejected) == (1, 0)
    assert [(w.line, w.field, w.code) for w in report.warnings] == [(2, "备注", "comma_in_text")]
    assert "“已整改,罚款已缴纳,不再复查”" in report.warnings[0].message
    assert _stored(database, "remarks") == ["已整改,罚款已缴纳,不再复查"]


def test_title_row_above_header_is_skipped(tmp_path):
    headers, rows = sample_rows()
    path = write_rows(tmp_path / "title.csv", headers, rows[:2])
    path.write_text("行政处罚信息报送表\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    rows_bad = path.read_text(encoding="utf-8").replace("2024/08/13", "2024/08/99", 1)
    path.write_text(rows_bad, encoding="utf-8")
    report = ingest(path)
    assert report.accepted == 1
    assert [e.line for e in report.errors] == [3]



def test_a_current_licence_file_with_legacy_columns_keeps_its_status_and_bare_code_headers_are_read(
        database, tmp_path):
    """A current licence file from a database export with the legacy 地方编码 and 数据更新时间戳
    columns was taken for the 2016 layout, and 当前状态 re-coded the 2016 way: 1 有效 stored as 2
    无效 and 2 as 1, exit 0. Column headers written as the bare 行政相对人代码_2 … _6 (as many
    exports do) mean what the current standard says; before, they were ignored as unknown."""
    headers, rows = sample_rows("licences.csv")
    rows = rows[:3]
    rows[2]["当前状态"] = "2"
    bare = {h: h.split("(")[0] for h in headers if h.startswith("行政相对人代码_")}
    legacy = [bare.get(h, h) for h in headers] + ["地方编码", "数据更新时间戳"]
    written = [{**{bare.get(h, h): v for h, v in r.items()}, "地方编码": "220402",
                "数据更新时间戳": "2024-12-01 10:00:00"} for r in rows]
    report = ingest(write_rows(tmp_path / "export.csv", legacy, written), "licences")
    assert (report.layout, report.accepted, report.rejected) == ("current", 3, 0)
    assert not [w for w in report.warnings if w.code == "unknown_column"]
    with database.connect() as conn:
        stored = conn.execute(select(RecordVersion.data).order_by(RecordVersion.line)).scalars().all()
    assert [json.loads(d)["licence_status"] for d in stored] == [r["当前状态"] for r in rows] == ["1", "1", "2"]
    # every code landed where the template's own headers put it: the template file is unchanged
    same = [{**r, "地方编码": "220402", "数据更新时间戳": "2024-12-01 10:00:00"} for r in rows]
    again = ingest(write_rows(tmp_path / "template.csv", [*headers, "地方编码", "数据更新时间戳"], same), "licences")
    assert (again.unchanged, again.corrected) == (3, 0)


def test_sheets_whose_amounts_are_in_different_units_are_not_stacked(database, tmp_path):
    """罚款金额（万元） on the 法人 sheet and 罚款金额（元） on the 自然人 sheet: stacked into one column,
    the persons' fines in 元 were read as 万元 (×10,000, and 严重 by amount), exit 0. The file is
    now refused, saying which columns differ, and nothing is stored."""
    import openpyxl

    headers, rows = sample_rows()
    fine = "罚款金额（万元）"
    assert fine in headers
    workbook = openpyxl.Workbook()
    for title, part, unit in (("法人", rows[:20], "万元"), ("自然人", rows[20:40], "元")):
        sheet = workbook.active if title == "法人" else workbook.create_sheet(title)
        sheet.title = title
        sheet.append([f"罚款金额（{unit}）" if h == fine else h for h in headers])
        for r in part:
            sheet.append(list(r.values()))
    workbook.save(tmp_path / "units.xlsx")
    said = r"工作表“自然人”的“罚款金额（元）”与工作表“法人”的“罚款金额（万元）”金额单位不同"
    with pytest.raises(FileUnreadable, match=said):
        ingest(tmp_path / "units.xlsx")
    assert count(database, Record) == 0 and count(database, Batch) == 0


def test_a_later_sheet_is_told_in_its_own_column_names(database, tmp_path):
    """Sheets of one workbook may head a column differently (the 自然人 sheet exported with the
    standard's field codes): an error on that sheet names the column as that sheet heads it. With
    three sheets, a unit mismatch names the sheet the other column really came from."""
    import openpyxl

    headers, rows = sample_rows()
    workbook = openpyxl.Workbook()
    first = workbook.active
    first.title = "法人"
    first.append(headers)
    first.append(list(rows[0].values()))
    second = workbook.create_sheet("自然人")
    codes = {"处罚决定日期": "CF_JDRQ", "行政相对人名称": "CF_XDR_MC"}
    second.append([codes.get(h, h) for h in headers])
    second.append(list(dict(rows[1], 处罚决定日期="2024/02/30").values()))
    # the first sheet's company under a new name: the warning is written by the merge, in SQL
    second.append(list(dict(rows[0], 行政相对人名称="石家庄市更名后的科技有限公司",
                            行政处罚决定书文号="石家监督罚〔2024〕999号").values()))
    workbook.save(tmp_path / "names.xlsx")
    report = ingest(tmp_path / "names.xlsx")
    assert [(e.sheet, e.line, e.field, e.code) for e in report.errors] == [("自然人", 2, "CF_JDRQ", "invalid_date")]
    assert [(w.sheet, w.line, w.field) for w in report.warnings if w.code == "subject_renamed"] == [
        ("自然人", 3, "CF_XDR_MC")]

    fine = "罚款金额（万元）"
    workbook = openpyxl.Workbook()
    for title, unit in (("甲", None), ("乙", "万元"), ("丙", "元")):
        sheet = workbook.active if title == "甲" else workbook.create_sheet(title)
        sheet.title = title
        columns = [h for h in headers if unit or h != fine]
        sheet.append([f"罚款金额（{unit}）" if h == fine else h for h in columns])
        sheet.append([rows[2][h] for h in columns])
    workbook.save(tmp_path / "three.xlsx")
    with pytest.raises(FileUnreadable, match=r"工作表“丙”的“罚款金额（元）”与工作表“乙”的“罚款金额（万元）”"):
        ingest(tmp_path / "three.xlsx")


def test_amounts_computed_by_excel_formulas_are_read_as_excel_shows_them(database, tmp_path):
    """A 万元 column computed as =元/10000 holds 0.45678900000000006 in the file; Excel shows (and
    keeps) 15 significant digits, 0.456789. The noise was stored and published, and the same row
    sent again as CSV counted as a correction."""
    import openpyxl

    headers, rows = sample_rows()
    fine = "罚款金额（万元）"
    row = next(r for r in rows if r[fine])
    workbook = openpyxl.Workbook()
    workbook.active.append(headers)
    workbook.active.append([0.1 * 4.56789 if h == fine else v for h, v in row.items()])
    assert repr(0.1 * 4.56789) == "0.45678900000000006"
    workbook.save(tmp_path / "formula.xlsx")
    assert ingest(tmp_path / "formula.xlsx").accepted == 1
    again = ingest(write_rows(tmp_path / "same.csv", headers, [{**row, fine: "0.456789"}]))
    assert (again.unchanged, again.corrected) == (1, 0)


@pytest.mark.parametrize(("header", "noted"), [
    ("罚款金额", True), ("CF_NR_FK", False), ("罚款金额（万元）", False), ("fine_amount", False),
])
def test_an_amount_column_without_a_unit_is_read_in_the_standard_unit_and_the_report_says_so(
        database, tmp_path, header, noted):
    """A bare 罚款金额 may hold 元: the amount is read in 万元 as the standard says, and the report
    tells the sender, so that a fine ten thousand times too high does not go unseen. The data
    standard's field code carries the standard's unit and needs no note."""
    headers, rows = sample_rows()
    renamed = [header if h == "罚款金额（万元）" else h for h in headers]
    moved = [{(header if h == "罚款金额（万元）" else h): v for h, v in r.items()} for r in rows[:2]]
    report = ingest(write_rows(tmp_path / "bare.csv", renamed, moved))
    assert report.accepted == 2
    notes = [w.message for w in report.warnings if w.code == "file_note" and "没有写明金额单位" in w.message]
    if noted:
        assert notes == ["“罚款金额”列的列名没有写明金额单位，已按万元读取（标准列名为“罚款金额（万元）”）："
                         "若填的是元，请把列名改为“罚款金额（元）”后重新报送"]
    else:
        assert notes == []


@pytest.mark.parametrize(("header", "warned"), [("罚款金额", True), ("罚款金额（万元）", False), ("CF_NR_FK", False)])
def test_a_large_amount_in_a_column_without_a_unit_is_warned_on_its_row(database, tmp_path, header, warned):
    """5000 in a bare 罚款金额 is read as 5,000 万元 — most likely 5,000 元 in the wrong unit, which
    makes the fine 严重 and publishes it for years. The file note alone is easy to miss in a long
    report: each such row is warned, with the figure it was read as and what to do. A column
    that names 万元, or the standard's field code, says what it holds and is not second-guessed;
    amounts under the catalogue's `doubtful_at` (100 万元) are plausible in 万元 and not warned."""
    headers, rows = sample_rows()
    fine = "罚款金额（万元）"
    row = next(r for r in rows if r[fine])
    renamed = [header if h == fine else h for h in headers]
    numbers = ["5000", "0.5", "100", "99.99"]
    sent = [{(header if h == fine else h): v for h, v in row.items()}
            | {header: n, "行政处罚决定书文号": f"测罚〔2024〕{i}号"} for i, n in enumerate(numbers, 1)]
    report = ingest(write_rows(tmp_path / "bare.csv", renamed, sent))
    assert report.accepted == 4
    unclear = [(w.line, w.field, w.message) for w in report.warnings if w.code == "amount_unit_unclear"]
    if warned:
        assert unclear == [
            (2, "罚款金额", "“罚款金额”的列名没有写明金额单位，“5000”已按万元读作 5000 万元，"
                          "数额很大，可能填的不是万元：若填的是元（即 0.5 万元），"
                          "请把列名改为“罚款金额（元）”后重新报送该文件"),
            (4, "罚款金额", "“罚款金额”的列名没有写明金额单位，“100”已按万元读作 100 万元，"
                          "数额很大，可能填的不是万元：若填的是元（即 0.01 万元），"
                          "请把列名改为“罚款金额（元）”后重新报送该文件"),
        ]
    else:
        assert unclear == []
    assert sorted(_stored(database, "fine_amount"), key=float) == ["0.5", "99.99", "100", "5000"]


@pytest.mark.parametrize(("header", "written", "stored"), [
    ("罚款金额（单位：元）", "1500000", "150"), ("罚款金额(单位:万元)", "150", "150"),
    ("罚款金额（人民币万元）", "150", "150"),
])
def test_amount_headers_that_name_their_unit_in_other_words(database, tmp_path, header, written, stored):
    """Provincial templates write the unit as （单位：元） or （人民币万元）: the column was ignored
    as unknown, the fine lost (exit 0) and the penalty classed by what was left."""
    headers, rows = sample_rows()
    row = next(r for r in rows if r["罚款金额（万元）"])
    renamed = [header if h == "罚款金额（万元）" else h for h in headers]
    written_row = {(header if h == "罚款金额（万元）" else h): v for h, v in row.items()} | {header: written}
    report = ingest(write_rows(tmp_path / "unit.csv", renamed, [written_row]))
    assert report.accepted == 1 and not [w for w in report.warnings if w.code == "unknown_column"]
    assert _stored(database, "fine_amount") == [stored]


def test_a_resident_id_that_also_passes_the_uscc_check_is_no_organisations_code(database, tmp_path):
    """About one resident id in thirty also passes GB 32100's check (440402200008098085: 4 read as
    the 文化 authority). In the USCC column of a 法人 row it was stored as the organisation's code —
    area 040220 — and shown in clear on the public pages and API (found by probing). It is a
    resident id, rejected as such; real USCCs are not (their area and category are real)."""
    headers, rows = sample_rows()
    company = next(r for r in rows if r["行政相对人类别"] == "法人及非法人组织")
    person_id = "440402200008098085"
    assert ids.validate_uscc(person_id) == person_id and ids.is_valid_ric(person_id)
    row = dict(company, **{"行政相对人代码_1(统一社会信用代码)": person_id})
    report = ingest(write_rows(tmp_path / "ids.csv", headers, [company, row]))
    assert (report.accepted, report.rejected) == (1, 1)
    assert [(e.line, e.code) for e in report.errors] == [(3, "ric_in_uscc_column")]
    assert person_id not in report.errors[0].message
    with db.transaction() as session, pytest.raises(NotFound):
        find_by_code(session, person_id)


def test_resident_ids_are_never_stored_or_reported_in_clear_whatever_column_they_are_typed_in(database, tmp_path):
    """Found by probing: ids written into 违法事实 and 备注 were stored and published whole, a
    stray row's id was quoted whole in the report, and a person's id typed into 行政相对人代码_1
    rejected the row as a bad USCC (the guide says it is dropped with a warning)."""
    headers, rows = sample_rows()
    people = [r for r in rows if r["行政相对人类别"] == "自然人"]
    a, b, c, d = people[0], people[1], people[2], people[3]
    a_id, b_id, c_id, d_id = (p["证件号码"] for p in (a, b, c, d))
    code_1 = "行政相对人代码_1(统一社会信用代码)"
    a = dict(a, **{code_1: a_id, "违法事实": f"经查，当事人{a['行政相对人名称']}（身份证号{a_id}）无证经营",
                   "备注": f"{a_id.lower()}"})
    b = dict(b, **{code_1: b_id.lower(), "证件号码": "", "证件类型": ""})  # the id only in 代码_1
    c = dict(c, **{code_1: c_id, "证件号码": "", "证件类型": "", "行政相对人类别": ""})
    d = dict(d, **{code_1: d_id, "证件号码": "", "证件类型": "", "行政相对人类别": "法人及非法人组织"})
    stray = {h: "" for h in headers}
    stray.update({"行政相对人名称": "吴十", "证件号码": a_id})
    report = ingest(write_rows(tmp_path / "ids.csv", headers, [a, b, c, d, stray]))
    assert (report.accepted, report.rejected) == (3, 2), report.errors
    assert [(e.line, e.code) for e in report.errors] == [(5, "ric_in_uscc_column"), (6, "not_a_record")]
    assert {(w.line, w.code) for w in report.warnings} >= {
        (2, "uscc_ignored_for_person"), (2, "id_number_masked"), (3, "id_from_code_column"),
        (3, "id_type_inferred"), (4, "category_inferred"), (4, "id_from_code_column")}
    masked = next(w.message for w in report.warnings if w.code == "id_number_masked" and "违法事实" in w.message)
    assert f"身份证号{a_id[:4]}**********{a_id[-4:]}" in masked
    everything = report.model_dump_json()
    assert not any(number in everything or number.lower() in everything for number in (a_id, b_id, c_id, d_id))
    with database.connect() as conn:
        stored = " ".join(conn.scalars(select(RecordVersion.data)).all())
    assert not any(number in stored or number.lower() in stored for number in (a_id, b_id, c_id))
    with db.transaction() as session:
        for number in (b_id, c_id):
            assert find_by_code(session, number).kind == "natural_person"


def test_a_tax_number_that_is_an_old_id_and_a_sequence_is_masked_in_its_column_only(database, tmp_path):
    """A 个体工商户 registered on a first-generation card had its holder's 15-digit id and a 2-digit
    sequence as 税务登记号: masked in that column (found by probing: the 18-digit form was stored
    whole); the same 17 digits in 备注 are some other number (no check character to tell)."""
    headers, rows = sample_rows()
    person = next(r for r in rows if r["行政相对人类别"] == "自然人")
    tax_no = "33010277070745601"
    report = ingest(write_rows(tmp_path / "tax.csv", headers, [dict(person, **{
        "行政相对人代码_4(税务登记号)": tax_no, "备注": f"编号{tax_no}"})]))
    assert report.accepted == 1
    assert [w.field for w in report.warnings if w.code == "id_number_masked"] == ["行政相对人代码_4(税务登记号)"]
    with database.connect() as conn:
        data = json.loads(conn.scalars(select(RecordVersion.data)).one())
    assert (data["tax_no"], data["remarks"]) == ("330*********45601", f"编号{tax_no}")


def test_an_id_in_the_id_column_of_a_business_or_organisation_row_is_checked_and_never_kept_in_clear(
        database, tmp_path):
    """Found by probing: a 个体工商户 row with the operator's id in 证件类型/证件号码, or a 法人 row
    with the legal representative's id typed there too, was stored with the id in clear (and
    printed whole by `subject show`); it was never checked. Now it is checked by its type like
    the legal representative's (a wrong one is left out, with a warning) and kept masked only."""
    headers, rows = sample_rows()
    operator = ids.make_ric("130102", dt.date(1985, 3, 7), 31)
    wrong = operator[:-1] + ("0" if operator[-1] != "0" else "1")  # its check character mistyped
    company = next(r for r in rows if r["行政相对人类别"] == "法人及非法人组织" and r["法定代表人证件号码"])
    business = next(r for r in rows if r["行政相对人类别"] == "个体工商户")
    shop = dict(business, **{"证件类型": "身份证", "证件号码": operator})
    copied = dict(company, **{"证件类型": "身份证", "证件号码": company["法定代表人证件号码"].lower()})
    typo = dict(rows[0] if rows[0] is not company else rows[1], **{"证件类型": "", "证件号码": wrong})
    report = ingest(write_rows(tmp_path / "ids.csv", headers, [shop, copied, typo]))
    assert (report.accepted, report.rejected) == (3, 0), report.errors
    assert [(w.line, w.field, w.code) for w in report.warnings if w.code != "ric_area_warning"] == [
        (2, "证件号码", "id_number_masked_only"), (3, "证件号码", "id_number_masked_only"),
        (4, "证件号码", "ric_checksum")]
    masked_only = [w.message for w in report.warnings if w.code == "id_number_masked_only"]
    assert "只保存遮盖后的号码" in masked_only[0] and "与“法定代表人证件号码”相同" in masked_only[1]
    clear = (operator, wrong, company["法定代表人证件号码"])
    assert not any(n in report.model_dump_json() or n.lower() in report.model_dump_json() for n in clear)
    stored = _stored(database, "id_number")
    assert stored == [ids.mask_ric(operator), ids.mask_ric(company["法定代表人证件号码"]), None]
    assert _stored(database, "id_type") == ["身份证", "身份证", None]
    with database.connect() as conn:
        every = " ".join(str(v) for t in ("record_versions", "subjects", "legal_representatives")
                         for row in conn.execute(text(f"SELECT * FROM {t}")) for v in row)
    assert not any(n in every.upper() for n in clear)
    # the same rows again change nothing: the content compared is the checked number
    again = ingest(write_rows(tmp_path / "ids2.csv", headers, [shop, copied, typo]))
    assert (again.unchanged, again.corrected) == (3, 0)
    # an online correction of such a record is not refused for the masked number it cannot send
    # again (the new version has none); one that repeats the legal representative's id is sent
    # again from that id's encrypted copy
    with database.connect() as conn:
        by_no = dict(conn.execute(select(Record.decision_no, Record.id)).all())
    for row in (shop, copied):
        with db.transaction() as session:
            corrected = service.correct_record(session, by_no[row["行政处罚决定书文号"]],
                                               changes={"remarks": "经复核更正"}, reason="补充备注",
                                               actor="officer", ip=None)
        assert (corrected.corrected, corrected.rejected) == (1, 0), corrected.errors
        assert {w.code for w in corrected.warnings} <= {"id_number_masked_only", "ric_area_warning"}
    with database.connect() as conn:
        current = {no: json.loads(data) for no, data in conn.execute(
            select(Record.decision_no, RecordVersion.data).join(
                RecordVersion, (RecordVersion.record_id == Record.id)
                & (RecordVersion.version == Record.current_version)))}
    assert current[shop["行政处罚决定书文号"]].get("id_number") is None
    assert current[copied["行政处罚决定书文号"]]["id_number"] == ids.mask_ric(company["法定代表人证件号码"])


def test_a_template_without_optional_columns_says_what_a_correction_will_keep(database, tmp_path):
    """Found by probing: another province's template without 法定代表人 or the confiscated amount
    corrected every record sent before, emptying those fields in the current version, and the
    report said nothing (exit 0). A correction now keeps them; the file says so, once."""
    headers, rows = sample_rows()
    ingest(FIXTURES / "penalties.csv")
    dropped = ["法定代表人", "法定代表人证件类型", "法定代表人证件号码", "没收违法所得、没收非法财物的金额（万元）"]
    fewer = [h for h in headers if h not in dropped]
    report = ingest(write_rows(tmp_path / "fewer.csv", fewer, [{h: r[h] for h in fewer} for r in rows[:3]]))
    [note] = [w.message for w in report.warnings if w.code == "file_note" and "文件没有这些列" in w.message]
    assert all(f"“{h}”" in note for h in dropped), note
    # a correction keeps what its file has no column for, and the class is decided with the amount
    assert "更正此前已报送的记录时，这些栏目沿用已登记记录的内容" in note and "新记录中这些栏目为空" in note
    assert f"其中“{dropped[3]}”是认定处罚失信严重程度和是否公示的依据" in note
    assert not [w for w in ingest(FIXTURES / "penalties.csv").warnings if "文件没有这些列" in w.message], \
        "a file with every column of the template gets no such note"


def test_a_decision_older_than_every_rule_is_rejected_naming_its_date_column(database, tmp_path):
    """Found by probing: a decision of 1985 was rejected with no column, in the rules' internal
    English names ("publication_deadline"), and was missing from the rejected-rows download."""
    headers, rows = sample_rows()
    report = ingest(write_rows(tmp_path / "old.csv", headers, [rows[0], dict(rows[1], 处罚决定日期="1985/03/01")]))
    assert (report.accepted, report.rejected) == (1, 1)
    ((line, field, code, message),) = [(e.line, e.field, e.code, e.message) for e in report.errors]
    assert (line, field, code) == (3, "处罚决定日期", "policy_not_found")
    assert "1985/03/01" in message and "公示时限" in message and "publication_deadline" not in message
    # the lookup went up to the nation: not "地区 130102 没有", as if only a local pack were missing
    assert message.startswith("第 3 行的处罚决定日期 1985/03/01：全国没有 1985/03/01 有效的公示时限"), message
    with db.transaction() as session:
        assert [n for n, _ in service.rejected_rows(session, report.batch_id)] == [3]


def test_a_date_past_the_open_end_that_is_no_end_of_year_is_warned(database, tmp_path):
    """Found by probing: 处罚有效期 2209/05/01 (2029 mistyped) was stored as 长期 without a word;
    9999/12/31 and 2100/12/31 mean no end, as the format says."""
    headers, rows = sample_rows()
    sent = [dict(rows[0], 处罚有效期="2209/05/01"), dict(rows[1], 处罚有效期="2100/12/31")]
    report = ingest(write_rows(tmp_path / "far.csv", headers, sent))
    assert report.accepted == 2
    assert [(w.line, w.field, w.code) for w in report.warnings] == [(2, "处罚有效期", "read_as_open_ended")]
    assert "年份写错" in report.warnings[0].message


def test_an_excel_date_serial_with_a_time_is_read_as_its_date(database, tmp_path):
    """45296.375 (a date cell with a time, saved as General) was refused as no date while 45296
    was read with a warning."""
    headers, rows = sample_rows()
    report = ingest(write_rows(tmp_path / "serial.csv", headers, [dict(rows[0], 处罚决定日期="45296.375")]))
    assert (report.accepted, report.rejected) == (1, 0)
    assert [(w.field, w.code) for w in report.warnings] == [("处罚决定日期", "excel_serial_date")]
    assert "2024/01/05" in report.warnings[0].message


PREFILLED = ("行政相对人类别", "处罚机关", "处罚机关统一社会信用代码", "数据来源单位", "数据来源单位统一社会信用代码")


def test_template_rows_with_only_the_prefilled_columns_are_passed_over(database, tmp_path):
    """Found by probing: a department's template fills 行政相对人类别, 处罚机关, 数据来源单位 and
    their codes down to row 300 (the fill handle); the rows under the 3 records were 296 rejected
    records with 9 errors each (exit 3). They hold no record: passed over with one note naming
    them, not counted (a 序号 filled down beside them changes nothing)."""
    import openpyxl

    headers, rows = sample_rows()
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["序号", *headers])
    for n, r in enumerate(rows[:3], start=1):
        sheet.append([n, *(r[h] for h in headers)])
    for n in range(4, 40):  # rows 5-40
        sheet.append([n, *(rows[0][h] if h in PREFILLED else None for h in headers)])
    workbook.save(tmp_path / "template.xlsx")
    report = ingest(tmp_path / "template.xlsx")
    assert (report.rows_total, report.accepted, report.rejected, report.errors) == (3, 3, 0, [])
    notes = [w.message for w in report.warnings if w.code == "file_note" and "预先填好" in w.message]
    assert len(notes) == 1 and notes[0].startswith("第 5–40 行（共 36 行）只有模板预先填好的列"), notes


def test_a_half_filled_record_among_template_rows_is_still_rejected(database, tmp_path):
    """Only a row with nothing outside the prefilled columns is passed over: one that also has
    its party's name, or its decision number, date or fine, is a record to complete, rejected
    with its errors."""
    headers, rows = sample_rows()
    prefilled = {h: (rows[0][h] if h in PREFILLED else "") for h in headers}
    sent = [
        rows[0],
        dict(prefilled, 行政相对人名称="石家庄市某某商贸有限公司"),  # line 3: no decision number
        dict(prefilled, 行政处罚决定书文号="石家监督罚〔2024〕99号"),  # line 4: no name
        dict(prefilled, 处罚决定日期="2024/08/13"),  # line 5
        prefilled,  # line 6: nothing of a record
        dict(prefilled, **{"罚款金额（万元）": "1.5"}),  # line 7
        prefilled,  # line 8
    ]
    report = ingest(write_rows(tmp_path / "half.csv", headers, sent))
    assert (report.rows_total, report.accepted, report.rejected) == (5, 1, 4)
    assert sorted({e.line for e in report.errors}) == [3, 4, 5, 7]
    assert ("行政处罚决定书文号", "missing_required") in {(e.field, e.code) for e in report.errors if e.line == 3}
    assert ("行政相对人名称", "missing_required") in {(e.field, e.code) for e in report.errors if e.line == 4}
    notes = [w.message for w in report.warnings if w.code == "file_note" and "预先填好" in w.message]
    assert len(notes) == 1 and notes[0].startswith("第 6 行、第 8 行（共 2 行）"), notes
