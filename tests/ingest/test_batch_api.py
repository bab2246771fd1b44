"""The batch API: department systems submit files with an API key and read the quality report."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from filehelpers import sample_rows
from webhelpers import login, make_department, make_user
from xinyong.accounts import service as accounts
from xinyong.accounts.access import Role
from xinyong.core import db
from xinyong.core.ids import make_org_code, make_uscc
from xinyong.core.models import AuditEntry
from xinyong.ingest.models import Batch

FIXTURES = Path(__file__).parents[1] / "fixtures"
WITH_ERRORS = FIXTURES / "penalties_with_errors.csv"


@pytest.fixture
def keys(database: sa.Engine) -> dict[str, object]:
    """Live API keys of two departments, and a revoked one."""
    with db.transaction() as session:
        a = make_department(session, uscc="11440402A20Y55BB2N", name="珠海市生态环境局香洲分局")
        b = make_department(session)
        key_a, _ = accounts.create_api_key(session, department_id=a.id, name="生态环境局报送系统", created_by="test")
        key_b, _ = accounts.create_api_key(session, department_id=b.id, name="其他部门系统", created_by="test")
        revoked, stored = accounts.create_api_key(session, department_id=a.id, name="旧系统", created_by="test")
        accounts.revoke_api_key(session, stored.id, actor="test")
        make_user(session, Role.OFFICER, department=a, username="officer_a")
        department_a = a.id
    return {"a": key_a, "b": key_b, "revoked": revoked, "department_a": department_a}


def _post(client, key: str | None, content: bytes, name: str = "penalties_with_errors.csv",  # type: ignore[no-untyped-def]
          kind: str = "penalties", headers: dict[str, str] | None = None):
    headers = dict(headers or {})
    if key is not None:
        headers["X-API-Key"] = key
    return client.post(f"/api/v1/batches?kind={kind}", headers=headers,
                       files={"file": (name, content, "text/csv")})


def _batches(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(Batch)).scalar_one()


def test_submit_with_an_api_key_returns_the_report(client, keys, database) -> None:  # type: ignore[no-untyped-def]
    response = _post(client, keys["a"], WITH_ERRORS.read_bytes())
    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["rows_total"], report["accepted"], report["rejected"]) == (6, 1, 5)
    assert sorted({e["line"] for e in report["errors"]}) == [2, 3, 4, 5, 6]
    assert all(e["message"] for e in report["errors"])
    batch_id = report["batch_id"]
    assert response.headers["location"] == f"/api/v1/batches/{batch_id}"
    with database.connect() as conn:
        batch = conn.execute(sa.select(Batch)).one()
        entry = conn.execute(sa.select(AuditEntry).where(AuditEntry.action == "batch.submit")).one()
    assert batch.department_id == keys["department_a"] and batch.submitted_by.startswith("api_key:")
    assert entry.target_id == str(batch_id)

    again = client.get(f"/api/v1/batches/{batch_id}", headers={"X-API-Key": keys["a"]})
    assert again.status_code == 200
    assert again.json()["rejected"] == 5 and again.json()["errors"] == report["errors"]
    # another department's key may not read it
    other = client.get(f"/api/v1/batches/{batch_id}", headers={"X-API-Key": keys["b"]})
    assert other.status_code == 403 and other.json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/batches/999999", headers={"X-API-Key": keys["a"]}).status_code == 404


def test_revoked_or_missing_key_is_401(client, keys, database) -> None:  # type: ignore[no-untyped-def]
    assert _post(client, keys["revoked"], WITH_ERRORS.read_bytes()).status_code == 401
    assert _post(client, None, WITH_ERRORS.read_bytes()).status_code == 401
    assert _batches(database) == 0


def test_unreadable_file_is_422_and_stores_nothing(client, keys, database) -> None:  # type: ignore[no-untyped-def]
    response = _post(client, keys["a"], b"PK\x03\x04 not really a workbook", name="p.xlsx")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "file_unreadable" and any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])
    assert _batches(database) == 0


def test_unknown_kind_is_422(client, keys, database) -> None:  # type: ignore[no-untyped-def]
    assert _post(client, keys["a"], WITH_ERRORS.read_bytes(), kind="honours").status_code == 422
    assert _batches(database) == 0


def test_session_user_needs_the_csrf_header(client, keys, database) -> None:  # type: ignore[no-untyped-def]
    csrf = login(client, "officer_a")
    assert _post(client, None, WITH_ERRORS.read_bytes()).status_code == 403
    response = _post(client, None, WITH_ERRORS.read_bytes(), headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201 and response.json()["rejected"] == 5


def test_openapi_documents_the_endpoints(client, database) -> None:  # type: ignore[no-untyped-def]
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert paths["/api/v1/batches"]["post"]["summary"].startswith("提交")
    assert "201" in paths["/api/v1/batches"]["post"]["responses"]
    assert paths["/api/v1/batches/{batch_id}"]["get"]["summary"]


def test_a_file_sent_as_the_request_body_itself_is_a_batch(client, keys, database) -> None:  # type: ignore[no-untyped-def]
    """Systems that post the file as the raw body (Content-Type saying the format) get the same
    report as a form upload; the batch is listed under the name they give, or a default one."""
    raw = client.post("/api/v1/batches?kind=penalties&file_name=2026年11月行政处罚.csv",
                      content=WITH_ERRORS.read_bytes(), headers={"X-API-Key": keys["a"], "Content-Type": "text/csv"})
    assert raw.status_code == 201, raw.text
    assert (raw.json()["file"], raw.json()["accepted"], raw.json()["rejected"]) == ("2026年11月行政处罚.csv", 1, 5)
    with open(WITH_ERRORS, encoding="utf-8", newline="") as fh:
        records = list(csv.DictReader(fh))
    as_json = client.post("/api/v1/batches?kind=penalties", json={"total": len(records), "rows": records},
                          headers={"X-API-Key": keys["a"]})
    assert as_json.status_code == 201, as_json.text
    report = as_json.json()
    assert (report["file"], report["format"], report["unchanged"], report["rejected"]) == ("upload.json", "json", 1, 5)
    assert _batches(database) == 2


def test_malformed_requests_are_told_in_chinese_what_is_missing(client, keys, database) -> None:  # type: ignore[no-untyped-def]
    """A request without a file, or naming an unknown kind, learns what to do."""
    empty = client.post("/api/v1/batches?kind=penalties", headers={"X-API-Key": keys["a"]})
    assert empty.status_code == 422
    error = empty.json()["error"]
    assert error["code"] == "file_unreadable"
    assert "没有收到文件" in error["message"] and "multipart" in error["message"]
    # curl --data-binary without -H sends the file as a urlencoded form; a form without "file"
    forms = client.post("/api/v1/batches?kind=penalties", content=WITH_ERRORS.read_bytes(),
                        headers={"X-API-Key": keys["a"], "Content-Type": "application/x-www-form-urlencoded"})
    assert forms.status_code == 422
    assert "Content-Type 是 application/x-www-form-urlencoded" in forms.json()["error"]["message"]
    named = client.post("/api/v1/batches?kind=penalties", headers={"X-API-Key": keys["a"]},
                        files={"upload": ("a.csv", WITH_ERRORS.read_bytes(), "text/csv")})
    assert named.status_code == 422 and "没有名为 file 的字段" in named.json()["error"]["message"]
    wrong_kind = _post(client, keys["a"], WITH_ERRORS.read_bytes(), kind="fines")
    assert wrong_kind.status_code == 422
    assert "查询参数 kind的取值无效" in wrong_kind.json()["error"]["message"]
    assert "'penalties' 或 'licences'" in wrong_kind.json()["error"]["message"]
    # a file sent as a plain form field (curl -F 'file=<x.csv') is read, but a form field is
    # limited to 1 MB by the form parser: a larger one is told, in Chinese, how to send it
    big = WITH_ERRORS.read_text(encoding="utf-8") * 300
    assert len(big.encode()) > 1024 * 1024
    refused = client.post("/api/v1/batches?kind=penalties", headers={"X-API-Key": keys["a"]},
                          files={"file": (None, big.encode())})
    assert refused.status_code == 400
    assert "超过了 1 MB 的上限" in refused.json()["error"]["message"] and "file=@" in refused.json()["error"]["message"]
    assert _batches(database) == 0


def _workbook_of(path: Path) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh):
            workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.parametrize("how", ["octet-stream body", "form field without a file name", "GBK form field",
                                 "workbook in a form field"])
def test_clients_that_send_the_file_in_other_ways_get_it_read(client, keys, database, how) -> None:  # type: ignore[no-untyped-def]
    """Clients seen in the wild: a workbook posted as application/octet-stream with no name (it
    was called damaged: openpyxl refuses a file not named .xlsx), and the file sent as a form
    field without a file name (curl -F 'file=<x.csv'; the form parser hands it over as text,
    decoded as UTF-8 or, when it is not, byte for byte)."""
    text = WITH_ERRORS.read_text(encoding="utf-8")
    headers = {"X-API-Key": keys["a"]}
    if how == "octet-stream body":
        response = client.post("/api/v1/batches?kind=penalties", content=_workbook_of(WITH_ERRORS),
                               headers={**headers, "Content-Type": "application/octet-stream"})
    else:
        content = {"form field without a file name": text.encode("utf-8"), "GBK form field": text.encode("gbk"),
                   "workbook in a form field": _workbook_of(WITH_ERRORS)}[how]
        response = client.post("/api/v1/batches?kind=penalties", headers=headers, files={"file": (None, content)})
    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["rows_total"], report["accepted"], report["rejected"]) == (6, 1, 5)
    assert report["format"] == ("xlsx" if "workbook" in how or "octet" in how else "csv")
    if how == "GBK form field":
        assert report["encoding"] == "GBK"
    # the one valid row landed as the department sent it: the CSV upload of the same file is unchanged
    again = _post(client, keys["a"], WITH_ERRORS.read_bytes())
    assert (again.json()["unchanged"], again.json()["accepted"], again.json()["corrected"]) == (1, 0, 0)


def test_a_department_system_lists_its_batches_and_downloads_the_rejected_rows(client, keys, database) -> None:  # type: ignore[no-untyped-def]
    """After submitting, a system finds its batches (only its own) and fetches the rows to fix."""
    submitted = _post(client, keys["a"], WITH_ERRORS.read_bytes()).json()
    listed = client.get("/api/v1/batches", headers={"X-API-Key": keys["a"]})
    assert listed.status_code == 200
    (item,) = listed.json()["items"]
    assert (item["batch_id"], item["kind"], item["file"]) == (submitted["batch_id"], "penalties",
                                                              "penalties_with_errors.csv")
    # each rejected row has its own error, and is another department's data besides
    assert (item["rows_total"], item["accepted"], item["rejected"], item["errors_count"]) == (6, 1, 5, 10)
    assert sorted(e["line"] for e in submitted["errors"] if e["code"] == "not_own_data") == [2, 3, 4, 5, 6]
    assert client.get("/api/v1/batches?kind=licences", headers={"X-API-Key": keys["a"]}).json()["items"] == []
    assert client.get("/api/v1/batches", headers={"X-API-Key": keys["b"]}).json()["items"] == []

    rejected = client.get(item["rejected_url"], headers={"X-API-Key": keys["a"]})
    assert rejected.status_code == 200 and rejected.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(rejected.content.decode("utf-8-sig"))))
    assert rows[0][0] == "行政相对人名称" and rows[0][-4:] == ["行号", "出错列", "错误代码", "错误说明"]
    assert sorted({int(r[-4]) for r in rows[1:]}) == [2, 3, 4, 5, 6]
    assert client.get(item["rejected_url"], headers={"X-API-Key": keys["b"]}).status_code == 403


def test_a_department_system_cannot_send_or_correct_another_departments_records(client, keys, database):  # type: ignore[no-untyped-def]
    """A key of one department may send only that department's data (the API-key page says so):
    rows whose 数据来源单位 is another department would be stored and published as that
    department's records, and a row of another department's decision would replace its content.
    Both are rejected, naming the department; nothing of the other department changes and no
    department is registered from such a file. The credit office may send them."""
    headers, rows = sample_rows()
    own = next(r for r in rows if r["数据来源单位统一社会信用代码"] == "11440402A20Y55BB2N")
    theirs = next(r for r in rows if r["数据来源单位统一社会信用代码"] != own["数据来源单位统一社会信用代码"])
    with db.transaction() as session:
        make_user(session, Role.ADMIN, username="office")
    csrf = login(client, "office")
    stored = client.post("/api/v1/batches?kind=penalties", headers={"X-CSRF-Token": csrf},
                         files={"file": ("theirs.csv", _csv(headers, [theirs]), "text/csv")}).json()
    assert stored["accepted"] == 1
    changed = dict(theirs, **{"违法事实": "被其他部门改写的违法事实"})
    answer = _post(client, keys["a"], _csv(headers, [own, changed]), name="mixed.csv").json()
    assert (answer["accepted"], answer["rejected"], answer["departments_registered"]) == (1, 1, [])
    (error,) = answer["errors"]
    assert (error["line"], error["field"], error["code"]) == (3, "数据来源单位统一社会信用代码", "not_own_data")
    assert theirs["数据来源单位"] in error["message"] and "珠海市生态环境局香洲分局" in error["message"]
    with database.connect() as conn:
        facts = conn.execute(sa.text(
            "SELECT v.data FROM record_versions v JOIN records r ON r.id = v.record_id "
            "WHERE r.decision_no = :no"), {"no": theirs["行政处罚决定书文号"]}).scalars().all()
    assert len(facts) == 1 and "被其他部门改写" not in facts[0]


def test_a_decision_of_an_unregistered_body_stored_by_another_department_is_not_corrected(client, keys, database):  # type: ignore[no-untyped-def]
    """A branch that is no department on the platform (a 分局 reporting through its bureau)
    decides; another department sends the decision. A row of that decision — its authority and
    number — from this department's key would become the other department's record's correction
    (its content replaced, the record moved to this department) or one more party of its
    decision. It is rejected at the merge, saying what to check and whom to ask without naming
    the department that sent it (its record may be unpublished: which department holds what is
    not the sender's to learn); the department's own rows of the same file are stored, and the
    other record is as it was."""
    headers, rows = sample_rows()
    own = next(r for r in rows if r["数据来源单位统一社会信用代码"] == "11440402A20Y55BB2N")
    theirs = next(r for r in rows if r["数据来源单位统一社会信用代码"] != own["数据来源单位统一社会信用代码"])
    branch = make_uscc(f"11{theirs['处罚机关统一社会信用代码'][2:8]}{make_org_code('71234567')}")
    theirs = dict(theirs, **{"处罚机关统一社会信用代码": branch, "处罚机关": "某某分局"})
    with db.transaction() as session:
        make_user(session, Role.ADMIN, username="office")
    csrf = login(client, "office")
    stored = client.post("/api/v1/batches?kind=penalties", headers={"X-CSRF-Token": csrf},
                         files={"file": ("theirs.csv", _csv(headers, [theirs]), "text/csv")}).json()
    assert stored["accepted"] == 1, stored["errors"]
    own_header = [h for h in headers if not h.startswith("数据来源单位")]
    changed = {h: v for h, v in theirs.items() if h in own_header}
    changed["违法事实"] = "被其他部门改写的违法事实"
    another_party = dict(changed, **{"行政相对人名称": "另一个当事人有限公司",
                                     "行政相对人代码_1(统一社会信用代码)": own["行政相对人代码_1(统一社会信用代码)"]})
    mine = {h: v for h, v in own.items() if h in own_header}
    answer = _post(client, keys["a"], _csv(own_header, [mine, changed, another_party]), name="mixed.csv").json()
    assert (answer["rows_total"], answer["accepted"], answer["corrected"], answer["rejected"]) == (3, 1, 0, 2)
    errors = answer["errors"]
    assert [(e["line"], e["field"], e["code"]) for e in errors] == [
        (3, "行政处罚决定书文号", "not_own_data"), (4, "行政处罚决定书文号", "not_own_data")]
    for error in errors:  # neither the name nor the code of the department holding the decision
        assert theirs["数据来源单位"] not in error["message"]
        assert theirs["数据来源单位统一社会信用代码"] not in error["message"]
    assert errors[0]["message"] == (
        f"处罚机关统一社会信用代码与行政处罚决定书文号“{theirs['行政处罚决定书文号']}”相同的决定已由另一部门报送，"
        "不是报送部门珠海市生态环境局香洲分局的记录：部门只能报送和更正本部门的记录，本行未保存。请核对这两项是否填写正确；"
        "如该决定确应由本部门报送，请联系信用办核实处理")
    with database.connect() as conn:
        stored_rows = conn.execute(sa.text(
            "SELECT r.department_id, r.current_version, v.data FROM records r "
            "JOIN record_versions v ON v.record_id = r.id WHERE r.authority_uscc = :branch"),
            {"branch": branch}).all()
    assert len(stored_rows) == 1
    department_id, version, data = stored_rows[0]
    assert department_id != keys["department_a"] and version == 1 and "被其他部门改写" not in data
    # the rejected rows are handed back to the department that sent them
    batch_id = answer["batch_id"]
    handed_back = client.get(f"/api/v1/batches/{batch_id}/rejected.csv", headers={"X-API-Key": keys["a"]})
    assert handed_back.status_code == 200
    assert "被其他部门改写的违法事实" in handed_back.text and "另一个当事人有限公司" in handed_back.text


def _csv(headers: list[str], rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=headers, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def test_a_file_name_sent_as_net_clients_send_it_is_listed_as_written(client, keys, database):  # type: ignore[no-untyped-def]
    """.NET's MultipartFormDataContent sends a Chinese name as filename="=?utf-8?B?…?=" with
    filename*=utf-8''… beside it: the batch was listed as "5aSE572aXzEx5pyILmNzdg==?=" (the
    encoded word cut at its "/")."""
    content = WITH_ERRORS.read_bytes()
    encoded = "=?utf-8?B?6KGM5pS/5aSE572aXzEx5pyILmNzdg==?="
    for disposition in (f'form-data; name="file"; filename="{encoded}"; '
                        "filename*=utf-8''%E8%A1%8C%E6%94%BF%E5%A4%84%E7%BD%9A_11%E6%9C%88.csv",
                        f'form-data; name="file"; filename="{encoded}"'):
        body = (b"--XYZ\r\nContent-Disposition: " + disposition.encode("ascii")
                + b"\r\nContent-Type: text/csv\r\n\r\n" + content + b"\r\n--XYZ--\r\n")
        response = client.post("/api/v1/batches?kind=penalties", content=body,
                               headers={"X-API-Key": keys["a"], "Content-Type": "multipart/form-data; boundary=XYZ"})
        assert response.status_code == 201, (disposition, response.text)
        report = response.json()
        assert report["file"] == "行政处罚_11月.csv", disposition
        assert report["rows_total"] == 6


def test_a_file_with_nul_bytes_is_a_report_not_a_server_error(client, keys, database):  # type: ignore[no-untyped-def]
    """A database's fixed-width export pads with NUL (\\u0000 in JSON), in a date, a column name or
    the file's name: PostgreSQL refused to store the batch and the API answered 500. The padding
    is removed (a warning), a NUL inside a value rejects its row with a message that shows it."""
    own = next(r for r in sample_rows()[1] if r["数据来源单位统一社会信用代码"] == "11440402A20Y55BB2N")
    good = {**own, "处罚决定日期": own["处罚决定日期"] + "\x00\x00", "序号\x00": "1"}
    inner = dict(own, 处罚决定日期="2024/08\x00/13")
    content = json.dumps([good, inner]).encode("ascii")  # NULs as \u0000
    body = (b"--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.json\"; "
            b"filename*=utf-8''%E5%A4%84%E7%BD%9A%00.json\r\nContent-Type: application/json\r\n\r\n"
            + content + b"\r\n--XYZ--\r\n")
    response = client.post("/api/v1/batches?kind=penalties", content=body,
                           headers={"X-API-Key": keys["a"], "Content-Type": "multipart/form-data; boundary=XYZ"})
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["file"] == "处罚.json"
    assert [(e["line"], e["code"]) for e in report["errors"]] == [(2, "control_characters")]
    assert "〈NUL〉" in report["errors"][0]["message"]
    assert [(w["line"], w["code"]) for w in report["warnings"] if w["code"] == "control_characters_removed"] == [
        (1, "control_characters_removed")]
    assert [w["message"] for w in report["warnings"] if w["code"] == "unknown_column"] == ["列“序号”不在目录中，已忽略"]
