"""What the accounts module shows to other systems: the caller, users and API keys (never secrets),
and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from xinyong.accounts.access import Role


class PrincipalOut(BaseModel):
    """Who the platform takes the caller to be."""

    kind: str  # anonymous | user | api_key
    role: Role
    username: str | None = None
    display_name: str | None = None
    department_id: int | None = None
    department_uscc: str | None = None
    api_key_id: int | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: Role
    department_id: int | None
    subject_id: int | None
    disabled: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    department_id: int
    created_at: dt.datetime
    created_by: str
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class AuditChainOut(BaseModel):
    """The audit log's hash chain as ``xinyong audit verify`` finds it."""

    intact: bool = Field(description="整条链校验无误")
    checked: int = Field(description="校验的记录数")
    verified_through: int = Field(description="第 1 条至此条记录校验无误")
    first_bad_seq: int | None = Field(description="第一条有问题的记录的序号（链完整时为 null）")
    problem: str | None = Field(description="问题说明（链完整时为 null）")
    head: str | None = Field(description="链头（序号:哈希），可记录在数据库之外，"
                                         "日后用 xinyong audit verify --anchor 核对")
    summary: str = Field(description="校验结果（中文）")


class AuditEntryOut(BaseModel):
    """One entry of the audit log, personal ids masked."""

    seq: int = Field(description="序号")
    at: dt.datetime = Field(description="时间（UTC）")
    at_china: str = Field(description="时间（北京时间）")
    actor: str = Field(description="操作人，如 user:用户名、api_key:密钥编号、cli:登录名 命令")
    actor_name: str | None = Field(description="操作人的姓名与单位")
    action: str = Field(description="操作代码")
    action_label: str = Field(description="操作")
    target_type: str = Field(description="对象类型代码")
    target_label: str = Field(description="对象类型")
    target_id: str | None = Field(description="对象编号")
    target_url: str | None = Field(description="对象在工作台上的页面")
    subject_id: int | None = Field(description="所涉信用主体的平台编号")
    subject_name: str | None = Field(description="所涉信用主体的名称（主体已并入其他主体时为 null）")
    subject_code: str | None = Field(description="所涉信用主体的公开代码")
    ip: str | None = Field(description="IP 地址")
    before: Any = Field(description="变更前（JSON，证件号码已脱敏）")
    after: Any = Field(description="变更后或所查阅的内容（JSON，证件号码已脱敏）")
    details: list[str] = Field(description="内容说明（中文）")
    hash: str = Field(description="本条记录的哈希")


class AuditLogOut(BaseModel):
    total: int = Field(description="符合条件的记录数")
    limit: int
    offset: int
    items: list[AuditEntryOut]
