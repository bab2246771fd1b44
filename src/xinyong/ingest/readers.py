"""Readers for submitted files: CSV (UTF-8, UTF-8 with BOM, GBK, GB18030, UTF-16), XLSX, XLS, HTML
tables and XML Spreadsheet 2003 (``markup``), JSON and JSON Lines.

A reader yields the header row once and then ``(line, cells)`` for every data row, where
``line`` is the physical line (or spreadsheet row) with the header on line 1 of a plain file.
Rows stream: nothing holds the whole file in memory — except an old ``.xls`` workbook, which
xlrd reads whole; the format holds at most 65,536 rows, so that stays bounded.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import json
import math
import os
import re
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import IO, Any

from xinyong.catalogue.service import get_catalogue, is_fill_mark, normalize_header
from xinyong.core.config import get_settings
from xinyong.core.errors import FileUnreadable
from xinyong.core.text import without_controls
from xinyong.ingest import markup
from xinyong.ingest.numberformats import NumberFormat, shown_by

csv.field_size_limit(10 * 1024 * 1024)
# openpyxl warns in English on stderr (and in the server's log) about what it drops from a workbook:
# data validation, conditional formatting, an unknown extension. None of it is a cell's value, and
# what is (a date cell holding no date) the reader reads and says itself, in the report.
warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl(\.|$)")

ENCODING_LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (BOM)", "gbk": "GBK", "gb18030": "GB18030",
                   "utf-16": "UTF-16", "utf-16-le": "UTF-16", "utf-16-be": "UTF-16"}
# a row the reader could not split (validation turns it into one error): its first cell is a marker
INVALID_JSON = "\x00invalid_json"  # then the message and the record's text
UNCLOSED_QUOTE = "\x00unclosed_quote"  # then the last line the broken row swallowed, then its cells
NESTED_VALUE = "\x00nested_value"  # then the column, the message and the record's text
JSON_BOOLEAN = "\x00json_boolean"  # then the column, the message and the record's text
# a cell's value: a workbook formula saved without its result (generated workbooks do that)
UNCACHED_FORMULA = "\x00uncached_formula"
# A workbook cell read with something to say about it (the validator says it): the marker, then
# the cell as sent (``cell_as_sent``).
# - text holding half a character: an escape of a lone UTF-16 surrogate (_xD842_), kept as written
HALF_CHARACTER = "\x00half_character\x00"
# - a number in a date cell that no Excel date can be (20240813 typed into a yyyy/m/d cell: Excel
#   shows ########): the number
DATE_CELL_NUMBER = "\x00date_cell_number\x00"
# - a number whose format changes what the cell says in a way the reader does not render
#   (numberformats): the format's code, a NUL, then the number
FORMAT_NOT_SHOWN = "\x00format_not_shown\x00"
_MARKERS = (HALF_CHARACTER, DATE_CELL_NUMBER, FORMAT_NOT_SHOWN)
# more cells like that than this make the workbook unreadable rather than each row rejected
MAX_UNCACHED_FORMULAS = 100_000
# how many leading rows may sit above the header (a title line, an empty line)
MAX_PREAMBLE_ROWS = 5
# how many of the catalogue's columns a header names at least (and the keys of a JSON record)
HEADER_NAMES = 3
# the catalogue field a column name stands for (None: not a known column)
FieldOf = Callable[[str], "str | None"]


WORKBOOK_FORMATS = ("xlsx", "xls", "xml")  # the formats whose records may be on several sheets


class SheetLines:
    """Where each worksheet of a workbook read as one table starts in the batch's line numbers.

    The rows of every sheet read are numbered as if the sheets were pasted one under the
    other, so that a line number is unique in its batch (rejected rows and provenance are
    stored by it). Users are shown a later sheet's rows under the sheet's name and its own row
    number: ``locate`` turns one into the other. With one sheet (or no workbook) a line is
    shown as it is.
    """

    def __init__(self, titles: Sequence[str] = (), offsets: Sequence[int] = ()) -> None:
        self.titles = list(titles)
        self.offsets = list(offsets)  # the rows of the sheets before: known as reading reaches each
        # per sheet read so far: the table's column names that this sheet heads otherwise
        self.renamed: list[dict[str, str]] = []

    @property
    def several(self) -> bool:
        return len(self.titles) > 1

    def start(self, offset: int) -> None:
        """The next sheet is read from here on; ``offset`` is the number of rows before it."""
        self.offsets.append(offset)

    def locate(self, line: int | None) -> tuple[str | None, int | None]:
        """(sheet, row in that sheet) of a batch line; (None, line) with a single sheet."""
        if line is None or not self.several:
            return None, line
        for title, offset in reversed(list(zip(self.titles, self.offsets, strict=False))):
            if line > offset:
                return title, line - offset
        return self.titles[0], line

    def header(self, line: int | None, name: str | None) -> str | None:
        """The name the sheet of ``line`` gives to the table's column ``name`` (a later sheet may
        head the same column 当事人名称 where the first says 行政相对人名称)."""
        if name is None or line is None or not self.several:
            return name
        sheet, _row = self.locate(line)
        index = self.titles.index(sheet) if sheet in self.titles else 0
        return self.renamed[index].get(name, name) if index < len(self.renamed) else name

    def renamed_ranges(self) -> list[tuple[int, int | None, dict[str, str]]]:
        """(first line, last line or None, renamed columns) of each sheet that heads a column
        otherwise than the table."""
        if not self.several:
            return []
        ends: list[int | None] = [*self.offsets[1:], None]
        return [(offset + 1, end, renamed)
                for offset, end, renamed in zip(self.offsets, ends, self.renamed, strict=False) if renamed]

    def where(self, line: int) -> str:
        """A line as users are told it: 第 12 行, or 工作表“自然人”第 12 行."""
        sheet, row = self.locate(line)
        return f"工作表“{sheet}”第 {row} 行" if sheet else f"第 {row} 行"

    def as_list(self) -> list[dict[str, Any]]:
        """The sheets read and the rows before each, as a batch's report keeps them."""
        if not self.several:
            return []
        return [{"name": t, "rows_before": o} for t, o in zip(self.titles, self.offsets, strict=False)]

    @classmethod
    def from_list(cls, sheets: Iterable[Any]) -> SheetLines:
        pairs = [(s["name"], s["rows_before"]) if isinstance(s, dict) else (s.name, s.rows_before)
                 for s in sheets]
        return cls([t for t, _ in pairs], [o for _, o in pairs])


@dataclass
class Table:
    """An opened file: its format, header, and a stream of data rows."""

    format: str
    encoding: str | None
    headers: list[str]
    header_line: int
    rows: Iterator[tuple[int, list[str]]]
    size: int
    position: Callable[[], int]
    notes: list[str] = field(default_factory=list)
    _close: Callable[[], None] | None = None
    damaged_from_line: int | None = None  # see Encoding: rows with undecodable bytes are rejected
    delimiter: str | None = None  # delimited text: the separator of its cells
    # the header row(s) as written, when the header takes several rows (see _header_rows_below)
    header_rows: list[list[str]] = field(default_factory=list)
    # a workbook whose records are on several sheets: where each starts in the line numbers
    sheets: SheetLines = field(default_factory=SheetLines)
    # the day Excel's date serial 0 stands for in this workbook: 1899-12-30, or 1904-01-01 for a
    # workbook in the 1904 date system (Excel for Mac); None for a file that is no workbook
    excel_epoch: dt.date | None = None

    def where(self, line: int) -> str:
        """A line as users are told it: 第 12 行, 工作表“自然人”第 12 行, 第 12 条记录 (JSON)."""
        if self.format == "json":
            return f"第 {line} 条记录"
        return self.sheets.where(line)

    @property
    def written_headers(self) -> list[list[str]]:
        """The header row(s) as written: a data row that repeats one is a pasted-in header."""
        return self.header_rows or [self.headers]

    def close(self) -> None:
        if self._close:
            self._close()


@dataclass(frozen=True)
class Encoding:
    """How a text file is decoded. ``damaged_from_line``: bytes from about that line on are not
    valid in the encoding (a damaged file, or another encoding pasted in); they are decoded as
    U+FFFD and the rows holding them are rejected, the others are read as usual."""

    name: str
    damaged_from_line: int | None = None


def detect_encoding(path: Path, known: str | None = None) -> Encoding:
    """The file's text encoding: a BOM decides, else strict UTF-8, else GBK, else GB18030;
    ``known`` is an encoding the caller has recognised, whose bytes are checked the same way."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if known:
        candidates: tuple[str, ...] = (known,)
    elif head.startswith(codecs.BOM_UTF8):
        candidates = ("utf-8-sig",)  # a BOM decides, but the rest must match it
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ("utf-16",)
    else:
        candidates = ("utf-8", "gbk", "gb18030")
    offset = 0
    for candidate in candidates:
        decoder = codecs.getincrementaldecoder(candidate)(errors="strict")
        consumed = 0
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    decoder.decode(chunk)
                    consumed += len(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            # (the decoder may hold back a few bytes of an unfinished character: near enough)
            offset = consumed + exc.start
            if consumed == 0 and candidate == "utf-8-sig":
                offset += len(codecs.BOM_UTF8)  # the first chunk was decoded without its BOM
            if len(candidates) == 1 or (candidate == "utf-8" and _valid_utf8_text_before(path, offset)):
                # A BOM, or Chinese lines that are good UTF-8, then bytes that are not: two files
                # pasted together, or a damaged one. GBK would read it all without a complaint, as
                # nonsense: keep the encoding and reject the rows that do not fit it.
                return Encoding(candidate, _line_of_offset(path, offset))
            continue
        return Encoding(candidate)
    raise FileUnreadable(f"无法识别文件编码：从第 {_line_of_offset(path, offset)} 行起既不是 UTF-8，也不是 "
                         "GBK/GB18030。请另存为 UTF-8 编码的 CSV。")


def _open_text(path: Path, decoding: Encoding, newline: str | None = None) -> tuple[IO[bytes], IO[str]]:
    """The file as raw bytes (whose position tells the progress) and as text over the same
    descriptor; damaged bytes decode as U+FFFD (their rows are rejected). Both are closed by the
    table's close."""
    raw = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by Table.close
    errors = "replace" if decoding.damaged_from_line else "strict"
    fh = open(raw.fileno(), encoding=decoding.name, errors=errors, newline=newline, closefd=False)  # noqa: SIM115
    return raw, fh


def _damage_notes(decoding: Encoding, *, lines: bool = True) -> list[str]:
    """The note on a file with bytes its encoding does not have; ``lines`` false for markup, whose
    lines of text are not the rows of its table."""
    if not decoding.damaged_from_line:
        return []
    label = ENCODING_LABELS.get(decoding.name, decoding.name)
    where = f"约从第 {decoding.damaged_from_line} 行起" if lines else "其中"
    return [f"文件是 {label} 编码，但{where}有不能按 {label} 解读的字节"
            "（可能是把不同编码的文件拼在了一起，或文件已损坏）：含有这些字节的行未保存，其余行照常处理。"]


def _valid_utf8_text_before(path: Path, offset: int) -> bool:
    """Whether the file holds at least one whole line with non-ASCII text (Chinese) before
    ``offset``, all of it valid UTF-8: a GBK file fails UTF-8 on its first Chinese character."""
    with open(path, "rb") as fh:
        head = fh.read(min(offset, 1 << 16))
    cut = head.rfind(b"\n")
    return cut > 0 and not head[:cut].isascii()


def _line_of_offset(path: Path, offset: int) -> int:
    """The physical line (1-based) that holds the byte at ``offset``."""
    line, seen = 1, 0
    with open(path, "rb") as fh:
        while seen < offset and (chunk := fh.read(min(1 << 20, offset - seen))):
            line += chunk.count(b"\n")
            seen += len(chunk)
    return line


def _is_blank(cells: list[str]) -> bool:
    return all(not c or not c.strip() for c in cells)


def _looks_like_header(cells: list[str], field_of: FieldOf) -> bool:
    return sum(1 for c in cells if c and field_of(c)) >= HEADER_NAMES


@dataclass
class _Header:
    """The header found at the top of a sheet or file, and the data rows after it."""

    line: int  # the (first) header row
    cells: list[str]  # one name per column
    rows: Iterator[tuple[int, list[str]]]
    written: list[list[str]]  # the header row(s) as written: a row repeating one later is skipped
    note: str | None = None

    def __post_init__(self) -> None:
        # a name padded with NUL (a database's fixed-width export) is the name: it is quoted in
        # messages and stored, and no text column takes a NUL
        self.cells = [without_controls(name) for name in self.cells]


