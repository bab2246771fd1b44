"""Organisation names: the matching key and the text shown to users."""

from __future__ import annotations

import re
import unicodedata

# Departments type the same name with whatever brackets their input method offers; the
# full-width forms （）［］ become () and [] under NFKC, the rest need mapping.
_BRACKETS = str.maketrans("【〔[〖", "((((") | str.maketrans("】〕]〗", "))))")
# Invisible characters left by copy-paste from web pages, Word and Excel.
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_DROP_INVISIBLE = str.maketrans("", "", _INVISIBLE)
_NAME_TABLE = _BRACKETS | _DROP_INVISIBLE
# \s in a str pattern is Unicode whitespace, U+3000 and NBSP included.
_PADDING = re.compile(f"\\A[\\s{_INVISIBLE}]+|[\\s{_INVISIBLE}]+\\Z")


def normalize_name(raw: str) -> str:
    """The key under which two spellings of one organisation name compare equal."""
    text = unicodedata.normalize("NFKC", raw).translate(_NAME_TABLE)
    folded = "".join(text.split()).casefold()
    if folded.isascii():
        return folded
    # case folding can leave text that NFKC would compose again: fold until it is stable
    again = "".join(unicodedata.normalize("NFKC", folded).translate(_NAME_TABLE).split()).casefold()
    return again


def document_number_key(raw: str) -> str:
    """The key under which two spellings of one document number compare equal.

    A department writes the year of 石家监督罚〔2024〕1号 with whatever brackets its input method
    or template offers (〔〕, [], 【】, （）, 〈〉, 《》, 「」, full-width digits, stray spaces); all of
    them are one decision. The serial number before the closing 号 is a number: 第1号, 01号 and
    0001号 are 1号 (GB/T 9704-2012 7.2.3: 发文顺序号不加“第”字，不编虚位，即1不编为01 — the
    spellings a template or a clerk adds are no other decision). Other digits are compared as
    written.
    """
    # one pass (a key is always made from what was written, so it need not be stable under
    # folding again): intake folds the number of every row
    key = "".join(unicodedata.normalize("NFKC", raw).translate(_DOCUMENT_TABLE).split()).casefold()
    if key.endswith("号"):
        serial = _SERIAL.search(key)
        if serial and serial.start(1) > serial.start():  # a 第 or zeros before the digits
            return f"{key[:serial.start()]}{serial.group(1)}号"
    return key


# The serial number of a document number: the digits before its closing 号, with the 第 and the
# padding zeros some templates put before them.
_SERIAL = re.compile(r"第*0*([0-9]+)号\Z")


# Around a year in a document number any bracket means the same, quotation marks included.
_DOCUMENT_TABLE = _NAME_TABLE | str.maketrans("〈《「『〘{", "((((((") | str.maketrans("〉》」』〙}", "))))))")


def display_name(raw: str) -> str:
    """The department's own text, without the blank or invisible padding around it."""
    return _PADDING.sub("", raw)
