"""The intake service: one file in, one batch stored whole (or not at all), one report out."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import queue
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, text, update
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.catalogue.schemas import Item
from xinyong.catalogue.service import get_catalogue, normalize_header
from xinyong.core import clock, db, ids, names
from xinyong.core.calendar import load_calendar
from xinyong.core.crypto import get_keyring
from xinyong.core.errors import FileUnreadable, NotFound, XinyongError
from xinyong.core.text import without_controls
from xinyong.ingest.models import Batch, BatchIssue, RejectedRow
from xinyong.ingest.readers import (
    ENCODING_LABELS,
    INVALID_JSON,
    JSON_BOOLEAN,
    NESTED_VALUE,
    UNCLOSED_QUOTE,
    WORKBOOK_FORMATS,
    SheetLines,
    cell_as_sent,
    open_table,
)
from xinyong.ingest.schemas import (
    SUBJECT_CODE_FIELDS,
    WRONG_CODE_LABELS,
    CodeQuality,
    CodeQualityTarget,
    DepartmentCodeErrors,
    IngestReport,
    IssueOut,
    RegisteredDepartment,
    SheetRead,
    WrongCodeKind,
)
from xinyong.ingest.store import Completion, Staging
from xinyong.ingest.validation import Issue, RowValidator, ValidRow
from xinyong.policy.service import (
    PenaltyDecision,
    decide_penalty,
    get_policy_book,
    publication_deadline,
    publication_window,
)

KINDS = {"penalties": "penalty", "licences": "licence"}
FLUSH_ROWS = 5000  # rows handed from the preparing thread to the database at a time
MERGE_ROWS = 20_000  # staged rows merged into the stored data at a time
PERSONAL_FIELDS = ("id_number", "legal_rep_id_number")
ISSUE_SAMPLE = 200  # errors and warnings of each kind a report holds in memory (pages show them)
REPORT_PAGE = 2000  # issues read from the database at a time when writing a full report

ProgressCallback = Callable[[int, int], None]


def _iso(day: dt.date | None) -> str | None:
    # staging gets ISO text: both backends parse it into DATE, whatever the date subclass
    return day.isoformat() if day is not None else None


def _lock_intake(session: Session, kind: str) -> None:
    """Wait for the intake of ``kind`` in progress, and hold back others until the transaction
    ends (PostgreSQL; SQLite has one writer at a time anyway)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"ingest:{kind}"})


def hold_intakes(session: Session) -> None:
    """Wait for every intake in progress and hold back new ones until the caller's transaction
    ends: for a change of subjects that intake resolves rows to (``subjects.service``'s merge), so
    that no batch stores a record for a subject being merged away."""
    for kind in sorted(KINDS):
        _lock_intake(session, kind)


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


class _Departments:
    """Source departments by USCC, registered on first sight; runs on the session's thread.
    One registered under a name that another code already has is warned about (``warnings``,
    issues to stage): a code mistyped, or an old one, would otherwise go unnoticed."""

    def __init__(self, session: Session, batch_id: int, report: IngestReport, column: str) -> None:
        self.session = session
        self.batch_id = batch_id
        self.report = report
        self.column = column  # the file's 数据来源单位统一社会信用代码
        self.ids: dict[str, int] = {}
        self.warnings: list[tuple[Any, ...]] = []

    def id_of(self, uscc: str, name: str, line: int) -> int:
        found = self.ids.get(uscc)
        if found is not None:
            return found
        department = accounts.find_department(self.session, uscc)
        if department is None:
            department = accounts.register_department(
                self.session, uscc=uscc, name=name, batch_id=self.batch_id, auto=True
            )
            self.report.departments_registered.append(RegisteredDepartment(uscc=uscc, name=name))
            if others := accounts.namesakes(self.session, department):
                self.warnings.append((
                    "warning", line, self.column, "department_namesake",
                    f"数据来源单位“{name}”（{uscc}）尚未在平台登记，已按本文件登记为新部门；"
                    f"{accounts.namesakes_said(others)}。请核对“{self.column}”，如有误请联系信用办"))
        self.ids[uscc] = department.id
        return department.id


