"""The synthetic 双公示 generator: deterministic, valid codes, realistic spread, streaming CSV."""

from __future__ import annotations

import csv
import datetime as dt
import random
import re
from collections import Counter
from decimal import Decimal
from itertools import islice
from pathlib import Path

import pytest

from xinyong.core.ids import (
    PLACEHOLDER_USCC,
    InvalidCode,
    validate_reg_no,
    validate_ric,
    validate_uscc,
)
from xinyong.demo.generator import (
    CITIES,
    LICENCE_HEADERS,
    PENALTY_HEADERS,
    RENAMED_ONE_IN,
    DemoSubject,
    bench_penalty_rows,
    departments,
    licence_rows,
    penalty_rows,
    subjects,
    write_csv,
)

TODAY = dt.date(2026, 11, 21)

# The header lines of shared/samples/penalties.csv and licences.csv, copied verbatim.
SAMPLE_PENALTY_HEADER = (
    "行政相对人名称,行政相对人类别,行政相对人代码_1(统一社会信用代码),行政相对人代码_2(工商注册号),"
    "行政相对人代码_3(组织机构代码),行政相对人代码_4(税务登记号),行政相对人代码_5(事业单位证书号),"
    "行政相对人代码_6(社会组织登记证号),法定代表人,法定代表人证件类型,法定代表人证件号码,证件类型,证件号码,"
    "行政处罚决定书文号,违法行为类型,违法事实,处罚依据,处罚类别,处罚内容,罚款金额（万元）,"
    "没收违法所得、没收非法财物的金额（万元）,暂扣或吊销证照名称及编号,处罚决定日期,处罚有效期,公示截止期,"
    "处罚机关,处罚机关统一社会信用代码,数据来源单位,数据来源单位统一社会信用代码,备注"
)
SAMPLE_LICENCE_HEADER = (
    "行政相对人名称,行政相对人类别,行政相对人代码_1(统一社会信用代码),行政相对人代码_2(工商注册号),"
    "行政相对人代码_3(组织机构代码),行政相对人代码_4(税务登记号),行政相对人代码_5(事业单位证书号),"
    "行政相对人代码_6(社会组织登记证号),法定代表人,法定代表人证件类型,法定代表人证件号码,证件类型,证件号码,"
    "行政许可决定文书名称,行政许可决定文书号,许可类别,许可证书名称,许可编号,许可内容,许可决定日期,有效期自,"
    "有效期至,许可机关,许可机关统一社会信用代码,当前状态,数据来源单位,数据来源单位统一社会信用代码,备注"
)

ORG = "法人及非法人组织"
PERSON = "自然人"
INDIVIDUAL = "个体工商户"

CODE1 = "行政相对人代码_1(统一社会信用代码)"
CODE2 = "行政相对人代码_2(工商注册号)"
FINE = "罚款金额（万元）"
CONFISCATED = "没收违法所得、没收非法财物的金额（万元）"

MINOR_KINDS = {"警告", "通报批评"}
SEVERE_MEASURES = {"吊销许可证件", "责令停产停业", "责令关闭", "限制从业", "降低资质等级"}
PENALTY_KINDS = {
    "警告", "通报批评", "罚款", "没收违法所得", "没收非法财物", "暂扣许可证件", "降低资质等级", "吊销许可证件",
    "限制开展生产经营活动", "责令停产停业", "责令关闭", "限制从业", "行政拘留", "其他",
}  # fmt: skip
DATE = re.compile(r"^\d{4}/\d{2}/\d{2}$")


def _date(text: str) -> dt.date:
    assert DATE.match(text), text
    return dt.datetime.strptime(text, "%Y/%m/%d").date()


def _classify(row: dict[str, str]) -> str:
    kinds = set(row["处罚类别"].split(";"))
    fine = Decimal(row[FINE]) if row[FINE] else Decimal(0)
    if kinds <= MINOR_KINDS:
        return "minor"
    if kinds & SEVERE_MEASURES or fine >= 100:
        return "serious"
    return "general"


@pytest.fixture(scope="module")
def penalties() -> list[dict[str, str]]:
    return list(penalty_rows(1000, seed=11, today=TODAY))


