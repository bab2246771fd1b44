"""Departments, users, login sessions, failed-login throttling and API keys: the only code that writes them."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Iterator
from typing import Any

import orjson
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from xinyong.accounts.access import Role
from xinyong.accounts.models import ApiKey, Department, LoginFailure, LoginSession, User
from xinyong.core import audit, clock, ids, names
from xinyong.core.errors import Conflict, NotFound, XinyongError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
SESSION_IDLE = dt.timedelta(hours=8)
SESSION_MAX_AGE = dt.timedelta(hours=24)
# A session's last_seen_at is written at most this often, so that reading pages is not a write each time.
SESSION_TOUCH_INTERVAL = dt.timedelta(minutes=1)
# Login sessions that ended or expired are deleted this long after (the audit log keeps every login
# and logout): the table holds live sessions and a short tail, not a history.
SESSION_RETENTION = dt.timedelta(days=30)
LOGIN_FAILURE_LIMIT = 5
LOGIN_FAILURE_WINDOW = dt.timedelta(minutes=10)
API_KEY_PREFIX = "xy_"
API_KEY_DISPLAY_CHARS = 10
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,63}$")

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified when the username is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-xinyong")


class LoginThrottled(XinyongError):
    status_code = 429
    code = "login_throttled"


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normalize_username(raw: str) -> str:
    return raw.strip().lower()


# --------------------------------------------------------------------------- departments


def find_department(session: Session, uscc: str) -> Department | None:
    return session.scalar(select(Department).where(Department.uscc == uscc))


def department_codes(session: Session) -> dict[str, str]:
    """USCC -> name of every registered department (to read files that carry only names, and to
    tell a department's own data from another's)."""
    return {d.uscc: d.name for d in session.scalars(select(Department))}


def get_department(session: Session, department_id: int) -> Department | None:
    return session.get(Department, department_id)


def register_department(
    session: Session, *, uscc: str, name: str, batch_id: int | None = None, auto: bool = False
) -> Department:
    """Register a department by its USCC; the area comes from the code."""
    department = Department(
        uscc=uscc,
        name=name,
        area_code=ids.uscc_area_code(uscc),
        registered_at=clock.now(),
        auto_registered=auto,
        registered_by_batch_id=batch_id,
    )
    session.add(department)
    session.flush()
    return department


def list_departments(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).order_by(Department.area_code, Department.name)))


def namesakes(session: Session, department: Department) -> list[Department]:
    """The other registered departments of the same name (however spelled): a code mistyped in a
    file, or an old code, registers a second one. Files that name authorities without their code
    (the 2016 layout) cannot tell them apart."""
    key = names.normalize_name(department.name)
    return [d for d in list_departments(session)
            if d.id != department.id and names.normalize_name(d.name) == key]


def namesakes_said(others: list[Department]) -> str:
    """What to tell whoever registered a department that has ``namesakes``."""
    shown = "、".join(f"“{d.name}”（{d.uscc}）" for d in others)
    return (f"平台已登记同名的部门{shown}：若是同一部门，其中一个统一社会信用代码有误；"
            "按名称确定机关时（2016 年格式的文件没有机关的代码）将无法区分")


def register_department_by_office(
    session: Session, *, uscc: str, name: str, actor: str, ip: str | None = None
) -> Department:
    """The credit office registers a department: the USCC is validated and must be new."""
    code = ids.validate_uscc(uscc)
    name = name.strip()
    if not name:
        raise XinyongError("请填写部门名称", code="department_name_missing")
    if len(name) > 200:
        raise XinyongError("部门名称不能超过 200 个字", code="department_name_too_long")
    existing = find_department(session, code)
    if existing is not None:
        raise Conflict(f"统一社会信用代码 {code} 已登记为“{existing.name}”", code="department_exists")
    department = register_department(session, uscc=code, name=name)
    audit.record(session, actor=actor, action="department.register", target_type="department",
                 target_id=str(department.id), after={"uscc": code, "name": name}, ip=ip)
    return department


# --------------------------------------------------------------------------- users


def _check_password(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise XinyongError(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符", code="password_too_short")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise XinyongError(f"密码不能超过 {MAX_PASSWORD_LENGTH} 个字符", code="password_too_long")
    if password.strip().lower() == username:
        raise XinyongError("密码不能与用户名相同", code="password_is_username")


def _user_facts(user: User) -> dict[str, Any]:
    """What the audit log keeps about a user (never the password hash)."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "department_id": user.department_id,
        "subject_id": user.subject_id,
        "disabled": user.disabled,
    }


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str,
    department_id: int | None = None,
    subject_id: int | None = None,
    actor: str = "system",
    ip: str | None = None,
) -> User:
    """A new user; officers belong to a department, subjects to a credit subject."""
    name = normalize_username(username)
    if not _USERNAME.match(name):
        raise XinyongError("用户名应为 3–64 位小写字母、数字或 _ . -，并以字母或数字开头",
                           code="username_invalid")
    try:
        role = Role(role)
    except ValueError:
        raise XinyongError(f"未知的角色：{role}", code="role_invalid") from None
    display_name = display_name.strip()
    if not display_name:
        raise XinyongError("请填写姓名", code="display_name_missing")
    if len(display_name) > 100:
        raise XinyongError("姓名不能超过 100 个字", code="display_name_too_long")
    if role == Role.OFFICER and department_id is None:
        raise XinyongError("部门报送人员必须关联所属部门", code="department_required")
    if role == Role.SUBJECT and subject_id is None:
        raise XinyongError("信用主体账号必须关联信用主体", code="subject_required")
    if role != Role.SUBJECT and subject_id is not None:
        raise XinyongError("只有信用主体账号可以关联信用主体", code="subject_not_allowed")
    if department_id is not None and session.get(Department, department_id) is None:
        raise NotFound("所选部门不存在", code="department_not_found")
    if subject_id is not None:
        from xinyong.subjects.service import get_subject  # subjects depends on accounts, not back

        try:
            get_subject(session, subject_id)
        except NotFound:
            raise NotFound("所选信用主体不存在", code="subject_not_found") from None
    _check_password(password, name)
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise Conflict(f"用户名 {name} 已被使用", code="username_taken")
    user = User(
        username=name,
        display_name=display_name,
        role=role.value,
        password_hash=_hasher.hash(password),
        department_id=department_id,
        subject_id=subject_id,
        disabled=False,
        created_at=clock.now(),
        created_by=actor,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user.create", target_type="user", target_id=str(user.id),
                 after=_user_facts(user), ip=ip)
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("用户不存在", code="user_not_found")
    return user


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == normalize_username(username)))


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def move_subject_users(session: Session, from_subject_id: int, to_subject_id: int, *, apply: bool) -> list[str]:
    """The user names of the accounts of credit subject ``from_subject_id``; with ``apply`` they
    become accounts of ``to_subject_id`` (two subjects found to be one: the subjects service
    merges them and audits the merge, naming these users). Their login sessions go on: who a
    session's user stands for is read on every request."""
    names = list(session.scalars(
        select(User.username).where(User.subject_id == from_subject_id).order_by(User.username)))
    if apply and names:
        session.execute(update(User).where(User.subject_id == from_subject_id)
                        .values(subject_id=to_subject_id))
        session.flush()
    return names


