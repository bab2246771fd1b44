"""The `xinyong` command as an operator uses it: exit codes, reports, refusals, masked ids."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from filehelpers import FIXTURES, count, ingest, sample_rows, write_rows
from xinyong.cli import app
from xinyong.core import db
from xinyong.core.config import reset_settings
from xinyong.core.ids import make_ric
from xinyong.ingest.models import Batch
from xinyong.records.models import Record, RecordVersion

RULE_ID = re.compile(r"\b[a-z][a-z0-9]*(?:-[a-z0-9]+)+\b")
MASKED_RIC = re.compile(r"^\d{4}\*{10}[\dX]{4}$")
PERSON_ID = "22040219981026622X"  # 孙建华 in the sample


def run(*args: str | Path) -> Result:
    # a wide terminal, so that rich does not fold rule ids and paths across lines
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "250"})


def flat(text: str) -> str:
    return " ".join(text.split())


# --- ingest: exit codes and the report ---------------------------------------------------------


def test_ingest_on_a_broken_policy_pack_says_the_platform_is_not_ready(database, broken_packs):
    """Two rules of one kind in force on the same days (an operator's editing slip): no file can be
    decided. The command exits 1 (the platform is not ready), not 2 (the department's file is
    unreadable), naming the pack's problem; nothing is stored."""
    result = run("ingest", "penalties", FIXTURES / "penalties.csv")
    assert result.exit_code == 1, result.output
    assert broken_packs in flat(result.output)
    assert count(database, Record) == 0


def test_ingest_all_stored_exits_0_and_writes_the_report(database, tmp_path):
    result = run("ingest", "penalties", FIXTURES / "penalties.csv", "--report", tmp_path / "r.json")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert (report["kind"], report["file"]) == ("penalties", "penalties.csv")
    assert (report["rows_total"], report["accepted"], report["rejected"], report["errors"]) == (47, 47, 0, [])
    assert count(database, Record) == 47
    again = run("ingest", "penalties", FIXTURES / "penalties_gbk.csv", "--report", tmp_path / "r2.json")
    assert again.exit_code == 0, again.output
    assert json.loads((tmp_path / "r2.json").read_text(encoding="utf-8"))["unchanged"] == 47


def test_ingest_with_rejected_rows_exits_3_and_reports_each_error(database, tmp_path):
    result = run("ingest", "penalties", FIXTURES / "penalties_with_errors.csv", "--report", tmp_path / "r.json")
    assert result.exit_code == 3, result.output
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["rows_total"] == 6
    assert report["accepted"] + report["corrected"] + report["unchanged"] + report["rejected"] == 6
    assert (report["accepted"], report["rejected"]) == (1, 5)
    assert all(set(e) == {"line", "field", "code", "message"} for e in report["errors"])
    assert [(e["line"], e["field"], e["code"]) for e in report["errors"]] == [
        (2, "行政相对人代码_1(统一社会信用代码)", "uscc_checksum"),
        (3, "行政处罚决定书文号", "missing_required"),
        (4, "处罚决定日期", "invalid_date"),
        (5, "处罚类别", "not_in_code_table"),
        (6, "罚款金额（万元）", "not_a_number"),
    ]
    assert all(e["message"] for e in report["errors"])
    assert "uscc_checksum" in result.output and "2024/13/40" in result.output
    assert count(database, Record) == 1


def test_binary_file_is_unreadable_exit_2_and_nothing_is_stored(database, tmp_path):
    path = tmp_path / "penalties.csv"
    path.write_bytes(b"\x00\x01\x02\x03binary\x00\xff" * 64)
    result = run("ingest", "penalties", path, "--report", tmp_path / "r.json")
    assert result.exit_code == 2, result.output
    assert "二进制" in result.output
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert "二进制" in report["error"]
    assert count(database, Batch) == 0


def test_csv_missing_a_required_column_is_unreadable_exit_2(database, tmp_path):
    headers, rows = sample_rows()
    headers.remove("处罚机关")
    for r in rows:
        del r["处罚机关"]
    result = run("ingest", "penalties", write_rows(tmp_path / "p.csv", headers, rows))
    assert result.exit_code == 2, result.output
    assert "处罚机关" in result.output
    assert (count(database, Batch), count(database, Record)) == (0, 0)


def _file_2016(path: Path) -> Path:
    """A 2016-layout penalty file of the sample's first record: no column for the sender."""
    r = sample_rows()[1][0]
    row = {"行政处罚决定书文号": "石家监督罚〔2016〕8号", "处罚名称": "不执行政府定价", "处罚类别1": "罚款",
           "处罚事由": r["违法事实"], "处罚依据": r["处罚依据"], "行政相对人名称": r["行政相对人名称"],
           "行政相对人代码_1(统一社会信用代码)": r["行政相对人代码_1(统一社会信用代码)"], "处罚结果": "罚款 1 万元",
           "处罚决定日期": "2024/08/20", "处罚机关": r["处罚机关"], "当前状态": "0", "地方编码": "130102"}
    return write_rows(path, list(row), [row])


def test_a_2016_file_from_an_unregistered_department_says_how_to_register_it(database, tmp_path):
    """Found by probing: `ingest … --department USCC`, as docs/ingest.md gives it for the 2016
    layout, failed on a platform that had not registered the department, told to fill in
    数据来源单位 “in the file” (a column the layout does not have), wrote no report, and no command
    registered a department. The message gives the command, the report says why nothing was
    stored, and `xinyong department add` registers it (audited), after which the file goes in."""
    import sqlalchemy as sa

    from xinyong.accounts.models import Department
    from xinyong.core.models import AuditEntry

    sender = sample_rows()[1][0]
    code, name = sender["数据来源单位统一社会信用代码"], sender["数据来源单位"]
    path = _file_2016(tmp_path / "old.csv")
    refused = run("ingest", "penalties", path, "--department", code, "--report", tmp_path / "r.json")
    assert refused.exit_code == 2, refused.output
    said = (f"提交单位 {code} 尚未在平台登记，未保存任何数据：请先登记该部门（命令 xinyong department add {code} "
            "部门名称，或由信用办管理员在“部门管理”页面登记），再重新报送")
    assert "".join(said.split()) in "".join(refused.output.split())  # however the terminal folds it
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["error"] == said
    assert (count(database, Batch), count(database, Record)) == (0, 0)

    added = run("department", "add", code, name)
    assert added.exit_code == 0, added.output
    assert f"已登记部门 {name}（{code}）" in added.output and "注意" not in added.output
    listed = run("department", "list")
    assert listed.exit_code == 0 and code in listed.output and name in listed.output and "信用办登记" in listed.output
    again = run("department", "add", code, name)
    assert again.exit_code == 1 and f"统一社会信用代码 {code} 已登记为“{name}”" in again.output
    assert run("department", "add", code[:-1] + "A", name).exit_code == 1  # a wrong check character
    with database.connect() as conn:
        assert conn.execute(sa.select(func.count()).select_from(Department)).scalar_one() == 1
        (entry,) = conn.execute(sa.select(AuditEntry.actor, AuditEntry.after)
                                .where(AuditEntry.action == "department.register")).all()
    assert entry.actor.endswith("department add") and json.loads(entry.after) == {"uscc": code, "name": name}

    stored = run("ingest", "penalties", path, "--department", code)
    assert stored.exit_code == 0, stored.output
    assert count(database, Record) == 1


def test_department_add_warns_of_a_department_of_the_same_name(database):
    """A second department of one name (a code mistyped, or an old one) makes files that name the
    authority without its code ambiguous: registering one says so, naming both codes."""
    assert run("department", "add", "11440402A20Y55BB2N", "珠海市生态环境局").exit_code == 0
    second = run("department", "add", "11440402003703094Q", "珠海市生态环境局")
    assert second.exit_code == 0, second.output
    assert "注意：平台已登记同名的部门“珠海市生态环境局”（11440402A20Y55BB2N）" in "".join(second.output.split())


def test_readmes_example_adds_no_second_department_of_one_name_to_the_demo(database):
    """Found by probing: README's command-line example sends penalties_with_errors.csv to the demo
    database; its valid row registered 珠海市生态环境局 under the fixture's code next to the demo's
    珠海市生态环境局, and 2016-layout files naming that authority were then refused as ambiguous."""
    import sqlalchemy as sa

    from xinyong.accounts.models import Department
    from xinyong.demo.service import load_demo

    load_demo(subjects=40, seed=2026, actor="test")
    result = run("ingest", "penalties", FIXTURES / "penalties_with_errors.csv")
    assert result.exit_code == 3, result.output  # five rows rejected, as the fixture means to
    with database.connect() as conn:
        names = conn.execute(sa.select(Department.name)).scalars().all()
    assert "珠海市生态环境局" in names and len(names) == len(set(names))


def test_unknown_kind_exits_2(database):
    result = run("ingest", "sanctions", FIXTURES / "penalties.csv")
    assert result.exit_code == 2
    assert "penalties" in result.output and count(database, Record) == 0


# --- a database that is not migrated ---------------------------------------------------------


@pytest.fixture
def fresh_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "fresh" / "xinyong.db"
    monkeypatch.setenv("XINYONG_DATABASE_URL", f"sqlite:///{path}")
    reset_settings()
    db.reset_engine()
    yield path
    db.reset_engine()
    reset_settings()


@pytest.mark.parametrize("state", ["missing_file", "empty_file"])
def test_commands_refuse_an_unmigrated_database_until_db_upgrade(fresh_database, state):
    if state == "empty_file":
        fresh_database.parent.mkdir(parents=True)
        sqlite3.connect(fresh_database).close()
    for command in (["policy", "show"], ["subject", "show", PERSON_ID], ["audit", "verify"],
                    ["ingest", "penalties", FIXTURES / "penalties.csv"]):
        refused = run(*command)
        assert refused.exit_code != 0, command
        assert "xinyong db upgrade" in flat(refused.stderr), (command, refused.output)
        assert refused.stdout == "", command  # errors go to stderr: scripts read stdout
        assert PERSON_ID not in refused.output
    upgraded = run("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert run("policy", "show").exit_code == 0
    assert run("ingest", "penalties", FIXTURES / "penalties.csv").exit_code == 0
    assert run("subject", "show", PERSON_ID).exit_code == 0


def test_db_current_says_the_revision_of_a_database_that_is_behind(empty_database_url):
    """Found by probing: on a database one migration behind, `db current` refused like every other
    command (exit 1) instead of saying the revision, which is what an operator asks it before
    upgrading. It says the revision on stdout, and on stderr that it is behind and what to run."""
    from alembic.script import ScriptDirectory

    head = db.head_revision()
    previous = ScriptDirectory.from_config(db.alembic_config()).get_revision(head).down_revision
    assert run("db", "upgrade", "--revision", previous).exit_code == 0
    behind = run("db", "current")
    assert behind.exit_code == 0, behind.output
    assert behind.stdout.strip() == previous
    assert flat(behind.stderr) == f"数据库结构版本为 {previous}，当前程序需要 {head}。请先运行 `xinyong db upgrade`。"
    assert run("db", "upgrade").exit_code == 0
    current = run("db", "current")
    assert (current.exit_code, current.stdout.strip(), current.stderr) == (0, head, "")


# --- policy show --------------------------------------------------------------------------------


def test_policy_show_lists_the_rules_in_force_on_a_date_with_their_sources(database):
    today = run("policy", "show")
    before = run("policy", "show", "--date", "2025-01-01")
    assert (today.exit_code, before.exit_code) == (0, 0)
    assert set(RULE_ID.findall(today.output)) == {
        "penalty-classification-2026", "penalty-publication-2026",
        "publication-deadline-2016", "publication-deadline-other-acts-2019",
    }
    assert set(RULE_ID.findall(before.output)) == {
        "penalty-classification-2023", "penalty-publication-2023",
        "publication-deadline-2016", "publication-deadline-other-acts-2019",
    }
    assert "《信用修复管理办法》" in today.output and "《信用修复管理办法》" not in before.output
    assert "失信行为纠正后的信用信息修复管理办法（试行）" in before.output
    assert "国发〔2016〕33号" in today.output and "国发〔2016〕33号" in before.output
    assert "2026-11-21" in today.output and "2025-01-01" in before.output
    # the minor-fine limits read as a sentence, each party's limit named (it read 不超过其他0.3万元)
    assert "或罚款不超过：自然人 0.02万元、个体工商户 0.02万元、其他 0.3万元" in flat(today.output)


def test_policy_show_names_the_areas_whose_own_rules_decide_their_authorities_records(database):
    """Found by probing: with the default jurisdiction CN a 石家庄 authority's penalty is decided
    by the 石家庄 pack's deadline, a rule `policy show` did not list: the rules of a record are
    those of its deciding authority's area, whatever the platform's jurisdiction."""
    assert ingest(FIXTURES / "penalties.csv").accepted == 47
    with db.transaction() as session:
        rules = set(session.scalars(select(RecordVersion.deadline_rule)))
    assert "shijiazhuang-publication-deadline-2018" in rules
    shown = flat(run("policy", "show").output)
    assert ("另有地区规则，适用于该地区机关作出的决定（用 --jurisdiction 查看）："
            "130100（河北省石家庄市）、410481（河南省舞钢市）") in shown
    shijiazhuang = flat(run("policy", "show", "--jurisdiction", "130100").output)
    assert "shijiazhuang-publication-deadline-2018" in shijiazhuang and "：410481（河南省舞钢市）" in shijiazhuang


def test_policy_show_names_the_area_and_refuses_a_code_that_is_none(database):
    wugang = run("policy", "show", "--jurisdiction", "410481")
    assert wugang.exit_code == 0 and "410481（河南省舞钢市）" in wugang.output
    assert "重错码率低于万分之一" in flat(wugang.output)
    assert "全国" in run("policy", "show", "--jurisdiction", "cn").output
    for code in ("999999", "4104", "舞钢"):
        result = run("policy", "show", "--jurisdiction", code)
        assert result.exit_code == 2 and "不是 CN（全国）或 GB/T 2260 行政区划代码" in flat(result.output), code


def test_policy_show_rejects_a_malformed_date(database):
    result = run("policy", "show", "--date", "2025-13-01")
    assert result.exit_code == 2
    assert "2025-13-01" in result.output and "没有这一天" in result.output
    wrong = run("policy", "show", "--date", "2025/01/01")
    assert wrong.exit_code == 2 and "应为 YYYY-MM-DD" in wrong.output


# --- subject show -------------------------------------------------------------------------------


@pytest.fixture
def sample_loaded(database) -> None:  # type: ignore[no-untyped-def]
    assert run("ingest", "penalties", FIXTURES / "penalties.csv").exit_code == 0


@pytest.mark.usefixtures("sample_loaded")
@pytest.mark.parametrize("number", [PERSON_ID, "440402200008098085"])  # the second is also a valid USCC
def test_subject_show_json_masks_a_natural_persons_id(number):
    result = run("subject", "show", number, "--json")
    assert result.exit_code == 0, result.output
    assert number not in result.output
    payload = json.loads(result.stdout)
    subject = payload["subject"]
    assert subject["kind"] == "natural_person"
    assert MASKED_RIC.match(subject["person_id_masked"])
    assert subject["person_id_masked"] == number[:4] + "*" * 10 + number[-4:]
    (record,) = payload["records"]
    assert record["versions"][0]["data"]["id_number"] == subject["person_id_masked"]
    assert payload["as_of"] == "2026-11-21"


def test_subject_show_json_masks_an_id_typed_on_an_individual_business_row(database, tmp_path):
    """Found by probing: the operator's id in 证件号码 of a 个体工商户 row was stored in clear and
    printed whole by `subject show --json`, while the legal representative's beside it was masked."""
    from xinyong.core.ids import make_uscc, mask_ric

    headers, rows = sample_rows()
    uscc = make_uscc("92130102MA0ABC123")
    operator = make_ric("130102", dt.date(1985, 3, 7), 31)
    shop = dict(rows[0], **{"行政相对人名称": "石家庄市长安区老王小吃店", "行政相对人类别": "个体工商户",
                            "行政相对人代码_1(统一社会信用代码)": uscc, "行政相对人代码_3(组织机构代码)": "",
                            "证件类型": "身份证", "证件号码": operator})
    ingested = run("ingest", "penalties", write_rows(tmp_path / "shop.csv", headers, [shop]))
    assert ingested.exit_code == 0, ingested.output
    result = run("subject", "show", uscc, "--json")
    assert result.exit_code == 0, result.output
    assert operator not in result.output
    (record,) = json.loads(result.stdout)["records"]
    assert record["versions"][0]["data"]["id_number"] == mask_ric(operator)


def test_subject_show_says_what_is_wrong_with_a_code_it_cannot_read(database):
    """Found by probing: a company code with a wrong check character was masked in the message
    as if it were a person's id (the typo could not be seen), and the individual businesses'
    placeholder 00000000000000000X was called an invalid code."""
    typo = run("subject", "show", "91130102MA0BBBB15X")
    assert typo.exit_code == 1 and "91130102MA0BBBB15X" in flat(typo.output)
    person_typo = run("subject", "show", "220402199810266221")  # an id with a wrong check digit
    assert person_typo.exit_code == 1 and "220402199810266221" not in person_typo.output
    assert "2204**********6221" in person_typo.output
    placeholder = run("subject", "show", "00000000000000000X")
    assert placeholder.exit_code == 1 and "占位代码" in flat(placeholder.output)


@pytest.mark.usefixtures("sample_loaded")
def test_subject_show_table_never_shows_full_ids():
    _, rows = sample_rows()
    person = run("subject", "show", PERSON_ID)
    assert person.exit_code == 0 and "孙建华" in person.output
    assert PERSON_ID not in person.output and "2204**********622X" in person.output
    company = run("subject", "show", rows[0]["行政相对人代码_1(统一社会信用代码)"], "--json")
    assert company.exit_code == 0
    assert rows[0]["法定代表人证件号码"] not in company.output
    (rep,) = json.loads(company.stdout)["subject"]["legal_representatives"]
    assert MASKED_RIC.match(rep["id_masked"])


@pytest.mark.usefixtures("sample_loaded")
def test_subject_show_unknown_code_fails_without_echoing_a_resident_id():
    stranger = make_ric("110101", dt.date(1985, 3, 4), 17)
    result = run("subject", "show", stranger)
    assert result.exit_code == 1
    assert stranger not in result.output and "1101**********" in result.output


# --- demo ---------------------------------------------------------------------------------------


def test_demo_writes_csv_files_that_ingest_cleanly(database, tmp_path):
    out_dir = tmp_path / "demo"
    result = run("demo", "--write-csv", out_dir, "--subjects", "50")
    assert result.exit_code == 0, result.output
    written = {Path(p).name: int(n) for p, n in re.findall(r"已写入 (\S+)（(\d+) 行）", result.output)}
    assert set(written) == {"demo_penalties.csv", "demo_licences.csv", "demo_penalty_corrections.csv"}
    for name, n in written.items():
        with open(out_dir / name, encoding="utf-8", newline="") as fh:
            assert len(list(csv.DictReader(fh))) == n
    assert written["demo_penalties.csv"] > 0 and written["demo_licences.csv"] > 0
    assert count(database, Record) == 0, "--write-csv writes files only"
    for kind, name in (("penalties", "demo_penalties.csv"), ("licences", "demo_licences.csv")):
        ingested = run("ingest", kind, out_dir / name, "--report", tmp_path / f"{name}.json")
        assert ingested.exit_code == 0, ingested.output
        report = json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))
        assert report["accepted"] == written[name]
    corrections = run("ingest", "penalties", out_dir / "demo_penalty_corrections.csv",
                      "--report", tmp_path / "c.json")
    assert corrections.exit_code == 0, corrections.output
    report = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert report["corrected"] == written["demo_penalty_corrections.csv"]


