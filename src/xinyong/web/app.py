"""Assembles the FastAPI application from every module's `api.py` (JSON) and `pages.py` (HTML)."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

import xinyong
from xinyong.web import errors
from xinyong.web.head import HeadAsGet
from xinyong.web.observability import ObservabilityMiddleware, install_log_masking
from xinyong.web.observability import router as health_router
from xinyong.web.ratelimit import RateLimitMiddleware
from xinyong.web.security import SecurityHeaders

log = logging.getLogger("xinyong.web")

# Modules whose routers are mounted, in this order (the public subject routes first: they are matched
# most often). A module contributes `api.router`
# (mounted under /api/v1) and/or `pages.router` (HTML), when it has them.
MODULES = ("subjects", "accounts", "records", "ingest", "policy", "catalogue", "core", "web")

API_DESCRIPTION = """\
信用 Xinyong 公共信用信息平台的接口。

`GET /api/v1/subjects?q=…`、`POST /api/v1/subjects/search` 与 `GET /api/v1/subjects/{code}` 是供其他系统
使用的稳定接口：只返回公示期内的公开信息，个人证件号码一律脱敏。公民身份号码不得出现在网址中（含路径和
查询参数，否则返回 400 `resident_id_in_url`）：按号码查询自然人请用 `POST /api/v1/subjects/search`，
自然人以结果中的 `ZRR-编号` 访问。部门系统用 API 密钥（请求头 `X-API-Key`）提交批次。
"""


def create_app() -> FastAPI:
    app = FastAPI(
        title="信用 Xinyong API",
        version=xinyong.__version__,
        description=API_DESCRIPTION,
        docs_url=None,  # served below from our own copy of Swagger UI, not FastAPI's CDN default
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    errors.install(app)
    install_log_masking()
    app.include_router(health_router)
    for module in MODULES:
        for part, prefix in (("api", "/api/v1"), ("pages", "")):
            try:
                mod = importlib.import_module(f"xinyong.{module}.{part}")
            except ModuleNotFoundError as exc:
                if exc.name != f"xinyong.{module}.{part}":
                    raise
                continue
            app.include_router(mod.router, prefix=prefix)
    app.mount("/static", StaticFiles(directory=Path(__file__).with_name("static")), name="static")

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        # Swagger UI vendored from npm by scripts/vendor.sh: no CDN at run time
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "", title=f"{app.title} — 接口文档",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css", swagger_favicon_url="data:,")

    app.add_middleware(HeadAsGet)  # innermost: the middlewares outside it see the HEAD
    app.add_middleware(errors.UploadBodyLimit)
    app.add_middleware(errors.RejectNulBytes)
    app.add_middleware(RateLimitMiddleware)
    app.add_middleware(ObservabilityMiddleware)
    app.add_middleware(SecurityHeaders)
    return app