def set_user_disabled(session: Session, user_id: int, disabled: bool, *, actor: str, ip: str | None = None) -> User:
    """Disable (or enable again) a user; disabling ends every session of the user."""
    user = get_user(session, user_id)
    if user.disabled == disabled:
        return user
    if disabled and actor == f"user:{user.username}":
        raise XinyongError("不能停用自己的账号", code="cannot_disable_self")
    before = _user_facts(user)
    user.disabled = disabled
    if disabled:
        _end_sessions(session, user)
    session.flush()
    audit.record(session, actor=actor, action="user.disable" if disabled else "user.enable",
                 target_type="user", target_id=str(user.id), before=before, after=_user_facts(user), ip=ip)
    return user


def _end_sessions(session: Session, user: User, *, except_token: str | None = None) -> int:
    """End the user's live login sessions (all, or all but the one of ``except_token``)."""
    condition = [LoginSession.user_id == user.id, LoginSession.ended_at.is_(None)]
    if except_token:
        condition.append(LoginSession.token_hash != _sha256(except_token))
    result = session.execute(update(LoginSession).where(*condition).values(ended_at=clock.now()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def change_password(
    session: Session, user_id: int, current: str, new: str, new_again: str, *,
    keep_token: str | None = None, ip: str = "",
) -> int:
    """A user changes their own password, knowing the current one. Every other login session of
    the user ends (a stolen session does not outlive the change); returns how many ended.
    Wrong current passwords count as failed logins, so guessing through this form is throttled too:
    each attempt is counted before the password is checked (``claim_login_attempt``), and a right
    current password clears the count, as a login does."""
    user = get_user(session, user_id)
    if not claim_login_attempt(user.username, ip):
        raise LoginThrottled("密码输入错误次数过多，请 10 分钟后再试。")
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise XinyongError("当前密码不正确", code="password_wrong") from None
    clear_login_failures(session, user.username, ip)
    if new != new_again:
        raise XinyongError("两次输入的新密码不一致", code="password_mismatch")
    if new == current:
        raise XinyongError("新密码不能与当前密码相同", code="password_unchanged")
    _check_password(new, user.username)
    user.password_hash = _hasher.hash(new)
    ended = _end_sessions(session, user, except_token=keep_token)
    session.flush()
    audit.record(session, actor=f"user:{user.username}", action="user.password_change", target_type="user",
                 target_id=str(user.id), after={"other_sessions_ended": ended}, ip=ip or None)
    return ended


def reset_password(session: Session, user_id: int, new: str, new_again: str, *, actor: str,
                   ip: str | None = None) -> User:
    """An administrator (or the command line) sets a new password for a user who lost theirs.
    Every login session of the user ends."""
    user = get_user(session, user_id)
    if actor == f"user:{user.username}":
        raise XinyongError("请在“我的账号”中修改自己的密码（需要输入当前密码）", code="reset_own_password")
    if new != new_again:
        raise XinyongError("两次输入的密码不一致", code="password_mismatch")
    _check_password(new, user.username)
    user.password_hash = _hasher.hash(new)
    ended = _end_sessions(session, user)
    session.flush()
    audit.record(session, actor=actor, action="user.password_reset", target_type="user", target_id=str(user.id),
                 after={"sessions_ended": ended}, ip=ip)
    return user


def authenticate_password(session: Session, username: str, password: str) -> User | None:
    """The user with this username and password, or None (also for a disabled user)."""
    user = find_user(session, username)
    if user is None:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if user.disabled:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        session.flush()
    return user


# --------------------------------------------------------------------------- failed logins


def login_throttled(session: Session, username: str, ip: str, counted: int = LOGIN_FAILURE_LIMIT) -> bool:
    """Whether this username has ``counted`` failures from this address in the last minutes (by
    default: too many for one more attempt)."""
    since = clock.now() - LOGIN_FAILURE_WINDOW
    count = session.scalar(
        select(func.count()).select_from(LoginFailure).where(
            LoginFailure.username == normalize_username(username)[:64],
            LoginFailure.ip == ip[:64],
            LoginFailure.at > since,
        )
    )
    return bool(count and count >= counted)


def claim_login_attempt(username: str, ip: str) -> bool:
    """Count a password attempt before the password is checked, in a transaction of its own that
    commits at once; False (nothing counted) when the username has failed too often from this
    address. Counting first is what makes the limit hold for guesses sent at the same moment:
    checking the hash takes tens of milliseconds, and a limit read before it and written after
    it lets every request in flight through (a probe got 19 of 40 parallel guesses checked).
    A login that succeeds clears the count (``clear_login_failures``)."""
    from xinyong.core import db

    with db.transaction() as session:
        key = (normalize_username(username)[:64], ip[:64])
        if session.get_bind().dialect.name == "postgresql":
            # one claim at a time per (username, address); SQLite writers queue on the database
            session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                            {"key": "login:" + "\x1f".join(key)})
        # the row first: on SQLite a transaction that read before writing could not write once
        # another claim has committed (WAL snapshot), so the count follows the insert
        record_login_failure(session, username, ip)
        if login_throttled(session, username, ip, counted=LOGIN_FAILURE_LIMIT + 1):
            session.rollback()
            return False
    return True


def record_login_failure(session: Session, username: str, ip: str) -> None:
    now = clock.now()
    # old failures are of no use: forget them as new ones come in
    session.execute(delete(LoginFailure).where(LoginFailure.at < now - LOGIN_FAILURE_WINDOW))
    session.add(LoginFailure(username=normalize_username(username)[:64], ip=ip[:64], at=now))
    session.flush()


def clear_login_failures(session: Session, username: str, ip: str) -> None:
    session.execute(delete(LoginFailure).where(
        LoginFailure.username == normalize_username(username)[:64], LoginFailure.ip == ip[:64]))


# --------------------------------------------------------------------------- login sessions


def create_login_session(session: Session, user: User, *, ip: str, user_agent: str) -> tuple[str, str]:
    """Start a session for ``user``: returns (session token for the cookie, CSRF token)."""
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    now = clock.now()
    # forget sessions long over as new ones begin, so that the table does not grow forever
    session.execute(delete(LoginSession).where(
        or_(LoginSession.expires_at < now - SESSION_RETENTION, LoginSession.ended_at < now - SESSION_RETENTION)))
    session.add(LoginSession(
        token_hash=_sha256(token),
        csrf_token=csrf_token,
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + SESSION_MAX_AGE,
        ip=ip[:64],
        user_agent=user_agent[:300],
    ))
    user.last_login_at = now
    session.flush()
    audit.record(session, actor=f"user:{user.username}", action="user.login", target_type="user",
                 target_id=str(user.id), ip=ip)
    return token, csrf_token


def resolve_login_session(session: Session, token: str) -> tuple[User, LoginSession] | None:
    """The user and session of a cookie token, if the session is live; touches its last use."""
    row = session.execute(
        select(User, LoginSession)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(LoginSession.token_hash == _sha256(token))
    ).first()
    if row is None:
        return None
    user, login = row
    now = clock.now()
    if (login.ended_at is not None or user.disabled or now >= login.expires_at
            or now - login.last_seen_at >= SESSION_IDLE):
        return None
    if now - login.last_seen_at >= SESSION_TOUCH_INTERVAL:
        login.last_seen_at = now
        session.flush()
    return user, login


def end_login_session(session: Session, token: str) -> None:
    """Log out: the session's token no longer works."""
    login = session.scalar(select(LoginSession).where(LoginSession.token_hash == _sha256(token)))
    if login is None or login.ended_at is not None:
        return
    login.ended_at = clock.now()
    user = session.get(User, login.user_id)
    session.flush()
    audit.record(session, actor=f"user:{user.username}" if user else "anonymous", action="user.logout",
                 target_type="user", target_id=str(login.user_id))


# --------------------------------------------------------------------------- API keys


def _key_facts(key: ApiKey) -> dict[str, Any]:
    return {"name": key.name, "department_id": key.department_id, "prefix": key.prefix,
            "revoked": key.revoked_at is not None}


def create_api_key(
    session: Session, *, department_id: int, name: str, created_by: str, ip: str | None = None
) -> tuple[str, ApiKey]:
    """A new key for a department's system: (plaintext, shown only once; the stored key)."""
    if session.get(Department, department_id) is None:
        raise NotFound("所选部门不存在", code="department_not_found")
    name = name.strip()
    if not name:
        raise XinyongError("请填写密钥用途（如“市场监管局报送系统”）", code="api_key_name_missing")
    if len(name) > 100:
        raise XinyongError("密钥用途不能超过 100 个字", code="api_key_name_too_long")
    plaintext = API_KEY_PREFIX + secrets.token_urlsafe(30)  # 40 url-safe characters of randomness
    key = ApiKey(
        key_hash=_sha256(plaintext),
        prefix=plaintext[:API_KEY_DISPLAY_CHARS],
        name=name,
        department_id=department_id,
        created_at=clock.now(),
        created_by=created_by,
    )
    session.add(key)
    session.flush()
    audit.record(session, actor=created_by, action="api_key.create", target_type="api_key",
                 target_id=str(key.id), after=_key_facts(key), ip=ip)
    return plaintext, key


def get_api_key(session: Session, key_id: int) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("API 密钥不存在", code="api_key_not_found")
    return key


def revoke_api_key(session: Session, key_id: int, *, actor: str, ip: str | None = None) -> None:
    """Revoke a key at once; revoking a revoked key changes nothing."""
    key = get_api_key(session, key_id)
    if key.revoked_at is not None:
        return
    before = _key_facts(key)
    key.revoked_at = clock.now()
    key.revoked_by = actor
    session.flush()
    audit.record(session, actor=actor, action="api_key.revoke", target_type="api_key", target_id=str(key.id),
                 before=before, after=_key_facts(key), ip=ip)


def list_api_keys(session: Session, department_id: int | None = None) -> list[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.department_id, ApiKey.created_at.desc(), ApiKey.id.desc())
    if department_id is not None:
        query = query.where(ApiKey.department_id == department_id)
    return list(session.scalars(query))


def resolve_api_key(session: Session, plaintext: str) -> ApiKey | None:
    """The live key with this plaintext, or None; records when it was last used."""
    if not plaintext.startswith(API_KEY_PREFIX):
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == _sha256(plaintext)))
    if key is None or key.revoked_at is not None:
        return None
    now = clock.now()
    if key.last_used_at is None or now - key.last_used_at >= SESSION_TOUCH_INTERVAL:
        key.last_used_at = now
        session.flush()
    return key


