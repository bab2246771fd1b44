"""Finding subjects by any of their codes, and describing them."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, NoReturn

from rapidfuzz import fuzz
from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Integer,
    and_,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts_service
from xinyong.core import ids
from xinyong.core.crypto import get_keyring
from xinyong.core.db import HotQuery
from xinyong.core.errors import NotFound, XinyongError
from xinyong.core.names import normalize_name
from xinyong.records import service as records_service
from xinyong.records.service import PublicRecord, public, published_for
from xinyong.subjects.models import LegalRepresentative, Subject, SubjectName
from xinyong.subjects.schemas import (
    MAX_PER_PAGE,
    CodedSubject,
    CodeUnderNames,
    CombinedDecisionOut,
    DuplicateCodes,
    LegalRepresentativeOut,
    MergeResult,
    MergeSide,
    NameOut,
    NameUnderCodes,
    SearchHit,
    SearchResult,
    SubjectOut,
)

KIND_LABELS = {
    "organisation": "法人和非法人组织",
    "individual_business": "个体工商户",
    "natural_person": "自然人",
}
RESIDENT_ID_TYPE = ids.RESIDENT_ID_TYPE


class ResidentIdInUrl(XinyongError):
    """A resident id in a URL. Persons are looked up by their id number only through a request body
    (the search form, ``POST /api/v1/subjects/search``), so that the number is not written to
    browser histories, proxies and access logs; in URLs they are ``ZRR-<id>``. The number is not
    echoed."""

    code = "resident_id_in_url"

    def __init__(self) -> None:
        super().__init__(
            "为保护个人信息，网址中不能含有公民身份号码，本次请求未予查询。"
            "按公民身份号码查询自然人，请在首页的查询框中输入号码后点击“查询”（号码随表单提交，不会出现在网址中）；"
            "其他系统请调用 POST /api/v1/subjects/search，把号码放在请求体中。"
            "自然人的信用信息页网址形如 /subjects/ZRR-编号，可从查询结果中打开。"
        )


def refuse_resident_id_in_url(raw: str) -> None:
    """Raises ResidentIdInUrl when ``raw`` (a code or query taken from a URL) is or holds a resident
    id, of 18 digits or an old one of 15, however its digits are grouped. A number that is also a
    valid USCC (about one id in 31), or an old id that is also a valid 工商注册号 (about one in 10),
    passes: callers read it as that code only, and refuse it when no subject has it
    (``_not_found_in_url``)."""
    code = ids.normalize_code(raw)
    if (len(code) == 18 and ids.is_valid_uscc(code)) or (len(code) == 15 and ids.is_valid_reg_no(code)):
        return
    if _may_be_resident_id(code) or ids.mask_resident_ids(raw)[1]:
        raise ResidentIdInUrl()


def find_by_code(session: Session, raw: str) -> Subject:
    """The subject with this USCC, organisation code, registration number or resident id."""
    code = ids.normalize_code(raw)
    for way, value in _code_lookups(code):
        subject = session.scalar(_SUBJECT_BY[way], {"value": value})
        if subject is not None:
            return subject
    raise NotFound(f"平台中没有代码为 {_shown(code)} 的信用主体")


# The ways a code may address a subject, as conditions on one bound value. Statements are built
# once: lookups by code are the platform's most frequent request.
_WAYS: dict[str, ColumnElement[bool]] = {
    "uscc": Subject.uscc == bindparam("value"),
    "person": Subject.person_index == bindparam("value"),
    # a legacy subject known only by the organisation code inside a USCC
    "org_in_uscc": and_(Subject.org_code == bindparam("value"), Subject.uscc.is_(None)),
    "org_code": Subject.org_code == bindparam("value"),
    "reg_no": Subject.reg_no == bindparam("value"),
    "id": Subject.id == bindparam("value"),
}
_SUBJECT_BY = {way: select(Subject).where(condition).order_by(Subject.id).limit(1) for way, condition in _WAYS.items()}


def _code_lookups(code: str, *, resident_ids: bool = True) -> list[tuple[str, str | int]]:
    """How a normalised code may address a subject, in order of preference (the first that finds
    a subject wins); a resident id only when ``resident_ids``. Raises XinyongError, in Chinese,
    for a code that is not valid."""
    if not code:
        raise XinyongError("请输入统一社会信用代码、组织机构代码、工商注册号或公民身份号码")
    if code == ids.PLACEHOLDER_USCC:
        raise XinyongError(f"{code} 是没有统一社会信用代码的个体工商户共用的占位代码，不指向某一个主体："
                           "请用该个体工商户的工商注册号或名称查找")
    if len(code) == 18:
        # About one resident id in 31 also passes the USCC checksum: try both readings.
        uscc = code if ids.is_valid_uscc(code) else None
        ric = _resident_id(code)
        if uscc is None and ric is None:
            raise XinyongError(f"代码 {_shown(code)} 既不是有效的统一社会信用代码，也不是有效的公民身份号码")
        lookups: list[tuple[str, str | int]] = []
        if uscc is not None:
            lookups.append(("uscc", uscc))
        if ric is not None and resident_ids:
            lookups.append(("person", get_keyring().blind_index(f"{RESIDENT_ID_TYPE}:{ric}")))
        if uscc is not None:
            lookups.append(("org_in_uscc", ids.uscc_org_code(uscc)))
        return lookups
    if len(code) == 9:
        return [("org_code", ids.validate_org_code(code))]
    if len(code) == 15:
        return [("reg_no", ids.validate_reg_no(code))]
    raise XinyongError(
        f"无法识别的代码：{_shown(code)}"
        "（应为 18 位统一社会信用代码或公民身份号码、9 位组织机构代码或 15 位工商注册号）"
    )


def _resident_id(code: str) -> str | None:
    try:
        return ids.validate_ric(code).number
    except ids.InvalidCode:
        return None


def _may_be_resident_id(code: str) -> bool:
    """Whether a normalised code reads as a resident id: a valid 18-character one, or an old
    15-digit one (which a 工商注册号 may be as well: its check digit tells, see ``ids.is_old_ric``)."""
    return _resident_id(code) is not None or ids.is_old_ric(code)


_ID_SHAPE = re.compile(r"\d{17}[\dX]|\d{15}")  # what a resident id (or an old one) looks like


def _shown(code: str) -> str:
    """The code as it may appear in a message: anything that may be a resident id is masked."""
    if ids.is_old_ric(code):
        return ids.mask_ric(code)
    if len(code) < 16 or (ids.is_valid_uscc(code) and _resident_id(code) is None):
        return code
    if not _ID_SHAPE.fullmatch(code):  # letters inside: a mistyped USCC, never an id
        return code
    return ids.mask_ric(code)


def get_subject(session: Session, subject_id: int) -> Subject:
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound(f"信用主体 {subject_id} 不存在")
    return subject


def describe(session: Session, subject: Subject) -> SubjectOut:
    names = session.scalars(
        select(SubjectName).where(SubjectName.subject_id == subject.id).order_by(SubjectName.first_seen_on)
    )
    reps = session.scalars(
        select(LegalRepresentative)
        .where(LegalRepresentative.subject_id == subject.id)
        .order_by(LegalRepresentative.first_seen_on)
    )
    return SubjectOut(
        id=subject.id,
        kind=subject.kind,
        kind_label=KIND_LABELS.get(subject.kind, subject.kind),
        category=subject.category,
        name=subject.name,
        uscc=subject.uscc,
        org_code=subject.org_code,
        reg_no=subject.reg_no,
        person_id_type=subject.person_id_type,
        person_id_masked=subject.person_masked,
        area_code=subject.area_code,
        names=[NameOut(name=n.name, first_seen_on=n.first_seen_on, last_seen_on=n.last_seen_on) for n in names],
        former_names=former_names(session, subject),
        legal_representatives=[
            LegalRepresentativeOut(
                name=r.name, id_type=r.id_type or None, id_masked=r.id_masked,
                first_seen_on=r.first_seen_on, last_seen_on=r.last_seen_on,
            )
            for r in reps
        ],
    )


def person_id_in_clear(session: Session, subject_id: int) -> str | None:
    """A natural person's document number, decrypted — for a department correcting its own record;
    never for display."""
    cipher = session.scalar(select(Subject.person_cipher).where(Subject.id == subject_id))
    return get_keyring().decrypt(cipher) if cipher else None


def legal_representative_id_in_clear(session: Session, subject_id: int, name: str, masked: str) -> str | None:
    """The document number of the subject's legal representative ``name`` shown as ``masked``,
    decrypted — for a department correcting its own record; never for display."""
    cipher = session.scalar(
        select(LegalRepresentative.id_cipher).where(
            LegalRepresentative.subject_id == subject_id,
            LegalRepresentative.name == name,
            LegalRepresentative.id_masked == masked,
        ).limit(1)
    )
    return get_keyring().decrypt(cipher) if cipher else None


def legal_representative_indexes(
    session: Session, wanted: set[tuple[int, str]],
) -> dict[tuple[int, str, str | None], str]:
    """The blind index of the id of each (subject id, masked id) of a legal representative, by
    (subject id, masked id, name) — the name registered with it — and by (subject id, masked id,
    None) for any name (the first registered): for an intake that must count a kept id as its
    blind index (the version holds it masked)."""
    found: dict[tuple[int, str, str | None], str] = {}
    subjects = sorted({subject_id for subject_id, _masked in wanted})
    for start in range(0, len(subjects), 500):
        rows = session.execute(
            select(LegalRepresentative.subject_id, LegalRepresentative.name, LegalRepresentative.id_masked,
                   LegalRepresentative.id_index)
            .where(LegalRepresentative.subject_id.in_(subjects[start:start + 500]),
                   LegalRepresentative.id_index != "")
            .order_by(LegalRepresentative.id))
        for subject_id, name, masked, index in rows:
            if (subject_id, masked) in wanted:
                found.setdefault((subject_id, masked, name), index)
                found.setdefault((subject_id, masked, None), index)
    return found


def examples(session: Session, per_kind: int = 2) -> list[tuple[str, str, str]]:
    """A few subjects of each kind with the code to look them up by (for demos and operators).

    The code of a natural person is decrypted: callers show it only to operators.
    """
    out: list[tuple[str, str, str]] = []
    for kind, label in KIND_LABELS.items():
        subjects = session.scalars(select(Subject).where(Subject.kind == kind).order_by(Subject.id).limit(per_kind))
        for s in subjects:
            if s.uscc:
                code = s.uscc
            elif s.person_cipher:
                code = get_keyring().decrypt(s.person_cipher)
            else:
                code = s.reg_no or s.org_code or ""
            out.append((label, s.name, code))
    return out


# --------------------------------------------------------------------------- merging two subjects
# One business stored as two subjects (a legacy code and a USCC that arrived in the wrong order,
# migration 0010 names them): an administrator merges them. The subjects module orchestrates; the
# records and accounts modules move their own rows.

# the platform's number of a subject, as the command line accepts it besides a code
_SUBJECT_NUMBER = re.compile(r"^\s*id\s*[:：]\s*(\d{1,18})\s*$", re.IGNORECASE)
_MERGED_CODES = (("uscc", "统一社会信用代码"), ("org_code", "组织机构代码"), ("reg_no", "工商注册号"))


class SubjectsNotMergeable(XinyongError):
    """Two subjects that are not one business, or that this merge may not join (persons)."""

    status_code = 409
    code = "subjects_not_mergeable"


def find_by_reference(session: Session, raw: str) -> Subject:
    """A subject by any code ``find_by_code`` reads, or by its number on the platform written
    ``id:15`` (what ``subject show`` and the migrations' notes give: a code held by two subjects
    of a business split in two finds only one of them)."""
    match = _SUBJECT_NUMBER.match(raw or "")
    if match:
        subject = session.get(Subject, int(match.group(1)))
        if subject is None:
            raise NotFound(f"平台中没有编号为 {match.group(1)} 的信用主体")
        return subject
    return find_by_code(session, raw)


def _shown_subject(subject: Subject) -> str:
    return f"“{subject.name}”（编号 {subject.id}）"


def _merge_code(subject: Subject, field: str) -> str | None:
    value = getattr(subject, field)
    if field == "uscc" and value and ids.is_placeholder_uscc(value):
        return None  # the individual businesses' shared placeholder is nobody's code
    return value or None


def _merged_kind(keep: Subject, other: Subject) -> tuple[Subject, list[str]]:
    """The subject whose kind (and category) the merged one takes; refuses subjects that are not
    one business (SubjectsNotMergeable), and says why the kind is what it is when the two differ."""
    for subject in (keep, other):
        if subject.kind == "natural_person":
            raise SubjectsNotMergeable(
                f"{_shown_subject(subject)}是自然人：自然人以身份证件识别，证件号码不同即为不同的人，"
                "不能合并", code="merge_natural_person")
    for field, label in _MERGED_CODES:
        a, b = _merge_code(keep, field), _merge_code(other, field)
        if a and b and a != b:
            raise SubjectsNotMergeable(
                f"两个主体的{label}不同（{_shown_subject(keep)}为 {a}，{_shown_subject(other)}为 {b}），"
                "是两个不同的主体，不能合并", code="merge_codes_differ")
    uscc = _merge_code(keep, "uscc") or _merge_code(other, "uscc")
    if uscc:
        holder, rest = (keep, other) if _merge_code(keep, "uscc") else (other, keep)
        inner = ids.uscc_org_code(uscc)
        if holder.org_code is None and rest.org_code and rest.org_code != inner:
            raise SubjectsNotMergeable(
                f"{_shown_subject(holder)}的统一社会信用代码 {uscc} 中的组织机构代码为 {inner}，"
                f"而{_shown_subject(rest)}的组织机构代码为 {rest.org_code}：两个代码不属于同一个主体，不能合并",
                code="merge_codes_differ")
    if keep.kind == other.kind:
        return keep, []
    labels = {s.id: KIND_LABELS.get(s.kind, s.kind) for s in (keep, other)}
    business = keep if keep.kind == "individual_business" else other
    if uscc and not ids.is_individual_business_uscc(uscc):
        holder_label = ids.uscc_kind(uscc)[1]
        raise SubjectsNotMergeable(
            f"统一社会信用代码 {uscc} 不是个体工商户的代码（个体工商户的代码以 92 开头"
            f"{'' if holder_label == '未知' else '，这是' + holder_label + '的代码'}），"
            f"而{_shown_subject(business)}登记为个体工商户："
            "个体工商户与企业等组织是不同的主体（个体工商户转为企业须另行登记），不能合并",
            code="merge_kinds_differ")
    if uscc:
        return business, [f"两个主体的类型不同（{labels[keep.id]}、{labels[other.id]}）：统一社会信用代码 "
                          f"{uscc} 以 92 开头，是个体工商户的代码，合并后的主体为个体工商户"]
    return keep, [f"两个主体的类型不同（{labels[keep.id]}、{labels[other.id]}），且都没有统一社会信用代码："
                  f"合并后的主体按保留的主体，为{labels[keep.id]}；如应为另一类型，请以另一主体为保留的主体"]


def _read_both(session: Session, keep_id: int, other_id: int, *, lock: bool) -> tuple[Subject, Subject]:
    """Both subjects, read again; with ``lock``, locked until the transaction ends (in id order:
    two merges of the same pair wait for each other instead of deadlocking)."""
    found = {}
    for subject_id in sorted((keep_id, other_id)):
        subject = session.get(Subject, subject_id, with_for_update=lock, populate_existing=True)
        if subject is None:
            raise NotFound(f"信用主体 {subject_id} 不存在")
        found[subject_id] = subject
    return found[keep_id], found[other_id]


def _subject_facts(subject: Subject) -> dict[str, Any]:
    """What the audit log keeps of a merged subject: its public codes (persons are never merged)."""
    return {"id": subject.id, "kind": subject.kind, "name": subject.name, "uscc": subject.uscc,
            "org_code": subject.org_code, "reg_no": subject.reg_no, "area_code": subject.area_code}


def merge_subjects(
    session: Session, keep_id: int, other_id: int, *, reason: str | None, actor: str, apply: bool,
) -> MergeResult:
    """Merge subject ``other_id`` into ``keep_id``: one business stored as two subjects. Without
    ``apply`` it only says what it would do, and writes nothing; with it, everything happens in
    the caller's transaction and is audited (``subject.merge``, with the reason, which is then
    required).

    Refused (SubjectsNotMergeable) when the two are one subject, either is a natural person, they
    hold different values of one code, the organisation code of one's USCC is not the other's, or
    the USCC is an organisation's while the other subject is an individual business.

    ``keep`` gains the codes it lacks; ``other``'s name history and legal representatives move to
    it (a name or representative both have becomes one row spanning both periods); the current
    name is the one with the later decision date (``keep``'s on a tie); the records service moves
    the records and versions (a decision both have a record of becomes one record,
    ``records.service.move_records``), the accounts service the subject's user accounts; then
    ``other`` is deleted. On PostgreSQL intakes wait until the merge commits."""
    from xinyong.core import audit
    from xinyong.ingest import service as ingest  # ingest resolves rows to subjects: imported here

    # kept in the audit log for good: an id typed into it is masked as intake masks texts
    reason = ids.mask_resident_ids((reason or "").strip())[0] or None
    if apply and reason is None:
        raise XinyongError("合并信用主体必须填写原因", code="reason_required")
    if keep_id == other_id:
        raise SubjectsNotMergeable(f"保留的主体与并入的主体是同一个主体（编号 {keep_id}），无需合并",
                                   code="merge_same_subject")
    if apply:
        ingest.hold_intakes(session)
    keep, other = _read_both(session, keep_id, other_id, lock=apply)
    kind_from, notes = _merged_kind(keep, other)
    keep_side, other_side = _merge_side(session, keep), _merge_side(session, other)
    before = {"keep": _subject_facts(keep), "other": _subject_facts(other)}

    codes = {field: _merge_code(keep, field) or _merge_code(other, field) for field, _ in _MERGED_CODES}
    codes["area_code"] = keep.area_code or other.area_code
    if codes["uscc"]:
        inner = ids.uscc_org_code(codes["uscc"])
        codes["area_code"] = codes["area_code"] or ids.uscc_area_code(codes["uscc"])
        holders = list(session.scalars(select(Subject.id).where(
            Subject.org_code == inner, Subject.id.not_in((keep.id, other.id))).order_by(Subject.id)))
        if holders:
            notes.append(f"另有主体（编号 {'、'.join(map(str, holders))}）持有统一社会信用代码 {codes['uscc']} 中的"
                         f"组织机构代码 {inner}，可能也是同一主体：请核实后另行合并")
        elif codes["org_code"] is None:
            codes["org_code"] = inner
    gained = {field: value for field, value in codes.items() if value and getattr(keep, field) != value}
    named = other if other.name_as_of > keep.name_as_of else keep
    # read now: ``other`` is deleted before ``keep`` takes them
    kind, category = kind_from.kind, kind_from.category
    name, name_norm, name_as_of = named.name, named.name_norm, named.name_as_of

    keep_names = {n.name_norm: n for n in session.scalars(select(SubjectName).where(SubjectName.subject_id == keep.id))}
    other_names = list(session.scalars(select(SubjectName).where(SubjectName.subject_id == other.id)))
    keep_reps = {(r.name, r.id_index): r for r in session.scalars(
        select(LegalRepresentative).where(LegalRepresentative.subject_id == keep.id))}
    other_reps = list(session.scalars(select(LegalRepresentative).where(LegalRepresentative.subject_id == other.id)))

    moved = records_service.move_records(session, other.id, keep.id, apply=apply)
    users = accounts_service.move_subject_users(session, other.id, keep.id, apply=apply)
    result = MergeResult(
        applied=apply, reason=reason, keep=keep_side, other=other_side,
        kind=kind, kind_label=KIND_LABELS.get(kind, kind), name=name,
        uscc=codes["uscc"], org_code=codes["org_code"], reg_no=codes["reg_no"], area_code=codes["area_code"],
        codes_gained=gained,
        names_moved=sum(n.name_norm not in keep_names for n in other_names),
        names_joined=sum(n.name_norm in keep_names for n in other_names),
        legal_representatives_moved=sum((r.name, r.id_index) not in keep_reps for r in other_reps),
        legal_representatives_joined=sum((r.name, r.id_index) in keep_reps for r in other_reps),
        records_moved=moved.records, versions_moved=moved.versions,
        combined=[CombinedDecisionOut(
            kind_label=c.kind_label, decision_no=c.decision_no, authority_uscc=c.authority_uscc,
            kept_record_id=c.kept_record_id, folded_record_id=c.folded_record_id,
            versions=c.kept_versions + c.folded_versions, current_from_record_id=c.current_from,
            revoked=c.revoked, dropped_revocation=c.dropped_revocation) for c in moved.combined],
        records_after=keep_side.records + other_side.records - len(moved.combined),
        users_moved=users, notes=notes,
    )
    if not apply:
        return result

    for row in other_names:
        kept = keep_names.get(row.name_norm)
        if kept is None:
            row.subject_id = keep.id
            continue
        if row.first_seen_on < kept.first_seen_on:
            kept.first_seen_on, kept.first_batch_id = row.first_seen_on, row.first_batch_id
        kept.last_seen_on = max(kept.last_seen_on, row.last_seen_on)
        session.delete(row)
    for rep in other_reps:
        same = keep_reps.get((rep.name, rep.id_index))
        if same is None:
            rep.subject_id = keep.id
            continue
        same.first_seen_on = min(same.first_seen_on, rep.first_seen_on)
        same.last_seen_on = max(same.last_seen_on, rep.last_seen_on)
        if same.id_cipher is None and rep.id_cipher is not None:
            same.id_type, same.id_cipher, same.id_masked = rep.id_type, rep.id_cipher, rep.id_masked
        session.delete(rep)
    session.flush()
    # ``other`` goes before ``keep`` takes its codes: a USCC is unique, and no lookup by a code
    # may find two subjects
    if other.created_at < keep.created_at:
        keep.created_at, keep.created_batch_id = other.created_at, other.created_batch_id
    session.delete(other)
    session.flush()
    keep.kind, keep.category = kind, category
    keep.name, keep.name_norm, keep.name_as_of = name, name_norm, name_as_of
    for field, value in gained.items():
        setattr(keep, field, value)
    session.flush()
    entry = audit.record(
        session, actor=actor, action=audit.MERGE_ACTION, target_type="subject", target_id=str(keep.id),
        subject_id=keep.id, before=before,
        after={
            "subject": _subject_facts(keep), "merged_subject_id": other_id, "reason": reason,
            "codes_gained": gained, "records_moved": moved.records, "versions_moved": moved.versions,
            # with each version's number before (in its record) and after, which earlier entries
            # (record.deadline) name
            "combined_records": [
                {"kept_record_id": c.kept_record_id, "folded_record_id": c.folded_record_id,
                 "decision_no": c.decision_no, "versions": c.kept_versions + c.folded_versions,
                 "revoked": c.revoked, "dropped_revocation": c.dropped_revocation,
                 "renumbered": [{"record_id": r, "version": v, "now": n} for r, v, n in c.renumbered]}
                for c in moved.combined],
            "users_moved": users, "names_moved": result.names_moved, "names_joined": result.names_joined,
            "legal_representatives_moved": result.legal_representatives_moved,
            "legal_representatives_joined": result.legal_representatives_joined,
        },
    )
    return result.model_copy(update={"audit_seq": entry.seq})


def _merge_side(session: Session, subject: Subject) -> MergeSide:
    return MergeSide(
        **_coded(subject).model_dump(),
        records=records_service.count_records(session, subject.id),
        names=session.scalar(select(func.count()).select_from(SubjectName)
                             .where(SubjectName.subject_id == subject.id)) or 0,
        legal_representatives=session.scalar(select(func.count()).select_from(LegalRepresentative)
                                             .where(LegalRepresentative.subject_id == subject.id)) or 0,
    )


# --------------------------------------------------------------------------- public search
# Candidates come from the database's trigram index (pg_trgm on PostgreSQL, an FTS5 trigram
# table on SQLite, both over current and former names); rapidfuzz orders them.

SEARCH_CANDIDATES = 1000  # ranked at most; a broader query is reported as truncated
MIN_PARTIAL_RATIO = 66.0  # below this a name does not resemble the query
# Subjects with no public code (natural persons) are addressed by this reference, never by the
# document number: a dash cannot appear in a normalised code, so the two never collide.
_PERSON_REF = re.compile(r"^ZRR-(\d{1,18})$")


def public_code(subject: Subject | Any) -> str:
    """How a subject is addressed in public URLs: a public code, never a personal id."""
    if subject.uscc and not ids.is_placeholder_uscc(subject.uscc):
        return subject.uscc
    if subject.reg_no:
        return subject.reg_no
    if subject.org_code:
        return subject.org_code
    return f"ZRR-{subject.id}"


def names_and_public_codes(session: Session, subject_ids: set[int]) -> dict[int, tuple[str, str]]:
    """The name and public code of each of these subjects that exists, in one statement (a
    subject merged into another exists no more)."""
    if not subject_ids:
        return {}
    found = session.scalars(select(Subject).where(Subject.id.in_(sorted(subject_ids))))
    return {subject.id: (subject.name, public_code(subject)) for subject in found}


def find_public(session: Session, code: str) -> Subject:
    """The subject addressed by ``code`` in a public URL (any public code, or a person's reference;
    never a resident id: ResidentIdInUrl)."""
    match = _PERSON_REF.match(code.strip().upper())
    if match:
        subject = session.get(Subject, int(match.group(1)))
        if subject is None or public_code(subject) != f"ZRR-{subject.id}":
            raise NotFound(f"平台中没有编号为 {code.strip()} 的信用主体")
        return subject
    normalized = ids.normalize_code(code)
    for way, value in _url_lookups(code):
        subject = session.scalar(_SUBJECT_BY[way], {"value": value})
        if subject is not None:
            return subject
    _not_found_in_url(normalized)


def _url_lookups(code: str) -> list[tuple[str, str | int]]:
    """How a code taken from a URL may address a subject: as ``_code_lookups``, never by a
    resident id (ResidentIdInUrl); a malformed code addresses no subject (NotFound)."""
    refuse_resident_id_in_url(code)
    try:
        return _code_lookups(ids.normalize_code(code), resident_ids=False)
    except XinyongError as exc:
        raise NotFound(exc.message) from None


def _not_found_in_url(code: str) -> NoReturn:
    """No subject has ``code`` (normalised, from a URL). A number that is a resident id as well as
    a USCC (or an old id as well as a 工商注册号) was looked up as that code only: it is refused as
    an id, not reported missing."""
    if _may_be_resident_id(code):
        raise ResidentIdInUrl()
    raise NotFound(f"平台中没有代码为 {_shown(code)} 的信用主体")


@dataclass(frozen=True)
class PublicSubject:
    """A subject as the public sees it (public codes only) and its former names, oldest first."""

    hit: SearchHit
    former_names: list[str]


def _typed_null(column: Any) -> Any:
    return cast(null(), column.type).label(column.name)


def _public_profile_statement(way: str) -> CompoundSelect:
    """One statement for a subject's public page: its registry row once per former name (part 0)
    and its records in their publication window (part 1), as a UNION ALL, so that the hot lookup
    costs one round trip to the database. The records' side comes from the records service."""
    subject_id = select(Subject.id).where(_WAYS[way]).order_by(Subject.id).limit(1).scalar_subquery()
    records = published_for(subject_id).order_by(None)
    subject_columns = [
        Subject.id.label("s_id"), Subject.kind.label("s_kind"), Subject.uscc.label("s_uscc"),
        Subject.org_code.label("s_org_code"), Subject.reg_no.label("s_reg_no"), Subject.name.label("s_name"),
        Subject.name_norm.label("s_name_norm"), Subject.person_masked.label("s_person_masked"),
        Subject.area_code.label("s_area_code"), SubjectName.name.label("s_former_name"),
        SubjectName.first_seen_on.label("s_first_seen_on"), SubjectName.id.label("s_name_id"),
    ]
    names = (
        select(*[_typed_null(c) for c in records.selected_columns], literal_column("0", Integer).label("part"),
               *subject_columns)
        .select_from(Subject)
        .outerjoin(SubjectName, and_(SubjectName.subject_id == Subject.id,
                                     SubjectName.name_norm != Subject.name_norm))
        .where(Subject.id == subject_id)
    )
    records = records.add_columns(literal_column("1", Integer).label("part"),
                                  *[_typed_null(c) for c in subject_columns])
    return union_all(records, names)


_PUBLIC_PROFILE_BY = {way: HotQuery(_public_profile_statement(way)) for way in _WAYS}


@dataclass(frozen=True)
class _SubjectRow:
    id: int
    kind: str
    uscc: str | None
    org_code: str | None
    reg_no: str | None
    name: str
    name_norm: str
    person_masked: str | None
    area_code: str | None


def public_profile(
    connection: Connection, code: str, today: dt.date, audience: str = "public"
) -> tuple[PublicSubject, list[PublicRecord]]:
    """The subject addressed by ``code`` in a public URL (any code, or a person's reference), its
    former names, and its records in their publication window as ``audience`` may see them — in
    one statement for each way of reading the code (usually one): the public API's hot path. A
    resident id is refused (ResidentIdInUrl), as by ``find_public``."""
    match = _PERSON_REF.match(code.strip().upper())
    lookups: list[tuple[str, str | int]] = [("id", int(match.group(1)))] if match else _url_lookups(code)
    subject_rows: list[Any] = []
    record_rows: list[Any] = []
    for way, value in lookups:
        rows = _PUBLIC_PROFILE_BY[way].rows(connection, {"value": value, "today": today})
        subject_rows = [r for r in rows if r.part == 0]
        if subject_rows:
            record_rows = [r for r in rows if r.part == 1]
            break
    first = subject_rows[0] if subject_rows else None
    subject = None if first is None else _SubjectRow(
        id=first.s_id, kind=first.s_kind, uscc=first.s_uscc, org_code=first.s_org_code, reg_no=first.s_reg_no,
        name=first.s_name, name_norm=first.s_name_norm, person_masked=first.s_person_masked,
        area_code=first.s_area_code,
    )
    if subject is None and not match:
        _not_found_in_url(ids.normalize_code(code))
    if subject is None or (match and public_code(subject) != f"ZRR-{subject.id}"):
        raise NotFound(f"平台中没有编号为 {code.strip()} 的信用主体")
    named = sorted((r for r in subject_rows if r.s_former_name is not None),
                   key=lambda r: (r.s_first_seen_on, r.s_name_id))
    former = list(dict.fromkeys(r.s_former_name for r in named))
    record_rows.sort(key=lambda r: (r.decision_date, r.id), reverse=True)
    return PublicSubject(hit=_hit(subject), former_names=former), public(record_rows, today, audience)


def shown_query(text: str) -> str:
    """A query as it may be echoed back: a personal id in it is masked."""
    code = ids.normalize_code(text)
    if code.isascii() and code.isalnum() and len(code) >= 15:
        return _shown(code)
    return ids.mask_resident_ids(text)[0]  # an id typed with a name (张三 4404…)


def former_names(session: Session, subject: Subject) -> list[str]:
    """Names the subject appeared under other than its current one, oldest first."""
    names = session.scalars(
        select(SubjectName.name)
        .where(SubjectName.subject_id == subject.id, SubjectName.name_norm != subject.name_norm)
        .order_by(SubjectName.first_seen_on, SubjectName.id)
    )
    return list(dict.fromkeys(names))


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def search(
    connection: Session | Connection, q: str, page: int = 1, per_page: int = 20, *, resident_ids: bool = True
) -> SearchResult:
    """Subjects for a query: a code finds its subject exactly, else names match fuzzily, best first.
    A resident id finds its person only when ``resident_ids``; a query that came in a URL passes
    False and is refused if it holds one (ResidentIdInUrl).

    Runs on a session or, better, on a ``db.read_only()`` connection: one statement (the
    candidates, with what the page shows of their subjects)."""
    # control characters (a NUL from a JSON body) are in no name or code, and no database takes a NUL
    text = _CONTROL.sub("", q or "").strip()
    if not resident_ids:
        refuse_resident_id_in_url(text)
    page = max(1, page)
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    shown = shown_query(text)
    if not text:
        return SearchResult(query="", by_code=False, total=0, page=page, per_page=per_page,
                            truncated=False, items=[])
    code = ids.normalize_code(text)
    if code.isascii() and code.isalnum() and len(code) in (9, 15, 18):
        subject = _public_row_by_code(connection, code, resident_ids)
        if subject is not None:
            items = [_hit(subject)] if page == 1 else []
            return SearchResult(query=shown, by_code=True, total=1, page=page, per_page=per_page,
                                truncated=False, items=items)
        if not resident_ids and _may_be_resident_id(code):
            raise ResidentIdInUrl()  # also a USCC or 工商注册号, of no subject: it was meant as an id
    query = normalize_name(text)
    ranked, truncated = _rank(connection, query)
    window = ranked[(page - 1) * per_page : page * per_page]
    items = [_hit(c, None if c.matched_norm == c.name_norm else c.matched_name, score) for c, score in window]
    return SearchResult(query=shown, by_code=False, total=len(ranked), page=page, per_page=per_page,
                        truncated=truncated, items=items)


_PUBLIC_SUBJECTS = select(Subject.id, Subject.kind, Subject.uscc, Subject.org_code, Subject.reg_no, Subject.name,
                          Subject.name_norm, Subject.person_masked, Subject.area_code)
_PUBLIC_SUBJECT_BY = {way: HotQuery(_PUBLIC_SUBJECTS.where(condition).order_by(Subject.id).limit(1))
                      for way, condition in _WAYS.items()}


def _public_row_by_code(connection: Session | Connection, code: str, resident_ids: bool) -> Any | None:
    try:
        lookups = _code_lookups(code, resident_ids=resident_ids)
    except XinyongError:
        return None
    for way, value in lookups:
        rows = _PUBLIC_SUBJECT_BY[way].rows(_connection(connection), {"value": value})
        if rows:
            return rows[0]
    return None


def _connection(connection: Session | Connection) -> Connection:
    return connection.connection() if isinstance(connection, Session) else connection


def _hit(subject: Subject | Any, matched_name: str | None = None, score: float = 100.0) -> SearchHit:
    return SearchHit(
        subject_id=subject.id,
        name=subject.name,
        kind=subject.kind,
        kind_label=KIND_LABELS.get(subject.kind, subject.kind),
        uscc=subject.uscc if subject.uscc and not ids.is_placeholder_uscc(subject.uscc) else None,
        masked_id=subject.person_masked,
        reg_no=subject.reg_no,
        org_code=subject.org_code,
        area_code=subject.area_code,
        code=public_code(subject),
        matched_name=matched_name,
        score=round(score, 2),
    )


def _score(query: str, name: str) -> float | None:
    """How well ``name`` answers ``query``: a substring beats a near miss; None is no match."""
    if query in name:
        return 100.0 + 100.0 * len(query) / max(len(name), 1)
    partial = fuzz.partial_ratio(query, name)
    if partial < MIN_PARTIAL_RATIO:
        return None
    return 0.8 * partial + 0.2 * fuzz.ratio(query, name)


def _rank(connection: Session | Connection, query: str) -> tuple[list[tuple[Any, float]], bool]:
    """(candidate, score), best first, one per subject: a candidate carries the subject's public
    columns (``_PUBLIC_COLUMNS``), the name that matched (``matched_norm``, and ``matched_name`` as
    sent) and whether that is the current name (``is_current``)."""
    conn = _connection(connection)
    find = _pg_candidates if conn.dialect.name == "postgresql" else _sqlite_candidates
    candidates = find(conn, query)
    truncated = len(candidates) >= SEARCH_CANDIDATES
    best: dict[int, tuple[float, Any]] = {}
    for candidate in candidates:
        score = _score(query, candidate.matched_norm)
        if score is None:
            continue
        score += 0.01 if candidate.is_current else 0.0  # the current name wins a tie with a former one
        if candidate.id not in best or score > best[candidate.id][0]:
            best[candidate.id] = (score, candidate)
    ranked = sorted(best.values(), key=lambda item: (-item[0], len(item[1].matched_norm), item[1].id))
    return [(candidate, score) for score, candidate in ranked], truncated


def _like(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _trigrams(query: str) -> list[str]:
    return list(dict.fromkeys(query[i : i + 3] for i in range(len(query) - 2)))[:40]


_PUBLIC_COLUMNS = "s.id, s.kind, s.uscc, s.org_code, s.reg_no, s.name, s.name_norm, s.person_masked, s.area_code"


def _sqlite_candidates(connection: Connection, query: str) -> list[Any]:
    if len(query) < 3:
        # the trigram index cannot answer a shorter query: scan the (narrow) name table
        condition, params, order = "instr(f.name_norm, :q) > 0", {"q": query}, ""
    else:
        # any shared trigram makes a candidate (a typo spoils only a few); bm25 keeps the best
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in _trigrams(query))
        condition, params, order = "subject_name_fts MATCH :m", {"m": match}, "ORDER BY f.rank"
    # even rowids index current names (2 * subjects.id), odd ones all names (2 * subject_names.id + 1)
    return list(connection.execute(
        text(f"""
            SELECT {_PUBLIC_COLUMNS}, f.name_norm AS matched_norm, coalesce(n.name, s.name) AS matched_name,
                   f.rowid % 2 = 0 OR f.name_norm = s.name_norm AS is_current
            FROM subject_name_fts f
            JOIN subjects s ON s.id = f.subject_id
            LEFT JOIN subject_names n ON f.rowid % 2 = 1 AND n.id = (f.rowid - 1) / 2
            WHERE {condition} {order} LIMIT :n"""),
        {**params, "n": SEARCH_CANDIDATES},
    ))


# Every name a subject appeared under, the current one included, is in ``subject_names``: one
# trigram index answers. ``<%`` is word similarity (the query against the best-matching stretch of
# a name) above ``pg_trgm.word_similarity_threshold``, which ``core.db`` sets for every connection.
# rapidfuzz ranks the candidates; the SQL order only decides which are kept when more than
# SEARCH_CANDIDATES match: names containing the query first, shortest first (as ``_score`` ranks
# them), which costs no trigram similarity per row.
_PG_CANDIDATES = {
    short: HotQuery(text(f"""
        SELECT {_PUBLIC_COLUMNS}, n.name_norm AS matched_norm, n.name AS matched_name,
               n.name_norm = s.name_norm AS is_current
        FROM subject_names n JOIN subjects s ON s.id = n.subject_id
        WHERE {condition}
        ORDER BY n.name_norm LIKE :pat DESC, length(n.name_norm), n.id LIMIT :n"""))
    for short, condition in ((True, "n.name_norm LIKE :pat"), (False, "(n.name_norm LIKE :pat OR :q <% n.name_norm)"))
}


def _pg_candidates(connection: Connection, query: str) -> list[Any]:
    return _PG_CANDIDATES[len(query) < 3].rows(connection, {"q": query, "pat": _like(query), "n": SEARCH_CANDIDATES})


def search_hit(subject: Subject) -> SearchHit:
    """A subject as a search answer shows it (public codes only, personal id masked)."""
    return _hit(subject)


# --------------------------------------------------------------------------- duplicate codes (重码)
# DOMAIN §4: the platform must be able to report one code used for two names and one name under
# two codes (重错码治理). Persons are left out: many people share a name, and their ids are not
# codes of the kind governed here.

_CODED_KINDS = ("organisation", "individual_business")


def _coded(subject: Subject | Any) -> CodedSubject:
    return CodedSubject(
        id=subject.id, kind=subject.kind, kind_label=KIND_LABELS.get(subject.kind, subject.kind),
        name=subject.name, uscc=subject.uscc, org_code=subject.org_code, reg_no=subject.reg_no,
        area_code=subject.area_code,
    )


def _used_together(names: list[NameOut]) -> bool:
    """Whether two names were in use in the same period: one's first use falls strictly inside
    another's span. A rename leaves the old name's last use before (or on) the new one's first."""
    spans = sorted((n.first_seen_on, n.last_seen_on) for n in names)
    last_end = spans[0][1]
    for first, last in spans[1:]:
        if first < last_end:
            return True
        last_end = max(last_end, last)
    return False


def _least_alike(names: list[NameOut]) -> int:
    norms = [normalize_name(n.name) for n in names]
    return round(min(
        fuzz.ratio(a, b) for i, a in enumerate(norms) for b in norms[i + 1:]
    ))


def duplicate_codes(session: Session, *, limit: int | None = None) -> DuplicateCodes:
    """One code under several names, and one name under several codes, with their counts.

    ``limit`` bounds each list (the totals count everything); ``None`` lists all."""
    coded = Subject.kind.in_(_CODED_KINDS)
    subjects_total = session.scalar(select(func.count()).select_from(Subject).where(coded)) or 0

    several_names = (
        select(SubjectName.subject_id).join(Subject, Subject.id == SubjectName.subject_id).where(coded)
        .group_by(SubjectName.subject_id).having(func.count() > 1)
    )
    under_names: list[CodeUnderNames] = []
    rows = session.execute(
        select(Subject, SubjectName.name, SubjectName.first_seen_on, SubjectName.last_seen_on)
        .join(SubjectName, SubjectName.subject_id == Subject.id)
        .where(Subject.id.in_(several_names))
        .order_by(Subject.id, SubjectName.first_seen_on, SubjectName.id)
    )
    current: Subject | None = None
    names: list[NameOut] = []

    def close() -> None:
        if current is not None:
            under_names.append(CodeUnderNames(
                subject=_coded(current), names=names, concurrent=_used_together(names),
                similarity=_least_alike(names),
            ))

    for subject, name, first, last in rows:
        if subject is not current:
            close()
            current, names = subject, []
        names.append(NameOut(name=name, first_seen_on=first, last_seen_on=last))
    close()
    under_names.sort(key=lambda u: (not u.concurrent, u.similarity, u.subject.id))

    shared_norms = (
        select(SubjectName.name_norm).join(Subject, Subject.id == SubjectName.subject_id).where(coded)
        .group_by(SubjectName.name_norm).having(func.count(func.distinct(SubjectName.subject_id)) > 1)
    )
    groups: dict[str, NameUnderCodes] = {}
    for subject, name, norm in session.execute(
        select(Subject, SubjectName.name, SubjectName.name_norm)
        .join(SubjectName, SubjectName.subject_id == Subject.id)
        .where(coded, SubjectName.name_norm.in_(shared_norms))
        .order_by(SubjectName.name_norm, Subject.id)
    ):
        group = groups.setdefault(norm, NameUnderCodes(name=name, subjects=[]))
        if all(s.id != subject.id for s in group.subjects):
            group.subjects.append(_coded(subject))
    under_codes = sorted(groups.values(), key=lambda g: (-len(g.subjects), g.name))

    suspected = {u.subject.id for u in under_names if u.concurrent}
    suspected.update(s.id for g in under_codes for s in g.subjects)
    return DuplicateCodes(
        subjects_total=subjects_total, suspected_subjects=len(suspected),
        under_names_total=len(under_names), concurrent_total=sum(u.concurrent for u in under_names),
        under_names=under_names[:limit], under_codes_total=len(under_codes), under_codes=under_codes[:limit],
    )
