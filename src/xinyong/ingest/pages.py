"""The department workbench: uploads, batches and their quality reports, records, credit office views."""

from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from xinyong.accounts import service as accounts
from xinyong.accounts.access import Principal, department_scope, ensure_department, require
from xinyong.accounts.auth import verify_csrf
from xinyong.catalogue.service import field_type_label, get_catalogue, template_csv, template_xlsx
from xinyong.core import audit, clock
from xinyong.core.config import get_settings
from xinyong.core.errors import FileUnreadable, NotFound, XinyongError
from xinyong.ingest import service as ingest
from xinyong.policy.service import get_policy_book
from xinyong.records import service as records
from xinyong.subjects.service import public_code
from xinyong.web.deps import DbSession, RowId, client_ip, download_headers, form_date, form_row_id
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)

PER_PAGE = 20
CODE_QUALITY_SHOWN = 200  # subjects of each duplicate list on the page; the download has all
VALENCE_LABELS = {"negative": "失信信息", "positive": "守信信息", "neutral": "中性信息"}


def _upload_limit(request: Request) -> int:
    return ingest.upload_limit(request.headers.get("content-length"))


def _own_department(session: Session, principal: Principal) -> Any:
    scope = department_scope(principal)
    return accounts.get_department(session, scope) if scope is not None else None


@router.get("/workbench")
def workbench(request: Request, department: str | None = Query(None),
              principal: Principal = Depends(require("batch.read")),
              session: Session = DbSession) -> Response:
    scope = department_scope(principal)
    departments = []
    selected = None
    if scope is None:
        departments = accounts.list_departments(session)
        selected = form_row_id(department)
    batches = ingest.list_batches(session, department_id=scope if scope is not None else selected)
    return render(request, "workbench/index.html", {
        "batches": batches, "departments": departments, "selected_department": selected,
        "department": _own_department(session, principal),
    })


@router.get("/workbench/upload")
def upload_form(request: Request, principal: Principal = Depends(require("batch.submit")),
                session: Session = DbSession) -> Response:
    return _upload_page(request, session, principal)


def _upload_page(request: Request, session: Session, principal: Principal, *, error: str | None = None,
                 kind: str | None = None, status_code: int = 200) -> Response:
    own = _own_department(session, principal)
    return render(request, "workbench/upload.html", {
        "department": own, "departments": [] if own else accounts.list_departments(session),
        "max_mb": get_settings().upload_max_mb, "error": error, "kind": kind,
    }, status_code=status_code)


@router.post("/workbench/upload")
def upload_submit(
    request: Request,
    limit: int = Depends(_upload_limit),
    principal: Principal = Depends(require("batch.submit")),
    _csrf: None = Depends(verify_csrf),
    kind: str = Form(...),
    file: UploadFile = File(...),
    department_id: str | None = Form(None),
    session: Session = DbSession,
) -> Response:
    if kind not in ingest.KINDS:
        return _upload_page(request, session, principal, error="请选择数据类型：行政处罚或行政许可。",
                            status_code=422)
    department = _own_department(session, principal)
    if department is None and (chosen := form_row_id(department_id)) is not None:
        department = accounts.get_department(session, chosen)
    display_name = ingest.upload_name(file.filename, file.headers.get("content-disposition"))
    path = ingest.spool_upload(file.file, display_name, limit_bytes=limit)
    try:
        report = ingest.ingest_file(session, path, kind, department_uscc=department.uscc if department else None,
                                    submitted_by=principal.actor, display_name=display_name)
    except FileUnreadable as exc:
        session.rollback()
        return _upload_page(request, session, principal, error=exc.message, kind=kind, status_code=422)
    finally:
        path.unlink(missing_ok=True)
    ingest.audit_submission(session, report, actor=principal.actor, ip=client_ip(request))
    return RedirectResponse(f"/workbench/batches/{report.batch_id}", status_code=303)



def _batch_for(session: Session, principal: Principal, batch_id: int) -> Any:
    batch = ingest.get_batch(session, batch_id)
    ensure_department(principal, batch.department_id)
    return batch


@router.get("/workbench/batches/{batch_id}")
def batch_page(request: Request, batch_id: RowId, principal: Principal = Depends(require("batch.read")),
               session: Session = DbSession) -> Response:
    batch = _batch_for(session, principal, batch_id)
    report = ingest.batch_report(session, batch)
    return render(request, "workbench/batch.html", {
        "batch": batch, "report": report,
        "kind_label": ingest.KIND_LABELS.get(report.kind, report.kind),
        "department": accounts.get_department(session, batch.department_id) if batch.department_id else None,
    })


@router.get("/workbench/batches/{batch_id}/report.json")
def report_json(batch_id: RowId, principal: Principal = Depends(require("batch.read")),
                session: Session = DbSession) -> Response:
    batch = _batch_for(session, principal, batch_id)
    chunks = (chunk.encode() for chunk in ingest.report_chunks(ingest.batch_report(session, batch)))
    return StreamingResponse(chunks, media_type="application/json",
                             headers=download_headers(f"批次{batch_id}_质量报告.json", "report.json"))


