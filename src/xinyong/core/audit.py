"""The audit log: every write and every read of non-public data, hash-chained so tampering shows.

Each entry's hash is HMAC-SHA256, keyed with a key derived from the platform's secret key, over
its own fields and the previous entry's hash; ``audit_head`` keeps the newest sequence number and
hash. ``verify`` walks the chain and names the first entry that was altered, removed or inserted:
whoever can write the database but does not hold the key cannot recompute the chain to hide a
change. The head it reports can be recorded outside the database (an anchor), so that removing
the newest entries together with the head shows too.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, func, or_, select, text
from sqlalchemy.orm import Session

from xinyong.core import clock, ids
from xinyong.core.crypto import get_keyring
from xinyong.core.errors import PlatformFault, XinyongError
from xinyong.core.models import AuditEntry, AuditHead

log = logging.getLogger("xinyong.audit")

GENESIS = "0" * 64
RESTORE_HEAD_ACTION = "audit.restore_head"
READ_ACTIONS_PREFIX = "read."  # actions that record a read of non-public data
READ_SUBJECT = "read.subject"
READ_RECORD = "read.record"
READ_RECORD_FOR_CORRECTION = "read.record_correction"
READ_REJECTED_ROWS = "read.rejected_rows"
# what a subject is told was read (谁查询了我)
READ_LABELS = {
    READ_SUBJECT: "信用主体档案（含政务共享信息）",
    READ_RECORD: "一条信用记录（含政务共享信息）",
    READ_RECORD_FOR_CORRECTION: "一条信用记录的全部内容（在线更正，含证件号码）",
    READ_REJECTED_ROWS: "被退回的报送数据",
}


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str).decode()


def _digest(prev_hash: str, seq: int, at: dt.datetime, actor: str, action: str, target_type: str,
            target_id: str | None, subject_id: int | None, ip: str | None, before: str | None,
            after: str | None) -> str:
    canonical = orjson.dumps(
        [seq, at.astimezone(dt.UTC).isoformat(timespec="microseconds"), actor, action, target_type,
         target_id, subject_id, ip, before, after],
    )
    return get_keyring().audit_chain_hash(prev_hash.encode() + canonical)


def _entry_digest(entry: AuditEntry, prev_hash: str) -> str:
    return _digest(prev_hash, entry.seq, entry.at, entry.actor, entry.action, entry.target_type,
                   entry.target_id, entry.subject_id, entry.ip, entry.before, entry.after)


@dataclass(frozen=True)
class HeadProblem:
    """How ``audit_head`` disagrees with the newest entry (in Chinese, for the operator);
    ``deleted``: the head is ahead of the entries, so the newest entries were deleted."""

    text: str
    first_bad_seq: int | None
    deleted: bool = False


def _head_problem(head: AuditHead | None, last_seq: int, last_hash: str) -> HeadProblem | None:
    if head is None:
        if last_seq == 0:
            return None  # an empty log: the first entry starts the chain
        return HeadProblem(f"审计日志的链头缺失：表 audit_head 中没有链头，而审计日志有第 1 条至第 {last_seq} 条记录"
                           "（链头被删除，或恢复数据库时没有恢复它）", None)
    if head.seq > last_seq:
        return HeadProblem(f"最新的第 {last_seq + 1} 条至第 {head.seq} 条记录被删除（链头仍指向第 {head.seq} 条）",
                           last_seq + 1, deleted=True)
    if head.seq < last_seq:
        return HeadProblem(f"审计日志的链头指向第 {head.seq} 条记录，落后于最新的第 {last_seq} 条（链头被改动）",
                           head.seq + 1)
    if head.hash != last_hash:
        return HeadProblem(f"审计日志的链头与最新的第 {last_seq} 条记录的哈希不符（链头被改动）", last_seq)
    return None


class AuditHeadFault(PlatformFault):
    """The head disagrees with the newest entry: the platform audits nothing more (and so does
    nothing that must be audited) until an operator has looked at the log and restored the head
    (``restore_head``). Never repaired on the fly: a head recreated from the entries left would
    hide the newest entries deleted with it."""

    code = "audit_log_unavailable"

    def __init__(self, problem: HeadProblem) -> None:
        super().__init__(f"{problem.text}。为免操作无从追溯，需要记入审计日志的操作已暂停，请联系系统管理员"
                         "（运维手册“审计日志”一节：先运行 xinyong audit verify，"
                         "再用 xinyong audit restore-head 恢复链头）。")
        self.problem = problem


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # one writer at a time extends the chain; released at commit
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('xinyong:audit'))"))


_NEWEST = select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target_type: str,
    target_id: str | None = None,
    subject_id: int | None = None,
    before: Any = None,
    after: Any = None,
    ip: str | None = None,
) -> AuditEntry:
    """Append an entry in the caller's transaction (it is kept only if the change is). Raises
    AuditHeadFault, and appends nothing, when the head disagrees with the newest entry."""
    _lock_chain(session)
    head = session.get(AuditHead, 1, with_for_update=True)
    newest = session.execute(_NEWEST).first()
    problem = _head_problem(head, *(newest or (0, GENESIS)))
    if problem is not None:
        log.error("audit log refused an entry (%s by %s): %s. Every audited action fails until an operator "
                  "runs `xinyong audit verify` and then `xinyong audit restore-head --reason ...` "
                  "(docs/operations.md, \"The audit log\")", action, actor, _english(problem, head, newest))
        raise AuditHeadFault(problem)
    prev_seq, prev_hash = (head.seq, head.hash) if head else (0, GENESIS)
    at = clock.now().astimezone(dt.UTC)  # microseconds survive both backends: the hash recomputes
    entry = AuditEntry(
        seq=prev_seq + 1, at=at, actor=actor, action=action, target_type=target_type,
        target_id=target_id, subject_id=subject_id, ip=ip, before=_json(before), after=_json(after),
        prev_hash=prev_hash, hash="",
    )
    entry.hash = _entry_digest(entry, prev_hash)
    session.add(entry)
    if head is None:
        session.add(AuditHead(id=1, seq=entry.seq, hash=entry.hash))
    else:
        head.seq, head.hash = entry.seq, entry.hash
    session.flush()
    return entry


def _english(problem: HeadProblem, head: AuditHead | None, newest: Any) -> str:
    """The fault, for the operator's log."""
    entries = f"the newest entry (seq {newest[0]})" if newest else "an empty audit_log"
    if head is None:
        return f"the audit head (table audit_head) is missing, with {entries}"
    what = "is ahead of" if problem.deleted else "does not match"
    deleted = ": the newest entries were deleted" if problem.deleted else ""
    return f"the audit head (table audit_head, seq {head.seq}) {what} {entries}{deleted}"


