"""HTML pages of the accounts module: login and logout, "my account", the administrator's pages
for users, departments and API keys, and the audit log on the workbench (auditors, administrators)."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from xinyong.accounts import service
from xinyong.accounts.access import ANONYMOUS, ROLE_LABELS, Forbidden, Principal, Role, principal_of, require
from xinyong.accounts.api import audit_filters
from xinyong.accounts.auth import (
    SESSION_COOKIE,
    clear_session_cookie,
    set_session_cookie,
    verify_csrf,
)
from xinyong.core import audit, clock
from xinyong.core.errors import XinyongError
from xinyong.web.deps import MAX_ROW_ID, DbSession, RowId, client_ip, download_headers, form_row_id
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)

LOGIN_FAILED = "用户名或密码错误，或账号已停用。"
LOGIN_THROTTLED = "登录失败次数过多，请 10 分钟后再试。"
USER_ROLES = [Role.OFFICER, Role.APPROVER, Role.ADMIN, Role.AUDITOR, Role.SUBJECT]


def _safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect would let a phishing link borrow our login page."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/account"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/account"
    return target


def _same_origin(request: Request) -> bool:
    """A browser posting the login form from another site (login CSRF) sends that site's Origin."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    parts = urlsplit(origin)
    return parts.netloc == request.headers.get("host", request.url.netloc)


# --------------------------------------------------------------------------- login and logout


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    principal = principal_of(request)
    if principal.kind == "user":
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "accounts_login.html", {"next": _safe_next(next), "username": "", "error": None})


@router.post("/login")
def login(
    request: Request,
    username: str = Form("", max_length=200),
    password: str = Form("", max_length=1000),
    next: str = Form("/account", max_length=2000),
    session: Session = DbSession,
) -> Response:
    target = _safe_next(next)
    ip = client_ip(request)
    username = username.strip()

    def again(message: str, status: int) -> Response:
        request.state.principal = ANONYMOUS
        return render(request, "accounts_login.html",
                      {"next": target, "username": username, "error": message}, status_code=status)

    if not _same_origin(request):
        raise Forbidden("登录请求来源不明，请从本站登录页登录", code="csrf_failed")
    if not service.claim_login_attempt(username, ip):  # counted as failed until it succeeds
        return again(LOGIN_THROTTLED, 429)
    user = service.authenticate_password(session, username, password) if username and password else None
    if user is None:
        return again(LOGIN_FAILED, 401)
    service.clear_login_failures(session, username, ip)
    old = request.cookies.get(SESSION_COOKIE)
    if old:  # a new token on every login: a planted cookie cannot become a logged-in session
        service.end_login_session(session, old)
    token, _csrf = service.create_login_session(
        session, user, ip=ip, user_agent=request.headers.get("user-agent", "")
    )
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, token)
    return response


@router.post("/logout", dependencies=[Depends(verify_csrf)])
def logout(request: Request, session: Session = DbSession) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        service.end_login_session(session, token)
    response = RedirectResponse("/", status_code=303)
    clear_session_cookie(response)
    return response


# --------------------------------------------------------------------------- my account


def _account_page(request: Request, session: Session, principal: Principal, *, error: str | None = None,
                  notice: str | None = None, status: int = 200) -> Response:
    department = service.get_department(session, principal.department_id) if principal.department_id else None
    return render(request, "accounts_account.html", {
        "department": department, "error": error, "notice": notice,
        "min_password_length": service.MIN_PASSWORD_LENGTH,
    }, status_code=status)


@router.get("/account")
def account(
    request: Request,
    changed: int | None = Query(None, ge=0, le=10_000),
    principal: Principal = Depends(require("public.read")),
    session: Session = DbSession,
) -> Response:
    if principal.kind != "user":
        return RedirectResponse("/login?next=/account", status_code=303)
    notice = None
    if changed is not None:
        notice = "密码已修改。" + (f"其他设备上的 {changed} 个登录已退出。" if changed else "")
    return _account_page(request, session, principal, notice=notice)


@router.post("/account/password", dependencies=[Depends(verify_csrf)])
def change_password(
    request: Request,
    current_password: str = Form("", max_length=1000),
    new_password: str = Form("", max_length=1000),
    new_password_again: str = Form("", max_length=1000),
    principal: Principal = Depends(require("account.self")),
    session: Session = DbSession,
) -> Response:
    if principal.kind != "user" or principal.user_id is None:
        raise Forbidden("只有登录的用户可以修改密码")
    try:
        ended = service.change_password(
            session, principal.user_id, current_password, new_password, new_password_again,
            keep_token=request.cookies.get(SESSION_COOKIE), ip=client_ip(request),
        )
    except XinyongError as exc:
        return _account_page(request, session, principal, error=exc.message, status=exc.status_code)
    return RedirectResponse(f"/account?changed={ended}", status_code=303)


# --------------------------------------------------------------------------- users