@pytest.fixture(scope="module")
def licences() -> list[dict[str, str]]:
    return list(licence_rows(1000, seed=11, today=TODAY))


# --------------------------------------------------------------------------- headers


def test_headers_are_the_sample_headers() -> None:
    assert ",".join(PENALTY_HEADERS) == SAMPLE_PENALTY_HEADER
    assert ",".join(LICENCE_HEADERS) == SAMPLE_LICENCE_HEADER
    assert len(PENALTY_HEADERS) == 30


def test_rows_have_exactly_the_headers(penalties: list[dict[str, str]], licences: list[dict[str, str]]) -> None:
    assert all(tuple(row) == PENALTY_HEADERS for row in penalties)
    assert all(tuple(row) == LICENCE_HEADERS for row in licences)
    assert all(isinstance(v, str) for row in penalties + licences for v in row.values())


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_output() -> None:
    assert list(penalty_rows(300, seed=5, today=TODAY)) == list(penalty_rows(300, seed=5, today=TODAY))
    assert list(licence_rows(300, seed=5, today=TODAY)) == list(licence_rows(300, seed=5, today=TODAY))
    assert list(bench_penalty_rows(301, seed=5, today=TODAY)) == list(bench_penalty_rows(301, seed=5, today=TODAY))
    assert list(subjects(300, seed=5)) == list(subjects(300, seed=5))
    assert departments(5) == departments(5)


def test_different_seed_different_output() -> None:
    assert list(penalty_rows(50, seed=5, today=TODAY)) != list(penalty_rows(50, seed=6, today=TODAY))
    assert list(licence_rows(50, seed=5, today=TODAY)) != list(licence_rows(50, seed=6, today=TODAY))
    names_5 = {s.name for s in subjects(200, seed=5)}
    names_6 = {s.name for s in subjects(200, seed=6)}
    assert len(names_5 & names_6) < 20
    assert {d.uscc for d in departments(5)}.isdisjoint(d.uscc for d in departments(6))


def test_global_random_state_is_neither_used_nor_touched() -> None:
    random.seed(1)
    state = random.getstate()
    first = list(penalty_rows(100, seed=3, today=TODAY))
    assert random.getstate() == state
    random.seed(2)
    assert list(penalty_rows(100, seed=3, today=TODAY)) == first


def test_subject_i_depends_only_on_seed_and_i() -> None:
    many = list(subjects(500, seed=9))
    assert list(subjects(40, seed=9)) == many[:40]
    # With one row per subject, row k belongs to subject k, in both kinds of file.
    pens = list(penalty_rows(500, seed=9, today=TODAY))
    lics = list(licence_rows(500, seed=9, today=TODAY))
    for subject, pen, lic in zip(many, pens, lics, strict=True):
        for row in (pen, lic):
            assert row["行政相对人名称"] in (subject.name, subject.former_name)
            assert row["行政相对人类别"] == subject.kind
            if subject.kind == PERSON:
                assert row["证件号码"] == subject.id_number
            else:
                assert row[CODE1] == (subject.uscc or PLACEHOLDER_USCC)
                assert row[CODE2] == (subject.reg_no or "")
                assert row["法定代表人"] == subject.legal_rep
                assert row["法定代表人证件号码"] == subject.legal_rep_id


# --------------------------------------------------------------------------- subjects and codes


def test_departments() -> None:
    depts = departments()
    assert {d.city for d in depts} == set(CITIES)
    assert len(CITIES) >= 6
    names = [d.name for d in depts]
    assert len(set(names)) == len(names)
    assert len({d.uscc for d in depts}) == len(depts)
    assert "珠海市市场监督管理局" in names
    for kind in ("市场监督管理局", "生态环境局", "交通运输局", "应急管理局", "住房和城乡建设局", "卫生健康委员会"):
        assert all(any(n == f"{c.name}{kind}" for n in names) for c in CITIES), kind
    for d in depts:
        assert validate_uscc(d.uscc) == d.uscc
        assert d.uscc.startswith("11" + d.city.area_code)


