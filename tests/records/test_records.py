"""Credit records: penalty classes, publication windows, status as of a day, versions with provenance."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from filehelpers import ingest, sample_rows, write_rows
from xinyong.core import clock, db
from xinyong.records.schemas import RecordOut
from xinyong.records.service import records_of_subject, search_records
from xinyong.subjects.service import find_by_code

pytestmark = pytest.mark.usefixtures("database")

D = dt.date
USCC = "行政相对人代码_1(统一社会信用代码)"
DECISION_NO = "行政处罚决定书文号"
DECISION_DATE = "处罚决定日期"
KINDS = "处罚类别"
FINE = "罚款金额（万元）"
DECLARED_END = "公示截止期"


def penalty(number: int, **changes: str) -> dict[str, str]:
    """The sample's first penalty (罚款 35.69 万元, 石家庄市市场监督管理局) under a new decision number."""
    _, rows = sample_rows()
    return dict(rows[0], **{DECISION_NO: f"石家监督罚〔2026〕{number}号"}, **changes)


def store(tmp_path: Path, *rows: dict[str, str], name: str = "p.csv"):  # type: ignore[no-untyped-def]
    headers, _ = sample_rows()
    report = ingest(write_rows(tmp_path / name, headers, list(rows)))
    assert report.rejected == 0, report.errors
    return report


def records(on: dt.date | None = None) -> dict[str, RecordOut]:
    """The sample subject's records by decision number, with status as of ``on`` (default today)."""
    with db.transaction() as session:
        subject = find_by_code(session, sample_rows()[1][0][USCC])
        if on is None:
            return {r.decision_no: r for r in records_of_subject(session, subject.id, clock.today())}
        with clock.frozen(on):
            return {r.decision_no: r for r in records_of_subject(session, subject.id, clock.today())}


def only(on: dt.date | None = None) -> RecordOut:
    (record,) = records(on).values()
    return record


# --- status from dates and the clock -------------------------------------------------------------


def test_general_penalty_is_published_until_its_publication_end(tmp_path):
    store(tmp_path, penalty(1, **{DECISION_DATE: "2026/05/10", KINDS: "罚款"}))
    today = only().current
    assert (today.penalty_class, today.publication_end) == ("一般", D(2027, 5, 10))
    assert today.publication_min_end == D(2026, 8, 10)
    assert today.status_label == "公示中"
    assert only(D(2027, 5, 10)).current.status_label == "公示中"
    assert only(D(2027, 5, 11)).current.status_label == "公示期满"
    assert only(D(2027, 5, 11)).status_label == "公示期满"


def test_warning_only_after_order_36_is_minor_and_not_published(tmp_path):
    store(tmp_path, penalty(2, **{DECISION_DATE: "2026/06/15", KINDS: "警告", FINE: "",
                                  "处罚内容": "给予警告"}))
    record = only()
    assert record.current.penalty_class == "轻微"
    assert "警告" in (record.current.class_reason or "")
    assert (record.status_label, record.current.status_label) == ("不予公示", "不予公示")
    assert only(D(2026, 6, 16)).status_label == "不予公示"  # not even right after the decision


@pytest.mark.parametrize(("category", "fine", "expected"), [
    ("自然人", "0.1", "一般"), ("自然人", "0.02", "轻微"), ("个体工商户", "0.1", "一般"),
    ("法人及非法人组织", "0.1", "轻微"), ("法人及非法人组织", "0.31", "一般"),
])
def test_a_small_fine_is_minor_by_the_limit_for_the_partys_kind(tmp_path, category, fine, expected):
    """The rules set 0.3 万元 as the limit of a minor fine for organisations and 0.02 万元 (200 元)
    for persons and individual businesses. Intake did not tell the classifier the party's kind,
    so a person fined 1,000 元 was 轻微 and withheld from the public (found by probing)."""
    _, rows = sample_rows()
    row = next(r for r in rows if r["行政相对人类别"] == category)
    number = f"石家监督罚〔2026〕{700 + len(category)}号"
    store(tmp_path, dict(row, **{DECISION_NO: number, DECISION_DATE: "2026/06/15", KINDS: "罚款", FINE: fine,
                                 "没收违法所得、没收非法财物的金额（万元）": "", "暂扣或吊销证照名称及编号": ""}))
    with db.transaction() as session:
        code = next(c for c in (row[USCC], row["行政相对人代码_2(工商注册号)"], row["证件号码"])
                    if c and c != "00000000000000000X")
        (record,) = [r for r in records_of_subject(session, find_by_code(session, code).id, clock.today())
                     if r.decision_no == number]
    assert record.current.penalty_class == expected, record.current.class_reason
    assert (record.status_label == "不予公示") == (expected == "轻微")


