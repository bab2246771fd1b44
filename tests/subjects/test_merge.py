"""Merging two subjects that are one business (`subjects.service.merge_subjects`): a business split
between a subject known by a legacy code and one known by another, found by the administrator
(migration 0010 names such pairs) and merged: codes, names, legal representatives, records and
accounts end up on the subject kept, and the public finds them all under any of its codes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from filehelpers import (
    CATEGORY,
    DECISION_DATE,
    DECISION_NO,
    NAME,
    ORG_CODE,
    REG_NO,
    USCC,
    count,
    ingest,
    sample_rows,
    write_rows,
)
from webhelpers import login, make_user
from xinyong.core import audit, clock, db
from xinyong.core.errors import NotFound, XinyongError
from xinyong.core.ids import make_org_code, make_reg_no, make_uscc
from xinyong.core.models import AuditEntry
from xinyong.records.models import Record, RecordVersion
from xinyong.records.service import records_of_subject, revoke_record
from xinyong.subjects.models import LegalRepresentative, Subject, SubjectName
from xinyong.subjects.service import (
    SubjectsNotMergeable,
    describe,
    find_by_code,
    find_by_reference,
    merge_subjects,
)

pytestmark = pytest.mark.usefixtures("database")

LEGAL_REP = "法定代表人"
CONTENT = "处罚内容"
PLACEHOLDER = "00000000000000000X"

SHOP_USCC = make_uscc("92440402" + make_org_code("MA000001"))  # an individual business's USCC
SHOP_ORG = SHOP_USCC[8:17]
SHOP_REG_NO = "440402640398031"  # the sample shop's 注册号
OLD_NAME, NAME_NOW = "新源小吃店", "珠海市新源小吃店"
FROM_REG_NO, FROM_ORG, FROM_USCC = "珠海生态罚〔2024〕200号", "珠海生态罚〔2025〕9号", "珠海生态罚〔2025〕3号"


def shop_rows() -> tuple[list[str], dict[str, dict[str, str]]]:
    """The sample individual business as three systems send it: with the placeholder USCC and its
    registration number (under an older name), with only the organisation code inside its USCC
    (another legal representative named too), and with its USCC and registration number."""
    headers, rows = sample_rows()
    shop = next(r for r in rows if r[USCC] == PLACEHOLDER)
    assert shop[REG_NO] == SHOP_REG_NO and shop[NAME] == NAME_NOW
    return headers, {
        "reg_no": dict(shop, **{NAME: OLD_NAME}),
        "org_code": dict(shop, **{USCC: "", REG_NO: "", ORG_CODE: SHOP_ORG, LEGAL_REP: "陈明",
                                  DECISION_NO: FROM_ORG, DECISION_DATE: "2025/04/01"}),
        "uscc": dict(shop, **{USCC: SHOP_USCC, DECISION_NO: FROM_USCC, DECISION_DATE: "2025/03/03"}),
    }


def send(tmp_path: Path, name: str, rows: list[dict[str, str]]) -> None:
    headers = sample_rows()[0]
    report = ingest(write_rows(tmp_path / f"{name}.csv", headers, rows))
    assert report.rejected == 0, report.errors


@pytest.fixture
def split_shop(tmp_path: Path) -> dict[str, dict[str, str]]:
    """One individual business stored as two subjects: one system knew it by its organisation code,
    another by its registration number, before the USCC arrived (with the registration number);
    the USCC went to the subject found by the organisation code inside it, and the registration
    number, held by the other subject, could not follow."""
    _, rows = shop_rows()
    send(tmp_path, "org", [rows["org_code"]])
    send(tmp_path, "reg", [rows["reg_no"]])
    send(tmp_path, "uscc", [rows["uscc"]])
    return rows


def subject(code: str) -> Subject:
    with db.transaction() as session:
        found = find_by_reference(session, code)
        session.expunge(found)
        return found


def shown(code: str) -> tuple[dict, list[str]]:
    """What `subject show` shows: the subject, and its records' decision numbers."""
    with db.transaction() as session:
        found = find_by_reference(session, code)
        records = records_of_subject(session, found.id, clock.today())
        return describe(session, found).model_dump(), sorted(r.decision_no for r in records)


