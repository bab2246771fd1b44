"""Tables written as markup, which department systems export as “Excel”: an HTML page's tables and
an XML Spreadsheet 2003 (SpreadsheetML) workbook, parsed a piece at a time into rows of cells.

This module knows the markup only: where a cell stands (``colspan``/``rowspan``, ``ss:Index``,
``ss:MergeAcross``), what text it holds, which rows and columns are hidden and which cells are
merged down. What a row means (its header, its records) and what a typed SpreadsheetML value
reads as (number formats, dates) is the readers' business (``readers.open_html``,
``readers.open_spreadsheetml``), so that both forms go the workbook path every other workbook goes.

Rows are numbered as Excel and WPS number them when they open the file: in an HTML page every
``<tr>`` is a row, and so is each block of text outside the tables (a title above the table);
the tables of a page stand one under the other on one sheet. In SpreadsheetML a ``<Row>`` is the
row its ``ss:Index`` says, else the one after the row before.
"""

from __future__ import annotations

import codecs
import html
import pyexpat
import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import IO, Any

from xinyong.core.errors import FileUnreadable

# how much text is parsed at a time
MARKUP_CHUNK_CHARS = 1 << 16
# Excel and WPS hold at most 32,767 characters in a cell: a cell's text longer than this is no
# export of a table (and would be held whole in memory)
MAX_CELL_CHARS = 1 << 20
# markup the HTML parser holds while it waits for its end (a comment, a tag, a <style>): real pages
# hold a few kilobytes at a time
MAX_HELD_CHARS = 16 << 20
# the largest colspan and rowspan HTML allows (HTML Living Standard, 4.9.11), and the columns of a sheet
MAX_COLSPAN = 1000
MAX_ROWSPAN = 65534
MAX_COLUMNS = 16_384

_REFUSED = "已拒绝读取，未保存任何数据。"
_RESAVE = "请在 Excel 或 WPS 中打开，另存为 .xlsx 或 CSV（UTF-8）后重新报送。"


@dataclass
class Layout:
    """What a sheet's markup says beside its cells (``readers._SheetScan`` takes it over)."""

    rows: int = 0  # the sheet's rows, as far as known (its size, for the progress shown)
    cells: int = 0  # table cells met (an HTML page without any holds no table)
    # {first row: [(column, last row)]} of the cells merged down several rows (1-based)
    merges: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    hidden: set[int] = field(default_factory=set)  # hidden rows (1-based)
    hidden_columns: set[int] = field(default_factory=set)  # hidden columns (1-based)


# -- telling the forms apart -------------------------------------------------------------------

# the first element of a document, after an XML declaration, processing instructions, comments
# and a doctype (with its internal subset: entities are refused by the reader, saying so)
_FIRST_ELEMENT = re.compile(r"(?:\s|<\?.*?\?>|<!--.*?-->|<!doctype[^\[>]*\[.*?\]\s*>|<![^>]*>)*<([a-z][\w:.-]*)",
                            re.S)
_HTML_FIRST = frozenset({
    "html", "head", "body", "meta", "title", "style", "link", "script", "table", "thead", "tbody", "tr",
    "caption", "div", "p", "span", "font", "center", "b", "br", "h1", "h2", "h3", "h4", "h5", "h6",
})
SPREADSHEET_NAMESPACE = "urn:schemas-microsoft-com:office:spreadsheet"


