"""Login, logout, cookies, CSRF, the administrator's pages and API keys over HTTP."""

from __future__ import annotations

import re

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from sqlalchemy import select

from webhelpers import PASSWORD, csrf_of, login, make_department, make_user
from xinyong.accounts import auth, service
from xinyong.accounts.access import Forbidden, Role, department_scope, ensure_department
from xinyong.accounts.models import ApiKey, User
from xinyong.core import db
from xinyong.core.models import AuditEntry


def _setup(*roles, **kwargs):  # type: ignore[no-untyped-def]
    with db.transaction() as s:
        users = [make_user(s, role, **kwargs) for role in roles]
        return [u.username for u in users]


def _set_cookie_headers(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [v for k, v in response.headers.multi_items() if k.lower() == "set-cookie"]


def test_login_sets_a_secure_httponly_lax_cookie_and_logout_ends_the_session(client):
    (username,) = _setup(Role.ADMIN)
    response = client.post("/login", data={"username": username, "password": PASSWORD, "next": "/account"},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/account"
    (cookie,) = _set_cookie_headers(response)
    assert cookie.startswith("xy_session=")
    flags = cookie.lower()
    assert "httponly" in flags and "secure" in flags and "samesite=lax" in flags
    page = client.get("/account")
    assert page.status_code == 200 and username in page.text and "信用办管理员" in page.text
    token = csrf_of(client)
    stolen = client.cookies.get("xy_session")
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    client.cookies.clear()
    replayed = client.get("/account", headers={"Cookie": f"xy_session={stolen}"}, follow_redirects=False)
    assert replayed.status_code == 303 and replayed.headers["location"].startswith("/login")


def test_cookie_is_not_secure_when_configured_for_plain_http(client, monkeypatch):
    from xinyong.core.config import reset_settings

    (username,) = _setup(Role.AUDITOR)
    monkeypatch.setenv("XINYONG_COOKIE_SECURE", "false")
    reset_settings()
    response = client.post("/login", data={"username": username, "password": PASSWORD},
                           follow_redirects=False)
    (cookie,) = _set_cookie_headers(response)
    assert "secure" not in cookie.lower() and "httponly" in cookie.lower()


def test_wrong_password_gives_one_generic_message(client):
    (username,) = _setup(Role.ADMIN)
    wrong = client.post("/login", data={"username": username, "password": "wrong-password-123"})
    unknown = client.post("/login", data={"username": "nobody", "password": "wrong-password-123"})
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码错误" in wrong.text and "用户名或密码错误" in unknown.text
    assert "xy_session" not in client.cookies


def test_login_refuses_an_offsite_redirect(client):
    (username,) = _setup(Role.ADMIN)
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "next": "//evil.example/"}, follow_redirects=False)
    assert response.headers["location"] == "/account"


