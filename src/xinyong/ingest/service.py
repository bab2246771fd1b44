"""The intake service: one file in, one batch stored whole (or not at all), one report out."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.catalogue.service import get_catalogue, normalize_header
from xinyong.core import clock, ids
from xinyong.core.calendar import load_calendar
from xinyong.core.crypto import get_keyring
from xinyong.core.errors import FileUnreadable, XinyongError
from xinyong.ingest.models import Batch, BatchIssue, RejectedRow
from xinyong.ingest.readers import ENCODING_LABELS, open_table
from xinyong.ingest.schemas import IngestReport, IssueOut, RegisteredDepartment
from xinyong.ingest.store import Staging
from xinyong.ingest.validation import Issue, RowValidator, ValidRow
from xinyong.policy.service import (
    classify_penalty,
    get_policy_book,
    publication_deadline,
    publication_window,
)

KINDS = {"penalties": "penalty", "licences": "licence"}
FLUSH_ROWS = 5000
PERSONAL_FIELDS = ("id_number", "legal_rep_id_number")

ProgressCallback = Callable[[int, int], None]


def _iso(day: dt.date | None) -> str | None:
    # staging gets ISO text: both backends parse it into DATE, whatever the date subclass
    return day.isoformat() if day is not None else None


def item_key(kind: str) -> str:
    try:
        return KINDS[kind]
    except KeyError:
        raise XinyongError(f"未知的数据类型 {kind}：应为 penalties（行政处罚）或 licences（行政许可）") from None


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class _RowBuilder:
    """Turns a validated row into a staging row: policy decisions, encryption, provenance."""

    def __init__(self, session: Session, kind: str, item_code: str, batch_id: int, today: dt.date,
                 report: IngestReport, header_of: Callable[[str], str] = str) -> None:
        self.session = session
        self.header_of = header_of  # field key -> the column header as written in the file
        self.kind = kind
        self.item_code = item_code
        self.batch_id = batch_id
        self.today = today
        self.report = report
        self.book = get_policy_book()
        self.calendar = load_calendar(session)
        self.keyring = get_keyring()
        self.departments: dict[str, int] = {}
        self._deadlines: dict[tuple[dt.date, str], Any] = {}
        self._windows: dict[tuple[str, dt.date, str], Any] = {}
        self._persons: dict[str, tuple[str, str, str]] = {}

    def department_id(self, uscc: str, name: str) -> int:
        found = self.departments.get(uscc)
        if found is not None:
            return found
        department = accounts.find_department(self.session, uscc)
        if department is None:
            department = accounts.register_department(
                self.session, uscc=uscc, name=name, batch_id=self.batch_id, auto=True
            )
            self.report.departments_registered.append(RegisteredDepartment(uscc=uscc, name=name))
        self.departments[uscc] = department.id
        return department.id

    def _deadline(self, decision_date: dt.date, area: str) -> Any:
        key = (decision_date, area)
        found = self._deadlines.get(key)
        if found is None:
            found = publication_deadline(self.book, self.kind, decision_date, area, self.calendar)
            self._deadlines[key] = found
        return found

    def _window(self, penalty_class: str, decision_date: dt.date, area: str) -> Any:
        key = (penalty_class, decision_date, area)
        found = self._windows.get(key)
        if found is None:
            found = publication_window(self.book, penalty_class, decision_date, area)
            self._windows[key] = found
        return found

    def _person(self, id_type: str, number: str) -> tuple[str, str, str]:
        """(blind index, ciphertext, masked) of a personal document number."""
        key = f"{id_type}:{number}"
        found = self._persons.get(key)
        if found is None:
            found = (self.keyring.blind_index(key), self.keyring.encrypt(number), ids.mask_ric(number))
            if len(self._persons) < 50_000:
                self._persons[key] = found
        return found

    def build(self, row: ValidRow) -> tuple[tuple[Any, ...], tuple[int, str]]:
        """The staging row and its payload (line, data JSON) for a validated row."""
        v = row.values
        s = row.subject
        authority = v["authority_uscc"]
        area = ids.uscc_area_code(authority)
        department_id = self.department_id(v["source_uscc"], v["source_name"])
        content_hash = self.keyring.content_hash(orjson.dumps(v, option=orjson.OPT_SORT_KEYS))
        person_index = person_cipher = person_masked = None
        if s.person_id:
            person_index, person_cipher, person_masked = self._person(s.person_id_type or "", s.person_id)
        lr_index = lr_cipher = lr_masked = None
        lr_number = v.get("legal_rep_id_number")
        if lr_number:
            lr_index, lr_cipher, lr_masked = self._person(v.get("legal_rep_id_type", ""), lr_number)
        stored = dict(v)
        if person_masked and "id_number" in stored:
            stored["id_number"] = person_masked
        if lr_masked:
            stored["legal_rep_id_number"] = lr_masked
        data = orjson.dumps(stored).decode()
        subject_area = None
        if s.uscc:
            subject_area = ids.uscc_area_code(s.uscc)
        elif s.person_id and s.person_id_type == "身份证":
            subject_area = s.person_id[:6]
        deadline = self._deadline(row.decision_date, area)
        penalty_class = class_reason = class_rule = None
        published = True
        min_end = pub_end = pub_rule = None
        if self.kind == "penalty":
            classification = classify_penalty(
                self.book, row.penalty_kinds, row.fine, row.confiscated,
                v.get("severity_declared"), row.decision_date, area,
            )
            penalty_class = classification.penalty_class
            class_reason = classification.reason
            class_rule = classification.rule.id
            window = self._window(penalty_class, row.decision_date, area)
            published, min_end, pub_end, pub_rule = (
                window.published, window.min_end, window.max_end, window.rule.id
            )
            declared = v.get("publication_end_declared")
            if declared:
                declared_date = dt.date.fromisoformat(declared)
                if min_end <= declared_date <= window.max_end:
                    pub_end = declared_date
                    published = True
                elif declared_date != dt.date(2099, 12, 31):
                    row.warnings.append(Issue(
                        row.line, self.header_of("publication_end_declared"), "publication_end_out_of_range",
                        f"公示截止期 {declared_date:%Y/%m/%d} 不在{penalty_class}失信信息的公示期限内"
                        f"（{min_end:%Y/%m/%d} 至 {window.max_end:%Y/%m/%d}），已按 {window.max_end:%Y/%m/%d} 计",
                    ))
        return (
            row.line, s.key, s.kind, s.category, s.uscc, s.org_code, s.reg_no,
            person_index, person_cipher, person_masked, s.person_id_type if s.person_id else None,
            s.name, s.name_norm, subject_area, v.get("legal_rep"), v.get("legal_rep_id_type") if lr_number else None,
            lr_index, lr_cipher, lr_masked, authority, v["decision_no"], department_id,
            content_hash, row.decision_date.isoformat(), penalty_class, class_reason,
            class_rule, published, _iso(min_end), _iso(pub_end), pub_rule,
            deadline.date.isoformat(), deadline.date.provisional, deadline.rule.id,
            self.today <= deadline.date,
        ), (row.line, data)


def _rejected_row(batch_id: int, line: int, headers: list[str], cells: list[str]) -> dict[str, Any]:
    """A rejected row's cells under the file's own headers, to hand back for correction."""
    named = {h or f"列{i + 1}": (cells[i] if i < len(cells) else "") for i, h in enumerate(headers)}
    return {"batch_id": batch_id, "line": line, "cells": orjson.dumps(named).decode()}


def rejected_rows(session: Session, batch_id: int) -> list[tuple[int, dict[str, str]]]:
    """(line, cells) of every row rejected in a batch, in file order."""
    rows = session.execute(
        select(RejectedRow.line, RejectedRow.cells).where(RejectedRow.batch_id == batch_id).order_by(RejectedRow.line)
    )
    return [(line, orjson.loads(cells)) for line, cells in rows]


def ingest_file(
    session: Session,
    path: Path,
    kind: str,
    *,
    department_uscc: str | None = None,
    submitted_by: str = "cli",
    progress: ProgressCallback | None = None,
    display_name: str | None = None,
) -> IngestReport:
    """Ingest one file as one batch inside ``session``'s transaction (the caller commits).

    Raises ``FileUnreadable`` when the file cannot be read at all; rows with problems are
    rejected one by one and listed in the report.
    """
    item = get_catalogue().item(item_key(kind))
    catalogue = get_catalogue()
    known_headers = set()
    for layout in item.layouts:
        known_headers.update(catalogue.header_map(item, layout))
    table = open_table(path, lambda h: normalize_header(h) in known_headers)
    try:
        return _ingest_table(session, table, path, kind, item, department_uscc=department_uscc,
                             submitted_by=submitted_by, progress=progress,
                             display_name=display_name or path.name)
    finally:
        table.close()


def _ingest_table(session: Session, table: Any, path: Path, kind: str, item: Any, *,
                  department_uscc: str | None, submitted_by: str, progress: ProgressCallback | None,
                  display_name: str) -> IngestReport:
    today = clock.today()
    now = clock.now()
    default_source = None
    department = None
    if department_uscc:
        code = ids.normalize_code(department_uscc)
        department = accounts.find_department(session, code)
        if department is None:
            raise XinyongError(f"部门 {department_uscc} 尚未在平台登记，请先登记或在文件中填写数据来源单位")
        default_source = (department.uscc, department.name)
    validator = RowValidator(
        get_catalogue(), item, table.headers, today=today, default_source=default_source,
        authorities_by_name=accounts.department_names(session),
    )
    report = IngestReport(
        kind=kind, file=display_name, format=table.format,
        encoding=ENCODING_LABELS.get(table.encoding or "", table.encoding), layout=validator.layout,
    )
    if session.get_bind().dialect.name == "postgresql":
        # one intake at a time per kind: concurrent batches could race on the same identity
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"ingest:{kind}"})
    batch = Batch(
        kind=item.record_kind, file_name=display_name, file_sha256=_file_sha256(path),
        file_format=table.format, encoding=table.encoding, layout=validator.layout,
        submitted_by=submitted_by, department_id=department.id if department else None,
        received_at=now, finished_at=now, rows_total=0, accepted=0, corrected=0, unchanged=0,
        rejected=0, report_json="{}",
    )
    session.add(batch)
    session.flush()
    staging = Staging(session)
    staging.create()
    builder = _RowBuilder(session, item.record_kind, item.code, batch.id, today, report,
                          header_of=validator.header)
    for note in table.notes:
        report.warnings.append(IssueOut(line=None, field=None, code="file_note", message=note))
    for header in validator.unknown_headers:
        report.warnings.append(IssueOut(line=table.header_line or None, field=header,
                                        code="unknown_column", message=f"列“{header}”不在目录中，已忽略"))
    rows: list[tuple[Any, ...]] = []
    payloads: list[tuple[int, str]] = []
    rejected_rows: list[dict[str, Any]] = []
    issues: list[tuple[Any, ...]] = []
    rows_total = rejected = 0
    for line, cells in table.rows:
        if not any(c and not c.isspace() for c in cells):
            continue
        rows_total += 1
        result = validator.validate(line, cells)
        if isinstance(result, list):
            rejected += 1
            issues.extend(("error", i.line, i.field, i.code, i.message) for i in result)
            rejected_rows.append(_rejected_row(batch.id, line, table.headers, cells))
        else:
            try:
                staged, payload = builder.build(result)
                rows.append(staged)
                payloads.append(payload)
            except XinyongError as exc:
                rejected += 1
                issues.append(("error", line, None, exc.code, exc.message))
                continue
            issues.extend(("warning", i.line, i.field, i.code, i.message) for i in result.warnings)
        if len(rows) >= FLUSH_ROWS:
            staging.write_rows(rows, payloads)
            rows.clear()
            payloads.clear()
            if progress:
                progress(table.position(), table.size)
        if len(issues) >= FLUSH_ROWS:
            staging.write_issues(issues)
            issues.clear()
        if len(rejected_rows) >= FLUSH_ROWS:
            session.execute(insert(RejectedRow), rejected_rows)
            rejected_rows.clear()
    staging.write_rows(rows, payloads)
    staging.write_issues(issues)
    if rejected_rows:
        session.execute(insert(RejectedRow), rejected_rows)
    counts = staging.merge(kind=item.record_kind, item_code=item.code, batch_id=batch.id, now=now,
                           name_header=validator.header("subject_name"))
    if progress:
        progress(table.size, table.size)
    staging.drop()
    report.batch_id = batch.id
    report.rows_total = rows_total
    report.accepted = counts["new"]
    report.corrected = counts["corrected"]
    report.unchanged = counts["unchanged"]
    report.rejected = rejected
    stored = session.execute(
        select(BatchIssue.severity, BatchIssue.line, BatchIssue.field, BatchIssue.code, BatchIssue.message)
        .where(BatchIssue.batch_id == batch.id).order_by(BatchIssue.id)
    )
    for severity, line, field, code, message in stored:
        target = report.errors if severity == "error" else report.warnings
        target.append(IssueOut(line=line, field=field, code=code, message=message))
    summary = report.model_dump(exclude={"errors", "warnings"})
    summary["errors_count"], summary["warnings_count"] = len(report.errors), len(report.warnings)
    session.execute(
        update(Batch).where(Batch.id == batch.id).values(
            finished_at=clock.now(), rows_total=rows_total, accepted=report.accepted,
            corrected=report.corrected, unchanged=report.unchanged, rejected=rejected,
            report_json=json.dumps(summary, ensure_ascii=False),
        )
    )
    return report


__all__ = ["KINDS", "FileUnreadable", "IngestReport", "ingest_file"]