class _RowBuilder:
    """Turns a validated row into a staging row: policy decisions, encryption, provenance.

    It does not touch the database (it runs on the preparing thread): a row names its source
    department by USCC; the storing thread registers departments (``_Departments``).
    """

    def __init__(self, session: Session, item: Item, today: dt.date,
                 header_of: Callable[[str], str] = str) -> None:
        self.header_of = header_of  # field key -> the column header as written in the file
        catalogue = get_catalogue()
        self.open_ended = catalogue.open_ended_date
        self.unpublished_statuses = catalogue.unpublished_statuses(item)
        self.kind = item.record_kind
        self.item_code = item.code
        self.today = today
        self.book = get_policy_book()
        self.calendar = load_calendar(session)
        self.keyring = get_keyring()
        self._deadlines: dict[tuple[dt.date, str], Any] = {}
        self._windows: dict[tuple[str, dt.date, str], Any] = {}
        self._persons: dict[str, tuple[str, str, str]] = {}

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

    def _decide(self, values: dict[str, Any], kinds: Sequence[str], fine: Decimal | None,
                confiscated: Decimal | None, decision_date: dt.date, area: str, category: str | None) -> Any:
        """The class and publication of a penalty whose data is ``values``."""
        declared = values.get("publication_end_declared")
        return decide_penalty(
            self.book, kinds=kinds, fine_wan=fine, confiscated_wan=confiscated,
            declared_class=values.get("severity_declared"),
            declared_end=dt.date.fromisoformat(declared) if declared else None,
            revoked=values.get("record_status_2016") in self.unpublished_statuses,
            decision_date=decision_date, jurisdiction=area,
            subject_type=category,  # a person's or individual business's fine limit is lower
            window=self._window,
        )

    def decide_again(self, data: dict[str, Any], decision_date: dt.date, authority: str,
                     category: str | None) -> tuple[Any, ...]:
        """The staging columns of a penalty's class and publication (``penalty_class`` …
        ``pub_rule``) decided from a version's data: for a correction that keeps values of the
        record it corrects (``Staging.merge``'s ``kept``). Runs on the storing thread."""
        fine, confiscated = data.get("fine_amount"), data.get("confiscated_amount")
        decision = self._decide(data, [k for k in (data.get("penalty_kinds") or "").split(";") if k],
                                Decimal(fine) if fine else None, Decimal(confiscated) if confiscated else None,
                                decision_date, ids.uscc_area_code(authority), category)
        window = decision.window
        return (decision.classification.penalty_class, decision.classification.reason,
                decision.classification.rule.id, decision.published, window.min_end, decision.end, window.rule.id)

    def _refused_end(self, row: ValidRow, decision: PenaltyDecision, penalty_class: str) -> Issue:
        """The warning on a 公示截止期 the policy did not take: outside the class's period (长期
        too: no class is published for ever), or given for a class that is not published."""
        refused, window = decision.declared_end_refused, decision.window
        assert refused is not None
        declared = f"{refused:%Y/%m/%d}{'（长期）' if refused == self.open_ended else ''}"
        if decision.no_period:
            said = f"未采用：{penalty_class}失信信息按{row.decision_date:%Y/%m/%d}适用的规则不予公示"
        else:
            period = (f"不在{penalty_class}失信信息的公示期限内"
                      f"（{window.min_end:%Y/%m/%d} 至 {window.max_end:%Y/%m/%d}），")
            if decision.published:
                said = f"{period}已按 {window.max_end:%Y/%m/%d} 计"
            else:  # 轻微 under Order 36: published only for an end the department gives inside the period
                said = f"{period}未采用：{penalty_class}失信信息只在公示截止期填在此期限内时公示，本条不予公示"
        column = row.named.get("publication_end_declared") or self.header_of("publication_end_declared")
        return Issue(row.line, column, "publication_end_out_of_range",
                     f"公示截止期 {declared} {said}")

    def version_hashes(self, data: dict[str, str], legal_rep_index: str | None,
                       decision_key: str) -> tuple[str, str]:
        """The content hash of a version's ``data`` as stored, and the same with the decision
        number's key for its spelling: what decides whether a row is ``unchanged`` or corrects
        the record. It is computed from the stored form (personal ids masked), so that a
        correction that keeps values of the version it corrects gets the hash a full row with
        those values has. The legal representative's id, stored encrypted, counts by its blind
        index (``legal_rep_index``), which its masked form would hide, wherever the platform
        registers the representative (a name is given); a 证件号码 kept masked only counts masked.
        Migration 0015 holds a frozen copy of this: change both together."""
        hashed = data
        if legal_rep_index and data.get("legal_rep") and data.get("legal_rep_id_number"):
            hashed = {**data, "legal_rep_id_number": legal_rep_index}
        content = orjson.dumps(hashed, option=orjson.OPT_SORT_KEYS)
        # the content as compared: a number written another way (〔〕 or []) is no other content.
        # The number's JSON string is replaced wherever a value is exactly it (its quotes included).
        return (self.keyring.content_hash(content), self.keyring.content_hash(
            content.replace(orjson.dumps(data["decision_no"]), orjson.dumps(decision_key))))

    def build(self, row: ValidRow) -> tuple[tuple[Any, ...], tuple[int, str]]:
        """The staging row and its payload (line, data JSON) for a validated row."""
        v = row.values
        s = row.subject
        authority = v["authority_uscc"]
        area = ids.uscc_area_code(authority)
        decision_key = names.document_number_key(v["decision_no"])
        person_index = person_cipher = person_masked = None
        if s.person_id:
            person_index, person_cipher, person_masked = self._person(s.person_id_type or "", s.person_id)
        lr_index = lr_cipher = lr_masked = None
        lr_number = v.get("legal_rep_id_number")
        if lr_number:
            lr_index, lr_cipher, lr_masked = self._person(v.get("legal_rep_id_type", ""), lr_number)
        stored = dict(v)
        if "id_number" in stored:
            # the person's own id (kept encrypted with the subject), or the 证件号码 on an
            # organisation's or individual business's row (validated, kept masked only)
            stored["id_number"] = person_masked or ids.mask_ric(stored["id_number"])
        if lr_masked:
            stored["legal_rep_id_number"] = lr_masked
        data = orjson.dumps(stored).decode()
        content_hash, key_hash = self.version_hashes(stored, lr_index, decision_key)
        subject_area = None
        if s.uscc:
            subject_area = ids.uscc_area_code(s.uscc)
        elif s.person_id and s.person_id_type == ids.RESIDENT_ID_TYPE:
            subject_area = s.person_id[:6]
        deadline = self._deadline(row.decision_date, area)
        penalty_class = class_reason = class_rule = None
        published = True
        min_end = pub_end = pub_rule = None
        if self.kind == "penalty":
            revoked_in_file = v.get("record_status_2016") in self.unpublished_statuses
            decision = self._decide(v, row.penalty_kinds, row.fine, row.confiscated, row.decision_date, area,
                                    s.category)
            penalty_class = decision.classification.penalty_class
            class_reason = decision.classification.reason
            class_rule = decision.classification.rule.id
            window = decision.window
            published, min_end, pub_end, pub_rule = decision.published, window.min_end, decision.end, window.rule.id
            if revoked_in_file:
                row.warnings.append(Issue(
                    row.line, self.header_of("record_status_2016"), "revoked_in_file",
                    f"当前状态为“{v['record_status_2016']}”：该处罚决定已被撤销，记录保存但不公示",
                ))
            if decision.declared_end_refused:
                row.warnings.append(self._refused_end(row, decision, penalty_class))
        return (
            row.line, s.key, s.kind, s.category, s.uscc, s.org_code, s.reg_no,
            person_index, person_cipher, person_masked, s.person_id_type if s.person_id else None,
            s.name, s.name_norm, subject_area, v.get("legal_rep"), v.get("legal_rep_id_type") if lr_number else None,
            lr_index, lr_cipher, lr_masked, authority, v["decision_no"], decision_key, v["source_uscc"],
            content_hash, key_hash, row.decision_date.isoformat(), penalty_class, class_reason,
            class_rule, published, _iso(min_end), _iso(pub_end), pub_rule,
            deadline.date.isoformat(), deadline.date.provisional, deadline.rule.id,
            deadline.met_by(self.today),
        ), (row.line, data)


@dataclass
class _Prepared:
    """What the preparing thread hands over: staging rows and what was rejected, in file order.

    ``rows`` and ``payloads`` are encoded for the staging tables (``Staging.encoder``);
    ``sources`` are the source departments (USCC, name, line) first seen in these rows.
    """

    rows: Any = None
    payloads: Any = None
    count: int = 0
    sources: list[tuple[str, str, int]] = field(default_factory=list)
    issues: list[tuple[Any, ...]] = field(default_factory=list)
    rejected_rows: list[dict[str, Any]] = field(default_factory=list)
    rows_total: int = 0
    rejected: int = 0
    position: int = 0


_switching = threading.Lock()
_switching_users = 0
_switching_previous = 0.005
SWITCH_INTERVAL = 0.00005  # seconds


@contextmanager
def _prompt_handovers() -> Iterator[None]:
    """While an intake runs, let threads take turns with the interpreter lock every 50 µs.

    The storing thread mostly waits for the database and needs the lock back for a moment
    after each wait; at the default 5 ms switch interval the busy preparing thread would hold
    it that long each time and the database would sit idle (measured: 21 s instead of 15 s
    for 100,000 rows). The interval is process-wide: it is restored when the last intake ends.
    """
    global _switching_users, _switching_previous
    with _switching:
        if _switching_users == 0:
            _switching_previous = sys.getswitchinterval()
            sys.setswitchinterval(SWITCH_INTERVAL)
        _switching_users += 1
    try:
        yield
    finally:
        with _switching:
            _switching_users -= 1
            if _switching_users == 0:
                sys.setswitchinterval(_switching_previous)