@pytest.mark.parametrize(("decided", "fine", "expected", "rule"), [
    ("2020/06/01", "0.2", "一般", "penalty-classification-2019"),  # 2,000 元: over the old law's 1,000 元
    ("2020/06/01", "0.1", "轻微", "penalty-classification-2019"),
    ("2021/07/14", "0.3", "一般", "penalty-classification-2019"),
    ("2021/07/15", "0.3", "轻微", "penalty-classification-2019-from-2021-07-15"),
    ("2018/03/01", "0.25", "一般", "penalty-classification-legacy"),
])
def test_the_minor_fine_limit_is_the_simple_procedure_limit_of_the_law_in_force_on_the_decision_date(
        tmp_path, decided, fine, expected, rule):
    """行政处罚法 第五十一条 (3,000 元 for organisations, 200 元 for persons) is in force from
    2021-07-15; before it the 1996 law's 第三十三条 allowed 1,000 元 and 50 元 on the spot. A
    company fined 2,000 元 in 2020 was no simple-procedure penalty: it is 一般, and published."""
    store(tmp_path, penalty(800, **{DECISION_DATE: decided, KINDS: "罚款", FINE: fine,
                                    "没收违法所得、没收非法财物的金额（万元）": ""}))
    on_the_day = only(dt.datetime.strptime(decided, "%Y/%m/%d").date())
    version = on_the_day.current
    assert (version.penalty_class, version.class_rule) == (expected, rule), version.class_reason
    assert on_the_day.status_label == ("公示中" if expected == "一般" else "不予公示")


def test_revoked_licence_is_serious_and_published_three_years(tmp_path):
    store(tmp_path, penalty(3, **{DECISION_DATE: "2026/05/31", KINDS: "罚款;吊销许可证件",
                                  "暂扣或吊销证照名称及编号": "食品经营许可证 JY11301020001"}))
    version = only().current
    assert version.penalty_class == "严重"
    assert "吊销许可证件" in (version.class_reason or "")
    assert (version.publication_min_end, version.publication_end) == (D(2027, 5, 31), D(2029, 5, 31))
    assert only(D(2029, 5, 31)).status_label == "公示中"
    assert only(D(2029, 6, 1)).status_label == "公示期满"


def test_class_and_publication_end_follow_the_rule_in_force_on_the_decision_date(tmp_path):
    store(tmp_path,
          penalty(4, **{DECISION_DATE: "2025/06/01", KINDS: "罚款"}),
          penalty(5, **{DECISION_DATE: "2026/06/01", KINDS: "罚款"}))
    by_no = {no: r.current for no, r in records().items()}
    old, new = by_no["石家监督罚〔2026〕4号"], by_no["石家监督罚〔2026〕5号"]
    assert (old.class_rule, old.publication_rule) == ("penalty-classification-2023", "penalty-publication-2023")
    assert (new.class_rule, new.publication_rule) == ("penalty-classification-2026", "penalty-publication-2026")
    # Order 58 published every penalty up to 3 years; Order 36 a general one up to 1 year
    assert (old.penalty_class, old.publication_end) == ("一般", D(2028, 6, 1))
    assert (new.penalty_class, new.publication_end) == ("一般", D(2027, 6, 1))