def test_login_posted_from_another_site_is_refused(client):
    (username,) = _setup(Role.ADMIN)
    response = client.post("/login", data={"username": username, "password": PASSWORD},
                           headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert response.status_code == 403
    assert "xy_session" not in client.cookies


def test_failed_logins_are_throttled_per_username_and_address(client):
    (username,) = _setup(Role.ADMIN)
    for _ in range(5):
        assert client.post("/login", data={"username": username, "password": "wrong-password-123"}).status_code == 401
    blocked = client.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert blocked.status_code == 429 and "10 分钟" in blocked.text
    assert "xy_session" not in client.cookies
    (other,) = _setup(Role.ADMIN)  # another username from the same address is not blocked
    login(client, other)


def test_forms_without_or_with_a_wrong_csrf_token_are_refused(client):
    (username,) = _setup(Role.ADMIN)
    login(client, username)
    form = {"uscc": "911301026CR765LW53", "name": "某市市场监督管理局"}
    missing = client.post("/admin/departments", data=form)
    wrong = client.post("/admin/departments", data={**form, "csrf_token": "not-the-token"})
    other_header = client.post("/admin/departments", data=form, headers={"X-CSRF-Token": "nope"})
    for response in (missing, wrong, other_header):
        assert response.status_code == 403
        assert "表单已过期或来源不明" in response.text
    with db.transaction() as s:
        assert service.find_department(s, "911301026CR765LW53") is None
    ok = client.post("/admin/departments", data={**form, "csrf_token": csrf_of(client)}, follow_redirects=False)
    assert ok.status_code == 303
    by_header = client.post("/admin/departments", data={"uscc": "11130100MB1234567X", "name": "x"},
                            headers={"X-CSRF-Token": csrf_of(client)})
    assert by_header.status_code != 403


def test_logout_requires_the_csrf_token(client):
    (username,) = _setup(Role.ADMIN)
    login(client, username)
    assert client.post("/logout", data={}).status_code == 403
    assert client.get("/account").status_code == 200  # still logged in


@pytest.mark.parametrize("role", [Role.OFFICER, Role.APPROVER, Role.AUDITOR, Role.SUBJECT])
def test_only_administrators_reach_the_admin_pages(client, role):
    (username,) = _setup(role)
    token = login(client, username)
    for path in ("/admin/users", "/admin/departments", "/admin/api-keys"):
        assert client.get(path).status_code == 403
    assert client.post("/admin/api-keys", data={"csrf_token": token, "department_id": "1",
                                                "name": "x"}).status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get("/admin/users", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/admin/users"
    assert client.get("/api/v1/accounts/me").json()["kind"] == "anonymous"


def test_administrator_creates_and_disables_a_user(client):
    (admin,) = _setup(Role.ADMIN)
    with db.transaction() as s:
        department_id = make_department(s, name="某市税务局").id
    token = login(client, admin)
    form = {"csrf_token": token, "username": "li.officer", "display_name": "李四", "role": "officer",
            "department_id": str(department_id), "password": PASSWORD, "password_again": PASSWORD}
    response = client.post("/admin/users", data=form)
    assert response.status_code == 200 and "已创建用户 li.officer" in response.text
    again = client.post("/admin/users", data=form)
    assert again.status_code == 409 and "已被使用" in again.text
    mismatch = client.post("/admin/users", data={**form, "username": "wang", "password_again": "x" * 12})
    assert mismatch.status_code == 400 and "不一致" in mismatch.text

    officer = TestClient(client.app, base_url="https://testserver")
    login(officer, "li.officer")
    assert "某市税务局" in officer.get("/account").text
    with db.transaction() as s:
        user_id = s.scalar(select(User.id).where(User.username == "li.officer"))
    assert client.post(f"/admin/users/{user_id}/disable", data={"csrf_token": token}).status_code == 200
    assert officer.get("/account", follow_redirects=False).status_code == 303  # session ended
    with db.transaction() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.target_id == str(user_id))).all()
        assert "user.create" in actions and "user.disable" in actions
        actor = s.scalar(select(AuditEntry.actor).where(AuditEntry.action == "user.disable"))
        assert actor == f"user:{admin}"


def test_a_department_number_that_is_none_is_asked_for_again(client):
    (admin,) = _setup(Role.ADMIN)
    token = login(client, admin)
    for department_id in ("²", "99999999999999999999"):
        response = client.post("/admin/api-keys", data={"csrf_token": token, "department_id": department_id,
                                                         "name": "环保报送系统"})
        assert response.status_code == 400 and "请选择密钥所属部门" in response.text
        assert client.get("/workbench", params={"department": department_id}).status_code == 200


