"""GET /api/v1/catalogue: what a department system needs to build its files, and enough to do it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from webhelpers import make_department
from xinyong.accounts import service as accounts
from xinyong.core import db

WITH_ERRORS = Path(__file__).parents[1] / "fixtures" / "penalties_with_errors.csv"


@pytest.fixture
def api_key(database: sa.Engine) -> str:
    with db.transaction() as session:
        department = make_department(session, uscc="11440402A20Y55BB2N", name="珠海市生态环境局香洲分局")
        key, _ = accounts.create_api_key(session, department_id=department.id, name="报送系统", created_by="test")
    return key


def test_catalogue_needs_an_account(client, database) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/catalogue").status_code == 401


def test_a_file_built_from_the_catalogue_alone_is_accepted(client, api_key) -> None:  # type: ignore[no-untyped-def]
    """A system reads the catalogue, writes JSON Lines with the field keys and code values it
    lists, and submits it: the row is stored; a value outside the listed code table is not."""
    response = client.get("/api/v1/catalogue", headers={"X-API-Key": api_key})
    assert response.status_code == 200
    body = response.json()
    penalty = next(item for item in body["items"] if item["code"] == "XZCF")
    fields = {f["label"]: f for f in penalty["fields"]}
    assert fields["行政相对人名称"]["required"] and fields["证件号码"]["disclosure"] == "government"
    assert fields["罚款金额（万元）"]["unit"] == "万元"
    assert fields["行政相对人名称"]["standard_code"] == "CF_XDR_MC"
    assert "罚款金额（元）" in fields["罚款金额（万元）"]["unit_headers"]
    assert fields["罚款金额（万元）"]["amount_of"] == ["罚款"]
    assert "1" in fields["处罚机关统一社会信用代码"]["registered_by"]
    assert fields["行政相对人代码_1(统一社会信用代码)"]["registered_by"] == []
    tables = {t["name"]: [v["value"] for v in t["values"]] for t in body["code_tables"]}
    assert "警告" in tables[fields["处罚类别"]["code_table"]]
    assert penalty["identity"] == ["decision_no", "authority_uscc"]

    with open(WITH_ERRORS, encoding="utf-8", newline="") as fh:
        valid = next(r for r in csv.DictReader(fh) if r["行政相对人名称"] == "珠海市信达永泰机械制造有限责任公司")
    record = {fields[label]["key"]: value for label, value in valid.items() if label in fields and value}
    other = dict(record, decision_no=record["decision_no"] + "-2", penalty_kinds="训诫")
    lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in (record, other)) + "\n"
    submitted = client.post("/api/v1/batches?kind=penalties", headers={"X-API-Key": api_key},
                            files={"file": ("records.jsonl", lines.encode("utf-8"), "application/x-ndjson")})
    assert submitted.status_code == 201, submitted.text
    report = submitted.json()
    assert (report["accepted"], report["rejected"]) == (1, 1)
    assert [(e["line"], e["field"], e["code"]) for e in report["errors"]] == [(2, "penalty_kinds", "not_in_code_table")]
