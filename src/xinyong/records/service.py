"""Reading credit records: versions with provenance, and status computed from dates and today."""

from __future__ import annotations

import datetime as dt
import json
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Date, Select, and_, bindparam, case, func, or_, select, update
from sqlalchemy.orm import Session

from xinyong.accounts.models import Department
from xinyong.catalogue.schemas import Disclosure, Item
from xinyong.catalogue.service import get_catalogue
from xinyong.core import clock, ids
from xinyong.core.errors import NotFound, XinyongError
from xinyong.core.names import document_number_key
from xinyong.records.models import Record, RecordVersion
from xinyong.records.schemas import STATUS_LABELS, Provenance, RecordOut, Status, VersionOut

KIND_LABELS = {"penalty": "行政处罚", "licence": "行政许可"}
# joins a record to its current version
IS_CURRENT = and_(RecordVersion.record_id == Record.id, RecordVersion.version == Record.current_version)


def version_status(record: Record, version: RecordVersion, today: dt.date) -> Status:
    """The status of one version on ``today``: never stored, always derived. A version the
    department sent as revoked (the 2016 layout's 当前状态 撤销) is 已撤销, not merely unpublished."""
    status = _status(record.revoked_at, version.version, record.current_version, version.published,
                     version.publication_end, today)
    if status is Status.NOT_PUBLISHED and _revoked_by_sender(record.kind, version.data):
        return Status.REVOKED
    return status


def _revoked_by_sender(kind: str, data: str) -> bool:
    catalogue = get_catalogue()
    revoked = catalogue.unpublished_statuses(catalogue.item(kind))
    return bool(revoked) and json.loads(data).get("record_status_2016") in revoked


def _status(
    revoked_at: dt.datetime | None, version: int, current_version: int, published: bool,
    publication_end: dt.date | None, today: dt.date,
) -> Status:
    if revoked_at is not None:
        return Status.REVOKED
    if version < current_version:
        return Status.CORRECTED
    if not published:
        return Status.NOT_PUBLISHED
    if publication_end is not None and today > publication_end:
        return Status.PUBLICATION_ENDED
    return Status.PUBLISHED


def records_of_subject(session: Session, subject_id: int, today: dt.date) -> list[RecordOut]:
    """Every record of a subject, newest decision first, each with all its versions."""
    records = list(
        session.scalars(select(Record).where(Record.subject_id == subject_id).order_by(Record.id))
    )
    if not records:
        return []
    by_record: dict[int, list[tuple[RecordVersion, Department]]] = {r.id: [] for r in records}
    rows = session.execute(
        select(RecordVersion, Department)
        .join(Department, Department.id == RecordVersion.department_id)
        .where(RecordVersion.record_id.in_(by_record))
        .order_by(RecordVersion.record_id, RecordVersion.version)
    )
    for version, department in rows:
        by_record[version.record_id].append((version, department))
    sheets = _sheet_lines(session, {v.batch_id for versions in by_record.values() for v, _d in versions})
    out = []
    for record in records:
        versions = [
            _version_out(record, v, d, today, sheets) for v, d in by_record[record.id]
        ]
        status = versions[-1].status if versions else Status.REVOKED
        out.append(
            RecordOut(
                id=record.id,
                kind=record.kind,
                kind_label=KIND_LABELS.get(record.kind, record.kind),
                decision_no=record.decision_no,
                authority_uscc=record.authority_uscc,
                status=status,
                status_label=STATUS_LABELS[status],
                revoked_at=record.revoked_at,
                revoke_reason=record.revoke_reason,
                versions=versions,
            )
        )
    out.sort(key=lambda r: (r.current.decision_date, r.id), reverse=True)
    return out


def _sheet_lines(session: Session, batch_ids: set[int]) -> dict[int, Any]:
    """Where the worksheets of the batches that read several start in their line numbers."""
    from xinyong.ingest import service as ingest  # the intake writes records, so imported here

    return ingest.sheet_lines(session, batch_ids)