# --------------------------------------------------------------------------- the audit log, for its readers
#
# Auditors and administrators read the log (core.audit) on the workbench, as a CSV download and over
# the API. The accounts module knows who the actors are (users, API keys and their departments), so
# it turns the filters typed into a form into an ``audit.EntryFilter`` and entries into what a reader
# is shown: actions and fields in words, personal ids masked, the subject by name.

# a detail of an entry (a key of its before/after) in words; catalogue fields add their own labels
AUDIT_DETAIL_LABELS = {
    "username": "用户名", "display_name": "姓名", "role": "角色", "department_id": "部门",
    "subject_id": "信用主体编号", "disabled": "已停用", "other_sessions_ended": "退出的其他登录",
    "sessions_ended": "退出的登录", "uscc": "统一社会信用代码", "name": "名称", "prefix": "密钥开头",
    "revoked": "已吊销", "kind": "数据类型", "file": "文件", "rows_total": "总行数", "accepted": "新增",
    "corrected": "更正", "unchanged": "未变化", "rejected": "未通过", "format": "格式", "batch_id": "批次",
    "reason": "原因", "revoked_at": "撤销时间", "revoke_reason": "撤销原因", "version": "版本",
    "penalty_class": "处罚类别", "class_reason": "类别依据", "class_rule": "类别规则", "published": "公示",
    "publication_min_end": "最短公示期满", "publication_end": "公示截止", "publication_rule": "公示规则",
    "deadline": "报送期限", "deadline_provisional": "期限暂定", "deadline_rule": "期限规则", "on_time": "按时报送",
    "source": "来源", "url": "网址", "holidays": "节假日天数", "working_days": "调休上班天数",
    "subject": "信用主体", "merged_subject_id": "并入的主体编号", "codes_gained": "新增代码",
    "records_moved": "移入记录", "versions_moved": "移入版本", "combined_records": "合并的记录",
    "users_moved": "移入账号", "head": "链头", "newest_entry": "最新记录", "problem": "问题",
    "accepted_break": "接受的断点", "filters": "筛选条件", "page": "页", "since": "时间自", "until": "时间至",
    "actor": "操作人", "action": "操作", "target_type": "对象类型", "target_id": "对象编号", "department": "部门",
}
# values of a detail in words: (key, value) -> words
_AUDIT_VALUES = {
    **{("role", r.value): r.label for r in Role},
    ("format", "page"): "网页", ("format", "csv"): "CSV 下载", ("format", "json"): "接口",
    ("format", "xlsx"): "Excel 下载",
    ("kind", "penalties"): "行政处罚", ("kind", "licences"): "行政许可",
}
# the filters of the log, as the page's form and the API's query name them
AUDIT_FILTERS = ("since", "until", "actor", "action", "subject", "target_type", "target_id", "department")
_MINUTE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def department_actors(session: Session, department_id: int) -> tuple[str, ...]:
    """How the audit log names a department's users and API keys."""
    users = session.scalars(select(User.username).where(User.department_id == department_id).order_by(User.id))
    keys = session.scalars(select(ApiKey.id).where(ApiKey.department_id == department_id).order_by(ApiKey.id))
    return tuple(f"user:{name}" for name in users) + tuple(f"api_key:{key}" for key in keys)


