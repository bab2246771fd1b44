"""The public portal: search, subject pages, the 双公示 columns, and the rules and rights page."""

from __future__ import annotations

import math
from functools import lru_cache
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum import numdb

from xinyong.accounts import service as accounts
from xinyong.accounts.access import Principal, can, require
from xinyong.core import audit, clock, db
from xinyong.core.config import get_settings
from xinyong.policy.service import get_policy_book
from xinyong.records.service import authority_cities, public_records, published_records
from xinyong.subjects import service
from xinyong.subjects.models import LegalRepresentative
from xinyong.web.deps import DbSession, client_ip, form_date, form_row_id
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)

PER_PAGE = 20
DISCLOSURE_KINDS = {"penalty": "行政处罚", "licence": "行政许可"}


@router.get("/")
def home(request: Request, principal: Principal = Depends(require("public.read"))) -> Response:
    return render(request, "subjects_home.html", {})


@router.get("/search")
def search_page(
    request: Request,
    q: str = Query("", max_length=200),
    page: int = Query(1, ge=1, le=10_000),
    principal: Principal = Depends(require("public.read")),
) -> Response:
    """Search by a query in the URL (links, bookmarks, pages of results): never a resident id."""
    return _search_page(request, q, page, resident_ids=False)


@router.post("/search")
def search_form(
    request: Request,
    q: str = Form("", max_length=200),
    principal: Principal = Depends(require("public.read")),
) -> Response:
    """The search box: the query travels in the body, so a resident id typed into it finds the
    person without being written into the URL (history, proxies, access logs). Changes nothing,
    so it takes no CSRF token."""
    return _search_page(request, q, 1, resident_ids=True)


def _search_page(request: Request, q: str, page: int, *, resident_ids: bool) -> Response:
    with db.read_only() as connection:
        result = service.search(connection, q, page, PER_PAGE, resident_ids=resident_ids)
    # a personal id typed into the box is not written back into the page, nor into page links
    echo = q.strip() if result.query == q.strip() else ""
    return render(request, "subjects_search.html", {
        "q": echo,
        "result": result,
        "prev_url": _page_url("/search", {"q": echo}, page - 1) if echo and page > 1 else None,
        "next_url": _page_url("/search", {"q": echo}, page + 1) if echo and page < result.pages else None,
    })


@router.get("/subjects/{code}")
def subject_page(
    request: Request,
    code: str,
    principal: Principal = Depends(require("public.read")),
    session: Session = DbSession,
) -> Response:
    subject = service.find_public(session, code)
    staff = can(principal, "nonpublic.read")
    today = clock.today()
    records = public_records(session, subject.id, today, audience="government" if staff else "public")
    representatives: list[LegalRepresentative] = []
    if staff:
        representatives = list(session.scalars(
            select(LegalRepresentative)
            .where(LegalRepresentative.subject_id == subject.id)
            .order_by(LegalRepresentative.first_seen_on)
        ))
        audit.record(session, actor=principal.actor, action=audit.READ_SUBJECT, target_type="subject",
                     target_id=str(subject.id), subject_id=subject.id, ip=client_ip(request))
    return render(request, "subjects_subject.html", {
        "subject": subject,
        "hit": service.search_hit(subject),
        "former_names": service.former_names(session, subject),
        "penalties": [r for r in records if r.kind == "penalty"],
        "licences": [r for r in records if r.kind == "licence"],
        "staff": staff,
        "representatives": representatives,
    })


@router.get("/disclosures")
def disclosures_page(
    request: Request,
    kind: str = Query("penalty"),
    department: str = Query(""),
    city: str = Query(""),
    from_: str = Query("", alias="from"),
    to: str = Query(""),
    page: int = Query(1, ge=1, le=10_000),
    principal: Principal = Depends(require("public.read")),
    session: Session = DbSession,
) -> Response:
    if kind not in DISCLOSURE_KINDS:
        kind = "penalty"
    problems: list[str] = []
    date_from = form_date(from_, "起始日期", problems)
    date_to = form_date(to, "截止日期", problems)
    department_id = form_row_id(department)
    city_code = city if len(city) == 4 and city.isascii() and city.isdigit() else None
    total, records = published_records(
        session, clock.today(), kind=kind, department_id=department_id, city=city_code,
        date_from=date_from, date_to=date_to, page=page, per_page=PER_PAGE,
    )
    departments = sorted(((d.id, d.name) for d in accounts.list_departments(session)), key=lambda d: d[1])
    cities = [(c, city_label(c)) for c in authority_cities(session)]
    filters = {"kind": kind, "department": department if department_id else "",
               "city": city_code or "", "from": from_ if date_from else "", "to": to if date_to else ""}
    pages = max(1, math.ceil(total / PER_PAGE))
    return render(request, "subjects_disclosures.html", {
        "kind": kind,
        "kinds": DISCLOSURE_KINDS,
        "filters": filters,
        "departments": departments,
        "cities": cities,
        "records": records,
        "total": total,
        "page": page,
        "pages": pages,
        "problems": problems,
        "prev_url": _page_url("/disclosures", filters, page - 1) if page > 1 else None,
        "next_url": _page_url("/disclosures", filters, page + 1) if page < pages else None,
    })


@router.get("/about")
def about_page(request: Request, principal: Principal = Depends(require("public.read"))) -> Response:
    jurisdiction, today, book = get_settings().jurisdiction, clock.today(), get_policy_book()
    return render(request, "subjects_about.html", {
        "rules": book.rules_in_force(today, jurisdiction), "jurisdiction": jurisdiction,
        "other_areas": book.other_jurisdictions(today, jurisdiction),
    })


# --------------------------------------------------------------------------- helpers


def _page_url(path: str, params: dict[str, str], page: int) -> str:
    query = {k: v for k, v in params.items() if v}
    if page > 1:
        query["page"] = str(page)
    return f"{path}?{urlencode(query)}" if query else path


@lru_cache(maxsize=1024)
def city_label(city: str) -> str:
    """The name of a city (GB/T 2260, first four digits), e.g. 1301 → 河北省石家庄市."""
    info: dict[str, str] = {}
    for _part, props in numdb.get("cn/loc").info(f"{city}00"):
        info.update(props)
    province = info.get("province", "")
    county = info.get("county", "").split(",")[-1]
    if county.startswith("["):
        county = county.split("]", 1)[1]
    if not county or county in {"市辖区", "县"}:
        return province or city
    return f"{province}{county}" if province else county


@router.get("/me")
def my_credit_page(
    request: Request,
    principal: Principal = Depends(require("subject.self")),
    session: Session = DbSession,
) -> Response:
    """A subject's own file: every record with its versions and status, and who read its
    non-public data (谁查询了我)."""
    from xinyong.records.service import records_of_subject

    if principal.subject_id is None:
        from xinyong.accounts.access import Forbidden

        raise Forbidden("您的账号未关联信用主体")
    subject = service.get_subject(session, principal.subject_id)
    info = service.describe(session, subject)
    today = clock.today()
    readers = audit.entries_about_subject(session, subject.id)
    return render(request, "subjects_me.html", {
        "info": info,
        "records": records_of_subject(session, subject.id, today),
        "readers": readers,
        "read_labels": audit.READ_LABELS,
    })