def _version_out(record: Record, v: RecordVersion, department: Department, today: dt.date,
                 sheets: dict[int, Any]) -> VersionOut:
    status = version_status(record, v, today)
    sheet, line = sheets[v.batch_id].locate(v.line) if v.batch_id in sheets else (None, v.line)
    return VersionOut(
        version=v.version,
        status=status,
        status_label=STATUS_LABELS[status],
        decision_date=v.decision_date,
        subject_name=v.subject_name,
        penalty_class=v.penalty_class,
        class_reason=v.class_reason,
        class_rule=v.class_rule,
        publication_min_end=v.publication_min_end,
        publication_end=v.publication_end,
        publication_rule=v.publication_rule,
        deadline=v.deadline,
        deadline_provisional=v.deadline_provisional,
        deadline_rule=v.deadline_rule,
        on_time=v.on_time,
        data=json.loads(v.data),
        provenance=Provenance(
            batch_id=v.batch_id,
            line=line,
            sheet=sheet,
            department=department.name,
            department_uscc=department.uscc,
            received_at=v.received_at,
        ),
    )


# ---------------------------------------------------------------------------------------------
# The department workbench: finding, revoking and preparing corrections of records.


class RecordAlreadyRevoked(XinyongError):
    status_code = 409
    code = "record_revoked"


@dataclass(frozen=True)
class RecordRow:
    """One line of the workbench's record list: the record and its current version."""

    id: int
    kind: str
    kind_label: str
    decision_no: str
    subject_name: str
    decision_date: dt.date
    department: str
    status: Status
    status_label: str


def find_record(session: Session, record_id: int) -> Record:
    record = session.get(Record, record_id)
    if record is None:
        raise NotFound(f"记录 {record_id} 不存在")
    return record


