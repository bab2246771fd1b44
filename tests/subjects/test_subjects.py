"""The subject registry: one subject per code, lookup by any code, names and ids over time."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from filehelpers import (
    DECISION_DATE,
    DECISION_NO,
    FIXTURES,
    NAME,
    ORG_CODE,
    REG_NO,
    USCC,
    count,
    ingest,
    sample_rows,
    write_rows,
)
from xinyong.core import clock, db
from xinyong.core.errors import NotFound
from xinyong.core.ids import is_valid_uscc, make_org_code, make_ric, make_uscc
from xinyong.records.models import Record
from xinyong.records.service import records_of_subject
from xinyong.subjects.models import Subject
from xinyong.subjects.service import describe, find_by_code

pytestmark = pytest.mark.usefixtures("database")

MASKED_RIC = re.compile(r"^\d{4}\*{10}[\dX]{4}$")


def other_department(row: dict[str, str], source: dict[str, str], decision_no: str) -> dict[str, str]:
    """``row`` as decided and sent by the department of ``source``, under a new decision number."""
    return dict(row, **{
        DECISION_NO: decision_no,
        "处罚机关": source["处罚机关"],
        "处罚机关统一社会信用代码": source["处罚机关统一社会信用代码"],
        "数据来源单位": source["数据来源单位"],
        "数据来源单位统一社会信用代码": source["数据来源单位统一社会信用代码"],
    })


def legacy(row: dict[str, str], decision_no: str) -> dict[str, str]:
    """``row`` as an old system sends it: no USCC, only the organisation code inside it."""
    return dict(row, **{USCC: "", ORG_CODE: row[USCC][8:17], DECISION_NO: decision_no})


def subject_of(code: str) -> tuple[Subject, list]:
    with db.transaction() as session:
        subject = find_by_code(session, code)
        return subject, records_of_subject(session, subject.id, clock.today())


# --- one subject per code ---------------------------------------------------------------------


def test_same_uscc_from_two_departments_is_one_subject(database, tmp_path):
    headers, rows = sample_rows()
    first = rows[0]
    second = other_department(first, rows[1], "舞钢交通罚〔2024〕90号")
    ingest(write_rows(tmp_path / "a.csv", headers, [first]))
    report = ingest(write_rows(tmp_path / "b.csv", headers, [second]))
    assert (report.accepted, report.rejected) == (1, 0)
    assert count(database, Subject) == 1
    subject, records = subject_of(first[USCC])
    assert subject.name == first[NAME]
    assert {r.current.provenance.department for r in records} == {"石家庄市市场监督管理局", "舞钢市交通运输局"}


@pytest.mark.parametrize("order", ["uscc_first", "legacy_first", "same_file", "legacy_uscc_legacy"])
def test_record_with_only_an_organisation_code_joins_the_uscc_subject(database, tmp_path, order):
    headers, rows = sample_rows()
    modern = rows[0]
    old = legacy(rows[0], "石家监督罚〔2019〕7号")
    older = legacy(rows[0], "石家监督罚〔2018〕3号")
    if order == "same_file":
        report = ingest(write_rows(tmp_path / "both.csv", headers, [old, modern]))
        assert (report.accepted, report.rejected) == (2, 0), report.errors
    else:
        files = {"uscc_first": [[modern], [old]], "legacy_first": [[old], [modern]],
                 "legacy_uscc_legacy": [[old], [modern], [older]]}[order]
        for i, file_rows in enumerate(files):
            report = ingest(write_rows(tmp_path / f"{i}.csv", headers, file_rows))
            assert (report.accepted, report.rejected) == (1, 0), report.errors
    assert count(database, Subject) == 1
    subject, records = subject_of(modern[USCC])
    assert subject.uscc == modern[USCC]
    assert subject.org_code == modern[USCC][8:17]
    # the area inside the USCC, also when the USCC came after the organisation code
    assert subject.area_code == modern[USCC][2:8]
    sent = [modern, old, older] if order == "legacy_uscc_legacy" else [modern, old]
    assert sorted(r.decision_no for r in records) == sorted(r[DECISION_NO] for r in sent)


def test_individual_business_gains_its_uscc_and_stays_one_subject(database, tmp_path):
    headers, rows = sample_rows()
    shop = next(r for r in rows if r[USCC] == "00000000000000000X")
    uscc = make_uscc("92440402MA0000001")
    registered = dict(shop, **{USCC: uscc, DECISION_NO: "珠海生态罚〔2025〕3号", DECISION_DATE: "2025/03/03"})
    ingest(write_rows(tmp_path / "a.csv", headers, [shop]))
    report = ingest(write_rows(tmp_path / "b.csv", headers, [registered]))
    assert (report.accepted, report.rejected) == (1, 0), report.errors
    assert count(database, Subject) == 1
    subject, records = subject_of(shop[REG_NO])
    assert (subject.uscc, subject.kind) == (uscc, "individual_business")
    assert subject_of(uscc)[0].id == subject.id
    assert len(records) == 2


SHOP_USCC = make_uscc("92440402" + make_org_code("MA000001"))  # its organisation code is valid


def shop_rows() -> tuple[list[str], dict[str, dict[str, str]]]:
    """An individual business as three departments send it: with the placeholder USCC and its
    registration number, with its USCC (and the number), and with only the organisation code
    inside the USCC (an old system)."""
    headers, rows = sample_rows()
    shop = next(r for r in rows if r[USCC] == "00000000000000000X")
    return headers, {
        "placeholder": shop,
        "uscc": dict(shop, **{USCC: SHOP_USCC, DECISION_NO: "珠海生态罚〔2025〕3号", DECISION_DATE: "2025/03/03"}),
        "org_code": dict(shop, **{USCC: "", REG_NO: "", ORG_CODE: SHOP_USCC[8:17],
                                  DECISION_NO: "珠海生态罚〔2025〕9号", DECISION_DATE: "2025/04/01"}),
    }


@pytest.mark.parametrize("files", [
    [["placeholder"], ["uscc"], ["org_code"]],
    [["placeholder"], ["uscc", "org_code"]],  # the organisation code in the file that brings the USCC
    [["placeholder"], ["org_code", "uscc"]],
    [["org_code"], ["uscc"], ["placeholder"]],
    [["uscc"], ["placeholder"], ["org_code"]],
    [["uscc"], ["org_code"], ["placeholder"]],
    [["placeholder", "uscc", "org_code"]],
], ids=lambda files: "|".join(",".join(f) for f in files))
def test_individual_business_known_by_any_of_its_codes_is_one_subject(database, tmp_path, files):
    """Whichever code comes first, the USCC brings the organisation code and the area inside it,
    and a row with only that organisation code joins the subject."""
    headers, rows = shop_rows()
    for i, names in enumerate(files):
        report = ingest(write_rows(tmp_path / f"{i}.csv", headers, [rows[n] for n in names]))
        assert (report.accepted, report.rejected) == (len(names), 0), report.errors
        assert not [w for w in report.warnings if w.code == "org_code_conflict"]
    assert count(database, Subject) == 1
    subject, records = subject_of(SHOP_USCC)
    assert (subject.kind, subject.uscc, subject.reg_no, subject.org_code, subject.area_code) == (
        "individual_business", SHOP_USCC, rows["placeholder"][REG_NO], SHOP_USCC[8:17], SHOP_USCC[2:8])
    assert subject_of(SHOP_USCC[8:17])[0].id == subject_of(rows["placeholder"][REG_NO])[0].id == subject.id
    assert sorted(r.decision_no for r in records) == sorted(r[DECISION_NO] for r in rows.values())


def test_a_uscc_whose_organisation_code_differs_from_the_stored_one_keeps_it_and_says_so(database, tmp_path):
    headers, rows = shop_rows()
    stored_org = make_org_code("MA1234X5")
    assert stored_org != SHOP_USCC[8:17]
    ingest(write_rows(tmp_path / "a.csv", headers, [dict(rows["placeholder"], **{ORG_CODE: stored_org})]))
    report = ingest(write_rows(tmp_path / "b.csv", headers, [rows["uscc"], rows["uscc"]]))
    assert (report.accepted, report.rejected) == (1, 0), report.errors
    conflicts = [w for w in report.warnings if w.code == "org_code_conflict"]
    assert len(conflicts) == 1 and conflicts[0].line == 2 and conflicts[0].field == USCC
    assert SHOP_USCC in conflicts[0].message and stored_org in conflicts[0].message
    assert SHOP_USCC[8:17] in conflicts[0].message
    assert count(database, Subject) == 1
    subject, records = subject_of(SHOP_USCC)
    # the USCC and its area are learnt; the organisation code other records may carry stays
    assert (subject.uscc, subject.org_code, subject.area_code) == (SHOP_USCC, stored_org, SHOP_USCC[2:8])
    assert len(records) == 2
    # sent again: nothing learnt, nothing said
    again = ingest(write_rows(tmp_path / "c.csv", headers, [rows["uscc"]]))
    assert not [w for w in again.warnings if w.code == "org_code_conflict"]


def test_subject_known_only_by_organisation_code_is_found_by_its_uscc(tmp_path):
    headers, rows = sample_rows()
    ingest(write_rows(tmp_path / "old.csv", headers, [legacy(rows[0], "石家监督罚〔2019〕7号")]))
    subject, records = subject_of(rows[0][USCC])
    assert subject.uscc is None and subject.name == rows[0][NAME]
    assert [r.decision_no for r in records] == ["石家监督罚〔2019〕7号"]


def test_two_organisations_keep_their_own_subjects(database, tmp_path):
    headers, rows = sample_rows()
    ingest(write_rows(tmp_path / "a.csv", headers, rows[:2]))
    assert count(database, Subject) == 2
    assert subject_of(rows[0][USCC])[0].id != subject_of(rows[1][USCC])[0].id


# --- find by any code ----------------------------------------------------------------------


@pytest.fixture
def sample_loaded() -> list[dict[str, str]]:
    report = ingest(FIXTURES / "penalties.csv")
    assert report.rejected == 0
    return sample_rows()[1]


def test_find_by_uscc_and_by_organisation_code(sample_loaded):
    row = sample_loaded[0]
    with db.transaction() as session:
        by_uscc = find_by_code(session, row[USCC])
        by_org = find_by_code(session, row[USCC][8:17])
        by_lower = find_by_code(session, f" {row[USCC].lower()} ")
        assert by_uscc.id == by_org.id == by_lower.id
        assert by_uscc.name == row[NAME]


def test_find_individual_business_by_registration_number(sample_loaded):
    row = next(r for r in sample_loaded if r[USCC] == "00000000000000000X")
    with db.transaction() as session:
        subject = find_by_code(session, row[REG_NO])
        assert (subject.name, subject.kind, subject.uscc) == (row[NAME], "individual_business", None)
        assert subject.reg_no == row[REG_NO]


def test_find_natural_person_by_resident_id(sample_loaded):
    persons = [r for r in sample_loaded if r["行政相对人类别"] == "自然人"]
    with_x = next(r for r in persons if r["证件号码"].endswith("X"))
    with db.transaction() as session:
        for row in persons:
            subject = find_by_code(session, row["证件号码"])
            assert (subject.name, subject.kind) == (row[NAME], "natural_person")
        # a lower-case check character as typed by hand
        assert find_by_code(session, with_x["证件号码"].lower()).name == with_x[NAME]


def test_resident_id_that_also_passes_the_uscc_checksum_finds_the_person(sample_loaded):
    person = next(r for r in sample_loaded if r["证件号码"] == "440402200008098085")
    assert is_valid_uscc(person["证件号码"])  # the sample holds one such id: about 1 in 31 do
    with db.transaction() as session:
        assert find_by_code(session, person["证件号码"]).name == person[NAME]


@pytest.mark.parametrize("also_uscc", [False, True])
def test_unknown_resident_id_is_not_found_and_not_echoed(sample_loaded, also_uscc):
    stranger = next(
        number for seq in range(1, 999)
        if is_valid_uscc(number := make_ric("110101", dt.date(1990, 1, 1), seq)) == also_uscc
    )
    with db.transaction() as session, pytest.raises(NotFound) as missing:
        find_by_code(session, stranger)
    assert stranger not in missing.value.message
    assert stranger[:4] + "*" * 10 + stranger[-4:] in missing.value.message


def test_unknown_uscc_is_not_found(sample_loaded):
    with db.transaction() as session, pytest.raises(NotFound, match="91130102MA0000001"):
        find_by_code(session, make_uscc("91130102MA0000001"))


# --- personal ids at rest -------------------------------------------------------------------


def every_stored_text(engine: sa.Engine) -> list[str]:
    """Every non-null value of every column of every table, as text, read with raw SQL."""
    values: list[str] = []
    with engine.connect() as conn:
        for table in sa.inspect(engine).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                values.extend(str(v) for v in row if v is not None)
    return values


def test_resident_ids_are_never_stored_in_clear(database, sample_loaded):
    ids = {r[col] for r in sample_loaded for col in ("证件号码", "法定代表人证件号码") if r[col]}
    persons = {r["证件号码"] for r in sample_loaded if r["证件号码"]}
    assert len(persons) == 5 and len(ids) > 40  # the sample's persons and legal representatives
    stored = every_stored_text(database)
    assert any(MASKED_RIC.match(v) for v in stored), "masked ids are kept for display"
    leaks = {i for i in ids for v in stored if i in v.upper()}
    assert leaks == set()
    with db.transaction() as session:
        for number in persons:
            assert find_by_code(session, number).kind == "natural_person"


def test_resident_id_in_the_uscc_column_is_not_stored_in_clear(database, tmp_path):
    headers, rows = sample_rows()
    person = next(r for r in rows if r["证件号码"] == "440402200008098085")
    ingest(write_rows(tmp_path / "p.csv", headers, [dict(person, **{USCC: person["证件号码"]})]))
    assert not any("440402200008098085" in v for v in every_stored_text(database))


def test_legal_representatives_are_recorded_with_masked_ids(sample_loaded, tmp_path):
    row = sample_loaded[0]
    headers, _ = sample_rows()
    newcomer = dict(row, **{DECISION_NO: "石家监督罚〔2025〕3号", DECISION_DATE: "2025/03/01",
                            "法定代表人": "王芳", "法定代表人证件号码": "130102198801010027"})
    report = ingest(write_rows(tmp_path / "rep.csv", headers, [newcomer]))
    assert report.rejected == 0, report.errors
    with db.transaction() as session:
        info = describe(session, find_by_code(session, row[USCC]))
    reps = [(r.name, r.id_type, r.id_masked) for r in info.legal_representatives]
    assert reps == [
        ("何海燕", "身份证", "1301**********9238"),
        ("王芳", "身份证", "1301**********0027"),
    ]
    assert all(MASKED_RIC.match(r.id_masked or "") for r in info.legal_representatives)
    assert "130102200203109238" not in info.model_dump_json()


# --- names over time ----------------------------------------------------------------------


def test_new_name_in_a_later_decision_becomes_the_current_name(tmp_path):
    headers, rows = sample_rows()
    original = rows[0]  # decided 2024/08/13
    ingest(write_rows(tmp_path / "a.csv", headers, [original]))
    renamed = dict(original, **{NAME: "石家庄市瑞丰新源科技有限公司", DECISION_NO: "石家监督罚〔2025〕8号",
                                DECISION_DATE: "2025/02/10"})
    report = ingest(write_rows(tmp_path / "b.csv", headers, [rows[1], renamed]))
    assert report.rejected == 0
    assert [(w.line, w.field) for w in report.warnings if w.code == "subject_renamed"] == [(3, NAME)]
    warning = next(w for w in report.warnings if w.code == "subject_renamed")
    assert original[NAME] in warning.message and "石家庄市瑞丰新源科技有限公司" in warning.message
    with db.transaction() as session:
        info = describe(session, find_by_code(session, original[USCC]))
    assert info.name == "石家庄市瑞丰新源科技有限公司"
    assert [n.name for n in info.names] == [original[NAME], "石家庄市瑞丰新源科技有限公司"]


def test_an_older_decision_under_another_name_does_not_replace_the_current_name(tmp_path):
    headers, rows = sample_rows()
    current = rows[0]  # decided 2024/08/13
    ingest(write_rows(tmp_path / "a.csv", headers, [current]))
    older = dict(current, **{NAME: "石家庄市瑞丰贸易有限公司", DECISION_NO: "石家监督罚〔2021〕5号",
                             DECISION_DATE: "2021/05/06"})
    report = ingest(write_rows(tmp_path / "b.csv", headers, [older]))
    assert [(w.line, w.code) for w in report.warnings] == [(2, "subject_renamed")]
    with db.transaction() as session:
        info = describe(session, find_by_code(session, current[USCC]))
    assert info.name == current[NAME]
    assert [(n.name, n.first_seen_on.isoformat()) for n in info.names] == [
        ("石家庄市瑞丰贸易有限公司", "2021-05-06"), (current[NAME], "2024-08-13"),
    ]


def test_name_reconfirmed_later_is_not_replaced_by_an_in_between_name(tmp_path):
    headers, rows = sample_rows()
    current = rows[0]  # decided 2024/08/13
    reconfirmed = dict(current, **{DECISION_NO: "石家监督罚〔2025〕20号", DECISION_DATE: "2025/06/01"})
    in_between = dict(current, **{NAME: "石家庄市瑞丰贸易有限公司", DECISION_NO: "石家监督罚〔2025〕10号",
                                  DECISION_DATE: "2025/01/01"})
    for i, row in enumerate((current, reconfirmed, in_between)):
        ingest(write_rows(tmp_path / f"{i}.csv", headers, [row]))
    with db.transaction() as session:
        assert find_by_code(session, current[USCC]).name == current[NAME]


def test_same_name_again_is_no_rename(tmp_path):
    headers, rows = sample_rows()
    ingest(write_rows(tmp_path / "a.csv", headers, [rows[0]]))
    again = dict(rows[0], **{DECISION_NO: "石家监督罚〔2025〕9号", DECISION_DATE: "2025/02/10"})
    report = ingest(write_rows(tmp_path / "b.csv", headers, [again]))
    assert report.accepted == 1
    assert [w for w in report.warnings if w.code == "subject_renamed"] == []


def test_records_of_a_renamed_subject_keep_the_name_they_were_sent_with(database, tmp_path):
    headers, rows = sample_rows()
    renamed = dict(rows[0], **{NAME: "石家庄市瑞丰新源科技有限公司", DECISION_NO: "石家监督罚〔2025〕8号",
                               DECISION_DATE: "2025/02/10"})
    ingest(write_rows(tmp_path / "a.csv", headers, [rows[0], renamed]))
    with database.connect() as conn:
        names = dict(conn.execute(select(Record.decision_no, Subject.name).join(Subject)).all())
    assert set(names.values()) == {"石家庄市瑞丰新源科技有限公司"}
    _, records = subject_of(rows[0][USCC])
    assert {r.decision_no: r.current.subject_name for r in records} == {
        rows[0][DECISION_NO]: rows[0][NAME], "石家监督罚〔2025〕8号": "石家庄市瑞丰新源科技有限公司",
    }
