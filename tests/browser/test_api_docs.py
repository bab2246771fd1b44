"""The API documentation page and the platform's security headers, in real Chromium."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect

from browser.liveserver import LiveServer

pytestmark = pytest.mark.browser


def test_api_docs_load_nothing_from_another_site(page: Page, live_server: LiveServer) -> None:
    """Swagger UI used to come from cdn.jsdelivr.net (unpinned, without integrity, on the origin
    of the session cookie); it is served from the platform's own copy now."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/api/docs")
    expect(page.get_by_text("信用 Xinyong API").first).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/subjects/search").first).to_be_visible()
    own = urlsplit(live_server.url).netloc
    foreign = [url for url in requested if not url.startswith("data:") and urlsplit(url).netloc != own]
    assert foreign == [] and any("swagger-ui-bundle.js" in url for url in requested)


def test_pages_cannot_be_framed_by_another_site(live_server: LiveServer) -> None:
    for path in ("/", "/login", "/api/docs", "/api/v1/subjects?q=有限公司"):
        headers = httpx.get(f"{live_server.url}{path}", timeout=30).headers
        assert headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "same-origin"
        assert "server" not in headers
