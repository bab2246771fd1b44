"""Departments, users, login sessions, failed-login throttling and API keys: the only code that writes them."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import secrets
from typing import Any

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