def _users_page(request: Request, session: Session, *, error: str | None = None,
                form: dict[str, Any] | None = None, notice: str | None = None, status: int = 200) -> Response:
    return render(request, "accounts_users.html", {
        "users": service.list_users(session),
        "departments": {d.id: d for d in service.list_departments(session)},
        "roles": USER_ROLES,
        "role_labels": ROLE_LABELS,
        "error": error,
        "form": form or {},
        "notice": notice,
    }, status_code=status)


@router.get("/admin/users")
def users_page(
    request: Request,
    created: str | None = Query(None, max_length=64),
    reset: str | None = Query(None, max_length=64),
    principal: Principal = Depends(require("admin.manage")),
    session: Session = DbSession,
) -> Response:
    notice = f"已创建用户 {created}。" if created else None
    if reset:
        notice = f"已重置用户 {reset} 的密码，其所有登录已退出。请通过安全渠道告知新密码。"
    return _users_page(request, session, notice=notice)


@router.post("/admin/users", dependencies=[Depends(verify_csrf)])
def create_user(
    request: Request,
    username: str = Form("", max_length=200),
    display_name: str = Form("", max_length=200),
    role: str = Form("", max_length=20),
    department_id: str = Form("", max_length=20),
    subject_code: str = Form("", max_length=40),
    password: str = Form("", max_length=1000),
    password_again: str = Form("", max_length=1000),
    principal: Principal = Depends(require("admin.manage")),
    session: Session = DbSession,
) -> Response:
    form = {"username": username, "display_name": display_name, "role": role,
            "department_id": department_id, "subject_code": subject_code}
    try:
        if password != password_again:
            raise XinyongError("两次输入的密码不一致")
        subject_id = None
        if role == Role.SUBJECT.value:
            if not subject_code.strip():
                raise XinyongError("信用主体账号须填写主体的统一社会信用代码或其他代码")
            from xinyong.subjects.service import find_by_code

            subject_id = find_by_code(session, subject_code).id
        user = service.create_user(
            session, username=username, password=password, role=role,  # type: ignore[arg-type]
            display_name=display_name,
            department_id=form_row_id(department_id),
            subject_id=subject_id, actor=principal.actor, ip=client_ip(request),
        )
    except XinyongError as exc:
        return _users_page(request, session, error=exc.message, form=form, status=exc.status_code)
    return RedirectResponse(f"/admin/users?created={user.username}", status_code=303)


@router.post("/admin/users/{user_id}/disable", dependencies=[Depends(verify_csrf)])
def disable_user(
    request: Request,
    user_id: RowId,
    principal: Principal = Depends(require("admin.manage")),
    session: Session = DbSession,
) -> Response:
    service.set_user_disabled(session, user_id, True, actor=principal.actor, ip=client_ip(request))
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/enable", dependencies=[Depends(verify_csrf)])
def enable_user(
    request: Request,
    user_id: RowId,
    principal: Principal = Depends(require("admin.manage")),
    session: Session = DbSession,
) -> Response:
    service.set_user_disabled(session, user_id, False, actor=principal.actor, ip=client_ip(request))
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/users/{user_id}/password")
def reset_password_form(
    request: Request,
    user_id: RowId,
    principal: Principal = Depends(require("admin.manage")),
    session: Session = DbSession,
) -> Response:
    return _reset_page(request, session, user_id)


def _reset_page(request: Request, session: Session, user_id: int, error: str | None = None,
                status: int = 200) -> Response:
    return render(request, "accounts_reset_password.html", {
        "user": service.get_user(session, user_id), "error": error,
        "min_password_length": service.MIN_PASSWORD_LENGTH,
    }, status_code=status)


@router.post("/admin/users/{user_id}/password", dependencies=[Depends(verify_csrf)])
def reset_password(
    request: Request,
    user_id: RowId,
    password: str = Form("", max_length=1000),
    password_again: str = Form("", max_length=1000),
    principal: Principal = Depends(require("admin.manage")),
    session: Session = DbSession,
) -> Response:
    try:
        user = service.reset_password(session, user_id, password, password_again, actor=principal.actor,
                                      ip=client_ip(request))
    except XinyongError as exc:
        return _reset_page(request, session, user_id, exc.message, exc.status_code)
    return RedirectResponse(f"/admin/users?reset={user.username}", status_code=303)


# --------------------------------------------------------------------------- departments


def _departments_page(request: Request, session: Session, *, error: str | None = None,
                      form: dict[str, Any] | None = None, notice: str | None = None,
                      status: int = 200) -> Response:
    return render(request, "accounts_departments.html", {
        "departments": service.list_departments(session), "error": error, "form": form or {},
        "notice": notice,
    }, status_code=status)


@router.get("/admin/departments")
def departments_page(
    request: Request,
    created: str | None = None,
    principal: Principal = Depends(require("admin.manage")),
    session: Session = DbSession,
) -> Response:
    return _departments_page(request, session, notice=f"已登记部门 {created}。" if created else None)