def _find_header(
    rows: Iterator[tuple[int, list[str]]], field_of: FieldOf,
    found: Callable[[list[str]], None] | None = None,
) -> _Header:
    """The first row that names at least three columns, within the first rows (a title or a
    blank row may sit above it), with the rows under it that belong to it (see
    ``_header_rows_below``). ``found`` is told the header row before the rows under it are read."""
    first: tuple[int, list[str]] | None = None
    for _ in range(MAX_PREAMBLE_ROWS + 1):
        try:
            line, cells = next(rows)
        except StopIteration:
            break
        if _is_blank(cells):
            continue
        if first is None:
            first = (line, cells)
        if _looks_like_header(cells, field_of):
            if found:
                found(cells)
            return _header_rows_below(line, cells, rows, field_of)
    if first is None:
        raise FileUnreadable("文件为空：没有表头，也没有数据行。")
    raise FileUnreadable(
        f"第 {first[0]} 行不是可识别的表头：找不到双公示格式的列名（如“行政相对人名称”）。"
    )


# how many rows under the first header row may belong to the header (group names, field codes)
MAX_EXTRA_HEADER_ROWS = 2
# a name's bracketed last part: 法定代表人（负责人） heads the same group as 法定代表人
_BRACKETED_TAIL = re.compile(r"[（(][^（）()]*[）)]$")


def _header_rows_below(
    line: int, cells: list[str], rows: Iterator[tuple[int, list[str]]], field_of: FieldOf
) -> _Header:
    """Templates spread a header over two or three rows: group names over their columns
    (行政相对人代码 over 统一社会信用代码 | 工商注册号 …, 法定代表人 over 姓名 | 证件类型 | 证件号码), or
    the standard's field codes (CF_XDR_MC …) under the names. A row under the header whose
    cells mostly name columns that way is read as part of the header; any other row is data."""
    headers, written, last = cells, [cells], line
    kinds: set[str] = set()
    for _ in range(MAX_EXTRA_HEADER_ROWS):
        try:
            below_line, below = next(rows)
        except StopIteration:
            return _Header(line, headers, iter(()), written, _two_row_note(line, last, kinds))
        combined = _combine_header_rows(headers, below, field_of)
        if combined is None:
            rows = itertools.chain([(below_line, below)], rows)
            break
        headers, kind = combined
        written.append(below)
        kinds.add(kind)
        last = below_line
    return _Header(line, headers, rows, written, _two_row_note(line, last, kinds))


def _two_row_note(first: int, last: int, kinds: set[str]) -> str | None:
    if last == first:
        return None
    what = {"codes": "字段代码或填写说明", "names": "列名"}
    said = "和".join(what[k] for k in ("names", "codes") if k in kinds)
    return (f"表头占第 {first}–{last} 行：下面一行的{said}与上面一行合起来识别列"
            f"（如“法定代表人”下的“证件类型”即“法定代表人证件类型”），这些行不是数据。")


def _combine_header_rows(
    top: list[str], below: list[str], field_of: FieldOf
) -> tuple[list[str], str] | None:
    """The column names of a header whose row ``below`` carries the names under ``top``'s
    groups, or the field codes of ``top``'s names; None when ``below`` is not such a row.

    A group name is written once over several columns (the cells right of it are empty, as a
    merged cell reads). Under a group, a name is read with the group in front (法定代表人 +
    证件类型), else alone (行政相对人代码 over 统一社会信用代码) unless the group is itself a column
    (处罚机关 over a name that does not combine keeps 处罚机关)."""
    width = max(len(top), len(below))
    top = [c.strip() for c in top] + [""] * (width - len(top))
    below = [c.strip() for c in below] + [""] * (width - len(below))
    headers: list[str] = []
    group = ""
    written = named = codes = 0
    for above, under in zip(top, below, strict=True):
        group = above or (group if under else "")
        if not under or under == group:  # a column of one row (merged down in a workbook)
            headers.append(above)
            continue
        written += 1
        parent_field = field_of(group) if group else None
        if parent_field and (field_of(under) == parent_field or (above and is_fill_mark(under))):
            codes += 1  # the field code (or another name) of the column above, or 必填 / 选填
            headers.append(group)
            continue
        base = _BRACKETED_TAIL.sub("", group)
        candidates = [group + under, base + under] if group else []
        if not parent_field:
            candidates.append(under)
        name = next((c for c in candidates if field_of(c)), None)
        if name:
            named += 1
            headers.append(name)
        elif parent_field and above:
            headers.append(group)  # a column whose second row only annotates it (an unknown code)
        else:
            headers.append(f"{group}（{under}）" if group else under)  # not a column: reported unknown
    if named + codes < 2 or 2 * (named + codes) <= written:
        return None
    return headers, ("names" if named >= codes else "codes")


_DELIMITERS = (",", "\t", "|", ";")


