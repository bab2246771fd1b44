"""Loading the catalogue from its data files, and resolving file headers and coded values."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from xinyong.catalogue.schemas import (
    FIELD_TYPES,
    CodeTable,
    CodeValue,
    Disclosure,
    Field,
    Item,
    Layout,
)
from xinyong.core.errors import NotFound

DATA_DIR = Path(__file__).with_name("data")


# What templates add to a column name, or write in a row under the names, to say whether a
# column must be filled: not part of the name.
_FILL_WORDS = "必填项?|选填项?|非必填|可选填?|可填|必填字段|选填字段|必须填写|可不填"
_FILL_MARK = re.compile(rf"\(?(?:{_FILL_WORDS})\)?")
# A bracketed note in a column name (as normalised: half-width, case folded, no spaces) is dropped
# when it only says how to fill the column: each of its parts (split at , ; 、) is a fill mark,
# also for a kind of party (法人必填, 自然人选填, 当事人为法人时必填), a format (格式：YYYY/MM/DD,
# yyyy-mm-dd, 如2024/08/13), a precision (保留两位小数), a type (数值, 文本, 日期型), a length
# (限5000字, 不超过200个字符, 500字以内) or a field code of the data standard (CF_XDR_MC: whether it is
# the column's own is checked where the columns are mapped, see field_code_note). A part that names
# a unit (元, 万元) is never such a note: the unit decides how the amounts are read, so it stays in
# the name (罚款金额（选填，单位：元） is 罚款金额（元）, 罚款金额（万元，数值） is 罚款金额（万元））. A bracket
# with any other part is kept whole.
_BRACKETED = re.compile(r"\(([^()]*)\)")
_NOTE_SEPARATORS = re.compile(r"[,;、]")
# cf_xdr_mc, xk_wsh (case folded); not a date format written with underscores (yyyy_mm_dd)
_FIELD_CODE = re.compile(r"(?!y+_m+_d+$)[a-z]{2,}(?:_[a-z0-9]+)+")
_NOTE_PART = re.compile(
    rf"[^\d]{{0,12}}(?:{_FILL_WORDS})"
    r"|.*格式.*"
    r"|y{2,4}[-/.年]?m{1,2}[-/.月]?d{1,2}日?"
    r"|(?:如|例|例如|示例):?\d{4}.*"
    r"|保留.{1,4}位小数|精确到.*|小数点后.*"
    r"|(?:数值|数字|小数|整数|文本|字符串?|日期|日期时间)型?"
    r"|(?:限填?|不超过|不多于|不得超过|最多|最长)?\d+个?(?:汉字|字符|字)(?:以内|之内|以下)?"
    rf"|{_FIELD_CODE.pattern}")
# An amount's unit as templates write it at the end of the name: （元）, （单位：元）, （人民币元）,
# （单位：人民币元）, （人民币：元）, /元 (and the same with 万元) all read as （元）, so that one
# spelling in the catalogue's unit_headers stands for all of them
_UNIT_NOTE = re.compile(r"(?:\((?:单位:?)?(?:人民币:?|rmb:?)?(万元|元)\)|/(万元|元))$")


def _without_fill_notes(text: str) -> str:
    """The normalised name without its bracketed notes on how to fill the column."""
    def drop(match: re.Match[str]) -> str:
        parts = _NOTE_SEPARATORS.split(match[1])
        kept = [p for p in parts if "元" in p or not _NOTE_PART.fullmatch(p)]
        if len(kept) == len(parts):
            return match[0]
        return f"({','.join(kept)})" if kept else ""
    return _BRACKETED.sub(drop, text)


# A cell of a template's notes row that says, with a qualifier, whether to fill the column:
# 法人必填, 自然人选填, 当事人为法人时必填，其他选填
_QUALIFIED_FILL_MARK = re.compile(r"[^\d,;:。]{0,12}?(?:必填|选填)(?:[,;:。(]|$)")
# A date format spelled out: YYYY-MM-DD, yyyy/mm/dd, YYYY年MM月DD日 (case folded)
_DATE_FORMAT = re.compile(r"\(?y{2,4}[-/.年]?m{1,2}[-/.月]?d{1,2}日?\)?")


def is_fill_mark(raw: str) -> bool:
    """Whether a cell only says whether its column must be filled (必填, （选填）, *必填项)."""
    text = "".join(ch for ch in unicodedata.normalize("NFKC", raw) if not ch.isspace() and ch != "*")
    return _FILL_MARK.fullmatch(text) is not None


def _folded(raw: str) -> str:
    """A header full-width folded, brackets unified, case folded, without spaces, anything
    invisible (a BOM, U+200B, a NUL padding the name) or *."""
    text = unicodedata.normalize("NFKC", raw or "").casefold()
    text = text.replace("【", "(").replace("】", ")").replace("〔", "(").replace("〕", ")")
    return "".join(ch for ch in text if ch.isprintable() and not ch.isspace() and ch != "*")


def field_code_note(raw: str) -> str | None:
    """The data standard's field code a header names in a bracketed note (行政相对人名称（CF_XDR_MC）),
    case folded (cf_xdr_mc); None when it names none. The note is dropped from the header's key
    (normalize_header): the caller checks that the code is the column's own."""
    for bracket in _BRACKETED.finditer(_folded(raw)):
        for part in _NOTE_SEPARATORS.split(bracket[1]):
            if _FIELD_CODE.fullmatch(part):
                return part
    return None


