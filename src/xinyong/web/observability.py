"""Structured JSON logs, Prometheus metrics, and the health endpoints."""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
import uuid
from urllib.parse import parse_qsl

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xinyong.core import clock, db
from xinyong.core.errors import DatabaseNotReady
from xinyong.core.ids import is_old_ric, is_valid_ric, mask_resident_ids, mask_ric, normalize_code

REQUESTS = Counter("xinyong_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "xinyong_http_request_seconds", "HTTP request latency", ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
access_log = logging.getLogger("xinyong.access")
# Loggers that write request paths and query strings (ours, and Uvicorn's access and error logs,
# for when the server is run by `uvicorn` with its own logging). A filter on a logger applies to
# whatever handlers are attached, test capture included; ``configure_logging`` also puts one on
# its handler, for every other logger.
PATH_LOGGERS = ("xinyong.access", "xinyong.web", "uvicorn.access", "uvicorn.error")


def masked(text: str) -> str:
    """``text`` with every resident id in it masked, for a log line."""
    return mask_resident_ids(text)[0]


def _masked_part(text: str) -> str:
    """A path segment or a query value, masked: also an id the request spelt in a way free text
    does not (2204 0219981026 622X, an old id as 3301 0277 0707 123), since the platform reads
    such a value as a code."""
    if 15 <= len(text) <= 40 and (is_valid_ric(code := normalize_code(text)) or is_old_ric(code)):
        return mask_ric(text)
    return masked(text)


def loggable_path(path: str) -> str:
    """A request path for a log line: its segments masked."""
    return "/".join(_masked_part(segment) for segment in path.split("/"))


def loggable_query(query: bytes) -> str:
    """The query string decoded (so that an id sent percent-encoded, or in full-width digits, is
    found), its values masked."""
    pairs = parse_qsl(query.decode("utf-8", "replace"), keep_blank_values=True)
    return "&".join(f"{masked(key)}={_masked_part(value)}" for key, value in pairs)


def _masked_value(value: object) -> object:
    if isinstance(value, str):
        return masked(value)
    if isinstance(value, dict):
        return {k: _masked_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_masked_value(v) for v in value)
    return value


class MaskResidentIds(logging.Filter):
    """Masks resident ids in a log record — its message and arguments, its ``fields``, its
    traceback — so that no log line holds one in clear (a URL, a query string, an exception's
    message). Arguments keep their shape: Uvicorn's access formatter unpacks them."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = masked(str(record.msg))  # what getMessage would make of it
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            # (client, method, path with query string as sent, HTTP version, status): decoded and
            # masked as our access log does, since the raw query string may be percent-encoded
            client, method, full_path, version, status = record.args
            if isinstance(full_path, str):
                path, _, query = full_path.partition("?")
                full_path = loggable_path(path) + (f"?{loggable_query(query.encode())}" if query else "")
            record.args = (client, method, full_path, version, status)
        elif isinstance(record.args, (tuple, dict)):
            record.args = _masked_value(record.args)  # type: ignore[assignment]
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = _masked_value(fields)
        if record.exc_info and not record.exc_text:
            # formatters use exc_text when it is set, so the masked traceback is what they write
            record.exc_text = masked("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        if record.stack_info:
            record.stack_info = masked(record.stack_info)
        return True


def install_log_masking() -> None:
    """Puts the masking filter on the loggers that write paths (once)."""
    for name in PATH_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskResidentIds) for f in logger.filters):
            logger.addFilter(MaskResidentIds())


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": clock.now().isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_text:
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(MaskResidentIds())  # every logger's lines, not only PATH_LOGGERS'
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).disabled = True


class ObservabilityMiddleware:
    """Times every request, counts it by route template, and writes one JSON access-log line (the
    path and the query string with resident ids masked)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}
        request_id = uuid.uuid4().hex[:16]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            path = scope.get("path", "")
            if path.startswith("/api/v1/") and not template.startswith("/api/"):
                template = "/api/v1" + template  # included routers report their path without prefix
            method = scope.get("method", "")
            REQUESTS.labels(method, template, str(status["code"])).inc()
            LATENCY.labels(method, template).observe(elapsed)
            if template != "/metrics":
                fields = {"request_id": request_id, "method": method, "path": loggable_path(path)}
                if query := scope.get("query_string", b""):
                    fields["query"] = loggable_query(query)
                fields.update(route=template, status=status["code"], ms=round(elapsed * 1000, 2))
                access_log.info("request", extra={"fields": fields})


router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz() -> Response:
    """The database is reachable and at the current migration, and the policy packs load."""
    from xinyong.policy.service import PolicyInvalid, get_policy_book

    try:
        db.ensure_ready()
        get_policy_book()
    except (DatabaseNotReady, PolicyInvalid) as exc:
        return JSONResponse({"status": "not_ready", "reason": exc.message}, status_code=503)
    return JSONResponse({"status": "ready"})


@router.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
