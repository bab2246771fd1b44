"""Error answers: JSON for the API, Chinese pages for people."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from xinyong.core.errors import PlatformFault, XinyongError

log = logging.getLogger("xinyong.web")

TITLES = {400: "请求有误", 401: "请先登录", 403: "无权访问", 404: "页面不存在", 405: "不支持的操作",
          409: "状态冲突", 413: "文件太大", 422: "提交的内容有误", 429: "访问过于频繁", 500: "服务器内部错误",
          503: "服务暂不可用"}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def error_response(
    request: Request, status: int, message: str, code: str, headers: dict[str, str] | None = None
) -> Response:
    if wants_json(request):
        return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)
    if status == 401:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    from xinyong.web.templating import render

    response = render(request, "error.html", {"status": status, "title": TITLES.get(status, "出错了"),
                                               "message": message}, status_code=status)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def too_many_requests(request: Request, retry_after: int) -> Response:
    return error_response(request, 429, f"您的访问过于频繁，请 {retry_after} 秒后再试。", "rate_limited",
                          {"Retry-After": str(retry_after)})


def install(app: FastAPI) -> None:
    @app.exception_handler(XinyongError)
    async def _domain(request: Request, exc: XinyongError) -> Response:
        return error_response(request, exc.status_code, exc.message, exc.code)

    @app.exception_handler(PlatformFault)
    async def _fault(request: Request, exc: PlatformFault) -> Response:
        # what the operator must do is logged where the fault was found (e.g. core.audit)
        return error_response(request, exc.status_code, exc.message, exc.code)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = "您要找的页面不存在。" if exc.status_code == 404 else _chinese(exc.detail, exc.status_code)
        # the framework's headers go along: a 405 says which methods the URL takes (Allow)
        return error_response(request, exc.status_code, message, f"http_{exc.status_code}",
                              dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        form = _is_form(request)
        problems = "；".join(_problem(e, form=form) for e in exc.errors()[:5])
        return error_response(request, 422, f"提交的内容有误：{problems}", "invalid_request")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        from xinyong.web.observability import loggable_path

        log.exception("unhandled error on %s %s", request.method, loggable_path(request.url.path))
        return error_response(request, 500, "服务器内部错误，已记录，请稍后再试。", "internal_error")


# What the web framework's own refusals say (in English), as users are told it
_LIBRARY_DETAILS = (
    ("exceeded maximum size", "表单中的一个字段超过了 1 MB 的上限：文件请作为表单的文件字段上传（带文件名，"
                              "如 curl -F 'file=@文件名'），或把文件内容直接作为请求体发送。"),
    ("Too many files", "表单中的文件太多。"),
    ("Too many fields", "表单中的字段太多。"),
    ("Missing boundary", "multipart 请求的 Content-Type 缺少 boundary 参数。"),
    ('"name" must be provided', "multipart 表单的一部分缺少字段名（Content-Disposition 的 name）。"),
    ("error parsing the body", "请求体无法解析：请检查 Content-Type 与内容是否一致。"),
)


def _chinese(detail: object, status: int) -> str:
    """An HTTP refusal's message: ours are Chinese already; the framework's are put in Chinese
    (the original kept in brackets when there is no translation, for the client's developers)."""
    title = TITLES.get(status, "出错了")
    if not isinstance(detail, str) or not detail:
        return title
    if not detail.isascii():
        return detail
    for phrase, said in _LIBRARY_DETAILS:
        if phrase in detail:
            return said
    return f"{title}（{detail}）"


_PLACES = {"query": "查询参数", "path": "路径参数", "header": "请求头", "cookie": "Cookie"}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# The whole body is no JSON object (a form or an array sent to a route that reads one)
_NOT_AN_OBJECT = ("model_attributes_type", "model_type", "dict_type")


def _is_form(request: Request) -> bool:
    """Whether the request's body is a form (its fields are 表单字段), by its Content-Type; any
    other body — JSON, what the API reads — has 请求体字段."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower() in FORM_TYPES


def _problem(error: dict[str, object], *, form: bool) -> str:
    """One request validation error in Chinese: where (查询参数 kind, 表单字段 file, 请求体字段 q)
    and what is wrong."""
    loc = [str(p) for p in error.get("loc", ())]  # type: ignore[attr-defined]
    kind = str(error.get("type", ""))
    body = loc[:1] == ["body"]
    if body and kind == "json_invalid":  # loc[1] is where the parser stopped (from 0), not a field
        stop = loc[1] if loc[1:] and loc[1].isdigit() else "0"
        return f"请求体不是有效的 JSON（第 {int(stop) + 1} 个字符附近有误）"
    if body and kind in _NOT_AN_OBJECT and len(loc) == 1:  # a route reading a JSON object got none
        return "请求体应为 JSON 对象（Content-Type: application/json）"
    if body and not form and len(loc) == 1:  # the body as a whole
        return "缺少请求体" if kind == "missing" else f"请求体：{error.get('msg', '')}"
    places = {**_PLACES, "body": "表单字段" if form else "请求体字段"}
    place = places.get(loc[0], loc[0]) if loc else "请求"
    name = ".".join(loc[1:])
    where = f"{place} {name}".strip()
    ctx = error.get("ctx") or {}
    assert isinstance(ctx, dict)
    if kind == "missing":
        if body and form:
            return f"缺少{where}（文件须以 multipart/form-data 表单上传）"
        return f"缺少{where}"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace(" or ", " 或 ")
        return f"{where}的取值无效，应为 {expected}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{where}应为整数"
    if kind in ("greater_than_equal", "greater_than"):
        return f"{where}应不小于 {ctx.get('ge', ctx.get('gt', ''))}"
    if kind in ("less_than_equal", "less_than"):
        return f"{where}应不大于 {ctx.get('le', ctx.get('lt', ''))}"
    if kind == "string_too_short":
        return f"{where}至少 {ctx.get('min_length', '')} 个字符"
    if kind == "string_too_long":
        return f"{where}至多 {ctx.get('max_length', '')} 个字符"
    return f"{where}：{error.get('msg', '')}"


class RejectNulBytes:
    """Refuses URLs carrying a NUL character (%00): no page needs one, and PostgreSQL text cannot
    hold it, so it would otherwise surface as a database error deep inside a handler."""

    def __init__(self, app):  # type: ignore[no-untyped-def]
        self.app = app

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            raw = scope.get("raw_path") or scope.get("path", "").encode()
            query = scope.get("query_string", b"")
            if b"%00" in raw or b"\x00" in raw or b"%00" in query or b"\x00" in query:
                from starlette.requests import Request

                response = error_response(Request(scope), 400, "请求中含有不允许的字符（NUL）。", "nul_character")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class UploadBodyLimit:
    """Refuses an upload (a multipart body) larger than the upload limit as soon as that is known:
    at once when its declared Content-Length says so, otherwise when the bytes received pass the
    limit. Without it a body sent without a length (chunked) would be received and spooled to disk
    whole before any handler could look at its size."""

    def __init__(self, app):  # type: ignore[no-untyped-def]
        self.app = app

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http" or not _is_multipart(scope):
            await self.app(scope, receive, send)
            return
        from xinyong.ingest.service import UPLOAD_ENVELOPE, UploadTooLarge, upload_limit

        declared = dict(scope["headers"]).get(b"content-length", b"").decode("latin-1")
        try:
            limit = upload_limit(declared)
        except UploadTooLarge as exc:
            await _refuse(scope, receive, send, exc)
            return
        received = 0
        refused: UploadTooLarge | None = None

        async def counting_receive():  # type: ignore[no-untyped-def]
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit + UPLOAD_ENVELOPE:
                    refused = UploadTooLarge(limit)
                    raise refused
            return message

        async def guarded_send(message):  # type: ignore[no-untyped-def]
            if refused is None:  # what the app answers to the broken-off body is replaced
                await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if refused is None:
                raise
        if refused is not None:
            await _refuse(scope, receive, send, refused)


def _is_multipart(scope) -> bool:  # type: ignore[no-untyped-def]
    content_type = dict(scope["headers"]).get(b"content-type", b"")
    return content_type.lower().startswith(b"multipart/")


async def _refuse(scope, receive, send, exc: XinyongError) -> None:  # type: ignore[no-untyped-def]
    from starlette.requests import Request

    response = error_response(Request(scope), exc.status_code, exc.message, exc.code,
                              {"Connection": "close"})
    await response(scope, receive, send)
