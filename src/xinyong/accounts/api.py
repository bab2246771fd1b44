"""JSON API of the accounts module: who am I (lets a department system check its API key)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from xinyong.accounts import service
from xinyong.accounts.access import Principal, require
from xinyong.accounts.schemas import PrincipalOut
from xinyong.web.deps import DbSession

router = APIRouter(tags=["账号"])


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
