"""The public subject API: its JSON contract, published records only, masked ids, JSON errors."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from filehelpers import FIXTURES, USCC, ingest, sample_rows, write_rows
from xinyong.core import clock, db
from xinyong.subjects.schemas import SubjectDetailOut

SHIJIAZHUANG = "911301026CR765LW53"
NAME = "行政相对人名称"
CODE = "行政相对人代码_1(统一社会信用代码)"
DECISION_NO = "行政处罚决定书文号"


@pytest.fixture
def loaded(database: sa.Engine) -> None:
    ingest(FIXTURES / "penalties.csv")
    ingest(FIXTURES / "licences.csv", "licences")


@pytest.mark.usefixtures("loaded")
def test_search_answers_the_documented_shape(client):
    body = client.get("/api/v1/subjects", params={"q": "瑞丰新源", "per_page": 5}).json()
    assert set(body) == {"query", "total", "page", "per_page", "items"}
    assert body["query"] == "瑞丰新源" and body["page"] == 1 and body["per_page"] == 5
    assert body["total"] >= 1 and body["items"]
    for item in body["items"]:
        assert set(item) == {"name", "kind", "uscc", "masked_id", "area_code", "url"}
    first = body["items"][0]
    assert first == {"name": "石家庄市瑞丰新源贸易有限公司", "kind": "organisation", "uscc": SHIJIAZHUANG,
                     "masked_id": None, "area_code": "130102", "url": f"/api/v1/subjects/{SHIJIAZHUANG}"}
    assert client.get(first["url"]).status_code == 200


@pytest.mark.usefixtures("loaded")
def test_search_pages(client):
    page1 = client.get("/api/v1/subjects", params={"q": "有限公司", "per_page": 10}).json()
    page2 = client.get("/api/v1/subjects", params={"q": "有限公司", "per_page": 10, "page": 2}).json()
    assert page1["total"] == page2["total"] > 10
    assert not {i["url"] for i in page1["items"]} & {i["url"] for i in page2["items"]}


@pytest.mark.usefixtures("loaded")
def test_a_person_is_found_by_id_and_only_the_mask_comes_back(client):
    body = client.post("/api/v1/subjects/search", json={"q": "22040219981026622X"}).json()
    assert body["query"] == "2204**********622X" and body["total"] == 1
    item = body["items"][0]
    assert item["masked_id"] == "2204**********622X" and item["uscc"] is None
    detail = client.get(item["url"])
    assert detail.status_code == 200 and "22040219981026622X" not in detail.text
    assert detail.json()["name"] == "孙建华"


@pytest.mark.usefixtures("loaded")
def test_a_control_character_in_a_search_body_is_ignored_not_a_server_error(client):
    """JSON can carry a NUL (\\u0000), which no database accepts in a query: the search answers as
    for the query without it."""
    plain = client.post("/api/v1/subjects/search", json={"q": "有限公司"}).json()
    response = client.post("/api/v1/subjects/search", json={"q": "有限\u0000公司\u0007"})
    assert response.status_code == 200
    assert response.json()["total"] == plain["total"] > 0
    assert client.post("/api/v1/subjects/search", json={"q": "00\u0000"}).status_code == 200


@pytest.mark.usefixtures("loaded")
def test_detail_carries_published_records_with_public_fields_only(client):
    body = client.get(f"/api/v1/subjects/{SHIJIAZHUANG.lower()}").json()
    assert body["name"] == "石家庄市瑞丰新源贸易有限公司" and body["uscc"] == SHIJIAZHUANG
    assert body["former_names"] == []
    [penalty] = [r for r in body["records"] if r["kind"] == "penalty"]
    assert penalty["decision_no"] == "石家监督罚〔2024〕1号"
    assert penalty["authority_name"] == "石家庄市市场监督管理局"
    assert penalty["decision_date"] == "2024-08-13" and penalty["publication_end"] == "2027-08-13"
    assert penalty["status_label"] == "公示中" and penalty["penalty_class"] == "一般"
    assert penalty["legal_basis"] == "《价格违法行为行政处罚规定》第九条"
    # the legal representative's id is shared with government only, never public
    assert "legal_rep_id_number" not in penalty["fields"] and "legal_rep_id_type" not in penalty["fields"]
    assert "130102200203109238" not in str(body) and "1301**********9238" not in str(body)
    with clock.frozen(dt.date(2027, 8, 14)):
        later = client.get(f"/api/v1/subjects/{SHIJIAZHUANG}").json()
    assert [r for r in later["records"] if r["kind"] == "penalty"] == []


def test_an_id_on_an_individual_business_row_is_neither_public_nor_stored_in_clear(client, database, tmp_path):
    """Found by probing: the operator's id typed in 证件号码 of a 个体工商户 row was stored in clear."""
    from xinyong.core.ids import make_ric, make_uscc, mask_ric
    from xinyong.records.models import RecordVersion

    headers, rows = sample_rows()
    uscc = make_uscc("92130102MA0ABC123")
    operator = make_ric("130102", dt.date(1985, 3, 7), 31)
    shop = dict(rows[0], **{NAME: "石家庄市长安区老王小吃店", "行政相对人类别": "个体工商户", CODE: uscc,
                            "行政相对人代码_3(组织机构代码)": "", "证件类型": "身份证", "证件号码": operator})
    assert ingest(write_rows(tmp_path / "shop.csv", headers, [shop])).accepted == 1
    body = client.get(f"/api/v1/subjects/{uscc}").json()
    (penalty,) = body["records"]
    assert "id_number" not in penalty["fields"] and "id_type" not in penalty["fields"]
    assert operator not in str(body) and mask_ric(operator) not in str(body)
    with database.connect() as conn:
        (data,) = conn.scalars(sa.select(RecordVersion.data)).all()
    assert operator not in data and mask_ric(operator) in data


