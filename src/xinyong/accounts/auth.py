"""Authentication of requests: the session cookie, department API keys, and CSRF checks."""

from __future__ import annotations

import secrets

from fastapi import Request, Response

from xinyong.accounts import service
from xinyong.accounts.access import ANONYMOUS, Forbidden, NotAuthenticated, Principal, Role, principal_of
from xinyong.core import db
from xinyong.core.config import get_settings

SESSION_COOKIE = "xy_session"
API_KEY_HEADER = "X-API-Key"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
CSRF_FAILED = "表单已过期或来源不明，请刷新页面后重试"


def authenticate(request: Request) -> Principal:
    """Who is asking: an API key (header) or a login session (cookie); anyone else is anonymous."""
    api_key = request.headers.get(API_KEY_HEADER)
    if api_key is not None:
        return _authenticate_api_key(request, api_key.strip())
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        return _authenticate_session(request, token)
    return ANONYMOUS


def _authenticate_api_key(request: Request, plaintext: str) -> Principal:
    with db.transaction() as session:
        key = service.resolve_api_key(session, plaintext)
        principal = None if key is None else Principal(
            kind="api_key", role=Role.OFFICER, department_id=key.department_id, api_key_id=key.id,
            display_name=key.name,
        )
    if principal is None:
        if request.url.path.startswith("/api/"):
            raise NotAuthenticated("API 密钥无效或已吊销", code="invalid_api_key")
        return ANONYMOUS
    return principal


def _authenticate_session(request: Request, token: str) -> Principal:
    with db.transaction() as session:
        found = service.resolve_login_session(session, token)
        if found is None:
            return ANONYMOUS
        user, login = found
        request.state.csrf_token = login.csrf_token
        request.state.session_token = token
        return Principal(
            kind="user", role=Role(user.role), user_id=user.id, username=user.username,
            display_name=user.display_name, department_id=user.department_id, subject_id=user.subject_id,
        )


async def verify_csrf(request: Request) -> None:
    """A dependency for every state-changing route: the form field ``csrf_token`` or the header
    ``X-CSRF-Token`` must match the login session's token. API keys and anonymous visitors (who
    carry no session a forged request could ride on) are exempt."""
    principal = principal_of(request)
    if principal.kind != "user":
        return
    expected = getattr(request.state, "csrf_token", None)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not expected or not sent or not secrets.compare_digest(sent.encode(), expected.encode()):
        raise Forbidden(CSRF_FAILED, code="csrf_failed")


def set_session_cookie(response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(service.SESSION_MAX_AGE.total_seconds()),
        path="/",
        httponly=True,
        secure=get_settings().cookie_secure,
        samesite="lax",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, secure=get_settings().cookie_secure,
                           samesite="lax")