def merge(keep: str, other: str, *, apply: bool = True, reason: str | None = "同一个体工商户的新旧代码"):
    with db.transaction() as session:
        result = merge_subjects(session, find_by_reference(session, keep).id, find_by_reference(session, other).id,
                                reason=reason, actor="cli:test subject merge", apply=apply)
        if not apply:
            session.rollback()
        return result


def snapshot(engine: sa.Engine) -> dict[str, list]:
    """Every row of the tables a merge touches."""
    tables = [Subject, SubjectName, LegalRepresentative, Record, RecordVersion, AuditEntry]
    with engine.connect() as conn:
        return {t.__tablename__: sorted(map(tuple, conn.execute(select(t.__table__)).all()), key=repr) for t in tables}


# --- the split, and the merge -----------------------------------------------------------------


def test_the_split_business_is_two_subjects_each_with_part_of_its_records(split_shop):
    with_uscc, by_reg_no = subject(SHOP_USCC), subject(SHOP_REG_NO)
    assert with_uscc.id != by_reg_no.id
    assert (with_uscc.uscc, with_uscc.org_code, with_uscc.reg_no) == (SHOP_USCC, SHOP_ORG, None)
    assert (by_reg_no.uscc, by_reg_no.org_code, by_reg_no.reg_no) == (None, None, SHOP_REG_NO)
    assert shown(SHOP_USCC)[1] == sorted([FROM_ORG, FROM_USCC])
    assert shown(SHOP_REG_NO)[1] == [FROM_REG_NO]


def test_a_preview_says_what_would_happen_and_changes_nothing(database, split_shop):
    keep, other = subject(SHOP_USCC), subject(SHOP_REG_NO)
    before = snapshot(database)
    preview = merge(SHOP_USCC, SHOP_REG_NO, apply=False, reason=None)  # no reason needed to look
    assert snapshot(database) == before
    assert not preview.applied and preview.audit_seq is None
    assert (preview.keep.id, preview.other.id) == (keep.id, other.id)
    assert (preview.keep.records, preview.other.records, preview.records_after) == (2, 1, 3)
    assert (preview.keep.name, preview.other.name, preview.name) == (NAME_NOW, OLD_NAME, NAME_NOW)
    assert preview.codes_gained == {"reg_no": SHOP_REG_NO}
    assert (preview.uscc, preview.org_code, preview.reg_no) == (SHOP_USCC, SHOP_ORG, SHOP_REG_NO)
    assert (preview.records_moved, preview.versions_moved, preview.combined) == (1, 1, [])
    assert (preview.names_moved, preview.names_joined) == (1, 0)
    assert (preview.legal_representatives_moved, preview.legal_representatives_joined) == (0, 1)


@pytest.mark.parametrize("keep_by", ["uscc", "reg_no"])
def test_the_merged_subject_has_every_code_name_representative_and_record(database, split_shop, keep_by):
    """Either subject may be kept: the codes are the union, the current name the one of the later
    decision, the name history and legal representatives those of both (a name or person both had
    is one entry spanning both periods)."""
    keep_code, other_code = (SHOP_USCC, SHOP_REG_NO) if keep_by == "uscc" else (SHOP_REG_NO, SHOP_USCC)
    keep, other = subject(keep_code), subject(other_code)
    result = merge(keep_code, other_code)
    assert result.applied
    assert count(database, Subject) == 1
    for code in (SHOP_USCC, SHOP_ORG, SHOP_REG_NO, f"id:{keep.id}"):
        info, numbers = shown(code)
        assert info["id"] == keep.id, code
        assert numbers == sorted([FROM_REG_NO, FROM_ORG, FROM_USCC]), code
    with pytest.raises(NotFound):
        subject(f"id:{other.id}")
    info, _ = shown(SHOP_USCC)
    assert (info["uscc"], info["org_code"], info["reg_no"], info["area_code"]) == (
        SHOP_USCC, SHOP_ORG, SHOP_REG_NO, SHOP_USCC[2:8])
    assert (info["kind"], info["category"]) == ("individual_business", "个体工商户")
    # the name of the latest decision (2025-04-01, under the organisation code) is current
    assert info["name"] == NAME_NOW and info["former_names"] == [OLD_NAME]
    names = {n["name"]: (str(n["first_seen_on"]), str(n["last_seen_on"])) for n in info["names"]}
    assert names == {OLD_NAME: ("2024-08-25", "2024-08-25"), NAME_NOW: ("2025-03-03", "2025-04-01")}
    reps = {r["name"]: (str(r["first_seen_on"]), str(r["last_seen_on"])) for r in info["legal_representatives"]}
    assert reps == {"黄杰": ("2024-08-25", "2025-03-03"), "陈明": ("2025-04-01", "2025-04-01")}
    with database.connect() as conn:
        # every version names the subject kept: the public lookup joins on it
        assert set(conn.scalars(select(RecordVersion.subject_id))) == {keep.id}
        assert set(conn.scalars(select(SubjectName.subject_id))) == {keep.id}