def test_the_demo_s_batches_and_accounts_are_in_the_audit_log(database):
    """`xinyong demo` stored its three batches with no audit entry (only the demo accounts were
    audited): the audit log did not show every write. Each batch is now a batch.submit entry,
    naming the operator's login and the command, as `xinyong ingest` does."""
    import sqlalchemy as sa

    from xinyong.core.models import AuditEntry

    result = run("demo", "--subjects", "20")
    assert result.exit_code == 0, result.output
    with database.connect() as conn:
        batches = conn.execute(sa.select(Batch.id, Batch.rows_total).order_by(Batch.id)).all()
        entries = conn.execute(sa.select(AuditEntry.actor, AuditEntry.action, AuditEntry.target_id,
                                         AuditEntry.after).order_by(AuditEntry.seq)).all()
    submitted = [e for e in entries if e.action == "batch.submit"]
    assert len(batches) == 3
    assert [int(e.target_id) for e in submitted] == [b.id for b in batches]
    assert [json.loads(e.after)["rows_total"] for e in submitted] == [b.rows_total for b in batches]
    assert {e.actor for e in entries} == {submitted[0].actor}  # the accounts' entries name the same actor
    assert submitted[0].actor.startswith("cli") and submitted[0].actor.endswith(" demo")
    assert run("audit", "verify").exit_code == 0


