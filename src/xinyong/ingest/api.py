"""Batch intake over HTTP: department systems submit 双公示 files and read their quality reports."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.access import Principal, department_scope, ensure_department, require
from xinyong.accounts.auth import verify_csrf
from xinyong.core.errors import FileUnreadable, XinyongError
from xinyong.ingest import service as ingest
from xinyong.ingest.schemas import BatchListOut, BatchOut, CodeQuality, IngestReport
from xinyong.web.deps import DbSession, RowId, client_ip, download_headers

router = APIRouter()
batches = APIRouter(prefix="/batches", tags=["批次（数据报送）"])
quality = APIRouter(prefix="/quality", tags=["归集质量"])

_ERROR = {"description": "错误说明", "content": {"application/json": {"example": {
    "error": {"code": "file_unreadable",
              "message": "文件是二进制内容，不是 CSV、Excel（XLSX、XLS）、JSON 或 JSON Lines 文件。"}}}}}


class UnreadableUpload(XinyongError):
    status_code = 422
    code = "file_unreadable"


def _upload_limit(request: Request) -> int:
    return ingest.upload_limit(request.headers.get("content-length"))


# The format of a file sent as the request body itself, by its Content-Type
_BODY_SUFFIXES = {
    "application/json": ".json", "application/x-ndjson": ".jsonl", "application/jsonl": ".jsonl",
    "application/jsonlines": ".jsonl", "application/x-jsonlines": ".jsonl", "text/csv": ".csv",
    "text/plain": ".csv", "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
}
_BODY_TYPES = {"application/json": {"schema": {}},
               "application/x-ndjson": {"schema": {"type": "string"}},
               "text/csv": {"schema": {"type": "string"}}}


async def _body_file(
    request: Request,
    file_name: str | None = Query(None, max_length=200,
                                  description="文件作为请求体发送时的文件名（列在批次中），如 2026年11月行政处罚.json"),
    limit: int = Depends(_upload_limit),
) -> AsyncIterator[tuple[Path, str] | None]:
    """A file sent as the request body itself (its Content-Type saying the format), spooled like
    an upload; None for a form upload or an empty body. The spooled file is deleted when the
    request is done, whatever happened to it."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type.startswith("multipart/") or content_type == "application/x-www-form-urlencoded":
        yield None
        return
    name = ingest.upload_name(file_name)
    if not Path(name).suffix:  # the format the Content-Type says, for the readers
        name += _BODY_SUFFIXES.get(content_type, "")
    spool = ingest.Spool(name, limit_bytes=limit)
    try:
        async for chunk in request.stream():
            spool.write(chunk)
    except BaseException:
        spool.discard()
        raise
    if not spool.written:
        spool.discard()
        yield None
        return
    path = spool.finish()
    try:
        yield path, name
    finally:
        path.unlink(missing_ok=True)


