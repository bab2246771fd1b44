#!/usr/bin/env python3
"""Screenshots of the main pages, for the documentation: ``.venv/bin/python scripts/screenshots.py``.

Starts the same live server as the browser tests (a fresh PostgreSQL database at 127.0.0.1:5432 with
demo data, fixed "today" 2026-11-21), drives Debian's Chromium with Playwright, saves PNGs into
``docs/screenshots/`` and drops the database again. Needs Debian's ``chromium`` and ``fonts-noto-cjk``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser.liveserver import (  # noqa: E402
    launch_chromium,
    log_in,
    published_penalty,
    start_live_server,
)
from xinyong.demo.service import DEMO_PASSWORD_SUFFIX  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "penalties_with_errors.csv"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 667}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--subjects", type=int, default=200)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    server = start_live_server(prefix="xinyong_screenshots", subjects=args.subjects)
    saved: list[Path] = []
    try:
        company = published_penalty(server)
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                def shot(page, name: str, *, full_page: bool = True) -> None:  # type: ignore[no-untyped-def]
                    page.wait_for_load_state("networkidle")
                    path = args.out / f"{name}.png"
                    page.screenshot(path=str(path), full_page=full_page)
                    saved.append(path)

                context = browser.new_context(base_url=server.url, viewport=DESKTOP, locale="zh-CN")
                page = context.new_page()
                page.goto("/")
                shot(page, "home")
                part = company["name"].split("市", 1)[1][:4] if "市" in company["name"][:5] else company["name"][:4]
                page.goto(f"/search?q={part}")
                shot(page, "search")
                page.goto(f"/subjects/{company['uscc']}")
                shot(page, "subject")
                page.goto("/disclosures")
                shot(page, "disclosures")
                page.goto("/about")
                shot(page, "about")
                page.goto("/login")
                shot(page, "login")

                # an officer uploads a file with errors and reads the batch report
                log_in(page, server.users["officer_a"], server.password)
                page.goto("/workbench/upload")
                kind = page.locator("select[name=kind]")
                if kind.count():
                    kind.select_option(value="penalties")
                else:
                    page.locator("input[name=kind][value=penalties]").check()
                file_input = page.locator("input[type=file][name=file]")
                file_input.set_input_files(str(FIXTURE))
                with page.expect_navigation():
                    page.locator("form").filter(has=file_input).locator(
                        "button[type=submit], input[type=submit], button:not([type])").first.click()
                shot(page, "workbench_batch")
                page.goto("/workbench")
                shot(page, "workbench")
                context.close()

                # the demo's auditor reads the audit log
                context = browser.new_context(base_url=server.url, viewport=DESKTOP, locale="zh-CN")
                page = context.new_page()
                log_in(page, "auditor", "auditor" + DEMO_PASSWORD_SUFFIX)
                page.goto("/workbench/audit")
                shot(page, "audit_log", full_page=False)
                context.close()

                phone = browser.new_context(base_url=server.url, viewport=PHONE, device_scale_factor=2,
                                            is_mobile=True, has_touch=True, locale="zh-CN")
                page = phone.new_page()
                page.goto(f"/subjects/{company['uscc']}")
                shot(page, "subject_phone", full_page=False)
                phone.close()
            finally:
                browser.close()
    finally:
        server.stop()
    for path in saved:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