@pytest.mark.usefixtures("database")
@pytest.mark.parametrize("code", ["911301026CR765LW53", "abc", "ZRR-12345"])
def test_unknown_subjects_are_json_404s(client, code):
    response = client.get(f"/api/v1/subjects/{code}")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found" and error["message"]


@pytest.mark.usefixtures("database")
def test_search_needs_a_query(client):
    response = client.get("/api/v1/subjects")
    assert response.status_code == 422 and "error" in response.json()


@pytest.mark.usefixtures("loaded")
def test_detail_lists_former_names_oldest_first_and_records_newest_first(client, tmp_path):
    headers, rows = sample_rows()
    base = next(r for r in rows if r[CODE] == SHIJIAZHUANG)
    renamed = [
        dict(base, **{NAME: "河北瑞德康泰实业集团有限公司", DECISION_NO: "石家监督罚〔2026〕9号",
                      "处罚决定日期": "2026/11/01"}),
        dict(base, **{NAME: "石家庄瑞德康泰实业有限公司", DECISION_NO: "石家监督罚〔2025〕3号",
                      "处罚决定日期": "2025/06/02"}),
    ]
    ingest(write_rows(tmp_path / "renamed.csv", headers, renamed))
    body = client.get(f"/api/v1/subjects/{SHIJIAZHUANG}").json()
    assert body["name"] == "河北瑞德康泰实业集团有限公司"  # the name of the latest decision
    assert body["former_names"] == ["石家庄市瑞丰新源贸易有限公司", "石家庄瑞德康泰实业有限公司"]
    penalties = [r["decision_no"] for r in body["records"] if r["kind"] == "penalty"]
    assert penalties == ["石家监督罚〔2026〕9号", "石家监督罚〔2025〕3号", "石家监督罚〔2024〕1号"]
    SubjectDetailOut.model_validate(body)  # the documented contract


@pytest.mark.usefixtures("loaded")
def test_a_lookup_by_code_is_one_statement_outside_a_transaction(client, database, tmp_path):
    """The public API's hot path makes one round trip to the database: no BEGIN, no ROLLBACK."""
    url = f"/api/v1/subjects/{SHIJIAZHUANG}"
    assert client.get(url).status_code == 200  # warm: connections open, statements prepared
    if database.dialect.name == "postgresql":
        # libpq's own protocol trace of every pooled connection: each Sync ends an extended-protocol
        # exchange, each Query is a simple one (as BEGIN and ROLLBACK would be)
        trace = tmp_path / "libpq.trace"
        with open(trace, "w") as out:
            def on_checkout(dbapi_connection, record, proxy):  # type: ignore[no-untyped-def]
                dbapi_connection.pgconn.trace(out.fileno())

            sa.event.listen(db.read_engine(database), "checkout", on_checkout)
            try:
                assert client.get(url).status_code == 200
            finally:
                sa.event.remove(db.read_engine(database), "checkout", on_checkout)
                db.read_engine(database).dispose()  # the traced connections close
        # a message: time, F (frontend) or B (backend), length, type, arguments (SQL text may
        # continue on the following lines)
        messages = [line.split("\t") for line in trace.read_text().splitlines()]
        sent = [m[3] for m in messages if len(m) > 3 and m[1] == "F"]
        round_trips = [m for m in sent if m in ("Sync", "Query")]
    else:
        round_trips = []

        def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
            round_trips.append(statement)

        sa.event.listen(db.read_engine(database), "before_cursor_execute", count)
        try:
            assert client.get(url).status_code == 200
        finally:
            sa.event.remove(db.read_engine(database), "before_cursor_execute", count)
    assert len(round_trips) == 1, round_trips