def normalize_header(raw: str) -> str:
    """Header key for matching: full-width folded, brackets unified, all spaces removed, the
    marks templates add (*, （必填）, （选填）, （法人必填）, （格式：YYYY/MM/DD）) dropped, an amount's
    unit written one way (（单位：人民币元） and 罚款金额/元 are （元）), and case folded (field codes
    come as CF_XDR_MC or cf_xdr_mc)."""
    text = _folded(raw)
    if "(" in text:
        text = _without_fill_notes(text)
    if "元" in text:
        text = _UNIT_NOTE.sub(lambda m: f"({m[1] or m[2]})", text)
    return text


def normalize_code_value(raw: str) -> str:
    """Key for matching a coded value: full-width folded, spaces removed."""
    text = unicodedata.normalize("NFKC", raw)
    return "".join(ch for ch in text if not ch.isspace())


def _spellings(values: Iterable[str]) -> tuple[frozenset[str], int]:
    """Normalised spellings of a list of data-file words, and the longest of them."""
    keys = frozenset(normalize_code_value(v).casefold() for v in values)
    return keys, max(map(len, keys), default=0)


def _is_number(raw: str) -> bool:
    try:
        Decimal(normalize_code_value(raw).replace(",", ""))
    except ArithmeticError:
        return False
    return True


def _spelled(raw: str, spellings: tuple[frozenset[str], int]) -> bool:
    """Whether ``raw`` is one of the spellings. A cell more than twice as long as the longest
    (spaces and full-width forms fold away in normalising) cannot be one: it is not normalised."""
    keys, longest = spellings
    return len(raw) <= 2 * longest and normalize_code_value(raw).casefold() in keys


