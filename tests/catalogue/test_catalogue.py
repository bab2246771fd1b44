"""The catalogue: its data files, required fields, disclosure of personal data, header matching."""

from __future__ import annotations

import datetime as dt

import pytest

from filehelpers import sample_rows
from xinyong.catalogue.schemas import Disclosure
from xinyong.catalogue.service import DATA_DIR, get_catalogue, load_catalogue, normalize_header
from xinyong.ingest.validation import RowValidator

# DOMAIN.md §6: the fields marked 必 (required) in the 双公示 format.
REQUIRED = {
    "penalty": [
        "行政相对人名称", "行政相对人类别", "行政处罚决定书文号", "违法行为类型", "违法事实", "处罚依据",
        "处罚类别", "处罚内容", "处罚决定日期", "处罚有效期", "处罚机关", "处罚机关统一社会信用代码",
        "数据来源单位", "数据来源单位统一社会信用代码",
    ],
    "licence": [
        "行政相对人名称", "行政相对人类别", "行政许可决定文书名称", "行政许可决定文书号", "许可类别",
        "许可内容", "许可决定日期", "许可机关", "许可机关统一社会信用代码", "数据来源单位",
        "数据来源单位统一社会信用代码",
    ],
}
# DOMAIN.md §6: everything else in the format is optional.
OPTIONAL = {
    "penalty": ["行政相对人代码_1(统一社会信用代码)", "法定代表人", "证件号码", "罚款金额（万元）",
                "公示截止期", "备注"],
    "licence": ["许可证书名称", "许可编号", "有效期自", "有效期至", "当前状态", "备注"],
}
PERSONAL_IDS = ("id_number", "legal_rep_id_number")


def field_by_label(kind: str, label: str):  # type: ignore[no-untyped-def]
    item = get_catalogue().item(kind)
    key = get_catalogue().header_map(item, "current")[normalize_header(label)]
    return item.field(key)


def test_data_files_load():
    catalogue = load_catalogue(DATA_DIR)
    assert {k: (i.code, i.record_kind) for k, i in catalogue.items.items()} == {
        "penalty": ("XZCF", "penalty"), "licence": ("XZXK", "licence"),
    }
    for item in catalogue.items.values():
        assert item.identity == ("decision_no", "authority_uscc")
        assert item.field(item.decision_date_field).type == "date"
        for f in item.fields:
            if f.code_table:
                assert catalogue.code_table(f.code_table).values, f.key
    kinds = catalogue.code_table("处罚类别")
    # Administrative Penalty Law 2021 Art. 9, and the spellings departments use
    assert len(kinds.values) == 14
    assert kinds.canonical("吊销营业执照") == "吊销许可证件"


@pytest.mark.parametrize(
    ("original", "replacement", "named"),
    [
        ("code_table: 处罚类别,", "code_table: 处罚种类,", "处罚种类"),
        ("type: decimal,", "type: money,", "fine_amount"),
        ("      remarks: BZ\n", "      remark: BZ\n", "remark"),  # a field code for a field that is not there
    ],
)
def test_a_malformed_data_file_fails_loudly_naming_the_field(tmp_path, original, replacement, named):
    for name in ("items.yaml", "code_tables.yaml"):
        (tmp_path / name).write_text((DATA_DIR / name).read_text(encoding="utf-8"), encoding="utf-8")
    items = (tmp_path / "items.yaml").read_text(encoding="utf-8")
    assert original in items
    (tmp_path / "items.yaml").write_text(items.replace(original, replacement, 1), encoding="utf-8")
    with pytest.raises(ValueError, match=f"penalty.*{named}"):
        load_catalogue(tmp_path)


def test_sample_headers_are_all_catalogue_fields():
    catalogue = get_catalogue()
    for kind, file in (("penalty", "penalties.csv"), ("licence", "licences.csv")):
        headers, _ = sample_rows(file)
        mapping = catalogue.header_map(catalogue.item(kind), "current")
        assert [h for h in headers if normalize_header(h) not in mapping] == []


