"""Reading credit records: versions with provenance, and status computed from dates and today."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.models import Department
from xinyong.records.models import Record, RecordVersion
from xinyong.records.schemas import STATUS_LABELS, Provenance, RecordOut, Status, VersionOut

KIND_LABELS = {"penalty": "行政处罚", "licence": "行政许可"}


def version_status(record: Record, version: RecordVersion, today: dt.date) -> Status:
    """The status of one version on ``today``: never stored, always derived."""
    if record.revoked_at is not None:
        return Status.REVOKED
    if version.version < record.current_version:
        return Status.CORRECTED
    if not version.published:
        return Status.NOT_PUBLISHED
    if version.publication_end is not None and today > version.publication_end:
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
    out = []
    for record in records:
        versions = [
            _version_out(record, v, d, today) for v, d in by_record[record.id]
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


def _version_out(record: Record, v: RecordVersion, department: Department, today: dt.date) -> VersionOut:
    status = version_status(record, v, today)
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
            line=v.line,
            department=department.name,
            department_uscc=department.uscc,
            received_at=v.received_at,
        ),
    )
