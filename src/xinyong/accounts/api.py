"""JSON API of the accounts module: who am I (lets a department system check its API key), and the
audit log for auditors and administrators."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from xinyong.accounts import service
from xinyong.accounts.access import Principal, require
from xinyong.accounts.schemas import AuditChainOut, AuditEntryOut, AuditLogOut, PrincipalOut
from xinyong.core import audit
from xinyong.core.errors import XinyongError
from xinyong.web.deps import DbSession, client_ip

router = APIRouter(tags=["账号"])
audit_log = APIRouter(prefix="/audit", tags=["审计日志"])


@router.get("/accounts/me", response_model=PrincipalOut, summary="当前调用者")
def whoami(
    principal: Principal = Depends(require("public.read")),
    session: Session = DbSession,
) -> PrincipalOut:
    """The caller as the platform sees it: anonymous, a logged-in user, or a department's API key."""
    department = service.get_department(session, principal.department_id) if principal.department_id else None
    return PrincipalOut(
        kind=principal.kind,
        role=principal.role,
        username=principal.username,
        display_name=principal.display_name,
        department_id=principal.department_id,
        department_uscc=department.uscc if department else None,
        api_key_id=principal.api_key_id,
    )


def audit_filters(
    since: str = Query("", max_length=40, description="时间自（含）：YYYY-MM-DD 或 YYYY-MM-DDTHH:MM，北京时间"),
    until: str = Query("", max_length=40, description="时间至（含当日或当分钟）：格式同上"),
    actor: str = Query("", max_length=200, description="操作人：用户名，或记录中的原文（api_key:3、cli:root）"),
    action: str = Query("", max_length=100, description="操作代码，如 batch.submit、read.subject"),
    subject: str = Query("", max_length=40,
                         description="所涉信用主体：统一社会信用代码、组织机构代码、工商注册号、ZRR-编号或 id:编号"),
    target_type: str = Query("", max_length=50, description="对象类型，如 record、batch、user"),
    target_id: str = Query("", max_length=100, description="对象编号（记录编号、批次编号……）"),
    department: str = Query("", max_length=40, description="操作人所属部门的统一社会信用代码（其用户和 API 密钥）"),
) -> dict[str, str]:
    """The audit log's filters, as the workbench page, its CSV download and the API take them."""
    return {"since": since, "until": until, "actor": actor, "action": action, "subject": subject,
            "target_type": target_type, "target_id": target_id, "department": department}


@audit_log.get(
    "",
    response_model=AuditLogOut,
    summary="审计日志（最新的在前）",
    description="审计日志中符合条件的记录，最新的在前，证件号码已脱敏；每次查询本身也记入审计日志。"
                "仅审计人员和信用办管理员可查询。哈希链的校验结果见 GET /api/v1/audit/chain。",
)
def read_audit_log(
    request: Request,
    filters: dict[str, str] = Depends(audit_filters),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
    principal: Principal = Depends(require("audit.read")),
    session: Session = DbSession,
) -> AuditLogOut:
    query = service.AuditQuery(session, filters)
    if query.problems:
        raise XinyongError("；".join(query.problems), code="invalid_filter")
    rows = audit.list_entries(session, query.wanted, limit=limit, offset=offset)
    answer = AuditLogOut(total=audit.count_entries(session, query.wanted), limit=limit, offset=offset,
                         items=[AuditEntryOut(**e) for e in service.audit_entries(session, rows)])
    service.audit_read(session, query, actor=principal.actor, ip=client_ip(request), fmt="json")
    return answer


@audit_log.get(
    "/chain",
    response_model=AuditChainOut,
    summary="审计日志哈希链的校验结果",
    description="与 xinyong audit verify 相同：逐条校验整条哈希链，给出校验无误的范围，"
                "或第一条被修改、删除或插入的记录。记录越多越慢（约每十万条数秒）。仅审计人员和信用办管理员可查询。",
)
def audit_chain(principal: Principal = Depends(require("audit.read")),
                session: Session = DbSession) -> AuditChainOut:
    return AuditChainOut(**service.audit_chain(session))


router.include_router(audit_log)