def _hand_over(handover: queue.Queue[Any], item: Any, stop: threading.Event) -> bool:
    """Put ``item`` in the queue unless the storing side has stopped; False when it has."""
    while not stop.is_set():
        try:
            handover.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _prepare(table: Any, validator: RowValidator, builder: _RowBuilder, encode: Callable[[Any], Any],
             batch_id: int, emit: Callable[[_Prepared], bool]) -> bool:
    """Read, validate and build every row; ``emit`` them in chunks, in file order.

    Returns False as soon as ``emit`` does (the storing side has stopped), True at the end.
    """
    sources: set[str] = set()
    prepared = _Prepared()
    rows: list[tuple[Any, ...]] = []
    payloads: list[tuple[int, str]] = []

    def hand_over() -> bool:
        nonlocal prepared
        prepared.rows, prepared.payloads, prepared.count = encode(rows), encode(payloads), len(rows)
        prepared.position = table.position()
        rows.clear()
        payloads.clear()
        done, prepared = prepared, _Prepared()
        return emit(done)

    header = table.sheets.header  # a later sheet's own name of a column, for its rows' issues
    written_headers = [_trimmed(row) for row in table.written_headers]
    header_starts = {row[0] for row in written_headers if row}
    prefilled: list[int] = []  # template rows with only the columns filled in ahead: no records
    previous = 0  # the last row read that held anything; 0 when that was a header
    for line, cells in table.rows:
        if not any(c and not c.isspace() for c in cells):
            continue
        above, previous = previous, line
        if cells and cells[0].strip() in header_starts and _trimmed(cells) in written_headers:
            # files pasted together from several exports repeat the header: not a data row
            prepared.issues.append(("warning", line, None, "repeated_header", f"{table.where(line)}重复了表头，已跳过"))
            previous = 0
            continue
        result = validator.validate(line, cells)
        if isinstance(result, list) and validator.catalogue.is_footer_row(cells):
            # 填报人：张三 | 联系电话：… or 合计 under the data: the table's footer, no record
            shown = next(c.strip() for c in cells if c and not c.isspace())[:20]
            prepared.issues.append(("warning", line, None, "footer_skipped",
                                    f"{table.where(line)}是表尾（“{shown}”…），不是记录，已跳过"))
            continue
        if isinstance(result, list) and _numbers_the_columns(cells):
            # templates number their columns (1 | 2 | 3 …) in a row under the header
            prepared.issues.append(("warning", line, None, "column_numbers_skipped",
                                    f"{table.where(line)}是各列的序号（1、2、3…），不是记录，已跳过"))
            continue
        if (isinstance(result, list) and _under_a_header(table, above)
                and (instructions := validator.fill_instructions(cells))):
            # a template's notes row under the header (必填 | 格式：YYYY-MM-DD | 请填写…): no record
            said = list(dict.fromkeys(instructions))
            shown = "".join(f"“{text[:20]}”" for text in said[:3]) + ("等" if len(said) > 3 else "")
            prepared.issues.append(("warning", None, None, "file_note",
                                    f"{table.where(line)}是模板的填写说明（{shown}），不是记录，已跳过，不计入数据行"))
            continue
        if isinstance(result, list) and validator.only_prefilled(cells):
            # a template row whose category, authority and source department were filled in ahead
            # (down to row 300) and nothing else: no record; said once for all of them, at the end
            prefilled.append(line)
            continue
        prepared.rows_total += 1
        if isinstance(result, list):
            prepared.rejected += 1
            prepared.issues.extend(("error", i.line, header(i.line, i.field), i.code, _without_ids(i.message))
                                   for i in result)
            prepared.rejected_rows.append(_rejected_row(batch_id, line, table.headers, cells))
        else:
            try:
                staged, payload = builder.build(result)
            except XinyongError as exc:  # no rule decides the record's date (a decision of 1985)
                prepared.rejected += 1
                date_field = header(line, validator.header(validator.item.decision_date_field))
                prepared.issues.append((
                    "error", line, date_field, exc.code,
                    f"{table.where(line)}的{date_field} {result.decision_date:%Y/%m/%d}：{exc.message}，"
                    "无法确定其公示与报送期限，未保存：请核对日期；确是该日的决定，请联系信用办"))
                prepared.rejected_rows.append(_rejected_row(batch_id, line, table.headers, cells))
                continue
            source = result.values["source_uscc"]
            if source not in sources:
                sources.add(source)
                prepared.sources.append((source, result.values["source_name"], line))
            rows.append(staged)
            payloads.append(payload)
            prepared.issues.extend(("warning", i.line, header(i.line, i.field), i.code, _without_ids(i.message))
                                   for i in result.warnings)
        full = max(len(rows), len(prepared.issues), len(prepared.rejected_rows)) >= FLUSH_ROWS
        if full and not hand_over():
            return False
    if prefilled:
        prepared.issues.append(("warning", None, None, "file_note", _prefilled_note(table, validator, prefilled)))
    return hand_over()


def _prefilled_note(table: Any, validator: RowValidator, lines: list[int]) -> str:
    """The note on the template rows passed over (``RowValidator.only_prefilled``): where they
    are, as spans of rows (第 5–300 行), and why."""
    spans: list[list[Any]] = []  # [sheet, first row, last row]
    for line in lines:
        sheet, row = (None, line) if table.format == "json" else table.sheets.locate(line)
        if spans and spans[-1][0] == sheet and spans[-1][2] == row - 1:
            spans[-1][2] = row
        else:
            spans.append([sheet, row, row])
    unit = "条记录" if table.format == "json" else "行"
    shown = "、".join((f"工作表“{sheet}”" if sheet else "") + (f"第 {a} {unit}" if a == b else f"第 {a}–{b} {unit}")
                     for sheet, a, b in spans[:10]) + ("等" if len(spans) > 10 else "")
    prefilled = [f for f in validator.item.fields
                 if f.key in validator.item.template_prefilled and f.key in validator.header_of]
    filled = "、".join(f"“{validator.header(f.key)}”" for f in prefilled if f.type != "uscc")
    codes = "及其代码" if any(f.type == "uscc" for f in prefilled) else ""
    return (f"{shown}（共 {len(lines)} {unit}）只有模板预先填好的列（{filled}{codes}）有内容，没有"
            f"“{validator.header('subject_name')}”“{validator.header('decision_no')}”等，不是记录，已跳过，"
            "不计入数据行；如其中有要报送的记录，请补全后重新报送")


def _under_a_header(table: Any, above: int) -> bool:
    """Whether a row comes right under a header: the table's, a repeated one (``above`` 0), or
    that of a later worksheet of records (the row above it is in the sheet before)."""
    offsets = table.sheets.offsets
    return above == 0 or (len(offsets) > 1 and above <= offsets[-1])


def _trimmed(cells: list[str]) -> list[str]:
    """A row's cells stripped, without its empty cells at the end."""
    written = [c.strip() for c in cells]
    while written and not written[-1]:
        written.pop()
    return written


def _prepare_in_thread(handover: queue.Queue[Any], stop: threading.Event, *args: Any) -> None:
    """The preparing thread: ``_prepare`` into the queue, then None; an error goes in the queue
    for the storing thread to raise, with its traceback."""
    try:
        if _prepare(*args, emit=lambda prepared: _hand_over(handover, prepared, stop)):
            _hand_over(handover, None, stop)
    except BaseException as exc:
        _hand_over(handover, exc, stop)


def _without_ids(message: str) -> str:
    """A message with the resident ids it quotes from the row masked (``not_a_record`` shows the
    row's values; an id in a date column is quoted as no date): reports are read widely. Also
    what a user typed that goes to the audit log (a file's name, a correction and its reason)."""
    return ids.mask_resident_ids(message)[0]


def _numbers_the_columns(cells: list[str]) -> bool:
    """Whether a row only numbers the columns it stands in: three or more cells, each holding its
    column's position (counted from the same start, 1 or another)."""
    filled = [(i, c.strip()) for i, c in enumerate(cells) if c and c.strip()]
    if len(filled) < 3 or not all(c.isdecimal() and len(c) <= 3 for _, c in filled):
        return False
    return len({int(c) - i for i, c in filled}) == 1