def _moment(raw: str, label: str, problems: list[str], *, end: bool) -> dt.datetime | None:
    """A moment typed as a day or a time, China time unless it says otherwise; an end takes in the
    whole day or minute typed (until 2026-11-21 is until that day's end)."""
    text = raw.strip()
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        problems.append(f"{label}“{text}”不是有效的时间，应为 YYYY-MM-DD 或 YYYY-MM-DD HH:MM（北京时间），已忽略")
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=clock.CHINA_TZ)
    if end:
        if len(text) == 10:
            moment += dt.timedelta(days=1)
        elif _MINUTE.fullmatch(text):
            moment += dt.timedelta(minutes=1)
        else:
            moment += dt.timedelta(microseconds=1)
    return moment


class AuditQuery:
    """The filters of the audit log as typed (``form``: only those given, for the page's form and
    links), what they ask of the entries (``wanted``), and what could not be read (``problems``:
    a time is then ignored; a subject or department not found matches no entry)."""

    def __init__(self, session: Session, typed: dict[str, str]) -> None:
        form = {k: (typed.get(k) or "").strip() for k in AUDIT_FILTERS}
        self.form = {k: v for k, v in form.items() if v}
        self.problems: list[str] = []
        since = _moment(form["since"], "起始时间", self.problems, end=False)
        until = _moment(form["until"], "截止时间", self.problems, end=True)
        if since and until and since >= until:
            self.problems.append("起始时间晚于截止时间，已互换")
            since, until = _moment(form["until"], "", [], end=False), _moment(form["since"], "", [], end=True)
        target_type = form["target_type"] or None
        if target_type is not None and target_type not in audit.TARGET_LABELS:
            self.problems.append(f"未知的对象类型“{target_type}”，已忽略")
            target_type = None
        self.wanted = audit.EntryFilter(
            since=since, until=until, actor=form["actor"] or None, action=form["action"] or None,
            subject_ids=self._subjects(session, form["subject"]), target_type=target_type,
            target_id=form["target_id"] or None, actors=self._department(session, form["department"]),
        )

    def _subjects(self, session: Session, code: str) -> tuple[int, ...] | None:
        """The subject a code names and those merged into it (their entries are about it too)."""
        from xinyong.subjects import service as subjects  # subjects depends on accounts, not back

        if not code:
            return None
        number = re.fullmatch(r"(?i)id\s*[:：]\s*(\d{1,18})", code)
        try:
            subject = subjects.get_subject(session, int(number.group(1))) if number else subjects.find_public(
                session, code)
        except XinyongError as exc:
            self.problems.append(f"信用主体：{exc.message}")
            return ()
        return tuple(audit.merged_subject_ids(session, subject.id))

    def _department(self, session: Session, uscc: str) -> tuple[str, ...] | None:
        if not uscc:
            return None
        department = find_department(session, uscc.upper())
        if department is None:
            self.problems.append(f"没有统一社会信用代码为 {uscc} 的部门")
            return ()
        return department_actors(session, department.id)