def test_cities() -> None:
    by_name = {c.name: c.area_code for c in CITIES}
    assert by_name["珠海市"] == "440402"
    assert by_name["石家庄市"] == "130102"
    assert by_name["舞钢市"] == "410481"
    assert by_name["深圳市"] == "440300"
    assert {c.area_code[:2] for c in CITIES} >= {"13", "44", "41", "22", "61", "33", "37"}


def test_every_generated_code_is_valid() -> None:
    subs = list(subjects(3000, seed=4))
    for s in subs:
        if s.uscc is not None:
            assert validate_uscc(s.uscc) == s.uscc
            assert s.uscc[2:8] == s.city.area_code
        if s.reg_no is not None:
            assert validate_reg_no(s.reg_no) == s.reg_no
        for ric in (s.id_number, s.legal_rep_id):
            if ric is not None:
                resident = validate_ric(ric)
                assert resident.warnings == (), (ric, resident.warnings)
                assert dt.date(1960, 1, 1) <= resident.birth_date <= dt.date(2004, 12, 31)
    with pytest.raises(InvalidCode):
        validate_uscc(PLACEHOLDER_USCC)


def test_codes_in_rows_are_valid(penalties: list[dict[str, str]], licences: list[dict[str, str]]) -> None:
    for row in penalties + licences:
        if row[CODE1] and row[CODE1] != PLACEHOLDER_USCC:
            validate_uscc(row[CODE1])
        if row[CODE2]:
            validate_reg_no(row[CODE2])
        for ric in (row["证件号码"], row["法定代表人证件号码"]):
            if ric:
                validate_ric(ric)
    for row in penalties:
        validate_uscc(row["处罚机关统一社会信用代码"])
        validate_uscc(row["数据来源单位统一社会信用代码"])
        assert row["处罚机关统一社会信用代码"].startswith("11")
    for row in licences:
        validate_uscc(row["许可机关统一社会信用代码"])


def test_subject_mix() -> None:
    subs = list(subjects(2000, seed=2026))
    kinds = Counter(s.kind for s in subs)
    assert kinds == {ORG: 1600, INDIVIDUAL: 200, PERSON: 200}
    categories = Counter(s.uscc[:2] for s in subs if s.uscc)
    assert set(categories) == {"91", "92", "51", "52"}
    assert categories["91"] > 1300
    assert 30 < categories["51"] + categories["52"] < 200
    individuals = [s for s in subs if s.kind == INDIVIDUAL]
    with_uscc = [s for s in individuals if s.uscc]
    assert len(with_uscc) == 100
    assert all(s.reg_no is None for s in with_uscc)
    assert all(s.reg_no and s.uscc is None for s in individuals if not s.uscc)
    assert all(s.legal_rep and s.name.startswith(s.city.name) and s.legal_rep in s.name for s in individuals)
    persons = [s for s in subs if s.kind == PERSON]
    assert all(s.id_number and s.uscc is None and s.legal_rep is None and 2 <= len(s.name) <= 4 for s in persons)
    orgs = [s for s in subs if s.kind == ORG]
    assert all(s.uscc and s.legal_rep and s.legal_rep_id and s.name.startswith(s.city.name) for s in orgs)
    assert all(s.name.endswith(("有限公司", "有限责任公司", "股份有限公司")) for s in orgs if s.uscc.startswith("91"))


def test_names_and_codes_are_unique() -> None:
    subs: list[DemoSubject] = list(subjects(30_000, seed=1))
    names = [s.name for s in subs]
    assert len(set(names)) == len(names)
    usccs = [s.uscc for s in subs if s.uscc]
    assert len(set(usccs)) == len(usccs)
    org_codes = [u[8:17] for u in usccs] + [d.uscc[8:17] for d in departments(1)]
    assert len(set(org_codes)) == len(org_codes)
    rics = [r for s in subs for r in (s.id_number, s.legal_rep_id) if r]
    assert len(set(rics)) == len(rics)
    reg_nos = [s.reg_no for s in subs if s.reg_no]
    assert len(set(reg_nos)) == len(reg_nos)


# --------------------------------------------------------------------------- penalty rows