def test_the_contract_is_in_the_openapi_document(client, database):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/subjects" in paths and "/api/v1/subjects/{code}" in paths


def test_a_resident_id_glued_to_letters_or_in_a_tax_number_is_never_published(client, database, tmp_path):
    """Found by probing: an id glued to letters (当事人（ID…）, No…) or written as a 个体工商户's
    税务登记号 (the id and a 2-digit sequence) was stored in clear and returned by the anonymous
    API. The USCC and the account number beside it are the department's data and stay whole."""
    from xinyong.records.models import RecordVersion

    headers, rows = sample_rows()
    person = next(r for r in rows if r[NAME] == "刘涛")
    person_id = person["证件号码"]
    also_a_uscc = "911101197707071099"  # a real USCC (企业, 北京市延庆区) whose digits pass GB 11643 too
    account = "33050161672700000123"
    row = dict(person, **{
        "行政相对人代码_4(税务登记号)": f"{person_id}01",
        "违法事实": f"经查，当事人（ID{person_id}）未按规定开展安全生产教育和培训。",
        "备注": f"No{person_id}；罚款缴入账户{account}；委托代理机构USCC{also_a_uscc}",
    })
    report = ingest(write_rows(tmp_path / "ids.csv", headers, [row]))
    assert report.accepted == 1
    assert len([w for w in report.warnings if w.code == "id_number_masked"]) == 3
    masked = f"{person_id[:4]}**********{person_id[-4:]}"

    url = client.post("/api/v1/subjects/search", json={"q": person_id}).json()["items"][0]["url"]
    response = client.get(url)
    assert response.status_code == 200 and person_id not in response.text
    [record] = response.json()["records"]
    fields = record["fields"]
    assert fields["tax_no"] == f"{masked}01"
    assert fields["violation_facts"] == f"经查，当事人（ID{masked}）未按规定开展安全生产教育和培训。"
    assert fields["remarks"] == f"No{masked}；罚款缴入账户{account}；委托代理机构USCC{also_a_uscc}"
    with database.connect() as conn:
        stored = " ".join(conn.scalars(sa.select(RecordVersion.data)).all())
    assert person_id not in stored and also_a_uscc in stored and account in stored


@pytest.mark.parametrize("grouped", [
    "130102 198503 070312", "130102 1985 0307 0312", "1301 0219 8503 0703 12", "130102.19850307.0312",
])
def test_a_resident_id_grouped_otherwise_than_6_8_4_is_never_published(client, database, tmp_path, grouped):
    """Found by probing: a 违法事实 naming a person's id grouped otherwise than 130102 19850307
    0312 was stored, and served by the anonymous API, in clear."""
    from xinyong.records.models import RecordVersion

    headers, rows = sample_rows()
    row = dict(rows[0], 违法事实=f"经查，当事人雇用的张三（身份证号{grouped}）无证驾驶")
    report = ingest(write_rows(tmp_path / "ids.csv", headers, [row]))
    assert report.accepted == 1
    [warning] = [w for w in report.warnings if w.code == "id_number_masked"]
    assert warning.field == "违法事实" and grouped not in warning.message
    response = client.get(f"/api/v1/subjects/{row[USCC]}")
    assert response.status_code == 200 and grouped not in response.text
    [record] = response.json()["records"]
    assert record["fields"]["violation_facts"] == "经查，当事人雇用的张三（身份证号1301**********0312）无证驾驶"
    with database.connect() as conn:
        assert grouped not in " ".join(conn.scalars(sa.select(RecordVersion.data)).all())


def test_a_text_stored_before_intake_masked_glued_ids_is_masked_as_it_leaves(client, database, tmp_path):
    """Texts stored by an earlier intake still hold ids glued to letters in clear (a stored text is
    not rewritten): what the public sees of a record is masked again, by the same rule."""
    from xinyong.records.models import RecordVersion

    headers, rows = sample_rows()
    person = next(r for r in rows if r[NAME] == "刘涛")
    person_id = person["证件号码"]
    ingest(write_rows(tmp_path / "one.csv", headers, [person]))
    with database.begin() as conn:  # as the earlier intake stored it
        data = json.loads(conn.scalars(sa.select(RecordVersion.data)).one())
        data["remarks"] = f"No{person_id}；税号{person_id}01"
        conn.execute(sa.update(RecordVersion).values(data=json.dumps(data, ensure_ascii=False)))
    url = client.post("/api/v1/subjects/search", json={"q": person_id}).json()["items"][0]["url"]
    response = client.get(url)
    assert person_id not in response.text
    masked = f"{person_id[:4]}**********{person_id[-4:]}"
    assert response.json()["records"][0]["fields"]["remarks"] == f"No{masked}；税号{masked}01"
