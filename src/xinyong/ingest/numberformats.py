"""What a workbook's number cell shows when its number format writes more than the number.

A cell holds a number and a number format, and Excel and WPS show the number through the format:
2000 under ``#,##0.00"元"`` is shown 2,000.00元, 20000 under ``0!.0000"万元"`` (a Chinese way of
showing 元 in 万元: a literal point put between the digits) is shown 2.0000万元, 1 under
``"XK2024"000000`` is shown XK2024000001. Staff read, check and export what is shown, so the
reader reads such a cell as shown — the unit after an amount then counts, as it does when the same
cell comes in a CSV export.

Only formats that change what the cell says are rendered (``shown_by``): literal text holding a
letter, digit or Chinese character (a unit, a prefix), zero padding (``000000``), a literal inside
the digits (``0!.0000``), or a scale (``0,`` thousands, ``%``). A format that only groups thousands,
fixes the decimals, adds a currency sign or colours negatives shows the same value, and the cell is
read as its value (rounded to the shown decimals it would be another amount than the one kept).

The rendering follows ECMA-376 Part 1 §18.8.31 (numFmts) and Excel's rules for its sections
(positive; negative; zero), digit placeholders (0 # ?), thousands separator and scaling commas,
percent, and literals ("text", \\c, !c, and characters Excel shows as they are). What it does not
render — scientific notation, fractions, conditions ([>100]), Chinese numerals ([DBNum2]), a date or
time code — gives None: the reader then says so rather than store something else than is shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

# characters Excel shows as they are without quotes (ECMA-376 §18.8.31, Excel's own list)
_PLAIN_LITERALS = frozenset("$-+():^&'~{}<>= ")  # and / (a fraction's, not rendered here)
# a literal that changes what the cell says: a letter, a digit or a Chinese character (元, 万元, XK)
_MEANINGFUL = re.compile(r"[^\W_]")


@dataclass(frozen=True)
class _Token:
    kind: str  # "literal", "digit", "point", "comma", "percent", "general"
    text: str = ""


class _Unrenderable(Exception):
    """A part of a format this module does not render."""


def _tokens(section: str) -> list[_Token]:
    """The tokens of one section of a format code."""
    tokens: list[_Token] = []
    i, n = 0, len(section)
    while i < n:
        c = section[i]
        if c == '"':
            end = section.find('"', i + 1)
            if end < 0:
                raise _Unrenderable(section)
            tokens.append(_Token("literal", section[i + 1:end]))
            i = end + 1
        elif c in "\\!":
            tokens.append(_Token("literal", section[i + 1:i + 2]))
            i += 2
        elif c in "_*":  # a space as wide as the next character; the next character repeated to fill
            i += 2
        elif c == "[":
            end = section.find("]", i)
            if end < 0:
                raise _Unrenderable(section)
            inner = section[i + 1:end]
            if inner.startswith("$"):  # [$¥-804]: a currency sign and a locale
                tokens.append(_Token("literal", inner[1:].split("-")[0]))
            elif inner[:1] in "<>=" or inner.lower().startswith(("dbnum", "natnum")) or not inner.lower().strip("hms"):
                raise _Unrenderable(inner)  # a condition, Chinese numerals, an elapsed time
            # otherwise a colour ([Red], [红色], [Color10]): nothing shown
            i = end + 1
        elif c in "0#?":
            tokens.append(_Token("digit", c))
            i += 1
        elif c == ".":
            tokens.append(_Token("point"))
            i += 1
        elif c == ",":
            tokens.append(_Token("comma"))
            i += 1
        elif c == "%":
            tokens.append(_Token("percent"))
            i += 1
        elif section[i:i + 7].lower() == "general":
            tokens.append(_Token("general"))
            i += 7
        elif c in _PLAIN_LITERALS or ord(c) > 127:  # 元 or ¥ written without quotes (WPS does)
            tokens.append(_Token("literal", c))
            i += 1
        else:  # E+ (scientific), / (a fraction), @, a date or time code, letters Excel takes only quoted
            raise _Unrenderable(c)
    return tokens


def _sections(code: str) -> list[str]:
    """The sections of a format code, split at the semicolons outside quotes and escapes."""
    sections, start, i, quoted = [], 0, 0, False
    while i < len(code):
        c = code[i]
        if c == '"':
            quoted = not quoted
        elif not quoted and c in "\\!_*":
            i += 1  # the next character belongs to this one
        elif not quoted and c == ";":
            sections.append(code[start:i])
            start = i + 1
        i += 1
    sections.append(code[start:])
    return sections


@dataclass(frozen=True)
class _Section:
    tokens: tuple[_Token, ...]
    integer: tuple[int, ...]  # indexes of the integer part's digit placeholders
    fraction: tuple[int, ...]  # indexes of the fraction's digit placeholders
    grouped: bool  # a comma between the integer digits: thousands separators
    scale: int  # the number is divided by 1000 this many times (commas after the last digit)
    percent: int  # the number is multiplied by 100 this many times
    general: bool
    skipped: frozenset[int]  # indexes of commas that are no literal (grouping, scaling)

    @property
    def changes_the_value(self) -> bool:
        """Whether the section shows other digits than the value's, or words beside them."""
        integer_zeros = sum(1 for i in self.integer if self.tokens[i].text == "0")
        inside = range(self.integer[0], self.integer[-1]) if self.integer else range(0)
        literal_inside = any(self.tokens[i].kind == "literal" for i in inside)
        words = any(t.kind == "literal" and _MEANINGFUL.search(t.text) for t in self.tokens)
        return bool(words or integer_zeros > 1 or literal_inside or self.scale or self.percent)


