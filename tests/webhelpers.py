"""One-line helpers for web tests: departments, users of each role, logging in, CSRF tokens."""

from __future__ import annotations

import itertools
import re

from sqlalchemy.orm import Session

from xinyong.accounts import service
from xinyong.accounts.access import Role
from xinyong.accounts.models import Department, User
from xinyong.core import ids

PASSWORD = "correct-horse-battery"  # ≥ 10 chars

_counter = itertools.count(1)
_CSRF_FIELD = re.compile(r'name="csrf_token"\s+value="([^"]+)"')


def make_department(session: Session, uscc: str | None = None, name: str | None = None) -> Department:
    """A registered department (a government body in 石家庄, 1301) with a valid, unique USCC."""
    n = next(_counter)
    if uscc is None:
        uscc = ids.make_uscc("11130100" + ids.make_org_code(f"{n:08d}"))
    department = service.register_department(session, uscc=uscc, name=name or f"测试部门{n}")
    session.flush()
    return department


def make_user(
    session: Session,
    role: Role | str,
    *,
    department: Department | None = None,
    subject_id: int | None = None,
    username: str | None = None,
) -> User:
    """A user of ``role`` with password ``PASSWORD``; an officer without a department gets a new one."""
    role = Role(role)
    n = next(_counter)
    if role == Role.OFFICER and department is None:
        department = make_department(session)
    if role == Role.SUBJECT and subject_id is None:
        subject_id = _make_subject(session, n)
    user = service.create_user(
        session,
        username=username or f"{role.value}{n}",
        password=PASSWORD,
        role=role,
        display_name=f"{role.label}{n}",
        department_id=department.id if department is not None else None,
        subject_id=subject_id,
    )
    session.flush()
    return user


def _make_subject(session: Session, n: int) -> int:
    import datetime as dt

    from xinyong.core import clock, names
    from xinyong.subjects.models import Subject

    uscc = ids.make_uscc("91130100" + ids.make_org_code(f"M{n:07d}"))
    name = f"测试主体{n}有限公司"
    subject = Subject(
        kind="organisation", category="法人及非法人组织", uscc=uscc, org_code=ids.uscc_org_code(uscc),
        name=name, name_norm=names.normalize_name(name),
        name_as_of=dt.date(2020, 1, 1), area_code="130100", created_at=clock.now(),
    )
    session.add(subject)
    session.flush()
    return subject.id


def login(client, username: str, password: str = PASSWORD) -> str:  # type: ignore[no-untyped-def]
    """Log in through ``POST /login``; returns the session's CSRF token."""
    response = client.post("/login", data={"username": username, "password": password, "next": "/account"},
                           follow_redirects=False)
    assert response.status_code == 303, (response.status_code, response.text[:500])
    assert client.cookies.get("xy_session"), "no session cookie after login"
    return csrf_of(client)


def csrf_of(client) -> str:  # type: ignore[no-untyped-def]
    """The CSRF token of the client's current session (read from the account page)."""
    response = client.get("/account", follow_redirects=False)
    assert response.status_code == 200, (response.status_code, response.text[:500])
    match = _CSRF_FIELD.search(response.text)
    assert match, "no csrf_token field on /account"
    return match.group(1)
