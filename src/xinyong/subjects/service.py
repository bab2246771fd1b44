"""Finding subjects by any of their codes, and describing them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.core import ids
from xinyong.core.crypto import get_keyring
from xinyong.core.errors import NotFound, XinyongError
from xinyong.subjects.models import LegalRepresentative, Subject, SubjectName
from xinyong.subjects.schemas import LegalRepresentativeOut, NameOut, SubjectOut

KIND_LABELS = {
    "organisation": "法人和非法人组织",
    "individual_business": "个体工商户",
    "natural_person": "自然人",
}
RESIDENT_ID_TYPE = "身份证"


def find_by_code(session: Session, raw: str) -> Subject:
    """The subject with this USCC, organisation code, registration number or resident id."""
    code = ids.normalize_code(raw)
    if not code:
        raise XinyongError("请输入统一社会信用代码、组织机构代码、工商注册号或公民身份号码")
    subject: Subject | None = None
    if len(code) == 18:
        # About one resident id in 31 also passes the USCC checksum: try both readings.
        uscc = code if ids.is_valid_uscc(code) else None
        ric = _resident_id(code)
        if uscc is None and ric is None:
            raise XinyongError(f"代码 {_shown(code)} 既不是有效的统一社会信用代码，也不是有效的公民身份号码")
        if uscc is not None:
            subject = session.scalar(select(Subject).where(Subject.uscc == uscc))
        if subject is None and ric is not None:
            index = get_keyring().blind_index(f"{RESIDENT_ID_TYPE}:{ric}")
            subject = session.scalar(select(Subject).where(Subject.person_index == index))
        if subject is None and uscc is not None:
            subject = session.scalar(
                select(Subject).where(Subject.org_code == ids.uscc_org_code(uscc), Subject.uscc.is_(None))
            )
    elif len(code) == 9:
        org = ids.validate_org_code(code)
        subject = session.scalar(select(Subject).where(Subject.org_code == org))
    elif len(code) == 15:
        reg = ids.validate_reg_no(code)
        subject = session.scalar(select(Subject).where(Subject.reg_no == reg))
    else:
        raise XinyongError(
            f"无法识别的代码：{_shown(code)}"
            "（应为 18 位统一社会信用代码或公民身份号码、9 位组织机构代码或 15 位工商注册号）"
        )
    if subject is None:
        raise NotFound(f"平台中没有代码为 {_shown(code)} 的信用主体")
    return subject


def _resident_id(code: str) -> str | None:
    try:
        return ids.validate_ric(code).number
    except ids.InvalidCode:
        return None


def _shown(code: str) -> str:
    """The code as it may appear in a message: anything that may be a resident id is masked."""
    if len(code) < 16 or (ids.is_valid_uscc(code) and _resident_id(code) is None):
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
        legal_representatives=[
            LegalRepresentativeOut(
                name=r.name, id_type=r.id_type or None, id_masked=r.id_masked,
                first_seen_on=r.first_seen_on, last_seen_on=r.last_seen_on,
            )
            for r in reps
        ],
    )


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
