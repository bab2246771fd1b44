"""What the accounts module shows to other systems: the caller, users and API keys (never secrets)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict

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