def test_records_reclassify_decides_stored_penalties_again_and_saves_only_with_apply(database, tmp_path):
    """A person fined 1,000 元 was classed 轻微 and withheld by an intake that used the
    organisations' limit; re-sending the row changes nothing (it is unchanged). `records
    reclassify` lists what the rules now decide otherwise, and saves it, audited, with --apply."""
    import sqlalchemy as sa

    from xinyong.core.models import AuditEntry
    from xinyong.records.models import RecordVersion

    headers, rows = sample_rows()
    person = next(r for r in rows if r["行政相对人类别"] == "自然人")
    number = "石家监督罚〔2026〕777号"
    row = dict(person, **{"行政处罚决定书文号": number, "处罚决定日期": "2026/06/15", "处罚类别": "罚款",
                          "罚款金额（万元）": "0.1", "没收违法所得、没收非法财物的金额（万元）": "",
                          "暂扣或吊销证照名称及编号": ""})
    assert run("ingest", "penalties", write_rows(tmp_path / "p.csv", headers, [row])).exit_code == 0
    with database.begin() as conn:  # what the earlier intake stored
        conn.execute(sa.update(RecordVersion).values(
            penalty_class="轻微", class_reason="处罚类别仅为罚款，罚款0.1万元未超过0.3万元", published=False))

    def stored() -> tuple[str, bool]:
        with database.connect() as conn:
            return tuple(conn.execute(sa.select(RecordVersion.penalty_class, RecordVersion.published)).one())

    listed = run("records", "reclassify")
    assert listed.exit_code == 0, listed.output
    assert number in listed.output and "轻微 → 一般" in flat(listed.output) and "--apply" in listed.output
    assert stored() == ("轻微", False)
    # as an operator runs it: a process of its own, with only the modules the command loads
    import os
    import subprocess
    import sys

    applied = subprocess.run(
        [sys.executable, "-c", "from xinyong.cli import app; app()", "records", "reclassify", "--apply"],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "250"}, timeout=300)
    assert applied.returncode == 0, applied.stderr[-2000:]
    assert "已保存 1 条改变" in applied.stdout
    assert stored() == ("一般", True)
    with database.connect() as conn:
        actions = conn.scalars(sa.select(AuditEntry.action)).all()
    assert actions.count("record.reclassify") == 1
    again = run("records", "reclassify")
    assert "认定均无改变" in again.output


