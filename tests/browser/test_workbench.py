"""The department workbench in real Chromium: upload a file, read its rejected rows, download them."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from browser.liveserver import DEPARTMENT_A, LiveServer, log_in

pytestmark = pytest.mark.browser

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "penalties_with_errors.csv"
BATCH_URL = re.compile(r"/workbench/batches/(\d+)")
REJECTED_LINES = {2, 3, 4, 5, 6}  # line 7 is the file's one valid row


def _fixture_rows() -> list[dict[str, str]]:
    with open(FIXTURE, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _choose_penalties(page: Page) -> None:
    """Pick 行政处罚 in the upload form's ``kind`` field, whether it is a select or radio buttons."""
    select = page.locator("select[name=kind]")
    if select.count():
        options = select.locator("option").evaluate_all(
            "opts => opts.map(o => ({value: o.value, label: o.textContent}))")
        for option in options:
            if "penalt" in option["value"] or "处罚" in option["label"]:
                select.select_option(value=option["value"])
                return
        pytest.fail(f"no penalties option in the kind field: {options}")
    radios = page.locator("input[name=kind]")
    for i in range(radios.count()):
        radio = radios.nth(i)
        if "penalt" in (radio.get_attribute("value") or ""):
            radio.check()
            return
    pytest.fail("the upload form has no kind field for penalties")


def _upload(page: Page, path: Path) -> int:
    page.goto("/workbench/upload")
    _choose_penalties(page)
    file_input = page.locator("input[type=file][name=file]")
    file_input.set_input_files(str(path))
    form = page.locator("form").filter(has=file_input)
    with page.expect_navigation():
        form.locator("button[type=submit], input[type=submit], button:not([type])").first.click()
    page.wait_for_url(BATCH_URL)
    match = BATCH_URL.search(page.url)
    assert match, page.url
    return int(match.group(1))


@pytest.fixture(scope="module")
def batch(browser, live_server: LiveServer) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Officer A uploads tests/fixtures/penalties_with_errors.csv through the upload form."""
    context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        log_in(page, live_server.users["officer_a"], live_server.password)
        batch_id = _upload(page, FIXTURE)
    finally:
        context.close()
    engine = live_server.engine()
    try:
        with engine.connect() as conn:
            records = conn.scalars(sa.text(
                "SELECT DISTINCT record_id FROM record_versions WHERE batch_id = :b ORDER BY record_id"),
                {"b": batch_id}).all()
            if not records:  # the valid row was not stored: use any record of officer A's department
                records = conn.scalars(sa.text(
                    "SELECT r.id FROM records r JOIN departments d ON d.id = r.department_id "
                    "WHERE d.uscc = :u ORDER BY r.id LIMIT 3"), {"u": DEPARTMENT_A[0]}).all()
    finally:
        engine.dispose()
    return {"id": batch_id, "records": list(records)}


def _rejected_lines(page: Page) -> set[int]:
    """The values of the 行 column of every table on the page that has both 行 and 列 columns."""
    lines: set[int] = set()
    tables = page.locator("table")
    for t in range(tables.count()):
        table = tables.nth(t)
        headers = [h.strip() for h in table.locator("thead th, tr:first-child th").all_inner_texts()]
        if "行" not in headers or "列" not in headers:
            continue
        column = headers.index("行")
        for row in table.locator("tbody tr").all():
            cells = row.locator("td, th").all_inner_texts()
            if len(cells) > column and cells[column].strip().isdigit():
                lines.add(int(cells[column].strip()))
    return lines


def test_officer_uploads_and_sees_rejected_rows(context, live_server: LiveServer,  # type: ignore[no-untyped-def]
                                                batch: dict[str, object], tmp_path: Path) -> None:
    page = context.new_page()
    log_in(page, live_server.users["officer_a"], live_server.password)
    response = page.goto(f"/workbench/batches/{batch['id']}")
    assert response is not None and response.status == 200
    body = page.locator("body")
    expect(body).to_contain_text(FIXTURE.name)
    assert re.search(r"拒收\D{0,20}5(?!\d)", body.inner_text()), "the page does not say 5 rows were rejected"
    assert _rejected_lines(page) == REJECTED_LINES

    # download the rejected rows as CSV, to fix them in Excel and send again
    with page.expect_download() as info:
        page.locator(f"a[href$='/workbench/batches/{batch['id']}/rejected.csv']").first.click()
    download = info.value
    target = tmp_path / (download.suggested_filename or "rejected.csv")
    download.save_as(target)
    assert target.suffix == ".csv", download.suggested_filename
    text = target.read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 5, text[:1000]
    sent = _fixture_rows()
    assert [r["行政相对人名称"] for r in rows] == [r["行政相对人名称"] for r in sent[:5]]
    assert [r["行政处罚决定书文号"] for r in rows] == [r["行政处罚决定书文号"] for r in sent[:5]]
    assert rows[2]["处罚决定日期"] == "2024/13/40"  # cells as the department sent them
    assert sent[5]["行政相对人名称"] not in text

    # and as XLSX
    with page.expect_download() as info:
        page.locator(f"a[href$='/workbench/batches/{batch['id']}/rejected.xlsx']").first.click()
    xlsx = tmp_path / "rejected.xlsx"
    info.value.save_as(xlsx)
    assert xlsx.read_bytes()[:2] == b"PK"


def test_officer_of_another_department_gets_403(browser, live_server: LiveServer,  # type: ignore[no-untyped-def]
                                               batch: dict[str, object]) -> None:
    context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    try:
        page = context.new_page()
        log_in(page, live_server.users["officer_b"], live_server.password)
        response = page.goto(f"/workbench/batches/{batch['id']}")
        assert response is not None and response.status == 403, response and response.status
        for url in (f"/workbench/batches/{batch['id']}/rejected.csv",):
            response = page.request.get(url)
            assert response.status == 403, (url, response.status)
        assert batch["records"], "officer A's department has no records"
        for record_id in batch["records"]:
            response = page.goto(f"/workbench/records/{record_id}")
            assert response is not None and response.status == 403, (record_id, response and response.status)
    finally:
        context.close()

    # officer A may open the same record (the 403 above is about the department, not the page)
    context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    try:
        page = context.new_page()
        log_in(page, live_server.users["officer_a"], live_server.password)
        response = page.goto(f"/workbench/records/{batch['records'][0]}")
        assert response is not None and response.status == 200
    finally:
        context.close()
