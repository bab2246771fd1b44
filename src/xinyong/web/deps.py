"""Request-scoped dependencies: one database transaction per request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path
from sqlalchemy.orm import Session

from xinyong.core import db


def get_session() -> Iterator[Session]:
    """A session whose transaction commits when the request succeeds and rolls back otherwise."""
    with db.transaction() as session:
        yield session


# What routes depend on. ``scope="function"``: the transaction ends when the route returns, before
# the answer is sent. With FastAPI's default it would end after the answer had gone out, so a
# browser following the redirect after a login (or any form) could arrive before the change was
# committed and not find it, and a failed commit would follow an answer that said it worked.
DbSession = Depends(get_session, scope="function")


def client_ip(request) -> str:  # type: ignore[no-untyped-def]
    """The client address (the first X-Forwarded-For hop when behind the configured proxy)."""
    from xinyong.core.config import get_settings

    if get_settings().trust_proxy:
        forwarded = request.headers.get("x-forwarded-for")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "unknown"


# A database row id in a URL: positive and within BIGINT, so that a huge number is a 422, not a
# database error.
MAX_ROW_ID = 2**63 - 1


def form_row_id(raw: str | None) -> int | None:
    """A row id chosen in a form or a query string (a department of a select list), or None when
    it is none: only ASCII digits within ``MAX_ROW_ID`` (``"²".isdigit()`` is true, and a number
    beyond BIGINT is a database error)."""
    text = (raw or "").strip()
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ROW_ID else None


def form_date(raw: str, label: str, problems: list[str]) -> dt.date | None:
    """A date typed into a page's form (YYYY-MM-DD); one that cannot be read is ignored and said
    in ``problems``, for the page to show."""
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        problems.append(f"{label}“{raw}”不是有效日期，应为 YYYY-MM-DD，已忽略")
        return None
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="记录编号")]


def download_headers(file_name: str, fallback: str) -> dict[str, str]:
    """Headers of a download named ``file_name`` (``fallback`` for clients without RFC 5987)."""
    from urllib.parse import quote

    return {
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name)}",
        "Cache-Control": "no-store",
    }