def test_the_first_administrator_is_created_by_the_command_in_a_process_of_its_own(database):
    """`xinyong user create`, as operations.md gives it, crashed in a fresh process (the user's
    table points at subjects, whose model the command had not loaded): nobody could log in."""
    import os
    import subprocess
    import sys

    command = [sys.executable, "-c", "from xinyong.cli import app; app()"]
    env = {**os.environ, "COLUMNS": "250"}
    created = subprocess.run([*command, "user", "create", "--username", "admin", "--role", "admin",
                              "--display-name", "张三", "--password-stdin"],
                             input="correct horse battery staple 42\n", capture_output=True, text=True, env=env,
                             timeout=300)
    assert created.returncode == 0, created.stderr[-2000:]
    assert "已创建用户 admin" in created.stdout
    listed = subprocess.run([*command, "user", "list"], capture_output=True, text=True, env=env, timeout=300)
    assert listed.returncode == 0 and "admin" in listed.stdout and "张三" in listed.stdout, listed.stderr[-2000:]


def test_a_batch_ingested_on_the_command_line_is_in_the_audit_log(database, tmp_path):
    """Batches sent through the API were audited (batch.submit), those run with `xinyong ingest`
    were not: the audit log did not show every write."""
    import sqlalchemy as sa

    from xinyong.core.models import AuditEntry

    result = run("ingest", "penalties", FIXTURES / "penalties.csv")
    assert result.exit_code == 0, result.output
    with database.connect() as conn:
        entries = conn.execute(sa.select(AuditEntry.actor, AuditEntry.action, AuditEntry.after)).all()
    submitted = [e for e in entries if e.action == "batch.submit"]
    assert len(submitted) == 1 and submitted[0].actor.startswith("cli") and submitted[0].actor.endswith("ingest")
    assert json.loads(submitted[0].after)["accepted"] == 47
    assert run("audit", "verify").exit_code == 0


