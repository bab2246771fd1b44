"""The public portal: home, search, subject pages, 双公示 columns, rules and rights, rate limit."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from filehelpers import FIXTURES, ingest, sample_rows, write_rows
from webhelpers import login, make_user
from xinyong.core import clock, db
from xinyong.core.audit import AuditEntry
from xinyong.core.config import reset_settings
from xinyong.policy.service import get_policy_book

NAME = "行政相对人名称"
DECISION_NO = "行政处罚决定书文号"
SHIJIAZHUANG = "911301026CR765LW53"  # 石家庄市瑞丰新源贸易有限公司, decided 2024-08-13, public to 2027-08-13


@pytest.fixture
def loaded(database: sa.Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    headers, rows = sample_rows()
    base = rows[0]
    ended = dict(base, **{DECISION_NO: "石家监督罚〔2022〕7号", "处罚决定日期": "2022/03/01",
                          "处罚内容": "已过公示期的处罚"})
    minor = dict(base, **{DECISION_NO: "石家监督罚〔2026〕8号", "处罚决定日期": "2026/10/08",
                          "处罚类别": "警告", "罚款金额（万元）": "", "处罚内容": "轻微的处罚警告"})
    ingest(write_rows(tmp_path / "penalties.csv", headers, [*rows, ended, minor]))
    ingest(FIXTURES / "licences.csv", "licences")


def test_home_has_one_labelled_search_box(client):
    html = client.get("/").text
    assert '<label for="q"' in html and 'id="q" name="q"' in html
    assert 'action="/search"' in html and "双公示" in html


@pytest.mark.usefixtures("loaded")
def test_search_by_code_and_by_name(client):
    html = client.get("/search", params={"q": SHIJIAZHUANG.lower()}).text
    assert "按代码找到 1 个信用主体" in html and f'href="/subjects/{SHIJIAZHUANG}"' in html
    html = client.get("/search", params={"q": "瑞丰新源"}).text
    assert "石家庄市瑞丰新源贸易有限公司" in html and "<th scope=\"col\">名称</th>" in html


@pytest.mark.usefixtures("loaded")
def test_search_pages_with_previous_and_next(client):
    first = client.get("/search", params={"q": "有限公司"}).text
    assert "下一页" in first and "上一页" not in first
    second = client.get("/search", params={"q": "有限公司", "page": 2}).text
    assert "上一页" in second
    names_1 = set(re.findall(r'<a href="/subjects/[^"]+">([^<]+)</a>', first))
    names_2 = set(re.findall(r'<a href="/subjects/[^"]+">([^<]+)</a>', second))
    assert len(names_1) == 20 and names_2 and not names_1 & names_2


@pytest.mark.usefixtures("loaded")
def test_search_says_clearly_when_nothing_is_found(client):
    response = client.get("/search", params={"q": "根本不存在的名称甲乙丙"})
    assert response.status_code == 200 and "没有找到" in response.text


@pytest.mark.usefixtures("loaded")
def test_subject_page_shows_published_records_only(client):
    response = client.get(f"/subjects/{SHIJIAZHUANG}")
    assert response.status_code == 200
    html = response.text
    assert "石家庄市瑞丰新源贸易有限公司" in html and SHIJIAZHUANG in html
    assert "石家监督罚〔2024〕1号" in html and "《价格违法行为行政处罚规定》第九条" in html
    assert "石家庄市市场监督管理局" in html and "2027-08-13" in html
    assert "石家监督罚〔2022〕7号" not in html  # publication ended
    assert "石家监督罚〔2026〕8号" not in html  # 轻微: not published
    assert '<th scope="col">决定文书号</th>' in html


@pytest.mark.usefixtures("loaded")
def test_a_penalty_disappears_when_its_publication_ends(client):
    with clock.frozen(dt.date(2027, 8, 13)):
        assert "石家监督罚〔2024〕1号" in client.get(f"/subjects/{SHIJIAZHUANG}").text
    with clock.frozen(dt.date(2027, 8, 14)):
        html = client.get(f"/subjects/{SHIJIAZHUANG}").text
        assert "石家监督罚〔2024〕1号" not in html and "目前没有处于公示期内的行政处罚信息" in html


@pytest.mark.usefixtures("loaded")
def test_a_person_page_shows_the_masked_id_only(client):
    html = client.post("/search", data={"q": "22040219981026622X"}).text
    assert "22040219981026622X" not in html and "2204**********622X" in html
    link = re.search(r'href="(/subjects/ZRR-\d+)"', html).group(1)
    page = client.get(link).text
    assert "孙建华" in page and "2204**********622X" in page and "22040219981026622X" not in page


@pytest.mark.usefixtures("loaded")
def test_former_names_are_listed(client, tmp_path):
    headers, rows = sample_rows()
    renamed = dict(rows[0], **{NAME: "河北瑞德康泰实业集团有限公司", DECISION_NO: "石家监督罚〔2026〕9号",
                               "处罚决定日期": "2026/11/01"})
    ingest(write_rows(tmp_path / "renamed.csv", headers, [renamed]))
    html = client.get(f"/subjects/{SHIJIAZHUANG}").text
    assert "<h1>河北瑞德康泰实业集团有限公司</h1>" in html, re.findall(r"<h1>.*?</h1>|曾用名.*", html)
    assert "石家庄市瑞丰新源贸易有限公司" in html


def test_unknown_and_malformed_codes_are_404_pages(client):
    for code in ("911301026CR765LW53", "not-a-code", "ZRR-999999"):
        response = client.get(f"/subjects/{code}")
        assert response.status_code == 404 and "页面不存在" in response.text


@pytest.mark.usefixtures("loaded")
def test_disclosure_columns_filter_by_kind_department_city_and_dates(client):
    penalties = client.get("/disclosures").text
    dates = re.findall(r"<td>(\d{4}-\d{2}-\d{2})</td>", penalties)[::2]  # decision, publication end
    assert dates and dates == sorted(dates, reverse=True) and "下一页" in penalties
    assert "石家监督罚〔2022〕7号" not in client.get("/disclosures", params={"to": "2022-12-31"}).text
    licences = client.get("/disclosures", params={"kind": "licence"}).text
    assert "行政许可" in licences and "石家监督罚" not in licences
    assert '<option value="1301"' in penalties and "河北省石家庄市" in penalties
    zhuhai = client.get("/disclosures", params={"city": "4404"}).text
    assert "珠海市" in zhuhai and "石家庄市瑞丰新源贸易有限公司" not in zhuhai
    with db.transaction() as session:
        department_id = session.scalar(sa.text("SELECT id FROM departments WHERE name = '石家庄市市场监督管理局'"))
    by_department = client.get("/disclosures", params={"department": department_id}).text
    table = by_department.split("<tbody>")[1].split("</tbody>")[0]
    assert "石家监督罚〔2024〕1号" in table and "舞钢" not in table
    assert f'<option value="{department_id}" selected>' in by_department.replace(" >", ">").replace("  ", " ")
    dated = client.get("/disclosures", params={"from": "2024-08-01", "to": "2024-08-31"}).text
    assert "石家庄市瑞丰新源贸易有限公司" in dated and "2024-08-13" in dated and "2024-12-20" not in dated
    bad = client.get("/disclosures", params={"from": "2024-13-45"})
    assert bad.status_code == 200 and "不是有效日期" in bad.text


@pytest.mark.parametrize("department", ["99999999999999999999999", "²", "-1", "0"])
def test_a_department_number_that_is_none_shows_every_department(client, department):
    """A hand-edited or mangled query string (a number beyond BIGINT, a superscript digit that
    str.isdigit() takes) is no filter, not a server error."""
    response = client.get("/disclosures", params={"department": department})
    assert response.status_code == 200 and "行政处罚" in response.text


def test_about_lists_the_rules_in_force_with_their_sources(client):
    html = client.get("/about").text
    rules = get_policy_book().rules_in_force(clock.today(), "CN")
    assert rules
    for rule in rules:
        assert rule.title in html
        assert rule.source.citation().replace("《", "&lt;").split("&lt;")[-1][:6] in html
    if any(not r.verified for r in rules):
        assert "未核实" in html
    for right in ("知情权", "异议权", "信用修复", "如何提出异议"):
        assert right in html
    # the parameters are said in Chinese, not as the packs' keys
    assert "7个工作日" in html and "一般：公示 3个月–1年" in html and "适用于行政许可、行政处罚" in html
    assert "working_days" not in html and "min_months" not in html and "本平台（全国）" in html
    # a 石家庄 authority's record is decided by the 石家庄 pack, whatever the platform's jurisdiction
    assert ("另有地区规则：130100（河北省石家庄市）、410481（河南省舞钢市）。"
            "这些地区的机关作出的决定，按其所在地区的规则认定") in html


@pytest.mark.usefixtures("loaded")
def test_staff_see_government_fields_and_the_read_is_audited(client):
    with db.transaction() as session:
        username = make_user(session, "admin").username
    login(client, username)
    html = client.get(f"/subjects/{SHIJIAZHUANG}").text
    assert "政务共享信息" in html and "何海燕" in html and "1301**********9238" in html
    assert "130102200203109238" not in html
    with db.transaction() as session:
        actions = session.scalars(sa.select(AuditEntry.action)).all()
    assert "read.subject" in actions


def test_rate_limit_answers_429_in_chinese_with_retry_after(database, monkeypatch):
    from fastapi.testclient import TestClient

    from xinyong.web.app import create_app

    monkeypatch.setenv("XINYONG_RATE_LIMIT_PER_MINUTE", "5")
    reset_settings()
    with TestClient(create_app(), base_url="https://testserver") as client:
        for _ in range(5):
            assert client.get("/").status_code == 200
        response = client.get("/search", params={"q": "瑞丰"})
        assert response.status_code == 429
        assert "访问过于频繁" in response.text and int(response.headers["Retry-After"]) > 0
        api = client.get("/api/v1/subjects", params={"q": "瑞丰"})
        assert api.status_code == 429 and api.json()["error"]["code"] == "rate_limited"
