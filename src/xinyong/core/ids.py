"""Subject identifiers: USCC, organisation code, resident id and registration number rules."""

from __future__ import annotations

import datetime
import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from operator import mul

from stdnum import numdb
from stdnum.cn import uscc as stdnum_uscc
from stdnum.iso7064 import mod_11_10

from xinyong.core import clock
from xinyong.core.errors import XinyongError


class InvalidCode(XinyongError, ValueError):
    """A code that fails its standard; ``code`` is machine readable, ``message`` is for users."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


# --------------------------------------------------------------------------- normalisation

# Dashes and hyphens people type between code groups; NFKC already folds U+FF0D and U+FE63
# to '-', the rest survive it.
_DASHES = "-\u00ad\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
# Invisible characters that copy-paste from web pages and Word leave inside cells.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_DROP_FROM_CODES = str.maketrans("", "", _DASHES + _INVISIBLE)


def normalize_code(raw: str) -> str:
    """The canonical form of a typed code: no separators, half-width, upper case."""
    # Nearly every code in a bulk file is already clean, and NFKC is the expensive step.
    if raw.isascii() and raw.isalnum():
        return raw.upper()
    text = unicodedata.normalize("NFKC", raw).translate(_DROP_FROM_CODES)
    return "".join(text.split()).upper()


# How Excel shows a long number it has stored as a number: 1.30102E+17. Excel keeps 15 significant
# digits, so the rest of the code is gone; the only fix is to type it again in a text column.
_EXCEL_NUMBER = re.compile(r"^\d(?:\.\d+)?E\+\d{1,2}$")


def excel_number_error(label: str, text: str) -> InvalidCode | None:
    """The error for a value that is Excel's display of a long number (1.30102E+17), whose last
    digits are lost; None for any other value."""
    if not _EXCEL_NUMBER.match(text):
        return None
    return InvalidCode(
        "excel_number",
        f"{label}“{text}”是 Excel 把号码当作数字保存后的样子，后几位已经丢失：请把该列设为文本格式，"
        "重新录入号码后再导出",
    )


def _length_error(code: str, label: str, expected: str, text: str) -> InvalidCode:
    """The error for ``text`` (normalised) of the wrong length."""
    if not text:
        return InvalidCode(code, f"{label}不能为空")
    return excel_number_error(label, text) or InvalidCode(code, f"{label}应为 {expected} 位，实为 {len(text)} 位")


# --------------------------------------------------------------------------- USCC (GB 32100)

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
PLACEHOLDER_USCC = "00000000000000000X"
# The 证件类型 value of a resident identity card (the code table's canonical spelling); a person's
# blind index is keyed by "<证件类型>:<number>", so intake and lookup must use this one constant.
RESIDENT_ID_TYPE = "身份证"

_USCC_LABEL = "统一社会信用代码"
_USCC_VALUE = {char: value for value, char in enumerate(USCC_ALPHABET)}
# bytes.translate maps a whole code to its values in one C call; 0xFF marks a foreign character.
_USCC_BYTE_VALUES = bytes(_USCC_VALUE.get(chr(b), 0xFF) for b in range(256))
# Weight 1 on the check character turns "check == expected" into "weighted sum ≡ 0 (mod 31)".
_USCC_WEIGHTS = (*(pow(3, i, 31) for i in range(17)), 1)

# GB 32100-2015 appendix A: registration authority -> (label, {category: label}).
_USCC_AUTHORITIES: dict[str, tuple[str, dict[str, str]]] = {
    "1": ("机构编制", {"1": "机关", "2": "事业单位", "3": "群众团体", "9": "其他"}),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": (
        "司法行政",
        {
            "1": "律师执业机构",
            "2": "公证处",
            "3": "基层法律服务所",
            "4": "司法鉴定机构",
            "5": "仲裁委员会",
            "9": "其他",
        },
    ),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": (
        "旅游",
        {"1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地代表机构", "9": "其他"},
    ),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": ("工商", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("军队", {"1": "军队事业单位", "9": "其他"}),
    "N": (
        "农业",
        {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"},
    ),
    "Y": ("其他", {"1": "其他"}),
}
# Category rules enforced only where the table is widely used and stable; the smaller
# authorities have amended their categories since 2015, so a code outside the table above is
# labelled '未知' rather than rejected.
_USCC_STRICT_CATEGORIES: dict[str, frozenset[str]] = {
    authority: frozenset(_USCC_AUTHORITIES[authority][1]) for authority in ("1", "5", "9", "N", "Y")
}
_AUTHORITY_LIST = "、".join(_USCC_AUTHORITIES)


def _uscc_charset_error(code: str) -> InvalidCode:
    position, char = next((i, c) for i, c in enumerate(code, 1) if c not in _USCC_VALUE)
    return InvalidCode(
        "uscc_charset",
        f"{_USCC_LABEL}第 {position} 位“{char}”不是有效字符"
        "（只能是数字和除 I、O、S、V、Z 以外的大写字母）",
    )


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a USCC."""
    if len(first17) != 17:
        raise _length_error("uscc_length", f"{_USCC_LABEL}本体", "17", first17)
    if any(c not in _USCC_VALUE for c in first17):
        raise _uscc_charset_error(first17)
    # stdnum's check works for every authority; only its validate() rejects letter authorities.
    return stdnum_uscc.calc_check_digit(first17)