def _reject_foreign_decisions(session: Session, staging: Staging, item: Item, validator: RowValidator,
                              table: Any, department: Any, batch_id: int) -> int:
    """Reject the staged rows of decisions another department has stored (``not_own_data``):
    a sender may correct only its own records. The validator has already rejected rows that
    name another department as their source or authority; this finds, at the merge, a decision
    of a body that is no registered department (a branch reporting through its bureau) stored by
    another department. Returns how many rows were rejected.

    The message does not name the department that stored the decision: its record may be
    unpublished (revoked, 轻微, past its publication period), and which department holds what
    about a party is not the sender's to learn. What the sender needs is on its own row: the
    authority's code and the number to check; the credit office sees whose record it is."""
    foreign = staging.take_foreign_decisions(item.record_kind, department.id)
    if not foreign:
        return 0
    number_label = item.field("decision_no").label
    authority_label = item.field("authority_uscc").label
    issues = []
    rejected_rows = []
    for line, number, data in foreign:
        issues.append((
            "error", line, table.sheets.header(line, validator.header("decision_no")), "not_own_data",
            f"{authority_label}与{number_label}“{number}”相同的决定已由另一部门报送，不是报送部门"
            f"{department.name}的记录：部门只能报送和更正本部门的记录，本行未保存。请核对这两项是否填写正确；"
            "如该决定确应由本部门报送，请联系信用办核实处理",
        ))
        # the row as stored would be (resident ids masked): the department has nothing to fix in it
        values = {key: value for key, value in orjson.loads(data).items() if key in item.field_keys}
        headers = [table.sheets.header(line, validator.header(key)) or key for key in values]
        rejected_rows.append(_rejected_row(batch_id, line, headers, [_cell(v) for v in values.values()]))
    staging.write_issues(issues)
    session.execute(insert(RejectedRow), rejected_rows)
    return len(foreign)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _rejected_row(batch_id: int, line: int, headers: list[str], cells: list[str]) -> dict[str, Any]:
    """A rejected row's cells under the file's own headers, to hand back for correction (a JSON
    text that is no record, as written). They are kept encrypted: a rejected row is handed back
    as sent, resident ids included, so at rest it is sealed like every personal identifier."""
    if cells and cells[0] in (INVALID_JSON, NESTED_VALUE, JSON_BOOLEAN):
        named = {RAW_TEXT_COLUMN: cells[-1] if len(cells) > 2 else ""}
    else:
        if cells and cells[0] == UNCLOSED_QUOTE:
            cells = cells[2:]  # the row as the reader split it: the broken cell holds the lines it swallowed
        # a cell the reader marked is handed back as sent (half a character as its escape, _xD842_)
        named = {h or f"列{i + 1}": (cell_as_sent(cells[i]) if i < len(cells) else "") for i, h in enumerate(headers)}
    return {"batch_id": batch_id, "line": line, "cells": get_keyring().encrypt(orjson.dumps(named).decode())}


def _open_cells(stored: str) -> dict[str, str]:
    """A rejected row's cells as stored: sealed (rows stored before migration 0009 were not)."""
    return orjson.loads(stored if stored.startswith("{") else get_keyring().decrypt(stored))


def rejected_rows(session: Session, batch_id: int) -> list[tuple[int, dict[str, str]]]:
    """(line, cells) of every row rejected in a batch, in file order."""
    rows = session.execute(
        select(RejectedRow.line, RejectedRow.cells).where(RejectedRow.batch_id == batch_id).order_by(RejectedRow.line)
    )
    return [(line, _open_cells(cells)) for line, cells in rows]


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
    catalogue = get_catalogue()
    item = catalogue.item(item_key(kind))
    headers = catalogue.any_layout_map(item)
    table = open_table(path, lambda h: headers.get(normalize_header(h)))
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
            raise XinyongError(
                f"提交单位 {department_uscc} 尚未在平台登记，未保存任何数据：请先登记该部门"
                f"（命令 xinyong department add {code} 部门名称，或由信用办管理员在“部门管理”页面登记），"
                "再重新报送", code="department_not_registered")
        default_source = (department.uscc, department.name)
    validator = RowValidator(
        get_catalogue(), item, table.headers, today=today, default_source=default_source,
        departments=accounts.department_codes(session), columns_vary=table.format in ("jsonl", "json"),
        delimiter=table.delimiter, lossy=table.damaged_from_line is not None,
        where=table.where, excel_epoch=table.excel_epoch,
    )
    report = IngestReport(
        kind=kind, file=display_name, format=table.format,
        encoding=ENCODING_LABELS.get(table.encoding or "", table.encoding), layout=validator.layout,
    )
    # one intake at a time per kind: concurrent batches could race on the same identity
    _lock_intake(session, kind)
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
    builder = _RowBuilder(session, item, today, header_of=validator.header)
    departments = _Departments(session, batch.id, report, validator.header("source_uscc"))
    opening_notes = len(table.notes)
    staging.write_issues([
        *(("warning", None, None, "file_note", note) for note in table.notes),
        *(("warning", table.header_line or None, None, "file_note", note) for note in validator.notes),
        *(("warning", table.header_line or None, header, "unknown_column", f"列“{header}”不在目录中，已忽略")
          for header in validator.unknown_headers),
    ])
    counts = {"new": 0, "corrected": 0, "unchanged": 0}
    rows_total = rejected = staged = 0
    # PostgreSQL works in its own process: one thread prepares rows (Python) while this one, the
    # only one that touches the session, stores them and merges every MERGE_ROWS (the database).
    # SQLite works inside this process and gives up the interpreter lock for every row it
    # stores: a second thread would only make the two take turns, so rows are prepared and
    # stored in turn and merged once (each merge step costs SQLite more than it saves).
    concurrent = staging.dialect == "postgresql"
    penalty = item.record_kind == "penalty"
    type_of = {f.id_type_field: f.key for f in item.fields if f.id_type_field}

    def merge() -> None:
        nonlocal staged, rejected
        if department is not None:
            rejected += _reject_foreign_decisions(session, staging, item, validator, table, department, batch.id)
        # the fields the file has no column for (so far: JSON meets its keys as it goes): a
        # correction keeps the record's values of them
        completion = Completion(
            fields=[(f.key, f.label) for f in item.fields if f.key not in validator.header_of],
            class_fields=frozenset(f.key for f in item.fields if f.decides_class),
            defaulted=validator.defaulted, type_of=type_of, party_fields=item.party_fields,
            decide_again=builder.decide_again if penalty else None, hashes=builder.version_hashes)
        merged = staging.merge(kind=item.record_kind, item_code=item.code, batch_id=batch.id, now=now,
                               name_header=validator.header("subject_name"),
                               number_header=validator.header("decision_no"),
                               uscc_header=validator.header("uscc"), completion=completion,
                               class_header=validator.header("penalty_kinds") if penalty else None,
                               end_headers=(validator.header("decision_date"),
                                            validator.header("publication_end_declared")) if penalty else None)
        for outcome, count in merged.items():
            counts[outcome] += count
        staging.clear()
        staged = 0

    def store(prepared: _Prepared) -> bool:
        nonlocal rows_total, rejected, staged
        rows_total += prepared.rows_total
        rejected += prepared.rejected
        staging.add_departments((uscc, departments.id_of(uscc, name, line)) for uscc, name, line in prepared.sources)
        staging.write_issues(departments.warnings)
        departments.warnings.clear()
        staging.write_rows(prepared.rows, prepared.payloads, prepared.count)
        staging.write_issues(prepared.issues)
        if prepared.rejected_rows:
            session.execute(insert(RejectedRow), prepared.rejected_rows)
        staged += prepared.count
        if concurrent and staged >= MERGE_ROWS:
            merge()
        if progress:
            progress(prepared.position, table.size)
        return True

    preparing = (table, validator, builder, staging.encoder(), batch.id)
    if not concurrent:
        _prepare(*preparing, emit=store)
    else:
        # the bounded queue keeps memory flat
        handover: queue.Queue[_Prepared | BaseException | None] = queue.Queue(maxsize=MERGE_ROWS // FLUSH_ROWS)
        stop = threading.Event()
        thread = threading.Thread(target=_prepare_in_thread, args=(handover, stop, *preparing),
                                  name="ingest-prepare", daemon=True)
        with _prompt_handovers():
            thread.start()
            try:
                while (prepared := handover.get()) is not None:
                    if isinstance(prepared, BaseException):
                        raise prepared
                    store(prepared)
            finally:
                stop.set()
                thread.join()
    merge()
    staging.write_issues([("warning", i.line, i.field, i.code, i.message) for i in validator.late_issues])
    # what the reader found out while reading (where a later worksheet starts)
    staging.write_issues([("warning", None, None, "file_note", note) for note in table.notes[opening_notes:]])
    for first, last, renamed in table.sheets.renamed_ranges():
        staging.rename_fields(first, last, renamed)  # the merge's own warnings on a later sheet
    staging.finish(batch_id=batch.id)
    if progress:
        progress(table.size, table.size)
    staging.drop()
    report.batch_id = batch.id
    report.rows_total = rows_total
    report.accepted = counts["new"]
    report.corrected = counts["corrected"]
    report.unchanged = counts["unchanged"]
    report.rejected = rejected
    report.sheets = [SheetRead(**sheet) for sheet in table.sheets.as_list()]
    _add_issues(session, batch.id, report)
    summary = report.model_dump(exclude={"errors", "warnings"})
    # a file sent without a sender (the command line) whose rows all come from one department is
    # that department's batch: its collection quality counts it
    sources = set(departments.ids.values())
    owner = batch.department_id if batch.department_id is not None or len(sources) != 1 else sources.pop()
    session.execute(
        update(Batch).where(Batch.id == batch.id).values(
            finished_at=clock.now(), rows_total=rows_total, accepted=report.accepted,
            corrected=report.corrected, unchanged=report.unchanged, rejected=rejected,
            report_json=json.dumps(summary, ensure_ascii=False), department_id=owner,
        )
    )
    return report


__all__ = ["KINDS", "FileUnreadable", "IngestReport", "ingest_file"]


# ---------------------------------------------------------------------------------------------
# The department workbench: uploads, batches, their reports, rejected rows and online corrections.

REASON_COLUMNS = ("行号", "出错列", "错误代码", "错误说明")
SHEET_COLUMN = "工作表"  # before 行号, when a workbook had records on several sheets
RAW_TEXT_COLUMN = "原始内容"  # a JSON text that is no record, handed back as written
# what Excel cannot hold: control characters, and more than 32,767 characters in a cell
_EXCEL_CELL_CHARS = 32_767
KIND_LABELS = {"penalties": "行政处罚", "licences": "行政许可"}
RECORD_KIND_TO_KIND = {v: k for k, v in KINDS.items()}
_UPLOAD_SUFFIXES = frozenset({".csv", ".txt", ".xlsx", ".xlsm", ".jsonl", ".ndjson", ".json", ".xls",
                               ".xml", ".htm", ".html"})


class UploadTooLarge(XinyongError):
    status_code = 413
    code = "upload_too_large"

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"文件超过 {limit_bytes // (1024 * 1024)} MB 的上限，未保存任何数据。请将文件拆分后分批提交。")