def _section(text: str) -> _Section:
    tokens = _tokens(text)
    points = [i for i, t in enumerate(tokens) if t.kind == "point"]
    if len(points) > 1:
        raise _Unrenderable(text)
    point = points[0] if points else len(tokens)
    digits = [i for i, t in enumerate(tokens) if t.kind == "digit"]
    integer = tuple(i for i in digits if i < point)
    fraction = tuple(i for i in digits if i > point)
    general = any(t.kind == "general" for t in tokens)
    if general and digits:
        raise _Unrenderable(text)
    grouped, scale, skipped = False, 0, set()
    last_digit = digits[-1] if digits else -1
    for i, t in enumerate(tokens):
        if t.kind != "comma":
            continue
        skipped.add(i)
        if integer and integer[0] < i < integer[-1]:
            grouped = True
        elif digits and i > last_digit and all(tokens[k].kind == "comma" for k in range(last_digit + 1, i)):
            scale += 1  # 0, or 0.0,,: commas right after the last digit scale by 1000 each
        elif points and integer and integer[-1] < i < point and all(
                tokens[k].kind == "comma" for k in range(integer[-1] + 1, i)):
            scale += 1  # #,##0,.00: commas right before the point
        else:
            skipped.discard(i)
            tokens[i] = _Token("literal", ",")  # a comma elsewhere is shown as it is
    if grouped and any(tokens[i].kind == "literal" for i in range(integer[0], integer[-1])):
        raise _Unrenderable(text)
    percent = sum(1 for t in tokens if t.kind == "percent")
    return _Section(tuple(tokens), integer, fraction, grouped, scale, percent, general, frozenset(skipped))


@dataclass(frozen=True)
class NumberFormat:
    """A number format that changes what its cells say."""

    code: str
    sections: tuple[_Section, ...] | None  # None: not rendered (see the module's notes)

    def show(self, value: float | int) -> str | None:
        """The text the cell shows, or None when this format is not rendered here."""
        if self.sections is None:
            return None
        sections = self.sections
        if len(sections) == 1 or value > 0 or (value == 0 and len(sections) == 2):
            section, sign = sections[0], "-" if value < 0 else ""
        elif value < 0:
            section, sign = sections[1], ""
        else:
            section, sign = sections[2], ""
        try:
            return sign + _render(section, abs(value))
        except (InvalidOperation, ValueError, OverflowError):
            return None