def markup_kind(head: bytes) -> str | None:
    """What the first bytes of a file say it is: "html" (a page whose first element is one of a
    page's), "spreadsheetml" (a ``<Workbook>`` in the namespace of XML Spreadsheet 2003),
    "mhtml" (a web archive: Excel's 单个文件网页), "markup" (other markup), or None."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head[: len(head) // 2 * 2].decode("utf-16", errors="replace")
    else:
        text = head.removeprefix(codecs.BOM_UTF8).decode("latin-1")
    text = text.lstrip(" \t\r\n\ufeff").lower()
    if text.startswith("mime-version:"):
        return "mhtml"
    if not text.startswith("<"):
        return None
    found = _FIRST_ELEMENT.match(text)
    if found is None:
        return "markup"
    name = found[1]
    if name.rpartition(":")[2] == "workbook" and SPREADSHEET_NAMESPACE in text:
        return "spreadsheetml"
    return "html" if name in _HTML_FIRST else "markup"


_META_CHARSET = re.compile(rb"<meta\b[^>]*?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)
_XML_ENCODING = re.compile(rb"<\?xml\b[^>]*?\bencoding\s*=\s*[\"']([\w.:-]+)[\"']", re.I)


def declared_charset(head: bytes, kind: str) -> str | None:
    """The encoding the document declares (a page's ``<meta charset>``, else its XML declaration),
    as written; None when it declares none."""
    found = _META_CHARSET.search(head) if kind == "html" else None
    found = found or _XML_ENCODING.search(head)
    return found[1].decode("ascii", "replace") if found else None


def page_title(head: str) -> str:
    """The ``<title>`` of a page (what an error page says it is), or ""."""
    found = re.search(r"<title\b[^>]*>(.*?)</title", head, re.I | re.S)
    return " ".join(html.unescape(found[1]).split())[:60] if found else ""


def _too_long(what: str) -> FileUnreadable:
    return FileUnreadable(
        f"{what}中有一个单元格的文字超过 {MAX_CELL_CHARS:,} 个字符（Excel 和 WPS 的单元格最多 32,767 个字符），"
        f"不是正常导出的表格，疑似恶意构造的文件，{_REFUSED}{_RESAVE}")


# -- HTML ----------------------------------------------------------------------------------

_SPACES = re.compile(r"[ \t\n\r\f]+")
# tags after which a page (or a cell) goes on on a new line
_BLOCKS = frozenset({
    "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "pre", "blockquote", "hr", "center", "address",
    "section", "article", "header", "footer", "nav", "aside", "main", "form", "fieldset", "legend",
    "figure", "figcaption", "h1", "h2", "h3", "h4", "h5", "h6",
})
# what the page does not show: scripts, styles, the head's title
_UNSHOWN = frozenset({"script", "style", "template", "title"})
_DISPLAY_NONE = re.compile(r"display\s*:\s*none", re.I)
_NUMBER = re.compile(r"\s*(\d+)")


def _span(attrs: dict[str, str | None], name: str, most: int) -> int:
    found = _NUMBER.match(attrs.get(name) or "")
    return min(max(int(found[1]), 1), most) if found else 1


def _hidden(attrs: dict[str, str | None]) -> bool:
    return "hidden" in attrs or bool(_DISPLAY_NONE.search(attrs.get("style") or ""))


class _Text:
    """Text as a page shows it: runs of white space are one space, a line break (``<br>``, a
    block) starts a new line, ``&nbsp;`` is a space; each line is trimmed."""

    def __init__(self, where: str) -> None:
        self.lines: list[list[str]] = [[]]
        self.size = 0
        self.where = where

    def add(self, data: str) -> None:
        self.size += len(data)
        if self.size > MAX_CELL_CHARS:
            raise _too_long(self.where)
        self.lines[-1].append(data)

    def newline(self) -> None:
        self.lines.append([])

    def holds_text(self) -> bool:
        return any(not piece.isspace() for line in self.lines for piece in line if piece)

    def value(self) -> str:
        lines = [_SPACES.sub(" ", "".join(line)).replace("\xa0", " ").strip(" ") for line in self.lines]
        while lines and not lines[-1]:
            lines.pop()
        while lines and not lines[0]:
            lines.pop(0)
        return "\n".join(lines)


@dataclass
class _Cell:
    column: int  # 0-based
    text: _Text


@dataclass
class _TableState:
    """A table being read: its open row and cell, and the columns its rows spanning down cover."""

    cells: list[str | None] | None = None  # the open row's cells (None: no row open)
    cell: _Cell | None = None
    hidden_row: bool = False
    merges: list[tuple[int, int]] = field(default_factory=list)  # the open row's: (column, rows down)
    covered: dict[int, int] = field(default_factory=dict)  # column -> rows it is still covered (this one too)
    spans: list[list[int]] = field(default_factory=list)  # [first row, column, last row] of its merges
    columns: int = 0  # the <col> elements met (for the hidden ones)


class _PageParser(HTMLParser):
    """An HTML page's rows, as Excel lays the page out on a sheet. Finished rows wait in ``rows``;
    ``layout`` is filled as the page is read. With ``keep`` false the cells' text is not kept (a
    first pass that only wants the layout)."""

    def __init__(self, keep: bool = True) -> None:
        super().__init__(convert_charrefs=True)
        self.keep = keep
        self.rows: deque[list[str | None]] = deque()
        self.layout = Layout()
        self.tables: list[_TableState] = []
        self.unshown = 0
        self.outside = _Text("网页")  # text outside the tables, up to the next line break

    # a row is done
    def _emit(self, cells: list[str | None], hidden: bool = False) -> int:
        self.layout.rows += 1
        if hidden:
            self.layout.hidden.add(self.layout.rows)
        if self.keep:
            self.rows.append(cells)
        return self.layout.rows

    def _flush_outside(self) -> None:
        if self.outside.holds_text():
            self._emit([self.outside.value()])
        self.outside = _Text("网页")

    def _table(self) -> _TableState:
        if not self.tables:  # a row or a cell without a table (a fragment): a table all the same
            self._flush_outside()
            self.tables.append(_TableState())
        return self.tables[-1]

    def _start_row(self, hidden: bool = False) -> _TableState:
        table = self._table()
        self._end_row(table)
        table.cells, table.hidden_row = [], hidden
        return table

    def _end_cell(self, table: _TableState) -> None:
        if table.cell is not None and table.cells is not None:
            table.cells[table.cell.column] = table.cell.text.value() if self.keep else ""
        table.cell = None

    def _end_row(self, table: _TableState) -> None:
        self._end_cell(table)
        if table.cells is None:
            return
        line = self._emit(table.cells, table.hidden_row)
        table.spans.extend([line, column, line + down] for column, down in table.merges)
        table.cells, table.merges = None, []
        table.covered = {c: n - 1 for c, n in table.covered.items() if n > 1}

    def _end_table(self) -> None:
        table = self.tables.pop()
        self._end_row(table)
        for first, column, last in table.spans:  # a rowspan past the table's last row ends there
            last = min(last, self.layout.rows)
            if last > first:
                self.layout.merges.setdefault(first, []).append((column + 1, last))

    def _start_cell(self, attrs: dict[str, str | None]) -> None:
        table = self._table()
        if table.cells is None:
            self._start_row()
        self._end_cell(table)
        cells = table.cells
        assert cells is not None
        self.layout.cells += 1
        column = len(cells)
        while table.covered.get(column, 0) > 0:  # a cell of a row above spans down over this column
            column += 1
        colspan = _span(attrs, "colspan", MAX_COLSPAN)
        rowspan = _span(attrs, "rowspan", MAX_ROWSPAN)
        if column >= MAX_COLUMNS:  # past the sheet's last column: Excel drops it too
            table.cell = None
            return
        colspan = min(colspan, MAX_COLUMNS - column)
        cells.extend([None] * (column - len(cells)))
        cells.append("")
        cells.extend([None] * (colspan - 1))  # the columns a merged cell spans across show nothing
        if rowspan > 1:
            table.merges.append((column, rowspan - 1))
            for spanned in range(column, column + colspan):
                table.covered[spanned] = rowspan
        table.cell = _Cell(column, _Text(f"网页第 {self.layout.rows + 1} 行"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _UNSHOWN:
            self.unshown += 1
            return
        named = dict(attrs)
        if tag == "table":
            if not self.tables:
                self._flush_outside()
            self.tables.append(_TableState())
        elif tag == "tr":
            self._start_row(_hidden(named))
        elif tag in ("td", "th"):
            self._start_cell(named)
        elif tag == "caption":  # shown above the table, as a row of its own
            self._start_row()
            self._start_cell({})
        elif tag == "col" and self.tables:
            table = self.tables[-1]
            span = _span(named, "span", MAX_COLSPAN)
            if _hidden(named):
                self.layout.hidden_columns.update(range(table.columns + 1, min(table.columns + span, MAX_COLUMNS) + 1))
            table.columns += span
        elif tag == "br" or tag in _BLOCKS:
            self._line_break(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _UNSHOWN:
            self.unshown -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _UNSHOWN:
            self.unshown = max(self.unshown - 1, 0)
        elif tag == "table":
            if self.tables:
                self._end_table()
        elif not self.tables:
            if tag in _BLOCKS:
                self._flush_outside()
        elif tag in ("tr", "caption"):
            self._end_row(self.tables[-1])
        elif tag in ("td", "th"):
            self._end_cell(self.tables[-1])
        elif tag in _BLOCKS:
            self._line_break(tag)

    def _line_break(self, tag: str) -> None:
        if not self.tables:
            self._flush_outside()
            return
        cell = self.tables[-1].cell
        if cell is not None and (tag == "br" or cell.text.holds_text()):
            cell.text.newline()

    def handle_data(self, data: str) -> None:
        if self.unshown:
            return
        if not self.tables:
            self.outside.add(data)
            return
        cell = self.tables[-1].cell
        if cell is not None and self.keep:
            cell.text.add(data)
        # text in a table outside its cells is not on the sheet

    def finish(self) -> None:
        """The end of the page: what is still open ends here."""
        self.close()
        while self.tables:
            self._end_table()
        self._flush_outside()


def _fed(parser: _PageParser, fh: IO[str]) -> Iterator[str]:
    """Feed the page to the parser a chunk at a time, yielding after each."""
    while chunk := fh.read(MARKUP_CHUNK_CHARS):
        parser.feed(chunk)
        if len(parser.rawdata) > MAX_HELD_CHARS:
            raise FileUnreadable(
                f"网页中有一段超过 {MAX_HELD_CHARS:,} 个字符的标记一直没有结束（如没有闭合的注释“<!--”或标签），"
                f"不是正常导出的表格，{_REFUSED}{_RESAVE}")
        yield chunk
    parser.finish()
    yield ""


def page_rows(fh: IO[str]) -> Iterator[list[str | None]]:
    """The rows of the page, as Excel shows them: a cell's text, None where a merged cell spans."""
    parser = _PageParser()
    for _chunk in _fed(parser, fh):
        while parser.rows:
            yield parser.rows.popleft()