@pytest.mark.parametrize("kind", ["penalty", "licence"])
def test_required_fields_of_the_format_are_required(kind):
    not_required = [label for label in REQUIRED[kind] if not field_by_label(kind, label).required]
    assert not_required == []
    required = [label for label in OPTIONAL[kind] if field_by_label(kind, label).required]
    assert required == []
    labels = {f.label for f in get_catalogue().item(kind).fields if f.required}
    assert labels == set(REQUIRED[kind])


@pytest.mark.parametrize("kind", ["penalty", "licence"])
def test_personal_id_numbers_are_never_public(kind):
    item = get_catalogue().item(kind)
    for key in PERSONAL_IDS:
        assert item.field(key).type == "personal_id"
        assert item.field(key).disclosure != Disclosure.PUBLIC, key
    # every way a file may name the column lands on a non-public field
    for layout in item.layouts:
        for header, key in get_catalogue().header_map(item, layout).items():
            if item.field(key).type == "personal_id":
                assert item.field(key).disclosure != Disclosure.PUBLIC, (layout, header)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("行政相对人代码_1（统一社会信用代码）", "uscc"),
        (" 行政相对人代码_1 ( 统一社会信用代码 ) ", "uscc"),
        ("行政相对人代码＿１（统一社会信用代码）", "uscc"),
        ("行政相对人代码_1【统一社会信用代码】", "uscc"),
        ("\ufeff行政相对人名称", "subject_name"),
        ("行政相对人名称\u3000", "subject_name"),
        ("*处罚决定日期", "decision_date"),
        ("罚款金额(万元)", "fine_amount"),
        ("罚款金额 （万元）", "fine_amount"),
        ("没收违法所得、没收非法财物的金额(万元)", "confiscated_amount"),
        ("法定代表人（负责人）", "legal_rep"),
        ("行政处罚决定书 文号", "decision_no"),
        # a note on how to fill the column is no part of its name
        ("处罚决定日期（格式：YYYY/MM/DD）", "decision_date"),
        ("处罚决定日期(yyyy-mm-dd)", "decision_date"),
        ("处罚决定日期（必填，格式为YYYYMMDD）", "decision_date"),
        ("统一社会信用代码（法人必填）", "uscc"),
        ("证件号码（自然人必填）", "id_number"),
        ("罚款金额（万元）（选填，保留两位小数）", "fine_amount"),
        ("罚款金额（单位：人民币元）", "fine_amount"),
        ("罚款金额（人民币：元）", "fine_amount"),
        ("罚款金额/元", "fine_amount"),
        ("公示截止日期", "publication_end_declared"),
        ("处罚有效期至", "valid_until"),
        ("法定代表人身份证号", "legal_rep_id_number"),
        # a bracket that says something else stays: an unknown column, not another one's data
        ("备注（内部说明）", None),
        ("罚款金额（美元）", None),
    ],
)
def test_header_variants_map_to_the_same_field(header, expected):
    item = get_catalogue().item("penalty")
    assert get_catalogue().header_map(item, "current").get(normalize_header(header)) == expected


@pytest.mark.parametrize(
    ("header", "unit"),
    [
        ("罚款金额（万元）", "万元"),
        ("罚款金额", "万元"),
        ("罚款金额（元）", "元"),
        ("罚款金额（单位：人民币元）", "元"),
        ("罚款金额（人民币：元）", "元"),
        ("罚款金额/元", "元"),
        ("罚款金额／万元", "万元"),
        ("罚款金额（单位：人民币万元）", "万元"),
        # a fill note goes, the unit beside it stays: 元, not the 万元 of a bare 罚款金额
        ("罚款金额（选填，单位：元）", "元"),
        ("罚款金额（元）（必填，保留两位小数）", "元"),
        ("没收违法所得、没收非法财物的金额（单位：人民币元）", "元"),
    ],
)
def test_an_amounts_unit_is_read_however_the_header_spells_it(header, unit):
    catalogue = get_catalogue()
    key = catalogue.header_map(catalogue.item("penalty"), "current")[normalize_header(header)]
    assert catalogue.header_unit(key, header) == unit