class CorrectionRejected(XinyongError):
    status_code = 422
    code = "correction_rejected"


_EXTENDED_NAME = re.compile(r"""filename\*\s*=\s*([\w!#$&+.^`|~-]+)'[\w-]*'([^;\s]+)""", re.IGNORECASE)
_ENCODED_WORD = re.compile(r"^=\?[\w-]+\?[BbQq]\?.*\?=$")


def upload_name(file_name: str | None, disposition: str | None = None) -> str:
    """The name an uploaded file is listed under: its base name as the client sent it, at most
    200 characters (a browser on Windows may send the whole path). A client that sends the name
    as RFC 6266 ``filename*=utf-8''…`` (.NET's MultipartFormDataContent does, with an RFC 2047
    ``=?utf-8?B?…?=`` in ``filename``) is read as it means it."""
    from email.header import decode_header, make_header
    from urllib.parse import unquote

    name = file_name or ""
    extended = _EXTENDED_NAME.search(disposition or "")
    if extended:
        with suppress(LookupError, UnicodeDecodeError):
            name = unquote(extended.group(2), encoding=extended.group(1), errors="strict")
    elif _ENCODED_WORD.match(name):
        with suppress(LookupError, UnicodeDecodeError, ValueError):
            name = str(make_header(decode_header(name)))
    # a name with a NUL could not even be spooled to a file (nor stored)
    return without_controls(name).replace("\\", "/").rsplit("/", 1)[-1][:200] or "upload"


def spool_upload(stream: Any, file_name: str, *, limit_bytes: int, directory: Path | None = None) -> Path:
    """Copy an uploaded file to a temporary file, refusing it as soon as it passes ``limit_bytes``.

    The temporary file keeps the upload's extension (the readers look at it); the caller deletes it.
    """
    spool = Spool(file_name, limit_bytes=limit_bytes, directory=directory)
    try:
        while chunk := stream.read(1 << 20):
            spool.write(chunk)
    except BaseException:
        spool.discard()
        raise
    return spool.finish()


class Spool:
    """A temporary file an upload is copied to as it arrives (from a form field, or the request
    body itself), refused as soon as it passes ``limit_bytes``. It keeps the upload's extension
    (the readers look at it); the caller deletes the file ``finish`` returns."""

    def __init__(self, file_name: str, *, limit_bytes: int, directory: Path | None = None) -> None:
        import tempfile

        suffix = Path(file_name or "").suffix.lower()
        if suffix not in _UPLOAD_SUFFIXES:
            suffix = ".dat"
        fd, name = tempfile.mkstemp(prefix="xinyong-upload-", suffix=suffix, dir=directory)
        self.path = Path(name)
        self._out = open(fd, "wb")  # noqa: SIM115 - closed by finish or discard
        self.limit_bytes = limit_bytes
        self.written = 0

    def write(self, chunk: bytes) -> None:
        self.written += len(chunk)
        if self.written > self.limit_bytes:
            self.discard()
            raise UploadTooLarge(self.limit_bytes)
        self._out.write(chunk)

    def finish(self) -> Path:
        self._out.close()
        return self.path

    def discard(self) -> None:
        self._out.close()
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class BatchSummary:
    """A batch as listed on the workbench."""

    batch: Batch
    department: str | None
    errors: int
    warnings: int

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(RECORD_KIND_TO_KIND.get(self.batch.kind, ""), self.batch.kind)


def list_batches(session: Session, *, department_id: int | None = None, kind: str | None = None,
                 limit: int = 50, offset: int = 0) -> list[BatchSummary]:
    """The most recent batches, of one department when ``department_id`` is given."""
    query = select(Batch)
    if department_id is not None:
        query = query.where(Batch.department_id == department_id)
    if kind:
        query = query.where(Batch.kind == item_key(kind))
    batches = list(session.scalars(
        query.order_by(Batch.received_at.desc(), Batch.id.desc()).limit(limit).offset(offset)))
    names = {d.id: d.name for d in accounts.list_departments(session)}
    out = []
    for batch in batches:
        summary = json.loads(batch.report_json or "{}")
        out.append(BatchSummary(batch=batch, department=names.get(batch.department_id),
                                errors=int(summary.get("errors_count", 0)),
                                warnings=int(summary.get("warnings_count", 0))))
    return out


def get_batch(session: Session, batch_id: int) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound(f"批次 {batch_id} 不存在")
    return batch


def batch_report(session: Session, batch: Batch) -> IngestReport:
    """The quality report of a stored batch, as it was returned when the file was submitted."""
    summary = json.loads(batch.report_json or "{}")
    fields = set(IngestReport.model_fields) - {"errors", "warnings"}
    known = {k: v for k, v in summary.items() if k in fields}
    known["kind"] = known.get("kind") or RECORD_KIND_TO_KIND.get(batch.kind, batch.kind)
    known["file"] = known.get("file") or batch.file_name
    known["batch_id"] = batch.id
    report = IngestReport.model_validate(known)
    _add_issues(session, batch.id, report)
    return report


