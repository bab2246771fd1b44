"""Row validation: maps a file's columns onto catalogue fields and checks every value.

A row either becomes a ``ValidRow`` (normalised values, the subject's identity, dates and
amounts parsed) or a list of ``Issue``s naming the line, the column as written in the file,
a machine code and a Chinese message. Nothing here touches the database.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from xinyong.catalogue.schemas import Field, Item
from xinyong.catalogue.service import Catalogue, field_code_note, normalize_code_value, normalize_header
from xinyong.core import clock, ids
from xinyong.core.errors import FileUnreadable
from xinyong.core.names import display_name, normalize_name
from xinyong.core.text import CONTROL, CONTROL_PADDING, has_controls, with_controls_shown, without_controls
from xinyong.ingest.readers import (
    DATE_CELL_NUMBER,
    FORMAT_NOT_SHOWN,
    HALF_CHARACTER,
    INVALID_JSON,
    JSON_BOOLEAN,
    NESTED_VALUE,
    UNCACHED_FORMULA,
    UNCLOSED_QUOTE,
)

# Several values in one cell: separated by ; ； 、 , ， / or | (spaces, when no value matches whole),
# or joined as a decision words them: 警告并处罚款, 警告，并处罚款 (no value's spelling holds 并)
MULTI_SEPARATORS = re.compile(r"([;；、,，/／|｜]|并处|并)")
_MAX_PARTS_OF_VALUE = 4  # the most separated parts one value's spelling has, plus room
# a row with this few known cells filled and no decision number is a note, not a record
_MAX_CELLS_OF_A_NOTE = 2
_DATE_PATTERNS = (
    # a time after the date is ignored: the date is the one written — unless the time carries an
    # ISO 8601 offset (Z, +00:00): then it is an instant, and the date is the one in China
    # (2024-01-04T16:00:00.000Z, as Java and JavaScript send Beijing's midnight, is 2024-01-05).
    # PostgreSQL writes a timestamptz's offset in hours alone: 2024-03-05 00:00:00+08
    re.compile(r"^(\d{4})[/\-.](\d{1,2})[/\-.](\d{1,2})"
               r"(?:[ T](\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$"),
    # YYYYMMDD, also with a time as databases export it: yyyyMMddHHmmss, and yyyyMMddHHmm in this
    # century or the last — twelve such digits are that, never Unix milliseconds (_EPOCH)
    re.compile(r"^(\d{4})(\d{2})(\d{2})(?:(?:[01]\d|2[0-3])[0-5]\d[0-5]\d)?$"),
    re.compile(r"^((?:19|20)\d{2})(\d{2})(\d{2})(?:[01]\d|2[0-3])[0-5]\d$"),
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
               r"(?:\s*\d{1,2}(?::\d{2}(?::\d{2})?|\s*时(?:\s*\d{1,2}\s*分(?:\s*\d{1,2}\s*秒)?)?))?$"),
)
# Forms tried only when the ones above fail. The long date of Chinese Windows and .NET (dddd)
# names the weekday: 2024年3月5日星期二, 2024年3月5日 周二, 2024年3月5日（星期二）; a weekday the date
# does not fall on makes it no date (weekday_mismatch says which is wrong).
_WEEKDAY_DATE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
                           r"\s*\(?\s*(?:星期|周|礼拜)([一二三四五六日天])\s*\)?"
                           r"(?:\s*(?:上午|下午)?\s*\d{1,2}:\d{2}(?::\d{2})?)?$")
_WEEKDAYS = {ch: n for n, ch in enumerate("一二三四五六日")} | {"天": 6}
# .NET's DateTime.ToString() on a Chinese system: a 12-hour time with 上午/下午 (AM/PM) before or
# after it; the time is ignored as any other (2024/3/5 上午 12:00:00 is that day's midnight)
_MERIDIEM_DATE = re.compile(r"^(\d{4})[/\-.](\d{1,2})[/\-.](\d{1,2})\s+"
                            r"(?:(?:上午|下午|AM|PM)\s*\d{1,2}:\d{2}(?::\d{2})?"
                            r"|\d{1,2}:\d{2}(?::\d{2})?\s*(?:上午|下午|AM|PM))$", re.IGNORECASE)
# A date in Chinese numerals, as decision documents print it: 二〇二四年八月十三日
_CHINESE_DATE = re.compile(r"^([〇○零0Oo一二三四五六七八九]{4})\s*年\s*([一二三四五六七八九十]{1,2})\s*月"
                           r"\s*([一二三四五六七八九十]{1,3})\s*日$")
# 〇 is often typed as ○ (a circle), 零, or the digit 0 / letter O
_CHINESE_DIGITS = {ch: n for n, ch in enumerate("〇一二三四五六七八九")} | dict.fromkeys("零○0Oo", 0)
# A date cell saved to CSV from Excel as a number ("General" format): days since 1899-12-30.
# Five digits from 1970 to 2099 cannot be read any other way; the row is stored with a warning.
_EXCEL_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")  # 45296.375: a date cell with a time
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_1904 = dt.date(1904, 1, 1)  # serial 0 in a workbook of the 1904 date system (Excel for Mac)
_EXCEL_SERIAL_FROM = dt.date(1970, 1, 1)
# Excel's last day, the 9999/12/31 that departments write for 长期: in an open-ended column its
# serial (2958465; 2957003 in the 1904 date system) is read as that day too, hence as no end
_EXCEL_LAST_DAY = dt.date(9999, 12, 31)
# An instant as programs send it: Unix milliseconds (Java's Jackson writes java.util.Date so),
# Unix seconds, .NET's /Date(1723478400000+0800)/. Twelve digits are milliseconds only when they
# are no yyyyMMddHHmm of 1900–2099 (_DATE_PATTERNS, tried first): as milliseconds they span
# 1973–2001 alone, hardly the time of a 双公示 record, while 202408101200 is how databases write
# 2024/08/10 12:00 (978307200000, month 72 of 9783, stays 2001/01/01 in milliseconds)
_EPOCH = re.compile(r"^(?:(?P<ms>\d{12,13})|(?P<s>\d{9,10})|/Date\((?P<net>-?\d{1,13})(?:[+-]\d{4})?\)/)$")
# java.util.Date.toString(): Tue Aug 13 00:00:00 CST 2024 (CST: China Standard Time on a Chinese system)
_JAVA_DATE = re.compile(r"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?P<month>[A-Z][a-z]{2}) (?P<day>\d{1,2}) "
                        r"\d{2}:\d{2}:\d{2} (?:CST|GMT\+08:00) (?P<year>\d{4})$")
_MONTHS = {m: n for n, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                        "Dec"), start=1)}


def _epoch_date(text: str, latest: dt.date) -> tuple[dt.date, str] | None:
    """The date in China of a Unix or .NET timestamp, and what it was read as; None if the text is
    none, or falls outside 1970..``latest``."""
    m = _EPOCH.match(text)
    if m is None:
        return None
    if m["s"]:
        seconds, said = int(m["s"]), "Unix 时间戳（秒）"
    else:
        seconds, said = int(m["ms"] or m["net"]) / 1000, "Unix 时间戳（毫秒）"
    try:
        day = dt.datetime.fromtimestamp(seconds, clock.CHINA_TZ).date()
    except (OverflowError, OSError, ValueError):
        return None
    return (day, said) if _EXCEL_SERIAL_FROM < day <= latest else None
# An amount as departments write it: an optional currency mark, the number, an optional unit
# (万 is 万元; in brackets as a header writes it, 5000（元）; 人民币 after it, 5000元人民币) and an
# optional 整. The unit, when written, wins over the column's.
_UNIT = r"万元|万|元|\((?:万元|万|元)\)"
_AMOUNT = re.compile(rf"^(?:人民币|RMB|¥)?(?P<number>.*?)(?:(?P<unit>{_UNIT})(?:人民币)?)?整?$", re.IGNORECASE)
_UNIT_SPELLINGS = {"万": "万元", "(万)": "万元", "(万元)": "万元", "(元)": "元"}
_GROUPED_NUMBER = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")  # 1,200 or 12,345.67
KIND_ORGANISATION = "organisation"
KIND_INDIVIDUAL_BUSINESS = "individual_business"
KIND_NATURAL_PERSON = "natural_person"
CATEGORY_KIND = {
    "法人及非法人组织": KIND_ORGANISATION,
    "个体工商户": KIND_INDIVIDUAL_BUSINESS,
    "自然人": KIND_NATURAL_PERSON,
}
RESIDENT_ID_TYPE = ids.RESIDENT_ID_TYPE
SOURCE_KEYS = frozenset({"source_name", "source_uscc"})


@dataclass(frozen=True)
class Issue:
    line: int | None
    field: str | None
    code: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "field": self.field, "code": self.code, "message": self.message}


@dataclass
class SubjectIdentity:
    kind: str
    category: str
    name: str
    name_norm: str
    uscc: str | None = None
    org_code: str | None = None
    reg_no: str | None = None
    person_id_type: str | None = None
    person_id: str | None = None  # normalised document number, never stored in clear

    @property
    def key(self) -> str:
        """Which code identifies the subject first (USCC, organisation code, reg. no., person)."""
        if self.uscc:
            return "U:" + self.uscc
        if self.org_code:
            return "O:" + self.org_code
        if self.reg_no:
            return "R:" + self.reg_no
        return f"P:{self.person_id_type}:{self.person_id}"


@dataclass
class ValidRow:
    line: int
    values: dict[str, str]
    subject: SubjectIdentity
    decision_date: dt.date
    penalty_kinds: tuple[str, ...] = ()
    fine: Decimal | None = None
    confiscated: Decimal | None = None
    warnings: list[Issue] = field(default_factory=list)
    # field key -> the column the row's value came from, where that is not the field's first
    # column (有效期（止） beside an empty 有效期至; a JSON line's own key): what its issues name
    named: dict[str, str] = field(default_factory=dict)


class _DateCache(dict[str, dt.date | None]):
    def __missing__(self, text: str) -> dt.date | None:
        value = _parse_date(unicodedata.normalize("NFKC", text))  # full-width digits and ／
        if len(self) < 200_000:
            self[text] = value
        return value


def _parse_date(text: str) -> dt.date | None:
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            try:
                day = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                if pattern.groups > 3 and m.group(6):
                    return _date_in_china(day, int(m.group(4)), int(m.group(5)), m.group(6))
                return day
            except ValueError:
                return None
    m = _JAVA_DATE.match(text)
    if m and m["month"] in _MONTHS:
        try:
            return dt.date(int(m["year"]), _MONTHS[m["month"]], int(m["day"]))
        except ValueError:
            return None
    m = _CHINESE_DATE.match(text)
    if m:
        year = int("".join(str(_CHINESE_DIGITS[ch]) for ch in m.group(1)))
        month, day = _chinese_number(m.group(2)), _chinese_number(m.group(3))
        try:
            return dt.date(year, month, day) if month and day else None
        except ValueError:
            return None
    found = _weekday_date(text)
    if found is not None:
        day, weekday = found
        return day if day.weekday() == weekday else None
    m = _MERIDIEM_DATE.match(text)
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
    return None


def _weekday_date(text: str) -> tuple[dt.date, int] | None:
    """The date of a long date that names its weekday (2024年3月5日星期二), and the weekday it
    names (0 for Monday); None if the text is none, or no date."""
    m = _WEEKDAY_DATE.match(text)
    if m is None:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3])), _WEEKDAYS[m[4]]
    except ValueError:
        return None


def _weekday_mismatch(raw: str) -> str | None:
    """What is wrong with a date whose weekday it does not fall on (2024年3月5日星期五), as a
    message; None when the text is no such date."""
    found = _weekday_date(unicodedata.normalize("NFKC", raw))
    if found is None or found[0].weekday() == found[1]:
        return None
    day, written = found
    names = "一二三四五六日"
    return (f"{day.year}年{day.month}月{day.day}日是星期{names[day.weekday()]}，不是星期{names[written]}："
            "日期或星期有一个写错了，请核对后重新报送")


def _date_in_china(day: dt.date, hour: int, minute: int, offset: str) -> dt.date:
    """The date in China of a time written with its offset (Z, +00:00, -0500)."""
    if offset == "Z":
        shift = dt.timedelta(0)
    else:
        digits = offset[1:].replace(":", "")
        shift = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
        shift = -shift if offset[0] == "-" else shift
    moment = dt.datetime.combine(day, dt.time(hour, minute), dt.timezone(shift))
    return moment.astimezone(clock.CHINA_TZ).date()


def _chinese_number(text: str) -> int | None:
    """A month or day in Chinese numerals (八, 十, 十三, 二十, 三十一); None if not one."""
    if "十" not in text:
        return _CHINESE_DIGITS.get(text) if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return None
    return (_CHINESE_DIGITS[tens] if tens else 1) * 10 + (_CHINESE_DIGITS[ones] if ones else 0)


def _excel_serial_date(serial: int, latest: dt.date, epoch: dt.date) -> dt.date | None:
    """The date an Excel serial stands for, if it falls between 1970 and ``latest``."""
    day = epoch + dt.timedelta(days=serial)
    return day if _EXCEL_SERIAL_FROM <= day <= latest else None


def _is_last_excel_day(raw: str, epoch: dt.date) -> bool:
    """Whether a cell holds the serial of Excel's last day, 9999/12/31 (长期), in whole days."""
    whole, _, fraction = raw.partition(".")
    return whole.isdigit() and fraction.strip("0") == "" and int(whole) == (_EXCEL_LAST_DAY - epoch).days