@dataclass(frozen=True)
class Anchor:
    """An entry's sequence number and hash, recorded outside the database: the chain verified
    later must still hold that entry with that hash (written ``seq:hash``)."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Anchor:
        seq, sep, digest = text.strip().partition(":")
        digest = digest.lower()
        if not (sep and seq.isascii() and seq.isdigit() and int(seq) > 0 and len(digest) == 64
                and all(c in "0123456789abcdef" for c in digest)):
            raise ValueError(f"not an anchor (seq:hash): {text!r}")
        return cls(int(seq), digest)


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None  # Chinese, for the operator
    head: Anchor | None = None  # the newest entry of a chain that verifies, to record outside the database
    # the entries verify and the head alone disagrees with them (missing, behind, altered, or
    # ahead: the newest entries deleted): audited actions are refused until ``restore_head``
    head_problem: HeadProblem | None = None


def _altered(seq: int) -> str:
    if seq == 1:
        # nothing verifies: a chain keyed with another key looks like this
        return ("第 1 条记录的哈希与用当前密钥算出的不符：XINYONG_SECRET_KEY 可能与写入审计日志时的密钥不同"
                "（请用原来的密钥再校验）；若密钥未变，则第 1 条记录的内容被修改")
    return f"第 {seq} 条记录的内容被修改"


@dataclass(frozen=True)
class _Walk:
    broken: Verification | None  # the first entry altered, removed or inserted, or the anchor not held
    checked: int
    last_seq: int
    last_hash: str


def _walk(session: Session, anchor: Anchor | None) -> _Walk:
    """Check every entry against the one before it, and ``anchor`` (an entry recorded outside the
    database) against the entry of its number."""
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=1000))

    def broken(seq: int, problem: str) -> _Walk:
        return _Walk(Verification(False, checked, seq, problem), checked, expected_seq - 1, prev_hash)

    for (entry,) in rows:
        checked += 1
        if entry.seq > expected_seq:
            return broken(expected_seq, f"第 {expected_seq} 条至第 {entry.seq - 1} 条记录被删除")
        if entry.seq < expected_seq:
            return broken(entry.seq, f"第 {entry.seq} 条记录重复（插入的记录）")
        recomputed = _entry_digest(entry, entry.prev_hash)
        if recomputed != entry.hash:
            return broken(entry.seq, _altered(entry.seq))
        if entry.prev_hash != prev_hash:
            return broken(entry.seq, f"第 {entry.seq} 条记录与前一条不衔接（记录被插入或替换）")
        if anchor is not None and entry.seq == anchor.seq and entry.hash != anchor.hash:
            return broken(entry.seq, f"第 {entry.seq} 条记录的哈希与在数据库外记下的不同：持有密钥者改写了审计日志，"
                                     "或记下的值有误")
        prev_hash = entry.hash
        expected_seq += 1
    return _Walk(None, checked, expected_seq - 1, prev_hash)


def _anchor_gone(walk: _Walk, anchor: Anchor | None) -> Verification | None:
    """The anchor is beyond the newest entry: the entries from there on were deleted together
    with the head, set back to the last one left."""
    if anchor is None or anchor.seq <= walk.last_seq:
        return None
    return Verification(False, walk.checked, walk.last_seq + 1,
                        f"在数据库外记下的第 {anchor.seq} 条记录已不在审计日志中："
                        f"第 {walk.last_seq + 1} 条起的最新记录连同链头被删除")


def verify(session: Session, anchor: Anchor | None = None) -> Verification:
    """Walk the whole chain; report the first entry that was altered, removed or inserted, a head
    that disagrees with the newest entry, and whether the chain still holds ``anchor`` (an entry
    recorded outside the database)."""
    walk = _walk(session, anchor)
    if walk.broken is not None:
        return walk.broken
    head = session.get(AuditHead, 1)
    problem = _head_problem(head, walk.last_seq, walk.last_hash)
    if problem is not None:
        return Verification(False, walk.checked, problem.first_bad_seq, problem.text, head_problem=problem)
    return _anchor_gone(walk, anchor) or Verification(True, walk.checked,
                                                      head=Anchor(head.seq, head.hash) if head else None)


@dataclass(frozen=True)
class HeadRestore:
    """What ``restore_head`` found and did."""

    problem: HeadProblem | None  # how the head disagreed with the newest entry; None: it agreed
    breach: Verification | None  # entries altered, removed or inserted, or the anchor not held
    restored: bool  # the head was set on the newest entry, and the restore audited
    head: Anchor | None  # the head now: the restore's own entry when it restored
    checked: int


def restore_head(session: Session, *, actor: str, reason: str, anchor: Anchor | None = None,
                 accept_break: bool = False) -> HeadRestore:
    """Set a missing or wrong head on the newest entry, as an operator's deliberate repair, and
    say so in an entry of its own (``audit.restore_head``: the head as found, what was wrong, the
    reason, a break accepted). Nothing is repaired when the head agrees with the newest entry, nor
    — unless ``accept_break`` — when the chain itself is broken, ``anchor`` is not held, or the
    head is ahead of the entries (the newest entries were deleted): the operator looks first. A
    break accepted is written into the restore's entry; one inside the chain stays there, and
    ``verify`` keeps reporting it.

    What this cannot tell: the newest entries deleted together with the head, since nothing
    after them is left to break; only an anchor recorded outside the database shows them."""
    reason = ids.mask_resident_ids(reason.strip())[0]  # the audit log is kept for good
    if not reason:
        raise XinyongError("请用 --reason 写明恢复链头的原因（如工单号、事故经过）", code="reason_required")
    _lock_chain(session)
    walk = _walk(session, anchor)
    head = session.get(AuditHead, 1, with_for_update=True)
    newest = session.execute(_NEWEST).first()
    last_seq, last_hash = newest or (0, GENESIS)
    problem = _head_problem(head, last_seq, last_hash)
    breach = walk.broken or _anchor_gone(walk, anchor)
    if problem is not None and problem.deleted and breach is None:
        breach = Verification(False, walk.checked, problem.first_bad_seq, problem.text)
    found = str(Anchor(head.seq, head.hash)) if head else None
    if problem is None or (breach is not None and not accept_break):
        return HeadRestore(problem, breach, False, Anchor(head.seq, head.hash) if head else None, walk.checked)
    if newest is None:
        session.delete(head)  # no entries left: the restore's entry starts the chain
    elif head is None:
        session.add(AuditHead(id=1, seq=last_seq, hash=last_hash))
    else:
        head.seq, head.hash = last_seq, last_hash
    session.flush()
    entry = record(session, actor=actor, action=RESTORE_HEAD_ACTION, target_type="audit_head", target_id="1",
                   before={"head": found, "newest_entry": f"{last_seq}:{last_hash}" if newest else None,
                           "problem": problem.text},
                   after={"head": f"{last_seq}:{last_hash}" if newest else None, "reason": reason,
                          "accepted_break": breach.problem if breach else None})
    log.warning("audit head restored by %s: it was %s, set on entry %s; this restore is entry %s",
                actor, found or "missing", last_seq, entry.seq)
    return HeadRestore(problem, breach, True, Anchor(entry.seq, entry.hash), walk.checked)


MERGE_ACTION = "subject.merge"  # its ``after`` names the subject merged away: ``merged_subject_id``


def merged_subject_ids(session: Session, subject_id: int) -> list[int]:
    """The subject and every subject merged into it (``subjects.service.merge_subjects``), also
    through earlier merges: entries name the subject as it was, and the chain is never rewritten."""
    found, frontier = [subject_id], [subject_id]
    while frontier:
        merged = [orjson.loads(after)["merged_subject_id"] for after in session.scalars(
            select(AuditEntry.after).where(AuditEntry.action == MERGE_ACTION, AuditEntry.subject_id.in_(frontier)))]
        frontier = [m for m in merged if m not in found]
        found += frontier
    return found


def entries_about_subject(session: Session, subject_id: int, *, reads_only: bool = True,
                          limit: int = 200) -> list[AuditEntry]:
    """Who read (or changed) a subject's data, newest first — for 谁查询了我. The entries of the
    subjects merged into it count as its own: they were about the same business."""
    query = select(AuditEntry).where(AuditEntry.subject_id.in_(merged_subject_ids(session, subject_id)))
    if reads_only:
        query = query.where(AuditEntry.action.startswith(READ_ACTIONS_PREFIX))
    return list(session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit)))


# --------------------------------------------------------------------------- reading the log

READ_AUDIT_LOG = "read.audit_log"  # the log itself, read on the workbench, downloaded or over the API

# Every action the platform writes, in words, for the log's readers (auditors, administrators);
# tests/core/test_audit_labels.py finds every action written in the code and checks it is here.
ACTION_LABELS = {
    "user.login": "登录",
    "user.logout": "退出登录",
    "user.password_change": "修改本人密码",
    "user.create": "创建用户",
    "user.disable": "停用用户",
    "user.enable": "启用用户",
    "user.password_reset": "重置用户密码",
    "department.register": "登记部门",
    "api_key.create": "创建 API 密钥",
    "api_key.revoke": "吊销 API 密钥",
    "batch.submit": "报送数据（一个批次）",
    "record.correct": "在线更正记录",
    "record.revoke": "撤销记录",
    "record.reclassify": "重新认定处罚类别与公示",
    "record.deadline": "重新计算报送期限",
    MERGE_ACTION: "合并信用主体",
    "calendar.load": "载入节假日安排",
    "audit.restore_head": "恢复审计日志链头",
    **{action: f"查阅{what}" for action, what in READ_LABELS.items()},
    READ_AUDIT_LOG: "查阅审计日志",
}
TARGET_LABELS = {
    "user": "用户", "department": "部门", "api_key": "API 密钥", "batch": "批次", "record": "记录",
    "subject": "信用主体", "calendar_year": "节假日安排", "audit_head": "审计日志链头", "audit_log": "审计日志",
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


@dataclass(frozen=True)
class EntryFilter:
    """Which entries a reader of the log asks for; a field left None asks nothing of them."""

    since: dt.datetime | None = None  # at or after
    until: dt.datetime | None = None  # before
    actor: str | None = None  # as written (api_key:3), a user name (user:<name>), or a command line's login
    actors: tuple[str, ...] | None = None  # one of these actors (a department's users and keys)
    action: str | None = None
    subject_ids: tuple[int, ...] | None = None  # about one of these subjects
    target_type: str | None = None
    target_id: str | None = None


def _conditions(wanted: EntryFilter) -> list[Any]:
    conditions: list[Any] = []
    if wanted.since is not None:
        conditions.append(AuditEntry.at >= wanted.since)
    if wanted.until is not None:
        conditions.append(AuditEntry.at < wanted.until)
    if wanted.actor is not None:
        conditions.append(or_(AuditEntry.actor.in_([wanted.actor, f"user:{wanted.actor}"]),
                              AuditEntry.actor.startswith(f"{wanted.actor} ", autoescape=True)))
    if wanted.actors is not None:
        conditions.append(AuditEntry.actor.in_(wanted.actors))
    if wanted.action is not None:
        conditions.append(AuditEntry.action == wanted.action)
    if wanted.subject_ids is not None:
        conditions.append(AuditEntry.subject_id.in_(wanted.subject_ids))
    if wanted.target_type is not None:
        conditions.append(AuditEntry.target_type == wanted.target_type)
    if wanted.target_id is not None:
        conditions.append(AuditEntry.target_id == wanted.target_id)
    return conditions


def count_entries(session: Session | Connection, wanted: EntryFilter) -> int:
    return session.execute(select(func.count()).select_from(AuditEntry).where(*_conditions(wanted))).scalar_one()


def list_entries(session: Session | Connection, wanted: EntryFilter, *, limit: int, offset: int = 0,
                 below_seq: int | None = None) -> list[Any]:
    """A page of the entries ``wanted`` asks for, newest first, as rows: ``offset`` entries on,
    or the ones before entry ``below_seq`` (to read the whole log a page at a time, in even time)."""
    table = AuditEntry.__table__
    query = select(table).where(*_conditions(wanted))
    if below_seq is not None:
        query = query.where(table.c.seq < below_seq)
    return list(session.execute(query.order_by(table.c.seq.desc()).limit(limit).offset(offset)))