def test_every_kind_appears_with_its_codes(penalties: list[dict[str, str]]) -> None:
    assert len(penalties) == 1000
    kinds = Counter(row["行政相对人类别"] for row in penalties)
    assert set(kinds) == {ORG, PERSON, INDIVIDUAL}
    for row in penalties:
        kind = row["行政相对人类别"]
        if kind == PERSON:
            assert row["证件类型"] == "身份证" and row["证件号码"]
            assert not row[CODE1] and not row["法定代表人"]
        else:
            assert row[CODE1] and row["法定代表人"] and row["法定代表人证件类型"] == "身份证"
            assert not row["证件类型"] and not row["证件号码"]
        if row[CODE1] == PLACEHOLDER_USCC:
            assert kind == INDIVIDUAL and len(row[CODE2]) == 15
    individual_codes = [row[CODE1][:2] for row in penalties if row["行政相对人类别"] == INDIVIDUAL]
    assert "92" in individual_codes
    assert PLACEHOLDER_USCC[:2] in individual_codes


def test_every_class_appears(penalties: list[dict[str, str]]) -> None:
    classes = Counter(_classify(row) for row in penalties)
    assert set(classes) == {"minor", "general", "serious"}
    assert classes["general"] > classes["minor"] > 30
    assert classes["serious"] > 30
    for row in penalties:
        cls = _classify(row)
        kinds = row["处罚类别"].split(";")
        assert set(kinds) <= PENALTY_KINDS
        if cls == "minor":
            assert row[FINE] == "" and row[CONFISCATED] == ""
        if "罚款" in kinds:
            assert Decimal(row[FINE]) > 0
        else:
            assert row[FINE] == ""
        if cls == "general":
            assert Decimal(row[FINE]) < 100
        if "没收违法所得" in kinds and row[CONFISCATED]:
            assert Decimal(row[CONFISCATED]) > 0
        if "吊销许可证件" in kinds:
            assert row["暂扣或吊销证照名称及编号"]
        else:
            assert row["暂扣或吊销证照名称及编号"] == ""


def test_money_is_decimal_wan_yuan(penalties: list[dict[str, str]]) -> None:
    for row in penalties:
        for column in (FINE, CONFISCATED):
            if row[column]:
                assert re.fullmatch(r"\d+(\.\d{1,2})?", row[column]), row[column]


def test_serious_measures_all_appear() -> None:
    seen: Counter[str] = Counter()
    for row in penalty_rows(5000, seed=2026, today=TODAY):
        seen.update(row["处罚类别"].split(";"))
    for kind in ("警告", "通报批评", "罚款", "没收违法所得", "吊销许可证件", "责令停产停业", "责令关闭", "限制从业"):
        assert seen[kind] > 0, kind


def test_texts_are_realistic(penalties: list[dict[str, str]]) -> None:
    for row in penalties:
        assert row["处罚依据"].startswith("《") and "》第" in row["处罚依据"]
        assert row["违法行为类型"] and row["违法事实"].endswith("。")
        assert "{" not in row["违法事实"]
        assert row["处罚机关"] == row["数据来源单位"]
        assert row["处罚机关"].startswith(("国家税务总局", *(c.name for c in CITIES)))
    assert len({row["违法行为类型"] for row in penalties}) >= 20
    assert any("《中华人民共和国食品安全法》" in row["处罚依据"] for row in penalties)


def test_decision_dates_in_the_four_years_up_to_today() -> None:
    for today in (TODAY, dt.date(2024, 2, 29)):
        rows = list(penalty_rows(800, seed=3, today=today))
        dates = [_date(row["处罚决定日期"]) for row in rows]
        assert max(dates) <= today
        assert min(dates) >= today - dt.timedelta(days=4 * 366)
        assert {d.year for d in dates} >= {today.year - 3, today.year - 2, today.year - 1}
        for row, day in zip(rows, dates, strict=True):
            valid = _date(row["处罚有效期"])
            assert valid >= day
            assert row["公示截止期"] == ""
        open_ended = sum(row["处罚有效期"] == "2099/12/31" for row in rows)
        assert open_ended > 0.8 * len(rows)


