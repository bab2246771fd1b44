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


def _share(rate: float | None) -> str:
    """A rate as officials write it (万分之1.23); a dash when there is nothing to measure."""
    from xinyong.policy.cli_render import rate_in_words

    return "—" if rate is None else rate_in_words(rate)


def _rule_params(rule: Any) -> list[str]:
    """A rule's parameters as lines of Chinese (7个工作日; 一般：公示 3个月–1年)."""
    from xinyong.policy.cli_render import format_params

    return format_params(rule).splitlines()


def _jurisdiction(code: str) -> str:
    """全国, or an area code with its name: 410481（河南省舞钢市）."""
    from xinyong.core.ids import area_name

    if code == "CN":
        return "全国"
    name = area_name(code)
    return f"{code}（{name}）" if name else code


def _rule_kind(kind: str) -> str:
    from xinyong.policy.schemas import RULE_KIND_LABELS

    return RULE_KIND_LABELS.get(kind, kind)


def _record_kinds(kinds: Any) -> str:
    from xinyong.policy.schemas import RECORD_KIND_LABELS

    return "、".join(RECORD_KIND_LABELS.get(k, k) for k in kinds)


templates.env.filters["date"] = _date
templates.env.filters["share"] = _share
templates.env.filters["rule_params"] = _rule_params
templates.env.filters["jurisdiction"] = _jurisdiction
templates.env.filters["rule_kind"] = _rule_kind
templates.env.filters["record_kinds"] = _record_kinds
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