class _ExampleRows:
    """The marks of a template's example row (``example_rows`` in items.yaml)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.names_begin = tuple(str(w) for w in spec.get("names_begin") or ())
        # every letter case written out: a case-blind search costs six times as much
        words = {form for w in spec.get("name_placeholders") or () for form in (str(w), str(w).upper(), str(w).lower())}
        self.placeholder = re.compile("|".join(map(re.escape, sorted(words)))) if words else None
        self.codes = frozenset(str(c) for c in spec.get("codes") or ())
        self.phrases_in = tuple(str(k) for k in spec.get("phrases_in") or ())
        self.marks = tuple(str(w) for w in spec.get("marks") or ())
        self.phrases = tuple(str(w) for w in spec.get("phrases") or ())
        if unmarked := [p for p in self.phrases if not any(m in p for m in self.marks)]:
            raise ValueError(f"catalogue example_rows: phrases without a mark {unmarked}")

    def reason(self, values: dict[str, str]) -> tuple[str, str, str] | None:
        name = values.get("subject_name", "")
        if name and (name.startswith(self.names_begin)
                     or (self.placeholder is not None and self.placeholder.search(name))):
            return "name", "subject_name", name
        code = values.get("uscc", "")
        if len(code) >= 18 and code.strip().upper() in self.codes:
            return "code", "uscc", code
        # one search for each mark, not one for each cell
        joined = "\n".join(filter(None, map(values.get, self.phrases_in)))
        for mark in self.marks:
            if mark in joined:
                break
        else:
            return None
        return next((("text", key, phrase) for key in self.phrases_in for phrase in self.phrases
                     if phrase in values.get(key, "")), None)


class Catalogue:
    """All catalogue items and code tables, read from data files."""

    def __init__(
        self,
        items: dict[str, Item],
        code_tables: dict[str, CodeTable],
        units: dict[str, Decimal] | None = None,
        *,
        not_applicable: Iterable[str] = (),
        null_values: Iterable[str] = (),
        open_ended_values: Iterable[str] = (),
        open_ended_date: dt.date,
        example_sheet_words: Iterable[str] = (),
        footer_labels: Iterable[str] = (),
        total_labels: Iterable[str] = (),
        instruction_prefixes: Iterable[str] = (),
        example_rows: dict[str, Any] | None = None,
    ) -> None:
        self.items = items
        self.code_tables = code_tables
        self.units = units or {}
        self.open_ended_date = open_ended_date  # what "no end" is stored as
        self._not_applicable = _spellings(not_applicable)
        self._null = _spellings(null_values)
        self._open_ended = _spellings(open_ended_values)
        self._example_sheet_words = tuple(unicodedata.normalize("NFKC", w) for w in example_sheet_words)
        labels = "|".join(re.escape(normalize_code_value(w)) for w in footer_labels)
        # 填报人：张三, 填报单位（盖章）：, 联系电话: 0311…, 注：
        self._footer_cell = re.compile(rf"\(?(?:{labels})(?:\([^)]*\))?\)?(?::.*)?", re.S) if labels else None
        self._totals = _spellings(total_labels)
        self._instruction_prefixes = tuple(normalize_code_value(w).casefold() for w in instruction_prefixes)
        self._example_rows = _ExampleRows(example_rows or {})

    def is_not_applicable(self, raw: str) -> bool:
        """Whether a cell says "nothing here" (无, /, —…) rather than giving a value."""
        return _spelled(raw, self._not_applicable)

    def is_null(self, raw: str) -> bool:
        """Whether a cell is how a database or a program exports "not set" (\\N, NULL, None)."""
        return _spelled(raw, self._null)

    def is_example_sheet(self, title: str) -> bool:
        """Whether a worksheet's name says it holds an example, instructions or code lists (填写示例,
        填报说明, 代码表…) rather than records: such a sheet is never read as data."""
        text = unicodedata.normalize("NFKC", title)
        return any(word in text for word in self._example_sheet_words)

    def example_row(self, values: dict[str, str]) -> tuple[str, str, str] | None:
        """Why a row (its cells as written, by field key) is a template's filled-in example
        (``example_rows``, catalogue data), or None: what gave it away ("name", "code" or "text"),
        the field it is in, and the value or the phrase."""
        return self._example_rows.reason(values)

    def is_footer_row(self, cells: Iterable[str]) -> bool:
        """Whether a row is a table's footer rather than a record: every filled cell is a footer
        label (填报人：张三, 审核人：, 联系电话：…, 填报单位（盖章）), or the row is a total (合计 and
        numbers only). A record always has a name or a text that is neither."""
        filled = [c for c in cells if c and not c.isspace()]
        if not filled or self._footer_cell is None:
            return False
        if _spelled(filled[0], self._totals):
            return all(_is_number(c) for c in filled[1:])
        return all(len(c) <= 200 and self._footer_cell.fullmatch(normalize_code_value(c)) for c in filled)

    def is_fill_instruction(self, raw: str) -> bool:
        """Whether a cell only tells how to fill its column, as a template's notes row under the
        header does: a fill mark (必填, 选填, 非必填, 法人必填), a text that begins with one of the
        catalogue's ``instruction_prefixes`` (格式：…, 请填写…, 示例：…, 填写说明：…), or a date
        format spelled out (YYYY-MM-DD)."""
        text = normalize_code_value(raw).casefold().lstrip("*※★")
        if len(text) > 200:
            return False
        unbracketed = text.lstrip("(")
        return (_FILL_MARK.match(unbracketed) is not None
                or _QUALIFIED_FILL_MARK.match(unbracketed) is not None
                or unbracketed.startswith(self._instruction_prefixes)
                or _DATE_FORMAT.fullmatch(text) is not None)

    def is_open_ended(self, raw: str) -> bool:
        """Whether a cell of an open-ended date column says "no end" (长期, 永久…)."""
        return _spelled(raw, self._open_ended)

    def item(self, key: str) -> Item:
        try:
            return self.items[key]
        except KeyError:
            raise NotFound(f"目录中没有信息项 {key}") from None

    def code_table(self, name: str) -> CodeTable:
        return self.code_tables[name]

    def header_map(self, item: Item, layout: str) -> dict[str, str]:
        """Normalised header -> field key for one layout of an item."""
        mapping: dict[str, str] = {}
        for f in item.fields:
            # a key, as JSON Lines may use; the standard's code, as database exports use, also
            # without its underscores as Java programs name it (cfXdrMc for CF_XDR_MC)
            code = f.standard_code or ""
            for header in (f.label, *f.aliases, *f.unit_headers, f.key, code, code.replace("_", ""),
                           *f.period_headers):
                if header:
                    mapping.setdefault(normalize_header(header), f.key)
        if layout in item.layouts:
            for header, key in item.layouts[layout].headers.items():
                mapping[normalize_header(header)] = key
        return mapping

    def any_layout_map(self, item: Item) -> dict[str, str]:
        """Normalised header -> field key over every layout of an item (the current one first):
        what tells a header row from data before the layout is known."""
        mapping: dict[str, str] = {}
        for layout in item.layouts:
            for header, key in self.header_map(item, layout).items():
                mapping.setdefault(header, key)
        return mapping

    def column_unit(self, f: Field, header: str) -> str | None:
        """The unit of the amounts in a column of field ``f`` headed ``header`` as written."""
        wanted = normalize_header(header)
        for alias, unit in f.unit_headers.items():
            if normalize_header(alias) == wanted:
                return unit
        return f.unit

    def unpublished_statuses(self, item: Item) -> frozenset[str]:
        """The values of the 2016 当前状态 whose records are kept but not published (撤销)."""
        status = next((f for f in item.fields if f.key == "record_status_2016"), None)
        if not status or not status.code_table:
            return frozenset()
        return frozenset(v.value for v in self.code_table(status.code_table).values if not v.publish)

    def header_unit(self, key: str, header: str) -> str | None:
        """The unit of the amounts under ``header``, a column of the field ``key`` (any item's);
        None when the field has no unit."""
        for item in self.items.values():
            for f in item.fields:
                if f.key == key and f.unit:
                    return self.column_unit(f, header)
        return None

    def convert(self, amount: Decimal, from_unit: str, to_unit: str) -> Decimal:
        """An amount in ``from_unit`` expressed in ``to_unit`` (units of the catalogue's table)."""
        if from_unit == to_unit:
            return amount
        return amount * self.units[from_unit] / self.units[to_unit]

    def smaller_unit(self, unit: str) -> str | None:
        """The next smaller unit of the catalogue's table (元 below 万元): what a column that names
        no unit most likely holds when its amounts are too large for the standard's unit."""
        if unit not in self.units:
            return None
        smaller = [u for u in self.units if self.units[u] < self.units[unit]]
        return max(smaller, key=self.units.__getitem__) if smaller else None

    def detect_layout(self, item: Item, headers: list[str]) -> str:
        """The layout whose marker columns the file carries ("current" when none match).

        Two markers make an older layout when two of them are names the current layout does not
        read (处罚名称, 处罚事由, 项目名称…), or when the markers outnumber the columns only the
        current layout has (fields the older one lacks, such as 数据来源单位 or 有效期自): a current
        file may carry legacy columns (地方编码, 数据更新时间戳) and spell a column the old way
        (审批类别, 许可截止期). Taking such a file for the 2016 layout would re-code its values
        (当前状态 1 有效 read as 2016's 1 撤销)."""
        present = {normalize_header(h) for h in headers}
        current = self.header_map(item, "current")
        current_missing = item.layouts["current"].missing_ok if "current" in item.layouts else frozenset()
        best, best_score = "current", 0
        for name, layout in item.layouts.items():
            if not layout.markers or name == "current":
                continue
            found = [m for m in (normalize_header(m) for m in layout.markers) if m in present]
            own = [m for m in found if m not in current]
            newer = {current[h] for h in present if h in current} & (layout.missing_ok - current_missing)
            if len(found) >= 2 and (len(own) >= 2 or len(found) > len(newer)) and len(found) > best_score:
                best, best_score = name, len(found)
        return best


# Excel number formats of the template's columns: codes and ids as text, so that Excel keeps every
# digit (an 18-digit id typed into a General cell keeps 15); dates as dates.
_TEMPLATE_FORMATS = {"date": "yyyy/mm/dd", "decimal": "0.######", "uscc": "@", "reg_no": "@", "org_code": "@",
                     "personal_id": "@", "text": "@", "code": "@", "codes": "@"}
_LAST_EXCEL_ROW = 1_048_576


def template_csv(item: Item) -> bytes:
    """The header line of an item's current layout, UTF-8 with a BOM (Excel opens it as UTF-8)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([f.label for f in item.template_fields])
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def template_xlsx(catalogue: Catalogue, item: Item) -> bytes:
    """An Excel template for an item: the header, text-formatted code columns, date columns,
    drop-down lists of the code tables, and a sheet that explains every column."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = item.title[:31]
    required_fill = PatternFill("solid", fgColor="FDE9D9")
    for column, f in enumerate(item.template_fields, start=1):
        letter = get_column_letter(column)
        cell = sheet.cell(row=1, column=column, value=f.label)
        cell.font = Font(bold=True, color="C00000" if f.required else "000000")
        if f.required:
            cell.fill = required_fill
        cell.comment = Comment(_column_help(catalogue, f), "信用平台")
        dimension = sheet.column_dimensions[letter]
        dimension.width = max(12, min(40, len(f.label) * 2 + 2))
        dimension.number_format = _TEMPLATE_FORMATS[f.type]  # the column's style: cells typed into it
        if f.type == "code" and f.code_table:
            choices = ",".join(v.label for v in catalogue.code_table(f.code_table).values)
            if len(choices) <= 255:  # Excel's limit for a list written in the rule
                rule = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True,
                                      showErrorMessage=True, errorTitle="不在代码表中",
                                      error=f"请从下拉列表中选择：{choices}")
                rule.add(f"{letter}2:{letter}{_LAST_EXCEL_ROW}")
                sheet.add_data_validation(rule)
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet("填报说明")
    notes.append(["列名", "必填", "类型", "填写要求"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for f in item.template_fields:
        notes.append([f.label, "是" if f.required else "", _TYPE_LABELS[f.type], _column_help(catalogue, f)])
    for letter, width in zip("ABCD", (36, 6, 18, 90), strict=True):
        notes.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_TYPE_LABELS = {"text": "文本", "code": "代码（单选）", "codes": "代码（可多选）", "date": "日期",
                "decimal": "数值", "uscc": "统一社会信用代码", "reg_no": "工商注册号",
                "org_code": "组织机构代码", "personal_id": "证件号码"}


def field_type_label(f: Field) -> str:
    """The type of a column in words (数值 with its unit)."""
    label = _TYPE_LABELS.get(f.type, f.type)
    return f"{label}（{f.unit}）" if f.unit else label


def _column_help(catalogue: Catalogue, f: Field) -> str:
    """What to write in a column, in the words of the template's explanation sheet."""
    parts = ["必填。" if f.required else "选填。"]
    if f.type == "date":
        parts.append("日期，格式 YYYY/MM/DD。")
        if f.open_ended:
            parts.append(f"长期有效填 {catalogue.open_ended_date:%Y/%m/%d}。")
        if f.not_future:
            parts.append("不能晚于报送当天。")
    elif f.type == "decimal":
        parts.append(f"数字，单位{f.unit}。" if f.unit else "数字。")
    elif f.type == "uscc":
        parts.append("18 位统一社会信用代码。")
    elif f.type == "reg_no":
        parts.append("15 位工商注册号。")
    elif f.type == "org_code":
        parts.append("9 位组织机构代码。")
    elif f.type == "personal_id":
        parts.append("证件号码；身份证为 18 位公民身份号码。")
    if f.code_table:
        table = catalogue.code_table(f.code_table)
        several = "可填多个，用分号“;”分隔。" if f.type == "codes" else ""
        parts.append(f"取值：{table.allowed}。{several}")
    if f.max_length:
        parts.append(f"不超过 {f.max_length} 个字符。")
    if f.disclosure.value != "public":
        parts.append(f"公开属性：{f.disclosure.label}（不向社会公开）。")
    return "".join(parts)


def _load_code_tables(raw: dict[str, Any]) -> dict[str, CodeTable]:
    tables = {}
    for name, spec in raw.items():
        values = tuple(
            CodeValue(
                value=str(v["value"]),
                label=str(v.get("label", v["value"])),
                aliases=tuple(str(a) for a in v.get("aliases") or ()),
                publish=bool(v.get("publish", True)),
            )
            for v in spec["values"]
        )
        lookup: dict[str, str] = {}
        for v in values:
            for spelling in (v.value, v.label, *v.aliases):
                lookup[normalize_code_value(spelling)] = v.value
        # A numeric code typed into a spreadsheet loses its leading zeros (01 → 1, 001 → 1): the
        # short form means the same, unless the table gives it another meaning.
        for v in values:
            for spelling in (v.value, *v.aliases):
                if spelling.isdigit() and spelling.startswith("0") and len(spelling) > 1:
                    lookup.setdefault(spelling.lstrip("0") or "0", v.value)
        hints = {normalize_code_value(str(k)): str(v) for k, v in (spec.get("not_values") or {}).items()}
        if clash := set(hints) & set(lookup):
            raise ValueError(f"code table {name}: {sorted(clash)} both a value and a not_value")
        tables[name] = CodeTable(name=name, title=spec.get("title", name), values=values, lookup=lookup,
                                 hints=hints)
    return tables


def _flatten(fields: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for entry in fields:
        if isinstance(entry, list):
            out.extend(_flatten(entry))
        else:
            out.append(entry)
    return out


def _load_units(raw: dict[str, Any]) -> dict[str, Decimal]:
    return {str(name): Decimal(str(value)) for name, value in (raw.get("units") or {}).items()}


def _load_items(raw: dict[str, Any], tables: dict[str, CodeTable], units: dict[str, Decimal]) -> dict[str, Item]:
    items = {}
    for key, spec in raw["items"].items():
        fields = []
        codes = {str(k): str(v) for k, v in (spec.get("field_codes") or {}).items()}
        for f in _flatten(spec["fields"]):
            if f["type"] not in FIELD_TYPES:
                raise ValueError(f"catalogue item {key}: field {f['key']} has unknown type {f['type']}")
            if f.get("code_table") and f["code_table"] not in tables:
                raise ValueError(f"catalogue item {key}: unknown code table {f['code_table']}")
            fields.append(
                Field(
                    key=f["key"],
                    label=f["label"],
                    type=f["type"],
                    required=bool(f.get("required", False)),
                    code_table=f.get("code_table"),
                    disclosure=Disclosure(f.get("disclosure", "public")),
                    max_length=f.get("max_length"),
                    not_future=bool(f.get("not_future", False)),
                    open_ended=bool(f.get("open_ended", False)),
                    id_type_field=f.get("id_type_field"),
                    aliases=tuple(f.get("aliases") or ()),
                    unit=f.get("unit"),
                    legacy=bool(f.get("legacy", False)),
                    unit_headers={str(h): str(u) for h, u in (f.get("unit_headers") or {}).items()},
                    standard_code=codes.get(f["key"]),
                    registered_by=tuple(str(c) for c in f.get("registered_by") or ()),
                    amount_of=tuple(str(c) for c in f.get("amount_of") or ()),
                    period_headers=tuple(f.get("period_headers") or ()),
                    period_start=f.get("period_start"),
                    decides_class=bool(f.get("decides_class", False)),
                    doubtful_at=Decimal(str(f["doubtful_at"])) if f.get("doubtful_at") is not None else None,
                )
            )
            for unit in filter(None, (fields[-1].unit, *fields[-1].unit_headers.values())):
                if unit not in units:
                    raise ValueError(f"catalogue item {key}: field {f['key']} has unknown unit {unit}")
        keys = [f.key for f in fields]
        if len(keys) != len(set(keys)):
            raise ValueError(f"catalogue item {key}: duplicate field keys")
        for f in fields:
            if f.period_headers and (f.type != "date" or f.period_start not in keys):
                raise ValueError(f"catalogue item {key}: field {f.key} has period_headers without a date "
                                 "field and a known period_start")
        if unknown := set(codes) - set(keys):
            raise ValueError(f"catalogue item {key}: field_codes for unknown fields {sorted(unknown)}")
        # the fields that describe the party (the catalogue's subject_fields, which every item has)
        party = frozenset(str(f["key"]) for f in raw.get("subject_fields") or ()) & set(keys)
        prefilled = frozenset(str(k) for k in spec.get("template_prefilled") or ())
        if unknown := prefilled - set(keys):
            raise ValueError(f"catalogue item {key}: template_prefilled names unknown fields {sorted(unknown)}")
        layouts = {}
        for name, lay in (spec.get("layouts") or {"current": {}}).items():
            layouts[str(name)] = Layout(
                name=str(name),
                title=(lay or {}).get("title", str(name)),
                markers=tuple((lay or {}).get("markers") or ()),
                headers=dict((lay or {}).get("headers") or {}),
                value_maps={k: {str(a): str(b) for a, b in v.items()}
                            for k, v in ((lay or {}).get("value_maps") or {}).items()},
                ambiguous_values={k: {normalize_code_value(str(a)): str(b) for a, b in v.items()}
                                  for k, v in ((lay or {}).get("ambiguous_values") or {}).items()},
                missing_ok=frozenset((lay or {}).get("missing_ok") or ()),
            )
        items[key] = Item(
            key=key,
            code=spec["code"],
            title=spec["title"],
            category=spec["category"],
            valence=spec["valence"],
            record_kind=spec["record_kind"],
            identity=tuple(spec["identity"]),
            decision_date_field=spec["decision_date_field"],
            fields=tuple(fields),
            layouts=layouts,
            template_prefilled=prefilled,
            party_fields=party,
        )
    return items


def load_catalogue(directory: Path = DATA_DIR) -> Catalogue:
    """Read the catalogue's data files; a malformed file fails loudly at start-up."""
    with open(directory / "code_tables.yaml", encoding="utf-8") as fh:
        tables = _load_code_tables(yaml.safe_load(fh))
    with open(directory / "items.yaml", encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    units = _load_units(raw)
    return Catalogue(
        _load_items(raw, tables, units),
        tables,
        units,
        not_applicable=[str(v) for v in raw.get("not_applicable") or ()],
        null_values=[str(v) for v in raw.get("null_values") or ()],
        open_ended_values=[str(v) for v in raw.get("open_ended_values") or ()],
        open_ended_date=_date(raw["open_ended_date"]),
        example_sheet_words=[str(v) for v in raw.get("example_sheet_words") or ()],
        footer_labels=[str(v) for v in raw.get("footer_labels") or ()],
        total_labels=[str(v) for v in raw.get("total_labels") or ()],
        instruction_prefixes=[str(v) for v in raw.get("instruction_prefixes") or ()],
        example_rows=raw.get("example_rows") or {},
    )


def _date(value: Any) -> dt.date:
    """A date of a data file (YAML reads 2099-12-31 as a date already)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


@lru_cache
def get_catalogue() -> Catalogue:
    return load_catalogue()