def test_decision_identities_are_unique(penalties: list[dict[str, str]]) -> None:
    rows = penalties + list(bench_penalty_rows(3000, seed=11, today=TODAY))
    for batch in (penalties, rows[1000:]):
        identities = [(row["行政处罚决定书文号"], row["处罚机关统一社会信用代码"]) for row in batch]
        assert len(set(identities)) == len(identities)
    for row in penalties:
        number = re.fullmatch(r"(.+)〔(\d{4})〕(\d+)号", row["行政处罚决定书文号"])
        assert number, row["行政处罚决定书文号"]
        assert number.group(2) == row["处罚决定日期"][:4]
        assert row["处罚机关"].startswith(number.group(1)[:2]) or "税务" in row["处罚机关"]


def test_no_duplicate_rows(penalties: list[dict[str, str]]) -> None:
    assert len({tuple(row.values()) for row in penalties}) == len(penalties)


def test_per_subject() -> None:
    assert list(penalty_rows(100, today=TODAY, per_subject=0)) == []
    rows = list(penalty_rows(400, today=TODAY, per_subject=2.5))
    assert 900 < len(rows) < 1100
    per_subject = Counter(row[CODE1] + row[CODE2] + row["证件号码"] for row in rows)
    assert set(per_subject.values()) == {2, 3}


def test_some_enterprises_were_renamed_and_their_earlier_records_carry_the_old_name() -> None:
    """About one enterprise in RENAMED_ONE_IN changed its name within the window: each record
    decided before the change carries the former name, each one after the current name, so the
    platform's name history (曾用名) and the 重错码 report's renames have something to show."""
    many = list(subjects(2000, seed=4))
    renamed = {s.uscc: s for s in many if s.former_name}
    enterprises = [s for s in many if s.uscc and s.uscc.startswith("91")]
    assert 0.5 / RENAMED_ONE_IN < len(renamed) / len(enterprises) < 2 / RENAMED_ONE_IN
    current = {s.name for s in many}
    assert not current & {s.former_name for s in renamed.values()}  # a former name is nobody's name
    some = next(iter(renamed.values()))
    assert some.former_name.endswith(some.name.removeprefix(some.city.name))
    rows = [r for r in penalty_rows(2000, seed=4, per_subject=4, today=TODAY) if r[CODE1] in renamed]
    rows += [r for r in licence_rows(2000, seed=4, per_subject=4, today=TODAY) if r[CODE1] in renamed]
    changes = 0
    for uscc, subject in renamed.items():
        dated = sorted((_date(r.get("处罚决定日期") or r["许可决定日期"]), r["行政相对人名称"])
                       for r in rows if r[CODE1] == uscc)
        names = [name for _day, name in dated]
        assert set(names) <= {subject.former_name, subject.name}
        # the old name only before the new one
        assert names == sorted(names, key=lambda n: n == subject.name)
        changes += len(set(names)) == 2
    assert changes > len(renamed) / 3


def test_bench_rows_are_exact_and_spread() -> None:
    for n in (0, 1, 2, 999, 4000):
        rows = list(bench_penalty_rows(n, today=TODAY))
        assert len(rows) == n
    names = {row["行政相对人名称"] for row in rows}
    assert 1600 < len(names) < 2400
    assert max(_date(row["处罚决定日期"]) for row in rows) <= TODAY


# --------------------------------------------------------------------------- licence rows


def test_licence_rows(licences: list[dict[str, str]]) -> None:
    assert len(licences) == 1000
    categories = Counter(row["许可类别"] for row in licences)
    assert set(categories) <= {"普通", "特许", "认可", "核准", "登记", "其他"}
    assert {"普通", "认可", "登记"} <= set(categories)
    assert {row["行政相对人类别"] for row in licences} == {ORG, PERSON, INDIVIDUAL}
    statuses = Counter(row["当前状态"] for row in licences)
    assert set(statuses) == {"1", "2"} and statuses["1"] > statuses["2"]
    identities = [(row["行政许可决定文书号"], row["许可机关统一社会信用代码"]) for row in licences]
    assert len(set(identities)) == len(identities)
    for row in licences:
        decided = _date(row["许可决定日期"])
        assert decided <= TODAY
        start, end = _date(row["有效期自"]), _date(row["有效期至"])
        assert decided <= start < end
        if end < TODAY:
            assert row["当前状态"] == "2"
        assert row["许可内容"] and row["行政许可决定文书名称"] and row["许可机关"]