def audit_read(session: Session, query: AuditQuery, *, actor: str, ip: str | None, fmt: str,
               page: int | None = None) -> None:
    """Reading the log is itself an entry: who read it, how, and what they asked for."""
    filters = {k: ids.mask_resident_ids(v)[0] for k, v in query.form.items()}
    audit.record(session, actor=actor, action=audit.READ_AUDIT_LOG, target_type="audit_log",
                 after={"format": fmt, "filters": filters or None, "page": page}, ip=ip)


def audit_chain(session: Session) -> dict[str, Any]:
    """The chain's state as ``xinyong audit verify`` finds it, for the top of the page and the API:
    up to which entry it verifies, and where and how it breaks."""
    found = audit.verify(session)
    if found.ok:
        through = found.head.seq if found.head else 0
        summary = (f"审计日志完整：第 1 条至第 {through} 条记录校验无误，没有被修改、删除或插入的记录。"
                   if through else "审计日志还没有记录。")
    else:
        through = (found.first_bad_seq or found.checked + 1) - 1
        summary = (f"审计日志校验未通过：{found.problem}。"
                   + (f"第 1 条至第 {through} 条记录校验无误。" if through > 0 else "")
                   + "请保留数据库现状，立即报告系统管理员（运维手册“审计日志”一节）。")
    return {"intact": found.ok, "checked": found.checked, "verified_through": through,
            "first_bad_seq": None if found.ok else found.first_bad_seq, "problem": found.problem,
            "head": str(found.head) if found.ok and found.head else None, "summary": summary}