def test_notice_of_criticism_was_general_under_527_and_is_minor_now(tmp_path):
    store(tmp_path,
          penalty(6, **{DECISION_DATE: "2020/03/02", KINDS: "通报批评", FINE: ""}),
          penalty(7, **{DECISION_DATE: "2026/06/01", KINDS: "通报批评", FINE: ""}))
    by_no = {no: r.current for no, r in records().items()}
    assert by_no["石家监督罚〔2026〕6号"].penalty_class == "一般"
    assert by_no["石家监督罚〔2026〕7号"].penalty_class == "轻微"


# --- versions and provenance --------------------------------------------------------------------


def test_corrected_record_keeps_both_versions_with_their_provenance(tmp_path):
    _, rows = sample_rows()
    first = store(tmp_path, penalty(8), name="v1.csv")
    resent_by_other = dict(
        penalty(8), **{"处罚内容": "责令改正，没收违法所得并处罚款（更正）",
                      "数据来源单位": rows[1]["数据来源单位"],
                      "数据来源单位统一社会信用代码": rows[1]["数据来源单位统一社会信用代码"]},
    )
    second = store(tmp_path, rows[2], resent_by_other, name="v2.csv")
    assert (second.accepted, second.corrected) == (1, 1)
    record = only()
    v1, v2 = record.versions
    assert [v.version for v in record.versions] == [1, 2]
    assert (v1.status_label, v2.status_label, record.status_label) == ("已更正", "公示中", "公示中")
    assert record.current.data["penalty_content"] == "责令改正，没收违法所得并处罚款（更正）"
    assert v1.data["penalty_content"] == penalty(8)["处罚内容"]
    assert (v1.provenance.batch_id, v1.provenance.line, v1.provenance.department) == (
        first.batch_id, 2, "石家庄市市场监督管理局")
    assert (v2.provenance.batch_id, v2.provenance.line, v2.provenance.department) == (
        second.batch_id, 3, "舞钢市交通运输局")
    assert v2.provenance.department_uscc == rows[1]["数据来源单位统一社会信用代码"]


def test_records_are_found_by_their_number_however_its_brackets_are_typed(tmp_path):
    store(tmp_path, penalty(8), penalty(18))
    with db.transaction() as session:
        for typed in ("〔2026〕8号", "[2026]8号", "【２０２６】８号", "(2026) 8号", "石家监督罚（2026）8"):
            found, total = search_records(session, today=clock.today(), q=typed)
            assert (total, [r.decision_no for r in found]) == (1, ["石家监督罚〔2026〕8号"]), typed
        assert search_records(session, today=clock.today(), q="〔2026〕")[1] == 2


def test_identical_resubmission_adds_no_version(tmp_path):
    store(tmp_path, penalty(9), name="v1.csv")
    again = store(tmp_path, penalty(9), name="v2.csv")
    assert (again.accepted, again.corrected, again.unchanged) == (0, 0, 1)
    assert [v.version for v in only().versions] == [1]


# --- publication end declared by the department ---------------------------------------------


@pytest.mark.parametrize(
    ("declared", "expected_end", "warned"),
    [
        ("2026/12/31", D(2026, 12, 31), False),  # inside [2026-08-10, 2027-05-10]: used
        ("2026/08/10", D(2026, 8, 10), False),  # the minimum itself
        ("2028/01/01", D(2027, 5, 10), True),  # beyond the maximum
        ("2026/07/01", D(2027, 5, 10), True),  # before the minimum
        # open-ended (长期, and what is stored as it): outside every class's period too, and said so
        ("2099/12/31", D(2027, 5, 10), True),
        ("长期", D(2027, 5, 10), True),
        ("9999/12/31", D(2027, 5, 10), True),
    ],
)
def test_declared_publication_end(tmp_path, declared, expected_end, warned):
    _, rows = sample_rows()
    report = store(tmp_path, rows[1], penalty(10, **{DECISION_DATE: "2026/05/10", KINDS: "罚款",
                                                     DECLARED_END: declared}))
    assert only().current.publication_end == expected_end
    out_of_range = [w for w in report.warnings if w.code == "publication_end_out_of_range"]
    assert [w.line for w in out_of_range] == ([3] if warned else [])
    if warned:
        assert "2027/05/10" in out_of_range[0].message and "已按 2027/05/10 计" in out_of_range[0].message
        shown = "2099/12/31（长期）" if declared in ("长期", "9999/12/31", "2099/12/31") else declared
        assert out_of_range[0].message.startswith(f"公示截止期 {shown} 不在一般失信信息的公示期限内")