@router.get("/workbench/batches/{batch_id}/rejected.csv")
def rejected_csv(request: Request, batch_id: RowId, principal: Principal = Depends(require("batch.read")),
                 session: Session = DbSession) -> Response:
    _batch_for(session, principal, batch_id)
    ingest.audit_rejected_download(session, batch_id, actor=principal.actor, ip=client_ip(request), file_format="csv")
    return StreamingResponse(ingest.rejected_csv(ingest.rejected_table(batch_id)),
                             media_type="text/csv; charset=utf-8",
                             headers=download_headers(f"批次{batch_id}_未通过的行.csv", "rejected.csv"))


@router.get("/workbench/batches/{batch_id}/rejected.xlsx")
def rejected_xlsx(request: Request, batch_id: RowId, principal: Principal = Depends(require("batch.read")),
                  session: Session = DbSession) -> Response:
    _batch_for(session, principal, batch_id)
    ingest.audit_rejected_download(session, batch_id, actor=principal.actor, ip=client_ip(request), file_format="xlsx")
    handle, name = tempfile.mkstemp(prefix="xinyong-rejected-", suffix=".xlsx")
    os.close(handle)
    path = Path(name)
    try:
        ingest.rejected_xlsx(ingest.rejected_table(batch_id), path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return FileResponse(path, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers=download_headers(f"批次{batch_id}_未通过的行.xlsx", "rejected.xlsx"),
                        background=BackgroundTask(path.unlink, missing_ok=True))


@router.get("/workbench/records")
def records_page(request: Request, kind: str | None = Query(None), q: str | None = Query(None),
                 page: int = Query(1, ge=1, le=100_000), principal: Principal = Depends(require("batch.read")),
                 session: Session = DbSession) -> Response:
    kind = kind if kind in ("penalty", "licence") else None
    rows, total = records.search_records(session, today=clock.today(), department_id=department_scope(principal),
                                         kind=kind, q=q, page=page, per_page=PER_PAGE)
    return render(request, "workbench/records.html", {
        "rows": rows, "total": total, "kind": kind, "q": q, "page": page,
        "pages": max(1, math.ceil(total / PER_PAGE)), "department": _own_department(session, principal),
    })


def _record_for(session: Session, principal: Principal, record_id: int) -> Any:
    record = records.find_record(session, record_id)
    ensure_department(principal, record.department_id)
    return record


MESSAGES = {"revoked": "记录已撤销。", "corrected": "更正已保存为新版本。"}


@router.get("/workbench/records/{record_id}")
def record_page(request: Request, record_id: RowId, done: str | None = Query(None),
                principal: Principal = Depends(require("batch.read")),
                session: Session = DbSession) -> Response:
    record = _record_for(session, principal, record_id)
    item = get_catalogue().item(record.kind)
    today = clock.today()
    # the page shows the record's government fields (证件类型, masked ids…): a read to account for
    audit.record(session, actor=principal.actor, action=audit.READ_RECORD, target_type="record",
                 target_id=str(record.id), subject_id=record.subject_id, ip=client_ip(request))
    return render(request, "workbench/record.html", {
        "record": records.record_detail(session, record, today),
        "parties": records.other_parties(session, record, today),
        "labels": {f.key: f.label for f in item.fields}, "message": MESSAGES.get(done or ""),
    })


@router.post("/workbench/records/{record_id}/revoke")
def revoke(request: Request, record_id: RowId, reason: str = Form(""),
           principal: Principal = Depends(require("record.change")), _csrf: None = Depends(verify_csrf),
           session: Session = DbSession) -> Response:
    _record_for(session, principal, record_id)
    records.revoke_record(session, record_id, reason=reason, actor=principal.actor, ip=client_ip(request))
    return RedirectResponse(f"/workbench/records/{record_id}?done=revoked", status_code=303)


def _correct_page(request: Request, session: Session, record: Any, *, values: dict[str, str],
                  reason: str | None = None, error: str | None = None, status_code: int = 200) -> Response:
    return render(request, "workbench/correct.html", {
        "record": record, "fields": ingest.correction_fields(record.kind), "values": values,
        "reason": reason, "error": error,
    }, status_code=status_code)


@router.get("/workbench/records/{record_id}/correct")
def correct_form(request: Request, record_id: RowId, principal: Principal = Depends(require("record.change")),
                 session: Session = DbSession) -> Response:
    record = _record_for(session, principal, record_id)
    if record.revoked_at is not None:
        raise records.RecordAlreadyRevoked("已撤销的记录不能更正")
    # the form holds the record's values with personal ids in clear, for the officer to correct
    audit.record(session, actor=principal.actor, action=audit.READ_RECORD_FOR_CORRECTION, target_type="record",
                 target_id=str(record.id), subject_id=record.subject_id, ip=client_ip(request))
    return _correct_page(request, session, record, values=records.current_values(session, record))


async def _form_fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


@router.post("/workbench/records/{record_id}/correct")
def correct_submit(request: Request, record_id: RowId, principal: Principal = Depends(require("record.change")),
                   _csrf: None = Depends(verify_csrf), form: dict[str, str] = Depends(_form_fields),
                   session: Session = DbSession) -> Response:
    record = _record_for(session, principal, record_id)
    reason = form.pop("reason", "")
    try:
        ingest.correct_record(session, record_id, changes=form, reason=reason, actor=principal.actor,
                              ip=client_ip(request))
    except XinyongError as exc:
        if exc.code not in ("reason_required", "nothing_changed", "correction_rejected"):
            raise
        session.rollback()
        values = records.current_values(session, record) | form
        return _correct_page(request, session, record, values=values, reason=reason, error=exc.message,
                             status_code=422)
    return RedirectResponse(f"/workbench/records/{record_id}?done=corrected", status_code=303)


@router.get("/workbench/quality")
def quality(request: Request, principal: Principal = Depends(require("quality.read")),
            session: Session = DbSession) -> Response:
    return render(request, "workbench/quality.html", {"rows": ingest.quality_overview(session)})


def _period(since: str, until: str) -> tuple[dt.date | None, dt.date | None, list[str]]:
    """The dates of a period typed into a form; a date that cannot be read is ignored and said."""
    problems: list[str] = []
    start, end = form_date(since.strip(), "起始日期", problems), form_date(until.strip(), "截止日期", problems)
    if start and end and start > end:
        problems.append(f"起始日期 {start} 晚于截止日期 {end}，已互换")
        start, end = end, start
    return start, end, problems


@router.get("/workbench/quality/codes")
def code_quality(request: Request, since: str = Query("", max_length=20), until: str = Query("", max_length=20),
                 principal: Principal = Depends(require("quality.read")), session: Session = DbSession) -> Response:
    start, end, problems = _period(since, until)
    report = ingest.code_quality(session, since=start, until=end, limit=CODE_QUALITY_SHOWN)
    return render(request, "workbench/quality_codes.html", {
        "report": report, "since": start, "until": end, "problems": problems, "shown": CODE_QUALITY_SHOWN,
        "public_code": public_code,
    })


@router.get("/workbench/quality/codes.xlsx")
def code_quality_xlsx(since: str = Query("", max_length=20), until: str = Query("", max_length=20),
                      principal: Principal = Depends(require("quality.read")),
                      session: Session = DbSession) -> Response:
    start, end, _problems = _period(since, until)
    report = ingest.code_quality(session, since=start, until=end, limit=None)
    handle, name = tempfile.mkstemp(prefix="xinyong-codes-", suffix=".xlsx")
    os.close(handle)
    path = Path(name)
    try:
        ingest.code_quality_xlsx(report, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return FileResponse(path, media_type=_TEMPLATE_MEDIA["xlsx"],
                        headers=download_headers(f"重错码情况_{report.on}.xlsx", "code_quality.xlsx"),
                        background=BackgroundTask(path.unlink, missing_ok=True))


@router.get("/workbench/catalogue")
def catalogue(request: Request, principal: Principal = Depends(require("catalogue.read"))) -> Response:
    cat = get_catalogue()
    return render(request, "workbench/catalogue.html", {
        "items": list(cat.items.values()), "code_tables": cat.code_tables,
        "type_label": field_type_label, "valence_labels": VALENCE_LABELS,
    })


_TEMPLATE_MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   "csv": "text/csv; charset=utf-8"}


@router.get("/workbench/catalogue/{item_key}/template.{suffix}")
def template(item_key: str, suffix: str, principal: Principal = Depends(require("catalogue.read"))) -> Response:
    """The 双公示 template of a catalogue item: the header row, ready to fill in."""
    cat = get_catalogue()
    if suffix not in _TEMPLATE_MEDIA:
        raise NotFound("模板只有 .xlsx 和 .csv 两种格式")
    item = cat.item(item_key)
    body = template_xlsx(cat, item) if suffix == "xlsx" else template_csv(item)
    return Response(body, media_type=_TEMPLATE_MEDIA[suffix],
                    headers=download_headers(f"{item.title}报送模板.{suffix}", f"{item.key}_template.{suffix}"))


@router.get("/workbench/policies")
def policies(request: Request, principal: Principal = Depends(require("catalogue.read"))) -> Response:
    today, jurisdiction, book = clock.today(), get_settings().jurisdiction, get_policy_book()
    return render(request, "workbench/policies.html", {
        "rules": book.rules_in_force(today, jurisdiction), "on": today, "jurisdiction": jurisdiction,
        "other_areas": book.other_jurisdictions(today, jurisdiction),
    })