class _Names:
    """Who and what entries name, in words: users, API keys and their departments, fields."""

    def __init__(self, session: Session) -> None:
        from xinyong.catalogue.service import get_catalogue

        departments = {d.id: d.name for d in list_departments(session)}
        self.departments = departments
        self.actors: dict[str, str] = {}
        for user in list_users(session):
            where = departments.get(user.department_id) if user.department_id else None
            self.actors[f"user:{user.username}"] = user.display_name + (f"，{where}" if where else "")
        for key in list_api_keys(session):
            self.actors[f"api_key:{key.id}"] = f"API 密钥“{key.name}”，{departments.get(key.department_id, '')}"
        self.fields = {f.key: f.label for item in get_catalogue().items.values() for f in item.fields}

    def actor(self, actor: str) -> str | None:
        if actor in self.actors:
            return self.actors[actor]
        if actor.startswith("cli"):
            login, _, command = actor.partition(" ")
            return f"服务器命令行（{login.partition(':')[2] or '未知登录名'}{'，' + command if command else ''}）"
        return {"anonymous": "未登录", "demo": "演示数据"}.get(actor)

    def label(self, key: str) -> str:
        return AUDIT_DETAIL_LABELS.get(key) or self.fields.get(key) or key

    def value(self, key: str, value: Any) -> str:
        if isinstance(value, bool):
            return "是" if value else "否"
        if value is None or value == "":
            return "（空）"
        if isinstance(value, str) and (key, value) in _AUDIT_VALUES:
            return _AUDIT_VALUES[key, value]
        if key == "action" and isinstance(value, str):
            return audit.action_label(value)
        if key == "target_type" and isinstance(value, str):
            return audit.TARGET_LABELS.get(value, value)
        if key == "department_id" and isinstance(value, int) and value in self.departments:
            return f"{self.departments[value]}（{value}）"
        if isinstance(value, dict) and all(not isinstance(v, dict | list) for v in value.values()):
            return "，".join(f"{self.label(k)} {self.value(k, value[k])}" for k in _in_order(value))
        if isinstance(value, dict | list):
            return orjson.dumps(value).decode()
        return str(value)

    def details(self, before: Any, after: Any) -> list[str]:
        """What an entry changed or holds, a line a detail (角色：审计人员 → 信用办管理员); details
        with no value are left out."""
        if not isinstance(before or {}, dict) or not isinstance(after or {}, dict):
            return [f"{label}：{self.value('', v)}" for label, v in (("变更前", before), ("变更后", after))
                    if v is not None]
        before, after = before or {}, after or {}
        lines = []
        for key in _in_order({**before, **after}):
            old, new = before.get(key), after.get(key)
            if old is None and new is None:
                continue
            if key not in before or old == new:
                lines.append(f"{self.label(key)}：{self.value(key, new)}")
            elif key not in after:
                lines.append(f"{self.label(key)}：{self.value(key, old)} →（无）")
            else:
                lines.append(f"{self.label(key)}：{self.value(key, old)} → {self.value(key, new)}")
        return lines


