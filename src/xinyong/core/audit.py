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
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, func, or_, select, text
from sqlalchemy.orm import Session

from xinyong.core import clock
from xinyong.core.crypto import get_keyring
from xinyong.core.models import AuditEntry, AuditHead

GENESIS = "0" * 64
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
    """Append an entry in the caller's transaction (it is kept only if the change is)."""
    if session.get_bind().dialect.name == "postgresql":
        # one writer at a time extends the chain; released at commit
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('xinyong:audit'))"))
    head = session.get(AuditHead, 1, with_for_update=True)
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


def _altered(seq: int) -> str:
    if seq == 1:
        # nothing verifies: a chain keyed with another key looks like this
        return ("第 1 条记录的哈希与用当前密钥算出的不符：XINYONG_SECRET_KEY 可能与写入审计日志时的密钥不同"
                "（请用原来的密钥再校验）；若密钥未变，则第 1 条记录的内容被修改")
    return f"第 {seq} 条记录的内容被修改"


def verify(session: Session, anchor: Anchor | None = None) -> Verification:
    """Walk the whole chain; report the first entry that was altered, removed or inserted, and
    whether the chain still holds ``anchor`` (an entry recorded outside the database)."""
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=1000))
    for (entry,) in rows:
        checked += 1
        if entry.seq > expected_seq:
            return Verification(False, checked, expected_seq,
                                f"第 {expected_seq} 条至第 {entry.seq - 1} 条记录被删除")
        if entry.seq < expected_seq:
            return Verification(False, checked, entry.seq, f"第 {entry.seq} 条记录重复（插入的记录）")
        recomputed = _entry_digest(entry, entry.prev_hash)
        if recomputed != entry.hash:
            return Verification(False, checked, entry.seq, _altered(entry.seq))
        if entry.prev_hash != prev_hash:
            return Verification(False, checked, entry.seq,
                                f"第 {entry.seq} 条记录与前一条不衔接（记录被插入或替换）")
        if anchor is not None and entry.seq == anchor.seq and entry.hash != anchor.hash:
            return Verification(False, checked, entry.seq,
                                f"第 {entry.seq} 条记录的哈希与在数据库外记下的不同：持有密钥者改写了审计日志，"
                                "或记下的值有误")
        prev_hash = entry.hash
        expected_seq += 1
    head = session.get(AuditHead, 1)
    last_seq = expected_seq - 1
    if head is not None and (head.seq != last_seq or head.hash != prev_hash):
        if head.seq > last_seq:
            return Verification(False, checked, last_seq + 1,
                                f"最新的第 {last_seq + 1} 条至第 {head.seq} 条记录被删除")
        return Verification(False, checked, head.seq, "审计日志的链头与记录不一致")
    if head is None and checked:
        return Verification(False, checked, None, "审计日志的链头缺失")
    if anchor is not None and anchor.seq > last_seq:
        return Verification(False, checked, last_seq + 1,
                            f"在数据库外记下的第 {anchor.seq} 条记录已不在审计日志中："
                            f"第 {last_seq + 1} 条起的最新记录连同链头被删除")
    return Verification(True, checked, head=Anchor(head.seq, head.hash) if head else None)


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