def sheet_lines(session: Session, batch_ids: Iterable[int]) -> dict[int, SheetLines]:
    """Of the given batches, those from a workbook with records on several sheets: where each
    sheet starts in the batch's line numbers (``SheetLines.locate`` gives a line's sheet and row)."""
    ids_ = list(batch_ids)
    if not ids_:
        return {}
    rows = session.execute(select(Batch.id, Batch.report_json).where(
        Batch.id.in_(ids_), Batch.file_format.in_(WORKBOOK_FORMATS)))
    found = {batch_id: _stored_sheets(summary) for batch_id, summary in rows}
    return {batch_id: sheets for batch_id, sheets in found.items() if sheets.several}


def _stored_sheets(report_json: str | None) -> SheetLines:
    """The sheets a stored batch's report keeps (``Batch.report_json``)."""
    return SheetLines.from_list(json.loads(report_json or "{}").get("sheets", []))


def _add_issues(session: Session, batch_id: int, report: IngestReport) -> None:
    """A batch's issue counts, and its first ``ISSUE_SAMPLE`` errors and warnings, into its report."""
    counts = dict(session.execute(
        select(BatchIssue.severity, func.count()).where(BatchIssue.batch_id == batch_id)
        .group_by(BatchIssue.severity)
    ).all())
    report.errors_count, report.warnings_count = counts.get("error", 0), counts.get("warning", 0)
    sheets = SheetLines.from_list(report.sheets)
    report.errors = [IssueOut(**i) for i in _issues(session, batch_id, "error", limit=ISSUE_SAMPLE, sheets=sheets)]
    report.warnings = [IssueOut(**i) for i in _issues(session, batch_id, "warning", limit=ISSUE_SAMPLE,
                                                      sheets=sheets)]


def _issues(connection: Session | Connection, batch_id: int, severity: str, *, after: int = 0,
            limit: int, sheets: SheetLines | None = None) -> list[dict[str, Any]]:
    """Issues of one severity in stored order, the ``limit`` next ones after id ``after``. With
    ``sheets`` (a workbook with records on several sheets), a line is given as its sheet and
    the row in it; without, as stored."""
    rows = connection.execute(
        select(BatchIssue.id, BatchIssue.line, BatchIssue.field, BatchIssue.code, BatchIssue.message)
        .where(BatchIssue.batch_id == batch_id, BatchIssue.severity == severity, BatchIssue.id > after)
        .order_by(BatchIssue.id).limit(limit)
    )
    out = [{"id": r.id, "line": r.line, "field": r.field, "code": r.code, "message": r.message} for r in rows]
    if sheets is not None and sheets.several:
        for issue in out:
            issue["sheet"], issue["line"] = sheets.locate(issue["line"])
    return out


def report_chunks(report: IngestReport, *, engine: Engine | None = None) -> Iterator[str]:
    """The full report of a stored batch as JSON text, piece by piece: the counts from
    ``report``, then every error and warning read from the database a page at a time, so that
    a report with a million errors needs no more memory than one with ten."""
    if report.batch_id is None:
        yield report.model_dump_json(indent=2)
        return
    head = report.model_dump(mode="json", exclude={"errors", "warnings", "departments_registered", "sheets"})
    sheets = SheetLines.from_list(report.sheets)
    yield "{\n" + "".join(f"  {_json(k)}: {_json(v)},\n" for k, v in head.items())
    with db.read_only(engine) as connection:
        for key, severity in (("errors", "error"), ("warnings", "warning")):
            yield f'  "{key}": ['
            after, first = 0, True
            while page := _issues(connection, report.batch_id, severity, after=after, limit=REPORT_PAGE,
                                  sheets=sheets):
                after = page[-1]["id"]
                parts = []
                for issue in page:
                    del issue["id"]
                    parts.append(("\n    " if first else ",\n    ") + _json(issue))
                    first = False
                yield "".join(parts)
            yield "],\n" if first else "\n  ],\n"
    departments = [d.model_dump(mode="json") for d in report.departments_registered]
    yield '  "departments_registered": ' + json.dumps(departments, ensure_ascii=False)
    if report.sheets:  # a workbook with records on several sheets: the sheets, in the order read
        yield ',\n  "sheets": ' + json.dumps([s.model_dump() for s in report.sheets], ensure_ascii=False)
    yield "\n}\n"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def write_report(report: IngestReport, path: Path) -> None:
    """Write the full report of a stored batch to ``path`` (see ``report_chunks``)."""
    with open(path, "w", encoding="utf-8") as fh:
        for chunk in report_chunks(report):
            fh.write(chunk)


def rejected_table(batch_id: int, *, engine: Engine | None = None) -> Iterator[list[str]]:
    """The rejected rows of a batch as a table, its header row first: the cells under the file's
    own headers, then line, columns, codes and reasons. Rows and errors are read a page at a
    time, in line order, so that a batch of a million rejected rows needs little memory. A CSV
    file has one header for all its rows; in other formats a later row may have more columns (a
    JSON Lines key first met on a later line, a column only a later worksheet has), so their rows
    are read twice: once for the columns. Rows from a workbook with records on several sheets
    are given with their sheet and the row in it."""
    with db.read_only(engine) as connection:
        rows = _rejected_pages(connection, batch_id)
        issues = _error_lines(connection, batch_id)
        first = next(rows, None)
        headers = list(first[1]) if first else []
        file_format, summary = connection.execute(
            select(Batch.file_format, Batch.report_json).where(Batch.id == batch_id)).one()
        if first and file_format != "csv":
            headers = list(dict.fromkeys(key for _, cells in _rejected_pages(connection, batch_id) for key in cells))
        sheets = _stored_sheets(summary)
        yield headers + ([SHEET_COLUMN] if sheets.several else []) + list(REASON_COLUMNS)
        pending = next(issues, None)
        for line, cells in itertools.chain([first] if first else [], rows):
            found = []
            while pending is not None and (pending[0] is None or pending[0] <= line):
                if pending[0] == line:
                    found.append(pending[1:])
                pending = next(issues, None)
            columns = list(dict.fromkeys(f for f, _, _ in found if f))
            sheet, row = sheets.locate(line)
            yield [cells.get(h, "") for h in headers] + ([sheet or ""] if sheets.several else []) + [
                str(row), "；".join(columns), "；".join(c for _, c, _ in found), "；".join(m for _, _, m in found),
            ]


def _rejected_pages(connection: Connection, batch_id: int) -> Iterator[tuple[int, dict[str, str]]]:
    after = 0
    while page := connection.execute(
        select(RejectedRow.line, RejectedRow.cells)
        .where(RejectedRow.batch_id == batch_id, RejectedRow.line > after)
        .order_by(RejectedRow.line).limit(REPORT_PAGE)
    ).all():
        after = page[-1].line
        for line, cells in page:
            yield line, _open_cells(cells)


def _error_lines(connection: Connection, batch_id: int) -> Iterator[tuple[int | None, str | None, str, str]]:
    """(line, field, code, message) of each error, in line order (the order they are stored in)."""
    after = 0
    while page := _issues(connection, batch_id, "error", after=after, limit=REPORT_PAGE):
        after = page[-1]["id"]
        for i in page:
            yield i["line"], i["field"], i["code"], i["message"]


def rejected_csv(rows: Iterable[list[str]]) -> Iterator[bytes]:
    """CSV in UTF-8 with a byte order mark (so that Excel opens the Chinese text correctly),
    a few hundred rows at a time."""
    import csv
    import io

    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    for n, row in enumerate(rows, 1):
        writer.writerow([_csv_safe(value) for value in row])
        if n % 500 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


_PLAIN_NEGATIVE = re.compile(r"^-[\d.,\s]*$|^-+$")


def _csv_safe(value: str) -> str:
    """A cell that Excel would run as a formula when it opens the CSV (=…, +…, @…, -… that is no
    plain negative number) gets a leading ' , which Excel shows as text; intake drops such a mark
    when the row is sent again, so the value returns as it was."""
    if value and (value[0] in "=+@\t\r" or (value[0] == "-" and not _PLAIN_NEGATIVE.match(value))):
        return "'" + value
    return value