_LAYOUT_MARKS = ("rowspan", "display", "hidden")


def page_layout(fh: IO[str]) -> Layout:
    """The page's layout. Most exports merge nothing down and hide nothing: when no tag could say
    so, the rows and cells are counted without parsing the page (the rows only give progress)."""
    rows = cells = 0
    tail = ""
    marked = False
    while chunk := fh.read(MARKUP_CHUNK_CHARS):
        text = (tail + chunk).lower()
        marked = marked or any(mark in text for mark in _LAYOUT_MARKS)
        start = max(len(tail) - 2, 0)  # a tag cut by the chunk's edge was not counted before
        rows += text.count("<tr", start)
        cells += text.count("<td", start) + text.count("<th", start)
        tail = text[-16:]
    if not marked:
        return Layout(rows=rows, cells=cells)
    fh.seek(0)
    parser = _PageParser(keep=False)
    for _chunk in _fed(parser, fh):
        pass
    return parser.layout


# -- XML Spreadsheet 2003 ------------------------------------------------------------------

# how a typed SpreadsheetML value is read: (ss:Type or "Formula" for a formula saved without its
# result, the text of its <Data>, its ss:StyleID) -> the cell's value
ValueOf = Callable[[str, str, str | None], Any]


@dataclass
class XmlSheet:
    title: str
    visible: bool = True
    layout: Layout = field(default_factory=Layout)


