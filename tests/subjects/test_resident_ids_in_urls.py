"""A resident id in a URL is refused, pages and API alike, and never written to a log in clear;
a person is found by id through a request body (the search form, POST /api/v1/subjects/search)."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from filehelpers import FIXTURES, REG_NO, USCC, ingest, sample_rows, write_rows
from xinyong.core.ids import is_old_ric, is_valid_reg_no, is_valid_uscc
from xinyong.web.observability import JsonFormatter, configure_logging

PERSON_ID = "22040219981026622X"  # 孙建华 in the fixtures
MASKED = "2204**********622X"
# 徐勇's id also passes the USCC checksum (about one id in 31 does): read as a USCC only in URLs
ALSO_USCC = "440402200008098085"
ALSO_USCC_MASKED = "4404**********8085"
REFUSAL = "网址中不能含有公民身份号码"
FULL_WIDTH_QUERY = "/search?q=" + quote("２２０４０２１９９８１０２６６２２Ｘ")


@pytest.fixture
def loaded(database: sa.Engine) -> None:
    ingest(FIXTURES / "penalties.csv")


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the app's JSON log handler writes, for every logger (as `xinyong serve` sets it up)
    but the test client's own (httpx logs the URLs it requests)."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(lambda record: not record.name.startswith("httpx"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _access_line(log: io.StringIO, path: str) -> dict[str, object]:
    entries = [json.loads(line) for line in log.getvalue().splitlines()]
    found = [e for e in entries if e["logger"] == "xinyong.access" and e["path"] == path]
    assert found, entries
    return found[-1]


def _refused(response, person_id: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.text
    assert person_id not in response.text.upper()
    if response.headers["content-type"].startswith("application/json"):
        error = response.json()["error"]
        assert error["code"] == "resident_id_in_url" and REFUSAL in error["message"]
        assert "POST /api/v1/subjects/search" in error["message"]
    else:
        assert REFUSAL in response.text and "首页的查询框" in response.text and "ZRR-" in response.text


def test_the_ambiguous_fixture_is_what_it_claims():
    assert is_valid_uscc(ALSO_USCC)


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize("prefix", ["/subjects/", "/api/v1/subjects/"])
@pytest.mark.parametrize("person_id,masked", [(PERSON_ID, MASKED), (PERSON_ID.lower(), MASKED),
                                              (ALSO_USCC, ALSO_USCC_MASKED)])
def test_a_resident_id_in_the_path_is_refused_and_logged_masked(client, log_lines, caplog, prefix, person_id,
                                                                masked):
    with caplog.at_level(logging.INFO, logger="xinyong.access"):
        response = client.get(prefix + person_id)
    _refused(response, person_id.upper())
    assert person_id not in log_lines.getvalue()
    for record in caplog.records:  # as any other handler receives them (pytest's capture here)
        if not record.name.startswith("httpx"):
            assert person_id not in json.dumps(getattr(record, "fields", {})) + record.getMessage()
    line = _access_line(log_lines, prefix + masked)
    assert line["status"] == 400 and line["route"].endswith("/subjects/{code}")


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize("url", [
    "/search?q=" + PERSON_ID,
    "/api/v1/subjects?q=" + PERSON_ID,
    "/search?q=%E5%AD%99%E5%BB%BA%E5%8D%8E+" + PERSON_ID,  # 孙建华 22040219981026622X
    "/api/v1/subjects?q=2204+0219981026+622X",  # spaced as people type it
    "/api/v1/subjects?q=ID" + PERSON_ID,  # glued to letters: found by probing, logged in clear
    "/search?q=%E8%BA%AB%E4%BB%BD%E8%AF%81No" + PERSON_ID.lower(),  # 身份证No22040219981026622x
    FULL_WIDTH_QUERY,
    "/search?q=" + ALSO_USCC,
])
def test_a_resident_id_in_the_query_string_is_refused_and_logged_masked(client, log_lines, url):
    response = client.get(url)
    person_id = ALSO_USCC if ALSO_USCC in url else PERSON_ID
    _refused(response, person_id)
    written = log_lines.getvalue()
    assert person_id not in written and "0219981026" not in written and "２２０４０２" not in written
    line = _access_line(log_lines, url.split("?")[0])
    assert line["status"] == 400
    assert (ALSO_USCC_MASKED if person_id == ALSO_USCC else MASKED) in str(line["query"])


@pytest.mark.usefixtures("loaded")
def test_a_company_is_still_found_by_its_code_in_urls(client):
    assert client.get("/subjects/911301026CR765LW53").status_code == 200
    assert client.get("/api/v1/subjects", params={"q": "911301026CR765LW53"}).json()["total"] == 1
    assert "按代码找到 1 个信用主体" in client.get("/search", params={"q": "911301026cr765lw53"}).text


OLD_ID = "330102770707123"  # a first-generation id (born 1977-07-07); its last digit fails MOD 11,10
OLD_ID_MASKED = "330*********123"
# a 工商注册号 (MOD 11,10 holds) whose characters 7–12 read as a date too, as an old id's would
REG_NO_LIKE_OLD_ID = "440402770707121"
OTHER_REG_NO_LIKE_OLD_ID = "440402770707130"  # the same, of no business on the platform


def test_the_old_id_fixtures_are_what_they_claim():
    assert is_old_ric(OLD_ID) and not is_valid_reg_no(OLD_ID)
    for reg_no in (REG_NO_LIKE_OLD_ID, OTHER_REG_NO_LIKE_OLD_ID):
        assert is_old_ric(reg_no) and is_valid_reg_no(reg_no)


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize("prefix", ["/subjects/", "/api/v1/subjects/", "/search?q=", "/api/v1/subjects?q="])
@pytest.mark.parametrize("spelt", [OLD_ID, "3301 0277 0707 123", "330102-7707-07123", "33010277 0707123",
                                   "３３０１０２７７０７０７１２３"])
def test_an_old_15_digit_id_in_a_url_is_refused_however_grouped_and_logged_masked(client, log_lines, prefix,
                                                                                  spelt):
    """As an 18-digit id is: a 15-digit old id grouped otherwise than 6-6-3 was taken for a wrong
    工商注册号 (404 on the subject page, an empty search echoing the id) and logged in clear."""
    response = client.get(prefix + quote(spelt))
    _refused(response, OLD_ID)
    written = log_lines.getvalue()
    assert OLD_ID not in written and spelt not in written and "0277 0707" not in written
    line = _access_line(log_lines, prefix.split("?")[0] + (OLD_ID_MASKED if "?" not in prefix else ""))
    assert line["status"] == 400
    if "?" in prefix:
        assert line["query"] == f"q={OLD_ID_MASKED}"


def _shop_with_reg_no(tmp_path, reg_no: str) -> None:  # type: ignore[no-untyped-def]
    headers, rows = sample_rows()
    shop = next(r for r in rows if r[USCC] == "00000000000000000X")
    ingest(write_rows(tmp_path / "shop.csv", headers, [dict(shop, **{REG_NO: reg_no})]))


def test_a_registration_number_that_reads_as_an_old_id_still_finds_its_business(client, tmp_path):
    """A 15-digit 工商注册号 is a public code: one whose digits read as an old id as well (its
    check digit says it is a registration number) finds its business, and is refused as an id only
    when no business has it, as an 18-digit number that is both an id and a USCC is."""
    _shop_with_reg_no(tmp_path, REG_NO_LIKE_OLD_ID)
    assert "珠海市新源小吃店" in client.get(f"/subjects/{REG_NO_LIKE_OLD_ID}").text
    assert client.get(f"/api/v1/subjects/{REG_NO_LIKE_OLD_ID}").json()["reg_no"] == REG_NO_LIKE_OLD_ID
    found = client.get("/api/v1/subjects", params={"q": REG_NO_LIKE_OLD_ID}).json()
    assert found["total"] == 1 and found["items"][0]["name"] == "珠海市新源小吃店"
    assert "按代码找到 1 个信用主体" in client.get("/search", params={"q": REG_NO_LIKE_OLD_ID}).text
    for url in (f"/subjects/{OTHER_REG_NO_LIKE_OLD_ID}", f"/api/v1/subjects/{OTHER_REG_NO_LIKE_OLD_ID}",
                f"/search?q={OTHER_REG_NO_LIKE_OLD_ID}", f"/api/v1/subjects?q={OTHER_REG_NO_LIKE_OLD_ID}"):
        _refused(client.get(url), OTHER_REG_NO_LIKE_OLD_ID)


@pytest.mark.usefixtures("loaded")
def test_the_search_form_posts_the_id_and_finds_the_person(client, log_lines):
    home = client.get("/").text
    assert '<form class="search" method="post" action="/search"' in home
    response = client.post("/search", data={"q": PERSON_ID})
    assert response.status_code == 200 and "按代码找到 1 个信用主体" in response.text
    assert MASKED in response.text and PERSON_ID not in response.text
    assert 'href="/subjects/ZRR-' in response.text and "/search?q=" not in response.text  # no page links
    # an ambiguous id finds the person too when it comes in the body
    assert "徐勇" in client.post("/search", data={"q": ALSO_USCC}).text
    # a name still pages through GET links, which carry no id
    names = client.post("/search", data={"q": "有限公司"}).text
    assert 'href="/search?q=%E6%9C%89%E9%99%90%E5%85%AC%E5%8F%B8&amp;page=2"' in names
    assert PERSON_ID not in log_lines.getvalue() and ALSO_USCC not in log_lines.getvalue()


@pytest.mark.usefixtures("loaded")
def test_the_api_finds_a_person_by_id_in_the_body(client, log_lines):
    response = client.post("/api/v1/subjects/search", json={"q": PERSON_ID.lower()})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == MASKED and body["total"] == 1 and PERSON_ID not in response.text
    [item] = body["items"]
    assert item["masked_id"] == MASKED and item["url"].startswith("/api/v1/subjects/ZRR-")
    assert client.get(item["url"]).json()["name"] == "孙建华"
    assert client.post("/api/v1/subjects/search", json={"q": ""}).status_code == 422
    assert PERSON_ID not in log_lines.getvalue()


def test_uvicorns_own_access_log_is_masked(app):
    """Run under `uvicorn` with its access log on, Uvicorn's formatter writes the path with the
    query string as sent; the filter the app installs on its logger masks the ids in it."""
    from uvicorn.logging import AccessFormatter

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False))
    logger = logging.getLogger("uvicorn.access")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:  # as uvicorn.protocols.http.h11_impl logs a request
        for path in (f"/subjects/{PERSON_ID}", "/search?q=%E5%AD%99+220402+19981026+622X", FULL_WIDTH_QUERY):
            logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 400)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert out.getvalue().splitlines() == [
        f'127.0.0.1:5000 - "GET /subjects/{MASKED} HTTP/1.1" 400 Bad Request',
        f'127.0.0.1:5000 - "GET /search?q=孙 {MASKED} HTTP/1.1" 400 Bad Request',
        f'127.0.0.1:5000 - "GET /search?q={MASKED} HTTP/1.1" 400 Bad Request',
    ]


def test_error_logs_and_tracebacks_are_masked(app, log_lines):
    try:
        raise ValueError(f"bad code {PERSON_ID}")
    except ValueError:
        logging.getLogger("xinyong.web").exception("unhandled error on %s %s", "GET", f"/subjects/{PERSON_ID}")
    [entry] = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    assert entry["message"] == f"unhandled error on GET /subjects/{MASKED}"
    assert f"ValueError: bad code {MASKED}" in entry["exception"] and PERSON_ID not in log_lines.getvalue()


@pytest.mark.parametrize("grouped", ["2204 0219 9810 2662 2X", "220402 1998 1026 622X", "220402.19981026.622X"])
def test_a_resident_id_grouped_any_way_in_a_log_message_is_masked(app, log_lines, grouped):
    """Log lines mask ids as published texts do: grouped otherwise than 6-8-4 too."""
    logging.getLogger("xinyong.web").warning("row 3: 证件号码 %s, %s", grouped, {"证件号码": grouped})
    [entry] = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    assert entry["message"] == f"row 3: 证件号码 {MASKED}, {{'证件号码': '{MASKED}'}}"
    assert grouped not in log_lines.getvalue()


def test_the_served_log_masks_every_logger(monkeypatch):
    """`xinyong serve`'s handler masks lines of any logger, not only those that write paths."""
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    root, uvicorn_access = logging.getLogger(), logging.getLogger("uvicorn.access")
    saved = root.handlers[:], root.level, uvicorn_access.disabled
    try:
        configure_logging()
        logging.getLogger("xinyong.somewhere").warning("row 3: %s", {"证件号码": PERSON_ID})
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        uvicorn_access.disabled = saved[2]
    assert PERSON_ID not in out.getvalue() and MASKED in out.getvalue()