def test_records_redeadline_counts_provisional_deadlines_again_on_the_calendar_in_force(database, tmp_path):
    """A database whose 2027 schedule was stored by a release that did not recompute deadlines
    (the rows are written straight into the calendar tables here) keeps a provisional deadline;
    `records redeadline` lists it and saves it, audited, with --apply; a second run finds nothing."""
    import sqlalchemy as sa

    from xinyong.core import clock
    from xinyong.core.models import AuditEntry, CalendarDay, CalendarYear
    from xinyong.records.models import RecordVersion

    headers, rows = sample_rows()
    number = "石家监督罚〔2027〕906号"
    row = dict(rows[0], **{"行政处罚决定书文号": number, "处罚决定日期": "2027/02/03"})
    with clock.frozen(dt.date(2027, 2, 19)):
        assert run("ingest", "penalties", write_rows(tmp_path / "p.csv", headers, [row])).exit_code == 0

    def stored() -> tuple[dt.date, bool, bool]:
        with database.connect() as conn:
            return tuple(conn.execute(sa.select(
                RecordVersion.deadline, RecordVersion.deadline_provisional, RecordVersion.on_time)).one())

    assert stored() == (dt.date(2027, 2, 18), True, False)
    # subject show marks a judgement on a provisional deadline as such (the workbench did already)
    shown = run("subject", "show", row["行政相对人代码_1(统一社会信用代码)"])
    assert "否（暂定）" in flat(shown.output), shown.output
    with database.begin() as conn:
        conn.execute(sa.insert(CalendarYear).values(
            year=2027, source="测试用安排", loaded_at=dt.datetime(2027, 2, 25, tzinfo=dt.UTC)))
        conn.execute(sa.insert(CalendarDay), [
            {"day": dt.date(2027, 1, 1) + dt.timedelta(days=d), "year": 2027, "working": False, "note": ""}
            for d in (0, 3, *range(35, 43))  # 01-01, 01-04, 02-05..02-12
        ])
    listed = run("records", "redeadline")
    assert listed.exit_code == 0, listed.output
    assert number in listed.output and "2027-02-18 → 2027-02-22" in flat(listed.output)
    assert "--apply" in listed.output
    assert stored() == (dt.date(2027, 2, 18), True, False)
    applied = run("records", "redeadline", "--apply")
    assert applied.exit_code == 0, applied.output
    assert "已保存 1 条改变" in applied.output
    assert stored() == (dt.date(2027, 2, 22), False, True)
    assert "（暂定）" not in run("subject", "show", row["行政相对人代码_1(统一社会信用代码)"]).output
    with database.connect() as conn:
        assert conn.scalars(sa.select(AuditEntry.action)).all().count("record.deadline") == 1
    again = run("records", "redeadline")
    assert "共检查 0 条暂定的公示期限，均无改变" in again.output