def test_api_key_is_shown_once_works_and_stops_working_when_revoked(client):
    (admin,) = _setup(Role.ADMIN)
    with db.transaction() as s:
        department = make_department(s, name="某市生态环境局")
        department_id, uscc = department.id, department.uscc
    token = login(client, admin)
    created = client.post("/admin/api-keys", data={"csrf_token": token, "department_id": str(department_id),
                                                   "name": "环保报送系统"})
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    plaintext = re.search(r'value="(xy_[A-Za-z0-9_-]{40})"', created.text).group(1)
    listing = client.get(f"/admin/api-keys?department_id={department_id}")
    assert plaintext not in listing.text and plaintext[:10] in listing.text
    with db.transaction() as s:
        key = s.scalars(select(ApiKey)).one()
        assert key.key_hash != plaintext
        key_id = key.id

    system = TestClient(client.app, base_url="https://testserver")
    me = system.get("/api/v1/accounts/me", headers={"X-API-Key": plaintext})
    assert me.status_code == 200
    body = me.json()
    assert (body["kind"], body["role"], body["department_id"], body["department_uscc"]) == (
        "api_key", "officer", department_id, uscc)

    revoke = client.post(f"/admin/api-keys/{key_id}/revoke", data={"csrf_token": token}, follow_redirects=False)
    assert revoke.status_code == 303
    refused = system.get("/api/v1/accounts/me", headers={"X-API-Key": plaintext})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"
    assert system.get("/api/v1/accounts/me", headers={"X-API-Key": "xy_" + "a" * 40}).status_code == 401


def _principal_for_key(plaintext: str):  # type: ignore[no-untyped-def]
    request = Request({"type": "http", "method": "POST", "path": "/api/v1/batches", "query_string": b"",
                       "headers": [(b"x-api-key", plaintext.encode())]})
    return auth.authenticate(request)


def test_a_department_key_cannot_act_for_another_department(database):
    with db.transaction() as s:
        a, b = make_department(s), make_department(s)
        plaintext, _ = service.create_api_key(s, department_id=a.id, name="A 系统", created_by="t")
        a_id, b_id = a.id, b.id
    principal = _principal_for_key(plaintext)
    assert principal.kind == "api_key" and principal.role == Role.OFFICER
    assert department_scope(principal) == a_id
    ensure_department(principal, a_id)
    with pytest.raises(Forbidden):
        ensure_department(principal, b_id)


def test_api_key_requests_need_no_csrf_token(client):
    with db.transaction() as s:
        department = make_department(s)
        plaintext, _ = service.create_api_key(s, department_id=department.id, name="系统", created_by="t")
    # /logout is a CSRF-protected form; with a key (and no session) the CSRF check does not apply
    response = client.post("/logout", headers={"X-API-Key": plaintext}, follow_redirects=False)
    assert response.status_code == 303


NEW_PASSWORD = "battery-staple-horse-2"


