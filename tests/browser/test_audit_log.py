"""The audit log in real Chromium: the demo's auditor opens it from the workbench, filters it and
downloads what the filter found; the download is in the log afterwards."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from browser.liveserver import LiveServer, log_in
from xinyong.demo.service import DEMO_PASSWORD_SUFFIX

pytestmark = pytest.mark.browser


def _actions(page: Page) -> list[str]:
    return page.locator("#audit-entries tbody tr").evaluate_all("rows => rows.map(r => r.dataset.action)")


def test_the_demo_auditor_filters_the_log_and_downloads_it(page: Page, live_server: LiveServer, tmp_path):
    log_in(page, "auditor", "auditor" + DEMO_PASSWORD_SUFFIX)  # the account `xinyong demo` prints
    page.goto("/workbench")
    page.get_by_role("navigation", name="工作台导航").get_by_role("link", name="审计日志").click()
    expect(page).to_have_url(re.compile(r"/workbench/audit$"))
    state = page.locator("#chain-state")
    expect(state).to_contain_text("哈希链完整")
    expect(state).to_contain_text(re.compile(r"第 1 条至第 \d+ 条记录校验无误"))

    page.get_by_label("操作", exact=True).select_option(label="报送数据（一个批次）")
    with page.expect_navigation():
        page.get_by_role("button", name="查询").click()
    assert "action=batch.submit" in page.url
    actions = _actions(page)
    assert len(actions) >= 3 and set(actions) == {"batch.submit"}  # the demo's three batches at least
    demo = page.locator("#audit-entries tbody tr", has_text="demo")
    expect(demo.first).to_contain_text("服务器命令行")
    total = int(re.search(r"共 (\d+) 条", page.locator("#audit-total").inner_text()).group(1))

    with page.expect_download() as info:
        page.get_by_role("link", name="下载筛选结果（CSV）").click()
    target = tmp_path / (info.value.suggested_filename or "audit.csv")
    info.value.save_as(target)
    assert target.suffix == ".csv" and target.name.startswith("审计日志_")
    rows = list(csv.DictReader(io.StringIO(target.read_bytes().decode("utf-8-sig"))))
    assert len(rows) == total and {r["操作"] for r in rows} == {"报送数据（一个批次）"}
    assert [int(r["序号"]) for r in rows] == sorted((int(r["序号"]) for r in rows), reverse=True)

    page.get_by_label("操作", exact=True).select_option(label="查阅审计日志")
    with page.expect_navigation():
        page.get_by_role("button", name="查询").click()
    newest = page.locator("#audit-entries tbody tr").first
    expect(newest).to_contain_text("user:auditor")
    expect(newest).to_contain_text("格式：CSV 下载")
    expect(newest).to_contain_text("报送数据（一个批次）")  # what the download asked for