def test_subject_show_lists_a_name_written_another_way_as_no_former_name(database, tmp_path):
    """Found by probing: 华北(石家庄)… after 华北（石家庄）… was listed as 曾用名 by `subject show`
    while the public page, rightly, showed none; a real rename is a former name in both."""
    headers, rows = sample_rows()
    row = next(r for r in rows if r["行政相对人类别"] == "法人及非法人组织")
    code = row["行政相对人代码_1(统一社会信用代码)"]
    number = row["行政处罚决定书文号"]
    sent = [("华北（石家庄）科技有限公司", number), ("华北(石家庄) 科技有限公司", number + "之一")]
    for n, (name, no) in enumerate(sent):
        written = dict(row, 行政相对人名称=name, 行政处罚决定书文号=no)
        assert run("ingest", "penalties", write_rows(tmp_path / f"{n}.csv", headers, [written])).exit_code == 0
    shown = json.loads(run("subject", "show", code, "--json").output)["subject"]
    assert shown["former_names"] == []
    assert "曾用名" not in run("subject", "show", code).output
    renamed = dict(row, 行政相对人名称="华北石家庄数字科技有限公司", 行政处罚决定书文号=number + "之二")
    assert run("ingest", "penalties", write_rows(tmp_path / "r.csv", headers, [renamed])).exit_code == 0
    shown = json.loads(run("subject", "show", code, "--json").output)["subject"]
    assert shown["name"] == "华北石家庄数字科技有限公司" and shown["former_names"] == ["华北（石家庄）科技有限公司"]
    assert "曾用名" in run("subject", "show", code).output


