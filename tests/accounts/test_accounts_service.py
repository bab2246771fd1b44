"""Users, passwords, sessions and API keys at the service level."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from webhelpers import PASSWORD, make_department, make_user
from xinyong.accounts import service
from xinyong.accounts.access import Role
from xinyong.accounts.models import ApiKey, LoginSession, User
from xinyong.core import clock
from xinyong.core.errors import Conflict, XinyongError
from xinyong.core.models import AuditEntry


def test_password_is_stored_as_an_argon2id_hash(session):
    user = make_user(session, Role.ADMIN)
    stored = session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert service.authenticate_password(session, user.username, PASSWORD).id == user.id
    assert service.authenticate_password(session, user.username.upper(), PASSWORD).id == user.id
    assert service.authenticate_password(session, user.username, PASSWORD + "x") is None
    assert service.authenticate_password(session, "nobody", PASSWORD) is None


def test_creating_a_user_is_audited_without_the_password(session):
    user = make_user(session, Role.AUDITOR)
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "user.create",
                                                    AuditEntry.target_id == str(user.id)))
    assert entry is not None
    assert user.username in entry.after
    assert PASSWORD not in entry.after and "argon2" not in entry.after


def test_a_disabled_user_cannot_log_in_and_loses_their_sessions(session):
    user = make_user(session, Role.APPROVER)
    token, _ = service.create_login_session(session, user, ip="10.0.0.1", user_agent="pytest")
    service.set_user_disabled(session, user.id, True, actor="user:admin")
    assert service.authenticate_password(session, user.username, PASSWORD) is None
    assert service.resolve_login_session(session, token) is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"password": "short"}, "至少需要 10 个字符"),
        ({"role": Role.OFFICER}, "必须关联所属部门"),
        ({"role": Role.SUBJECT}, "必须关联信用主体"),
        ({"username": "Ab"}, "用户名"),
    ],
)
def test_user_rules(session, changes, message):
    fields = {"username": "someone", "password": PASSWORD, "role": Role.ADMIN, "display_name": "某人"}
    fields.update(changes)
    with pytest.raises(XinyongError, match=message):
        service.create_user(session, **fields)


def test_usernames_are_unique(session):
    make_user(session, Role.ADMIN, username="zhangsan")
    with pytest.raises(Conflict):
        make_user(session, Role.AUDITOR, username="ZhangSan")


def test_login_session_stores_only_a_hash_and_expires_when_idle(session):
    user = make_user(session, Role.ADMIN)
    token, csrf = service.create_login_session(session, user, ip="10.0.0.1", user_agent="pytest")
    stored = session.scalars(select(LoginSession)).one()
    assert stored.token_hash != token and token not in stored.token_hash
    assert service.resolve_login_session(session, token)[0].id == user.id
    with clock.frozen(clock.now() + dt.timedelta(hours=7, minutes=59)):
        assert service.resolve_login_session(session, token) is not None  # and this use counts
    with clock.frozen(clock.now() + dt.timedelta(hours=7, minutes=59) * 2 + dt.timedelta(minutes=3)):
        assert service.resolve_login_session(session, token) is None
    assert csrf and csrf != token


def test_ended_session_no_longer_works(session):
    user = make_user(session, Role.ADMIN)
    token, _ = service.create_login_session(session, user, ip="10.0.0.1", user_agent="pytest")
    service.end_login_session(session, token)
    assert service.resolve_login_session(session, token) is None


def test_sessions_long_over_are_forgotten_but_the_audit_log_keeps_the_logins(session):
    user = make_user(session, Role.OFFICER)
    ended, _ = service.create_login_session(session, user, ip="10.0.0.1", user_agent="pytest")
    service.end_login_session(session, ended)
    service.create_login_session(session, user, ip="10.0.0.1", user_agent="pytest")  # expires unused
    start = clock.now()
    with clock.frozen(start + dt.timedelta(days=29)):
        service.create_login_session(session, user, ip="10.0.0.1", user_agent="pytest")
    assert len(session.scalars(select(LoginSession)).all()) == 3  # within the retention: all kept
    with clock.frozen(start + dt.timedelta(days=32)):
        fresh, _ = service.create_login_session(session, user, ip="10.0.0.1", user_agent="pytest")
        kept = session.scalars(select(LoginSession)).all()
        assert len(kept) == 2  # the ended one and the expired live one are gone
        assert service.resolve_login_session(session, fresh) is not None
    logins = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.login")).all()
    assert len(logins) == 4


def test_api_key_is_hashed_at_rest_and_revocable(session):
    department = make_department(session)
    plaintext, key = service.create_api_key(session, department_id=department.id, name="报送系统",
                                            created_by="user:admin")
    assert plaintext.startswith("xy_") and len(plaintext) == 43
    row = session.scalars(select(ApiKey)).one()
    assert row.key_hash != plaintext and plaintext not in row.key_hash
    assert plaintext.startswith(row.prefix)
    assert service.resolve_api_key(session, plaintext).department_id == department.id
    assert [k.id for k in service.list_api_keys(session, department.id)] == [key.id]
    assert service.list_api_keys(session, department.id + 1) == []
    service.revoke_api_key(session, key.id, actor="user:admin")
    assert service.resolve_api_key(session, plaintext) is None
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "api_key")).all()
    assert sorted(actions) == ["api_key.create", "api_key.revoke"]


def test_registering_a_department_validates_the_uscc(session):
    with pytest.raises(XinyongError, match="校验位"):
        service.register_department_by_office(session, uscc="911301026CR765LW54", name="某局", actor="t")
    department = service.register_department_by_office(session, uscc="911301026cr765lw53", name="某局",
                                                        actor="t")
    assert department.uscc == "911301026CR765LW53"
    with pytest.raises(Conflict):
        service.register_department_by_office(session, uscc="911301026CR765LW53", name="某局", actor="t")