def rejected_xlsx(rows: Iterable[list[str]], path: Path, *, title: str = "未通过的行") -> None:
    """Write a workbook with one sheet to ``path``; every cell is text (a value starting with =
    stays text)."""
    write_xlsx([(title, rows)], path)


def write_xlsx(sheets: Iterable[tuple[str, Iterable[list[Any]]]], path: Path) -> None:
    """Write a workbook of the given sheets to ``path``: a string is a text cell (a value starting
    with = stays text), a number a number. openpyxl's write-only mode keeps rows in a temporary
    file, not in memory."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title=title)

        def cells(values: list[Any], sheet: Any = sheet) -> list[WriteOnlyCell]:
            out = []
            for value in values:
                if isinstance(value, int | float):
                    out.append(WriteOnlyCell(sheet, value=value))
                    continue
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
                if len(value) > _EXCEL_CELL_CHARS:
                    value = value[: _EXCEL_CELL_CHARS - 10] + "…（已截断）"
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"
                out.append(cell)
            return out

        for row in rows:
            sheet.append(cells(row))
    workbook.save(path)


def code_quality_xlsx(report: CodeQuality, path: Path) -> None:
    """The 重错码 report as a workbook: 各部门错码, 一码多名, 一名多码 (every subject, not a page)."""
    from xinyong.policy.cli_render import rate_in_words

    def share(rate: float | None) -> str:
        return rate_in_words(rate) if rate is not None else ""

    def codes(s: Any) -> list[str]:
        return [s.uscc or "", s.reg_no or "", s.org_code or "", s.area_code or ""]

    departments = [["报送部门", "部门统一社会信用代码", "报送行数", "错码行数", "错码率", "错误类型"]] + [
        [d.name, d.uscc or "", d.rows_total, d.rows_wrong_code, share(d.rate),
         "；".join(f"{k.label} {k.rows} 行" for k in d.kinds)]
        for d in report.departments if d.rows_total
    ]
    coded = ["主体类别", "统一社会信用代码", "工商注册号", "组织机构代码", "行政区划码"]
    under_names = [["主体名称", *coded, "使用过的名称", "判断", "名称相似度"]] + [
        [u.subject.name, u.subject.kind_label, *codes(u.subject),
         "；".join(f"{n.name}（{n.first_seen_on}至{n.last_seen_on}）" for n in u.names),
         "同期使用，疑似重码" if u.concurrent else "先后使用（更名），不计入", u.similarity]
        for u in report.duplicates.under_names
    ]
    under_codes = [["名称", "主体名称", *coded, "平台编号"]] + [
        [g.name, s.name, s.kind_label, *codes(s), s.id] for g in report.duplicates.under_codes for s in g.subjects
    ]
    write_xlsx([("各部门错码", departments), ("一码多名", under_names), ("一名多码", under_codes)], path)


@dataclass(frozen=True)
class DepartmentQuality:
    """Collection quality of one department (credit office view)."""

    department_id: int
    name: str
    uscc: str
    records: int
    batches: int
    rows_total: int
    rows_rejected: int
    versions: int
    versions_on_time: int
    last_submission: dt.datetime | None

    @property
    def rejection_rate(self) -> float | None:
        return self.rows_rejected / self.rows_total if self.rows_total else None

    @property
    def on_time_share(self) -> float | None:
        return self.versions_on_time / self.versions if self.versions else None


def quality_overview(session: Session) -> list[DepartmentQuality]:
    """Per department: records, batches, rejection rate, share submitted on time, last submission."""
    from sqlalchemy import func

    from xinyong.records.service import department_record_stats

    batches: dict[int, tuple[int, int, int, dt.datetime | None]] = {}
    for department_id, count, total, rejected, last in session.execute(
        select(Batch.department_id, func.count(), func.sum(Batch.rows_total), func.sum(Batch.rejected),
               func.max(Batch.received_at))
        .where(Batch.department_id.is_not(None)).group_by(Batch.department_id)
    ):
        batches[department_id] = (count, int(total or 0), int(rejected or 0), last)
    records = department_record_stats(session)
    out = []
    for department in accounts.list_departments(session):
        count, total, rejected, last_batch = batches.get(department.id, (0, 0, 0, None))
        stats = records.get(department.id, {})
        last_version = stats.get("last_received")
        candidates = [d for d in (last_batch, last_version) if isinstance(d, dt.datetime)]
        out.append(DepartmentQuality(
            department_id=department.id, name=department.name, uscc=department.uscc,
            records=int(stats.get("records", 0) or 0), batches=count, rows_total=total,  # type: ignore[call-overload]
            rows_rejected=rejected, versions=int(stats.get("versions", 0) or 0),  # type: ignore[call-overload]
            versions_on_time=int(stats.get("on_time", 0) or 0),  # type: ignore[call-overload]
            last_submission=max(candidates) if candidates else None,
        ))
    return out


def _received_between(since: dt.date | None, until: dt.date | None) -> list[Any]:
    """Conditions on a batch's time received for China dates ``since``..``until`` (both inclusive)."""
    conditions = []
    if since is not None:
        conditions.append(Batch.received_at >= dt.datetime.combine(since, dt.time(), clock.CHINA_TZ))
    if until is not None:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), clock.CHINA_TZ)
        conditions.append(Batch.received_at < end)
    return conditions


def _code_headers(session: Session, period: list[Any]) -> dict[str, set[str]]:
    """Per record kind, the column headers (as written in files) of a party's codes that hold
    wrong-code errors in the period. Issues name the column as written, so they are mapped back
    to the catalogue's fields."""
    cat = get_catalogue()
    maps: dict[str, dict[str, str]] = {}
    headers: dict[str, set[str]] = {}
    for kind, header in session.execute(
        select(Batch.kind, BatchIssue.field).join(Batch, Batch.id == BatchIssue.batch_id)
        .where(BatchIssue.severity == "error", BatchIssue.code.in_(WRONG_CODE_LABELS), *period)
        .distinct()
    ):
        mapping = maps.get(kind) or maps.setdefault(kind, cat.any_layout_map(cat.item(kind)))
        if header and mapping.get(normalize_header(header)) in SUBJECT_CODE_FIELDS:
            headers.setdefault(kind, set()).add(header)
    return headers