def validate_uscc(raw: str) -> str:
    """The normalised USCC, or InvalidCode saying what is wrong with it."""
    code = normalize_code(raw)
    if len(code) != 18:
        raise _length_error("uscc_length", _USCC_LABEL, "18", code)
    values = code.encode("ascii", "replace").translate(_USCC_BYTE_VALUES)
    if 0xFF in values:
        raise _uscc_charset_error(code)
    authority = code[0]
    if authority not in _USCC_AUTHORITIES:
        if code == PLACEHOLDER_USCC:
            raise InvalidCode(
                "uscc_placeholder",
                f"{PLACEHOLDER_USCC} 是无统一社会信用代码个体工商户的占位代码，"
                f"不是有效的{_USCC_LABEL}",
            )
        raise InvalidCode(
            "uscc_authority",
            f"{_USCC_LABEL}第 1 位（登记管理部门代码）“{authority}”无效，"
            f"应为 {_AUTHORITY_LIST} 之一",
        )
    allowed = _USCC_STRICT_CATEGORIES.get(authority)
    if allowed is not None and code[1] not in allowed:
        authority_label = _USCC_AUTHORITIES[authority][0]
        options = "、".join(sorted(allowed))
        hint = f"应为 {options} 之一" if len(allowed) > 1 else f"应为 {options}"
        raise InvalidCode(
            "uscc_category",
            f"{_USCC_LABEL}第 2 位（机构类别代码）“{code[1]}”"
            f"对登记管理部门“{authority_label}”无效，{hint}",
        )
    if not code[2:8].isdigit():
        raise InvalidCode(
            "uscc_area",
            f"{_USCC_LABEL}第 3–8 位（行政区划码）应为 6 位数字，实为 {code[2:8]}",
        )
    if sum(map(mul, values, _USCC_WEIGHTS)) % 31:
        expected = uscc_check_char(code[:17])
        raise InvalidCode(
            "uscc_checksum", f"{_USCC_LABEL}校验位错误：应为 {expected}，实为 {code[17]}"
        )
    return code


def is_valid_uscc(raw: str) -> bool:
    try:
        validate_uscc(raw)
    except InvalidCode:
        return False
    return True


def is_placeholder_uscc(raw: str) -> bool:
    """Whether this is the code reported for an individual business that has no USCC."""
    return normalize_code(raw) == PLACEHOLDER_USCC


def _uscc_parts(uscc: str) -> str:
    code = normalize_code(uscc)
    if len(code) != 18:
        raise _length_error("uscc_length", _USCC_LABEL, "18", code)
    return code


def uscc_org_code(uscc: str) -> str:
    """Characters 9–17: the organisation code that links legacy records to the subject."""
    return _uscc_parts(uscc)[8:17]


def uscc_area_code(uscc: str) -> str:
    """Characters 3–8: the area code of the registering office."""
    return _uscc_parts(uscc)[2:8]


