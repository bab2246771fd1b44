"""The public subject API: a stable contract for other systems (published information only)."""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Path, Query, Response

from xinyong.accounts.access import Principal, require
from xinyong.core import clock, db
from xinyong.records.service import PublicRecord
from xinyong.subjects import service
from xinyong.subjects.schemas import (
    ErrorOut,
    PublicRecordOut,
    SearchHit,
    SubjectDetailOut,
    SubjectItemOut,
    SubjectSearchIn,
    SubjectSearchOut,
)

router = APIRouter(tags=["信用主体（公开）"])


def _url(hit: SearchHit) -> str:
    return f"/api/v1/subjects/{hit.code}"


_URL_HAS_RESIDENT_ID = {
    400: {"model": ErrorOut, "description": "网址中含有公民身份号码（resident_id_in_url）：请改用 POST"},
}


@router.get("/subjects", response_model=SubjectSearchOut, responses=_URL_HAS_RESIDENT_ID,
            summary="按名称或代码查询信用主体")
async def search_subjects(
    q: str = Query(..., min_length=1, max_length=200,
                   description="名称的一部分，或任一公开代码；公民身份号码不得放在网址中，"
                               "请用 POST /api/v1/subjects/search"),
    page: int = Query(1, ge=1, le=10_000),
    per_page: int = Query(20, ge=1, le=service.MAX_PER_PAGE),
    principal: Principal = Depends(require("public.read")),
) -> Response:
    return _search(q, page, per_page, resident_ids=False)


@router.post("/subjects/search", response_model=SubjectSearchOut, summary="查询信用主体（可按公民身份号码）")
async def search_subjects_by_body(
    query: SubjectSearchIn = Body(...),
    principal: Principal = Depends(require("public.read")),
) -> Response:
    """As `GET /api/v1/subjects`, with the query in the request body: the way to find a natural
    person by resident id, which must not appear in a URL."""
    return _search(query.q, query.page, query.per_page, resident_ids=True)


def _search(q: str, page: int, per_page: int, *, resident_ids: bool) -> Response:
    # one statement outside a transaction, on the event loop (see subject_detail)
    with db.read_only() as connection:
        result = service.search(connection, q, page, per_page, resident_ids=resident_ids)
    body = SubjectSearchOut(
        query=result.query,
        total=result.total,
        page=result.page,
        per_page=result.per_page,
        items=[
            SubjectItemOut(name=h.name, kind=h.kind, uscc=h.uscc, masked_id=h.masked_id,
                           area_code=h.area_code, url=_url(h))
            for h in result.items
        ],
    )
    return Response(body.model_dump_json(), media_type="application/json")


@router.get(
    "/subjects/{code}",
    response_model=SubjectDetailOut,
    responses={404: {"model": ErrorOut, "description": "没有这个信用主体"}, **_URL_HAS_RESIDENT_ID},
    summary="信用主体及其公示中的信息",
)
async def subject_detail(
    code: str = Path(description="统一社会信用代码、组织机构代码、工商注册号，"
                                 "或自然人的 ZRR-编号（不得是公民身份号码）"),
    principal: Principal = Depends(require("public.read")),
) -> Response:
    # The hot path of the public API: one statement outside a transaction (no BEGIN and
    # ROLLBACK round trips), run on the event loop rather than in the thread pool (it takes
    # about a millisecond), and serialised by Pydantic's core without FastAPI re-validating it.
    with db.read_only() as connection:
        found, records = service.public_profile(connection, code, clock.today())
    hit = found.hit
    detail = SubjectDetailOut(
        name=hit.name,
        kind=hit.kind,
        kind_label=hit.kind_label,
        uscc=hit.uscc,
        masked_id=hit.masked_id,
        reg_no=hit.reg_no,
        org_code=hit.org_code,
        area_code=hit.area_code,
        url=_url(hit),
        former_names=found.former_names,
        records=[_record_out(r) for r in records],
    )
    return Response(detail.model_dump_json(), media_type="application/json")


def _record_out(r: PublicRecord) -> PublicRecordOut:
    return PublicRecordOut(
        kind=r.kind,
        kind_label=r.kind_label,
        decision_no=r.decision_no,
        decision_date=r.decision_date,
        authority_name=r.authority_name,
        authority_uscc=r.authority_uscc,
        content=r.content,
        legal_basis=r.legal_basis or None,
        penalty_class=r.penalty_class,
        publication_end=r.publication_end,
        status=r.status.value,
        status_label=r.status_label,
        fields=r.fields,
    )