def code_quality(
    session: Session, *, since: dt.date | None = None, until: dt.date | None = None, limit: int | None = 200,
) -> CodeQuality:
    """The 重错码 report: suspected duplicate codes among the subjects (DOMAIN §4), and per
    department the rows received between ``since`` and ``until`` (China dates, inclusive) that
    were rejected because a party's code was wrong, against the jurisdiction's target rate."""
    from xinyong.policy.service import PolicyNotFound
    from xinyong.subjects.service import duplicate_codes

    today = clock.today()
    period = _received_between(since, until)
    department_key = func.coalesce(Batch.department_id, 0)
    received = {
        key: int(total or 0) for key, total in session.execute(
            select(department_key, func.sum(Batch.rows_total)).where(*period).group_by(department_key)
        )
    }
    headers = _code_headers(session, period)
    wrong_rows: dict[int, int] = {}
    kinds: dict[int, dict[str, int]] = {}
    if headers:
        in_code_column = or_(*(and_(Batch.kind == kind, BatchIssue.field.in_(sorted(fields)))
                               for kind, fields in headers.items()))
        wrong = (
            select(BatchIssue.batch_id, BatchIssue.code, BatchIssue.line)
            .join(Batch, Batch.id == BatchIssue.batch_id)
            .where(BatchIssue.severity == "error", BatchIssue.code.in_(WRONG_CODE_LABELS), in_code_column, *period)
            .subquery("wrong")
        )
        per_batch = {
            batch_id: (key, int(count)) for batch_id, key, count in session.execute(
                select(wrong.c.batch_id, func.coalesce(Batch.department_id, 0),
                       func.count(func.distinct(wrong.c.line)))
                .join(Batch, Batch.id == wrong.c.batch_id)
                .group_by(wrong.c.batch_id, Batch.department_id)
            )
        }
        for key, count in per_batch.values():
            wrong_rows[key] = wrong_rows.get(key, 0) + count
        for batch_id, code, count in session.execute(
            select(wrong.c.batch_id, wrong.c.code, func.count(func.distinct(wrong.c.line)))
            .group_by(wrong.c.batch_id, wrong.c.code)
        ):
            key = per_batch[batch_id][0]
            kinds.setdefault(key, {})[code] = kinds.get(key, {}).get(code, 0) + int(count)

    departments = []
    for department in accounts.list_departments(session):
        departments.append(_department_code_errors(
            department.id, department.name, department.uscc, received, wrong_rows, kinds))
    if received.get(0):  # batches that name no department (command-line batches of several)
        departments.append(_department_code_errors(None, "未注明报送部门的批次", None, received, wrong_rows, kinds))
    departments.sort(key=lambda d: (-(d.rate or 0), -d.rows_total, d.name))

    from xinyong.core.config import get_settings

    jurisdiction = get_settings().jurisdiction
    try:
        rule = get_policy_book().rule("code_quality", today, jurisdiction)
    except PolicyNotFound:
        target = None
    else:
        from xinyong.policy.cli_render import rate_in_words

        rate = rule.typed_params.rate_below
        target = CodeQualityTarget(rate_below=rate, in_words=rate_in_words(rate), rule_id=rule.id,
                                   title=rule.title, citation=rule.source.citation(), verified=rule.verified)
    return CodeQuality(on=today, since=since, until=until, jurisdiction=jurisdiction, target=target,
                       duplicates=duplicate_codes(session, limit=limit), departments=departments)


def _department_code_errors(
    department_id: int | None, name: str, uscc: str | None, received: dict[int, int],
    wrong_rows: dict[int, int], kinds: dict[int, dict[str, int]],
) -> DepartmentCodeErrors:
    key = department_id or 0
    return DepartmentCodeErrors(
        department_id=department_id, name=name, uscc=uscc, rows_total=received.get(key, 0),
        rows_wrong_code=wrong_rows.get(key, 0),
        kinds=[WrongCodeKind(code=code, label=WRONG_CODE_LABELS[code], rows=rows)
               for code, rows in sorted(kinds.get(key, {}).items(), key=lambda item: (-item[1], item[0]))],
    )


def correction_fields(kind: str) -> list[Any]:
    """The catalogue fields an officer may edit online for a record of ``kind`` (penalty|licence)."""
    editable = {
        "penalty": ("violation_type", "violation_facts", "legal_basis", "penalty_kinds", "penalty_content",
                    "fine_amount", "confiscated_amount", "licence_affected", "valid_until",
                    "publication_end_declared", "remarks"),
        "licence": ("licence_content", "certificate_name", "licence_no", "valid_from", "valid_to",
                    "licence_status", "remarks"),
    }[kind]
    item = get_catalogue().item(kind)
    return [item.field(key) for key in editable]


def correct_record(
    session: Session, record_id: int, *, changes: dict[str, str], reason: str, actor: str, ip: str | None,
    work_dir: Path | None = None,
) -> IngestReport:
    """Correct a record online: a one-row file in the current layout goes through the intake.

    Validation, versioning and provenance are therefore the same as for a submitted file. A row
    that fails validation raises ``CorrectionRejected`` (the caller rolls back); the reason and
    the changed values go to the audit log.
    """
    import csv
    import tempfile

    from xinyong.core import audit
    from xinyong.records.service import RecordAlreadyRevoked, current_values, find_record

    reason = (reason or "").strip()
    if not reason:
        raise XinyongError("更正记录必须填写原因", code="reason_required")
    record = find_record(session, record_id)
    if record.revoked_at is not None:
        raise RecordAlreadyRevoked("已撤销的记录不能更正")
    item = get_catalogue().item(record.kind)
    allowed = {f.key for f in correction_fields(record.kind)}
    values = current_values(session, record)
    before = {k: values.get(k, "") for k in allowed}
    changed = {k: (v or "").strip() for k, v in changes.items() if k in allowed and (v or "").strip() != before[k]}
    if not changed:
        raise CorrectionRejected("没有修改任何内容", code="nothing_changed")
    values.update(changed)
    other_markers = {normalize_header(m) for name, lay in item.layouts.items() if name != "current"
                     for m in lay.markers}
    # a column whose name marks an older layout is written under its field key, so that the row
    # is read in the current layout and keeps the value (地方编码 of a 2016 record)
    headers = [f.key if normalize_header(f.label) in other_markers else f.label for f in item.fields]
    if values.get("uscc") and values.get("org_code") == ids.uscc_org_code(values["uscc"]):
        del values["org_code"]  # derived from the USCC when stored, not sent: derived again
    department = accounts.get_department(session, record.department_id)
    kind = RECORD_KIND_TO_KIND[record.kind]
    with tempfile.TemporaryDirectory(prefix="xinyong-correction-", dir=work_dir) as tmp:
        path = Path(tmp) / "correction.csv"
        with open(path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(headers)
            writer.writerow([values.get(f.key, "") for f in item.fields])
        report = ingest_file(session, path, kind, department_uscc=department.uscc if department else None,
                             submitted_by=actor, display_name=f"在线更正：{record.decision_no}")
    if report.rejected:
        raise CorrectionRejected("更正未通过校验：" + "；".join(
            f"{e.field or ''} {e.message}".strip() for e in report.errors))
    # the audit log is kept for good and hash-chained, so an id typed into a value or the reason
    # is masked as intake masks it in the stored version (a text stored before intake masked ids
    # glued to letters may hold one in ``before``)
    audit.record(
        session, actor=actor, action="record.correct", target_type="record", target_id=str(record.id),
        subject_id=record.subject_id, before={k: _without_ids(before[k]) for k in changed},
        after={**{k: _without_ids(v) for k, v in changed.items()}, "reason": _without_ids(reason),
               "batch_id": report.batch_id}, ip=ip,
    )
    return report


UPLOAD_ENVELOPE = 64 * 1024  # what a multipart body may add to the file it carries


def upload_limit(declared_length: str | None = None) -> int:
    """The upload limit in bytes; refuses at once a request that declares a larger body."""
    from xinyong.core.config import get_settings

    limit = get_settings().upload_max_mb * 1024 * 1024
    if declared_length and declared_length.isdigit() and int(declared_length) > limit + UPLOAD_ENVELOPE:
        raise UploadTooLarge(limit)
    return limit


def audit_rejected_download(session: Session, batch_id: int, *, actor: str, ip: str | None, file_format: str) -> None:
    """Audit a download of a batch's rejected rows: they are handed back as sent, with the
    personal data in them (a resident id in clear), so every read is on record."""
    from xinyong.core import audit

    audit.record(session, actor=actor, action=audit.READ_REJECTED_ROWS, target_type="batch", target_id=str(batch_id),
                 after={"format": file_format}, ip=ip)


def audit_submission(session: Session, report: IngestReport, *, actor: str, ip: str | None) -> None:
    """Audit a batch submitted over the web, the API or the command line."""
    from xinyong.core import audit

    audit.record(
        session, actor=actor, action="batch.submit", target_type="batch", target_id=str(report.batch_id),
        after={"kind": report.kind, "file": _without_ids(report.file), "rows_total": report.rows_total,
               "accepted": report.accepted, "corrected": report.corrected, "unchanged": report.unchanged,
               "rejected": report.rejected},
        ip=ip,
    )