def search_records(
    session: Session, *, today: dt.date, department_id: int | None = None, kind: str | None = None,
    q: str | None = None, page: int = 1, per_page: int = 20,
) -> tuple[list[RecordRow], int]:
    """Records (current versions), newest decision first, limited to one department when given."""
    query = (
        select(Record, RecordVersion, Department.name)
        .join(RecordVersion, IS_CURRENT)
        .join(Department, Department.id == Record.department_id)
    )
    if department_id is not None:
        query = query.where(Record.department_id == department_id)
    if kind:
        query = query.where(Record.kind == kind)
    if q and q.strip():
        pattern = f"%{q.strip()}%"
        # a number is found however its brackets, width or spaces are typed
        number = f"%{document_number_key(q)}%"
        query = query.where(or_(Record.decision_key.like(number), RecordVersion.subject_name.like(pattern)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(page, 1)
    rows = session.execute(
        query.order_by(RecordVersion.decision_date.desc(), Record.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    )
    return [_record_row(record, version, department, today) for record, version, department in rows], total


def other_parties(session: Session, record: Record, today: dt.date) -> list[RecordRow]:
    """The records of the other parties of the same decision (共同违法: one decision, a record
    per party), in the order they were received."""
    rows = session.execute(
        select(Record, RecordVersion, Department.name)
        .join(RecordVersion, IS_CURRENT)
        .join(Department, Department.id == Record.department_id)
        .where(Record.kind == record.kind, Record.authority_uscc == record.authority_uscc,
               Record.decision_key == record.decision_key, Record.id != record.id)
        .order_by(Record.id)
    )
    return [_record_row(other, version, department, today) for other, version, department in rows]


def _record_row(record: Record, version: RecordVersion, department: str, today: dt.date) -> RecordRow:
    status = version_status(record, version, today)
    return RecordRow(
        id=record.id, kind=record.kind, kind_label=KIND_LABELS.get(record.kind, record.kind),
        decision_no=record.decision_no, subject_name=version.subject_name,
        decision_date=version.decision_date, department=department, status=status,
        status_label=STATUS_LABELS[status],
    )


def record_detail(session: Session, record: Record, today: dt.date) -> RecordOut:
    """One record with every version and its provenance."""
    rows = session.execute(
        select(RecordVersion, Department)
        .join(Department, Department.id == RecordVersion.department_id)
        .where(RecordVersion.record_id == record.id)
        .order_by(RecordVersion.version)
    )
    rows = list(rows)
    sheets = _sheet_lines(session, {v.batch_id for v, _d in rows})
    versions = [_version_out(record, v, d, today, sheets) for v, d in rows]
    status = versions[-1].status if versions else Status.REVOKED
    return RecordOut(
        id=record.id, kind=record.kind, kind_label=KIND_LABELS.get(record.kind, record.kind),
        decision_no=record.decision_no, authority_uscc=record.authority_uscc, status=status,
        status_label=STATUS_LABELS[status], revoked_at=record.revoked_at,
        revoke_reason=record.revoke_reason, versions=versions,
    )


def revoke_record(session: Session, record_id: int, *, reason: str, actor: str, ip: str | None) -> Record:
    """Revoke a record (it stays stored, shown as 已撤销); the reason is mandatory and audited,
    with any resident id typed into it masked as intake masks texts (the audit log is kept for
    good, and the reason is shown with the record)."""
    from xinyong.core import audit

    reason = ids.mask_resident_ids((reason or "").strip())[0]
    if not reason:
        raise XinyongError("撤销记录必须填写原因", code="reason_required")
    record = find_record(session, record_id)
    if record.revoked_at is not None:
        raise RecordAlreadyRevoked(f"记录 {record.decision_no} 已于 {record.revoked_at:%Y-%m-%d} 撤销")
    before = {"revoked_at": None, "revoke_reason": None}
    record.revoked_at = clock.now()
    record.revoke_reason = reason
    session.flush()
    audit.record(
        session, actor=actor, action="record.revoke", target_type="record", target_id=str(record.id),
        subject_id=record.subject_id, before=before,
        after={"revoked_at": record.revoked_at.isoformat(), "revoke_reason": reason}, ip=ip,
    )
    return record


def current_values(session: Session, record: Record) -> dict[str, str]:
    """The current version's fields as a department would send them again (personal ids decrypted).

    Used to build an online correction: the stored data carries personal ids masked, so the
    clear values come from their encrypted copies.
    """
    from xinyong.subjects import service as subjects  # subjects reads records, so imported here

    version = session.scalar(
        select(RecordVersion).where(RecordVersion.record_id == record.id,
                                    RecordVersion.version == record.current_version)
    )
    if version is None:
        raise NotFound(f"记录 {record.id} 没有版本")
    values: dict[str, str] = {k: str(v) for k, v in json.loads(version.data).items() if v is not None}
    if values.get("id_number"):
        clear = subjects.person_id_in_clear(session, record.subject_id)
        if clear is None and values["id_number"] == values.get("legal_rep_id_number"):
            # an organisation's 证件号码 that repeats its legal representative's id
            clear = subjects.legal_representative_id_in_clear(
                session, record.subject_id, values.get("legal_rep", ""), values["id_number"])
        if clear:
            values["id_number"] = clear
        elif not values["id_number"].isalnum():
            # an organisation's or individual business's 证件号码 is kept masked only: it cannot
            # be sent again (a masked form is no valid number; one stored in clear before is)
            values.pop("id_number")
    if values.get("legal_rep_id_number"):
        clear = subjects.legal_representative_id_in_clear(
            session, record.subject_id, values.get("legal_rep", ""), values["legal_rep_id_number"])
        if clear:
            values["legal_rep_id_number"] = clear
        else:
            values.pop("legal_rep_id_number")
    return values


def department_record_stats(session: Session) -> dict[int, dict[str, object]]:
    """Per department: records; first submissions and how many arrived within the working-day
    limit (a later correction does not count against the deadline); last version received."""
    stats: dict[int, dict[str, object]] = {}
    for department_id, records in session.execute(
        select(Record.department_id, func.count()).group_by(Record.department_id)
    ):
        stats.setdefault(department_id, {})["records"] = records
    on_time = func.sum(case((RecordVersion.on_time.is_(True), 1), else_=0))
    for department_id, versions, timely in session.execute(
        select(RecordVersion.department_id, func.count(), on_time)
        .where(RecordVersion.version == 1)
        .group_by(RecordVersion.department_id)
    ):
        stats.setdefault(department_id, {}).update(versions=versions, on_time=int(timely or 0))
    for department_id, last in session.execute(
        select(RecordVersion.department_id, func.max(RecordVersion.received_at)).group_by(RecordVersion.department_id)
    ):
        stats.setdefault(department_id, {})["last_received"] = last
    return stats


# --------------------------------------------------------------------------- public disclosure
# The one place that decides what of a record leaves the platform: which records (those in their
# publication window on "today") and which of their fields (by the catalogue's disclosure level),
# with personal ids masked. Public pages, the public API and exports all read through here.

AUDIENCES: dict[str, frozenset[Disclosure]] = {
    "public": frozenset({Disclosure.PUBLIC}),
    "government": frozenset({Disclosure.PUBLIC, Disclosure.GOVERNMENT}),
}
def disclose(data: dict[str, Any], item: Item, audience: str = "public") -> dict[str, Any]:
    """The fields of ``data`` that ``audience`` may see, in catalogue order, ids masked."""
    allowed = AUDIENCES[audience]
    out: dict[str, Any] = {}
    for field in item.fields:
        if field.key not in data or field.disclosure not in allowed:
            continue
        value = data[field.key]
        if field.type == "personal_id" and isinstance(value, str) and value and "*" not in value:
            value = ids.mask_ric(value)
        elif isinstance(value, str):
            # intake stored the text masked; masked again as it leaves, for texts stored before
            # intake masked them, or before it knew an id glued to letters or in a 税务登记号
            value = ids.mask_resident_ids(value)[0]
        out[field.key] = value
    return out


@dataclass(frozen=True)
class PublicRecord:
    """A record as the public may see it: current version, in its publication window."""

    id: int
    subject_id: int
    kind: str
    kind_label: str
    decision_no: str
    authority_uscc: str
    department: str
    decision_date: dt.date
    penalty_class: str | None
    publication_end: dt.date | None
    status: Status
    status_label: str
    subject_name: str
    fields: dict[str, Any]

    @property
    def authority_name(self) -> str:
        return str(self.fields.get("authority_name") or self.department)

    @property
    def content(self) -> str:
        key = "penalty_content" if self.kind == "penalty" else "licence_content"
        return str(self.fields.get(key) or "")

    @property
    def legal_basis(self) -> str:
        return str(self.fields.get("legal_basis") or "")


def _in_publication_window(today: dt.date | ColumnElement[dt.date]) -> ColumnElement[bool]:
    """SQL for what ``version_status`` calls PUBLISHED, on the current version (joined)."""
    return and_(
        Record.revoked_at.is_(None),
        RecordVersion.published.is_(True),
        or_(RecordVersion.publication_end.is_(None), RecordVersion.publication_end >= today),
    )


def _published_query() -> Select[Any]:
    # columns rather than entities: public reads are hot, and need no identity map
    return (
        select(
            Record.id, Record.subject_id, Record.kind, Record.decision_no, Record.authority_uscc,
            Record.revoked_at, Record.current_version, RecordVersion.version, RecordVersion.published,
            RecordVersion.publication_end, RecordVersion.decision_date, RecordVersion.penalty_class,
            RecordVersion.subject_name, RecordVersion.data, Department.name.label("department"),
        )
        .join(RecordVersion, IS_CURRENT)
        .join(Department, Department.id == Record.department_id)
    )


def published_for(subject_id: ColumnElement[int]) -> Select[Any]:
    """The statement of a subject's records in their publication window, newest decision first,
    for a subject given as a SQL expression (a bound value, or a subquery of the subject
    registry's); "today" is the bound parameter ``today``. Rows become records with ``public``."""
    return (
        _published_query()
        .where(Record.subject_id == subject_id, RecordVersion.subject_id == subject_id)
        .where(_in_publication_window(bindparam("today", type_=Date)))
        .order_by(RecordVersion.decision_date.desc(), Record.id.desc())
    )


# built once: public subject pages read it on every lookup
_SUBJECT_PUBLISHED = published_for(bindparam("subject_id"))


def public(rows: Iterable[Any], today: dt.date, audience: str = "public") -> list[PublicRecord]:
    """Rows of ``published_for`` (or of the other published statements) as ``audience`` may see them."""
    catalogue = get_catalogue()
    out = []
    for row in rows:
        status = _status(row.revoked_at, row.version, row.current_version, row.published,
                         row.publication_end, today)
        if status is not Status.PUBLISHED:  # the SQL filter agrees; this keeps one definition
            continue
        fields = disclose(json.loads(row.data), catalogue.item(row.kind), audience)
        out.append(
            PublicRecord(
                id=row.id,
                subject_id=row.subject_id,
                kind=row.kind,
                kind_label=KIND_LABELS.get(row.kind, row.kind),
                decision_no=row.decision_no,
                authority_uscc=row.authority_uscc,
                department=row.department,
                decision_date=row.decision_date,
                penalty_class=row.penalty_class,
                publication_end=row.publication_end,
                status=status,
                status_label=STATUS_LABELS[status],
                subject_name=row.subject_name,
                fields=fields,
            )
        )
    return out


def public_records(
    session: Session | Connection, subject_id: int, today: dt.date, audience: str = "public"
) -> list[PublicRecord]:
    """A subject's records in their publication window, newest decision first (one query)."""
    rows = session.execute(_SUBJECT_PUBLISHED, {"subject_id": subject_id, "today": today})
    return public(rows, today, audience)


def authority_city(authority_uscc: str) -> str:
    """The city part (first four digits of the area code) of a deciding authority's USCC."""
    return authority_uscc[2:6]


def published_records(
    session: Session,
    today: dt.date,
    *,
    kind: str | None = None,
    department_id: int | None = None,
    city: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    page: int = 1,
    per_page: int = 20,
) -> tuple[int, list[PublicRecord]]:
    """The latest records in their publication window (双公示), filtered; (total, one page)."""
    conditions: list[ColumnElement[bool]] = [_in_publication_window(today)]
    if kind:
        conditions.append(Record.kind == kind)
    if department_id is not None:
        conditions.append(Record.department_id == department_id)
    if city:
        conditions.append(func.substr(Record.authority_uscc, 3, 4) == city[:4])
    if date_from is not None:
        conditions.append(RecordVersion.decision_date >= date_from)
    if date_to is not None:
        conditions.append(RecordVersion.decision_date <= date_to)
    total = session.scalar(
        select(func.count())
        .select_from(Record)
        .join(RecordVersion, IS_CURRENT)
        .where(*conditions)
    ) or 0
    rows = session.execute(
        _published_query()
        .where(*conditions)
        .order_by(RecordVersion.decision_date.desc(), Record.id.desc())
        .offset((max(page, 1) - 1) * per_page)
        .limit(per_page)
    )
    return total, public(rows, today, "public")


def authority_cities(session: Session) -> list[str]:
    """The city codes (4 digits) of every deciding authority that has records."""
    found = session.scalars(select(func.substr(Record.authority_uscc, 3, 4)).distinct())
    return sorted(c for c in found if c)


@dataclass
class VersionChange:
    """A stored version that deciding again changed: its class or publication (the rules now
    decide otherwise), or its publication deadline (the calendar now counts otherwise); ``before``
    and ``after`` hold the values that changed."""

    record_id: int
    version: int
    decision_no: str
    subject_name: str
    before: dict[str, Any]
    after: dict[str, Any]


def reclassify_penalties(
    session: Session, *, actor: str, apply: bool, progress: Any = None, chunk: int = 1000,
) -> tuple[int, list[VersionChange]]:
    """Decide again, by the rules in force on each decision date, the class and publication of
    every stored penalty's current version; with ``apply``, store what changed (each change
    audited). For a fix of the rules or of how intake applied them: a re-sent identical row is
    ``unchanged`` and never decided again. Returns (penalties examined, changes)."""
    from decimal import Decimal

    import xinyong.core.registry  # noqa: F401 - every table, for the versions' foreign keys on flush
    from xinyong.core import audit
    from xinyong.policy.service import decide_penalty, get_policy_book

    book = get_policy_book()
    catalogue = get_catalogue()
    unpublished = catalogue.unpublished_statuses(catalogue.item("penalty"))
    query = (
        select(Record, RecordVersion)
        .join(RecordVersion, IS_CURRENT)
        .where(Record.kind == "penalty").order_by(Record.id)
    )
    examined = 0
    changes: list[VersionChange] = []
    for rows in _in_pages(session, query, Record.id, chunk):
        for record, version in rows:
            examined += 1
            data = json.loads(version.data)
            kinds = [k for k in (data.get("penalty_kinds") or "").split(";") if k]
            fine, confiscated = data.get("fine_amount"), data.get("confiscated_amount")
            declared_end = data.get("publication_end_declared")
            decision = decide_penalty(
                book, kinds=kinds, fine_wan=Decimal(fine) if fine else None,
                confiscated_wan=Decimal(confiscated) if confiscated else None,
                declared_class=data.get("severity_declared"),
                declared_end=dt.date.fromisoformat(declared_end) if declared_end else None,
                revoked=data.get("record_status_2016") in unpublished, decision_date=version.decision_date,
                jurisdiction=ids.uscc_area_code(record.authority_uscc), subject_type=data.get("subject_category"),
            )
            after = {
                "penalty_class": decision.classification.penalty_class,
                "class_reason": decision.classification.reason,
                "class_rule": decision.classification.rule.id,
                "published": decision.published,
                "publication_min_end": decision.window.min_end,
                "publication_end": decision.end,
                "publication_rule": decision.window.rule.id,
            }
            before = _revised(version, after, apply)
            if before is None:
                continue
            changes.append(VersionChange(record.id, version.version, record.decision_no, version.subject_name,
                                         _jsonable(before), _jsonable(after)))
            if apply:
                audit.record(session, actor=actor, action="record.reclassify", target_type="record",
                             target_id=str(record.id), subject_id=record.subject_id,
                             before=_jsonable(before), after=_jsonable(after))
        if progress:
            progress(examined)
    return examined, changes


def _in_pages(session: Session, query: Select[Any], key: Any, chunk: int, *, entity: int = 0) -> Iterator[list[Any]]:
    """The rows of ``query`` a page at a time; ``query`` is ordered by ``key``, the id of the
    row's ``entity``-th entity. After each page the session is flushed and emptied, so that
    memory stays flat over any number of rows."""
    last = 0
    while rows := session.execute(query.where(key > last).limit(chunk)).all():
        yield rows
        last = rows[-1][entity].id
        session.flush()
        session.expunge_all()


def _revised(version: RecordVersion, after: dict[str, Any], apply: bool) -> dict[str, Any] | None:
    """The version's values of ``after``'s keys before, if any differs (set to ``after`` when
    ``apply``); None when nothing would change."""
    before = {key: getattr(version, key) for key in after}
    if before == after:
        return None
    if apply:
        for key, value in after.items():
            setattr(version, key, value)
    return before


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()}


def recompute_deadlines(
    session: Session, *, actor: str, year: int | None = None, changed_days: Iterable[dt.date] = (),
    apply: bool = True, progress: Any = None, chunk: int = 1000,
) -> tuple[int, list[VersionChange]]:
    """Count again publication deadlines on the working-day calendar the database holds now, and
    whether their versions arrived on time; with ``apply``, store what changed (each change
    audited, in the caller's transaction).

    Counted again: every provisional deadline — one whose working days crossed a year whose
    official schedule was not published; once the schedule is (``core.calendar.import_schedule``
    calls this with the loaded ``year``, or a release ships it), the deadline is decided as intake
    would decide it now: ``policy.service.publication_deadline`` for the version's decision date,
    on time when the version's received date meets it (``Deadline.met_by``). With ``year``, only
    provisional deadlines whose count touches that year (decided on or before its last day, due on
    or after its first — a decision in late December runs into January); without it, every one.
    And, provisional or not, every deadline whose count passed over one of ``changed_days`` (days
    a schedule load turned from working to off or back: ``decision date < day <= deadline``), so
    that a corrected schedule, or one that moves days of a neighbouring year, also corrects the
    deadlines an earlier schedule settled; a count that passed over none of them is the same on
    the new calendar. Returns (versions examined, changes).
    """
    import xinyong.core.registry  # noqa: F401 - every table, for the versions' foreign keys on flush
    from xinyong.core import audit
    from xinyong.core.calendar import load_calendar
    from xinyong.policy.service import get_policy_book, publication_deadline

    book = get_policy_book()
    calendar = load_calendar(session)
    changed = sorted(set(changed_days))
    provisional: ColumnElement[bool] = RecordVersion.deadline_provisional.is_(True)
    first, last = (dt.date(year, 1, 1), dt.date(year, 12, 31)) if year is not None else (dt.date.min, dt.date.max)
    if year is not None:
        provisional = and_(provisional, RecordVersion.decision_date <= last, RecordVersion.deadline >= first)

    def counted_again(version: RecordVersion) -> bool:
        if version.deadline_provisional and version.decision_date <= last and version.deadline >= first:
            return True
        # a run's range may have found it between two of the run's days
        return _passes_over(changed, version.decision_date, version.deadline)

    # a count (decision date, deadline] passes over a run of days [start, end] when it starts before
    # the run's end and ends on or after its start
    crossing = [and_(RecordVersion.decision_date < end, RecordVersion.deadline >= start)
                for start, end in _runs(changed, _RUN_GAP_DAYS)]
    query = (
        select(Record, RecordVersion)
        .join(Record, RecordVersion.record_id == Record.id)
        .where(or_(provisional, *crossing))
        .order_by(RecordVersion.id)
    )
    examined = 0
    changes: list[VersionChange] = []
    for rows in _in_pages(session, query, RecordVersion.id, chunk, entity=1):
        for record, version in rows:
            if not counted_again(version):
                continue
            examined += 1
            deadline = publication_deadline(book, record.kind, version.decision_date,
                                            ids.uscc_area_code(record.authority_uscc), calendar)
            after = {
                "deadline": deadline.date.as_date(),
                "deadline_provisional": deadline.date.provisional,
                "deadline_rule": deadline.rule.id,
                "on_time": deadline.met_by(clock.china_date(version.received_at)),
            }
            before = _revised(version, after, apply)
            if before is None:
                continue
            changes.append(VersionChange(record.id, version.version, record.decision_no,
                                        version.subject_name, _jsonable(before), _jsonable(after)))
            if apply:
                audit.record(session, actor=actor, action="record.deadline", target_type="record",
                             target_id=str(record.id), subject_id=version.subject_id,
                             before={"version": version.version, **_jsonable(before)},
                             after={"version": version.version, **_jsonable(after)})
        if progress:
            progress(examined)
    return examined, changes


# Changed days at most this far apart are looked for as one range of days, so that the few hundred
# days a load compares (its year and a month either side) make at most about fifteen conditions; the
# versions a range finds whose count lies between two of its days are then left out one by one.
_RUN_GAP_DAYS = 31


def _runs(days: list[dt.date], gap: int) -> list[tuple[dt.date, dt.date]]:
    """Sorted ``days`` as (first, last) runs; days at most ``gap`` days apart share a run."""
    runs: list[tuple[dt.date, dt.date]] = []
    for day in days:
        if runs and (day - runs[-1][1]).days <= gap:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _passes_over(days: list[dt.date], start: dt.date, end: dt.date) -> bool:
    """Whether one of the sorted ``days`` lies in ``(start, end]``."""
    index = bisect_right(days, start)
    return index < len(days) and days[index] <= end


# --------------------------------------------------------------------------- merging two subjects


@dataclass(frozen=True)
class CombinedRecord:
    """A decision both subjects of a merge have a record of: one decision about one party, stored
    twice because the party was split. The two become one record, ``kept_record_id``, holding the
    versions of both in the order they were received; ``folded_record_id`` is deleted."""

    kind: str
    kind_label: str
    decision_no: str  # as the version that becomes current spells it
    authority_uscc: str
    kept_record_id: int
    folded_record_id: int
    kept_versions: int
    folded_versions: int
    current_from: int  # the record whose latest version, the last received, becomes current
    revoked: bool  # whether the combined record is revoked (both were)
    # a revocation of one of the two that the combined record does not keep, with its reason
    dropped_revocation: str | None
    # (record, version) as stored before -> the version's number in the combined record
    renumbered: list[tuple[int, int, int]]


@dataclass(frozen=True)
class RecordsMove:
    """What moving a subject's records to another subject does (or did)."""

    records: int  # records of the subject that goes, the folded ones included
    versions: int  # versions that name it
    combined: list[CombinedRecord]


def count_records(session: Session, subject_id: int) -> int:
    """How many records a subject has (every status)."""
    return session.scalar(select(func.count()).select_from(Record).where(Record.subject_id == subject_id)) or 0


def move_records(session: Session, from_subject_id: int, to_subject_id: int, *, apply: bool) -> RecordsMove:
    """Give every record and version of subject ``from_subject_id`` to ``to_subject_id`` (when two
    subjects turn out to be one party); what it does, done only with ``apply``.

    A decision both have a record of cannot have two records under one party (the identity is
    kind, authority, number key and party): its two records become one, the ``to`` subject's,
    with the versions of both numbered again in the order they were received (time received,
    then batch and line), the last one received current — as intake would have stored them had
    the party been one subject from the start, and as migration 0008 folded the records of one
    decision spelled two ways. The combined record is revoked only when both were (keeping the
    later revocation): a merge must not withdraw a decision that one of its records still
    publishes; a revocation dropped so is reported, and the department can revoke the record
    again. The caller audits the merge."""
    pairs = _same_decisions(session, from_subject_id, to_subject_id)
    records = count_records(session, from_subject_id)
    versions = session.scalar(
        select(func.count()).select_from(RecordVersion).where(RecordVersion.subject_id == from_subject_id)) or 0
    combined = [_combine(session, kept, folded, apply=apply) for kept, folded in pairs]
    if apply:
        session.execute(update(Record).where(Record.subject_id == from_subject_id)
                        .values(subject_id=to_subject_id))
        session.execute(update(RecordVersion).where(RecordVersion.subject_id == from_subject_id)
                        .values(subject_id=to_subject_id))
        session.flush()
    return RecordsMove(records=records, versions=versions, combined=combined)


def _same_decisions(session: Session, from_subject_id: int, to_subject_id: int) -> list[tuple[Record, Record]]:
    """(the ``to`` subject's record, the ``from`` subject's) of every decision both have one of."""
    theirs = Record.__table__.alias("theirs")
    ours = session.execute(
        select(Record, theirs.c.id)
        .join(theirs, and_(theirs.c.kind == Record.kind, theirs.c.authority_uscc == Record.authority_uscc,
                           theirs.c.decision_key == Record.decision_key))
        .where(Record.subject_id == to_subject_id, theirs.c.subject_id == from_subject_id)
        .order_by(Record.id)
    ).all()
    return [(kept, find_record(session, folded_id)) for kept, folded_id in ours]


def _combine(session: Session, kept: Record, folded: Record, *, apply: bool) -> CombinedRecord:
    versions = list(session.scalars(
        select(RecordVersion).where(RecordVersion.record_id.in_((kept.id, folded.id)))
        .order_by(RecordVersion.received_at, RecordVersion.batch_id, RecordVersion.line, RecordVersion.id)
    ))
    last = versions[-1]
    current = kept if last.record_id == kept.id else folded
    revocations = [r for r in (kept, folded) if r.revoked_at is not None]
    both_revoked = len(revocations) == 2
    later = max(revocations, key=lambda r: r.revoked_at) if both_revoked else None  # type: ignore[arg-type, return-value]
    dropped = revocations[0] if len(revocations) == 1 else None
    outcome = CombinedRecord(
        kind=kept.kind, kind_label=KIND_LABELS.get(kept.kind, kept.kind), decision_no=current.decision_no,
        authority_uscc=kept.authority_uscc, kept_record_id=kept.id, folded_record_id=folded.id,
        kept_versions=sum(v.record_id == kept.id for v in versions),
        folded_versions=sum(v.record_id == folded.id for v in versions), current_from=current.id,
        revoked=both_revoked,
        # the merge's audit entry keeps it: a reason stored before revocations masked ids is masked
        dropped_revocation=(f"{dropped.revoked_at:%Y-%m-%d}：{ids.mask_resident_ids(dropped.revoke_reason or '')[0]}"
                            if dropped else None),
        renumbered=[(v.record_id, v.version, n) for n, v in enumerate(versions, start=1)],
    )
    if not apply:
        return outcome
    # two steps, so that no moment has two versions of one record with the same number
    for n, version in enumerate(versions, start=1):
        version.record_id, version.version = kept.id, -n
    session.flush()
    for version in versions:
        version.version = -version.version
    session.flush()
    kept.current_version = len(versions)
    kept.current_hash = last.content_hash
    kept.current_key_hash = current.current_key_hash
    kept.decision_no = current.decision_no
    kept.department_id = last.department_id
    kept.created_at = min(kept.created_at, folded.created_at)
    kept.updated_at = clock.now()
    kept.revoked_at = later.revoked_at if later else None
    kept.revoke_reason = later.revoke_reason if later else None
    session.delete(folded)
    session.flush()
    return outcome
