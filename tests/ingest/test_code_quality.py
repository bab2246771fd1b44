"""The 重错码 report (DOMAIN §4): one code under two names, one name under two codes, and the rows
departments sent with a wrong code, against the jurisdiction's target."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from filehelpers import (
    AUTHORITY_USCC,
    CATEGORY,
    DECISION_DATE,
    DECISION_NO,
    NAME,
    ORG_CODE,
    USCC,
    ingest,
    sample_rows,
    write_rows,
)
from webhelpers import login, make_user
from xinyong.accounts.access import Role
from xinyong.cli import app as cli
from xinyong.core import clock, db
from xinyong.core.config import reset_settings
from xinyong.core.ids import make_org_code, make_ric, make_uscc
from xinyong.ingest.service import code_quality

pytestmark = pytest.mark.usefixtures("database")



def uscc(org: str, area: str = "130102") -> str:
    return make_uscc(f"91{area}{make_org_code(org)}")


SHARED = uscc("10000001")  # one code, two businesses' names at the same time
RENAMED = uscc("10000002")  # a rename: one name after the other
TWIN_A, TWIN_B = uscc("10000003"), uscc("10000004", area="410481")  # one name, two codes
WRONG = SHARED[:17] + ("0" if SHARED[17] != "0" else "1")  # SHARED with a wrong check character


def row(base: dict[str, str], n: int, **cells: str) -> dict[str, str]:
    """A penalty of the sample's first department with a number of its own."""
    return dict(base, **{DECISION_NO: f"石家监督罚〔2024〕{900 + n}号", "法定代表人证件号码": ""}, **cells)


@pytest.fixture
def loaded(tmp_path: Path) -> dict[str, int]:
    """Two files of the 石家庄 market regulator and one of the 舞钢 transport bureau."""
    headers, rows = sample_rows()
    sjz, wugang = rows[0], rows[1]
    first = [
        row(sjz, 1, **{NAME: "石家庄甲乙商贸有限公司", USCC: SHARED, DECISION_DATE: "2024/02/01"}),
        row(sjz, 2, **{NAME: "河北丙丁建筑工程有限公司", USCC: SHARED, DECISION_DATE: "2024/03/01"}),
        row(sjz, 3, **{NAME: "石家庄甲乙商贸有限公司", USCC: SHARED, DECISION_DATE: "2024/05/01"}),
        row(sjz, 4, **{NAME: "石家庄华美商贸有限公司", USCC: RENAMED, DECISION_DATE: "2023/01/10"}),
        row(sjz, 5, **{NAME: "河北华美商贸集团有限公司", USCC: RENAMED, DECISION_DATE: "2024/06/01"}),
        row(sjz, 6, **{NAME: "石家庄同名食品有限公司", USCC: TWIN_A}),
        # two people of one name are two persons, not a duplicate code
        row(sjz, 7, **{NAME: "张伟", CATEGORY: "自然人", USCC: "", "证件类型": "身份证",
                       "证件号码": make_ric("130102", dt.date(1980, 1, 1), 11)}),
        row(sjz, 8, **{NAME: "张伟", CATEGORY: "自然人", USCC: "", "证件类型": "身份证",
                       "证件号码": make_ric("130102", dt.date(1990, 1, 1), 13)}),
        # wrong codes of the party: rejected, counted
        row(sjz, 9, **{USCC: WRONG}),
        row(sjz, 10, **{USCC: "", ORG_CODE: "12345678-0"}),
        row(sjz, 11, **{USCC: WRONG, ORG_CODE: "12345678-0"}),  # two wrong codes, one row
        # the authority's code is wrong: rejected, but it is no party's code
        row(sjz, 12, **{AUTHORITY_USCC: "11130102XBGQUWLD4A"}),
    ]
    report = ingest(write_rows(tmp_path / "sjz.csv", headers, first))
    assert (report.accepted, report.rejected) == (8, 4), report.errors
    second = [dict(wugang, **{NAME: "石家庄同名食品有限公司", USCC: TWIN_B, "法定代表人证件号码": ""})]
    report = ingest(write_rows(tmp_path / "wugang.csv", headers, second))
    assert (report.accepted, report.rejected) == (1, 0), report.errors
    return {"sjz_rows": len(first), "wugang_rows": len(second)}


