"""Browser tests: real Chromium against a real ``xinyong serve`` on a fresh PostgreSQL database.

The server is started once per pytest process (per xdist worker, with its own database and port).
A missing Chromium or PostgreSQL fails the tests; they are never skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from browser.liveserver import LiveServer, LiveServerError, launch_chromium, start_live_server


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: end-to-end tests in headless Chromium against a live server")


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    try:
        server = start_live_server(prefix=f"xinyong_browser_{worker}", subjects=200)
    except LiveServerError as exc:  # a missing server or a failed start is a failure, never a skip
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        try:
            chromium = launch_chromium(playwright)
        except LiveServerError as exc:
            pytest.fail(str(exc), pytrace=False)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser, live_server: LiveServer) -> Iterator[object]:  # type: ignore[no-untyped-def]
    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", accept_downloads=True)
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):  # type: ignore[no-untyped-def]
    return context.new_page()