_TEXT_MARKS = frozenset("'=")
# What a spreadsheet shows in a cell whose formula failed (VLOOKUP found nothing: #N/A); WPS
# writes the same. Exported to CSV as text, or read from a workbook: never a value to store.
_EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                           "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"})
_MARKED_CELL = frozenset("#\x00")  # first characters of an error value or a reader's cell marker
_HALF_ESCAPE = re.compile(r"_x[Dd][89A-Fa-f][0-9A-Fa-f]{2}_")  # half a character, as a workbook escapes it
# A period in one cell: 2024/01/01至2029/12/31, 2024年1月1日起至2029年12月31日止, 2024.1.1~2029.12.31,
# 2024-01-01 — 2029-12-31 (a plain - between two dates that contain - is found by trying each one)
_PERIOD_SEPARATOR = re.compile(r"\s*起?\s*(?:至|到|~|〜|—+|–|\s+-\s+|--)\s*")
_PERIOD_FRAME = re.compile(r"^(?:有效期)?(?:自|从)\s*|\s*止$")
# The words that frame the end of a period around its date (至2029年3月25日止, 至长期), as the end
# column of a period (有效期至, 处罚有效期) may be written
_END_FRAME = re.compile(r"^(?:有效期)?至\s*|\s*止$")


def _split_period(
    raw: str, is_date: Callable[[str], bool], is_open: Callable[[str], bool]
) -> tuple[str | None, str | None] | None:
    """The start and end a period cell gives (either may be None), or None if it is no period."""
    text = _PERIOD_FRAME.sub("", unicodedata.normalize("NFKC", raw).strip())
    parts = _PERIOD_SEPARATOR.split(text)
    if len(parts) == 2 and all(parts):
        return parts[0], parts[1]
    if len(parts) != 1:
        return None
    if text.endswith("起") and is_date(text[:-1].strip()):
        return text[:-1].strip(), None  # from that day, no end written
    if is_date(text) or is_open(text):
        return None, text
    splits = [(text[:i].strip(), text[i + 1:].strip()) for i, ch in enumerate(text) if ch == "-"]
    found = [(a, b) for a, b in splits if is_date(a) and (is_date(b) or is_open(b))]
    return found[0] if len(found) == 1 else None


def _holder(uscc: str) -> str:
    """Whom a USCC was issued to, as messages say it: 工商部门登记的企业 (GB 32100)."""
    registrar, category = ids.uscc_kind(uscc)
    if registrar == "未知":
        return f"登记管理部门代码为“{uscc[0]}”的单位"
    return f"{registrar}部门登记的{'单位' if category == '未知' else category}"


def _around_mask(masked: str) -> str:
    """The part of a masked text around its first masked id."""
    at = masked.find("*")
    return masked[max(0, at - 12):at + 24]


def _clean(value: str) -> str:
    """Trim a cell: surrounding white space incl. U+3000 and NBSP, and Excel's '\t' prefixes.

    Line breaks inside become LF, whatever the file wrote (CRLF from a Windows program's CSV
    export, a lone CR from old Mac text): every reader's cells pass here, so the same text read
    from a CSV, a workbook or JSON is the same content, and a re-sent record is unchanged.
    """
    if not value:
        return ""
    stripped = value.strip()
    if "\r" in stripped:
        stripped = stripped.replace("\r\n", "\n").replace("\r", "\n")
    if stripped and stripped[0] in _TEXT_MARKS:
        if stripped[0] == "'" and (stripped[1:].isalnum() or stripped[1:2] in ("=", "+", "-", "@")):
            # Excel's text-forcing apostrophe: on codes, and on what would read as a formula (our
            # rejected-rows download puts one there)
            return stripped[1:]
        if stripped.startswith('="') and stripped.endswith('"') and len(stripped) > 3:
            return stripped[2:-1].strip()  # ="0123…": how exports make Excel keep a code as text
    return stripped