def test_an_open_ended_publication_end_of_a_minor_penalty_says_it_is_not_published(tmp_path):
    """Found by probing: a 轻微 penalty (Order 36: published only for a 公示截止期 within 3 months)
    whose department wrote 长期 was left unpublished without a word. The warning says the end
    was not taken and that the penalty is not published (a declared end outside the period
    publishes nothing: it did say "已按 … 计" as if it did)."""
    minor = {DECISION_DATE: "2026/06/01", KINDS: "警告", FINE: ""}
    report = store(tmp_path, penalty(15, **minor, **{DECLARED_END: "长期"}),
                   penalty(16, **minor, **{DECLARED_END: "2026/12/01"}))
    assert {no: r.status_label for no, r in records(D(2026, 7, 1)).items()} == {
        "石家监督罚〔2026〕15号": "不予公示", "石家监督罚〔2026〕16号": "不予公示"}
    assert [(w.line, w.field, w.message) for w in report.warnings if w.code == "publication_end_out_of_range"] == [
        (2, DECLARED_END, "公示截止期 2099/12/31（长期） 不在轻微失信信息的公示期限内（2026/06/01 至 2026/09/01），"
                          "未采用：轻微失信信息只在公示截止期填在此期限内时公示，本条不予公示"),
        (3, DECLARED_END, "公示截止期 2026/12/01 不在轻微失信信息的公示期限内（2026/06/01 至 2026/09/01），"
                          "未采用：轻微失信信息只在公示截止期填在此期限内时公示，本条不予公示")]


def test_a_declared_end_does_not_publish_a_class_that_had_no_publication_period(tmp_path):
    """Under 527号 and Order 58 a 轻微 penalty (a simple-procedure one) is not published at all:
    a 公示截止期 a department's system filled in — even the decision day itself — does not make
    it public for a day; the warning says why."""
    report = store(tmp_path, penalty(14, **{DECISION_DATE: "2025/03/31", KINDS: "警告", FINE: "",
                                            DECLARED_END: "2025/03/31"}))
    record = only(D(2025, 3, 31))
    assert (record.current.penalty_class, record.status_label) == ("轻微", "不予公示")
    (warning,) = [w for w in report.warnings if w.code == "publication_end_out_of_range"]
    assert "未采用" in warning.message and "不予公示" in warning.message


def test_declared_publication_end_warning_names_its_column(tmp_path):
    report = store(tmp_path, penalty(13, **{DECISION_DATE: "2026/05/10", KINDS: "罚款", DECLARED_END: "2028/01/01"}))
    (warning,) = [w for w in report.warnings if w.code == "publication_end_out_of_range"]
    assert warning.field == DECLARED_END


def test_declared_end_lets_a_minor_penalty_be_published_for_at_most_three_months(tmp_path):
    store(tmp_path,
          penalty(11, **{DECISION_DATE: "2026/06/15", KINDS: "警告", FINE: "", DECLARED_END: "2026/08/15"}),
          penalty(12, **{DECISION_DATE: "2026/06/15", KINDS: "警告", FINE: "", DECLARED_END: "2026/12/15"}))
    shown = {no: r.status_label for no, r in records(D(2026, 8, 1)).items()}
    assert shown == {"石家监督罚〔2026〕11号": "公示中", "石家监督罚〔2026〕12号": "不予公示"}
    assert records()["石家监督罚〔2026〕11号"].status_label == "公示期满"