@batches.post(
    "",
    status_code=201,
    response_model=IngestReport,
    summary="提交一个双公示文件（一个批次）",
    description=(
        "上传一个行政处罚或行政许可文件（CSV、Excel（XLSX、XLS）、JSON 或 JSON Lines）：multipart 表单字段 `file`，"
        "或把文件内容直接作为请求体发送（`Content-Type: application/json`、`application/x-ndjson`、`text/csv`……，"
        "可用参数 `file_name` 给出文件名）。"
        "平台逐行校验并入库，返回质量报告：新增、更正、未变化、未通过的行数，以及每个错误的行号、列名、"
        "错误代码和中文说明。未通过的行不入库，其余行照常保存；同一文件重复提交不会产生重复记录。\n\n"
        "认证：部门系统使用请求头 `X-API-Key`（批次归属该密钥所属部门）；已登录的部门报送人员也可使用。"
        "文件大小上限由平台配置（默认 50 MB），超过时返回 413。文件完全无法读取（格式不符、"
        "编码无法识别、缺少必填列）时返回 422，且不保存任何数据。"
    ),
    responses={401: _ERROR, 403: _ERROR, 413: _ERROR, 422: _ERROR},
    openapi_extra={"requestBody": {"content": _BODY_TYPES}},
)
def submit_batch(
    request: Request,
    kind: Literal["penalties", "licences"] = Query(description="数据类型：penalties 行政处罚，licences 行政许可"),
    principal: Principal = Depends(require("batch.submit")),
    limit: int = Depends(_upload_limit),
    _csrf: None = Depends(verify_csrf),
    file: UploadFile | str | None = File(
        None, description="双公示文件：CSV（UTF-8/GBK/GB18030）、XLSX、XLS、JSON 或 JSON Lines"),
    body: tuple[Path, str] | None = Depends(_body_file),
    session: Session = DbSession,
) -> Response:
    scope = department_scope(principal)
    department = accounts.get_department(session, scope) if scope is not None else None
    if isinstance(file, str) and file:  # a form field without a file name (curl -F 'file=<x.csv')
        display_name = ingest.upload_name(None)
        path = ingest.spool_upload(io.BytesIO(_field_bytes(file)), display_name, limit_bytes=limit)
    elif file:  # an uploaded file (the form parser's own UploadFile class)
        display_name = ingest.upload_name(file.filename, file.headers.get("content-disposition"))
        path = ingest.spool_upload(file.file, display_name, limit_bytes=limit)
    elif body is not None:
        path, display_name = body
    else:
        raise UnreadableUpload(_nothing_received(request))
    try:
        report = ingest.ingest_file(session, path, kind, department_uscc=department.uscc if department else None,
                                    submitted_by=principal.actor, display_name=display_name)
    except FileUnreadable as exc:
        raise UnreadableUpload(exc.message) from exc
    finally:
        path.unlink(missing_ok=True)
    ingest.audit_submission(session, report, actor=principal.actor, ip=client_ip(request))
    # the full report is read back from the stored batch as it is sent: commit first
    session.commit()
    return _full_report(report, status_code=201, headers={"Location": f"/api/v1/batches/{report.batch_id}"})


@batches.get(
    "",
    response_model=BatchListOut,
    summary="列出批次（最新的在前）",
    description="部门只看到本部门的批次；信用办管理员和审计人员看到全部批次。",
    responses={401: _ERROR, 403: _ERROR},
)
def list_batches(
    kind: Literal["penalties", "licences"] | None = Query(None, description="只列出一种数据"),
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=1_000_000),
    principal: Principal = Depends(require("batch.read")),
    session: Session = DbSession,
) -> BatchListOut:
    listed = ingest.list_batches(session, department_id=department_scope(principal), kind=kind, limit=limit,
                                 offset=offset)
    return BatchListOut(limit=limit, offset=offset, items=[
        BatchOut(
            batch_id=b.batch.id, kind=ingest.RECORD_KIND_TO_KIND.get(b.batch.kind, b.batch.kind),
            file=b.batch.file_name, format=b.batch.file_format, received_at=b.batch.received_at.isoformat(),
            submitted_by=b.batch.submitted_by, department=b.department, rows_total=b.batch.rows_total,
            accepted=b.batch.accepted, corrected=b.batch.corrected, unchanged=b.batch.unchanged,
            rejected=b.batch.rejected, errors_count=b.errors, warnings_count=b.warnings,
            report_url=f"/api/v1/batches/{b.batch.id}",
            rejected_url=f"/api/v1/batches/{b.batch.id}/rejected.csv" if b.batch.rejected else None,
        )
        for b in listed
    ])


