"""Tests of policy packs: loading and validation, lookup by date and jurisdiction, rule helpers."""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from xinyong.core.config import POLICY_PACKS_DIR, reset_settings
from xinyong.core.errors import XinyongError
from xinyong.core.workdays import WorkdayCalendar, default_calendar
from xinyong.policy.cli_render import render_rules_table
from xinyong.policy.schemas import PublicationDeadlineParams
from xinyong.policy.service import (
    PolicyBook,
    PolicyInvalid,
    PolicyNotFound,
    add_months,
    classify_penalty,
    get_policy_book,
    jurisdiction_chain,
    publication_deadline,
    publication_window,
    reset_policy_book,
)

D = dt.date
W = Decimal


@pytest.fixture(scope="module")
def book() -> PolicyBook:
    return PolicyBook.load(POLICY_PACKS_DIR)


@pytest.fixture(scope="module")
def cal() -> WorkdayCalendar:
    return default_calendar()


def write_pack(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def deadline_rule(
    rule_id: str,
    days: int,
    start: str,
    end: str = "null",
    applies: str = "[licence, penalty]",
) -> str:
    return f"""
      - id: {rule_id}
        kind: publication_deadline
        title: 测试规则 {rule_id}
        applies_to: {applies}
        effective_from: {start}
        effective_to: {end}
        params: {{working_days: {days}}}
        source: {{document: 测试文件}}
    """


def pack(name: str, jurisdiction: str, *rules: str) -> str:
    body = "".join(textwrap.indent(textwrap.dedent(r), "  ") for r in rules)
    return f'pack: {name}\njurisdiction: "{jurisdiction}"\ntitle: 测试\nrules:\n{body}'


# --- jurisdiction chain and months -------------------------------------------------------------


def test_jurisdiction_chain() -> None:
    assert jurisdiction_chain("440402") == ["440402", "440400", "440000", "CN"]
    assert jurisdiction_chain("440400") == ["440400", "440000", "CN"]
    assert jurisdiction_chain("440000") == ["440000", "CN"]
    assert jurisdiction_chain("410481") == ["410481", "410400", "410000", "CN"]
    assert jurisdiction_chain("CN") == ["CN"]
    for bad in ("44040", "cn", "000000", "4404021"):
        with pytest.raises(XinyongError):
            jurisdiction_chain(bad)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2026, 5, 31), 3, D(2026, 8, 31)),
        (D(2026, 11, 30), 3, D(2027, 2, 28)),
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2026, 4, 15), 36, D(2029, 4, 15)),
        (D(2026, 4, 15), 0, D(2026, 4, 15)),
    ],
)
def test_add_months(start: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(start, months) == expected


@given(
    start=st.dates(min_value=D(2000, 1, 1), max_value=D(2090, 12, 31)),
    months=st.integers(min_value=0, max_value=120),
)
def test_add_months_lands_on_corresponding_day(start: dt.date, months: int) -> None:
    end = add_months(start, months)
    assert (end.year * 12 + end.month) - (start.year * 12 + start.month) == months
    assert end.day == start.day or (end.day < start.day and (end + dt.timedelta(days=1)).day == 1)
    assert add_months(start, months + 1) > end or (months == 0 and start == end)


# --- the repository's packs ---------------------------------------------------------------


def test_real_packs_load(book: PolicyBook) -> None:
    ids = {r.id for r in book.rules}
    assert {
        "publication-deadline-2016",
        "penalty-classification-2026",
        "penalty-publication-2026",
        "penalty-publication-2023",
        "penalty-publication-2019",
        "shijiazhuang-publication-deadline-2018",
    } <= ids
    for rule in book.rules:
        assert rule.source.document
        assert rule.file.endswith(".yaml")
        hash(rule)


def test_history_lists_versions_in_order(book: PolicyBook) -> None:
    versions = book.history("penalty_publication")
    assert [r.id for r in versions] == [
        "penalty-publication-legacy",
        "penalty-publication-2019",
        "penalty-publication-2023",
        "penalty-publication-2026",
    ]
    assert versions[2].effective_to == D(2026, 3, 31)
    assert versions[3].effective_from == D(2026, 4, 1)
    local = book.history("publication_deadline", "130102")
    assert local[0].jurisdiction == "CN" and local[-1].jurisdiction == "130100"
    assert all(r.jurisdiction in ("CN", "130100") for r in local)


def test_rules_in_force(book: PolicyBook) -> None:
    national = {r.id for r in book.rules_in_force(D(2026, 11, 21))}
    assert national == {
        "publication-deadline-2016",
        "publication-deadline-other-acts-2019",
        "penalty-classification-2026",
        "penalty-publication-2026",
    }
    shijiazhuang = {r.id for r in book.rules_in_force(D(2026, 11, 21), "130102")}
    assert "shijiazhuang-publication-deadline-2018" in shijiazhuang
    assert "publication-deadline-2016" not in shijiazhuang
    earlier = {r.id for r in book.rules_in_force(D(2025, 6, 1))}
    assert {"penalty-publication-2023", "penalty-classification-2023"} <= earlier


def test_rule_lookup_falls_back_along_the_chain(book: PolicyBook) -> None:
    on = D(2026, 6, 1)
    assert book.rule("publication_deadline", on, "130102", "penalty").jurisdiction == "130100"
    assert book.rule("publication_deadline", on, "440402", "penalty").jurisdiction == "CN"
    wugang = book.rule("publication_deadline", on, "410481", "inspection")
    assert wugang.id == "wugang-publication-deadline-other-acts-2020"
    assert book.rule("publication_deadline", on, "410481", "licence").jurisdiction == "CN"
    # Before the local document, the national rule applies.
    assert book.rule("publication_deadline", D(2018, 6, 1), "130100", "penalty").jurisdiction == (
        "CN"
    )


def test_rule_not_found(book: PolicyBook) -> None:
    with pytest.raises(PolicyNotFound):
        book.rule("publication_deadline", D(1999, 12, 31), "CN", "penalty")
    with pytest.raises(PolicyNotFound):
        book.rule("publication_deadline", D(2026, 1, 1), "CN", "no-such-kind")
    with pytest.raises(PolicyNotFound):
        book.rule("no_such_rule", D(2026, 1, 1))
    with pytest.raises(PolicyNotFound) as info:
        book.rule("publication_deadline", D(2026, 1, 1))  # two rules, no applies_to given
    assert info.value.code == "policy_ambiguous"
    with pytest.raises(PolicyNotFound):
        book.get("missing")
    assert book.get("penalty-publication-2026").kind == "penalty_publication"


def test_publication_deadline(book: PolicyBook, cal: WorkdayCalendar) -> None:
    deadline = publication_deadline(book, "penalty", D(2026, 9, 30), "CN", cal)
    assert deadline.date == D(2026, 10, 15)
    assert not deadline.date.provisional
    assert deadline.rule.id == "publication-deadline-2016"
    local = publication_deadline(book, "licence", D(2026, 9, 30), "130104", cal)
    assert local.rule.id == "shijiazhuang-publication-deadline-2018"
    late = publication_deadline(book, "licence", D(2026, 12, 28), "CN", cal)
    assert late.date.year == 2027 and late.date.provisional
    other = publication_deadline(book, "reward", D(2025, 9, 26), "CN", cal)
    assert other.rule.id == "publication-deadline-other-acts-2019"
    assert other.date == D(2025, 10, 13)
    # older decisions fall back on the platform's openly-marked legacy default
    old = publication_deadline(book, "penalty", D(2015, 1, 5), "CN", cal)
    assert old.rule.id == "publication-deadline-legacy" and not old.rule.verified
    with pytest.raises(PolicyNotFound):
        publication_deadline(book, "penalty", D(1999, 1, 5), "CN", cal)


# --- penalty classes -----------------------------------------------------------------------

ON = D(2026, 6, 1)


@pytest.mark.parametrize(
    ("kinds", "fine", "confiscated", "declared", "expected", "reason"),
    [
        (["罚款"], W("5"), None, "严重", "严重", "处罚机关认定为严重"),
        (["罚款"], W("5"), None, "严重失信", "严重", "严重失信"),
        (["警告"], None, None, "一般失信", "一般", "一般失信"),
        (["罚款", "吊销许可证件"], W("1"), None, None, "严重", "处罚类别含吊销许可证件"),
        (["责令关闭"], None, None, None, "严重", "处罚类别含责令关闭"),
        (["限制从业"], None, None, None, "严重", "限制从业"),
        (["罚款"], W("150"), None, None, "严重", "罚款金额150万元"),
        (["没收违法所得"], None, W("120.5"), None, "严重", "没收金额120.5万元"),
        (["警告"], None, None, None, "轻微", "处罚类别仅为警告"),
        (["警告、通报批评"], None, None, None, "轻微", "警告、通报批评"),
        (["警告", "罚款"], W("0.2"), None, None, "轻微", "未超过0.3万元"),
        (["罚款"], W("0.3"), None, None, "轻微", "罚款0.3万元"),
        (["罚款"], W("0.31"), None, None, "一般", "按一般处理"),
        (["罚款"], None, None, None, "一般", "按一般处理"),
        (["罚款", "没收违法所得"], W("0.1"), W("0.1"), None, "一般", "按一般处理"),
        (["暂扣许可证件"], None, None, None, "一般", "按一般处理"),
        ([], None, None, None, "一般", "按一般处理"),
        (["警告"], None, None, "其他", "轻微", "无法识别"),
    ],
)
def test_classify_penalty(
    book: PolicyBook,
    kinds: list[str],
    fine: Decimal | None,
    confiscated: Decimal | None,
    declared: str | None,
    expected: str,
    reason: str,
) -> None:
    result = classify_penalty(book, kinds, fine, confiscated, declared, ON, "CN")
    assert result.penalty_class == expected
    assert reason in result.reason
    assert result.rule.id == "penalty-classification-2026"


def test_classify_penalty_by_subject_type(book: PolicyBook) -> None:
    organisation = classify_penalty(book, ["罚款"], W("0.1"), None, None, ON, "CN")
    person = classify_penalty(book, ["罚款"], W("0.1"), None, None, ON, "CN", subject_type="自然人")
    assert organisation.penalty_class == "轻微"
    assert person.penalty_class == "一般"
    small = classify_penalty(book, ["罚款"], W("0.02"), None, None, ON, "CN", subject_type="自然人")
    assert small.penalty_class == "轻微"


def test_classification_versions_differ_by_date(book: PolicyBook) -> None:
    before = classify_penalty(book, ["责令停产停业"], None, None, None, D(2025, 6, 1), "CN")
    after = classify_penalty(book, ["责令停产停业"], None, None, None, D(2026, 6, 1), "CN")
    assert (before.penalty_class, before.rule.id) == ("严重", "penalty-classification-2023")
    assert (after.penalty_class, after.rule.id) == ("一般", "penalty-classification-2026")


# --- publication windows -------------------------------------------------------------------


def test_publication_window_order_36(book: PolicyBook) -> None:
    general = publication_window(book, "一般", D(2026, 5, 31), "CN")
    assert general.published
    assert (general.min_end, general.max_end) == (D(2026, 8, 31), D(2027, 5, 31))
    assert general.rule.id == "penalty-publication-2026"
    assert general.shown_on(D(2027, 5, 31)) and not general.shown_on(D(2027, 6, 1))
    serious = publication_window(book, "严重", D(2026, 11, 30), "CN")
    assert (serious.min_end, serious.max_end) == (D(2027, 11, 30), D(2029, 11, 30))
    minor = publication_window(book, "轻微", D(2026, 11, 30), "CN")
    assert not minor.published and minor.max_end == D(2027, 2, 28)
    assert not minor.shown_on(D(2026, 12, 1))


def test_publication_window_versions(book: PolicyBook) -> None:
    order_58 = publication_window(book, "一般", D(2025, 6, 1), "CN")
    assert order_58.rule.id == "penalty-publication-2023"
    assert order_58.max_end == D(2028, 6, 1)
    legacy = publication_window(book, "严重", D(2020, 1, 15), "CN")
    assert legacy.rule.id == "penalty-publication-2019"
    assert (legacy.min_end, legacy.max_end) == (D(2020, 7, 15), D(2023, 1, 15))
    # An explicit evaluation date chooses the rule; the period still counts from the decision.
    current = publication_window(book, "一般", D(2025, 6, 1), "CN", on=D(2026, 11, 21))
    assert current.rule.id == "penalty-publication-2026"
    assert current.max_end == D(2026, 6, 1)
    assert publication_window(book, "一般", D(2017, 3, 1), "CN").rule.id == "penalty-publication-legacy"
    with pytest.raises(PolicyNotFound):
        publication_window(book, "一般", D(1999, 3, 1), "CN")
    with pytest.raises(PolicyNotFound, match="特别严重"):
        publication_window(book, "特别严重", D(2026, 6, 1), "CN")


# --- packs written for the tests -----------------------------------------------------------


def test_versions_and_fallback_in_small_packs(tmp_path: Path) -> None:
    write_pack(
        tmp_path,
        "national.yaml",
        pack(
            "cn",
            "CN",
            deadline_rule("cn-v1", 7, "2016-01-01", "2020-12-31"),
            deadline_rule("cn-v2", 5, "2021-01-01"),
        ),
    )
    write_pack(
        tmp_path, "sub/gd.yaml", pack("gd", "440000", deadline_rule("gd-v1", 3, "2022-01-01"))
    )
    book = PolicyBook.load(tmp_path)
    assert book.rule("publication_deadline", D(2020, 12, 31), "CN", "penalty").id == "cn-v1"
    assert book.rule("publication_deadline", D(2021, 1, 1), "CN", "penalty").id == "cn-v2"
    assert book.rule("publication_deadline", D(2021, 6, 1), "440402", "penalty").id == "cn-v2"
    assert book.rule("publication_deadline", D(2022, 1, 1), "440402", "penalty").id == "gd-v1"
    assert book.rule("publication_deadline", D(2022, 1, 1), "450100", "licence").id == "cn-v2"
    rule = book.rule("publication_deadline", D(2022, 1, 1), "440000", "licence")
    assert isinstance(rule.typed_params, PublicationDeadlineParams)
    assert rule.typed_params.working_days == 3
    assert rule.file == "sub/gd.yaml" and rule.pack == "gd"
    assert [r.id for r in book.history("publication_deadline")] == ["cn-v1", "cn-v2", "gd-v1"]
    deadline = publication_deadline(book, "penalty", D(2026, 9, 30), "440100", default_calendar())
    assert deadline.rule.id == "gd-v1" and deadline.date == D(2026, 10, 10)


def test_overlapping_versions_are_rejected(tmp_path: Path) -> None:
    write_pack(
        tmp_path,
        "cn.yaml",
        pack(
            "cn",
            "CN",
            deadline_rule("old", 7, "2016-01-01", "2021-06-30"),
            deadline_rule("new", 5, "2021-01-01", applies="[penalty]"),
        ),
    )
    with pytest.raises(PolicyInvalid) as info:
        PolicyBook.load(tmp_path)
    message = str(info.value)
    assert "cn.yaml: rule new" in message and "rule old" in message and "overlap" in message


def test_same_dates_without_overlap_are_accepted(tmp_path: Path) -> None:
    write_pack(
        tmp_path,
        "cn.yaml",
        pack(
            "cn",
            "CN",
            deadline_rule("licences", 7, "2016-01-01", applies="[licence]"),
            deadline_rule("penalties", 5, "2016-01-01", applies="[penalty]"),
            deadline_rule("before", 9, "2010-01-01", "2015-12-31"),
        ),
    )
    write_pack(tmp_path, "gd.yaml", pack("gd", "440000", deadline_rule("gd", 3, "2016-01-01")))
    book = PolicyBook.load(tmp_path)
    assert book.rule("publication_deadline", D(2020, 1, 1), "CN", "penalty").id == "penalties"
    assert len(book.rules_in_force(D(2020, 1, 1), "CN")) == 2
    assert {r.id for r in book.rules_in_force(D(2020, 1, 1), "440300")} == {"gd"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            pack("p", "CN", deadline_rule("r1", 7, "2016-01-01").replace("source:", "origin:")),
            "rule r1: source",
        ),
        (pack("p", "CN", deadline_rule("r1", 7, "2016-13-01")), "rule r1: effective_from"),
        (pack("p", "CN", deadline_rule("r1", 7, "20160101")), "rule r1: effective_from"),
        (pack("p", "CN", deadline_rule("r1", 7, "2016-01-01", "2015-01-01")), "rule r1"),
        (pack("p", "CN", deadline_rule("r1", 0, "2016-01-01")), "rule r1: working_days"),
        (pack("p", "CN", deadline_rule("r1", 7, "2016-01-01", applies="[]")), "applies_to"),
        (pack("p", "CN", deadline_rule("R 1", 7, "2016-01-01")), "rule R 1: id"),
        (pack("p", "4400", deadline_rule("r1", 7, "2016-01-01")), "jurisdiction"),
        (
            pack("p", "CN", deadline_rule("r1", 7, "2016-01-01") + "    jurisdiction: '440000'\n"),
            "set by the pack",
        ),
        (
            pack("p", "CN", deadline_rule("r1", 7, "2016-01-01") + "    colour: red\n"),
            "colour",
        ),
        ("pack: p\njurisdiction: CN\nrules: [\n", "cannot read YAML"),
        ("pack: p\njurisdiction: CN\ntitle: t\nrules: []\n", "rules"),
        (
            pack(
                "p",
                "CN",
                deadline_rule("r1", 7, "2016-01-01", "2016-12-31"),
                deadline_rule("r1", 7, "2017-01-01"),
            ),
            "duplicate rule id",
        ),
    ],
)
def test_invalid_packs_name_file_and_rule(tmp_path: Path, text: str, expected: str) -> None:
    write_pack(tmp_path, "bad.yaml", text)
    with pytest.raises(PolicyInvalid) as info:
        PolicyBook.load(tmp_path)
    assert "bad.yaml" in str(info.value)
    assert expected in str(info.value)