def _in_order(details: dict[str, Any]) -> list[str]:
    """An entry's details in the order a reader expects them (entries store their keys sorted)."""
    known = list(AUDIT_DETAIL_LABELS)
    return sorted(details, key=lambda k: known.index(k) if k in known else len(known))


def _masked_json(text: str | None) -> Any:
    """A stored before/after, with every resident id in it masked (entries written before intake
    masked texts may hold one in clear, and an entry is never rewritten)."""
    return None if text is None else orjson.loads(ids.mask_resident_ids(text)[0])


_AUDIT_TARGET_PAGES = {"record": "/workbench/records/", "batch": "/workbench/batches/"}


def audit_entries(session: Session, rows: list[Any], names: _Names | None = None) -> list[dict[str, Any]]:
    """Entries as a reader is shown them (the fields of ``schemas.AuditEntryOut``)."""
    from xinyong.subjects.service import names_and_public_codes  # subjects depends on accounts, not back

    names = names or _Names(session)
    subjects = names_and_public_codes(session, {row.subject_id for row in rows if row.subject_id is not None})
    shown = []
    for row in rows:
        before, after = _masked_json(row.before), _masked_json(row.after)
        subject = subjects.get(row.subject_id) if row.subject_id is not None else None
        target_url = None
        if row.target_type in _AUDIT_TARGET_PAGES and (row.target_id or "").isdigit():
            target_url = _AUDIT_TARGET_PAGES[row.target_type] + row.target_id
        shown.append({
            "seq": row.seq, "at": row.at, "at_china": row.at.astimezone(clock.CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S"),
            "actor": row.actor, "actor_name": names.actor(row.actor),
            "action": row.action, "action_label": audit.action_label(row.action),
            "target_type": row.target_type, "target_label": audit.TARGET_LABELS.get(row.target_type, row.target_type),
            "target_id": row.target_id, "target_url": target_url,
            "subject_id": row.subject_id, "subject_name": subject[0] if subject else None,
            "subject_code": subject[1] if subject else None,
            "ip": row.ip, "before": before, "after": after, "details": names.details(before, after),
            "hash": row.hash,
        })
    return shown


AUDIT_CSV_HEADER = ["序号", "时间（北京时间）", "操作人", "操作人姓名与单位", "操作", "操作代码", "对象类型",
                    "对象编号", "信用主体编号", "信用主体", "信用主体代码", "IP 地址", "内容", "变更前（JSON）",
                    "变更后（JSON）", "哈希"]


def audit_csv_rows(wanted: audit.EntryFilter, *, page: int = 1000) -> Iterator[list[str]]:
    """The entries ``wanted`` asks for, newest first, as the rows of the CSV download (header
    first), read a page at a time on a connection of their own (the download is streamed after
    the request's transaction has ended)."""
    from xinyong.core.db import read_only

    yield AUDIT_CSV_HEADER
    with read_only() as connection, Session(bind=connection) as session:
        names = _Names(session)
        below: int | None = None
        while True:
            rows = audit.list_entries(connection, wanted, limit=page, below_seq=below)
            for e in audit_entries(session, rows, names):
                yield [str(e["seq"]), e["at_china"], e["actor"], e["actor_name"] or "", e["action_label"],
                       e["action"], e["target_label"], e["target_id"] or "", str(e["subject_id"] or ""),
                       e["subject_name"] or "", e["subject_code"] or "", e["ip"] or "", "；".join(e["details"]),
                       _json_text(e["before"]), _json_text(e["after"]), e["hash"]]
            if len(rows) < page:
                return
            below = rows[-1].seq


def _json_text(value: Any) -> str:
    return "" if value is None else orjson.dumps(value).decode()