def _sniff_delimiter(sample: str, field_of: FieldOf) -> str:
    """The separator the header uses: the candidate that splits one of the first rows (a title
    may sit above the header) into the most known column names, so that a quoted text full of
    commas or semicolons in a record (or a tab-separated file's commas) does not decide it. When
    none splits a row into a header (no header: the file is refused anyway), the candidate that
    occurs most often on one of the first lines."""
    def known_columns(delimiter: str) -> int:
        rows = csv.reader(io.StringIO(sample), delimiter=delimiter)
        try:
            return max((sum(1 for c in cells if c and field_of(c))
                        for cells in itertools.islice(rows, MAX_PREAMBLE_ROWS + 1)), default=0)
        except csv.Error:
            return 0

    known = {d: known_columns(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: known[d])
    if known[best] >= HEADER_NAMES:
        return best
    lines = sample.splitlines()[: MAX_PREAMBLE_ROWS + 1]
    counts = {d: max((line.count(d) for line in lines), default=0) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _swallowed_lines(cells: list[str], delimiter: str, width: int) -> bool:
    """Whether a row spanning several lines holds a cell with a line break followed by a whole
    row's worth of separators: the mark of a quote that was opened and never closed."""
    if width < 3:
        return False
    return any("\n" in c and c.count(delimiter) >= width - 1 for c in cells)


def open_csv(path: Path, field_of: FieldOf) -> Table:
    decoding = detect_encoding(path)
    encoding = decoding.name
    raw, fh = _open_text(path, decoding, newline="")
    sample = fh.read(65536)
    fh.seek(0)
    delimiter = _sniff_delimiter(sample.lstrip("\ufeff"), field_of)
    # files joined as bytes (copy /b a.csv+b.csv) carry each one's BOM at the start of a line: nothing
    reader = csv.reader((text.lstrip("\ufeff") for text in fh), delimiter=delimiter)

    header_width = {"cells": 0}

    def rows() -> Iterator[tuple[int, list[str]]]:
        previous_end = 0
        for cells in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if previous_end > start and _swallowed_lines(cells, delimiter, header_width["cells"]):
                # a cell opened with " and never closed: the lines after it were read into it
                yield start, [UNCLOSED_QUOTE, str(previous_end), *cells]
                continue
            yield start, cells

    def found(cells: list[str]) -> None:
        header_width["cells"] = len(cells)

    try:
        header = _find_header(rows(), field_of, found)
    except csv.Error as exc:
        raise FileUnreadable(f"CSV 格式错误：{exc}") from exc

    def checked() -> Iterator[tuple[int, list[str]]]:
        try:
            yield from header.rows
        except csv.Error as exc:
            raise FileUnreadable(f"CSV 格式错误（约第 {reader.line_num} 行）：{exc}") from exc

    def close() -> None:
        fh.close()
        raw.close()

    return Table(
        format="csv",
        encoding=encoding,
        damaged_from_line=decoding.damaged_from_line,
        notes=_damage_notes(decoding) + ([header.note] if header.note else []),
        headers=header.cells,
        header_line=header.line,
        header_rows=header.written,
        rows=checked(),
        delimiter=delimiter,
        size=os.path.getsize(path),
        position=lambda: os.lseek(raw.fileno(), 0, os.SEEK_CUR),
        _close=close,
    )


# OOXML writes a control character in a string as _xHHHH_ (Excel's line break in a cell: _x000D_
# before the \n) and a literal "_x" that would read as one with its underscore as _x005F_
_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


# a lone UTF-16 surrogate: half a character (a JSON \ud842 or an OOXML _xD842_ without its pair)
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


def _ooxml_text(value: str) -> str:
    """A workbook string as its cell shows it: escapes decoded, line breaks as \n. A character
    outside the BMP escaped as its two UTF-16 halves (_xD842__xDFB7_, 𠮷) is that character; half of
    one alone is no text: the cell is marked (HALF_CHARACTER), the escape left as written."""
    if "_x" in value:
        value = _OOXML_ESCAPE.sub(lambda m: chr(int(m[1], 16)), value)
        if _SURROGATE.search(value):
            value = _SURROGATE_PAIR.sub(
                lambda m: chr(0x10000 + ((ord(m[0][0]) - 0xD800) << 10) + ord(m[0][1]) - 0xDC00), value)
            if _SURROGATE.search(value):
                return HALF_CHARACTER + _SURROGATE.sub(lambda m: f"_x{ord(m[0]):04X}_", value)
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def cell_as_sent(cell: str) -> str:
    """A cell as the sender wrote it, without the reader's marker (for the rejected rows handed back
    and for a header): a formula saved without its result is empty."""
    if not cell or cell[0] != "\x00":
        return cell
    if cell == UNCACHED_FORMULA:
        return ""
    for marker in _MARKERS:
        if cell.startswith(marker):
            rest = cell[len(marker):]
            return rest.rpartition("\x00")[2] if marker == FORMAT_NOT_SHOWN else rest
    return cell


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return _ooxml_text(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.strftime("%Y/%m/%d")
        return value.strftime("%Y/%m/%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y/%m/%d")
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if abs(value) >= 1e15:
            # past Excel's 15 significant digits: shown as Excel shows it (1.30102200203109E+17),
            # so that a code typed into a number cell is reported as such, not as a wrong check digit
            return f"{value:.15G}"
        if value.is_integer():
            return str(int(value))
        # Excel keeps 15 significant digits: a formula's result (=B2/10000) carries binary noise
        # past them (0.45678900000000006) that Excel never shows, and that is not the amount
        return format(Decimal(f"{value:.15G}").normalize(), "f")
    return str(value)


def _other_zip(path: Path, names: list[str]) -> str:
    """What to tell the sender of a zip file that is no Excel workbook."""
    kind = ""
    if "mimetype" in names:
        try:
            with zipfile.ZipFile(path) as zf, zf.open("mimetype") as fh:
                # the first bytes only: a member may inflate to gigabytes (ZipExtFile stops there)
                kind = fh.read(100).decode("ascii", "replace").strip()
        except (zipfile.BadZipFile, KeyError, OSError, ValueError):
            kind = ""
    if kind == "application/vnd.oasis.opendocument.spreadsheet":
        return ("文件是 OpenDocument 表格（.ods，LibreOffice 或 WPS 的格式），不是 Excel 工作簿："
                "请在 LibreOffice 或 WPS 中“另存为” Excel 工作簿（.xlsx）或 CSV（UTF-8）后重新报送。")
    if kind.startswith("application/vnd.oasis.opendocument") or "word/document.xml" in names:
        return "文件是文字处理文档，不是表格：请把数据放在 Excel 工作簿（.xlsx）或 CSV 文件中报送。"
    return "文件是压缩包（ZIP），不是 Excel 工作簿：请解压后分别报送其中的 Excel（.xlsx）或 CSV 文件。"


# Zip bombs. An .xlsx is a zip: a 1 MB file may hold a part that inflates to 1 GB (deflate reaches
# 1,032 to 1), and the upload limit sees only the compressed size. As Apache POI's ZipSecureFile does,
# a workbook is refused before anything is inflated when a part, or all of them together, would
# inflate more than ``xlsx_max_inflate_ratio`` times (over _RATIO_GRACE: a small part is harmless
# whatever its ratio), or when a part is larger than its cap. The sizes are those the zip's central
# directory declares, and they bound what is inflated: CPython's ``zipfile.ZipExtFile`` starts with
# ``_left = zipinfo.file_size`` and ``_read1`` cuts what it inflates to ``data[:self._left]`` and
# stops at 0 (checked in CPython 3.11.7's Lib/zipfile.py; each step inflates at most the bytes asked
# for, ``decompress(data, n)``), so a part that lies about its size yields no more than it declared
# (and then fails its CRC check: reported as a damaged workbook). Measured on workbooks written
# with openpyxl and on Excel-style parts (shared strings) at deflate levels 6 and 9, 100,000 demo
# rows (xinyong.demo.generator):
#   worksheet of inline strings (openpyxl)      184 MB, ratio  8.1
#   the same row 100,000 times                  173 MB, ratio 17.2
#   40 empty cells with a style per row         115 MB, ratio 14.4 (11.3 as Excel writes them)
#   worksheet of shared-string indexes           84 MB, ratio 10.2–10.8
#   shared strings                               23 MB, ratio  5.9–6.3
#   empty rows with a row style (Excel)          7.5 MB, ratio 27.8–28.3
#   100 MB of one letter in a cell (the bomb)   100 MB, ratio 1,029
_RATIO_GRACE = 4 << 20
# Excel and WPS hold at most 32,767 characters in a cell, 10 bytes at most each in the XML (&#x10FFFF;):
# a run of bytes without markup longer than this is no text of a cell, and no real part has one. The
# reader inflates 1 MB chunks, no longer than the run: a longer run always crosses a chunk's edge.
_MAX_TEXT_RUN = 1 << 20
_CHUNK = 1 << 20
_WORKSHEET_PART = re.compile(r"xl/worksheets/[^/]+\.xml", re.IGNORECASE)
_DIMENSION_TAG = re.compile(rb"<(?:\w+:)?dimension\b")
_SHEET_DATA_TAG = re.compile(rb"<(?:\w+:)?sheetData\b")


def _mb(size: int) -> str:
    return f"{size / (1 << 20):,.0f} MB" if size >= 10 << 20 else f"{size / (1 << 20):.1f} MB"


_REFUSED = "已拒绝读取，未保存任何数据。"
_RESAVE = "请在 Excel 或 WPS 中打开，另存为正常的 .xlsx 或 CSV（UTF-8）后重新报送。"


def _check_inflation(zf: zipfile.ZipFile) -> None:
    """Refuse a workbook whose parts would inflate beyond sane bounds (see above)."""
    settings = get_settings()
    ratio = settings.xlsx_max_inflate_ratio
    infos = zf.infolist()
    for info in infos:
        sheet = _WORKSHEET_PART.fullmatch(info.filename) is not None
        cap = (settings.xlsx_max_sheet_mb if sheet else settings.xlsx_max_part_mb) << 20
        if info.file_size > cap:
            advice = "请把记录分成几个文件" if sheet else "请在 Excel 或 WPS 中打开，另存为新的 .xlsx 或 CSV（UTF-8）"
            raise FileUnreadable(
                f"Excel 工作簿中的{_part_label(zf, info.filename)}解压后有 {_mb(info.file_size)}，"
                f"超过平台的上限 {_mb(cap)}，{_REFUSED}{advice}后重新报送。")
        if info.file_size > _RATIO_GRACE and info.file_size > ratio * info.compress_size:
            raise FileUnreadable(
                f"Excel 工作簿中的{_part_label(zf, info.filename)}压缩比异常：压缩后 {_mb(info.compress_size)}，"
                f"解压后却有 {_mb(info.file_size)}（{info.file_size / max(info.compress_size, 1):,.0f} 倍，"
                f"正常的工作簿不超过 {ratio} 倍），疑似压缩炸弹，{_REFUSED}{_RESAVE}")
    inflated, compressed = sum(i.file_size for i in infos), sum(i.compress_size for i in infos)
    if inflated > _RATIO_GRACE and inflated > ratio * compressed:  # many small parts
        raise FileUnreadable(
            f"Excel 工作簿压缩比异常：{len(infos):,} 个部件压缩后共 {_mb(compressed)}，解压后却有 {_mb(inflated)}"
            f"（{inflated / max(compressed, 1):,.0f} 倍，正常的工作簿不超过 {ratio} 倍），疑似压缩炸弹，"
            f"{_REFUSED}{_RESAVE}")


def _check_text_runs(zf: zipfile.ZipFile) -> None:
    """Refuse a workbook whose XML, as far as openpyxl reads it on opening the workbook, holds a text
    longer than any cell's (one text is held whole in memory as it is parsed): every part but the
    worksheets, and each worksheet up to its rows when it declares its size before them (openpyxl
    then stops there; without a ``<dimension>`` it reads the whole sheet). The rows are checked by
    ``_scan_sheet_xml``, which reads a sheet before openpyxl does."""
    for info in zf.infolist():
        name = info.filename
        if not name.endswith((".xml", ".rels")) or name.startswith("customXml/"):
            continue  # parts openpyxl does not read (images, printer settings, custom XML)
        sheet = _WORKSHEET_PART.fullmatch(name) is not None
        run, tail, dimension = 0, b"", False
        try:
            with zf.open(info) as fh:
                while chunk := fh.read(_CHUNK):
                    run = _text_run(chunk, run, zf, name)
                    if sheet:
                        window = tail + chunk
                        data = _SHEET_DATA_TAG.search(window)
                        found = _DIMENSION_TAG.search(window, 0, data.start() if data else len(window))
                        dimension = dimension or found is not None
                        if data is not None:
                            if dimension:
                                break  # openpyxl's reading stops at the dimension (before the rows)
                            sheet = False  # no dimension: openpyxl reads the whole sheet on opening it
                        tail = window[-64:]
        except (zipfile.BadZipFile, zlib.error, EOFError):
            # damage is reported where the part is read, naming its sheet; at most one chunk past
            # what was checked here can be read before the damage stops any reader
            continue


def _text_run(chunk: bytes, run: int, zf: zipfile.ZipFile, part: str) -> int:
    """The run of bytes without markup (``<``) the chunk ends with, given the run before it; a run
    longer than _MAX_TEXT_RUN makes the workbook unreadable. A chunk is at most _CHUNK long, so
    only a run that crosses its edges can be too long."""
    first = chunk.find(b"<")
    if first < 0:
        run += len(chunk)
    elif run + first <= _MAX_TEXT_RUN:
        run = len(chunk) - 1 - chunk.rfind(b"<")
    else:
        run += first
    if run > _MAX_TEXT_RUN:
        raise FileUnreadable(
            f"Excel 工作簿中的{_part_label(zf, part)}含有超过 {_MAX_TEXT_RUN:,} 字节的一整段文字"
            "（Excel 和 WPS 的单元格最多 32,767 个字符），不是 Excel 或 WPS 保存的工作簿，疑似恶意构造的文件，"
            f"{_REFUSED}{_RESAVE}")
    return run


def _part_label(zf: zipfile.ZipFile, part: str) -> str:
    """A part of a workbook as the message names it: 工作表“处罚”（xl/worksheets/sheet1.xml）."""
    if _WORKSHEET_PART.fullmatch(part):
        title = _sheet_titles(zf).get(part.lower())
        return f"工作表“{title}”（{part}）" if title else f"工作表（{part}）"
    if part.lower().endswith("sharedstrings.xml"):
        return f"共享字符串表（{part}，存放单元格中的文字）"
    if part.lower().endswith("styles.xml"):
        return f"样式表（{part}）"
    return f"部件 {part}"


def _sheet_titles(zf: zipfile.ZipFile) -> dict[str, str]:
    """{worksheet part (lower case): its title}, from the workbook's XML when it is small and sound."""
    import posixpath
    import xml.etree.ElementTree as ET

    try:
        book, rels = zf.getinfo("xl/workbook.xml"), zf.getinfo("xl/_rels/workbook.xml.rels")
        if max(book.file_size, rels.file_size) > _RATIO_GRACE:
            return {}
        target = {r.get("Id"): r.get("Target", "") for r in ET.fromstring(zf.read(rels))}
        titles = {}
        for sheet in ET.fromstring(zf.read(book)).iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet"):
            ref = target.get(sheet.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"), "")
            part = ref.lstrip("/") if ref.startswith("/") else posixpath.normpath(posixpath.join("xl", ref))
            titles[part.lower()] = sheet.get("name", "")
        return titles
    except Exception:  # only a better name for the part is lost
        return {}


def open_xlsx(path: Path, field_of: FieldOf) -> Table:
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as fh:
            start = fh.read(4)
        if not start:
            raise FileUnreadable("文件是空的（0 字节）：可能导出或上传没有完成，请重新导出后再提交。")
        if start.startswith(b"PK\x03\x04"):  # a workbook's beginning without its end
            raise FileUnreadable("Excel 工作簿不完整（文件在中途被截断，可能上传或复制没有完成）："
                                 "请重新导出，确认能在 Excel 或 WPS 中打开后再提交。")
        raise FileUnreadable(
            "文件扩展名为 .xlsx，但内容不是 Excel 工作簿（可能是改了扩展名的其他文件）。"
        )
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            if "xl/workbook.xml" in names:
                _check_inflation(zf)  # from the sizes the zip declares: nothing inflated yet
                _check_text_runs(zf)  # what openpyxl reads on opening the workbook
                strict = _is_strict(zf)
    except FileUnreadable:
        raise
    except (zipfile.BadZipFile, NotImplementedError, OSError, ValueError, EOFError, zlib.error) as exc:
        raise FileUnreadable(_damaged_workbook(exc)) from exc
    if "xl/workbook.xml" not in names:
        raise FileUnreadable(_other_zip(path, names))
    if strict:
        raise FileUnreadable(
            "文件是“Strict Open XML 电子表格”格式的 Excel 工作簿（Excel“另存为”中的一种保存类型），"
            "平台读不了这种格式，未保存任何数据：请在 Excel 中打开，“另存为”时保存类型选“Excel 工作簿(*.xlsx)”"
            "或“CSV UTF-8(逗号分隔)(*.csv)”后重新报送。")
    import openpyxl

    # opened as a file, not by name: openpyxl refuses a name not ending in .xlsx/.xlsm/.xltx/.xltm,
    # and a workbook may come under any name (an upload saved without one, 处罚信息.dat…)
    fh = open(path, "rb")  # noqa: SIM115 - closed with the workbook
    try:
        wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
    except Exception as exc:  # a damaged workbook fails in zipfile, zlib, the XML parser…
        fh.close()
        raise FileUnreadable(_damaged_workbook(exc)) from exc

    def close() -> None:
        wb.close()
        fh.close()

    return _built_or_closed(lambda: _xlsx_table(wb, field_of, close), close)


# The built-in number formats whose code depends on the locale, read as dates. ECMA-376 Part 1
# §18.8.30 (numFmt) lists ids 27–36 and 50–58 for zh-TW, zh-CN, ja-JP and ko-KR; a workbook cites
# them by id alone, without a <numFmt> definition (Chinese Excel and WPS write 2024年8月13日 as
# numFmtId 31), and openpyxl's BUILTIN_FORMATS holds none of them, so their cells came through
# as serial numbers. Excel shows an id in the locale of the machine that opens the workbook; our
# senders' is zh-CN, where these ids are dates (27, 36, 50, 52, 57 yyyy"年"m"月"; 28, 29, 51, 53,
# 54, 58 m"月"d"日"; 30 m-d-yy; 31 yyyy"年"m"月"d"日") and 32–35, 55, 56 are times
# (h"时"mm"分", h"时"mm"分"ss"秒", 上午/下午h"时"mm"分", 上午/下午h"时"mm"分"ss"秒"). A cell shown as
# a time is left a number: in a date column it is then read as a serial, with a warning to check.
EAST_ASIAN_DATE_FORMAT_IDS = frozenset({27, 28, 29, 30, 31, 36, 50, 51, 52, 53, 54, 57, 58})


def _read_east_asian_dates(wb: Any) -> None:
    """Have openpyxl read the cells of the workbook's styles that use an East Asian built-in
    date format as dates, as it reads those of its own built-in date formats (14–22): it reads a
    number cell as a date when the cell's style is in the workbook's ``_date_formats`` (the read-
    only sheets look the set up when their rows are read). A style whose id the workbook defines
    itself keeps openpyxl's reading: openpyxl renumbers such a format from 164 up, or to the
    built-in id of the same code."""
    styles = getattr(wb, "_cell_styles", None) or []
    found = {index for index, style in enumerate(styles) if style.numFmtId in EAST_ASIAN_DATE_FORMAT_IDS}
    if found:
        wb._date_formats = set(wb._date_formats) | found


# The namespace of a workbook saved as "Strict Open XML" (ISO/IEC 29500 Strict, an option of Excel's
# Save As): openpyxl reads only the transitional one (schemas.openxmlformats.org), and took such a
# workbook for a damaged one
_STRICT_NAMESPACE = b"http://purl.oclc.org/ooxml/spreadsheetml/main"


def _is_strict(zf: zipfile.ZipFile) -> bool:
    """Whether the workbook is in Strict Open XML: its workbook part declares the Strict namespace
    (on its root element, in its first bytes)."""
    with zf.open("xl/workbook.xml") as fh:
        return _STRICT_NAMESPACE in fh.read(4096)


def _built_or_closed(build: Callable[[], Table], close: Callable[[], None]) -> Table:
    """The table of an opened workbook; if building it fails, the workbook is closed and a
    damaged one is reported as such."""
    try:
        return build()
    except FileUnreadable:
        close()
        raise
    except Exception as exc:  # a damaged workbook fails in zipfile, zlib, the XML parser, xlrd…
        close()
        raise FileUnreadable(_damaged_workbook(exc)) from exc


def _damaged_workbook(exc: BaseException, row: int | None = None) -> str:
    where = f"读到第 {row} 行时" if row else ""
    return (f"Excel 工作簿已损坏，{where}无法读取（{exc.__class__.__name__}）。"
            "请在 Excel 或 WPS 中打开，另存为新的 .xlsx 或 CSV（UTF-8）后再提交。")


def _xlsx_table(wb: Any, field_of: FieldOf, close: Callable[[], None]) -> Table:
    _read_east_asian_dates(wb)
    numbers = _xlsx_number_readers(wb)
    sheets = []
    for ws in wb.worksheets:
        size = ws.max_row or 1  # the dimension the file declares: only an estimate, for the progress bar
        sheets.append(_Sheet(ws.title, ws.sheet_state == "visible", size,
                             lambda ws=ws: _xlsx_rows(ws, numbers),
                             lambda ws=ws: _scan_sheet_xml(wb._archive, ws._worksheet_path, ws.title)))
    table = _sheet_table("xlsx", sheets, field_of, close=close)
    table.excel_epoch = wb.epoch.date()
    return table


def _xlsx_rows(ws: Any, numbers: dict[int, Callable[[Any], Any]]) -> Iterator[list[Any]]:
    """The cell values of a read-only sheet, row by row, as ``iter_rows(values_only=True)`` gives
    them but for the number cells of the styles in ``numbers`` (see ``_xlsx_number_readers``):
    values only would lose their number format. Every row the sheet holds is read, whatever
    dimension it declares (some generators declare A1:A1, or less than they wrote)."""
    from openpyxl.worksheet._reader import WorkSheetParser

    with ws._get_source() as source:
        # no date formats: the date cells are among ``numbers``
        parser = WorkSheetParser(source, ws._shared_strings, data_only=True, epoch=ws.parent.epoch)
        expected = 1
        for index, cells in parser.parse():
            if index < expected:
                continue  # a row written out of order: openpyxl passes it over too
            while expected < index:  # rows the sheet leaves out are empty
                expected += 1
                yield []
            expected += 1
            values: list[Any] = [None] * cells[-1]["column"] if cells else []
            for cell in cells:
                value = cell["value"]
                if numbers and value is not None and cell["data_type"] == "n" and cell["style_id"] in numbers:
                    value = numbers[cell["style_id"]](value)
                values[cell["column"] - 1] = value
            yield values


def _xlsx_number_readers(wb: Any) -> dict[int, Callable[[Any], Any]]:
    """{cell style: how a number cell of that style is read} for the styles whose number cells are
    not read as their plain value: dates (as openpyxl reads them), and number formats that change
    what a cell says (``numberformats``)."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE

    readers: dict[int, Callable[[Any], Any]] = {}
    for index, style in enumerate(getattr(wb, "_cell_styles", None) or []):
        if index in wb._date_formats:
            readers[index] = partial(_excel_date, epoch=wb.epoch, timedelta=index in wb._timedelta_formats)
            continue
        number_format = style.numFmtId
        code = (BUILTIN_FORMATS.get(number_format) if number_format < BUILTIN_FORMATS_MAX_SIZE
                else wb._number_formats[number_format - BUILTIN_FORMATS_MAX_SIZE])
        shown = shown_by(code)
        if shown is not None:
            readers[index] = partial(_shown_number, shown)
    return readers


def _excel_date(value: float, *, epoch: dt.datetime, timedelta: bool) -> Any:
    """A number in a date cell, as openpyxl reads it; one no Excel date can be (20240813 typed into
    the cell, or a negative number: Excel shows ########) is marked, as the XLS reader marks it,
    where openpyxl made it the error #VALUE! with an English warning."""
    from openpyxl.utils.datetime import from_excel

    if value < 0:
        return DATE_CELL_NUMBER + _cell_text(value)
    try:
        return from_excel(value, epoch, timedelta=timedelta)
    except (OverflowError, ValueError):
        return DATE_CELL_NUMBER + _cell_text(value)


def _shown_number(shown: NumberFormat, value: float) -> Any:
    """A number cell as its format shows it; marked when the format is not rendered. A number past
    Excel's 15 significant digits stays a number: whatever the format shows (an 18-digit id under
    000000000000000000 ends in 000), its last digits are lost, and the validator says so."""
    if abs(value) >= 1e15:
        return value
    text = shown.show(value)
    return text if text is not None else f"{FORMAT_NOT_SHOWN}{shown.code}\x00{_cell_text(value)}"


_MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
# A formula cell with no result: no <v>, or an empty one that is no text result (t="str" with
# <v></v> is a formula whose result is the empty text, as =IF(A2="","",…) gives)
_FORMULA_CELL = re.compile(
    rb'<(?:\w+:)?c\b([^>]*?)>\s*<(?:\w+:)?f\b[^>]*?(?:/>|>[^<]*</(?:\w+:)?f>)\s*'
    rb'(<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>')
_CELL_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_ROW_TAG = re.compile(rb'<(?:\w+:)?row\b([^>]*)>')
_ROW_REF = re.compile(rb'\br="(\d+)"')
_HIDDEN = re.compile(rb'\bhidden="(?:1|true)"')
_COLUMN_TAG = re.compile(rb'<(?:\w+:)?col\b([^>]*)>')
_COLUMN_SPAN = re.compile(rb'\bmin="(\d+)"[^>]*?\bmax="(\d+)"|\bmax="(\d+)"[^>]*?\bmin="(\d+)"')
_MAX_COLUMNS = 16_384  # XFD, the last column of a sheet
_TEXT_RESULT = re.compile(rb'\bt="(?:str|inlineStr|s)"')


@dataclass
class _SheetScan:
    """What a sheet's XML says beside its cell values."""

    # {first row: [(column, last row)]} of the cells merged down several rows (1-based)
    merges: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    # {row: {column}} of the formula cells saved without their result (1-based)
    uncached: dict[int, set[int]] = field(default_factory=dict)
    # the rows hidden in the sheet (1-based): rows a filter or 隐藏 keeps out of sight
    hidden: set[int] = field(default_factory=set)
    # the columns hidden in the sheet (1-based)
    hidden_columns: set[int] = field(default_factory=set)


def _scan_sheet_xml(archive: zipfile.ZipFile, part: str, title: str) -> _SheetScan:
    """The merged ranges that span several rows, the formulas saved without a result and the
    hidden rows and columns. The sheet's XML is scanned as bytes, a chunk at a time: the list of
    merged cells comes after the rows and read-only mode does not read it; with ``data_only`` a
    formula with no saved result reads as an empty cell, which would lose its value without a
    word; read-only mode does not say which rows and columns are hidden. The scan runs before
    openpyxl reads the rows (``_Sheet.rows``), so it also refuses a text longer than any cell's
    before openpyxl holds it."""
    from openpyxl.utils import column_index_from_string

    scan = _SheetScan()
    found = scan.merges
    count = 0
    tail = b""
    run = 0
    with archive.open(part) as fh:
        while chunk := fh.read(_CHUNK):
            run = _text_run(chunk, run, archive, part)
            data = tail + chunk
            for m in _MERGE_REF.finditer(data):
                first, last = int(m[2]), int(m[4])
                if last > first:
                    found.setdefault(first, []).append((column_index_from_string(m[1].decode()), last))
            if b"<f" in data or b":f" in data:  # most sheets have no formula: one search decides
                for m in _FORMULA_CELL.finditer(data):
                    ref = _CELL_REF.search(m[1])
                    if ref is None or (m[2] is not None and _TEXT_RESULT.search(m[1])):
                        continue
                    row, column = int(ref[2]), column_index_from_string(ref[1].decode())
                    if column not in scan.uncached.setdefault(row, set()):
                        scan.uncached[row].add(column)
                        count += 1
                    if count > MAX_UNCACHED_FORMULAS:
                        raise FileUnreadable(
                            f"工作表“{title}”中有超过 {MAX_UNCACHED_FORMULAS:,} 个公式没有保存计算结果"
                            "（由程序生成的工作簿常见）：请在 Excel 或 WPS 中打开并保存后再提交，"
                            "或另存为 CSV（UTF-8）。")
            if _HIDDEN.search(data):  # most sheets hide no row and no column
                for m in _ROW_TAG.finditer(data):
                    ref = _ROW_REF.search(m[1])
                    if ref is not None and _HIDDEN.search(m[1]):
                        scan.hidden.add(int(ref[1]))
                for m in _COLUMN_TAG.finditer(data):  # <col min="30" max="30" hidden="1"/>, before the rows
                    span = _COLUMN_SPAN.search(m[1])
                    if span is not None and _HIDDEN.search(m[1]):
                        first, last = (int(span[1]), int(span[2])) if span[1] else (int(span[4]), int(span[3]))
                        scan.hidden_columns.update(range(first, min(last, _MAX_COLUMNS) + 1))
            tail = data[-4096:]
    # a match may be seen twice across a chunk boundary: keep each range once
    scan.merges = {row: sorted(set(spans)) for row, spans in found.items()}
    return scan


def _mark_uncached(rows: Iterable[Sequence[Any]], uncached: dict[int, set[int]]) -> Iterator[Sequence[Any]]:
    """The rows with each formula cell saved without its result marked as such."""
    for index, values in enumerate(rows, start=1):
        columns = uncached.get(index)
        if columns:
            marked = list(values)
            marked.extend([None] * (max(columns) - len(marked)))
            for column in columns:
                if marked[column - 1] in (None, ""):
                    marked[column - 1] = UNCACHED_FORMULA
            values = marked
        yield values


def _fill_merges(rows: Iterable[Sequence[Any]], merged: dict[int, list[tuple[int, int]]]) -> Iterator[Sequence[Any]]:
    """The rows of a sheet with the value of each cell merged across rows repeated in every row
    it covers (a spreadsheet shows it there; read cell by cell, the rows below are empty)."""
    if not merged:
        yield from rows
        return
    pending: dict[int, tuple[Any, int]] = {}  # column -> (value, last row of the merge)
    for index, values in enumerate(rows, start=1):
        if pending:
            filled = list(values)
            for column, (value, last) in list(pending.items()):
                if index > last:
                    del pending[column]
                    continue
                filled.extend([None] * (column - len(filled)))
                if filled[column - 1] is None:
                    filled[column - 1] = value
            values = filled
        for column, last in merged.get(index, ()):
            if column <= len(values) and values[column - 1] is not None:
                pending[column] = (values[column - 1], last)
        yield values


def _merge_note(merged: dict[int, list[tuple[int, int]]], *, after: int = 0, title: str | None = None) -> str | None:
    """A note on the cells merged down several rows of the data (the header's do not count)."""
    count = sum(len(spans) for row, spans in merged.items() if row > after)
    where = f"工作表“{title}”" if title else "工作表"
    return f"{where}中有 {count} 处跨行合并的单元格：合并的值已填入它所占的每一行。" if count else None


def _noting_hidden(rows: Iterable[tuple[int, list[str]]], hidden: set[int], found: list[int],
                   columns: Iterable[int] = (), filled: list[int] | None = None) -> Iterator[tuple[int, list[str]]]:
    """The rows as they are; the numbers of the hidden ones holding data are added to ``found``,
    and the hidden ``columns`` (0-based) that hold data in any row to ``filled``."""
    waiting = sorted(columns)  # the hidden columns not yet seen holding anything
    for line, cells in rows:
        if hidden and line in hidden and not _is_blank(cells):
            found.append(line)
        if waiting:
            seen = [i for i in waiting if i < len(cells) and cells[i] and not cells[i].isspace()]
            if seen:
                assert filled is not None
                filled.extend(seen)
                waiting = [i for i in waiting if i not in seen]
        yield line, cells


def _hidden_note(rows: list[int], *, title: str | None = None) -> str:
    """A note on the hidden rows of a sheet that hold data: they are read like the others, but
    whoever sent the file may not have seen them (a filter left on, rows hidden by hand)."""
    spans: list[list[int]] = []
    for row in rows:
        if spans and spans[-1][1] == row - 1:
            spans[-1][1] = row
        else:
            spans.append([row, row])
    shown = "、".join(str(a) if a == b else f"{a}–{b}" for a, b in spans[:10]) + ("等" if len(spans) > 10 else "")
    where = f"工作表“{title}”" if title else "工作表"
    return (f"{where}中有 {len(rows)} 行是隐藏的（筛选或隐藏后看不到）：第 {shown} 行。隐藏的行也已按记录读取；"
            "如其中有不应报送的行，请删除这些行后重新提交。")


def _hidden_columns_note(columns: list[tuple[int, str]], *, title: str | None = None) -> str:
    """A note on the hidden columns of a sheet that were read and hold data: whoever sent the file
    may not have seen them (a column of internal notes hidden before sending), and what they hold
    is stored, and published where the column is public (备注)."""
    from openpyxl.utils import get_column_letter

    shown = "、".join(f"“{name.strip()}”（{get_column_letter(index + 1)} 列）" for index, name in sorted(columns))
    where = f"工作表“{title}”" if title else "工作表"
    return (f"{where}中有 {len(columns)} 列是隐藏的（隐藏后看不到）：{shown}。隐藏的列也已按列名读取，其内容照常保存，"
            "可公示的栏目（如备注、违法事实）会公开；如其中有不应报送的内容，请删除后重新提交。")


@dataclass
class _Sheet:
    title: str
    visible: bool
    size: int
    cells: Callable[[], Iterable[Sequence[Any]]]  # a fresh iterator of typed cell values per call
    # merged cells, formulas without results, hidden rows; read when first needed (for XLSX it means
    # reading the sheet's XML once more)
    scan: Callable[[], _SheetScan]
    _scanned: _SheetScan | None = None

    def __post_init__(self) -> None:
        self.title = without_controls(self.title)  # as a column name's (_Header): it is quoted and stored

    def scanned(self) -> _SheetScan:
        if self._scanned is None:
            self._scanned = self.scan()
        return self._scanned

    @property
    def merges(self) -> dict[int, list[tuple[int, int]]]:
        return self.scanned().merges

    @property
    def hidden(self) -> set[int]:
        return self.scanned().hidden

    @property
    def hidden_columns(self) -> set[int]:
        return self.scanned().hidden_columns

    def rows(self) -> Iterator[Sequence[Any]]:
        scan = self.scanned()  # first: for XLSX, the scan refuses what openpyxl should not read
        rows = _fill_merges(self.cells(), scan.merges)
        return _mark_uncached(rows, scan.uncached) if scan.uncached else rows


# What a sheet's header must name for the sheet to hold records: a sheet of code lists or
# drop-down values names code columns (行政相对人类别, 证件类型, 处罚类别…) but neither of these.
_RECORD_FIELDS = frozenset({"subject_name", "decision_no"})


def _sheet_table(
    format_name: str, sheets: list[_Sheet], field_of: FieldOf, *, close: Callable[[], None]
) -> Table:
    """The worksheets that hold records, as one table. A sheet is read when it is visible, has a
    双公示 header naming the subject and the decision number, and is not named as an example,
    instructions or code lists (catalogue data); an explanation sheet in front of the data is
    passed over. Templates often put 法人 and 自然人 records on sheets of their own: every such
    sheet that has data rows is read, one after the other, and its columns are matched to the
    first one's by the catalogue field they stand for (a column only a later sheet has is added).
    Rows are numbered as the sheets would number them pasted one under the other (the first
    sheet's rows keep their numbers, a later sheet's continue from the last row of the one
    before), so that a line is unique in the batch; users are shown each row under its sheet and
    its own row number (``SheetLines``)."""
    many = len(sheets) > 1
    reading = {"row": 0, "offset": 0}  # the row being read in its sheet; the rows of the sheets before

    def rows(sheet: _Sheet) -> Iterator[tuple[int, list[str]]]:
        reading["row"] = 0
        try:
            for index, values in enumerate(sheet.rows(), start=1):
                reading["row"] = index
                yield index, [_cell_text(v) for v in values]
        except FileUnreadable as exc:  # the sheet's scan refused it: the whole file, not just this sheet
            raise _DamagedSheet(exc.message) from exc
        except Exception as exc:  # damage met mid-sheet: the whole file is unreadable, nothing stored
            where = f"工作表“{sheet.title}”" if many else ""
            raise _DamagedSheet(where + _damaged_workbook(exc, reading["row"] + 1)) from exc

    visible = [sheet for sheet in sheets if sheet.visible] or sheets[:1]
    first_problem: FileUnreadable | None = None
    headed: list[tuple[_Sheet, _Header]] = []
    for sheet in visible:
        try:
            headed.append((sheet, _find_header(rows(sheet), field_of)))
        except _DamagedSheet:
            raise
        except FileUnreadable as exc:  # no header on this sheet
            first_problem = first_problem or exc
    if not headed:
        assert first_problem is not None
        if not many:
            raise first_problem
        looked = "”、“".join(s.title for s in visible)
        unseen = "”、“".join(s.title for s in sheets if all(s is not v for v in visible))
        hidden = f"；隐藏的工作表“{unseen}”不读取" if unseen else ""
        raise FileUnreadable(f"工作簿中没有哪个工作表有双公示格式的表头（已查看“{looked}”{hidden}）。"
                             f"第一个工作表：{first_problem.message}")
    catalogue = get_catalogue()
    looked_at = [s for s, _h in headed]
    examples = [s.title for s in looked_at if catalogue.is_example_sheet(s.title)]
    holding = [(s, h) for s, h in headed if s.title not in examples
               and {field_of(c) for c in h.cells if c} >= _RECORD_FIELDS]
    filled = [(s, h) for s, h in holding if any(not _is_blank(cells) for _line, cells in h.rows)]
    if not filled:
        _refuse_records_only_on_example_sheets(headed, examples, field_of)
    # no sheet has data: the first that may hold records, an example's own header last
    chosen = [sheet for sheet, _h in filled or holding[:1]
              or [(s, h) for s, h in headed if s.title not in examples][:1] or headed[:1]]
    examples = [title for title in examples if all(title != s.title for s in chosen)]
    no_rows = [s.title for s, _h in holding if all(s is not t for t in chosen)]  # record headers, no data
    hidden_sheets = [s for s in sheets if all(s is not v for v in visible)]
    with_records = [s.title for s in hidden_sheets if not catalogue.is_example_sheet(s.title)
                    and _holds_records(rows(s), field_of)]
    reading.update(row=0, offset=0)
    first_sheet, header = next((s, h) for s, h in headed if s is chosen[0])
    del headed, holding, filled  # the first look at each sheet is over: let its reader go
    headers = [cell_as_sent(c) for c in header.cells]  # a name is no cell to say something of
    while headers and not headers[-1]:
        headers.pop()
    notes: list[str] = []
    merge_note = _merge_note(first_sheet.merges, after=header.line + len(header.written) - 1,
                             title=first_sheet.title if len(chosen) > 1 else None)
    if merge_note:
        notes.append(merge_note)
    if header.note:
        notes.append(header.note)
    if many:
        read = "”、“".join(s.title for s in chosen)
        no_header = [s.title for s in visible if all(s is not t for t in looked_at)]
        passed = "".join([
            f"；“{'”、“'.join(no_header)}”没有双公示表头" if no_header else "",
            f"；“{'”、“'.join(no_rows)}”没有数据行" if no_rows else "",
            f"；“{'”、“'.join(examples)}”是示例、说明或代码表，未读取" if examples else "",
            f"；隐藏的工作表“{'”、“'.join(s.title for s in hidden_sheets)}”未读取" if hidden_sheets else "",
            f"，其中“{'”、“'.join(with_records)}”有双公示表头和数据行，看来是记录：如需报送，请在 Excel 或 WPS 中"
            "取消隐藏该工作表后重新提交" if with_records else "",
        ])
        if len(chosen) == 1:
            notes.append(f"工作簿有 {len(sheets)} 个工作表，只读取“{read}”{passed}。")
        else:
            notes.append(f"工作簿有 {len(sheets)} 个工作表，读取了有数据的“{read}”，按顺序接在一起读{passed}。"
                         "报告中的行号是各工作表自己的行号，并注明所在的工作表。")
    key_of = _column_key(field_of)
    column_of: dict[str, int] = {}
    for index, name in enumerate(headers):
        column_of.setdefault(key_of(name), index)

    came_from = {index: chosen[0].title for index in range(len(headers))}  # the sheet that added a column

    def later_sheet_columns(cells: list[str]) -> tuple[list[int | None], dict[str, str]]:
        """Where each column of a later sheet goes in the table (None: a repeated column), and
        the table's column names the sheet heads otherwise."""
        placed: list[int | None] = []
        renamed: dict[str, str] = {}
        for name in cells:
            if not name.strip():
                placed.append(None)
                continue
            key = key_of(name)
            if key not in column_of:
                column_of[key] = len(headers)
                came_from[len(headers)] = sheet_title[0]
                headers.append(name)  # the validator maps a column added later when it meets it
            index = column_of[key]
            field = field_of(name)
            units = (catalogue.header_unit(field, name), catalogue.header_unit(field, headers[index])) if field else ()
            if units and units[0] != units[1]:
                # one column holds one unit: 罚款金额（元） on one sheet, （万元） on another cannot be stacked
                raise FileUnreadable(
                    f"工作表“{sheet_title[0]}”的“{name.strip()}”与工作表“{came_from[index]}”的"
                    f"“{headers[index].strip()}”金额单位不同（{units[0]}、{units[1]}），不能合在一起读："
                    "请把各工作表改为同一单位，或分成两个文件提交。未保存任何数据。")
            if index not in placed and name.strip() != headers[index].strip():
                renamed[headers[index]] = name.strip()
            placed.append(None if index in placed else index)
        return placed, renamed

    lines = SheetLines([sheet.title for sheet in chosen])
    sheet_title = [chosen[0].title]  # the later sheet whose columns are being placed

    def stacked() -> Iterator[tuple[int, list[str]]]:
        for number, sheet in enumerate(chosen):
            lines.start(reading["offset"])
            found = _find_header(rows(sheet), field_of)  # read again from the sheet's first row
            shown_hidden: list[int] = []  # hidden rows with something in them
            # the hidden columns read (the catalogue's), and those of them with something in them
            hidden_read = {i - 1: found.cells[i - 1] for i in sheet.hidden_columns
                           if i <= len(found.cells) and field_of(found.cells[i - 1])}
            filled_hidden: list[int] = []
            sheet_rows = _noting_hidden(found.rows, sheet.hidden, shown_hidden, hidden_read, filled_hidden)
            if number == 0:
                lines.renamed.append({})
                yield from sheet_rows
            else:
                offset = reading["offset"]
                sheet_title[0] = sheet.title
                placed, renamed = later_sheet_columns([cell_as_sent(c) for c in found.cells])
                lines.renamed.append(renamed)
                merged = _merge_note(sheet.merges, after=found.line + len(found.written) - 1, title=sheet.title)
                if merged:
                    notes.append(merged)
                for line, cells in sheet_rows:
                    row = [""] * len(headers)
                    for index, cell in zip(placed, cells, strict=False):
                        if index is not None:
                            row[index] = cell
                    yield offset + line, row
            if shown_hidden:
                notes.append(_hidden_note(shown_hidden, title=sheet.title if len(chosen) > 1 else None))
            if filled_hidden:
                notes.append(_hidden_columns_note([(i, hidden_read[i]) for i in filled_hidden],
                                                  title=sheet.title if len(chosen) > 1 else None))
            reading["offset"] += reading["row"]

    return Table(
        format=format_name,
        encoding=None,
        headers=headers,
        header_line=header.line,
        header_rows=header.written,
        rows=stacked(),
        size=sum(sheet.size for sheet in chosen),
        position=lambda: reading["offset"] + reading["row"],
        notes=notes,
        _close=close,
        sheets=lines,
    )


def _refuse_records_only_on_example_sheets(
    headed: list[tuple[_Sheet, _Header]], examples: list[str], field_of: FieldOf,
) -> None:
    """Raises FileUnreadable when the workbook has sheets with a 双公示 header, none of them with
    data rows, and rows only under the header of sheets named as an example, instructions or
    code lists (填写示例…): those are passed over for the others, and the file must not be taken
    as one with no records in it, nothing said. (A workbook whose every headed sheet is so named
    reads its first, as before.)"""
    others = [s.title for s, _h in headed if s.title not in examples]
    if not others:
        return
    passed = [s.title for s, h in headed if s.title in examples
              and {field_of(c) for c in h.cells if c} >= _RECORD_FIELDS
              and any(not _is_blank(cells) for _line, cells in h.rows)]
    if passed:
        raise FileUnreadable(
            f"工作簿中只有工作表“{'”、“'.join(passed)}”在表头下有数据，而按名称它是示例、说明或代码表，"
            f"不作为记录读取；其他工作表（“{'”、“'.join(others)}”）没有数据行。未保存任何数据："
            "如果这些是要报送的记录，请把工作表改名（去掉“示例”“说明”等字样）后重新提交；"
            "如果只是模板自带的示例，请把记录填在数据工作表中再提交。")


def _holds_records(rows: Iterator[tuple[int, list[str]]], field_of: FieldOf, *, looked: int = 50) -> bool:
    """Whether a sheet that is not read (a hidden one) looks like records: a header naming the
    party and the decision number, and something in one of the ``looked`` rows under it. Only the
    note depends on it: a sheet that cannot be read says nothing."""
    try:
        header = _find_header(rows, field_of)
        return ({field_of(c) for c in header.cells if c} >= _RECORD_FIELDS
                and any(not _is_blank(cells) for _line, cells in itertools.islice(header.rows, looked)))
    except Exception:
        return False
    finally:
        close = getattr(rows, "close", None)
        if close:
            close()


class _DamagedSheet(FileUnreadable):
    """A sheet that breaks while read: the workbook is unreadable (not merely a sheet without a
    header to pass over)."""


def _column_key(field_of: FieldOf) -> Callable[[str], str]:
    """What a column stands for, to match the columns of several sheets: its catalogue field, or
    its name when it is no known column."""
    def key(name: str) -> str:
        found = field_of(name)
        return f"field:{found}" if found else f"name:{normalize_header(name)}"
    return key


def open_xls(path: Path, field_of: FieldOf) -> Table:
    """An Excel 97–2003 workbook (BIFF8), read with xlrd: cells as the XLSX reader gives them."""
    import xlrd

    try:
        # xlrd writes its warnings to stdout unless given somewhere else to write them
        # formatting_info: merged cells are part of it (and so is the price of a slower read)
        wb = xlrd.open_workbook(path, on_demand=True, logfile=io.StringIO(), formatting_info=True)
    except Exception as exc:  # xlrd raises its own errors and plain ones on a damaged file
        raise FileUnreadable(
            "无法读取这个 Excel 97–2003 格式的文件：它可能设置了打开密码、已损坏，或是 Word 等其他"
            f"Office 文件。请在 Excel 或 WPS 中打开，另存为 .xlsx 或 CSV（UTF-8）后再提交。（{exc}）"
        ) from exc

    formats: dict[int, NumberFormat | None] = {}  # per cell format (XF): the number format, if it says more

    def number(cell: Any) -> Any:
        shown = formats.get(cell.xf_index, formats)
        if shown is formats:
            shown = formats[cell.xf_index] = _xls_number_format(wb, cell.xf_index)
        return cell.value if shown is None else _shown_number(shown, cell.value)

    def value(cell: Any) -> Any:
        if cell.ctype == xlrd.XL_CELL_NUMBER:
            return number(cell)
        if cell.ctype == xlrd.XL_CELL_DATE:
            try:
                return xlrd.xldate_as_datetime(cell.value, wb.datemode)
            except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                return DATE_CELL_NUMBER + _cell_text(cell.value)  # 20240813 typed into a date cell
        if cell.ctype == xlrd.XL_CELL_BOOLEAN:
            return bool(cell.value)
        if cell.ctype == xlrd.XL_CELL_ERROR:  # as Excel shows it (#N/A): validation refuses it
            return xlrd.error_text_from_code.get(cell.value, "#N/A")
        if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
            return None
        return cell.value

    def sheet_rows(ws: Any) -> Iterator[list[Any]]:
        return ([value(c) for c in ws.row(index)] for index in range(ws.nrows))

    return _built_or_closed(lambda: _xls_table(wb, field_of, sheet_rows), wb.release_resources)


def _xls_table(wb: Any, field_of: FieldOf, sheet_rows: Callable[[Any], Iterator[list[Any]]]) -> Table:
    sheets = []
    for index in range(wb.nsheets):
        ws = wb.sheet_by_index(index)
        sheets.append(_Sheet(ws.name, ws.visibility == 0, max(ws.nrows, 1),
                             lambda ws=ws: sheet_rows(ws),
                             lambda ws=ws: _SheetScan(_xls_merges(ws), hidden=_xls_hidden(ws),
                                                      hidden_columns=_xls_hidden_columns(ws))))
    table = _sheet_table("xls", sheets, field_of, close=wb.release_resources)
    table.excel_epoch = dt.date(1904, 1, 1) if wb.datemode == 1 else dt.date(1899, 12, 30)
    return table


def _xls_number_format(wb: Any, xf_index: int) -> NumberFormat | None:
    """The number format of a cell format (XF) of an .xls workbook, when it changes what its cells say."""
    try:
        found = wb.format_map.get(wb.xf_list[xf_index].format_key)
    except IndexError:
        return None
    return shown_by(found.format_str) if found is not None else None


def _xls_hidden(ws: Any) -> set[int]:
    return {row + 1 for row, info in ws.rowinfo_map.items() if info.hidden}  # 0-based


def _xls_hidden_columns(ws: Any) -> set[int]:
    return {column + 1 for column, info in ws.colinfo_map.items() if info.hidden}  # 0-based


def _xls_merges(ws: Any) -> dict[int, list[tuple[int, int]]]:
    merged: dict[int, list[tuple[int, int]]] = {}
    for first, end, column, _column_end in ws.merged_cells:  # 0-based, ends exclusive
        if end - first > 1:
            merged.setdefault(first + 1, []).append((column + 1, end))
    return merged


# The codecs a declared charset is read with. Pages that say GB2312 hold GBK's characters (the
# WHATWG Encoding Standard reads every GB2312 and GBK label as GBK, whose superset is GB18030).
_DECLARED_CODECS = {
    "utf-8": "utf-8", "utf8": "utf-8",
    "gbk": "gbk", "gb2312": "gbk", "x-gbk": "gbk", "cp936": "gbk", "windows-936": "gbk", "csgb2312": "gbk",
    "gb_2312-80": "gbk", "chinese": "gbk", "gb18030": "gb18030",
}


def _markup_encoding(path: Path, kind: str) -> tuple[Encoding, list[str]]:
    """How a page or an XML workbook is decoded: a BOM decides; else the charset it declares, when
    the whole file reads in it; else (none declared, or one the bytes do not fit: a GBK page that
    says UTF-8) the encoding is detected as a CSV file's is, and a note says what was declared."""
    with open(path, "rb") as fh:
        head = fh.read(8192)
    if head.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return detect_encoding(path), []
    written = markup.declared_charset(head, kind)
    declared = _DECLARED_CODECS.get(written.strip().lower()) if written else None
    if declared:
        found = detect_encoding(path, declared)
        if not found.damaged_from_line:
            return found, []
    try:
        detected = detect_encoding(path)
    except FileUnreadable:
        if declared:
            return found, []  # neither reads it whole: as declared, the rows with other bytes rejected
        raise
    if not written or detected.name == declared or (declared, detected.name) == ("gbk", "gb18030"):
        return detected, []
    label = ENCODING_LABELS.get(detected.name, detected.name)
    return detected, [f"文件声明的字符编码是 {written}，但内容不是 {written} 编码，已按 {label} 读取，"
                      "请核对报告中的文字。"]


def _markup_text(path: Path, decoding: Encoding) -> IO[str]:
    """The text of a page or an XML workbook, for one pass over it."""
    errors = "replace" if decoding.damaged_from_line else "strict"
    return open(path, encoding=decoding.name, errors=errors)


def _markup_lines(path: Path, decoding: Encoding, rows: Callable[[IO[str]], Iterator[Any]]) -> Iterator[Any]:
    """``rows`` of a fresh pass over the file, the file closed after it."""
    with _markup_text(path, decoding) as fh:
        yield from rows(fh)


def _markup_named(what: str, suffix: str) -> str:
    """A page or an XML workbook as a message names it (under a workbook's name: that it is none)."""
    if suffix in WORKBOOK_SUFFIXES:
        return f"文件扩展名为 {suffix}，但内容是{what}，不是 Excel 工作簿"
    return f"文件是{what}"


def _markup_table(format_name: str, form: tuple[str, str, str], sheets: list[_Sheet], field_of: FieldOf,
                  suffix: str, decoding: Encoding, notes: list[str]) -> Table:
    """The sheets of a page or an XML workbook read as any workbook's (``_sheet_table``), with a
    first note that says what the file was read as. ``form``: what it is, its format's name, and
    how it was read."""
    what, name, read_as = form
    try:
        table = _sheet_table(format_name, sheets, field_of, close=lambda: None)
    except FileUnreadable as exc:
        said = exc.message
        if "另存为" not in said:  # (a refusal of the markup itself says what to do)
            said += "请在 Excel 或 WPS 中打开核对，另存为 .xlsx 或 CSV（UTF-8）后再提交。"
        raise FileUnreadable(f"{_markup_named(f'{what}（{name}）', suffix)}；按表格读取时：{said}") from exc
    table.encoding = decoding.name
    table.damaged_from_line = decoding.damaged_from_line
    named = f"，扩展名为 {suffix}，不是 Excel 工作簿" if suffix in WORKBOOK_SUFFIXES else ""
    table.notes[:0] = [f"文件是{what}（{name}{named}），{read_as}，行号是在 Excel 或 WPS 中打开时看到的行号。",
                       *notes, *_damage_notes(decoding, lines=False)]
    return table


def open_html(path: Path, field_of: FieldOf, suffix: str = "") -> Table:
    """An HTML page's tables, which many systems export as “Excel”: read as the one worksheet
    Excel and WPS make of the page (``markup``), by the workbook path. The page is read twice at
    most, a piece at a time: for its layout when a tag may merge cells down or hide rows, then for
    its rows."""
    decoding, notes = _markup_encoding(path, "html")
    with _markup_text(path, decoding) as fh:
        layout = markup.page_layout(fh)
    if not layout.cells:
        with _markup_text(path, decoding) as fh:
            title = markup.page_title(fh.read(65536))
        said = f"（网页标题为“{title}”）" if title else ""
        raise FileUnreadable(f"{_markup_named('网页（HTML）', suffix)}，网页中没有表格{said}，不是双公示数据"
                             "（可能是系统导出出错时返回的页面，如登录超时）。未保存任何数据：请重新导出，"
                             "确认在 Excel 或 WPS 中打开能看到数据后，另存为 .xlsx 或 CSV（UTF-8）再提交。")
    sheet = _Sheet("网页", True, max(layout.rows, 1),
                   lambda: _markup_lines(path, decoding, markup.page_rows),
                   lambda: _SheetScan(layout.merges, hidden=layout.hidden, hidden_columns=layout.hidden_columns))
    form = ("网页表格", "HTML", "已按表格读取：各单元格按网页中写出的文字读取")
    return _markup_table("html", form, [sheet], field_of, suffix, decoding, notes)


# The number formats SpreadsheetML names rather than writes (Excel's own names for them)
_XML_FORMAT_NAMES = {"general": None, "general number": None, "currency": None, "euro currency": None,
                     "fixed": "0.00", "standard": "#,##0.00", "percent": "0.00%", "scientific": "0.00E+00"}
_XML_DATE_FORMAT_NAMES = frozenset({"general date", "long date", "medium date", "short date",
                                    "long time", "medium time", "short time"})


def _xml_number_reader(code: str, epoch: dt.datetime) -> Callable[[float], Any] | None:
    """How a number cell of a style with number format ``code`` is read, as ``_xlsx_number_readers``
    reads a workbook's; None for its plain value."""
    from openpyxl.styles.numbers import is_date_format

    name = code.strip().lower()
    if name in _XML_DATE_FORMAT_NAMES or (name not in _XML_FORMAT_NAMES and is_date_format(code)):
        return partial(_excel_date, epoch=epoch, timedelta=False)
    shown = shown_by(_XML_FORMAT_NAMES.get(name, code))
    return partial(_shown_number, shown) if shown is not None else None


def open_spreadsheetml(path: Path, field_of: FieldOf, suffix: str = "") -> Table:
    """An XML Spreadsheet 2003 workbook (SpreadsheetML, Excel 2002–2003's “XML 电子表格”), which
    report tools export as “.xls”: its worksheets read by the workbook path, its typed cells
    (Number, DateTime, String, Boolean) as a workbook's. Parsed with expat a piece at a time:
    once to list the sheets, their hidden rows and columns, merged cells and the styles' number
    formats, then once for each sheet looked at."""
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

    decoding, notes = _markup_encoding(path, "xml")
    with _markup_text(path, decoding) as fh:
        book = markup.xml_workbook(fh)
    form = (" XML 电子表格", "Excel 2003 XML", "已按工作簿读取")
    if not book.sheets:
        raise FileUnreadable(f"{_markup_named(f'{form[0]}（{form[1]}）', suffix)}，其中没有工作表。"
                             "未保存任何数据：请重新导出，或在 Excel 或 WPS 中打开核对，"
                             "另存为 .xlsx 或 CSV（UTF-8）后再提交。")
    epoch = CALENDAR_MAC_1904 if book.date1904 else CALENDAR_WINDOWS_1900
    numbers = {style: reader for style, code in book.number_formats.items()
               if (reader := _xml_number_reader(code, epoch)) is not None}

    def value(kind: str, text: str, style: str | None) -> Any:
        if kind == "Formula":
            return UNCACHED_FORMULA
        if kind == "Number":
            try:
                number = float(text)
            except ValueError:
                return text
            reader = numbers.get(style or "")
            return reader(number) if reader is not None and math.isfinite(number) else number
        if kind == "DateTime":
            try:
                return dt.datetime.fromisoformat(text.strip())
            except ValueError:
                return text
        if kind == "Boolean":
            return text.strip().lower() in ("1", "true")
        return text  # String, and Error as Excel shows it (#N/A): validation refuses it

    sheets = [_Sheet(sheet.title, sheet.visible, max(sheet.layout.rows, 1),
                     partial(_markup_lines, path, decoding, partial(markup.xml_rows, sheet=index, value=value)),
                     lambda layout=sheet.layout: _SheetScan(layout.merges, hidden=layout.hidden,
                                                            hidden_columns=layout.hidden_columns))
              for index, sheet in enumerate(book.sheets)]
    table = _markup_table("xml", form, sheets, field_of, suffix, decoding, notes)
    table.excel_epoch = epoch.date()
    return table


def open_jsonl(path: Path, field_of: FieldOf, decoding: Encoding | None = None) -> Table:
    """One JSON record a line; a line may be an Elasticsearch document as elasticdump writes it
    ({"_index": …, "_id": …, "_source": {…}}), whose record is its ``_source``."""
    decoding = decoding or detect_encoding(path)
    raw, fh = _open_text(path, decoding)
    hits = _Hits(field_of)

    def objects() -> Iterator[tuple[int, Any]]:
        for number, line in enumerate(fh, start=1):
            text = line.lstrip("\ufeff")  # files joined as bytes carry each one's BOM: nothing
            if not text.strip():
                continue
            try:
                yield number, hits.source(json.loads(text))
            except json.JSONDecodeError as exc:
                yield number, _Undecodable(text.rstrip("\r\n"), exc.msg)

    return _keyed_table("jsonl", path, decoding, raw, fh, objects(), field_of, hits)


def open_json(path: Path, field_of: FieldOf, decoding: Encoding | None = None) -> Table:
    """A JSON document: an array of records, an object holding the array ({"rows": [...]},
    {"data": {"list": [...]}}, an Elasticsearch search response's {"hits": {"hits": [...]}}), or
    records one after another. Read a record at a time."""
    decoding = decoding or detect_encoding(path)
    raw, fh = _open_text(path, decoding)
    stream = _JsonStream(fh)
    hits = _Hits(field_of)
    try:
        return _keyed_table("json", path, decoding, raw, fh, _document_records(stream, hits), field_of, hits)
    except BaseException:
        fh.close()
        raw.close()
        raise


@dataclass
class _Hits:
    """The Elasticsearch documents of a JSON file: a search response's hits ({"_index": …, "_id": …,
    "_source": {…}}, saved to a file) or elasticdump's lines of them. A document's record is its
    ``_source``; the rest (index, id, score) is the search engine's, and no column."""

    field_of: FieldOf
    count: int = 0
    total: int | None = None  # how many the search found (hits.total), when the response says

    def _document(self, value: Any) -> bool:
        """Whether ``value`` is a document: an object with a ``_source`` object, and no record itself."""
        return (isinstance(value, dict) and isinstance(value.get("_source"), dict)
                and not _is_record(value, self.field_of))

    def is_hit(self, value: Any) -> bool:
        """Whether ``value`` is a document whose ``_source`` is a record."""
        return self._document(value) and _is_record(value["_source"], self.field_of)

    def source(self, value: Any) -> Any:
        """The record of a document, else ``value`` as it is."""
        if self._document(value):
            self.count += 1
            return value["_source"]
        return value

    def found(self, response: dict[str, Any]) -> None:
        """The object holding the hits: its ``total`` (ES 7 and later: {"value": n, "relation": …})."""
        total = response.get("total")
        total = total.get("value") if isinstance(total, dict) else total
        if isinstance(total, int) and not isinstance(total, bool):
            self.total = total

    def notes(self) -> list[str]:
        if not self.count:
            return []
        return ["文件是 Elasticsearch 的数据（查询结果或导出的文档）：已读取每个文档的 _source 作为一条记录，"
                "_index、_id 等检索系统的信息不是记录的栏目，未读取。"]

    def missing(self) -> list[str]:
        """What to say when the search found more documents than the file holds."""
        if self.total is None or self.count >= self.total:
            return []
        return [f"Elasticsearch 查询结果中 hits.total 为 {self.total:,} 条，文件中只有 {self.count:,} 条"
                "（查询默认只返回前 10 条）：其余记录不在文件中，未报送。请分页导出全部记录（如用 scroll 或 "
                "search_after）后再报送。"]


@dataclass(frozen=True)
class _Undecodable:
    """A JSON Lines line that is not JSON: its text, and what the decoder said."""

    text: str
    problem: str


def _keyed_table(format_name: str, path: Path, decoding: Encoding, raw: IO[bytes], fh: IO[str],
                 objects: Iterator[tuple[int, Any]], field_of: FieldOf, hits: _Hits) -> Table:
    """A table of JSON records: the keys of the first record are the columns, and a key first
    met in a later record becomes a column from there on. A record that is not a JSON object is
    a row of its own, rejected — before the first object too (a null first element), up to
    MAX_PREAMBLE_ROWS of them: a file that begins with more holds no records."""
    where = "第 {} 条记录" if format_name == "json" else "第 {} 行"  # a JSON record need not start a line
    leading: list[tuple[int, Any]] = []  # what comes before the first object: rejected, one by one
    for first_line, obj in objects:
        if isinstance(obj, dict):
            break
        leading.append((first_line, obj))
        if len(leading) > MAX_PREAMBLE_ROWS:
            unit = "条记录" if format_name == "json" else "行"
            raise FileUnreadable(f"文件的前 {len(leading)} {unit}都不是 JSON 对象（{{…}}），不是双公示记录。")
    else:
        if leading:
            raise FileUnreadable("文件中没有 JSON 对象（{…}）形式的记录。")
        raise FileUnreadable("文件为空：没有任何 JSON 记录。")
    headers = [str(k) for k in obj]
    if not _is_record(obj, field_of):
        empty = _empty_array(obj)
        if empty is not None:  # {"code": 200, "data": {"total": 0, "rows": []}}: a month with nothing
            raise FileUnreadable(f"文件中没有记录：“{empty}”是空数组。本期没有数据时不必报送；"
                                 "若应有数据，请检查导出的条件。")
        raise FileUnreadable(f"{where.format(first_line)}的键不是双公示格式的列名（如“行政相对人名称”）。")
    index = {h: i for i, h in enumerate(headers)}  # by the key as written
    # the columns: a key padded with NUL (a database's fixed-width export) is the key (see _Header)
    headers = [without_controls(h) for h in headers]

    def to_cells(number: int, obj: dict[str, Any]) -> list[str]:
        cells = [""] * len(headers)
        for written, value in obj.items():
            i = index.get(str(written))
            if i is None:
                headers.append(without_controls(str(written)))
                index[str(written)] = i = len(headers) - 1
                cells.append("")
            key = headers[i]
            if isinstance(value, (dict, list)):
                text = _json_value_text(value)
                if text is None and field_of(key):
                    return [NESTED_VALUE, key,
                            f"{where.format(number)}“{key}”的值是一组带名称的数据（JSON 对象 {{…}}），不是一个值："
                            "请把其中每一项放到目录中对应的列（如“法定代表人”与“法定代表人证件号码”各占一列）",
                            json.dumps(obj, ensure_ascii=False)]
                cells[i] = json.dumps(value, ensure_ascii=False) if text is None else text
            elif isinstance(value, bool) and field_of(key):
                # true/false is no value any column of the catalogue takes (read as 1/0, true in an
                # amount column was a fine of 1 万元)
                return [JSON_BOOLEAN, key,
                        f"{where.format(number)}“{key}”的值是 {'true' if value else 'false'}（JSON 布尔值），"
                        "不是该列可填的值：金额请填数字，日期填日期，文字用带引号的字符串，没有内容的填 null",
                        json.dumps(obj, ensure_ascii=False)]
            else:
                cells[i] = _cell_text(value)
        return cells

    def checked(number: int, obj: dict[str, Any]) -> list[str]:
        cells = to_cells(number, obj)
        if _SURROGATE.search("".join(cells)):  # no text can hold half a character: stored, it would fail
            said = (where.format(number) + "含有无效的 Unicode 转义（如单独的 \\ud842：一个字被截断了一半），"
                    "该记录未保存：请改正后重新报送")
            return [INVALID_JSON, said, json.dumps(obj, ensure_ascii=True)]
        return cells

    def no_record(number: int, value: Any) -> list[str]:
        # the text is handed back with the rejected rows, to correct
        text = value.text if isinstance(value, _Undecodable) else json.dumps(value, ensure_ascii=False)
        return [INVALID_JSON, where.format(number) + "不是有效的 JSON 对象（应为 {…}）", text]

    notes = _damage_notes(decoding) + hits.notes()

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, value in leading:
            yield number, no_record(number, value)
        yield first_line, checked(first_line, obj)
        for number, value in objects:
            yield number, checked(number, value) if isinstance(value, dict) else no_record(number, value)
        notes.extend(hits.missing())  # read at the end, with what was found while reading

    def close() -> None:
        fh.close()
        raw.close()

    return Table(
        format=format_name,
        encoding=decoding.name,
        damaged_from_line=decoding.damaged_from_line,
        notes=notes,
        headers=headers,
        header_line=0,
        rows=rows(),
        size=os.path.getsize(path),
        position=lambda: os.lseek(raw.fileno(), 0, os.SEEK_CUR),
        _close=close,
    )


def _empty_array(obj: dict[str, Any], depth: int = 0) -> str | None:
    """The path (data.rows) of an empty array in a wrapping object, if it holds one."""
    for key, value in obj.items():
        if value == []:
            return str(key)
        if isinstance(value, dict) and depth < _MAX_JSON_WRAPPING:
            inner = _empty_array(value, depth + 1)
            if inner is not None:
                return f"{key}.{inner}"
    return None


def _json_value_text(value: dict[str, Any] | list[Any]) -> str | None:
    """The cell of a JSON array of plain values (["罚款", "警告"] is 罚款；警告, read like several
    kinds in one cell); None for an object or an array that holds one (no cell can say it)."""
    if isinstance(value, dict):
        return "" if not value else None
    if any(isinstance(v, (dict, list)) for v in value):
        return None
    return "；".join(t for t in (_cell_text(v).strip() for v in value) if t)


_JSON_SPACE = re.compile("[ \t\r\n\ufeff]*")  # and the BOM of documents joined as bytes (copy /b)
_JSON_DECODER = json.JSONDecoder()
# how deep inside objects the array of records may sit ({"data": {"list": [...]}} is 2)
_MAX_JSON_WRAPPING = 3
_MAX_JSON_VALUE_CHARS = 64 << 20
JSON_CHUNK_CHARS = 1 << 20  # how much of a JSON document is read at a time


class _JsonStream:
    """A JSON text read a piece at a time: whole values are decoded from a buffer that holds
    what is not consumed yet; ``line`` is the physical line of the next character."""

    def __init__(self, fh: IO[str]) -> None:
        self.fh, self.chunk = fh, JSON_CHUNK_CHARS
        self.buffer, self.pos, self.line, self.ended = "", 0, 1, False

    def _more(self) -> bool:
        if self.ended:
            return False
        text = self.fh.read(self.chunk)
        if not text:
            self.ended = True
            return False
        self.buffer = self.buffer[self.pos:] + text
        self.pos = 0
        return True

    def _advance(self, to: int) -> None:
        self.line += self.buffer.count("\n", self.pos, to)
        self.pos = to

    def peek(self) -> str:
        """The next character that is not white space ("" at the end of the text)."""
        while True:
            match = _JSON_SPACE.match(self.buffer, self.pos)
            assert match is not None
            self._advance(match.end())
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._more():
                return ""

    def take(self, expected: str) -> None:
        found = self.peek()
        if found != expected:
            shown = f"“{found}”" if found else "文件结尾"
            raise FileUnreadable(f"JSON 格式错误（第 {self.line} 行）：此处应为“{expected}”，实为{shown}。")
        self._advance(self.pos + 1)

    def value(self) -> Any:
        """The next whole value (an object, a string, a number…)."""
        self.peek()
        while True:
            try:
                value, end = _JSON_DECODER.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as exc:
                if len(self.buffer) - self.pos < _MAX_JSON_VALUE_CHARS and self._more():
                    continue  # the value goes on in the next piece of the text
                line = self.line + self.buffer.count("\n", self.pos, exc.pos)
                raise FileUnreadable(f"JSON 格式错误（第 {line} 行）：{exc.msg}。") from exc
            if end == len(self.buffer) and self._more():
                continue  # a number may go on in the next piece
            self._advance(end)
            return value


def _document_records(stream: _JsonStream, hits: _Hits) -> Iterator[tuple[int, Any]]:
    """(number, value) of each record of a JSON document, numbered from 1 in the order of the
    document (records need not start lines: a document may be one line). Documents joined as
    bytes (copy /b of two exports, each an array or a wrapping object) are read one after the
    other, numbered on: the second must not be dropped without a word. An Elasticsearch document
    is its ``_source`` (``_Hits``)."""
    if stream.peek() not in ("[", "{"):
        raise FileUnreadable("文件不是 JSON 数组或对象，也不是 CSV、Excel 文件。")
    number = 0
    while (found := stream.peek()) in ("[", "{"):
        if found == "[":
            stream.take("[")
            records: Iterator[Any] = _array_elements(stream)
        else:
            wrapped, obj = _object_or_records(stream, hits, depth=0)
            records = iter([obj]) if wrapped is None else wrapped
        for value in records:
            number += 1
            yield number, hits.source(value)
    if stream.peek():
        raise FileUnreadable(f"JSON 格式错误（第 {stream.line} 行）：记录之后还有多余的内容。")


def _array_elements(stream: _JsonStream) -> Iterator[Any]:
    """The elements of an array whose "[" is taken, up to its "]"."""
    if stream.peek() == "]":
        stream.take("]")
        return
    while True:
        yield stream.value()
        if stream.peek() == ",":
            stream.take(",")
            continue
        stream.take("]")
        return


def _array_or_records(stream: _JsonStream, hits: _Hits) -> tuple[Iterator[Any] | None, list[Any]]:
    """After an array's "[": its elements read lazily when they are records (the first one names
    at least three columns, or is an Elasticsearch hit whose ``_source`` does), else None and the
    array's values (plain values, column definitions)."""
    elements = _array_elements(stream)
    if stream.peek() != "{":
        return None, list(elements)
    first = next(elements)
    if _is_record(first, hits.field_of) or hits.is_hit(first):
        return itertools.chain([first], elements), []
    return None, [first, *elements]


def _then_closed(records: Iterator[Any], stream: _JsonStream, hits: _Hits) -> Iterator[Any]:
    """The records of an array inside an object, then the rest of that object: the records of a
    later member that is an array of records too (法人 and 自然人 in two arrays), the others read
    past (a count), so that nothing after the first array is dropped without a word."""
    yield from records
    while stream.peek() == ",":
        stream.take(",")
        if not isinstance(stream.value(), str):
            raise FileUnreadable(f"JSON 格式错误（第 {stream.line} 行）：对象的键应为字符串。")
        stream.take(":")
        if stream.peek() != "[":
            stream.value()
            continue
        stream.take("[")
        more, _values = _array_or_records(stream, hits)
        if more is not None:
            yield from more
    stream.take("}")


def _is_record(value: Any, field_of: FieldOf) -> bool:
    return isinstance(value, dict) and sum(1 for k in value if field_of(str(k))) >= HEADER_NAMES


def _object_or_records(
    stream: _JsonStream, hits: _Hits, depth: int
) -> tuple[Iterator[Any] | None, dict[str, Any]]:
    """Read an object member by member: if it holds an array of records (and is not itself a
    record), the records of that array, read lazily, and then the rest of the object; otherwise
    the object. An array of objects that are no records (a table's column definitions before its
    rows: {"columns": [{"title": …}], "list": […]}) is a member like any other. The object that
    holds an array of Elasticsearch hits says how many the search found (``_Hits.found``)."""
    stream.take("{")
    obj: dict[str, Any] = {}
    if stream.peek() == "}":
        stream.take("}")
        return None, obj
    while True:
        key = stream.value()
        if not isinstance(key, str):
            raise FileUnreadable(f"JSON 格式错误（第 {stream.line} 行）：对象的键应为字符串。")
        stream.take(":")
        found = stream.peek()
        wrapper = depth < _MAX_JSON_WRAPPING and not _is_record(obj, hits.field_of)
        if found == "[" and wrapper:
            stream.take("[")
            records, obj[key] = _array_or_records(stream, hits)
            if records is not None:
                first = next(records)
                if hits.total is None and hits.is_hit(first):
                    hits.found(obj)  # {"total": {"value": 2530}, "max_score": 1.0, "hits": [...]}
                return _then_closed(itertools.chain([first], records), stream, hits), obj
        elif found == "{" and wrapper:
            records, inner = _object_or_records(stream, hits, depth + 1)
            if records is not None:
                return _then_closed(records, stream, hits), obj
            obj[key] = inner
        else:
            obj[key] = stream.value()
        if stream.peek() == ",":
            stream.take(",")
            continue
        stream.take("}")
        return None, obj


def _first_line_is_a_record(path: Path, decoding: Encoding, field_of: FieldOf) -> bool:
    """Whether a file opens with a JSON Lines record: a whole object on its first line, keyed
    by column names. A document that wraps its records ({"total": 2, "rows": [...]}) or spreads
    one over several lines is read as JSON instead."""
    with open(path, encoding=decoding.name, errors="replace") as fh:
        for text in fh:
            if text.strip():
                try:
                    obj = json.loads(text)
                except json.JSONDecodeError:
                    return False
                return _is_record(obj, field_of) or _Hits(field_of).is_hit(obj)
    return True


def _utf16_without_bom(head: bytes) -> bool:
    """Whether the bytes read like UTF-16 text without its BOM: ASCII characters (tabs, commas,
    digits) have a zero byte on one side, so that side holds nearly all the zeros (a binary file
    has them on both), and the text decodes to printable characters. Only the message depends
    on it."""
    head = head[: len(head) // 2 * 2]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if max(even, odd) < 8 or min(even, odd) > max(even, odd) // 10:
        return False
    text = head.decode("utf-16-le" if odd > even else "utf-16-be", errors="replace")
    return all(ch.isprintable() or ch in "\t\r\n" for ch in text.rstrip("\ufffd"))


def _utf16_json(head: bytes) -> str | None:
    """The encoding of JSON text written in UTF-16 (with or without its BOM), else None. JSON
    begins with [ or { (after spaces): in UTF-16 one of the first two bytes is zero (RFC 4627
    §3 tells the encodings apart so), and the text must read as such."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        name, text = "utf-16", head[: len(head) // 2 * 2].decode("utf-16", errors="replace")
    elif len(head) >= 4 and _utf16_without_bom(head):
        name = "utf-16-le" if head[1] == 0 else "utf-16-be"
        text = head[: len(head) // 2 * 2].decode(name, errors="replace")
    else:
        return None
    return name if text.lstrip().startswith(("[", "{")) else None


def _markup_kind(path: Path) -> str | None:
    """What markup a file is, if any (``markup.markup_kind``): a web page, an XML workbook or a
    web archive is what old systems export as “Excel”."""
    with open(path, "rb") as fh:
        return markup.markup_kind(fh.read(4096))


# The signatures the readers tell workbooks by: a zip's local file header (an .xlsx), an empty
# zip's end record and a spanned zip's marker (unreadable, and said so by the XLSX reader), and an
# OLE2 compound file (Excel 97–2003). "PK" alone is two letters a text may begin with (a column
# named PK编号)
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# Bytes no text file holds (a tab and line breaks are text; Ctrl-Z ends some old DOS exports; a
# NUL is told apart in _looks_like_text)
_BINARY_BYTES = re.compile(rb"[\x01-\x08\x0b\x0c\x0e-\x19\x1b-\x1f\x7f]")
# The names of a workbook: a file so named that is none may be text saved under it
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".et")
_DELIMITER_NAMES = {",": "逗号", "\t": "制表符", "|": "竖线", ";": "分号"}


def _looks_like_text(head: bytes) -> bool:
    """Whether a file's first bytes are text (CSV, tab-separated, JSON): UTF-16 (with or without
    its BOM), or UTF-8 / GBK / GB18030 holding no control character but tabs and line breaks —
    and NULs, with which a database pads a fixed-width field it exports (validation removes
    them). A character cut at the end of the bytes read does not count; a binary file has other
    control bytes within its first bytes."""
    if not head.strip(b" \t\r\n\x00"):
        return False
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _utf16_without_bom(head):
        return True
    head = head.replace(b"\x00", b"")
    if _BINARY_BYTES.search(head):
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head)  # not final: the end may cut a character
        except UnicodeDecodeError:
            continue
        return True
    return False


def _text_named_as_workbook(path: Path, field_of: FieldOf, head: bytes, suffix: str) -> Table:
    """A text file under a workbook's name (a CSV renamed .xlsx, as staff often do; an export
    named .xls): read by its content, as any file is, with a note saying so first. Nothing is
    guessed: the text is read as a .csv (or .json) file is, with the same checks."""
    try:
        table = _open_by_content(path, field_of, head, "")
    except FileUnreadable as exc:
        raise FileUnreadable(f"文件扩展名为 {suffix}，但内容是文本（如改了扩展名的 CSV 文件），不是 Excel 工作簿；"
                             f"按文本读取时：{exc.message}") from exc
    if table.format == "csv":
        label = ENCODING_LABELS.get(table.encoding or "", table.encoding)
        separator = _DELIMITER_NAMES.get(table.delimiter or ",", "逗号")
        what, read_as, named = f"{label} 编码、{separator}分隔的 CSV 文本", "CSV", ".csv"
    else:
        what, read_as, named = "JSON 文本", "JSON", f".{table.format}"
    table.notes.insert(0, f"文件扩展名为 {suffix}，但内容不是 Excel 工作簿，而是 {what}（可能是改了扩展名）："
                          f"已按 {read_as} 读取，请核对报告中的数据。以后请使用 {named} 扩展名，"
                          "或在 Excel、WPS 中打开后另存为 .xlsx。")
    return table


def open_table(path: Path, field_of: FieldOf) -> Table:
    """Open ``path`` by its content (and extension); ``field_of`` names the field a header cell stands for."""
    if not path.exists():
        raise FileUnreadable(f"文件不存在：{path}")
    if path.is_dir():
        raise FileUnreadable(f"这是一个目录，不是文件：{path}")
    with open(path, "rb") as fh:
        head = fh.read(512)
    suffix = path.suffix.lower()
    if head.startswith(_OLE2_SIGNATURE):  # Excel 97–2003
        return open_xls(path, field_of)
    if head.startswith(_ZIP_SIGNATURES):
        return open_xlsx(path, field_of)
    kind = _markup_kind(path)
    if kind == "html":
        return open_html(path, field_of, suffix)
    if kind == "spreadsheetml":
        return open_spreadsheetml(path, field_of, suffix)
    if kind == "mhtml":
        raise FileUnreadable(
            f"{_markup_named('单个文件网页（MHTML，Excel“另存为”中的“单个文件网页”）', suffix)}，平台读不了这种格式，"
            "未保存任何数据：请在 Excel 或 WPS 中打开，另存为 .xlsx 或 CSV（UTF-8）后再提交。")
    if suffix in WORKBOOK_SUFFIXES:
        if kind == "markup":
            raise FileUnreadable(
                f"文件扩展名为 {suffix}，但内容是网页或 XML 文件，不是 Excel 工作簿，也不是可以按表格读取的网页表格或"
                " XML 电子表格。请在 Excel 或 WPS 中打开，另存为 .xlsx 或 CSV（UTF-8）后再提交。"
            )
        if _looks_like_text(head):
            return _text_named_as_workbook(path, field_of, head, suffix)
    if suffix in (".xlsx", ".xlsm"):
        return open_xlsx(path, field_of)
    return _open_by_content(path, field_of, head, suffix)


# How JSON text begins: an array's or an object's first value (or its end). A CSV whose first column
# is named [序号] or {编号} (a database's bracketed names) begins with the same character; a
# program's repr with single quotes ({'a': 1}) is taken for the broken JSON it is
_JSON_START = re.compile(rb"""(?:\[\s*(?:[\[{"'\]\d-]|true\b|false\b|null\b|\Z)|\{\s*(?:["'}]|\Z))""")


def _open_by_content(path: Path, field_of: FieldOf, head: bytes, suffix: str) -> Table:
    """A text file: JSON, JSON Lines or CSV, by its content and its ``suffix`` ("" for none)."""
    text_head = head.lstrip(codecs.BOM_UTF8).lstrip()
    utf16 = _utf16_json(head)
    if utf16:  # a .NET or Windows program's JSON (Encoding.Unicode): JSON text is UTF-16 or UTF-8
        decoding = detect_encoding(path, utf16)
        if _first_line_is_a_record(path, decoding, field_of):
            return open_jsonl(path, field_of, decoding)
        return open_json(path, field_of, decoding)
    json_text = _JSON_START.match(text_head) is not None
    if suffix in (".jsonl", ".ndjson") or (json_text and text_head.startswith(b"{") and suffix != ".json"):
        decoding = detect_encoding(path)  # once: it reads the whole file
        if _first_line_is_a_record(path, decoding, field_of):
            return open_jsonl(path, field_of, decoding)
        return open_json(path, field_of, decoding)
    if suffix == ".json" or json_text:
        return open_json(path, field_of)
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        if _utf16_without_bom(head):
            raise FileUnreadable("文件看来是没有字节顺序标记（BOM）的 UTF-16 文本，无法可靠识别："
                                 "请在 Excel 或 WPS 中另存为 CSV（UTF-8）后再提交。")
        if not _looks_like_text(head):
            raise FileUnreadable("文件是二进制内容，不是 CSV、Excel（XLSX、XLS）、JSON 或 JSON Lines 文件。")
    return open_csv(path, field_of)