def test_the_merge_is_audited_with_both_subjects_and_the_reason(database, split_shop):
    keep, other = subject(SHOP_USCC), subject(SHOP_REG_NO)
    result = merge(SHOP_USCC, SHOP_REG_NO, reason="  两个系统分别以组织机构代码和注册号报送  ")
    with database.connect() as conn:
        entry = conn.execute(select(AuditEntry).where(AuditEntry.action == "subject.merge")).one()
    assert result.audit_seq == entry.seq
    assert (entry.actor, entry.target_type, entry.target_id, entry.subject_id) == (
        "cli:test subject merge", "subject", str(keep.id), keep.id)
    before, after = json.loads(entry.before), json.loads(entry.after)
    assert before["keep"]["id"] == keep.id and before["keep"]["uscc"] == SHOP_USCC
    assert before["other"]["id"] == other.id and before["other"]["reg_no"] == SHOP_REG_NO
    assert after["merged_subject_id"] == other.id and after["reason"] == "两个系统分别以组织机构代码和注册号报送"
    assert after["subject"]["reg_no"] == SHOP_REG_NO and after["codes_gained"] == {"reg_no": SHOP_REG_NO}
    assert (after["records_moved"], after["versions_moved"]) == (1, 1)
    with db.transaction() as session:
        assert audit.verify(session).ok


def test_the_public_finds_every_record_under_any_of_the_codes(client, split_shop):
    merge(SHOP_REG_NO, SHOP_USCC)
    for code in (SHOP_USCC, SHOP_ORG, SHOP_REG_NO):
        body = client.get(f"/api/v1/subjects/{code}").json()
        assert sorted(r["decision_no"] for r in body["records"]) == sorted([FROM_REG_NO, FROM_ORG, FROM_USCC])
        assert (body["uscc"], body["reg_no"], body["org_code"]) == (SHOP_USCC, SHOP_REG_NO, SHOP_ORG)
        assert body["former_names"] == [OLD_NAME]
        page = client.get(f"/subjects/{code}")
        assert page.status_code == 200
        assert all(number in page.text for number in (FROM_REG_NO, FROM_ORG, FROM_USCC))
    # name search finds one subject under the old name and the current one
    for name in (OLD_NAME, NAME_NOW):
        hits = client.get("/api/v1/subjects", params={"q": name}).json()["items"]
        assert [h["uscc"] for h in hits] == [SHOP_USCC], name


def test_a_later_intake_finds_the_merged_subject_by_any_code(database, tmp_path, split_shop):
    merge(SHOP_USCC, SHOP_REG_NO)
    again = dict(split_shop["reg_no"], **{DECISION_NO: "珠海生态罚〔2026〕1号", DECISION_DATE: "2026/01/05"})
    send(tmp_path, "later", [again])
    assert count(database, Subject) == 1
    assert "珠海生态罚〔2026〕1号" in shown(SHOP_USCC)[1]


def test_the_subjects_accounts_and_who_read_its_data_follow_the_merge(client, split_shop):
    """A subject's account of the subject merged away now opens the kept subject's file, and 谁查询了我
    keeps the reads of the subject merged away (the audit log is never rewritten)."""
    keep, other = subject(SHOP_USCC), subject(SHOP_REG_NO)
    with db.transaction() as session:
        owner = make_user(session, "subject", subject_id=other.id, username="xinyuan01").username
        audit.record(session, actor="user:shenpi01", action="read.subject", target_type="subject",
                     target_id=str(other.id), subject_id=other.id)
    result = merge(SHOP_USCC, SHOP_REG_NO)
    assert result.users_moved == [owner]
    login(client, owner)
    page = client.get("/me")
    assert page.status_code == 200
    assert all(number in page.text for number in (FROM_REG_NO, FROM_ORG, FROM_USCC))
    assert "user:shenpi01" in page.text.split('id="readers"', 1)[1]
    with db.transaction() as session:
        assert audit.merged_subject_ids(session, keep.id) == [keep.id, other.id]