def test_a_code_under_two_names_at_once_and_a_name_under_two_codes_are_suspected_duplicates(loaded):
    with db.transaction() as session:
        report = code_quality(session)
    d = report.duplicates
    assert d.subjects_total == 4  # SHARED, RENAMED, TWIN_A, TWIN_B; the two persons are not counted
    assert (d.under_names_total, d.concurrent_total) == (2, 1)
    shared, renamed = d.under_names
    assert (shared.subject.uscc, shared.concurrent) == (SHARED, True)
    assert [n.name for n in shared.names] == ["石家庄甲乙商贸有限公司", "河北丙丁建筑工程有限公司"]
    assert (renamed.subject.uscc, renamed.concurrent) == (RENAMED, False)
    assert [(n.name, n.first_seen_on) for n in renamed.names] == [
        ("石家庄华美商贸有限公司", dt.date(2023, 1, 10)), ("河北华美商贸集团有限公司", dt.date(2024, 6, 1))]
    assert shared.similarity < 50 < renamed.similarity  # two businesses' names are less alike than a rename's
    assert d.under_codes_total == 1
    (twins,) = d.under_codes
    assert twins.name == "石家庄同名食品有限公司"
    assert {s.uscc for s in twins.subjects} == {TWIN_A, TWIN_B}
    assert {s.area_code for s in twins.subjects} == {"130102", "410481"}
    # counted: the code used by two names at once and both codes of the shared name, not the rename
    assert d.suspected_subjects == 3
    assert report.duplicate_rate == pytest.approx(3 / 4)


def test_rows_rejected_for_a_wrong_party_code_are_counted_for_their_department(loaded):
    with db.transaction() as session:
        report = code_quality(session)
    sending = {d.name: d for d in report.departments if d.rows_total}
    assert set(sending) == {"石家庄市市场监督管理局", "舞钢市交通运输局"}
    sjz = sending["石家庄市市场监督管理局"]
    # rows 9, 10 and 11; row 11 has two wrong codes and counts once; row 12 (authority) not at all
    assert (sjz.rows_total, sjz.rows_wrong_code) == (loaded["sjz_rows"], 3)
    assert {k.label: k.rows for k in sjz.kinds} == {"统一社会信用代码校验位错误": 2, "组织机构代码校验位错误": 2}
    assert sjz.rate == pytest.approx(3 / 12)
    assert (sending["舞钢市交通运输局"].rows_wrong_code, sending["舞钢市交通运输局"].rate) == (0, 0)
    assert (report.rows_total, report.rows_wrong_code) == (13, 3)
    assert report.departments[0].name == "石家庄市市场监督管理局"  # the worst first


def test_the_period_counts_the_batches_received_in_it(loaded):
    today = clock.today()
    with db.transaction() as session:
        now = code_quality(session, since=today, until=today)
        later = code_quality(session, since=today + dt.timedelta(days=1))
        earlier = code_quality(session, until=today - dt.timedelta(days=1))
    assert (now.rows_total, now.rows_wrong_code) == (13, 3)
    assert (later.rows_total, later.rows_wrong_code, later.wrong_code_rate) == (0, 0, None)
    assert earlier.rows_total == 0
    # duplicates are a state of the registry, not of a period
    assert later.duplicates.suspected_subjects == 3


