"""Cross-cutting web behaviour."""

from __future__ import annotations

from sqlalchemy import select

from filehelpers import FIXTURES, ingest
from webhelpers import login, make_user
from xinyong.accounts.access import Role
from xinyong.core import db
from xinyong.core.models import AuditEntry


def test_nul_character_in_url_is_a_clear_400_not_a_server_error(client):
    for url in ("/api/v1/subjects?q=%E7%8F%A0%00", "/api/v1/subjects/9113%0001", "/search?q=a%00b"):
        response = client.get(url)
        assert response.status_code == 400, url
    assert client.get("/api/v1/subjects?q=%00").json()["error"]["code"] == "nul_character"


# What monitoring tools and link checkers ask: HEAD of pages, API answers, health checks, static files
HEAD_URLS = ("/", "/about", "/login", "/search?q=瑞丰", "/healthz", "/readyz", "/api/v1/subjects?q=瑞丰",
             "/api/v1/catalogue", "/api/docs", "/static/style.css", "/account", "/no-such-page")


def test_head_answers_what_get_answers_without_the_body(client):
    """Every GET route answered HEAD with 405 (FastAPI routes answer the methods they declare)."""
    for url in HEAD_URLS:
        get = client.get(url, follow_redirects=False)
        head = client.head(url, follow_redirects=False)
        assert head.status_code == get.status_code, (url, head.status_code, get.status_code)
        for name in ("content-type", "content-length", "location", "x-frame-options"):
            assert head.headers.get(name) == get.headers.get(name), (url, name)
        assert head.content == b""
    assert client.head("/").status_code == 200 and client.head("/api/v1/subjects?q=瑞丰").status_code == 200
    # counted as HEAD, under the route it matched
    metrics = client.get("/metrics").text
    assert 'xinyong_http_requests_total{method="HEAD",route="/api/v1/subjects",status="200"}' in metrics


def test_head_of_a_route_without_get_is_still_405(client):
    for url in ("/logout", "/account/password", "/workbench/records/1/revoke"):
        assert client.head(url).status_code == client.get(url).status_code == 405, url


def test_a_method_the_url_does_not_take_is_told_which_it_takes(client):
    """A 405 must say which methods the URL takes (RFC 9110 §15.5.6): the answer dropped the
    framework's Allow header, so a client could not tell what to send instead."""
    assert client.get("/logout").headers.get("allow") == "POST"
    assert client.delete("/api/v1/subjects?q=瑞丰").headers.get("allow") == "GET"


def test_head_of_a_staff_page_checks_and_audits_as_get_does(client):
    """A HEAD runs the GET handler once: its permission check, and its one audit entry of a read
    of non-public data (what 谁查询了我 shows the subject) — not two, not none."""
    ingest(FIXTURES / "penalties.csv")
    page = "/subjects/911301026CR765LW53"
    assert client.head("/workbench", follow_redirects=False).headers["location"].startswith("/login")
    with db.transaction() as session:
        username = make_user(session, Role.ADMIN).username
    login(client, username)
    assert client.head(page).status_code == 200
    with db.transaction() as session:
        reads = session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "read.subject")).all()
    assert reads == [f"user:{username}"]


def _said(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text[:300]
    return response.json()["error"]["message"]


def test_a_json_body_that_fails_validation_is_told_in_terms_of_the_request_body(client):
    """The API's JSON bodies were told about 表单字段 (form fields), and a missing field to upload
    its file as a multipart form."""
    search = "/api/v1/subjects/search"
    assert _said(client.post(search, json={"q": ""})) == "提交的内容有误：请求体字段 q至少 1 个字符"
    assert _said(client.post(search, json={"q": "瑞丰", "per_page": 1000})) == \
        "提交的内容有误：请求体字段 per_page应不大于 100"
    assert _said(client.post(search, json={})) == "提交的内容有误：缺少请求体字段 q"
    assert _said(client.post(search, content=b'{"q": }', headers={"Content-Type": "application/json"})) == \
        "提交的内容有误：请求体不是有效的 JSON（第 7 个字符附近有误）"
    assert _said(client.post(search, json=["瑞丰"])) == \
        "提交的内容有误：请求体应为 JSON 对象（Content-Type: application/json）"
    assert _said(client.post(search, data={"q": "瑞丰"})) == \
        "提交的内容有误：请求体应为 JSON 对象（Content-Type: application/json）"


def test_a_form_that_fails_validation_is_still_told_about_its_form_fields(client):
    page = client.post("/login", data={"username": "x" * 201, "password": "whatever-it-is"})
    assert page.status_code == 422 and "表单字段 username至多 200 个字符" in page.text