def test_invalid_params_of_known_kinds(tmp_path: Path) -> None:
    text = """\
    pack: p
    jurisdiction: CN
    title: t
    rules:
      - id: pub
        kind: penalty_publication
        title: t
        applies_to: [penalty]
        effective_from: 2026-04-01
        params: {classes: {一般: {published: true, min_months: 12, max_months: 3}}}
        source: {document: d}
      - id: cls
        kind: penalty_classification
        title: t
        applies_to: [penalty]
        effective_from: 2026-04-01
        params: {classes: [一般], default_class: 严重}
        source: {document: d}
    """
    write_pack(tmp_path, "bad.yaml", text)
    with pytest.raises(PolicyInvalid) as info:
        PolicyBook.load(tmp_path)
    assert len(info.value.problems) == 2
    assert "rule pub" in info.value.problems[0] and "min_months" in info.value.problems[0]
    assert "rule cls" in info.value.problems[1] and "严重" in info.value.problems[1]


def test_pack_names_unique_and_unknown_kinds_load(tmp_path: Path) -> None:
    extra = """
      - id: reply
        kind: objection_reply
        title: 异议答复时限
        applies_to: [objection]
        effective_from: 2018-01-01
        params: {working_days: 15}
        source: {document: 石家庄市加快社会信用体系建设工作方案}
    """
    write_pack(tmp_path, "a.yaml", pack("same", "CN", extra))
    book = PolicyBook.load(tmp_path)
    assert book.rule("objection_reply", D(2020, 1, 1)).typed_params == {"working_days": 15}
    write_pack(tmp_path, "b.yaml", pack("same", "CN", deadline_rule("x", 7, "2016-01-01")))
    with pytest.raises(PolicyInvalid, match="already used"):
        PolicyBook.load(tmp_path)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(PolicyInvalid, match="does not exist"):
        PolicyBook.load(tmp_path / "nowhere")
    assert PolicyBook.load(tmp_path).rules == ()


def test_get_policy_book_reads_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_pack(tmp_path, "cn.yaml", pack("cn", "CN", deadline_rule("only", 2, "2016-01-01")))
    monkeypatch.setenv("XINYONG_POLICY_DIR", str(tmp_path))
    reset_settings()
    reset_policy_book()
    try:
        book = get_policy_book()
        assert get_policy_book() is book
        assert [r.id for r in book.rules] == ["only"]
    finally:
        monkeypatch.delenv("XINYONG_POLICY_DIR")
        reset_settings()
        reset_policy_book()
    assert "publication-deadline-2016" in {r.id for r in get_policy_book().rules}


# --- rendering -----------------------------------------------------------------------------


def test_render_rules_table(book: PolicyBook) -> None:
    rules = book.rules_in_force(D(2026, 11, 21), "130100")
    table = render_rules_table(rules)
    headers = [str(c.header) for c in table.columns]
    assert headers == ["规则", "适用", "管辖", "生效", "失效", "参数", "依据"]
    assert table.row_count == len(rules)
    console = Console(record=True, width=200)
    console.print(table)
    text = console.export_text()
    assert "7个工作日" in text and "石社信办发〔2018〕6号" in text
    assert "一般：公示 3个月–1年" in text
    assert "未核实" in text