@pytest.fixture
def wugang(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XINYONG_JURISDICTION", "410481")
    reset_settings()
    yield
    monkeypatch.delenv("XINYONG_JURISDICTION")
    reset_settings()


def test_the_target_comes_from_the_jurisdictions_policy_pack(loaded, wugang):
    with db.transaction() as session:
        report = code_quality(session)
    assert report.target is not None
    assert (report.target.in_words, report.target.rule_id) == ("万分之一", "wugang-code-quality-2020")
    assert "舞钢市" in report.target.citation
    assert report.meets(report.duplicate_rate) is False
    assert report.meets(0.00009) is True and report.meets(0.0001) is False  # 降至万分之一以下


def test_without_a_target_in_the_packs_none_is_shown(loaded):
    with db.transaction() as session:
        report = code_quality(session)
    assert report.target is None and report.meets(report.duplicate_rate) is None


# --- the workbench page, its download, the API and the command --------------------------------


@pytest.fixture
def admin(database: sa.Engine) -> str:
    with db.transaction() as session:
        make_user(session, Role.ADMIN, username="admin1")
        make_user(session, Role.OFFICER, username="officer1")
    return "admin1"


def test_the_credit_office_reads_the_report_on_the_workbench(loaded, admin, client, wugang):
    login(client, admin)
    page = client.get("/workbench/quality")
    assert "/workbench/quality/codes" in page.text
    response = client.get("/workbench/quality/codes")
    assert response.status_code == 200
    html = response.text
    assert "重错码率低于万分之一" in html and "未达标" in html
    assert "疑似重码的主体</dt>\n  <dd id=\"duplicate-rate\">3 个，重码率 百分之75" in html
    assert "因主体代码错误拒收 3 行" in html
    assert "统一社会信用代码校验位错误 2 行" in html
    assert "同期使用，疑似重码" in html and "先后使用（更名）" in html
    assert f"/subjects/{SHARED}" in html and TWIN_B in html
    assert "张伟" not in html
    # a date that cannot be read is said, not a server error
    wrong = client.get("/workbench/quality/codes?since=2026-13-01")
    assert wrong.status_code == 200 and "起始日期“2026-13-01”不是有效日期" in wrong.text


def test_the_download_lists_every_subject_on_three_sheets(loaded, admin, client, tmp_path):
    login(client, admin)
    response = client.get("/workbench/quality/codes.xlsx")
    assert response.status_code == 200
    path = tmp_path / "codes.xlsx"
    path.write_bytes(response.content)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["各部门错码", "一码多名", "一名多码"]
    departments = list(book["各部门错码"].values)
    assert departments[1][:4] == ("石家庄市市场监督管理局", "11130102XBGQUWLD4Q", 12, 3)
    under_names = list(book["一码多名"].values)
    assert [r[2] for r in under_names[1:]] == [SHARED, RENAMED]
    assert under_names[1][7] == "同期使用，疑似重码"
    assert {r[3] for r in list(book["一名多码"].values)[1:]} == {TWIN_A, TWIN_B}


def test_officers_may_not_read_the_report(loaded, admin, client):
    login(client, "officer1")
    assert client.get("/workbench/quality/codes").status_code == 403
    assert client.get("/workbench/quality/codes.xlsx").status_code == 403
    assert client.get("/api/v1/quality/codes").status_code == 403


def test_the_api_answers_the_report_as_json(loaded, admin, client):
    login(client, admin)
    body = client.get("/api/v1/quality/codes", params={"limit": 1}).json()
    assert body["duplicates"]["suspected_subjects"] == 3
    assert body["duplicates"]["under_names_total"] == 2 and len(body["duplicates"]["under_names"]) == 1
    assert (body["rows_total"], body["rows_wrong_code"]) == (13, 3)
    assert body["target"] is None


def test_the_command_prints_the_report_and_writes_it_in_full(loaded, tmp_path, wugang):
    runner = CliRunner()
    result = runner.invoke(cli, ["quality", "codes"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "目标：重错码率低于万分之一" in text
    assert "疑似重码的主体 3 个 / 统一登记的主体 4 个，重码率 百分之75（未达标）" in text
    assert "因主体代码错误拒收 3 行" in text
    as_json = runner.invoke(cli, ["quality", "codes", "--json", "--xlsx", str(tmp_path / "all.xlsx")])
    assert as_json.exit_code == 0
    body = json.loads(as_json.stdout)
    assert body["duplicates"]["concurrent_total"] == 1
    assert openpyxl.load_workbook(tmp_path / "all.xlsx").sheetnames == ["各部门错码", "一码多名", "一名多码"]
    wrong = runner.invoke(cli, ["quality", "codes", "--since", "2026-12-01", "--until", "2026-11-01"])
    assert wrong.exit_code == 2 and "晚于" in wrong.output