@router.post("/admin/departments", dependencies=[Depends(verify_csrf)])
def register_department(
    request: Request,
    uscc: str = Form("", max_length=40),
    name: str = Form("", max_length=400),
    principal: Principal = Depends(require("admin.manage")),
    session: Session = DbSession,
) -> Response:
    try:
        department = service.register_department_by_office(
            session, uscc=uscc, name=name, actor=principal.actor, ip=client_ip(request))
    except XinyongError as exc:
        return _departments_page(request, session, error=exc.message, form={"uscc": uscc, "name": name},
                                 status=exc.status_code)
    return RedirectResponse(f"/admin/departments?created={department.uscc}", status_code=303)


# --------------------------------------------------------------------------- API keys


def _api_keys_page(request: Request, session: Session, department_id: int | None, *,
                   error: str | None = None, created: tuple[str, Any] | None = None,
                   form: dict[str, Any] | None = None, status: int = 200) -> Response:
    response = render(request, "accounts_api_keys.html", {
        "departments": service.list_departments(session),
        "department_id": department_id,
        "keys": service.list_api_keys(session, department_id),
        "error": error,
        "created": created,
        "form": form or {},
    }, status_code=status)
    response.headers["Cache-Control"] = "no-store"  # the page may show a key's plaintext
    return response


@router.get("/admin/api-keys")
def api_keys_page(
    request: Request,
    department_id: int | None = Query(None, ge=1, le=MAX_ROW_ID),
    principal: Principal = Depends(require("admin.manage")),
    session: Session = DbSession,
) -> Response:
    return _api_keys_page(request, session, department_id)


@router.post("/admin/api-keys", dependencies=[Depends(verify_csrf)])
def create_api_key(
    request: Request,
    department_id: str = Form("", max_length=20),
    name: str = Form("", max_length=400),
    principal: Principal = Depends(require("admin.manage")),
    session: Session = DbSession,
) -> Response:
    try:
        if (chosen := form_row_id(department_id)) is None:
            raise XinyongError("请选择密钥所属部门")
        plaintext, key = service.create_api_key(
            session, department_id=chosen, name=name, created_by=principal.actor,
            ip=client_ip(request))
    except XinyongError as exc:
        return _api_keys_page(request, session, None, error=exc.message,
                              form={"department_id": department_id, "name": name}, status=exc.status_code)
    return _api_keys_page(request, session, key.department_id, created=(plaintext, key), status=201)


@router.post("/admin/api-keys/{key_id}/revoke", dependencies=[Depends(verify_csrf)])
def revoke_api_key(
    request: Request,
    key_id: RowId,
    principal: Principal = Depends(require("admin.manage")),
    session: Session = DbSession,
) -> Response:
    key = service.get_api_key(session, key_id)
    service.revoke_api_key(session, key_id, actor=principal.actor, ip=client_ip(request))
    return RedirectResponse(f"/admin/api-keys?department_id={key.department_id}", status_code=303)


# --------------------------------------------------------------------------- the audit log

AUDIT_PER_PAGE = 50


@router.get("/workbench/audit")
def audit_log_page(
    request: Request,
    filters: dict[str, str] = Depends(audit_filters),
    page: int = Query(1, ge=1, le=100_000),
    principal: Principal = Depends(require("audit.read")),
    session: Session = DbSession,
) -> Response:
    query = service.AuditQuery(session, filters)
    chain = service.audit_chain(session)  # before this read is added to the chain
    total = audit.count_entries(session, query.wanted)
    rows = audit.list_entries(session, query.wanted, limit=AUDIT_PER_PAGE, offset=(page - 1) * AUDIT_PER_PAGE)
    entries = service.audit_entries(session, rows)
    service.audit_read(session, query, actor=principal.actor, ip=client_ip(request), fmt="page", page=page)
    return render(request, "accounts_audit.html", {
        "chain": chain, "entries": entries, "total": total, "page": page,
        "pages": max(1, math.ceil(total / AUDIT_PER_PAGE)), "form": query.form, "problems": query.problems,
        "query": urlencode(query.form), "actions": audit.ACTION_LABELS, "targets": audit.TARGET_LABELS,
        "departments": service.list_departments(session),
    })


@router.get("/workbench/audit.csv")
def audit_log_csv(
    request: Request,
    filters: dict[str, str] = Depends(audit_filters),
    principal: Principal = Depends(require("audit.read")),
    session: Session = DbSession,
) -> Response:
    """Every entry the filters ask for, newest first (a download is audited as a read)."""
    from xinyong.ingest.service import rejected_csv as csv_download  # UTF-8 with BOM, formulas defused

    query = service.AuditQuery(session, filters)
    service.audit_read(session, query, actor=principal.actor, ip=client_ip(request), fmt="csv")
    at = clock.now().strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(csv_download(service.audit_csv_rows(query.wanted)), media_type="text/csv; charset=utf-8",
                             headers=download_headers(f"审计日志_{at}.csv", f"audit_log_{at}.csv"))