def uscc_kind(uscc: str) -> tuple[str, str]:
    """(登记管理部门, 机构类别) labels; '未知' where the code is outside GB 32100's table."""
    code = _uscc_parts(uscc)
    entry = _USCC_AUTHORITIES.get(code[0])
    if entry is None:
        return ("未知", "未知")
    authority_label, categories = entry
    return (authority_label, categories.get(code[1], "未知"))


def is_individual_business_uscc(uscc: str) -> bool:
    """Whether the code's authority and category (characters 1–2) are those of a 个体工商户."""
    return uscc_kind(uscc)[1] == "个体工商户"


def is_government_body(uscc: str) -> bool:
    """Whether the subject is an organ of state (机构编制-机关), the target of 政务诚信."""
    return normalize_code(uscc).startswith("11")


def make_uscc(first17: str) -> str:
    return first17 + uscc_check_char(first17)


# --------------------------------------------------------------------------- organisation code

_ORG_LABEL = "组织机构代码"
_ORG_BODY_VALUE = {c: int(c, 36) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def org_code_check_char(first8: str) -> str:
    """The GB 11714 check character for an 8-character organisation code body."""
    if len(first8) != 8:
        raise _length_error("org_code_length", f"{_ORG_LABEL}本体", "8", first8)
    try:
        total = sum(map(mul, map(_ORG_BODY_VALUE.__getitem__, first8), _ORG_WEIGHTS))
    except KeyError:
        raise _org_charset_error(first8) from None
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def _org_charset_error(code: str) -> InvalidCode:
    position, char = next((i, c) for i, c in enumerate(code, 1) if c not in _ORG_BODY_VALUE)
    return InvalidCode(
        "org_code_charset",
        f"{_ORG_LABEL}第 {position} 位“{char}”不是有效字符（只能是数字和大写字母）",
    )


def validate_org_code(raw: str) -> str:
    """The 9-character organisation code (accepts 'XXXXXXXX-X'), or InvalidCode."""
    code = normalize_code(raw)
    if len(code) != 9:
        raise _length_error("org_code_length", _ORG_LABEL, "9", code)
    expected = org_code_check_char(code[:8])
    if code[8] != expected:
        raise InvalidCode(
            "org_code_checksum", f"{_ORG_LABEL}校验位错误：应为 {expected}，实为 {code[8]}"
        )
    return code


def make_org_code(first8: str) -> str:
    return first8 + org_code_check_char(first8)


# --------------------------------------------------------------------------- resident id

_RIC_LABEL = "公民身份号码"
_RIC_CHECK_CHARS = "0123456789X"
# Nobody with a GB 11643 number was born before this; earlier years are typing errors.
_RIC_EARLIEST_BIRTH_YEAR = 1880


def ric_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of a resident id."""
    if len(first17) != 17:
        raise _length_error("ric_length", f"{_RIC_LABEL}本体", "17", first17)
    if not (first17.isascii() and first17.isdigit()):
        raise _ric_charset_error(first17)
    return _ric_check(first17)


def _ric_check(first17: str) -> str:
    # The GB 11643 weights are 2^(17-i) mod 11 and 13 ≡ 2 (mod 11), so reading the digits in
    # base 13 yields half the weighted sum in one C call; callers guarantee ASCII digits, since
    # int() would also accept '_' and spaces.
    return "0123456789X"[(1 - 2 * int(first17, 13)) % 11]


def _ric_charset_error(code: str) -> InvalidCode:
    position, char = next(
        (i, c) for i, c in enumerate(code, 1) if not ("0" <= c <= "9" or (i == 18 and c == "X"))
    )
    return InvalidCode(
        "ric_charset",
        f"{_RIC_LABEL}第 {position} 位“{char}”无效（前 17 位应为数字，第 18 位为数字或 X）",
    )


@dataclass(frozen=True)
class ResidentId:
    """A validated resident id with what it says about its holder."""

    number: str
    birth_date: datetime.date
    sex: str
    area_code: str
    warnings: tuple[str, ...]


# A bulk file repeats few areas, and the cache holds all ~7,000 real ones with room to spare.
@functools.lru_cache(maxsize=16384)
def _area_years(area: str) -> tuple[tuple[int | None, int | None], ...]:
    """Years the area code was in use, as (first or None, last or None); () if stdnum lacks it."""
    info: dict[str, str] = {}
    for _part, props in numdb.get("cn/loc").info(area):
        info.update(props)
    county = info.get("county")
    if county is None:
        return ()
    spans: list[tuple[int | None, int | None]] = []
    for name in county.split(","):
        if not name.startswith("["):
            spans.append((None, None))
            continue
        start, end = name[1:].split("]", 1)[0].split("-")
        spans.append((int(start) if start else None, int(end) if end else None))
    return tuple(spans)


def area_name(area: str) -> str | None:
    """The name of a GB/T 2260 administrative area (舞钢市, 河北省石家庄市), None if the code is
    none (as far as python-stdnum's table knows, abolished codes included)."""
    if not _area_years(area):
        return None
    info: dict[str, str] = {}
    for _part, props in numdb.get("cn/loc").info(area):
        info.update(props)
    county = info["county"].split(",")[-1]
    county = county.split("]", 1)[1] if county.startswith("[") else county
    province = info.get("province", "")
    return county if county.startswith(province) else province + county


def _area_warnings(area: str, birth_year: int) -> tuple[str, ...]:
    spans = _area_years(area)
    if not spans:
        return (f"行政区划代码 {area} 不在行政区划代码表中，请核实",)
    for start, end in spans:
        if (start is None or start <= birth_year) and (end is None or birth_year <= end):
            return ()
    # Numbers issued after a boundary change carry the new code, so this is common and legal.
    first = min((start for start, _end in spans if start is not None), default=None)
    if first is not None and birth_year < first:
        return (f"行政区划代码 {area} 设立于 {first} 年，晚于出生年份 {birth_year}",)
    return (f"行政区划代码 {area} 在出生年份 {birth_year} 未在使用（已撤销或尚未设立）",)


def validate_ric(raw: str) -> ResidentId:
    """The resident id with birth date, sex and warnings, or InvalidCode."""
    number = normalize_code(raw)
    if len(number) != 18:
        error = _length_error("ric_length", _RIC_LABEL, "18", number)
        if len(number) == 15:
            error = InvalidCode(
                "ric_length", f"{_RIC_LABEL}应为 18 位，实为 15 位（旧号码请换用 18 位新号码）"
            )
        raise error
    first17 = number[:17]
    if not (first17.isascii() and first17.isdigit() and number[17] in _RIC_CHECK_CHARS):
        raise _ric_charset_error(number)
    try:
        # Since Python 3.11 this reads the ISO basic form YYYYMMDD, faster than three int() calls.
        birth = datetime.date.fromisoformat(number[6:14])
    except ValueError:
        birth = None
    if birth is None or birth.year < _RIC_EARLIEST_BIRTH_YEAR:
        raise InvalidCode(
            "ric_birth_date", f"{_RIC_LABEL}第 7–14 位出生日期 {number[6:14]} 不是有效日期"
        )
    if birth > clock.today():
        raise InvalidCode(
            "ric_birth_date", f"{_RIC_LABEL}中的出生日期 {birth.isoformat()} 晚于今天"
        )
    expected = _ric_check(first17)
    if number[17] != expected:
        raise InvalidCode(
            "ric_checksum", f"{_RIC_LABEL}校验位错误：应为 {expected}，实为 {number[17]}"
        )
    area = number[:6]
    return ResidentId(
        number=number,
        birth_date=birth,
        sex="男" if int(number[16]) % 2 else "女",
        area_code=area,
        warnings=_area_warnings(area, birth.year),
    )


def is_valid_ric(raw: str) -> bool:
    try:
        validate_ric(raw)
    except InvalidCode:
        return False
    return True


def ric_not_uscc(raw: str) -> bool:
    """Whether a code that passes the USCC check is a resident id instead: about one resident id
    in thirty also passes GB 32100's check (its first digit reads as a registration authority),
    and would be stored, and shown, as an organisation's code. It is taken for an id when it is
    a valid one (GB 11643: date, check digit) and as a USCC names no category of GB 32100's table
    or no GB/T 2260 area in characters 3–8 (an id's characters 3–8 are its city, county and
    birth century: 440402200008098085 would be area 040220). Intake asks it of every party's
    USCC: most have a letter among their first 17 characters, and are answered at once."""
    code = normalize_code(raw)
    if not (code[:17].isascii() and code[:17].isdigit()) or not is_valid_ric(code):
        return False
    categories = _USCC_AUTHORITIES.get(code[0], ("", {}))[1]
    return code[1] not in categories or area_name(code[2:8]) is None


def mask_ric(number: str) -> str:
    """The id as it may be shown in public: at most 4 characters kept at each end."""
    code = normalize_code(number)
    # Keep no more than a quarter on each side, so short inputs stay mostly hidden.
    keep = min(4, len(code) // 4)
    return code[:keep] + "*" * (len(code) - 2 * keep) + code[len(code) - keep :]


# A resident id in a text: 18 characters (the last may be the check character X), in any width,
# written whole or in groups with one separator between them — a space (also U+00A0 and U+3000),
# a hyphen or a dot, half or full width — wherever the writer put it: 130102 19850307 0312 (area,
# birth date, sequence), 130102 198503 070312, 1301 0219 8503 0703 12 (as bank cards are grouped),
# 130102.19850307.0312; or an old 15-digit id (area, birth date as YYMMDD, sequence), issued
# before 1999, whole or as 6-6-3. Found as a run of at least 15 digits with single separators
# (``_ID_RUN``), then tried group by group (``_ids_in_run``): an id is whole groups of the run, so
# only a digit next to it makes it no id — it is then part of a longer number (an account, a
# licence number) — not a letter: departments glue ids to what names them (当事人（ID330102…）,
# No330102…, 身份证号码:330102…). A code that holds letters of its own, a USCC above all, is told
# apart after the match (``_inside_a_uscc``).
#
# Only numbers that pass GB 11643 are taken for ids: a birth date since 1880 in characters 7–14
# and the check character (about one 18-digit number in 20,000 passes by chance), so amounts,
# dates and telephone numbers in a text are left alone however they are spaced. An old id has no
# check character (about one 15-digit number in 30 has a date in its characters 7–12): it is read
# only whole or grouped as 6-6-3, never from groups that merely add up to 15 digits.
#
# The one longer number taken apart is 20 digits whose first 18 are a resident id: the 税务登记号
# of a 个体工商户 before the USCC was its holder's id followed by a 2-digit sequence (33010219770707
# 456101). It is masked in free text as in the 税务登记号 column: tax penalties name the party by
# 纳税人识别号 in 违法事实, so the form is met there too, while a 20-digit account number passes GB
# 11643 only by chance (its characters 7–14 a date since 1880, about one in 2,000, and then the
# check character, one in 11); part of an account masked in a published text costs less than an
# id published for good, and the department is told (id_number_masked). A run of 19, 21 or more
# digits is never taken apart.
_ID_SEPARATORS = " \u00a0\u3000\\-\uff0d.\uff0e"
# (the look-ahead first: 15 characters a run may hold, a quick test that most digits of a text,
# in dates and amounts, fail at once)
_ID_RUN = re.compile(rf"(?=[\d{_ID_SEPARATORS}]{{15}})(?<!\d)\d(?:[{_ID_SEPARATORS}]?\d){{14,}}"
                     rf"(?:[{_ID_SEPARATORS}]?[XxＸｘ](?:\d\d)?)?(?!\d)")
_ID_GROUP = re.compile(rf"[^{_ID_SEPARATORS}]+")
# the characters of a code, which a resident id next to one may be part of
_CODE_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ"
                        "ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ")


def _old_ric(number: str) -> bool:
    """Whether 15 digits (or the first 15 of more) are a first-generation resident id: an area's
    first digit, a birth date of the 1900s inside."""
    if not ("1" <= number[0] <= "8" and number.isdigit()):
        return False
    try:
        datetime.date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    except ValueError:
        return False
    return True


def is_old_ric(raw: str) -> bool:
    """Whether a code reads as a first-generation (15-digit) resident id, as free text is read
    for one (``mask_resident_ids``): 15 digits, the first an area's (1–8), a birth date of the
    1900s in characters 7–12. Such an id has no check character, so about one 15-digit number in
    thirty reads so, a 工商注册号 among them: the registration number is told apart by its
    ISO 7064 MOD 11,10 check digit (``is_valid_reg_no``), and a number that passes both is
    either."""
    code = normalize_code(raw)
    return len(code) == 15 and code.isascii() and _old_ric(code)


def _inside_a_uscc(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]``, digits that read as a resident id, is part of a USCC that
    has letters in it or next to it: the 15 digits before the letter of 123301020715123A… (an old
    id by its date, 1902-07-15), or an all-digit USCC glued to letters (USCC913301…). The code
    must pass GB 32100 and, read as an id, be none by ``ric_not_uscc`` (a real category and
    area): the rule intake applies to the USCC column. An id with no letter next to it is always
    masked, even when it also reads as a USCC: the text says nothing of what it is, and a masked
    USCC costs less than a published id."""
    left, right = start, end
    while left and text[left - 1] in _CODE_CHARS:
        left -= 1
    while right < len(text) and text[right] in _CODE_CHARS:
        right += 1
    if (left, right) == (start, end) or not all(c in _CODE_CHARS for c in text[start:end]):
        return False  # nothing glued to it, or an id spaced as people type it
    # NFKC maps each full-width letter or digit to one ASCII character: offsets stay
    code = unicodedata.normalize("NFKC", text[left:right]).upper()
    first, last = start - left, end - left
    for at in range(max(0, last - 18), min(first, len(code) - 18) + 1):
        candidate = code[at : at + 18]
        if is_valid_uscc(candidate) and not ric_not_uscc(candidate):
            return True
    return False


def _ids_in_run(text: str, run: re.Match[str]) -> Iterator[tuple[int, int, str]]:
    """The resident ids among the groups of a run of digits (``_ID_RUN``): (start, end, masked
    text) of each, left to right. Each group in turn starts a window of whole groups; the window
    of 18 characters (or 20: an id and the 2-digit sequence of a 税务登记号, glued to its end) that
    is an id is masked, and the search goes on after it; else a window of 15 digits that is an
    old id, whole or grouped 6-6-3. An X ending the run is the check character of an id, or a
    letter glued to one (…0312X)."""
    groups = [(m.start(), m.end()) for m in _ID_GROUP.finditer(text, run.start(), run.end())]
    x_last = run.group()[-1] in "XxＸｘ"
    i = 0
    while i < len(groups):
        found: tuple[int, str] | None = None  # (end of the id, its masked text)
        chars = ""
        for j in range(i, len(groups)):
            chars += text[groups[j][0]:groups[j][1]]
            if len(chars) > 21:
                break
            alone = j == i  # no separator in it: letters glued to it may make it part of a USCC
            ends = [(chars, groups[j][1])]
            if x_last and j == len(groups) - 1 and groups[j][1] - groups[j][0] > 1:
                ends.append((chars[:-1], groups[j][1] - 1))  # (an X of its own: the window before)
            for candidate, stop in ends:
                size = len(candidate)
                if size == 18 or (size == 20 and stop - groups[j][0] >= 3):
                    number = unicodedata.normalize("NFKC", candidate[:18]).upper()
                    if (number[0] != "0" and is_valid_ric(number)
                            and (size == 20 or not alone or not _inside_a_uscc(text, groups[i][0], stop))):
                        found = (stop, mask_ric(number) + unicodedata.normalize("NFKC", candidate[18:]))
                        break
                elif size == 15 and found is None and (alone or [b - a for a, b in groups[i:j + 1]] == [6, 6, 3]):
                    number = unicodedata.normalize("NFKC", candidate)
                    if _old_ric(number) and not (alone and _inside_a_uscc(text, groups[i][0], stop)):
                        found = (stop, mask_ric(number))  # unless an 18-character id starts here too
            else:
                continue
            break
        if found is None:
            i += 1
            continue
        stop, shown = found
        yield groups[i][0], stop, shown
        while i < len(groups) and groups[i][0] < stop:
            i += 1


def mask_resident_ids(text: str) -> tuple[str, int]:
    """``text`` with every resident id in it masked (``mask_ric``), and how many there were.
    Departments write ids into free text (违法事实：当事人张三（身份证号 …）), grouped with spaces,
    hyphens or dots, in full-width digits or glued to letters (ID…); only numbers that pass GB
    11643 (birth date and check character), or old 15-digit ids with a valid birth date, are taken
    for ids, and never digits inside a longer number but for an id followed by a 2-digit sequence
    (a 个体工商户's 税务登记号: the id is masked, the sequence kept) — see ``_ID_RUN`` — nor a
    USCC. The quick test is the search for a run of 15 digits itself: most texts have none."""
    if len(text) < 15:
        return text, 0
    run = _ID_RUN.search(text)
    if run is None:
        return text, 0
    pieces: list[str] = []
    done = found = 0
    while run is not None:
        for start, end, shown in _ids_in_run(text, run):
            pieces += (text[done:start], shown)
            done = end
            found += 1
        run = _ID_RUN.search(text, run.end())
    if not found:
        return text, 0
    pieces.append(text[done:])
    return "".join(pieces), found


def mask_tax_number(text: str) -> tuple[str, int]:
    """A 税务登记号 (行政相对人代码_4) with the resident id in it masked, and how many ids there
    were: as ``mask_resident_ids``, and in this column also 17 digits that are an old 15-digit id
    and a 2-digit sequence, the number of a 个体工商户 registered on a first-generation card. Free
    text does not read 17 digits so: with no check character, one 17-digit number in thirty or so
    has a date in characters 7–12."""
    code = normalize_code(text)
    if len(code) == 17 and code.isascii() and _old_ric(code):
        return mask_ric(code[:15]) + code[15:], 1
    return mask_resident_ids(text)


def make_ric(area: str, birth: datetime.date, seq: int) -> str:
    """A resident id with a valid check digit; odd ``seq`` is male, even is female."""
    if len(area) != 6 or not (area.isascii() and area.isdigit()):
        raise ValueError(f"area must be 6 digits, got {area!r}")
    if not 0 <= seq <= 999:
        raise ValueError(f"seq must be in 0..999, got {seq}")
    first17 = f"{area}{birth.year:04d}{birth.month:02d}{birth.day:02d}{seq:03d}"
    return first17 + ric_check_char(first17)


# --------------------------------------------------------------------------- registration number

_REG_LABEL = "工商注册号"


def reg_no_check_digit(first14: str) -> str:
    """The ISO 7064 MOD 11,10 check digit of a 15-digit business registration number."""
    if len(first14) != 14:
        raise _length_error("reg_no_length", f"{_REG_LABEL}本体", "14", first14)
    if not (first14.isascii() and first14.isdigit()):
        raise _reg_no_charset_error(first14)
    return mod_11_10.calc_check_digit(first14)


def _reg_no_charset_error(code: str) -> InvalidCode:
    position, char = next((i, c) for i, c in enumerate(code, 1) if not "0" <= c <= "9")
    return InvalidCode("reg_no_charset", f"{_REG_LABEL}第 {position} 位“{char}”不是数字")


def validate_reg_no(raw: str) -> str:
    """The 15-digit business registration number, or InvalidCode."""
    code = normalize_code(raw)
    if len(code) != 15:
        raise _length_error("reg_no_length", _REG_LABEL, "15", code)
    expected = reg_no_check_digit(code[:14])
    if not "0" <= code[14] <= "9":
        raise _reg_no_charset_error(code)
    if code[14] != expected:
        raise InvalidCode(
            "reg_no_checksum", f"{_REG_LABEL}校验位错误：应为 {expected}，实为 {code[14]}"
        )
    return code


def is_valid_reg_no(raw: str) -> bool:
    try:
        validate_reg_no(raw)
    except InvalidCode:
        return False
    return True


def make_reg_no(first14: str) -> str:
    return first14 + reg_no_check_digit(first14)
