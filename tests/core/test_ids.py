"""Subject identifiers: what a department sees when it submits a code, right or wrong."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc
from stdnum.iso7064 import mod_11_10

from xinyong.core import clock, ids
from xinyong.core.ids import (
    PLACEHOLDER_USCC,
    USCC_ALPHABET,
    InvalidCode,
    is_government_body,
    is_placeholder_uscc,
    is_valid_uscc,
    make_org_code,
    make_reg_no,
    make_ric,
    make_uscc,
    mask_ric,
    normalize_code,
    org_code_check_char,
    reg_no_check_digit,
    ric_check_char,
    ric_not_uscc,
    uscc_area_code,
    uscc_check_char,
    uscc_kind,
    uscc_org_code,
    validate_org_code,
    validate_reg_no,
    validate_ric,
    validate_uscc,
)

PROPERTY = settings(max_examples=200, deadline=None)

DIGITS = "0123456789"
ORG_CODE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# (authority, category) pairs from GB 32100-2015 appendix A, letter authorities included.
USCC_KINDS = [
    ("1", "1"), ("1", "2"), ("1", "3"), ("1", "9"),
    ("2", "1"), ("2", "9"),
    ("3", "1"), ("3", "2"), ("3", "3"), ("3", "4"), ("3", "5"), ("3", "9"),
    ("4", "1"), ("4", "9"),
    ("5", "1"), ("5", "2"), ("5", "3"), ("5", "9"),
    ("6", "1"), ("6", "2"), ("6", "9"),
    ("7", "1"), ("7", "2"), ("7", "9"),
    ("8", "1"), ("8", "9"),
    ("9", "1"), ("9", "2"), ("9", "3"),
    ("A", "1"), ("A", "9"),
    ("N", "1"), ("N", "2"), ("N", "3"), ("N", "9"),
    ("Y", "1"),
]  # fmt: skip


def code_chars(alphabet: str, size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=size, max_size=size)


@st.composite
def uscc_bodies(draw: st.DrawFn) -> str:
    authority, category = draw(st.sampled_from(USCC_KINDS))
    return authority + category + draw(code_chars(DIGITS, 6)) + draw(code_chars(USCC_ALPHABET, 9))


def birth_dates() -> st.SearchStrategy[datetime.date]:
    return st.dates(datetime.date(1900, 1, 1), datetime.date(2020, 12, 31))


@st.composite
def noisy(draw: st.DrawFn, code: str) -> str:
    """The code as people type or paste it: lower case, full-width, spaces and dashes."""
    separators = ["", "", "", " ", "-", "\u3000", "\xa0", "－", "—", "\t", "\u200b"]
    out = [draw(st.sampled_from(["", " ", "\u3000", "\ufeff"]))]
    for char in code:
        if draw(st.booleans()):
            char = char.lower()
        if draw(st.booleans()):
            char = chr(ord(char) + 0xFEE0)  # the full-width form of a printable ASCII char
        out.append(char)
        out.append(draw(st.sampled_from(separators)))
    return "".join(out)


def substituted(code: str, position: int, char: str) -> str:
    return code[:position] + char + code[position + 1 :]


# --------------------------------------------------------------------------- normalize_code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("911301026CR765LW53", "911301026CR765LW53"),
        ("911301026cr765lw53", "911301026CR765LW53"),
        ("９１１３０１０２６ＣＲ７６５ＬＷ５３", "911301026CR765LW53"),
        ("\u3000 9113-0102 6CR7\xa065LW53\t\n", "911301026CR765LW53"),
        ("6CR765LW－5", "6CR765LW5"),
        ("6CR765LW‐5", "6CR765LW5"),
        ("6CR765LW—5", "6CR765LW5"),
        ("\ufeff6CR765LW\u200b5", "6CR765LW5"),
        ("", ""),
    ],
)
def test_normalize_code_removes_typing_noise(raw: str, expected: str) -> None:
    assert normalize_code(raw) == expected


def test_normalize_code_keeps_characters_that_are_not_noise() -> None:
    # A stray Chinese character or slash is an error for the validator to report, not to hide.
    assert normalize_code("9113/0102公司") == "9113/0102公司"


# --------------------------------------------------------------------------- USCC


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("911301026CR765LW53", ("工商", "企业")),
        ("11130102XBGQUWLD4Q", ("机构编制", "机关")),
        ("91110000802100433B", ("工商", "企业")),
        ("91110000600037341L", ("工商", "企业")),
    ],
)
def test_real_and_sample_uscc_are_valid(code: str, kind: tuple[str, str]) -> None:
    assert validate_uscc(code) == code
    assert is_valid_uscc(code)
    assert uscc_kind(code) == kind


def test_uscc_with_wrong_check_character_names_the_right_one() -> None:
    with pytest.raises(InvalidCode) as caught:
        validate_uscc("911301026CR765LW5A")
    assert caught.value.code == "uscc_checksum"
    assert caught.value.message == "统一社会信用代码校验位错误：应为 3，实为 A"
    assert not is_valid_uscc("911301026CR765LW5A")


def test_invalid_code_is_a_value_error_with_a_user_message() -> None:
    with pytest.raises(ValueError, match="校验位错误"):
        validate_uscc("911301026CR765LW5A")


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        ("91130102", "uscc_length", "统一社会信用代码应为 18 位，实为 8 位"),
        ("  ", "uscc_length", "统一社会信用代码不能为空"),
        (
            "91130102OCR765LW53",
            "uscc_charset",
            "统一社会信用代码第 9 位“O”不是有效字符（只能是数字和除 I、O、S、V、Z 以外的大写字母）",
        ),
        (
            "911301026CR765LW5公",
            "uscc_charset",
            "统一社会信用代码第 18 位“公”不是有效字符"
            "（只能是数字和除 I、O、S、V、Z 以外的大写字母）",
        ),
        (
            make_uscc("B1130102XBGQUWLD4"),
            "uscc_authority",
            "统一社会信用代码第 1 位（登记管理部门代码）“B”无效，"
            "应为 1、2、3、4、5、6、7、8、9、A、N、Y 之一",
        ),
        (
            make_uscc("941301026CR765LW5"),
            "uscc_category",
            "统一社会信用代码第 2 位（机构类别代码）“4”对登记管理部门“工商”无效，应为 1、2、3 之一",
        ),
        (
            make_uscc("Y2130102XBGQUWLD4"),
            "uscc_category",
            "统一社会信用代码第 2 位（机构类别代码）“2”对登记管理部门“其他”无效，应为 1",
        ),
        (
            make_uscc("91A301026CR765LW5"),
            "uscc_area",
            "统一社会信用代码第 3–8 位（行政区划码）应为 6 位数字，实为 A30102",
        ),
        (
            "00000000000000000X",
            "uscc_placeholder",
            "00000000000000000X 是无统一社会信用代码个体工商户的占位代码，"
            "不是有效的统一社会信用代码",
        ),
    ],
)
def test_uscc_errors_say_what_is_wrong(raw: str, code: str, message: str) -> None:
    with pytest.raises(InvalidCode) as caught:
        validate_uscc(raw)
    assert (caught.value.code, caught.value.message) == (code, message)


def test_letter_authorities_rejected_by_stdnum_are_accepted() -> None:
    # 农村集体经济组织 (N) and the military (A) hold legal codes that stdnum refuses.
    for first17 in ("N2130102XBGQUWLD4", "A1130102XBGQUWLD4", "Y1130102XBGQUWLD4"):
        code = make_uscc(first17)
        assert not stdnum_uscc.is_valid(code)
        assert validate_uscc(code) == code
    assert uscc_kind(make_uscc("N2130102XBGQUWLD4")) == ("农业", "村级集体经济组织")


def test_categories_of_smaller_authorities_are_accepted_but_labelled_unknown() -> None:
    code = make_uscc("37130102XBGQUWLD4")
    assert validate_uscc(code) == code
    assert uscc_kind(code) == ("司法行政", "未知")


def test_uscc_kind_of_code_outside_the_standard() -> None:
    assert uscc_kind(make_uscc("B1130102XBGQUWLD4")) == ("未知", "未知")


def test_uscc_parts_link_to_legacy_organisation_code() -> None:
    assert uscc_area_code("911301026CR765LW53") == "130102"
    assert uscc_org_code("911301026CR765LW53") == "6CR765LW5"
    assert validate_org_code(uscc_org_code("91110000802100433B")) == "802100433"
    assert uscc_org_code("9113 0102 6cr765lw53") == "6CR765LW5"


def test_government_bodies_are_recognised_by_their_first_two_characters() -> None:
    assert is_government_body("11130102XBGQUWLD4Q")
    assert not is_government_body(make_uscc("12130102XBGQUWLD4"))
    assert not is_government_body("911301026CR765LW53")


def test_placeholder_is_recognised_but_never_valid() -> None:
    assert PLACEHOLDER_USCC == "00000000000000000X"
    assert is_placeholder_uscc("00000000000000000x")
    assert is_placeholder_uscc(" 0000 0000 0000 0000 0X ")
    assert not is_placeholder_uscc("911301026CR765LW53")
    assert not is_valid_uscc(PLACEHOLDER_USCC)


def test_uscc_check_char_rejects_bad_input() -> None:
    with pytest.raises(InvalidCode) as caught:
        uscc_check_char("9113010")
    assert caught.value.code == "uscc_length"
    with pytest.raises(InvalidCode) as caught:
        make_uscc("91130102ICR765LW5")
    assert caught.value.code == "uscc_charset"


@PROPERTY
@given(first17=uscc_bodies())
def test_uscc_check_char_follows_gb_32100(first17: str) -> None:
    total = sum(USCC_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    assert uscc_check_char(first17) == USCC_ALPHABET[(31 - total % 31) % 31]


@PROPERTY
@given(data=st.data(), first17=uscc_bodies())
def test_generated_uscc_survives_typing_noise(data: st.DataObject, first17: str) -> None:
    code = make_uscc(first17)
    typed = data.draw(noisy(code))
    assert normalize_code(typed) == code
    assert validate_uscc(typed) == code
    assert is_valid_uscc(typed)


@PROPERTY
@given(
    first17=uscc_bodies(),
    position=st.integers(0, 17),
    char=st.sampled_from(USCC_ALPHABET),
)
def test_any_single_substitution_in_a_uscc_is_rejected(
    first17: str, position: int, char: str
) -> None:
    code = make_uscc(first17)
    assume(code[position] != char)
    assert not is_valid_uscc(substituted(code, position, char))


@PROPERTY
@given(first17=uscc_bodies())
def test_uscc_checksum_agrees_with_stdnum_for_digit_authorities(first17: str) -> None:
    code = make_uscc(first17)
    assume(first17[0].isdigit())
    assert stdnum_uscc.is_valid(code)


# --------------------------------------------------------------------------- organisation code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("6CR765LW-5", "6CR765LW5"),
        ("802100433", "802100433"),
        ("10000004-0", "100000040"),
        ("10000018-x", "10000018X"),
    ],
)
def test_organisation_codes_validate_in_both_layouts(raw: str, expected: str) -> None:
    assert validate_org_code(raw) == expected


def test_org_code_check_maps_ten_to_x_and_eleven_to_zero() -> None:
    # 1·3 + 4·2 = 11 ≡ 0 → 11 → '0';  1·3 + 1·4 + 8·2 = 23 ≡ 1 → 10 → 'X'
    assert org_code_check_char("10000004") == "0"
    assert org_code_check_char("10000018") == "X"


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        ("6CR765LW-4", "org_code_checksum", "组织机构代码校验位错误：应为 5，实为 4"),
        ("6CR765L", "org_code_length", "组织机构代码应为 9 位，实为 7 位"),
        ("", "org_code_length", "组织机构代码不能为空"),
        (
            "6CR7.5LW5",
            "org_code_charset",
            "组织机构代码第 5 位“.”不是有效字符（只能是数字和大写字母）",
        ),
        # no body has # or a letter other than X for its check character: a wrong character, as in
        # a USCC or a resident id, not a wrong check digit
        ("12345678#", "org_code_charset", "组织机构代码第 9 位（校验位）“#”不是有效字符（只能是数字或 X）"),
        ("6CR765LWA", "org_code_charset", "组织机构代码第 9 位（校验位）“A”不是有效字符（只能是数字或 X）"),
    ],
)
def test_org_code_errors_say_what_is_wrong(raw: str, code: str, message: str) -> None:
    with pytest.raises(InvalidCode) as caught:
        validate_org_code(raw)
    assert (caught.value.code, caught.value.message) == (code, message)


@PROPERTY
@given(data=st.data(), body=code_chars(ORG_CODE_CHARS, 8))
def test_generated_org_code_survives_typing_noise(data: st.DataObject, body: str) -> None:
    code = make_org_code(body)
    assert validate_org_code(data.draw(noisy(code))) == code
    assert validate_org_code(f"{code[:8]}-{code[8]}") == code


@PROPERTY
@given(
    body=code_chars(ORG_CODE_CHARS, 8),
    position=st.integers(0, 8),
    char=st.sampled_from(ORG_CODE_CHARS),
)
def test_single_substitution_in_an_org_code_is_rejected(
    body: str, position: int, char: str
) -> None:
    code = make_org_code(body)
    assume(code[position] != char)
    if position < 8:
        # GB 11714 works mod 11 over values 0–35, so swapping e.g. '0' for 'B' (11) cannot be
        # seen; the USCC check catches those.
        assume((int(code[position], 36) - int(char, 36)) % 11 != 0)
    with pytest.raises(InvalidCode):
        validate_org_code(substituted(code, position, char))


# --------------------------------------------------------------------------- resident id


def test_sample_resident_id() -> None:
    person = validate_ric("130102200203109238")
    assert person.number == "130102200203109238"
    assert person.birth_date == datetime.date(2002, 3, 10)
    assert person.sex == "男"
    assert person.area_code == "130102"
    assert person.warnings == ()


def test_lower_case_x_is_accepted() -> None:
    assert validate_ric("13010219850601018x").number == "13010219850601018X"
    assert validate_ric("13010219850601018x").sex == "女"


def test_area_created_after_birth_is_a_warning_not_an_error() -> None:
    number = make_ric("110118", datetime.date(1950, 1, 1), 1)  # 密云区, created 2015
    assert not stdnum_ric.is_valid(number)
    person = validate_ric(number)
    assert person.warnings == ("行政区划代码 110118 设立于 2015 年，晚于出生年份 1950",)


def test_area_abolished_before_birth_is_a_warning() -> None:
    number = make_ric("110103", datetime.date(2015, 5, 5), 2)  # 崇文区, merged in 2010
    assert validate_ric(number).warnings == (
        "行政区划代码 110103 在出生年份 2015 未在使用（已撤销或尚未设立）",
    )


def test_unknown_area_is_a_warning() -> None:
    number = make_ric("119999", datetime.date(1990, 5, 5), 2)
    assert validate_ric(number).warnings == ("行政区划代码 119999 不在行政区划代码表中，请核实",)


def test_birth_date_in_the_future_is_an_error() -> None:
    number = make_ric("130102", datetime.date(2021, 6, 1), 5)
    with clock.frozen(datetime.date(2021, 5, 31)), pytest.raises(InvalidCode) as caught:
        validate_ric(number)
    assert caught.value.code == "ric_birth_date"
    assert caught.value.message == "公民身份号码中的出生日期 2021-06-01 晚于今天"
    with clock.frozen(datetime.date(2021, 6, 1)):
        assert validate_ric(number).birth_date == datetime.date(2021, 6, 1)


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        ("13010220020310923", "ric_length", "公民身份号码应为 18 位，实为 17 位"),
        (
            "130102020310923",
            "ric_length",
            "公民身份号码应为 18 位，实为 15 位（旧号码请换用 18 位新号码）",
        ),
        ("", "ric_length", "公民身份号码不能为空"),
        (
            "1301022002O3109238",
            "ric_charset",
            "公民身份号码第 11 位“O”无效（前 17 位应为数字，第 18 位为数字或 X）",
        ),
        (
            "13010220020310923Y",
            "ric_charset",
            "公民身份号码第 18 位“Y”无效（前 17 位应为数字，第 18 位为数字或 X）",
        ),
        (
            "130102200213109230",
            "ric_birth_date",
            "公民身份号码第 7–14 位出生日期 20021310 不是有效日期",
        ),
        (
            make_ric("130102", datetime.date(2001, 2, 28), 1)[:12] + "29" + "0011",
            "ric_birth_date",
            "公民身份号码第 7–14 位出生日期 20010229 不是有效日期",
        ),
        (
            "130102180001010010",
            "ric_birth_date",
            "公民身份号码第 7–14 位出生日期 18000101 不是有效日期",
        ),
        ("130102200203109237", "ric_checksum", "公民身份号码校验位错误：应为 8，实为 7"),
    ],
)
def test_resident_id_errors_say_what_is_wrong(raw: str, code: str, message: str) -> None:
    with pytest.raises(InvalidCode) as caught:
        validate_ric(raw)
    assert (caught.value.code, caught.value.message) == (code, message)


@PROPERTY
@given(first17=code_chars(DIGITS, 17))
def test_ric_check_char_follows_gb_11643(first17: str) -> None:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(first17, weights, strict=True))
    assert ric_check_char(first17) == "10X98765432"[total % 11]
    assert stdnum_ric.calc_check_digit(first17 + "0") == ric_check_char(first17)


@PROPERTY
@given(data=st.data(), birth=birth_dates(), seq=st.integers(0, 999))
def test_generated_resident_id_survives_typing_noise(
    data: st.DataObject, birth: datetime.date, seq: int
) -> None:
    number = make_ric("440402", birth, seq)
    person = validate_ric(data.draw(noisy(number)))
    assert person.number == number
    assert person.birth_date == birth
    assert person.sex == ("男" if seq % 2 else "女")
    assert person.area_code == "440402"


@PROPERTY
@given(
    birth=birth_dates(),
    seq=st.integers(0, 999),
    position=st.integers(0, 17),
    char=st.sampled_from(DIGITS + "X"),
)
def test_any_single_substitution_in_a_resident_id_is_rejected(
    birth: datetime.date, seq: int, position: int, char: str
) -> None:
    number = make_ric("110101", birth, seq)
    assume(number[position] != char)
    with pytest.raises(InvalidCode):
        validate_ric(substituted(number, position, char))


@PROPERTY
@given(area=st.sampled_from(["440402", "110105", "130102", "331102", "510104", "410481"]), birth=birth_dates())
def test_a_resident_id_that_passes_the_uscc_check_is_told_apart(area: str, birth: datetime.date) -> None:
    """About one id in thirty is also a valid USCC by its check character; every such id is told
    apart (its characters 3–8 name no area, or its first two no category). The ids of one area
    and birth date are all taken: the ones that pass as USCCs are among them."""
    numbers = [make_ric(area, birth, seq) for seq in range(1000)]
    passing = [n for n in numbers if is_valid_uscc(n)]
    assert passing
    assert all(ric_not_uscc(n) for n in passing)


@PROPERTY
@given(kind=st.sampled_from([("9", "1"), ("9", "2"), ("9", "3"), ("1", "1"), ("1", "2"), ("5", "1"), ("5", "2")]),
       area=st.sampled_from(["110119", "130102", "410481", "440402", "331102", "320106", "110105"]),
       body=code_chars(DIGITS, 8))
def test_a_real_uscc_is_never_taken_for_a_resident_id(kind: tuple[str, str], area: str, body: str) -> None:
    """A USCC of a real category and area stays one, even when its digits happen to read as a
    valid resident id (county 19 or 20, a date, the right check digit)."""
    code = make_uscc("".join(kind) + area + make_org_code(body))
    assert not ric_not_uscc(code)


def test_make_ric_rejects_impossible_parts() -> None:
    with pytest.raises(ValueError, match="seq"):
        make_ric("110101", datetime.date(1990, 1, 1), 1000)
    with pytest.raises(ValueError, match="area"):
        make_ric("11010", datetime.date(1990, 1, 1), 1)


# --------------------------------------------------------------------------- masking


def test_mask_keeps_four_characters_at_each_end() -> None:
    assert mask_ric("440402199001017749") == "4404**********7749"
    assert mask_ric(" 440402 19900101 7749 ") == "4404**********7749"


@pytest.mark.parametrize(
    ("raw", "masked"),
    [("12345678", "12****78"), ("123456789012345", "123*********345"), ("1234", "1**4")],
)
def test_mask_of_short_numbers_hides_at_least_half(raw: str, masked: str) -> None:
    assert mask_ric(raw) == masked


@PROPERTY
@given(birth=birth_dates(), seq=st.integers(0, 999))
def test_mask_never_reveals_birth_date_or_sequence(birth: datetime.date, seq: int) -> None:
    number = make_ric("440402", birth, seq)
    masked = mask_ric(number)
    assert masked == number[:4] + "*" * 10 + number[-4:]
    assert number[6:14] not in masked


@PROPERTY
@given(text=st.text(alphabet=DIGITS + "X", min_size=1, max_size=40))
def test_mask_of_any_length_hides_the_middle(text: str) -> None:
    masked = mask_ric(text)
    keep = min(4, len(text) // 4)
    assert len(masked) == len(text)
    assert masked[keep : len(text) - keep] == "*" * (len(text) - 2 * keep)
    assert len(text) - masked.count("*") <= len(text) // 2


# --------------------------------------------------------------------------- registration number


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        ("44040200000001", "reg_no_length", "工商注册号应为 15 位，实为 14 位"),
        ("", "reg_no_length", "工商注册号不能为空"),
        ("4404020000A0012", "reg_no_charset", "工商注册号第 11 位“A”不是数字"),
        ("44040200000001X", "reg_no_charset", "工商注册号第 15 位“X”不是数字"),
    ],
)
def test_registration_number_errors_say_what_is_wrong(raw: str, code: str, message: str) -> None:
    with pytest.raises(InvalidCode) as caught:
        validate_reg_no(raw)
    assert (caught.value.code, caught.value.message) == (code, message)


def test_registration_number_with_wrong_check_digit_names_the_right_one() -> None:
    good = make_reg_no("44040200000001")
    wrong = str((int(good[-1]) + 1) % 10)
    with pytest.raises(InvalidCode) as caught:
        validate_reg_no(good[:-1] + wrong)
    assert caught.value.code == "reg_no_checksum"
    assert caught.value.message == f"工商注册号校验位错误：应为 {good[-1]}，实为 {wrong}"


@PROPERTY
@given(number=code_chars(DIGITS, 15))
def test_registration_number_check_is_iso_7064_mod_11_10(number: str) -> None:
    accepted = True
    try:
        validate_reg_no(number)
    except InvalidCode:
        accepted = False
    assert accepted == mod_11_10.is_valid(number)
    assert reg_no_check_digit(number[:14]) == mod_11_10.calc_check_digit(number[:14])


@PROPERTY
@given(data=st.data(), first14=code_chars(DIGITS, 14))
def test_generated_registration_number_survives_typing_noise(
    data: st.DataObject, first14: str
) -> None:
    number = make_reg_no(first14)
    assert validate_reg_no(data.draw(noisy(number))) == number


@PROPERTY
@given(first14=code_chars(DIGITS, 14), position=st.integers(0, 14), char=st.sampled_from(DIGITS))
def test_any_single_substitution_in_a_registration_number_is_rejected(
    first14: str, position: int, char: str
) -> None:
    number = make_reg_no(first14)
    assume(number[position] != char)
    with pytest.raises(InvalidCode) as caught:
        validate_reg_no(substituted(number, position, char))
    assert caught.value.code == "reg_no_checksum"


@pytest.mark.parametrize(("validate", "shown"), [
    (ids.validate_ric, "1.30102E+17"), (ids.validate_ric, "1.30102200203109e+17"),
    (ids.validate_uscc, "9.13701E+17"), (ids.validate_reg_no, "1.30102E+14"),
])
def test_a_code_excel_showed_as_a_number_says_so(validate, shown) -> None:
    with pytest.raises(ids.InvalidCode) as raised:
        validate(shown)
    assert raised.value.code == "excel_number" and "文本格式" in raised.value.message


@pytest.mark.parametrize(("text", "shown"), [
    ("当事人（身份证号130102198503070312）", "当事人（身份证号1301**********0312）"),
    ("身份证 130102 19850307 0312 其他", "身份证 1301**********0312 其他"),
    ("130102-19850307-0312", "1301**********0312"),
    ("身份证１３０１０２１９８５０３０７０３１２", "身份证1301**********0312"),
    ("旧身份证130102850307031", "旧身份证130*********031"),
])
def test_resident_ids_in_a_text_are_masked_however_they_are_written(text: str, shown: str) -> None:
    from xinyong.core.ids import mask_resident_ids

    assert mask_resident_ids(text) == (shown, 1)


@pytest.mark.parametrize("text", [
    "账号6222021234567890123", "许可证号JY13101020001234", "电话 13912345678", "注册号130102000012345",
    "编号130102198503070313",  # the check character is wrong: no id
])
def test_numbers_that_are_no_resident_id_are_left_alone(text: str) -> None:
    from xinyong.core.ids import mask_resident_ids

    assert mask_resident_ids(text) == (text, 0)


# areas whose ids never read as a USCC of a real category and area (the property test above), so
# that an id of theirs glued to letters is always taken for an id
ID_AREAS = ["440402", "110105", "130102", "331102", "510104", "410481"]
LETTERS = "ABCDIMNOXYZabcdinoxyzＡＢＩＤＮｏｘ"


@pytest.mark.parametrize("written", [
    "130102 198503 070312", "130102 1985 0307 0312", "1301 0219 8503 0703 12", "130102.19850307.0312",
    "130102-1985-0307-0312", "130102\u300019850307\u30000312", "130102\u00a019850307\u00a00312",
    "13 01 02 19 85 03 07 03 12", "1 3 0 1 0 2 1 9 8 5 0 3 0 7 0 3 1 2", "１３０１ ０２１９ ８５０３ ０７０３ １２",
    "130102．19850307．0312", "130102－19850307－0312",
])
def test_a_resident_id_grouped_any_way_is_masked(written: str) -> None:
    """Found by probing: 130102 198503 070312, 130102 1985 0307 0312, 1301 0219 8503 0703 12 and
    130102.19850307.0312 in a 违法事实 were published in clear; only 6-8-4 was masked."""
    from xinyong.core.ids import mask_resident_ids

    assert mask_resident_ids(f"张三（身份证号{written}）无证驾驶") == ("张三（身份证号1301**********0312）无证驾驶", 1)
    assert mask_resident_ids(f"罚款 2000 元，张三 {written} 2024年") == (
        "罚款 2000 元，张三 1301**********0312 2024年", 1)


@PROPERTY
@given(area=st.sampled_from(ID_AREAS), birth=birth_dates(), seq=st.integers(0, 999),
       cuts=st.sets(st.integers(1, 17), max_size=8), separators=st.lists(st.sampled_from(" \u3000-.．"), min_size=8,
                                                                        max_size=8),
       before=st.sampled_from(["", "身份证号", "ID", "2024 "]), after=st.sampled_from(["", "。", " 其他", " 2024年"]))
def test_any_grouping_of_a_resident_id_is_masked(area: str, birth: datetime.date, seq: int, cuts: set[int],
                                                 separators: list[str], before: str, after: str) -> None:
    from xinyong.core.ids import mask_resident_ids

    number = make_ric(area, birth, seq)
    written, last = "", 0
    for cut, separator in zip(sorted(cuts), separators, strict=False):
        written += number[last:cut] + separator
        last = cut
    written += number[last:]
    assert mask_resident_ids(f"{before}{written}{after}") == (f"{before}{mask_ric(number)}{after}", 1)


@pytest.mark.parametrize("text", [
    "金额 2024 0305 1234 5678 元", "电话0311-8765 4321、1390 0000 000", "账号 6222 0212 3456 7890 123",
    "2024.03.05 至 2025.03.04，罚款 1 2 3 4 5 6 7 8 9 10 11 12 元",
    "130102 19850307 0313",  # grouped like an id, but its check character is wrong
    "1301 0285 0307 031",  # 15 digits with a date inside, but an old id is read only whole or as 6-6-3
])
def test_spaced_numbers_that_are_no_resident_id_are_left_alone(text: str) -> None:
    from xinyong.core.ids import mask_resident_ids

    assert mask_resident_ids(text) == (text, 0)


def test_an_old_resident_id_is_masked_whole_or_grouped_as_area_birth_sequence() -> None:
    from xinyong.core.ids import mask_resident_ids

    assert mask_resident_ids("旧身份证130102 850307 031号") == ("旧身份证130*********031号", 1)
    assert mask_resident_ids("旧身份证130102-850307-031") == ("旧身份证130*********031", 1)


@PROPERTY
@given(area=st.sampled_from(ID_AREAS), birth=birth_dates(), seq=st.integers(0, 999),
       before=st.text(LETTERS, max_size=3), after=st.text(LETTERS, max_size=3))
def test_a_resident_id_glued_to_letters_is_masked(area: str, birth: datetime.date, seq: int, before: str,
                                                  after: str) -> None:
    """Found by probing: 当事人（ID330102…）and No330102… were stored, and published, in clear."""
    from xinyong.core.ids import mask_resident_ids

    number = make_ric(area, birth, seq)
    assert mask_resident_ids(f"当事人（{before}{number}{after}）使用") == (
        f"当事人（{before}{mask_ric(number)}{after}）使用", 1)
    assert mask_resident_ids(f"{before}{number.lower()}{after}") == (f"{before}{mask_ric(number)}{after}", 1)


@PROPERTY
@given(area=st.sampled_from(ID_AREAS), birth=birth_dates(), seq=st.integers(0, 999),
       suffix=code_chars(DIGITS, 2), before=st.sampled_from(["", "ID", "纳税人识别号：", "税务登记号"]))
def test_a_resident_id_with_a_two_digit_sequence_is_a_tax_number_whose_id_is_masked(
    area: str, birth: datetime.date, seq: int, suffix: str, before: str,
) -> None:
    """The 税务登记号 of a 个体工商户 was its holder's id and a 2-digit sequence: found by probing,
    33010219770707456101 was published whole."""
    from xinyong.core.ids import mask_resident_ids

    number = make_ric(area, birth, seq)
    assert mask_resident_ids(f"{before}{number}{suffix}。") == (f"{before}{mask_ric(number)}{suffix}。", 1)


@PROPERTY
@given(area=st.sampled_from(ID_AREAS), birth=birth_dates(), seq=st.integers(0, 999),
       digits=st.tuples(code_chars(DIGITS, 0), code_chars(DIGITS, 1))
       | st.tuples(code_chars(DIGITS, 1), code_chars(DIGITS, 0))
       | st.tuples(code_chars(DIGITS, 0), code_chars(DIGITS, 3))
       | st.tuples(code_chars(DIGITS, 1), code_chars(DIGITS, 2))
       | st.tuples(code_chars(DIGITS, 2), code_chars(DIGITS, 2))
       | st.tuples(code_chars(DIGITS, 3), code_chars(DIGITS, 1)))
def test_an_id_inside_a_longer_number_is_no_id_but_the_one_beside_it_is(
    area: str, birth: datetime.date, seq: int, digits: tuple[str, str],
) -> None:
    """Digits of 19, 21 or 22 (an account, a licence number) are never taken apart, even when an id
    is inside; the id glued to letters in the same text is masked."""
    from xinyong.core.ids import mask_resident_ids

    number = make_ric(area, birth, seq)
    longer = digits[0] + number + digits[1]
    assert len(longer) in (19, 21, 22)
    assert mask_resident_ids(f"账号{longer}，当事人ID{number}") == (f"账号{longer}，当事人ID{mask_ric(number)}", 1)


@pytest.mark.parametrize("account", [
    "6222021234567890123",  # 19 digits, a debit card
    "33050161672700000123",  # 20: a corporate account whose first 18 digits are no id
    "620000000123456789012", "6228480402564890018765",  # 21 and 22
])
def test_an_account_number_is_left_alone_and_an_id_beside_it_masked(account: str) -> None:
    from xinyong.core.ids import mask_resident_ids

    text = f"罚款缴入账户{account}（户名财政局），当事人No130102198503070312"
    assert mask_resident_ids(text) == (f"罚款缴入账户{account}（户名财政局），当事人No1301**********0312", 1)


@PROPERTY
@given(kind=st.sampled_from(["91", "92", "93", "11", "12", "51", "52"]),
       area=st.sampled_from(["110119", "120119", "310120", "500119", "500120"]),
       birth=st.dates(datetime.date(1950, 1, 1), datetime.date(1999, 12, 31)),
       before=st.text(LETTERS, min_size=1, max_size=4), after=st.text(LETTERS, max_size=2))
def test_an_all_digit_uscc_glued_to_letters_is_left_alone_even_when_it_reads_as_an_id(
    kind: str, area: str, birth: datetime.date, before: str, after: str,
) -> None:
    """A USCC of a real category and area whose digits also pass GB 11643 (county 19 or 20 and a
    date next, the right check character) is left alone beside letters (USCC911101197707071099),
    as intake takes it in the USCC column; standing alone it is masked, since the text says
    nothing of what it is and a masked USCC costs less than a published id."""
    from xinyong.core.ids import mask_resident_ids

    codes = [make_uscc(kind + area + make_org_code(f"{birth:%y%m%d}{tail:02d}")) for tail in range(100)]
    both = [c for c in codes if ids.is_valid_ric(c)]
    assume(both)
    code = both[0]
    assert is_valid_uscc(code) and not ric_not_uscc(code)
    person = make_ric("440402", birth, 7)
    text = f"{before}{code}{after}，ID{person}"
    assert mask_resident_ids(text) == (f"{before}{code}{after}，ID{mask_ric(person)}", 1)
    assert mask_resident_ids(f"代码 {code} 。") == (f"代码 {mask_ric(code)} 。", 1)


@PROPERTY
@given(kind=st.sampled_from(["11", "12", "13", "51", "52", "53"]),
       area=st.sampled_from(["110105", "130102", "330102", "440402", "510104"]),
       birth=birth_dates(), tail=code_chars(DIGITS, 3), letter=st.sampled_from("ABCDEFGHJKLMNPQRTUWXY"),
       before=st.text(LETTERS, max_size=3))
def test_a_uscc_with_a_letter_is_never_taken_apart(kind: str, area: str, birth: datetime.date, tail: str,
                                                   letter: str, before: str) -> None:
    """Letters no longer stop an id being masked, but the 15 digits before a letter of a USCC can
    read as an old id (12330102 + 0715123 + A: born 1902-07-15): such a code is left whole, and the
    id glued to letters beside it is masked."""
    from xinyong.core.ids import mask_resident_ids

    code = make_uscc(kind + area + make_org_code(f"{birth:%m%d}{tail}{letter}"))
    assume(ids._old_ric(code[:15]))  # what would be masked were it not a USCC (not 29 February 1902)
    person = make_ric("130102", birth, 31)
    text = f"{before}{code}，身份证号码ID{person}"
    assert mask_resident_ids(text) == (f"{before}{code}，身份证号码ID{mask_ric(person)}", 1)


def test_the_tax_number_column_also_masks_an_old_id_with_a_two_digit_sequence() -> None:
    """A 个体工商户 registered on a first-generation card had the 15-digit id and a 2-digit
    sequence as its 税务登记号; free text does not read 17 digits so (no check character: about
    one 17-digit number in thirty has a date in the right place)."""
    from xinyong.core.ids import mask_resident_ids, mask_tax_number

    assert mask_tax_number("33010277070745601") == ("330*********45601", 1)
    assert mask_tax_number("330102 770707456 01") == ("330*********45601", 1)
    assert mask_tax_number("33010219770707456101") == ("3301**********456101", 1)
    assert mask_tax_number("130102198503070312") == ("1301**********0312", 1)
    for number in ("33010277130745601", "9133010277070745601", "91330102MA2XXXXXXX"):  # month 13; no ids
        assert mask_tax_number(number) == (number, 0)
    assert mask_resident_ids("编号33010277070745601") == ("编号33010277070745601", 0)