def _render(section: _Section, value: float | int) -> str:
    tokens = section.tokens
    if section.general:
        number = _general(value * 100 ** section.percent)
        return "".join(number if t.kind == "general" else _shown(t) for t in tokens)
    exact = Decimal(f"{value:.15G}") * 100 ** section.percent / 1000 ** section.scale
    places = len(section.fraction)
    rounded = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    whole, _, decimals = f"{rounded:f}".partition(".")
    whole = whole.lstrip("0")
    out = [_shown(t) if i not in section.skipped else "" for i, t in enumerate(tokens)]
    if section.integer:
        if section.grouped:
            first_zero = next((k for k, i in enumerate(section.integer) if tokens[i].text == "0"), None)
            least = len(section.integer) - first_zero if first_zero is not None else 0
            digits = whole.rjust(least, "0")  # 0,000 shows 0,012
            out[section.integer[0]] = _group(digits) if digits else ""
            for i in section.integer[1:]:
                out[i] = ""
        else:
            left = whole
            for i in reversed(section.integer):
                if left:
                    out[i], left = left[-1], left[:-1]
                else:
                    out[i] = {"0": "0", "#": "", "?": " "}[tokens[i].text]
            out[section.integer[0]] = left + out[section.integer[0]]  # more digits than placeholders
    elif whole:  # .00 shows 12.50 for 12.5: the digits go in front of the point
        point = next(i for i, t in enumerate(tokens) if t.kind == "point")
        out[point] = whole + out[point]
    shown_decimals = list(decimals.ljust(places, "0"))
    for k in reversed(range(places)):  # trailing zeros under # or ? are not shown
        placeholder = tokens[section.fraction[k]].text
        if placeholder == "0" or shown_decimals[k] != "0":
            break
        shown_decimals[k] = "" if placeholder == "#" else " "
    for k, i in enumerate(section.fraction):
        out[i] = shown_decimals[k]
    return "".join(out)


def _group(digits: str) -> str:
    """Digits with thousands separators, leading zeros kept (0,012)."""
    head = len(digits) % 3 or 3
    return ",".join([digits[:head], *(digits[i:i + 3] for i in range(head, len(digits), 3))])


def _shown(token: _Token) -> str:
    if token.kind == "literal":
        return token.text
    if token.kind == "point":
        return "."
    if token.kind == "percent":
        return "%"
    return ""


def _general(value: float | int) -> str:
    """A number as the General format shows it, to Excel's 15 significant digits (as the reader
    reads a number cell)."""
    if abs(value) >= 1e15:
        return f"{value:.15G}"
    if float(value).is_integer():
        return str(int(value))
    return format(Decimal(f"{value:.15G}").normalize(), "f")


@lru_cache(maxsize=1024)
def shown_by(code: str | None) -> NumberFormat | None:
    """The format ``code`` when it changes what its cells say (see the module's notes), else None:
    the cell is read as its value."""
    if not code or code.lower() in ("general", "@", "0", "0.00", "#,##0", "#,##0.00"):
        return None
    try:
        sections = tuple(_section(text) for text in _sections(code)[:3])
    except _Unrenderable:
        return NumberFormat(code, None) if _says_more(code) else None
    if not any(s.changes_the_value for s in sections):
        return None
    return NumberFormat(code, sections)


def _says_more(code: str) -> bool:
    """Whether a format this module does not render holds words (a unit) or a scale: then what
    the cell shows may be something else than its value."""
    literals = "".join(a + b for a, b in re.findall(r'"([^"]*)"|[\\!](.)', code))
    unquoted = re.sub(r'"[^"]*"|[\\!_*].|\[[^\]]*\]', "", code)
    chinese = "".join(c for c in unquoted if ord(c) > 127)
    return bool(_MEANINGFUL.search(literals + chinese)) or "%" in unquoted