def test_a_user_changes_their_password_and_their_other_sessions_end(client):
    (username,) = _setup(Role.OFFICER)
    laptop = TestClient(client.app, base_url="https://testserver")
    login(laptop, username)
    token = login(client, username)
    form = {"csrf_token": token, "current_password": PASSWORD, "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD}

    wrong = client.post("/account/password", data={**form, "current_password": "not-my-password"})
    assert wrong.status_code == 400 and "当前密码不正确" in wrong.text
    mismatch = client.post("/account/password", data={**form, "new_password_again": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 400 and "两次输入的新密码不一致" in mismatch.text
    short = client.post("/account/password", data={**form, "new_password": "short", "new_password_again": "short"})
    assert short.status_code == 400 and "密码至少需要 10 个字符" in short.text
    assert laptop.get("/account", follow_redirects=False).status_code == 200  # nothing changed yet

    done = client.post("/account/password", data=form)
    assert done.status_code == 200 and "密码已修改。其他设备上的 1 个登录已退出。" in done.text
    assert laptop.get("/account", follow_redirects=False).status_code == 303  # the other session ended
    assert client.get("/account", follow_redirects=False).status_code == 200  # this one goes on
    fresh = TestClient(client.app, base_url="https://testserver")
    refused = fresh.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert refused.status_code == 401 or "用户名或密码错误" in refused.text
    login(fresh, username, NEW_PASSWORD)
    with db.transaction() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "user.password_change")).one()
        assert entry.actor == f"user:{username}"
        assert "argon2" not in str(entry.after) and NEW_PASSWORD not in str(entry.after)


def test_guessing_the_current_password_is_throttled(client):
    (username,) = _setup(Role.APPROVER)
    token = login(client, username)
    form = {"csrf_token": token, "current_password": "guess", "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD}
    statuses = [client.post("/account/password", data={**form, "current_password": f"guess-{i}"}).status_code
                for i in range(6)]
    assert statuses[0] == 400 and statuses[-1] == 429
    refused = client.post("/account/password", data={**form, "current_password": PASSWORD})
    assert refused.status_code == 429 and "10 分钟后再试" in refused.text


def test_typing_the_new_password_wrong_again_and_again_locks_no_one_out(client):
    """Each attempt counts as failed until the current password proves right: then the count is
    cleared, as a login clears it."""
    (username,) = _setup(Role.APPROVER)
    token = login(client, username)
    form = {"csrf_token": token, "current_password": PASSWORD, "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD}
    for _ in range(6):
        typo = client.post("/account/password", data={**form, "new_password_again": NEW_PASSWORD + "x"})
        assert typo.status_code == 400 and "两次输入的新密码不一致" in typo.text
    done = client.post("/account/password", data=form)
    assert done.status_code == 200 and "密码已修改。" in done.text


def test_an_administrator_resets_a_forgotten_password(client):
    admin, officer = _setup(Role.ADMIN, Role.OFFICER)
    with db.transaction() as s:
        officer_id = s.scalar(select(User.id).where(User.username == officer))
        admin_id = s.scalar(select(User.id).where(User.username == admin))
    phone = TestClient(client.app, base_url="https://testserver")
    login(phone, officer)
    token = login(client, admin)
    page = client.get("/admin/users")
    assert f'href="/admin/users/{officer_id}/password"' in page.text
    form = client.get(f"/admin/users/{officer_id}/password")
    assert form.status_code == 200 and f"重置用户 {officer}" in form.text

    mismatch = client.post(f"/admin/users/{officer_id}/password",
                           data={"csrf_token": token, "password": NEW_PASSWORD, "password_again": "other-password-1"})
    assert mismatch.status_code == 400 and "不一致" in mismatch.text
    done = client.post(f"/admin/users/{officer_id}/password",
                       data={"csrf_token": token, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert done.status_code == 200 and f"已重置用户 {officer} 的密码" in done.text
    assert phone.get("/account", follow_redirects=False).status_code == 303  # every session of the user ended
    login(TestClient(client.app, base_url="https://testserver"), officer, NEW_PASSWORD)
    own = client.post(f"/admin/users/{admin_id}/password",
                      data={"csrf_token": token, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert own.status_code == 400 and "我的账号" in own.text  # one's own password needs the current one
    with db.transaction() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "user.password_reset")).one()
        assert entry.actor == f"user:{admin}" and entry.target_id == str(officer_id)


def test_a_login_is_stored_before_the_browser_is_sent_on(app, database):
    """The redirect after logging in reaches the browser only once the login session is committed:
    a browser that follows it at once (as Chromium does) must find itself logged in. The app is
    called as the server calls it, and the database is read, from another connection, at the
    moment the answer's first bytes go out."""
    import anyio
    from sqlalchemy import func

    from xinyong.accounts.models import LoginSession

    (username,) = _setup(Role.OFFICER)
    body = f"username={username}&password={PASSWORD}&next=/account".encode()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/login", "raw_path": b"/login", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/x-www-form-urlencoded"),
                    (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }
    sent: list[tuple[int, int]] = []

    async def receive():  # type: ignore[no-untyped-def]
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):  # type: ignore[no-untyped-def]
        if message["type"] == "http.response.start":
            with database.connect() as conn:
                stored = conn.scalar(select(func.count()).select_from(LoginSession))
            sent.append((message["status"], stored))

    anyio.run(app, scope, receive, send)
    assert sent == [(303, 1)]