def test_licence_mix_over_more_rows() -> None:
    categories = Counter(row["许可类别"] for row in licence_rows(3000, seed=2, today=TODAY))
    assert set(categories) == {"普通", "特许", "认可", "核准", "登记", "其他"}


# --------------------------------------------------------------------------- CSV


def _read(path: Path, encoding: str) -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle))


def test_write_csv_round_trips_utf8(tmp_path: Path) -> None:
    rows = list(penalty_rows(300, seed=8, today=TODAY))
    path = tmp_path / "penalties.csv"
    assert write_csv(path, PENALTY_HEADERS, iter(rows)) == 300
    raw = path.read_bytes()
    assert raw.startswith(SAMPLE_PENALTY_HEADER.encode() + b"\n")
    assert b"\r\n" not in raw
    assert _read(path, "utf-8") == rows


def test_write_csv_round_trips_gbk_with_crlf(tmp_path: Path) -> None:
    rows = list(penalty_rows(500, seed=8, today=TODAY))
    path = tmp_path / "penalties_gbk.csv"
    assert write_csv(path, PENALTY_HEADERS, rows, encoding="gbk", newline="\r\n") == 500
    raw = path.read_bytes()
    assert raw.count(b"\r\n") == 501
    assert _read(path, "gbk") == rows
    licences = list(licence_rows(500, seed=8, today=TODAY))
    path = tmp_path / "licences_gbk.csv"
    assert write_csv(path, LICENCE_HEADERS, licences, encoding="gbk", newline="\r\n") == 500
    assert _read(path, "gbk") == licences


def test_write_csv_quotes_awkward_cells_and_fills_missing_ones(tmp_path: Path) -> None:
    headers = ("名称", "说明", "备注")
    rows = [
        {"名称": "甲", "说明": "含,逗号", "备注": ""},
        {"名称": "乙", "说明": '含"引号"', "备注": "两\n行"},
        {"名称": "丙", "说明": "缺备注"},
        {"名称": "丁", "说明": "多余", "备注": "x", "别的": "忽略"},
        {"名称": "戊", "说明": "回车\r", "备注": ""},
    ]
    path = tmp_path / "awkward.csv"
    assert write_csv(path, headers, rows) == 5
    back = _read(path, "utf-8")
    assert back == [
        {"名称": "甲", "说明": "含,逗号", "备注": ""},
        {"名称": "乙", "说明": '含"引号"', "备注": "两\n行"},
        {"名称": "丙", "说明": "缺备注", "备注": ""},
        {"名称": "丁", "说明": "多余", "备注": "x"},
        {"名称": "戊", "说明": "回车\r", "备注": ""},
    ]
    single = tmp_path / "single.csv"
    assert write_csv(single, ["名称"], [{"名称": ""}, {"名称": "甲"}]) == 2
    assert _read(single, "utf-8") == [{"名称": ""}, {"名称": "甲"}]


def test_write_csv_matches_the_csv_module(tmp_path: Path) -> None:
    rows = list(islice(licence_rows(200, seed=3, today=TODAY), 200))
    ours = tmp_path / "ours.csv"
    theirs = tmp_path / "theirs.csv"
    write_csv(ours, LICENCE_HEADERS, rows)
    with theirs.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, LICENCE_HEADERS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    assert ours.read_bytes() == theirs.read_bytes()


def test_write_csv_streams(tmp_path: Path) -> None:
    consumed = 0

    def rows():  # a generator that would be far too big to hold as a list
        nonlocal consumed
        for row in bench_penalty_rows(10**9, today=TODAY):
            consumed += 1
            yield row

    assert write_csv(tmp_path / "head.csv", PENALTY_HEADERS, islice(rows(), 1234)) == 1234
    assert consumed == 1234
