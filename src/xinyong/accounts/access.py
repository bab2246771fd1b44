"""Access decisions, in one place: who is asking, what they may do, and on which department's data.

Every route declares the permission it needs with ``require("…")``; the matrix below is the only
place that says which role holds which permission, and ``department_scope`` is the only place
that limits an officer to their own department.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from fastapi import Request

from xinyong.core.errors import XinyongError


class Role(StrEnum):
    PUBLIC = "public"  # 社会公众 (anonymous visitor)
    SUBJECT = "subject"  # 信用主体 (a company or person looking at its own file)
    OFFICER = "officer"  # 部门信息报送人员 (department officer)
    APPROVER = "approver"  # 审批经办人 (approval officer)
    ADMIN = "admin"  # 信用办管理员 (credit administrator)
    AUDITOR = "auditor"  # 审计人员

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.PUBLIC: "社会公众",
    Role.SUBJECT: "信用主体",
    Role.OFFICER: "部门报送人员",
    Role.APPROVER: "审批经办人",
    Role.ADMIN: "信用办管理员",
    Role.AUDITOR: "审计人员",
}

_ALL = frozenset(Role)
_STAFF = frozenset({Role.OFFICER, Role.APPROVER, Role.ADMIN, Role.AUDITOR})

# permission -> roles that hold it
PERMISSIONS: dict[str, frozenset[Role]] = {
    "public.read": _ALL,  # published records, search, 双公示 columns, the rules
    "account.self": frozenset(Role) - {Role.PUBLIC},  # one's own account: change the password
    "subject.self": frozenset({Role.SUBJECT}),  # own full file and who queried it (谁查询了我)
    "nonpublic.read": _STAFF,  # fields shared with government (政务共享)
    "batch.submit": frozenset({Role.OFFICER, Role.ADMIN}),
    "batch.read": frozenset({Role.OFFICER, Role.ADMIN, Role.AUDITOR}),
    "record.change": frozenset({Role.OFFICER, Role.ADMIN}),  # correct or revoke, with a reason
    "catalogue.read": _STAFF,
    "quality.read": frozenset({Role.ADMIN, Role.AUDITOR}),
    "admin.manage": frozenset({Role.ADMIN}),  # departments, users, roles, API keys
    "audit.read": frozenset({Role.ADMIN, Role.AUDITOR}),
    "check.run": frozenset({Role.APPROVER, Role.ADMIN}),
}


class NotAuthenticated(XinyongError):
    status_code = 401
    code = "not_authenticated"


class Forbidden(XinyongError):
    status_code = 403
    code = "forbidden"


@dataclass(frozen=True)
class Principal:
    """Who is making a request: an anonymous visitor, a logged-in user, or an API key."""

    kind: str  # anonymous | user | api_key
    role: Role
    user_id: int | None = None
    username: str | None = None
    display_name: str | None = None
    department_id: int | None = None
    subject_id: int | None = None
    api_key_id: int | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.kind != "anonymous"

    @property
    def actor(self) -> str:
        """How the audit log names this principal."""
        if self.kind == "user":
            return f"user:{self.username}"
        if self.kind == "api_key":
            return f"api_key:{self.api_key_id}"
        return "anonymous"


ANONYMOUS = Principal(kind="anonymous", role=Role.PUBLIC)


def can(principal: Principal, permission: str) -> bool:
    return principal.role in PERMISSIONS[permission]


def check(principal: Principal, permission: str) -> None:
    if permission not in PERMISSIONS:
        raise KeyError(permission)
    if can(principal, permission):
        return
    if not principal.is_authenticated:
        raise NotAuthenticated("请先登录")
    raise Forbidden(f"您的角色（{principal.role.label}）无权执行此操作")


def department_scope(principal: Principal) -> int | None:
    """The department whose data the principal may see and change; None means every department."""
    if principal.role == Role.OFFICER:
        if principal.department_id is None:
            raise Forbidden("您的账号未关联部门")
        return principal.department_id
    return None


def ensure_department(principal: Principal, department_id: int | None) -> None:
    scope = department_scope(principal)
    if scope is not None and scope != department_id:
        raise Forbidden("只能查看和修改本部门报送的数据")


def principal_of(request: Request) -> Principal:
    """The principal of a request (session cookie or API key), resolved once per request."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        from xinyong.accounts.auth import authenticate

        principal = authenticate(request)
        request.state.principal = principal
    return principal


def require(permission: str) -> Callable[..., Principal]:
    """A FastAPI dependency: the request's principal, if it holds ``permission``."""
    if permission not in PERMISSIONS:
        raise KeyError(permission)

    # async so that FastAPI resolves it on the event loop, not through the thread pool; it takes
    # the request itself rather than a sub-dependency, one level less for FastAPI to solve
    async def dependency(request: Request) -> Principal:
        principal = principal_of(request)
        check(principal, permission)
        return principal

    dependency.permission = permission  # type: ignore[attr-defined]  # read by the route matrix test
    return dependency