def test_full_width_headers_in_a_file_are_read_as_the_standard_ones():
    headers, rows = sample_rows()
    widened = [h.replace("(", "（").replace(")", "）").replace("_", "＿") + " " for h in headers]
    assert widened != headers
    item = get_catalogue().item("penalty")
    validator = RowValidator(get_catalogue(), item, widened, today=dt.date(2026, 11, 21))
    assert validator.unknown_headers == []
    result = validator.validate(2, [rows[0][h] for h in headers])
    assert not isinstance(result, list), result
    assert result.subject.uscc == rows[0]["行政相对人代码_1(统一社会信用代码)"]


def test_2016_layout_is_detected_from_its_marker_columns():
    catalogue = get_catalogue()
    penalty = catalogue.item("penalty")
    licence = catalogue.item("licence")
    current, _ = sample_rows()
    old_penalty = ["行政处罚决定书文号", "处罚名称", "处罚类别1", "处罚事由", "处罚依据", "行政相对人名称",
                   "处罚结果", "处罚决定日期", "处罚机关", "当前状态", "地方编码", "数据更新时间戳"]
    old_licence = ["行政许可决定书文号", "项目名称", "审批类别", "许可内容", "行政相对人名称",
                   "许可决定日期", "许可截止期", "许可机关", "当前状态", "地方编码", "数据更新时间戳"]
    assert catalogue.detect_layout(penalty, current) == "current"
    assert catalogue.detect_layout(penalty, old_penalty) == "2016"
    assert catalogue.detect_layout(licence, old_licence) == "2016"
    assert catalogue.detect_layout(penalty, [" 处罚名称 ", "处罚事由\u3000", *current]) == "2016"
    # one marker alone (a current file with an extra 地方编码 column) is not enough
    assert catalogue.detect_layout(penalty, [*current, "地方编码"]) == "current"
    # nor are markers the current layout reads too, in a file with columns only it has: a current
    # licence file with the legacy 地方编码 and 数据更新时间戳, or spelling 审批类别 and 许可截止期
    # (before, it was read as 2016 and its 当前状态 1 有效 stored as 2 无效)
    licence_now = [f.label for f in licence.template_fields]
    assert catalogue.detect_layout(licence, [*licence_now, "地方编码", "数据更新时间戳"]) == "current"
    renamed = [{"许可类别": "审批类别", "有效期至": "许可截止期"}.get(h, h) for h in licence_now]
    assert catalogue.detect_layout(licence, renamed) == "current"
    # the 2016 file with a column only the current layout has is still 2016 by its own markers
    assert catalogue.detect_layout(licence, [*old_licence, "数据来源单位"]) == "2016"


def test_2016_layout_maps_old_headers_onto_catalogue_fields():
    catalogue = get_catalogue()
    item = catalogue.item("penalty")
    old = catalogue.header_map(item, "2016")
    assert old[normalize_header("处罚事由")] == "violation_facts"
    assert old[normalize_header("处罚结果")] == "penalty_content"
    assert old[normalize_header("行政相对人代码_2(组织机构代码)")] == "org_code"  # _2 meant another code in 2016
    assert old[normalize_header("行政相对人代码_5(居民身份证号)")] == "id_number"
    assert catalogue.header_map(item, "current")[normalize_header("行政相对人代码_2(工商注册号)")] == "reg_no"


def test_resident_id_type_of_the_code_table_is_the_one_persons_are_indexed_by():
    # a person's blind index is keyed by the document type: the code table must yield exactly it
    from xinyong.catalogue.service import get_catalogue
    from xinyong.core.ids import RESIDENT_ID_TYPE

    table = get_catalogue().code_table("证件类型")
    assert {table.canonical(s) for s in ("身份证", "居民身份证", "公民身份号码")} == {RESIDENT_ID_TYPE}