@dataclass
class XmlWorkbook:
    sheets: list[XmlSheet] = field(default_factory=list)
    date1904: bool = False
    number_formats: dict[str, str] = field(default_factory=dict)  # {ss:ID of a style: its ss:Format}


def _local(name: str) -> str:
    return name.rpartition(" ")[2]


def _attributes(attrs: dict[str, str]) -> dict[str, str]:
    """Attributes by local name: ss:Index as Index (a generator may leave the prefix out)."""
    return {_local(k): v for k, v in attrs.items()}


def _whole(value: str | None, default: int, least: int = 0) -> int:
    """An attribute's whole number (ss:Index, ss:Span…), at least ``least``; ``default`` without one."""
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        found = _NUMBER.match(value)
        number = int(found[1]) if found else default
    return max(number, least)


@dataclass
class _XmlCell:
    column: int  # 1-based
    attrs: dict[str, str]
    data: list[str] | None = None  # the text of its <Data>, once met
    type: str = "String"
    size: int = 0
    open: bool = False  # inside its <Data> (a <Comment> holds a <Data> of its own)


class _WorkbookParser:
    """A SpreadsheetML workbook read with expat. With ``wanted`` None, the listing of the workbook
    (its sheets and their layouts, its styles); else the rows of sheet ``wanted`` (0-based), each
    as ``(row, [value, …])``, finished rows waiting in ``rows``."""

    def __init__(self, wanted: int | None = None, value: ValueOf | None = None) -> None:
        self.wanted, self.value = wanted, value
        self.book = XmlWorkbook()
        self.rows: deque[tuple[int, list[Any]]] = deque()
        self.done = False
        self.path: list[str] = []  # the local names of the open elements
        self.sheet = -1
        self.row = 0
        self.repeated = 0  # the rows below the open row that repeat it (ss:Span): empty
        self.column = 0
        self.style_id: str | None = None
        self.cells: list[Any] | None = None  # the open row's values
        self.filled = False  # whether the open row holds a value
        self.cell: _XmlCell | None = None
        self.text: list[str] | None = None  # the text of a sheet's <Visible>
        parser = pyexpat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._data
        # An Excel workbook declares no entities: a document that does is refused before they could
        # be expanded (expat's own limits guard against the "billion laughs"; external entities are
        # never fetched)
        parser.EntityDeclHandler = self._entity
        self.parser = parser

    @staticmethod
    def _entity(*_args: Any) -> None:
        raise FileUnreadable("XML 文件中声明了实体（<!ENTITY …>），Excel 或 WPS 保存的 XML 表格不会这样写，"
                             f"疑似恶意构造的文件，{_REFUSED}{_RESAVE}")

    @property
    def _reading(self) -> bool:
        return self.sheet == self.wanted

    @property
    def _layout(self) -> Layout:
        return self.book.sheets[-1].layout

    def _start(self, name: str, raw: dict[str, str]) -> None:
        local = _local(name)
        parent = self.path[-1] if self.path else ""
        self.path.append(local)
        attrs = _attributes(raw) if raw else {}
        # (the elements of every cell first: they are nearly all of a workbook)
        if local == "Data" and parent == "Cell" and self.cell is not None:
            self.cell.data, self.cell.type, self.cell.open = [], attrs.get("Type", "String"), True
        elif local == "Cell" and parent == "Row" and self.cells is not None:
            self.column = _whole(attrs.get("Index"), self.column + 1, 1)
            self.cell = _XmlCell(self.column, attrs)
            down = _whole(attrs.get("MergeDown"), 0)
            if down:
                self._layout.merges.setdefault(self.row, []).append((self.column, self.row + down))
            self.column += _whole(attrs.get("MergeAcross"), 0)  # the cells it spans across show nothing
        elif local == "Row" and parent == "Table" and self.sheet >= 0:
            self.row = _whole(attrs.get("Index"), self.row + 1, 1)
            self.repeated = _whole(attrs.get("Span"), 0)
            self.column = 0
            self.cells, self.filled = [], False
            if _true(attrs.get("Hidden")):
                self._layout.hidden.update(range(self.row, self.row + self.repeated + 1))
        elif local == "Worksheet":
            self.sheet += 1
            self.row = 0
            self.book.sheets.append(XmlSheet(attrs.get("Name", "") or f"Sheet{self.sheet + 1}"))
        elif local == "Style" and parent == "Styles":
            self.style_id = attrs.get("ID")
        elif local == "NumberFormat" and self.style_id is not None and "Format" in attrs:
            self.book.number_formats[self.style_id] = attrs["Format"]
        elif local == "Date1904":
            self.book.date1904 = True
        elif self.sheet < 0:
            return
        elif local == "Visible" and parent == "WorksheetOptions":
            self.text = []
        elif local == "Column" and parent == "Table":
            self.column = _whole(attrs.get("Index"), self.column + 1, 1)
            last = self.column + _whole(attrs.get("Span"), 0)
            if _true(attrs.get("Hidden")):
                self._layout.hidden_columns.update(range(self.column, min(last, MAX_COLUMNS) + 1))
            self.column = last

    def _end(self, name: str) -> None:
        local = self.path.pop() if self.path else _local(name)
        parent = self.path[-1] if self.path else ""
        if local == "Style":
            self.style_id = None
        elif self.sheet < 0:
            return
        elif local == "Worksheet":
            self.done = self.done or self._reading
        elif local == "Visible" and self.text is not None:
            if "".join(self.text).strip() in ("SheetHidden", "SheetVeryHidden"):
                self.book.sheets[-1].visible = False
            self.text = None
        elif local == "Data" and parent == "Cell" and self.cell is not None:
            self.cell.open = False
        elif local == "Cell" and parent == "Row" and self.cell is not None:
            self._end_cell(self.cell)
            self.cell = None
        elif local == "Row" and parent == "Table" and self.cells is not None:
            if self.filled:
                self._layout.rows = max(self._layout.rows, self.row)
                if self._reading:
                    self.rows.append((self.row, self.cells))
            self.row += self.repeated
            self.cells = None

    def _end_cell(self, cell: _XmlCell) -> None:
        assert self.cells is not None
        formula = cell.attrs.get("Formula")
        if cell.column > MAX_COLUMNS or (cell.data is None and not formula):
            return  # past the sheet's last column, or a cell with a style only
        self._layout.cells += 1
        self.filled = True
        if not self._reading:
            return
        assert self.value is not None
        style = cell.attrs.get("StyleID")
        # a formula saved without its result (a generator's workbook): what Excel shows is not known
        value = self.value("Formula", formula or "", style) if cell.data is None else \
            self.value(cell.type, "".join(cell.data), style)
        self.cells.extend([None] * (cell.column - len(self.cells)))
        self.cells[cell.column - 1] = value

    def _data(self, text: str) -> None:
        cell = self.cell
        if cell is not None and cell.open:
            cell.size += len(text)
            if cell.size > MAX_CELL_CHARS:
                raise _too_long(f"XML 表格的工作表“{self.book.sheets[-1].title}”第 {self.row} 行")
            if self._reading:
                assert cell.data is not None
                cell.data.append(text)
        elif self.text is not None:
            self.text.append(text)

    def feed(self, chunk: str, final: bool = False) -> None:
        try:
            self.parser.Parse(chunk, final)
        except pyexpat.ExpatError as exc:
            raise FileUnreadable(
                f"XML 表格格式错误（文件第 {exc.lineno} 行第 {exc.offset + 1} 列：{pyexpat.ErrorString(exc.code)}），"
                f"文件可能不完整或已损坏，{_REFUSED}{_RESAVE}") from exc


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true")


def _parsed(parser: _WorkbookParser, fh: IO[str]) -> Iterator[None]:
    while not parser.done and (chunk := fh.read(MARKUP_CHUNK_CHARS)):
        parser.feed(chunk)
        yield
    if not parser.done:
        parser.feed("", final=True)
        yield


def xml_workbook(fh: IO[str]) -> XmlWorkbook:
    """The workbook's sheets (their names, whether they are shown, their layouts) and its styles'
    number formats: the document read once."""
    parser = _WorkbookParser()
    for _ in _parsed(parser, fh):
        pass
    return parser.book


def xml_rows(fh: IO[str], sheet: int, value: ValueOf) -> Iterator[list[Any]]:
    """The rows of sheet ``sheet`` (0-based) from its first row on, as the workbook path takes
    them: a list of values per row, empty for the rows the sheet leaves out."""
    parser = _WorkbookParser(sheet, value)
    expected = 1
    for _ in _parsed(parser, fh):
        while parser.rows:
            row, cells = parser.rows.popleft()
            if row < expected:
                continue  # a row written out of order (an ss:Index going back): Excel refuses the file
            while expected < row:
                expected += 1
                yield []
            expected += 1
            yield cells