# --- subject merge ----------------------------------------------------------------------------

SHOP_USCC = "92440402MA00000151"  # the sample shop's USCC, arriving late
SHOP_REG_NO = "440402640398031"


def split_shop(tmp_path: Path) -> dict[str, dict[str, str]]:
    """The sample individual business split in two: one system sent it by its organisation code,
    another by its registration number (placeholder USCC), before its USCC arrived."""
    headers, rows = sample_rows()
    shop = next(r for r in rows if r["行政相对人代码_1(统一社会信用代码)"] == "00000000000000000X")
    assert shop["行政相对人代码_2(工商注册号)"] == SHOP_REG_NO
    sent = {
        "org_code": dict(shop, **{"行政相对人代码_1(统一社会信用代码)": "", "行政相对人代码_2(工商注册号)": "",
                                  "行政相对人代码_3(组织机构代码)": SHOP_USCC[8:17],
                                  "行政处罚决定书文号": "珠海生态罚〔2025〕9号", "处罚决定日期": "2025/04/01"}),
        "reg_no": shop,
        "uscc": dict(shop, **{"行政相对人代码_1(统一社会信用代码)": SHOP_USCC,
                              "行政处罚决定书文号": "珠海生态罚〔2025〕3号", "处罚决定日期": "2025/03/03"}),
    }
    for name, row in sent.items():
        assert run("ingest", "penalties", write_rows(tmp_path / f"{name}.csv", headers, [row])).exit_code == 0
    return sent