# --- one decision recorded under both subjects ---------------------------------------------------

TWICE = "珠海生态罚〔2025〕50号"


def test_an_id_typed_into_the_reason_of_a_merge_is_masked_in_the_audit_log(database, split_shop):
    """The audit log is kept for good: the reason an operator types goes in masked, as intake
    masks texts (an id glued to letters too)."""
    result = merge(SHOP_USCC, SHOP_REG_NO, reason="经营者张三（ID130102198503070312）申请合并")
    with database.connect() as conn:
        after = json.loads(conn.scalar(select(AuditEntry.after).where(AuditEntry.action == "subject.merge")))
    assert after["reason"] == result.reason == "经营者张三（ID1301**********0312）申请合并"


@pytest.fixture
def decision_twice(tmp_path: Path, split_shop: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """One decision about the shop, sent by a department that listed the shop twice — under its
    organisation code and under its registration number — so that each subject has a record of it;
    the registration number's record was corrected later."""
    under_org = dict(split_shop["org_code"], **{DECISION_NO: TWICE, DECISION_DATE: "2025/05/06"})
    under_reg = dict(split_shop["reg_no"], **{DECISION_NO: TWICE, DECISION_DATE: "2025/05/06"})
    send(tmp_path, "twice", [under_org, under_reg])
    corrected = dict(under_reg, **{CONTENT: "责令改正，处以罚款（更正）"})
    send(tmp_path, "corrected", [corrected])
    return {"org": under_org, "reg": under_reg, "corrected": corrected}


def records_of(code: str, number: str) -> list:
    with db.transaction() as session:
        found = find_by_reference(session, code)
        return [r for r in records_of_subject(session, found.id, clock.today()) if r.decision_no == number]


def test_a_decision_both_subjects_have_becomes_one_record_with_both_histories(database, decision_twice):
    (kept,) = records_of(SHOP_USCC, TWICE)
    (folded,) = records_of(SHOP_REG_NO, TWICE)
    assert len(folded.versions) == 2
    preview = merge(SHOP_USCC, SHOP_REG_NO, apply=False)
    (combined,) = preview.combined
    assert (combined.decision_no, combined.kept_record_id, combined.folded_record_id, combined.versions) == (
        TWICE, kept.id, folded.id, 3)
    assert combined.current_from_record_id == folded.id and not combined.revoked
    assert preview.records_after == 3 + 2 - 1
    merge(SHOP_USCC, SHOP_REG_NO)
    (record,) = records_of(SHOP_REG_NO, TWICE)
    assert record.id == kept.id
    # ordered as received: the organisation code's row, the registration number's, its correction
    assert [v.version for v in record.versions] == [1, 2, 3]
    assert [v.provenance.batch_id for v in record.versions] == [
        kept.versions[0].provenance.batch_id, *(v.provenance.batch_id for v in folded.versions)]
    assert [v.status_label for v in record.versions] == ["已更正", "已更正", "公示中"]
    assert record.current.data["penalty_content"] == "责令改正，处以罚款（更正）"
    with database.connect() as conn:
        assert conn.scalar(select(Record.id).where(Record.id == folded.id)) is None
        after = json.loads(conn.scalar(select(AuditEntry.after).where(AuditEntry.action == "subject.merge")))
    assert len(shown(SHOP_USCC)[1]) == 4
    # the audit entry says which version became which (earlier entries name the old numbers)
    (entry,) = after["combined_records"]
    assert (entry["kept_record_id"], entry["folded_record_id"], entry["versions"]) == (kept.id, folded.id, 3)
    assert [(r["record_id"], r["version"], r["now"]) for r in entry["renumbered"]] == [
        (kept.id, 1, 1), (folded.id, 1, 2), (folded.id, 2, 3)]


def test_a_decision_revoked_under_one_subject_only_stays_in_force_and_the_preview_says_so(decision_twice):
    (folded,) = records_of(SHOP_REG_NO, TWICE)
    with db.transaction() as session:
        revoke_record(session, folded.id, reason="重复报送", actor="cli:test", ip=None)
    preview = merge(SHOP_USCC, SHOP_REG_NO, apply=False)
    (combined,) = preview.combined
    assert not combined.revoked and "重复报送" in (combined.dropped_revocation or "")
    merge(SHOP_USCC, SHOP_REG_NO)
    (record,) = records_of(SHOP_USCC, TWICE)
    assert record.revoked_at is None and record.status_label == "公示中"


def test_a_dropped_revocation_stored_with_an_id_in_clear_is_masked_in_the_merges_audit_entry(database,
                                                                                           decision_twice):
    """A revocation's reason stored before revocations masked ids still holds one: the merge that
    drops the revocation names it in its audit entry, masked."""
    (folded,) = records_of(SHOP_REG_NO, TWICE)
    with db.transaction() as session:
        revoke_record(session, folded.id, reason="重复报送", actor="cli:test", ip=None)
    with database.begin() as conn:  # as an earlier revocation stored it
        conn.execute(sa.update(Record).where(Record.id == folded.id)
                     .values(revoke_reason="重复报送，经营者ID130102198503070312"))
    merge(SHOP_USCC, SHOP_REG_NO)
    with database.connect() as conn:
        after = conn.scalar(select(AuditEntry.after).where(AuditEntry.action == "subject.merge"))
    (combined,) = json.loads(after)["combined_records"]
    assert combined["dropped_revocation"].endswith("重复报送，经营者ID1301**********0312")
    assert "130102198503070312" not in after


def test_a_decision_revoked_under_both_subjects_stays_revoked(decision_twice):
    (kept,) = records_of(SHOP_USCC, TWICE)
    (folded,) = records_of(SHOP_REG_NO, TWICE)
    with db.transaction() as session:
        revoke_record(session, kept.id, reason="决定已被撤销", actor="cli:test", ip=None)
    with clock.frozen(dt.datetime(2026, 11, 21, 15, 30, tzinfo=clock.CHINA_TZ)), db.transaction() as session:
        revoke_record(session, folded.id, reason="决定已被撤销（复议）", actor="cli:test", ip=None)
    assert merge(SHOP_USCC, SHOP_REG_NO).combined[0].revoked
    (record,) = records_of(SHOP_USCC, TWICE)
    assert record.status_label == "已撤销" and record.revoke_reason == "决定已被撤销（复议）"


# --- refusals ---------------------------------------------------------------------------------


def refused(keep: str, other: str) -> str:
    before = snapshot(db.get_engine())
    for apply in (False, True):
        with pytest.raises(SubjectsNotMergeable) as caught:
            merge(keep, other, apply=apply)
    assert snapshot(db.get_engine()) == before
    return caught.value.message


def test_the_same_subject_twice_is_refused(split_shop):
    assert "同一个主体" in refused(SHOP_USCC, SHOP_ORG)  # two codes of one subject


def test_a_natural_person_is_never_merged(tmp_path, split_shop):
    _, rows = sample_rows()
    person = next(r for r in rows if r[CATEGORY] == "自然人")
    send(tmp_path, "person", [person])
    message = refused(SHOP_REG_NO, person["证件号码"])
    assert "自然人" in message and person["证件号码"] not in message


def test_two_different_usccs_are_two_businesses(tmp_path):
    _, rows = sample_rows()
    send(tmp_path, "two", rows[:2])
    message = refused(rows[0][USCC], rows[1][USCC])
    assert "统一社会信用代码不同" in message and rows[0][USCC] in message and rows[1][USCC] in message


def test_two_different_organisation_codes_are_two_businesses(tmp_path):
    _, rows = sample_rows()
    legacy = [dict(r, **{USCC: "", ORG_CODE: r[USCC][8:17]}) for r in rows[:2]]
    send(tmp_path, "legacy", legacy)
    assert "组织机构代码不同" in refused(legacy[0][ORG_CODE], legacy[1][ORG_CODE])


def test_two_different_registration_numbers_are_two_businesses(tmp_path, split_shop):
    other_shop = dict(split_shop["reg_no"], **{REG_NO: make_reg_no("44040264039804"), NAME: "新源二店",
                                               DECISION_NO: "珠海生态罚〔2024〕201号"})
    assert other_shop[REG_NO] != SHOP_REG_NO
    send(tmp_path, "shop2", [other_shop])
    assert "工商注册号不同" in refused(SHOP_REG_NO, other_shop[REG_NO])


def test_an_organisation_code_not_inside_the_other_subjects_uscc_is_another_business(database, tmp_path):
    """A USCC subject stored without its organisation code (before migration 0010, or left empty by
    it) and a subject with another organisation code: the USCC says they are two businesses."""
    _, rows = sample_rows()
    company, stranger = rows[0], rows[1]
    send(tmp_path, "a", [company, dict(stranger, **{USCC: "", ORG_CODE: stranger[USCC][8:17]})])
    with database.begin() as conn:
        conn.execute(sa.update(Subject).where(Subject.uscc == company[USCC]).values(org_code=None))
    message = refused(company[USCC], stranger[USCC][8:17])
    assert company[USCC][8:17] in message and stranger[USCC][8:17] in message


def test_a_company_and_an_individual_business_are_two_subjects(tmp_path, split_shop):
    _, rows = sample_rows()
    send(tmp_path, "company", [rows[0]])
    message = refused(rows[0][USCC], SHOP_REG_NO)
    assert "个体工商户" in message and "92" in message


def test_an_individual_business_recorded_as_an_organisation_joins_its_uscc(tmp_path):
    """A department that knew the shop by its organisation code alone called it 法人及非法人组织;
    the USCC (92…) that subject learnt later says it is an individual business: merged with the
    subject known by its registration number, it is one."""
    _, rows = shop_rows()
    send(tmp_path, "org", [dict(rows["org_code"], **{CATEGORY: "法人及非法人组织"})])
    send(tmp_path, "reg", [rows["reg_no"]])
    send(tmp_path, "uscc", [rows["uscc"]])
    assert (subject(SHOP_USCC).kind, subject(SHOP_REG_NO).kind) == ("organisation", "individual_business")
    result = merge(SHOP_USCC, SHOP_REG_NO)
    assert result.kind == "individual_business" and any("92" in note for note in result.notes)
    info, numbers = shown(SHOP_USCC)
    assert (info["kind"], info["category"]) == ("individual_business", "个体工商户")
    assert numbers == sorted([FROM_REG_NO, FROM_ORG, FROM_USCC])


@pytest.mark.parametrize("keep_by", ["org_code", "reg_no"])
def test_without_a_uscc_the_kept_subject_decides_the_kind_and_the_preview_says_so(tmp_path, keep_by):
    _, rows = shop_rows()
    send(tmp_path, "org", [dict(rows["org_code"], **{CATEGORY: "法人及非法人组织"})])
    send(tmp_path, "reg", [rows["reg_no"]])
    keep, other = (SHOP_ORG, SHOP_REG_NO) if keep_by == "org_code" else (SHOP_REG_NO, SHOP_ORG)
    kept_kind = subject(keep).kind
    preview = merge(keep, other, apply=False)
    assert preview.kind == kept_kind and any("都没有统一社会信用代码" in note for note in preview.notes)
    merge(keep, other)
    assert subject(SHOP_ORG).id == subject(SHOP_REG_NO).id and subject(SHOP_ORG).kind == kept_kind


def test_a_merge_needs_a_reason(split_shop):
    with pytest.raises(XinyongError) as caught:
        merge(SHOP_USCC, SHOP_REG_NO, reason="  ")
    assert "原因" in caught.value.message
    assert subject(SHOP_REG_NO).id != subject(SHOP_USCC).id


def test_a_subject_number_that_does_not_exist_is_not_found(split_shop):
    with pytest.raises(NotFound):
        find_by_reference_in_session("id:999999")


def find_by_reference_in_session(raw: str) -> Subject:
    with db.transaction() as session:
        return find_by_reference(session, raw)


def test_find_by_code_still_reads_codes_only(split_shop):
    with db.transaction() as session, pytest.raises(XinyongError):
        find_by_code(session, "id:1")


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # SQLite has one writer at a time
def test_a_merge_holds_back_intakes_until_it_commits(database, split_shop):
    """On PostgreSQL a merge takes the locks an intake takes first (one per kind), so that no batch
    stores a record for the subject being merged away."""
    from xinyong.ingest.service import KINDS

    def free(kind: str) -> bool:
        with database.connect() as conn:
            return conn.scalar(sa.text("SELECT pg_try_advisory_xact_lock(hashtext(:k))"), {"k": f"ingest:{kind}"})

    with db.transaction() as session:
        merge_subjects(session, find_by_reference(session, SHOP_USCC).id, find_by_reference(session, SHOP_REG_NO).id,
                       reason="同一个体工商户", actor="cli:test", apply=True)
        assert not any(free(kind) for kind in KINDS)
    assert all(free(kind) for kind in KINDS)
