"""The public portal in real Chromium: a visitor searches, opens a company, reads its penalties."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from browser.liveserver import LiveServer, published_penalty

pytestmark = pytest.mark.browser

SUBJECT_URL = re.compile(r"/subjects/[^/?#]+$")


@pytest.fixture(scope="module")
def company(live_server: LiveServer) -> dict[str, str]:
    return published_penalty(live_server)


def _name_part(name: str) -> str:
    """A distinctive part of a company name: the trade name after the city, e.g. 凯旋宝丰."""
    rest = name.split("市", 1)[1] if "市" in name[:5] else name
    return rest[:4]


def _search_from_home(page: Page, query: str) -> None:
    page.goto("/")
    box = page.locator("input[name=q]").first
    expect(box).to_be_visible()
    box.fill(query)
    with page.expect_navigation():
        box.press("Enter")


def _open_result(page: Page, company: dict[str, str]) -> None:
    """On the results page, click the company; an exact code may already lead to the subject page."""
    if not SUBJECT_URL.search(page.url.split("?")[0]):
        assert "/search" in page.url, page.url
        link = page.locator("a", has_text=company["name"]).first
        expect(link).to_be_visible()
        link.click()
        page.wait_for_url(SUBJECT_URL)
    assert page.url.split("?")[0].endswith(f"/subjects/{company['uscc']}"), page.url


def _sees_penalty(page: Page, company: dict[str, str]) -> None:
    expect(page.locator("h1")).to_contain_text(company["name"])
    expect(page.locator("body")).to_contain_text(company["uscc"])
    expect(page.locator("body")).to_contain_text(company["decision_no"])
    expect(page.locator("body")).to_contain_text("行政处罚")


def test_visitor_finds_company_by_part_of_its_name(page: Page, company: dict[str, str]) -> None:
    part = _name_part(company["name"])
    _search_from_home(page, part)
    assert "/search" in page.url or SUBJECT_URL.search(page.url), page.url
    _open_result(page, company)
    _sees_penalty(page, company)


def test_visitor_finds_company_by_its_code(page: Page, company: dict[str, str]) -> None:
    _search_from_home(page, company["uscc"])
    _open_result(page, company)
    _sees_penalty(page, company)


def test_home_search_box_is_reachable_with_tab_and_labelled(page: Page) -> None:
    page.goto("/")
    box = page.locator("input[name=q]").first
    expect(box).to_have_accessible_name(re.compile(r"\S"))
    for _ in range(40):
        page.keyboard.press("Tab")
        if box.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("the search box on the home page is not reachable with Tab")
    # typing into the focused box and pressing Enter searches
    page.keyboard.type("有限公司")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/search" in page.url, page.url


def test_subject_page_fits_a_phone(browser, live_server: LiveServer, company: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 667},
                                  device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN")
    try:
        page = context.new_page()
        response = page.goto(f"/subjects/{company['uscc']}")
        assert response is not None and response.status == 200
        expect(page.locator("body")).to_contain_text(company["decision_no"])
        widths = page.evaluate("""() => ({
            viewport: document.documentElement.clientWidth,
            document: document.documentElement.scrollWidth,
            body: document.body.scrollWidth,
        })""")
        assert widths["document"] <= widths["viewport"], widths
        assert widths["body"] <= widths["viewport"], widths
    finally:
        context.close()