def test_subject_merge_shows_what_it_would_do_and_merges_only_with_apply_and_a_reason(database, tmp_path):
    import sqlalchemy as sa

    from xinyong.core.models import AuditEntry
    from xinyong.subjects.models import Subject

    sent = split_shop(tmp_path)
    numbers = [row["行政处罚决定书文号"] for row in sent.values()]
    assert "珠海生态罚〔2024〕200号" not in run("subject", "show", SHOP_USCC).output  # split: not all there

    preview = run("subject", "merge", SHOP_USCC, SHOP_REG_NO)
    assert preview.exit_code == 0, preview.output
    text = flat(preview.output)
    assert "合并预览（未作改动）" in text and "未作任何改动" in text and "--apply" in text
    assert SHOP_USCC in text and SHOP_REG_NO in text and "珠海市新源小吃店" in text
    assert "信用记录 │ 2 条 │ 1 条 │ 3 条" in text
    assert f"保留的主体将取得：工商注册号 {SHOP_REG_NO}" in text
    assert count(database, Subject) == 2

    unreasoned = run("subject", "merge", SHOP_USCC, SHOP_REG_NO, "--apply")
    assert unreasoned.exit_code == 2 and "--reason" in unreasoned.output
    assert count(database, Subject) == 2

    applied = run("subject", "merge", SHOP_USCC, SHOP_REG_NO, "--apply", "--reason", "同一个体工商户的新旧代码")
    assert applied.exit_code == 0, applied.output
    assert "已合并" in applied.output and "已删除" in applied.output
    assert count(database, Subject) == 1
    for code in (SHOP_REG_NO, SHOP_USCC[8:17], SHOP_USCC):  # the code of the subject merged away finds it
        shown = run("subject", "show", code)
        assert shown.exit_code == 0 and SHOP_USCC in shown.output and SHOP_REG_NO in shown.output
        assert all(number in shown.output for number in numbers), code
    with database.connect() as conn:
        (entry,) = conn.execute(sa.select(AuditEntry.actor, AuditEntry.after)
                                .where(AuditEntry.action == "subject.merge")).all()
    assert entry.actor.startswith("cli") and entry.actor.endswith("subject merge")
    assert json.loads(entry.after)["reason"] == "同一个体工商户的新旧代码"
    assert run("audit", "verify").exit_code == 0
    # run again: the subject merged away is gone
    again = run("subject", "merge", SHOP_USCC, SHOP_REG_NO)
    assert again.exit_code == 1 and "同一个主体" in flat(again.output)


def test_subject_merge_lists_a_decision_both_subjects_have(database, tmp_path):
    headers, _ = sample_rows()
    sent = split_shop(tmp_path)
    twice = [dict(sent[k], **{"行政处罚决定书文号": "珠海生态罚〔2025〕50号", "处罚决定日期": "2025/05/06"})
             for k in ("org_code", "reg_no")]
    assert run("ingest", "penalties", write_rows(tmp_path / "twice.csv", headers, twice)).exit_code == 0
    preview = run("subject", "merge", SHOP_REG_NO, SHOP_USCC)
    assert preview.exit_code == 0, preview.output
    text = flat(preview.output)
    assert "同一决定在两个主体下各有一条记录" in text and "珠海生态罚〔2025〕50号" in text
    assert "信用记录 │ 2 条 │ 3 条 │ 4 条" in text
    applied = run("subject", "merge", SHOP_REG_NO, SHOP_USCC, "--apply", "--reason", "同一个体工商户")
    assert applied.exit_code == 0, applied.output
    versions = json.loads(run("subject", "show", SHOP_USCC, "--json").stdout)["records"]
    (record,) = [r for r in versions if r["decision_no"] == "珠海生态罚〔2025〕50号"]
    assert [v["version"] for v in record["versions"]] == [1, 2]


@pytest.mark.usefixtures("sample_loaded")
def test_subject_merge_refuses_persons_and_two_businesses_and_changes_nothing(database):
    from xinyong.subjects.models import Subject

    _, rows = sample_rows()
    subjects = count(database, Subject)
    person = run("subject", "merge", rows[0]["行政相对人代码_1(统一社会信用代码)"], PERSON_ID, "--apply",
                 "--reason", "测试")
    assert person.exit_code == 1 and "自然人" in person.output and PERSON_ID not in person.output
    two = run("subject", "merge", rows[0]["行政相对人代码_1(统一社会信用代码)"],
              rows[1]["行政相对人代码_1(统一社会信用代码)"], "--apply", "--reason", "测试")
    assert two.exit_code == 1 and "统一社会信用代码不同" in flat(two.output)
    unknown = run("subject", "merge", rows[0]["行政相对人代码_1(统一社会信用代码)"], "id:999999")
    assert unknown.exit_code == 1 and "999999" in unknown.output
    assert count(database, Subject) == subjects