class RowValidator:
    """Validates the rows of one file, after its header has been mapped."""

    def __init__(
        self,
        catalogue: Catalogue,
        item: Item,
        headers: Sequence[str],
        *,
        today: dt.date,
        layout: str | None = None,
        default_source: tuple[str, str] | None = None,
        departments: Mapping[str, str] | None = None,
        columns_vary: bool = False,
        delimiter: str | None = None,
        lossy: bool = False,
        where: Callable[[int], str] | None = None,
        excel_epoch: dt.date | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.item = item
        self.excel_epoch = excel_epoch  # a workbook's date system, for date serials in number cells
        self.today = today
        self.open_ended = catalogue.open_ended_date  # what "no end" is stored as
        self.layout = layout or catalogue.detect_layout(item, list(headers))
        self.field_keys = frozenset(item.field_keys)
        self.layout_spec = item.layouts.get(self.layout)
        self.default_source = default_source
        # registered departments (USCC -> name): a file sent by one (default_source) may carry
        # only its own data; files that name authorities without codes (2016) are read by name
        self.departments = dict(departments or {})
        by_name: dict[str, set[str]] = {}
        for uscc, dept_name in self.departments.items():
            by_name.setdefault(normalize_name(dept_name), set()).add(uscc)
        self.authorities_by_name = {n: min(codes) for n, codes in by_name.items() if len(codes) == 1}
        self.ambiguous_names = {n: sorted(codes) for n, codes in by_name.items() if len(codes) > 1}
        if default_source is not None:  # the sender's own name is the sender, whoever shares it
            self.authorities_by_name[normalize_name(default_source[1])] = default_source[0]
            self.ambiguous_names.pop(normalize_name(default_source[1]), None)
        self._mapping = catalogue.header_map(item, self.layout)
        self.columns: list[tuple[int, Field, str]] = []  # (index, field, header as written)
        self.header_of: dict[str, str] = {}
        self.unknown_headers: list[str] = []
        self.column_units: dict[str, str] = {}  # decimal fields: the unit of the column
        self._unitless: set[str] = set()  # amount columns (headers as written) whose name gives no unit
        self._taken_from: dict[str, str] = {}  # the row being validated: ValidRow.named
        self.notes: list[str] = []
        self._seen: dict[str, int] = {}
        self._fallbacks: list[tuple[int, Field]] = []  # second columns of a field: (index, field)
        # second columns of an amount whose unit is not the first column's: {index: unit}
        self._fallback_units: dict[int, str] = {}
        # columns holding a whole period (许可有效期): (index, start field, end field)
        self._periods: list[tuple[int, str, str]] = []
        self._period_names = {normalize_header(h): f for f in item.fields for h in f.period_headers}
        # JSON (Lines): a key first met on a later line is a new column (the list grows as read)
        self._headers = headers
        self._mapped = 0
        self.late_issues: list[Issue] = []  # what a column met late brings: unknown, converted
        # the text was decoded with U+FFFD for bytes the encoding does not have: such rows are rejected
        self._lossy = lossy
        # a line as users are told it: 第 3 行; 第 3 条记录 in a JSON document (records need not
        # start lines); 工作表“自然人”第 3 行 in a workbook whose records are on several sheets
        self._where = where or "第 {} 行".format
        # delimited text: a row with more filled cells than the header has shifted columns, one
        # with fewer holding the delimiter has had cells swallowed by a stray quote
        self._width = len(headers) if delimiter else None
        self._columns_vary = columns_vary
        self._delimiter = delimiter
        self._map_columns(self.unknown_headers.append, self.notes.append)
        missing_ok = self.layout_spec.missing_ok if self.layout_spec else frozenset()
        # Without its source columns, a file sent by a known department (an API key, an officer,
        # --department) is that department's own: the rows are recorded as coming from it.
        self.source_from_sender = default_source is not None and not (SOURCE_KEYS & self.header_of.keys())
        if self.source_from_sender:
            assert default_source is not None
            missing_ok = missing_ok | SOURCE_KEYS
            if self.layout == "current":
                self.notes.append(f"文件没有“数据来源单位”列：各行按报送部门{default_source[1]}"
                                  f"（{default_source[0]}）记录")
        if self.layout == "current" and "subject_category" not in self.header_of and not columns_vary:
            self.notes.append("文件没有“行政相对人类别”列：各行按行政相对人的代码判断类别"
                              "（统一社会信用代码 92 开头为个体工商户，其他为法人及非法人组织；只有证件号码为自然人）")
        missing = [
            f for f in item.fields if f.required and f.key not in self.header_of and f.key not in missing_ok
        ]
        other = self._other_item(headers) if missing else None
        if columns_vary and other is None:
            # every record has its own keys: a missing one is missing on that record (but the
            # first record's keys that are the other kind's say the kind was chosen wrong)
            missing = []
        if missing:
            labels = "、".join(f"“{f.label}”" for f in missing)
            said = f"文件中的记录缺少必需的键：{labels}。" if columns_vary else f"文件缺少必需的列：{labels}。"
            unknown = [h for h in self.unknown_headers if h.strip()]
            if other is not None:
                said += (f"这个文件的{'记录' if columns_vary else '表头'}是{other.title}的："
                         "请确认报送的类别（许可或处罚）选对了。")
            else:
                said += "请使用双公示标准表头（模板见信息资源目录页面）。"
                if unknown:
                    shown = "、".join(f"“{h}”" for h in unknown[:10]) + ("等" if len(unknown) > 10 else "")
                    said += f"文件中未能识别的列：{shown}，其中可能有应改为上述表头的列。"
            raise FileUnreadable(said)
        # what the layout fills with a default rather than reading it from the row (the 2016
        # layout's 处罚有效期, 长期): a correction keeps the record's value instead
        self.defaulted = (frozenset({"valid_until"} & (self.field_keys - self.header_of.keys()))
                          if self.layout != "current" else frozenset())
        if not columns_vary:
            self._note_absent_columns(missing_ok)
        if self.layout != "current" and ("source_uscc" not in self.header_of) and default_source is None:
            raise FileUnreadable(
                "这是 2016 年格式的文件，没有“数据来源单位统一社会信用代码”列："
                "请指定提交单位（命令行 --department 统一社会信用代码）。"
            )
        self.value_maps = self.layout_spec.value_maps if self.layout_spec else {}
        self.ambiguous_values = self.layout_spec.ambiguous_values if self.layout_spec else {}
        self._dates = _DateCache()
        self._code_tables = {
            f.key: catalogue.code_table(f.code_table) for f in item.fields if f.code_table
        }
        self._uscc_cache: dict[str, tuple[str | None, ids.InvalidCode | None]] = {}
        self._canon: dict[tuple[str, str], str | None] = {}
        self._nothing: dict[str, bool] = {}
        self._multi: dict[str, tuple[str, ...]] = {}
        self._names: dict[str, tuple[str, str]] = {}

    def _map_columns(self, unknown: Callable[[str], None], note: Callable[[str], None]) -> None:
        """Map the headers not mapped yet onto catalogue fields."""
        for index in range(self._mapped, len(self._headers)):
            header = self._headers[index]
            key = self._mapping.get(normalize_header(header))
            if key is None:
                if header and header.strip():
                    unknown(header)
                continue
            f = self.item.field(key)
            if (code := field_code_note(header)) is not None and self._mapping.get(code) != key:
                raise FileUnreadable(self._other_code(header, f, code))
            if f.period_start and self._period_names.get(normalize_header(header)) is f:
                self._periods.append((index, f.period_start, f.key))
                continue
            if key in self._seen and f.type != "codes":
                # a second column of one field (有效期（止） beside 有效期至): it fills the first's
                # empty cells
                first = self._headers[self._seen[key]]
                self._fallbacks.append((index, f))
                converted = ""
                if f.type == "decimal" and f.unit:
                    # 罚款金额（元） beside 罚款金额（万元）: a value taken from it is in its own unit
                    unit = self.catalogue.column_unit(f, header) or f.unit
                    if unit != self.column_units.get(key, f.unit):
                        self._fallback_units[index] = unit
                        converted = f"（以{unit}为单位，换算为{f.unit}保存）"
                note(f"列“{header}”与列“{first}”是同一栏目（{f.label}）：以“{first}”为准，"
                     f"其为空的行取“{header}”{converted}")
                if not converted and f.type == "decimal" and f.unit and self._names_no_unit(f, header):
                    self._unitless.add(header)
                    note(self._unitless_note(f, header))
                continue
            self._seen[key] = index
            self.columns.append((index, f, header))
            self.header_of.setdefault(key, header)
            if f.type == "decimal" and f.unit:
                unit = self.catalogue.column_unit(f, header) or f.unit
                self.column_units.setdefault(f.key, unit)
                if unit != f.unit:
                    note(f"“{header}”列的金额以{unit}为单位，已换算为{f.unit}保存")
                elif self._names_no_unit(f, header):
                    self._unitless.add(header)
                    note(self._unitless_note(f, header))
        for index, start, end in self._periods:  # a column of their own names them first
            self.header_of.setdefault(start, self._headers[index])
            self.header_of.setdefault(end, self._headers[index])
        self._mapped = len(self._headers)
        # what the row loop needs of each column: (index, field key, typed, may hold several values)
        # several: True for a codes field (cells joined), None for a second column of a field
        self._plan = [(index, f.key, f.type != "text", f.type == "codes") for index, f, _header in self.columns]
        self._plan += [(index, f.key, f.type != "text", None) for index, f in self._fallbacks]

    def _names_no_unit(self, f: Field, header: str) -> bool:
        """Whether an amount column's name gives no unit: the standard's field code (and our
        field key) carry the standard's unit; a bare name (罚款金额) does not."""
        return (not any(name in header for name in self.catalogue.units) and not field_code_note(header)
                and normalize_header(header) not in (normalize_header(f.standard_code or ""), f.key))

    def _unitless_note(self, f: Field, header: str) -> str:
        said = f"“{header}”列的列名没有写明金额单位，已按{f.unit}读取（标准列名为“{f.label}”）"
        if (unit := self.catalogue.smaller_unit(f.unit or "")) is None:
            return said
        return f"{said}：若填的是{unit}，请把列名改为“{header}（{unit}）”后重新报送"

    def _other_code(self, header: str, f: Field, code: str) -> str:
        """Why a column is unreadable whose name and the field code in its brackets name two
        columns (行政相对人名称（CF_XDR_SHXYM））: which is meant cannot be told."""
        written = code.upper()
        other = self._mapping.get(code)
        if other is not None:
            said = f"括号中的字段代码 {written} 却是“{self.item.field(other).label}”的代码"
        else:
            own = f"（应为 {f.standard_code}）" if f.standard_code else ""
            said = f"括号中的 {written} 不是“{f.label}”的字段代码{own}"
        return (f"列“{header}”的列名是“{f.label}”，{said}：无法确定这一列是哪一栏，未保存任何数据。"
                "请改正表头（各列的字段代码见信息资源目录页面）后重新报送。")

    def _note_absent_columns(self, missing_ok: frozenset[str]) -> None:
        """A correction keeps the record's value of every field its file has no column for (an
        absent column says nothing; an empty cell clears a value), and a new record has it
        empty. Say which columns the file lacks, once, up front: the department may have meant to
        clear them, or its template may be another."""
        # the platform reads these off the codes, or decides them by the rules when not declared
        derived = {"org_code", "subject_category", "severity_declared"}
        absent = [f for f in self.item.template_fields
                  if f.key not in self.header_of and f.key not in derived
                  and (f.key in self.defaulted or (not f.required and f.key not in missing_ok))]
        if not absent:
            return
        columns = "、".join(f"“{f.label}”" for f in absent)
        defaulted = "、".join(f"“{f.label}”" for f in absent if f.key in self.defaulted)
        note = (f"{'这是 2016 年格式的文件，' if self.layout != 'current' else ''}文件没有这些列：{columns}。"
                "没有某一列不等于清空该栏目：更正此前已报送的记录时，这些栏目沿用已登记记录的内容"
                "（要清空某一栏目，请用含该列的文件报送并将该单元格留空）；新记录中这些栏目为空"
                + (f"（{defaulted}按长期保存）" if defaulted else ""))
        if deciding := "、".join(f"“{f.label}”" for f in absent if f.decides_class):
            note += (f"。其中{deciding}是认定处罚失信严重程度和是否公示的依据：沿用时据此重新认定，"
                     "不因文件缺少这些列而改变（沿用的行另有提示）")
        self.notes.append(note)

    def _map_late_columns(self, line: int) -> None:
        self._map_columns(
            lambda header: self.late_issues.append(
                Issue(line, header, "unknown_column", f"列“{header}”不在目录中，已忽略")),
            lambda text: self.late_issues.append(Issue(line, None, "file_note", text)),
        )

    def _says_nothing(self, raw: str) -> bool:
        """Whether a typed cell says "nothing here" (无, /, —), asked of the catalogue once per
        value: the row loop looks in ``_nothing`` first."""
        found = self.catalogue.is_not_applicable(raw) or self.catalogue.is_null(raw)
        if len(self._nothing) < 50_000:
            self._nothing[raw] = found
        return found

    def _canonical(self, key: str, raw: str) -> str | None:
        """The code-table value for ``raw`` in field ``key`` (code values repeat: cached)."""
        found = self._canon.get((key, raw), "")
        if found != "":
            return found
        mapped = self.value_maps.get(key, {}).get(raw, raw)
        result = self._code_tables[key].canonical(normalize_code_value(mapped))
        if len(self._canon) < 10_000:
            self._canon[(key, raw)] = result
        return result

    def _split_codes(self, key: str, raw: str) -> tuple[list[str], list[str]]:
        """(canonical values, parts not in the table) of a cell holding several coded values.

        A value whose own spelling holds a separator (法律、行政法规规定的其他行政处罚) is matched
        whole: the longest run of parts that is a value wins. A part that is not a value but whose
        space-separated words all are (警告 罚款) counts as those values.
        """
        pieces = MULTI_SEPARATORS.split(raw)  # part, separator, part, …
        parts = pieces[0::2]
        out: list[str] = []
        bad: list[str] = []
        i = 0
        while i < len(parts):
            for j in range(min(len(parts), i + _MAX_PARTS_OF_VALUE), i, -1):
                text = "".join(pieces[2 * i: 2 * j - 1]).strip()
                found = self._canonical(key, text) if text else None
                if found is not None:
                    if found not in out:
                        out.append(found)
                    i = j
                    break
            else:
                text = parts[i].strip()
                words = text.split()
                if len(words) > 1 and all(self._canonical(key, w) is not None for w in words):
                    for w in words:
                        found = self._canonical(key, w)
                        if found not in out:
                            out.append(found)  # type: ignore[arg-type]
                elif text:
                    bad.append(text)
                i += 1
        return out, bad

    def _name(self, raw: str) -> tuple[str, str]:
        """(display name, matching key) of a subject name; names repeat within a file."""
        found = self._names.get(raw)
        if found is None:
            found = (display_name(raw), normalize_name(raw))
            if len(self._names) < 50_000:
                self._names[raw] = found
        return found

    def only_prefilled(self, cells: Sequence[str]) -> bool:
        """Whether a row holds something, and only in the columns templates fill in ahead (the
        item's ``template_prefilled``, catalogue data): every other column of the catalogue is
        empty (a cell saying 无 or / counts as filled). Columns outside the catalogue do not count
        (a 序号 filled down)."""
        filled = False
        n = len(cells)
        prefilled = self.item.template_prefilled
        for index, key, _typed, _several in self._plan:
            if index < n and _clean(cells[index]):
                if key not in prefilled:
                    return False
                filled = True
        return filled and not any(index < n and _clean(cells[index]) for index, _start, _end in self._periods)

    def fill_instructions(self, cells: Sequence[str]) -> list[str] | None:
        """The instructions of a template's notes row (必填 | 格式：YYYY-MM-DD | 请填写统一社会信用代码 …),
        or None when the row may be a record. Asked only of a rejected row directly under the
        header, and strict: most of the filled cells of the catalogue's columns are instructions
        (``Catalogue.is_fill_instruction``), and no cell is a value — the party's name and the
        decision number are instructions or empty, and no cell of a code, date, amount or coded
        column holds a value that column takes."""
        is_instruction = self.catalogue.is_fill_instruction
        n = len(cells)
        found: list[str] = []
        filled = 0
        columns = [(index, key) for index, key, _typed, _several in self._plan]
        columns += [(index, None) for index, _start, _end in self._periods]
        for index, key in columns:
            raw = _clean(cells[index]) if index < n else ""
            if not raw:
                continue
            filled += 1
            if is_instruction(raw):
                found.append(raw)
            elif key in ("subject_name", "decision_no") or self._takes(key, raw):
                return None
        return found if filled >= 2 and 2 * len(found) > filled else None

    def _takes(self, key: str | None, raw: str) -> bool:
        """Whether ``raw`` is a value the column of field ``key`` takes (a valid code, a date, an
        amount, a code-table value; a period for a period column, ``key`` None); a text column
        takes anything, and says nothing so."""
        if key is None:
            return _split_period(raw, lambda text: self._dates[text] is not None,
                                 self.catalogue.is_open_ended) is not None
        f = self.item.field(key)
        try:
            if f.type == "date":
                return (self._dates[raw] is not None or _EXCEL_SERIAL.match(raw) is not None
                        or self.catalogue.is_open_ended(raw))
            if f.type == "uscc":
                return self._uscc(raw)[1] is None
            if f.type == "org_code":
                ids.validate_org_code(raw)
                return True
            if f.type == "reg_no":
                ids.validate_reg_no(raw)
                return True
            if f.type == "personal_id":
                return ids.is_valid_ric(raw)
            if f.type == "code":
                return self._canonical(key, raw) is not None
            if f.type == "codes":
                return bool(self._split_codes(key, raw)[0])
            if f.type == "decimal":
                return self._amount(0, f, raw, [], []) is not None  # what intake reads as an amount
        except ids.InvalidCode:
            return False
        return False

    # -- helpers ---------------------------------------------------------------------------

    def header(self, key: str) -> str:
        """The column header of a field as written in the file (its label when absent)."""
        return self.header_of.get(key) or self.item.field(key).label

    def _named(self, key: str) -> str:
        """The column header of a field as written where the row being validated has its value:
        the field's first column, or a second column of it that gave the value (有效期（止）
        beside an empty 有效期至; in JSON, the key a line writes). ``header`` is the file's."""
        return self._taken_from.get(key) or self.header(key)

    def _issue(self, line: int, key: str, code: str, message: str) -> Issue:
        return Issue(line, self._named(key), code, message)

    def _uscc(self, raw: str) -> tuple[str | None, ids.InvalidCode | None]:
        cached = self._uscc_cache.get(raw)
        if cached is not None:
            return cached
        try:
            result: tuple[str | None, ids.InvalidCode | None] = (ids.validate_uscc(raw), None)
        except ids.InvalidCode as exc:
            result = (None, exc)
        if len(self._uscc_cache) < 100_000:
            self._uscc_cache[raw] = result
        return result

    def _amount(
        self, line: int, f: Field, raw: str, errors: list[Issue], warnings: list[Issue],
        column_unit: str | None = None,
    ) -> Decimal | None:
        """An amount in the field's unit; a unit written after the number is converted.
        ``column_unit``: the unit of the column the value was taken from, when it is not the
        field's first column's."""
        text = unicodedata.normalize("NFKC", raw).replace(" ", "")
        m = _AMOUNT.match(text)
        assert m is not None  # every part is optional
        column_unit = column_unit or self.column_units.get(f.key) or f.unit or ""
        header = self._named(f.key)
        number = m["number"]
        if "e" in number.lower() and ids.excel_number_error(header, number.upper()):
            # 1.23457E+11: Excel's display of a number, its last digits gone
            errors.append(self._issue(
                line, f.key, "excel_number",
                f"“{header}”的“{raw}”是 Excel 的科学计数法显示，金额的后几位可能已经丢失："
                "请把该列设为“数值”或文本格式，核对金额后重新导出"))
            return None
        if number.startswith("(") and number.endswith(")") and len(number) > 2:
            # (5,000.00): how accounting writes a negative amount
            errors.append(self._issue(line, f.key, "negative_amount",
                                      f"“{header}”不能为负数：{raw}（括号中的金额是会计写法的负数）"))
            return None
        if "," in number:
            if not _GROUPED_NUMBER.match(number):
                # 3,5 is no thousands grouping: a decimal comma, or a typing error
                errors.append(self._issue(
                    line, f.key, "not_a_number",
                    f"“{header}”的“{raw}”中的逗号不是千位分隔符（应为 1,200 或 1,200.50）：小数点请写作“.”"))
                return None
            number = number.replace(",", "")
        try:
            amount = Decimal(number)
            if not amount.is_finite() or "e" in number.lower():
                raise InvalidOperation
        except InvalidOperation:
            unit_text = f"（单位{column_unit}）" if column_unit else ""
            errors.append(self._issue(line, f.key, "not_a_number",
                                      f"“{header}”应为数字{unit_text}，实为“{raw}”"))
            return None
        if amount < 0:
            errors.append(self._issue(line, f.key, "negative_amount", f"“{header}”不能为负数：{raw}"))
            return None
        written = m["unit"]
        unit = _UNIT_SPELLINGS.get(written, written) if written else column_unit
        if f.unit and unit != f.unit:
            amount = self.catalogue.convert(amount, unit, f.unit)
        if written and f.unit and unit != column_unit:
            warnings.append(self._issue(
                line, f.key, "amount_unit_converted",
                f"“{self._named(f.key)}”的金额“{raw}”写明以{unit}为单位，已按 "
                f"{format(amount.normalize(), 'f')} {f.unit}保存"))
        elif (not written and header in self._unitless and f.doubtful_at is not None
              and amount >= f.doubtful_at):
            warnings.append(self._unit_unclear(line, f, raw, amount))
        return amount

    def _unit_unclear(self, line: int, f: Field, raw: str, amount: Decimal) -> Issue:
        """A large amount in a column whose name gives no unit: most likely written in a smaller
        unit than the standard's (5000 元 in 罚款金额, which is read in 万元)."""
        header = self._named(f.key)
        shown = format(amount.normalize(), "f")
        if (unit := self.catalogue.smaller_unit(f.unit or "")) is not None:
            meant = format(self.catalogue.convert(amount, unit, f.unit).normalize(), "f")
            advice = (f"若填的是{unit}（即 {meant} {f.unit}），请把列名改为“{header}（{unit}）”"
                      "后重新报送该文件")
        else:
            advice = "请核对"
        return self._issue(
            line, f.key, "amount_unit_unclear",
            f"“{header}”的列名没有写明金额单位，“{raw}”已按{f.unit}读作 {shown} {f.unit}，"
            f"数额很大，可能填的不是{f.unit}：{advice}")

    # -- the row ---------------------------------------------------------------------------

    def validate(self, line: int, cells: Sequence[str]) -> ValidRow | list[Issue]:
        if cells and cells[0] in (INVALID_JSON, UNCLOSED_QUOTE, NESTED_VALUE, JSON_BOOLEAN):
            if cells[0] == NESTED_VALUE:
                return [Issue(line, cells[1], "nested_value", cells[2])]
            if cells[0] == JSON_BOOLEAN:
                return [Issue(line, cells[1], "json_boolean", cells[2])]
            if cells[0] == INVALID_JSON:
                said = cells[1] if len(cells) > 1 else f"{self._where(line)}不是有效的 JSON 对象"
                return [Issue(line, None, "invalid_json", said)]
            return [Issue(line, None, "unclosed_quote",
                          f"{self._where(line)}有一个以英文双引号开头却没有闭合的单元格，"
                          f"直到第 {cells[1]} 行的内容都被读进了这个单元格，这些行都没有保存："
                          "请改正引号后重新报送这些行")]
        if len(self._headers) > self._mapped:
            self._map_late_columns(line)
        if self._lossy and any("\ufffd" in c for c in cells):
            return [Issue(line, None, "invalid_bytes",
                          f"{self._where(line)}有不能按文件编码解读的字节（显示为 �），该行未保存："
                          "可能是从其他编码的文件复制来的，请把整个文件另存为 UTF-8 后重新报送这一行")]
        if self._width is None or len(cells) == self._width:
            return self._validate(line, cells)
        if len(cells) < self._width:
            return self._fewer_cells(line, cells)
        # More cells than the header. If the row is wrong, its columns have most likely shifted
        # (a text with an unquoted comma): that is the one error worth reporting. If it is right,
        # the cells past the last column are ",,," from a spreadsheet, or a note typed beside the
        # table, which is ignored with a warning.
        result = self._validate(line, cells)
        if not isinstance(result, list):
            beyond = [c.strip() for c in cells[self._width:] if c.strip()]
            rejoined = self._rejoin_last_text(cells) if beyond else None
            if rejoined is not None:
                again = self._validate(line, rejoined)
                if not isinstance(again, list):
                    header = self._headers[self._width - 1]
                    again.warnings.append(Issue(
                        line, header, "comma_in_text",
                        f"{self._where(line)}“{header}”中有未加英文双引号的英文逗号，已按整段内容"
                        f"“{rejoined[-1][:30]}”读取：请给含英文逗号的单元格加上英文双引号，或改用中文逗号"))
                    return again
            if beyond:
                result.warnings.append(Issue(line, None, "extra_cells",
                                             f"{self._where(line)}在表头以外的列中有内容（“{beyond[0][:20]}”），已忽略"))
            return result
        extra = len(cells) - self._width
        return [Issue(line, None, "column_count",
                      f"{self._where(line)}有 {len(cells)} 个单元格，比表头多 {extra} 个，各列已经错位："
                      "可能是某个单元格里有分隔符（如英文逗号）却没有加英文双引号。请给该单元格加上引号，或改用中文逗号")]

    def _fewer_cells(self, line: int, cells: Sequence[str]) -> ValidRow | list[Issue]:
        """A row with fewer cells than the header: fine when the cells left out are empty ones at
        the end (some exports drop them). If the row is wrong and a cell holds the delimiter, a
        stray English double quote at the start of that cell may have run on to the next quote on
        the line and taken the cells between into it, shifting every later column: when splitting
        that cell again gives the header's width and a row with fewer errors, that is the one
        error worth reporting."""
        result = self._validate(line, cells)
        if not isinstance(result, list):
            return result
        assert self._delimiter is not None and self._width is not None
        for index, cell in enumerate(cells):
            if self._delimiter not in cell:
                continue
            parts = cell.replace('"', "").split(self._delimiter)
            split = [*cells[:index], *parts, *cells[index + 1:]]
            if len(split) != self._width:
                continue
            again = self._validate(line, split)
            if isinstance(again, list) and len(again) >= len(result):
                continue
            header = self._headers[index]
            sign = "英文逗号" if self._delimiter == "," else f"分隔符“{self._delimiter}”"
            return [Issue(line, header, "quote_swallowed_cells",
                          f"{self._where(line)}“{header}”读到的内容“{cell[:30]}”里含有{sign}："
                          f"该单元格以英文双引号开头，直到同一行的下一个英文双引号为止的内容都被读进了它，"
                          f"这一行只剩 {len(cells)} 列（表头有 {self._width} 列），各列已经错位。"
                          "请删去多余的英文双引号（或改用中文引号“”），或给含分隔符的单元格整体加上成对的英文双引号")]
        return result

    def _rejoin_last_text(self, cells: Sequence[str]) -> list[str] | None:
        """The row with the cells past the header put back into the last column, when that column
        is a text (备注) that goes on straight into them: an English comma written without quotes
        cut it there. None when the row does not look so (a note typed beside the table after an
        empty cell, or a last column that is not text)."""
        assert self._width is not None
        last = self._width - 1
        if not any(index == last and f.type == "text" for index, f, _header in self.columns):
            return None
        if not cells[last].strip() or not cells[self._width].strip():
            return None
        end = len(cells)
        while not cells[end - 1].strip():
            end -= 1
        return [*cells[:last], ",".join(cells[last:end])]

    def _validate(self, line: int, cells: Sequence[str]) -> ValidRow | list[Issue]:
        errors: list[Issue] = []
        warnings: list[Issue] = []
        values: dict[str, str] = {}
        n = len(cells)
        nothing = self._nothing
        is_null = self.catalogue.is_null
        units_taken: dict[str, str] = {}  # amounts taken from a second column in another unit
        self._taken_from = taken_from = {}  # values taken from a second column: its header
        for index, key, typed, several in self._plan:
            raw = _clean(cells[index]) if index < n else ""
            if not raw:
                continue
            if raw[0] in _MARKED_CELL:
                raw = self._marked_cell(line, index, key, raw, errors, warnings)
                if not raw:
                    continue
            if not raw.isprintable() and CONTROL.search(raw):  # (has_controls, inline: every cell)
                raw = self._without_controls(line, index, raw, typed, errors, warnings)
                if not raw:
                    continue
            if typed:
                said = nothing.get(raw)
                if said or (said is None and self._says_nothing(raw)):
                    continue
            elif (raw.isascii() or "\uff01" <= raw[0] <= "\uff5e") and is_null(raw):
                continue  # NULL, \N (or ＮＵＬＬ, typed full-width): a database's "not set", not text to publish
            if several and key in values:
                values[key] += ";" + raw
            elif several is None and key in values:
                if raw != values[key]:  # the field's first column has another value: it wins
                    warnings.append(self._issue(
                        line, key, "duplicate_column_differs",
                        f"列“{self._headers[index]}”的值“{raw[:30]}”与同一栏目的列“{self._named(key)}”的值"
                        f"“{values[key][:30]}”不同：以“{self._named(key)}”为准，请核对"))
                continue
            else:
                values[key] = raw
                if several is None:  # the field's first column is empty here: this one gives the value
                    taken_from[key] = self._headers[index]
                    if index in self._fallback_units:
                        units_taken[key] = self._fallback_units[index]
        for index, start, end in self._periods:
            raw = _clean(cells[index]) if index < n else ""
            if raw and raw[0] in _MARKED_CELL:
                raw = self._marked_cell(line, index, None, raw, errors, warnings)
            if raw and has_controls(raw):
                raw = self._without_controls(line, index, raw, True, errors, warnings)
            if raw and not self._says_nothing(raw):
                self._period(line, index, raw, start, end, values, errors, warnings)

        if len(values) <= _MAX_CELLS_OF_A_NOTE and not any(k in values for k in self.item.identity):
            # a footer (合计, 填报人, 说明) or a stray cell: one clear error rather than one per column
            shown = "、".join(f"“{v[:20]}”" for v in values.values()) or "（只有不在目录中的列）"
            return [Issue(line, None, "not_a_record",
                          f"{self._where(line)}只有 {len(values)} 个已知列有内容：{shown}，不是一条记录；"
                          "表尾的合计、填报人、说明等行请删除后再报送")]
        example = self.catalogue.example_row(values)
        if example is not None:  # a template's filled-in example: never stored, whatever else it holds
            return [self._example_row(line, *example)]
        today = self.today
        decision_date: dt.date | None = None
        kinds: tuple[str, ...] = ()
        amounts: dict[str, Decimal] = {}
        for f in self.item.fields:
            raw = values.get(f.key)
            if raw is None:
                continue
            if f.max_length and len(raw) > f.max_length:
                errors.append(self._issue(line, f.key, "too_long",
                                          f"“{self._named(f.key)}”超过 {f.max_length} 个字符（实为 {len(raw)} 个）"))
                continue
            t = f.type
            if t == "text":
                if "E+" in raw and (lost := ids.excel_number_error(f"“{self._named(f.key)}”", raw)):
                    # 许可编号 1301021234567890123 in a number cell: Excel kept 15 digits
                    errors.append(self._issue(line, f.key, lost.code, lost.message))
                elif len(raw) >= 15:
                    self._mask_ids(line, f, raw, values, warnings)
                continue
            if t == "date":
                if f.open_ended and (raw[0] == "至" or raw[-1] == "止" or raw.startswith("有效期至")):
                    framed = _END_FRAME.sub("", raw)
                    if framed and (self.catalogue.is_open_ended(framed) or self._dates[framed] is not None):
                        raw = framed  # 2029年3月25日止, 至长期: the date (至今 stays what it is: no date)
                if f.open_ended and self.catalogue.is_open_ended(raw):
                    values[f.key] = self.open_ended.isoformat()
                    continue
                parsed = self._dates[raw]
                serial: dt.date | None = None
                epoch = self.excel_epoch or _EXCEL_EPOCH
                if parsed is None and _EXCEL_SERIAL.match(raw):
                    parsed = serial = _excel_serial_date(int(raw.partition(".")[0]), self.open_ended, epoch)
                elif parsed is None and f.open_ended and _is_last_excel_day(raw, epoch):
                    parsed = serial = _EXCEL_LAST_DAY  # 9999/12/31 as a number: 长期, stored as the open end below
                if serial is not None:
                    system = "（工作簿使用 1904 日期系统）" if self.excel_epoch == _EXCEL_1904 else ""
                    meaning = "（长期）" if serial == _EXCEL_LAST_DAY else ""
                    warnings.append(self._issue(
                        line, f.key, "excel_serial_date",
                        f"“{self._named(f.key)}”的值 {raw} 按 Excel 日期序号读作 {serial:%Y/%m/%d}{meaning}{system}，"
                        "请核对；导出前请把该列设为日期或文本格式"))
                if parsed is None and (instant := _epoch_date(raw, self.open_ended)):
                    parsed, said = instant
                    warnings.append(self._issue(
                        line, f.key, "timestamp_date",
                        f"“{self._named(f.key)}”的值 {raw} 按{said}读作 {parsed:%Y/%m/%d}（北京时间），请核对；"
                        "日期请以 YYYY-MM-DD 格式发送"))
                if parsed is None:
                    if "年" in raw and (mismatch := _weekday_mismatch(raw)):
                        errors.append(self._issue(line, f.key, "weekday_mismatch",
                                                  f"“{self._named(f.key)}”{raw}：{mismatch}"))
                        continue
                    open_end = "；没有截止日期的填“长期”" if f.open_ended else ""
                    errors.append(self._issue(
                        line, f.key, "invalid_date",
                        f"“{self._named(f.key)}”不是有效日期：{raw}（应为 YYYY/MM/DD，如 2024/08/13{open_end}）"))
                    continue
                if f.not_future and parsed > today:
                    errors.append(self._issue(line, f.key, "future_date",
                                              f"“{self._named(f.key)}”{raw} 晚于今天（{today:%Y/%m/%d}）"))
                    continue
                if parsed.year < 1949:
                    errors.append(self._issue(line, f.key, "invalid_date",
                                              f"“{self._named(f.key)}”年份不合理：{raw}"))
                    continue
                if f.open_ended and parsed > self.open_ended:
                    if parsed.month != 12 or parsed.day != 31:  # 2209/05/01 is a year mistyped, not 9999/12/31
                        warnings.append(self._issue(
                            line, f.key, "read_as_open_ended",
                            f"“{self._named(f.key)}”{raw} 晚于 {self.open_ended:%Y/%m/%d}，已按长期（无截止日期）保存："
                            "若是年份写错，请更正后重新报送"))
                    parsed = self.open_ended  # 9999/12/31 and the like: no end
                values[f.key] = parsed.isoformat()
                if f.key == self.item.decision_date_field:
                    decision_date = parsed
            elif t == "code":
                table = self._code_tables[f.key]
                meanings = self.ambiguous_values.get(f.key)
                if meanings and (meaning := meanings.get(normalize_code_value(raw))):
                    errors.append(self._issue(line, f.key, "code_ambiguous",
                                              f"“{self._named(f.key)}”的值“{raw}”含义不明确（{meaning}），未采用："
                                              f"请填写文字，可选值：{table.allowed}"))
                    continue
                canonical = self._canonical(f.key, raw)
                if canonical is None:
                    advice = table.hint(normalize_code_value(raw)) or f"可选值：{table.allowed}"
                    errors.append(self._issue(line, f.key, "not_in_code_table",
                                              f"“{self._named(f.key)}”的值“{raw}”不在代码表中，{advice}"))
                    continue
                values[f.key] = canonical
            elif t == "codes":
                table = self._code_tables[f.key]
                cached = self._multi.get(raw)
                if cached is not None:
                    kinds = cached
                    values[f.key] = ";".join(cached)
                    continue
                out, bad = self._split_codes(f.key, raw)
                if bad or not out:
                    shown = "、".join(f"“{b}”" for b in bad) or "（空）"
                    hints = dict.fromkeys(filter(None, (table.hint(normalize_code_value(b)) for b in bad)))
                    advice = "；".join(hints) if hints else f"可选值：{table.allowed}"
                    errors.append(self._issue(line, f.key, "not_in_code_table",
                                              f"“{self._named(f.key)}”中的 {shown} 不在代码表中，{advice}"))
                    continue
                kinds = tuple(out)
                if len(self._multi) < 10_000:
                    self._multi[raw] = kinds
                values[f.key] = ";".join(out)
            elif t == "decimal":
                parsed_amount = self._amount(line, f, raw, errors, warnings, units_taken.get(f.key))
                if parsed_amount is None:
                    continue
                amounts[f.key] = parsed_amount
                values[f.key] = format(parsed_amount.normalize(), "f") if parsed_amount else "0"
            elif t == "uscc":
                code, problem = self._uscc(raw)
                if f.key == "uscc":
                    continue  # the subject's code is checked with the subject below
                if problem is not None:
                    errors.append(self._issue(line, f.key, problem.code, f"“{self._named(f.key)}”：{problem.message}"))
                    continue
                assert code is not None
                if f.registered_by and code[0] not in f.registered_by:
                    errors.append(self._not_a_public_body(line, f.key, code))
                    continue
                values[f.key] = code
            elif t == "org_code":
                try:
                    values[f.key] = ids.validate_org_code(raw)
                except ids.InvalidCode as exc:
                    errors.append(self._issue(line, f.key, exc.code, f"“{self._named(f.key)}”：{exc.message}"))
            elif t == "reg_no":
                try:
                    values[f.key] = ids.validate_reg_no(raw)
                except ids.InvalidCode as exc:
                    errors.append(self._issue(line, f.key, exc.code, f"“{self._named(f.key)}”：{exc.message}"))
            # personal_id is validated with the subject / legal representative below

        if errors:  # a rejected value must not feed the checks that follow
            failed = {e.field for e in errors}
            for f in self.item.fields:
                if f.key in values and self._named(f.key) in failed:
                    del values[f.key]
        self._fill_layout_gaps(values)
        for f in self.item.fields:
            if not f.required or f.key in values or any(e.field == self._named(f.key) for e in errors):
                continue
            if f.key == "subject_category":
                continue  # inferred from the codes with the subject below, or reported there
            if f.key == "authority_uscc" and f.key not in self.header_of:  # the 2016 layout lacks it
                # (and so may a JSON record: keys are met record by record)
                name = values.get("authority_name", "")
                several = self.ambiguous_names.get(normalize_name(name))
                # the error is on the column the file has: the authority's name
                named = "authority_name" if "authority_name" in self.header_of else f.key
                if self._columns_vary:  # a JSON record without the key
                    lacking, advice = f"{self._where(line)}没有“{f.label}”", f"请在记录中填写“{f.label}”"
                else:
                    lacking, advice = f"文件没有“{f.label}”列", "请使用现行格式（含机关统一社会信用代码列）报送"
                if not name:
                    if not self._columns_vary:
                        continue  # the empty name column is reported (missing_required): by it the code is found
                    name_label = self.item.field("authority_name").label
                    errors.append(self._issue(line, f.key, "missing_required",
                                              f"{lacking}，也没有可据以查找已登记机关的“{name_label}”，"
                                              f"无法确定作出决定的机关：{advice}"))
                    continue
                if several:
                    errors.append(self._issue(
                        line, named, "authority_ambiguous",
                        f"{lacking}，而平台登记了多个名为“{name}”的部门（{'、'.join(several)}），"
                        f"无法确定是哪一个：{advice}"))
                    continue
                errors.append(self._issue(line, named, "authority_unknown",
                                          f"{lacking}，且机关“{name}”未在平台登记，无法确定其统一社会信用代码"
                                          + (f"：{advice}" if self._columns_vary else "")))
                continue
            errors.append(self._issue(line, f.key, "missing_required", f"必填项“{f.label}”为空"))

        for key, amount in amounts.items():
            wanted = self.item.field(key).amount_of
            if wanted and amount > 0 and kinds and not any(k in wanted for k in kinds):
                warnings.append(self._issue(
                    line, key, "amount_without_kind",
                    f"填写了“{self._named(key)}”{format(amount.normalize(), 'f')}，但处罚类别"
                    f"（{'、'.join(kinds)}）中没有“{'”或“'.join(wanted)}”：请核对处罚类别或金额"))
        subject = self._subject(line, values, errors, warnings)
        self._optional_document(line, "legal_rep_id_number", "legal_rep_id_type", values, warnings)
        if subject is not None and subject.kind != KIND_NATURAL_PERSON:
            self._party_document(line, subject, values, warnings)
        self._cross_checks(line, values, errors)
        self._own_data(line, values, errors)
        if errors:
            return errors
        assert subject is not None and decision_date is not None
        return ValidRow(
            line=line,
            named=self._taken_from,  # a new dict for every row
            values=values,
            subject=subject,
            decision_date=decision_date,
            penalty_kinds=kinds,
            fine=amounts.get("fine_amount"),
            confiscated=amounts.get("confiscated_amount"),
            warnings=warnings,
        )

    def _example_row(self, line: int, found: str, key: str, shown: str) -> Issue:
        """The error of a template's example row (``Catalogue.example_row``), on the column that
        gave it away."""
        if found == "name":
            said = f"“{self._named(key)}”为“{shown[:40]}”"
        elif found == "code":
            said = f"“{self._named(key)}”{shown}是国家标准中的示例代码"
        else:
            said = f"“{self._named(key)}”写有“{shown}”"
        return self._issue(line, key, "example_row",
                           f"{self._where(line)}是模板的填写示例（{said}），未保存：请删除示例行后再报送")

    def _without_controls(self, line: int, index: int, raw: str, typed: bool,
                          errors: list[Issue], warnings: list[Issue]) -> str:
        """A cell without the control characters database exports leave in it (a fixed-width CHAR
        column padded with NUL, written \\u0000 in JSON): removed, with a warning, wherever they
        are in a text, and at either end of a date, an amount or a code (``typed``). Inside one of
        those they leave no telling what was meant: an error that shows them (〈NUL〉), and ""."""
        header = self._headers[index]
        kept = CONTROL_PADDING.sub("", raw) if typed else without_controls(raw).strip()
        if typed and has_controls(kept):
            errors.append(Issue(line, header, "control_characters",
                                f"“{header}”的值“{with_controls_shown(raw)}”中间有不可见的控制字符（显示为〈NUL〉等，"
                                "多来自数据库导出），无法确定其值，未采用：请删去这些字符后重新报送"))
            return ""
        warnings.append(Issue(line, header, "control_characters_removed",
                              f"“{header}”含有不可见的控制字符（如 NUL），已删除"))
        return kept

    def _marked_cell(self, line: int, index: int, key: str | None, raw: str,
                     errors: list[Issue], warnings: list[Issue]) -> str:
        """The value of a cell that begins like an error value (#N/A) or that the reader marked
        (readers: a formula saved without its result, half a character, a number in a date cell
        that is no date, a number format not rendered), with what is to be said of it; "" when
        the cell gives no value (its error is added)."""
        header = self._headers[index]
        if raw == UNCACHED_FORMULA:
            errors.append(Issue(line, header, "formula_without_result",
                                f"“{header}”是公式，但文件没有保存公式的计算结果（由程序生成的工作簿常见），读不到值："
                                "请在 Excel 或 WPS 中打开并保存后再报送，或另存为 CSV（UTF-8）"))
            return ""
        if raw.upper() in _EXCEL_ERRORS:
            errors.append(Issue(line, header, "formula_error",
                                f"“{header}”是 Excel 的错误值 {raw}（公式出错，如 VLOOKUP 没有找到）："
                                "请改正公式或填入实际内容"))
            return ""
        field = self.item.field(key) if key else None
        if raw.startswith(HALF_CHARACTER):
            text = raw[len(HALF_CHARACTER):]
            escape = _HALF_ESCAPE.search(text)
            shown = f"“{escape[0]}”" if escape else ""
            errors.append(Issue(line, header, "invalid_character",
                                f"“{header}”含有半个字{shown}（工作簿里把一个字的 UTF-16 编码只写了一半，"
                                "多为生成文件的程序出错），该行未保存：请改正这个字后重新报送"))
            return ""
        if raw.startswith(DATE_CELL_NUMBER):
            number = raw[len(DATE_CELL_NUMBER):]
            if field is None or field.type != "date":
                return number  # the cell's value: Excel shows only ####
            said = (f"“{header}”的单元格是日期格式，填的却是数字 {number}，这不是 Excel 的日期"
                    "（Excel 中显示为 ####）")
            if self._dates[number] is None:
                errors.append(Issue(line, header, "invalid_date",
                                    f"{said}：请填入日期，如 2024/08/13"))
                return ""
            warnings.append(Issue(line, header, "date_cell_number",
                                  f"{said}，已按年月日读作 {self._dates[number]:%Y/%m/%d}，请核对；"
                                  "日期请按日期输入（如 2024/8/13）"))
            return number
        if raw.startswith(FORMAT_NOT_SHOWN):
            code, _, number = raw[len(FORMAT_NOT_SHOWN):].rpartition("\x00")
            said = f"“{header}”的单元格值为 {number}，但其数字格式“{code}”显示的是另外的内容，平台无法确定显示的是什么"
            if field is not None and field.type == "decimal":
                # the amount decides the penalty's class and its publication: never guessed
                errors.append(Issue(line, header, "number_format",
                                    f"{said}，该行未保存：请把该列设为“常规”或“数值”格式，按列名的单位填写金额后重新报送"))
                return ""
            warnings.append(Issue(line, header, "number_format",
                                  f"{said}，已按单元格的值 {number} 读取，请核对；"
                                  "如需按显示的内容报送，请把该列设为文本格式后重新填写"))
            return number
        return raw

    def _period(self, line: int, index: int, raw: str, start: str, end: str, values: dict[str, str],
                errors: list[Issue], warnings: list[Issue]) -> None:
        """Split a period column's value (2024/01/01至2029/12/31) into its start and end fields;
        a column of its own for either (有效期自) wins."""
        header = self._headers[index]
        parts = _split_period(raw, lambda text: self._dates[text] is not None, self.catalogue.is_open_ended)
        if parts is None:
            errors.append(Issue(line, header, "invalid_period",
                                f"“{header}”不是有效期限：{raw}（应写作起止日期，如 2024/01/01至2029/12/31；"
                                "没有截止日期的写“长期”）"))
            return
        first, last = parts
        if first is None and last is not None and not self.catalogue.is_open_ended(last):
            warnings.append(Issue(line, header, "period_one_date",
                                  f"“{header}”只写了一个日期 {last}，已作为“{self.item.field(end).label}”保存，请核对"))
        for key, value in ((start, first), (end, last)):
            if value is not None and key not in values:
                values[key] = value
                if header != self.header(key):  # the field's own column (有效期至) is empty here
                    self._taken_from[key] = header

    def _mask_ids(self, line: int, f: Field, raw: str, values: dict[str, str], warnings: list[Issue]) -> None:
        """A resident id written into a text column (违法事实, 备注, a 个体工商户's 税务登记号) is
        masked before it is stored: texts are published, ids never are. A 税务登记号 of a
        个体工商户 was its holder's id and a 2-digit sequence (``ids.mask_tax_number``)."""
        masker = ids.mask_tax_number if f.key == "tax_no" else ids.mask_resident_ids
        masked, found = masker(raw)
        if found:
            values[f.key] = masked
            warnings.append(self._issue(
                line, f.key, "id_number_masked",
                f"“{self._named(f.key)}”中有 {found} 个公民身份号码，已遮盖后保存（“…{_around_mask(masked)}…”）："
                "公民身份号码不公示，请不要写在可公示的栏目中"))

    def _not_a_public_body(self, line: int, key: str, code: str) -> Issue:
        return self._issue(
            line, key, "not_a_public_body",
            f"“{self._named(key)}”{code} 是{_holder(code)}的代码，不是行政机关或法律法规授权组织的代码："
            "请填写作出决定（或报送数据）的单位自己的统一社会信用代码",
        )

    def _other_item(self, headers: Sequence[str]) -> Item | None:
        """Another catalogue item whose required columns the file has all of (a penalties file
        sent as licences), or None."""
        for other in self.catalogue.items.values():
            if other.key == self.item.key:
                continue
            known = self.catalogue.any_layout_map(other)
            found = {known.get(normalize_header(h)) for h in headers}
            required = {f.key for f in other.fields if f.required}
            if required and required <= found:
                return other
        return None

    def _own_data(self, line: int, values: dict[str, str], errors: list[Issue]) -> None:
        """A department sending its file itself (an API key, an officer, ``--department``) may
        send only its own data: rows whose 数据来源单位 is another department, or whose deciding
        authority is another registered department, are rejected — they would be stored, and
        published, as that department's records, and could correct them. The credit office
        uploads files of several departments without a sender."""
        if self.default_source is None:
            return
        own, own_name = self.default_source
        source = values.get("source_uscc")
        if source and source != own and not any(e.field == self._named("source_uscc") for e in errors):
            other = self.departments.get(source) or values.get("source_name") or "另一单位"
            errors.append(self._issue(
                line, "source_uscc", "not_own_data",
                f"数据来源单位是{other}（{source}），不是报送部门{own_name}（{own}）：部门只能报送本部门的数据。"
                "其他部门的数据请由该部门报送，或由信用办管理员汇总上传"))
            return
        authority = values.get("authority_uscc")
        if authority and authority != own and authority in self.departments:
            errors.append(self._issue(
                line, "authority_uscc", "not_own_data",
                f"{self.item.field('authority_uscc').label}是已在平台登记的{self.departments[authority]}"
                f"（{authority}），不是报送部门{own_name}（{own}）：该部门作出的决定请由该部门报送，"
                "或由信用办管理员汇总上传"))

    def _fill_layout_gaps(self, values: dict[str, str]) -> None:
        """Fill required columns a file lacks from what is known: the sending department for the
        source columns; for older layouts, what the file does say."""
        lacks_source = self.source_from_sender or (self.layout != "current" and "source_uscc" not in values)
        if lacks_source and self.default_source:
            values["source_uscc"], values["source_name"] = self.default_source
        if "authority_uscc" not in values and "authority_name" in values and (
                self.layout != "current" or (self._columns_vary and "authority_uscc" not in self.header_of)):
            # the 2016 layout has no column for the authority's code, and a JSON record may lack
            # its key: the department registered under the authority's name is the authority
            found = self.authorities_by_name.get(normalize_name(values["authority_name"]))
            if found:
                values["authority_uscc"] = found
        if self.layout == "current":
            return
        if "valid_until" in self.field_keys and "valid_until" not in values:
            values["valid_until"] = self.open_ended.isoformat()
        if (
            "violation_type" in self.field_keys
            and "violation_type" not in values
            and "violation_facts" in values
        ):
                values["violation_type"] = values["violation_facts"][:100]

    def _subject(
        self, line: int, values: dict[str, str], errors: list[Issue], warnings: list[Issue]
    ) -> SubjectIdentity | None:
        name = values.get("subject_name")
        category = values.get("subject_category")
        raw_uscc = values.get("uscc")
        uscc: str | None = None
        placeholder = False
        if raw_uscc and category is None and ids.is_valid_ric(raw_uscc):
            category = values["subject_category"] = "自然人"
            if "subject_category" in self.header_of:  # an empty cell (a missing column has a note)
                warnings.append(self._issue(line, "subject_category", "category_inferred",
                                            "未填写行政相对人类别：行政相对人代码_1 是公民身份号码，判断为“自然人”"))
        if raw_uscc and category == "自然人":
            pass  # a person has no USCC: what is there is dropped below, with a warning
        elif raw_uscc:
            if ids.is_placeholder_uscc(raw_uscc):
                placeholder = True
            else:
                uscc, problem = self._uscc(raw_uscc)
                if problem is not None or ids.ric_not_uscc(uscc or ""):
                    if ids.is_valid_ric(raw_uscc):
                        errors.append(self._issue(
                            line, "uscc", "ric_in_uscc_column",
                            "行政相对人代码_1 填的是公民身份号码，不是统一社会信用代码：行政相对人是自然人的，"
                            "请把“行政相对人类别”填为“自然人”，身份证号填在“证件号码”栏"))
                    else:
                        errors.append(self._issue(line, "uscc", problem.code,
                                                  f"行政相对人代码：{problem.message}"))
                    return None
            values["uscc"] = ids.PLACEHOLDER_USCC if placeholder else (uscc or "")
        category_failed = any(e.field == self._named("subject_category") for e in errors)
        if category is None and not category_failed:
            category, basis = self._category_from_codes(values, uscc, placeholder)
            if category:
                values["subject_category"] = category
                if "subject_category" in self.header_of:  # an empty cell (a missing column has a note)
                    warnings.append(self._issue(line, "subject_category", "category_inferred",
                                                f"未填写行政相对人类别：按{basis}判断为“{category}”"))
        if not name or not category:
            if category is None and not category_failed:
                errors.append(self._issue(line, "subject_category", "missing_required",
                                          "必填项“行政相对人类别”为空，且无法从代码判断：请填写“行政相对人类别”"))
            return None
        if category == "法人及非法人组织" and uscc and ids.is_individual_business_uscc(uscc):
            category = values["subject_category"] = "个体工商户"
            warnings.append(self._issue(line, "subject_category", "category_from_code",
                                        f"统一社会信用代码以 {uscc[:2]} 开头，是个体工商户的代码："
                                        "行政相对人类别按“个体工商户”保存"))
        elif category == "个体工商户" and uscc and not ids.is_individual_business_uscc(uscc):
            # a 个人独资企业 (91…) is an enterprise, often taken for an individual business
            category = values["subject_category"] = "法人及非法人组织"
            warnings.append(self._issue(line, "subject_category", "category_from_code",
                                        f"统一社会信用代码以 {uscc[:2]} 开头，是{_holder(uscc)}的代码，不是个体工商户的"
                                        "（以 92 开头）：行政相对人类别按“法人及非法人组织”保存"))
        kind = CATEGORY_KIND[category]
        shown, key = self._name(name)
        identity = SubjectIdentity(kind=kind, category=category, name=shown, name_norm=key)
        values["subject_name"] = identity.name
        if kind == KIND_NATURAL_PERSON:
            in_code_column = values.pop("uscc", None)
            if in_code_column and not values.get("id_number") and ids.is_valid_ric(in_code_column):
                # the person's id typed into 行政相对人代码_1 and nowhere else: it is the id
                values["id_number"] = ids.normalize_code(in_code_column)
                warnings.append(self._issue(
                    line, "uscc", "id_from_code_column",
                    "行政相对人为自然人，行政相对人代码_1 填的是公民身份号码：已按证件号码保存"))
            elif in_code_column:
                # a person has no USCC; what departments put there is often the id number itself,
                # which must never be stored in clear
                warnings.append(self._issue(line, "uscc", "uscc_ignored_for_person",
                                            "行政相对人为自然人，不适用统一社会信用代码：该列内容未保存"))
            id_type = values.get("id_type")
            number = values.get("id_number")
            if number and not id_type and ids.is_valid_ric(number):
                # the type left out, the number a valid resident id: it can only be a 身份证
                id_type = values["id_type"] = RESIDENT_ID_TYPE
                warnings.append(self._issue(line, "id_type", "id_type_inferred",
                                            "未填写证件类型：证件号码是有效的公民身份号码，已按身份证保存"))
            if not id_type or not number:
                missing_key = "id_type" if not id_type else "id_number"
                errors.append(self._issue(line, missing_key, "missing_person_id",
                                          "行政相对人为自然人时，须填写“证件类型”和“证件号码”"))
                return None
            checked = self._personal_id(line, "id_number", id_type, number, errors, warnings)
            if checked is None:
                return None
            identity.person_id_type, identity.person_id = id_type, checked
            return identity
        # organisations and individual businesses
        org_code = values.get("org_code")
        reg_no = values.get("reg_no")
        if uscc:
            derived = ids.uscc_org_code(uscc)
            if org_code and org_code != derived:
                warnings.append(self._issue(line, "org_code", "org_code_mismatch",
                                            f"组织机构代码 {org_code} 与统一社会信用代码中的 {derived} 不一致，"
                                            "已以统一社会信用代码为准"))
            values["org_code"] = org_code = derived
            identity.uscc = uscc
        elif placeholder:
            if kind != KIND_INDIVIDUAL_BUSINESS:
                errors.append(self._issue(line, "uscc", "placeholder_not_allowed",
                                          f"只有个体工商户可以使用代码 {ids.PLACEHOLDER_USCC}"))
                return None
            if not reg_no:
                if any(e.field == self._named("reg_no") for e in errors):
                    return None  # a number was given, and is wrong: its own error says so
                errors.append(self._issue(line, "reg_no", "placeholder_needs_reg_no",
                                          f"个体工商户使用代码 {ids.PLACEHOLDER_USCC} 时，须填写 15 位工商注册号"))
                return None
        elif not org_code and not (kind == KIND_INDIVIDUAL_BUSINESS and reg_no):
            if any(e.field in (self._named("uscc"), self._named("org_code"), self._named("reg_no")) for e in errors):
                return None  # a code was given, and is unreadable: its own error says so
            errors.append(self._issue(line, "uscc", "missing_subject_code",
                                      "缺少行政相对人统一社会信用代码（个体工商户无代码时填写 "
                                      f"{ids.PLACEHOLDER_USCC} 并填写工商注册号）"))
            return None
        identity.org_code = org_code
        identity.reg_no = reg_no
        return identity

    def _category_from_codes(
        self, values: dict[str, str], uscc: str | None, placeholder: bool
    ) -> tuple[str | None, str]:
        """The subject category a row's codes tell, and which code told it (GB 32100: a USCC
        beginning 92 is an individual business's); (None, "") when they tell nothing."""
        if uscc and ids.is_individual_business_uscc(uscc):
            return "个体工商户", "统一社会信用代码"
        if placeholder:
            return "个体工商户", f"个体工商户占位代码 {ids.PLACEHOLDER_USCC}"
        if uscc:
            return "法人及非法人组织", "统一社会信用代码"
        if values.get("org_code"):
            return "法人及非法人组织", "组织机构代码"
        if values.get("id_number") and not values.get("reg_no"):
            if self.layout != "current":
                values.setdefault("id_type", RESIDENT_ID_TYPE)  # the 2016 column is 居民身份证号
            return "自然人", "证件号码"
        return None, ""

    def _personal_id(
        self, line: int, key: str, id_type: str, number: str, errors: list[Issue], warnings: list[Issue],
        *, as_warning: bool = False,
    ) -> str | None:
        if id_type == RESIDENT_ID_TYPE:
            try:
                ric = ids.validate_ric(number)
            except ids.InvalidCode as exc:
                target = warnings if as_warning else errors
                label = self.item.field(key).label
                target.append(self._issue(line, key, exc.code, f"“{label}”：{exc.message}"))
                return None
            for text in ric.warnings:
                warnings.append(self._issue(line, key, "ric_area_warning", text))
            return ric.number
        normalised = ids.normalize_code(number)
        if not 5 <= len(normalised) <= 30:
            target = warnings if as_warning else errors
            target.append(self._issue(line, key, "invalid_document_number",
                                      f"证件号码长度不合理（{len(normalised)} 位）"))
            return None
        return normalised

    def _optional_document(self, line: int, number_key: str, type_key: str, values: dict[str, str],
                           warnings: list[Issue]) -> str | None:
        """A document number the row may leave out, checked by its type (a resident id when none
        is given): the checked number with its type in ``values``, or, when it is wrong, left out
        of them with a warning. Returns the checked number, or None."""
        number = values.get(number_key)
        if not number:
            return None
        id_type = values.get(type_key) or RESIDENT_ID_TYPE
        checked = self._personal_id(line, number_key, id_type, number, [], warnings, as_warning=True)
        if checked is None:
            values.pop(number_key)
        else:
            values[number_key], values[type_key] = checked, id_type
        return checked

    def _party_document(
        self, line: int, subject: SubjectIdentity, values: dict[str, str], warnings: list[Issue]
    ) -> None:
        """证件类型/证件号码 on the row of an organisation or individual business: the operator's
        id of a 个体工商户, or the legal representative's id typed there too. The number is checked
        by its type as the legal representative's is (a wrong one is left out, with a warning); a
        good one is stored masked only — the platform keeps a document number encrypted for a
        natural person (the subject) and for a legal representative, not for this column."""
        checked = self._optional_document(line, "id_number", "id_type", values, warnings)
        if checked is None:
            return
        masked = ids.mask_ric(checked)
        if checked == values.get("legal_rep_id_number") and values["id_type"] == values.get("legal_rep_id_type"):
            kept = "与“法定代表人证件号码”相同，已遮盖后保存"
        else:
            kept = ("只保存遮盖后的号码：平台只加密保存自然人和法定代表人的证件号码。"
                    "个体工商户经营者、法定代表人的证件号码请填在“法定代表人证件类型”“法定代表人证件号码”栏")
        warnings.append(self._issue(
            line, "id_number", "id_number_masked_only",
            f"行政相对人为{subject.category}，“{self._named('id_number')}”{masked} {kept}"))

    def _cross_checks(self, line: int, values: dict[str, str], errors: list[Issue]) -> None:
        start, end = values.get("valid_from"), values.get("valid_to")
        decision = values.get("decision_date")
        if start and end and start > end:
            ends, starts = self._named("valid_to"), self._named("valid_from")
            said = f"“{ends}”的截止日期早于起始日期" if ends == starts else f"“{ends}”早于“{starts}”"  # 许可有效期
            errors.append(self._issue(line, "valid_to", "date_order", said))
        elif decision and end and end < decision:
            # a licence that expired before it was granted: a year mistyped (2019 for 2029). A
            # licence effective before its decision (有效期自 earlier) is no mistake: a change,
            # renewal or re-issue keeps the certificate's period
            errors.append(self._issue(
                line, "valid_to", "date_order",
                f"“{self._named('valid_to')}”早于“{self._named('decision_date')}”：许可在作出决定前已经到期，"
                "请核对年份"))
        until = values.get("valid_until")
        if decision and until and until < decision:
            errors.append(self._issue(line, "valid_until", "date_order",
                                      f"“{self._named('valid_until')}”早于“{self._named('decision_date')}”"))
