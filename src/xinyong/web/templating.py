"""Jinja2 templates shared by every module's pages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from xinyong.accounts.access import ROLE_LABELS, can, principal_of
from xinyong.core import clock

TEMPLATE_DIRS = [Path(__file__).with_name("templates")]
# each domain module may keep its own templates in <module>/templates/
for module in ("accounts", "records", "subjects", "ingest", "core", "policy", "catalogue"):
    candidate = Path(__file__).parents[1] / module / "templates"
    if candidate.is_dir():
        TEMPLATE_DIRS.append(candidate)

templates = Jinja2Templates(directory=[str(d) for d in TEMPLATE_DIRS])


def _date(value: dt.date | dt.datetime | None, fmt: str = "%Y-%m-%d") -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(clock.CHINA_TZ)
        return value.strftime(fmt + " %H:%M")
    return value.strftime(fmt)


templates.env.filters["date"] = _date
templates.env.globals["role_labels"] = ROLE_LABELS
templates.env.globals["can"] = can


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200):  # type: ignore[no-untyped-def]
    """Render a page with the principal, its CSRF token and today's date in the context."""
    principal = principal_of(request)
    ctx = {
        "principal": principal,
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "today": clock.today(),
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