@batches.get(
    "/{batch_id}/rejected.csv",
    summary="下载一个批次未通过的行（CSV）",
    description="未通过校验的行，按文件原来的列名，后面加上行号、出错列、错误代码和错误说明；"
                "改正后可作为新文件重新提交。UTF-8（带 BOM，Excel 可直接打开）。",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}, 401: _ERROR, 403: _ERROR, 404: _ERROR},
)
def rejected_rows(request: Request, batch_id: RowId, principal: Principal = Depends(require("batch.read")),
                  session: Session = DbSession) -> Response:
    batch = ingest.get_batch(session, batch_id)
    ensure_department(principal, batch.department_id)
    ingest.audit_rejected_download(session, batch_id, actor=principal.actor, ip=client_ip(request), file_format="csv")
    headers = download_headers(f"批次{batch_id}_未通过的行.csv", f"batch{batch_id}_rejected.csv")
    return StreamingResponse(ingest.rejected_csv(ingest.rejected_table(batch_id)),
                             media_type="text/csv; charset=utf-8", headers=headers)


@batches.get(
    "/{batch_id}",
    response_model=IngestReport,
    summary="查询一个批次的质量报告",
    description="返回提交时生成的质量报告（计数、错误与警告明细、新登记的数据来源单位）。"
                "部门只能查询本部门的批次；信用办管理员和审计人员可查询全部批次。",
    responses={401: _ERROR, 403: _ERROR, 404: _ERROR},
)
def read_batch(batch_id: RowId, principal: Principal = Depends(require("batch.read")),
               session: Session = DbSession) -> Response:
    batch = ingest.get_batch(session, batch_id)
    ensure_department(principal, batch.department_id)
    return _full_report(ingest.batch_report(session, batch))


def _nothing_received(request: Request) -> str:
    """Why no file was found in a request, saying what it did send."""
    said = ("没有收到文件：请用 multipart 表单字段 file 上传，或把文件内容作为请求体发送"
            "（Content-Type 写明格式，如 application/json、text/csv）。")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded" and request.headers.get("content-length", "0") != "0":
        said += ("本次请求的 Content-Type 是 application/x-www-form-urlencoded"
                 "（curl --data-binary 不加 -H 时的默认值），请求体被当作表单而不是文件："
                 "请加上 -H 'Content-Type: text/csv'（或 application/json 等）。")
    elif content_type.startswith("multipart/"):
        said += "本次请求是 multipart 表单，但其中没有名为 file 的字段。"
    return said


def _field_bytes(value: str) -> bytes:
    """The bytes a client sent as a form field's value. The form parser decodes a value as
    UTF-8, or as Latin-1 (byte for byte) when it is not UTF-8 (GBK text, a workbook); this
    undoes either. Only a value of Latin-1 letters without any Chinese is ambiguous (taken as
    Latin-1): no 双公示 file is such a value."""
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw
    return value.encode("utf-8")


def _full_report(report: IngestReport, **options: Any) -> Response:
    """Every error and warning of a batch, streamed from the database (memory stays flat)."""
    chunks = (chunk.encode() for chunk in ingest.report_chunks(report))
    return StreamingResponse(chunks, media_type="application/json", **options)


@quality.get(
    "/codes",
    response_model=CodeQuality,
    summary="统一社会信用代码重错码情况",
    description="重码：同一代码在同一时期以不同名称出现（一码多名，concurrent 为 true 的计入），或同一名称对应"
                "不同代码的主体（一名多码）；自然人不在统计之内。错码：各部门在所选期间（按批次收到日期，含两端）"
                "报送的行中，因行政相对人代码不符合国家标准而被拒收的行。target 为本地区规则包中的重错码率目标"
                "（没有则为 null）。每个名单最多列出 limit 项，*_total 为全部数量。仅信用办管理员和审计人员可查询。",
    responses={401: _ERROR, 403: _ERROR},
)
def code_quality(
    since: dt.date | None = Query(None, description="收到日期自（YYYY-MM-DD）"),
    until: dt.date | None = Query(None, description="收到日期至（YYYY-MM-DD）"),
    limit: int = Query(200, ge=0, le=10_000, description="每个名单最多列出的项数"),
    principal: Principal = Depends(require("quality.read")), session: Session = DbSession,
) -> CodeQuality:
    return ingest.code_quality(session, since=since, until=until, limit=limit)


router.include_router(batches)
router.include_router(quality)
