"""Control characters in submitted text: what they are, and how a message shows them.

A database export pads a fixed-width (CHAR) column with NUL, and JSON writes it as \\u0000;
a broken export leaves other control characters. None of them is text anyone means, none can
be seen in a message, and PostgreSQL refuses a NUL in any text column. Intake removes them from
values (or rejects a value they sit inside); what is quoted from a file elsewhere (a column
name, a rejected value, a sheet's name) is shown with them made visible.
"""

from __future__ import annotations

import re

# Tab and line breaks are text; every other C0 control and DEL is not
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
CONTROL = re.compile(f"[{_CONTROLS}]")
# control characters (with white space) at either end of a value: the padding of a fixed-width field
CONTROL_PADDING = re.compile(rf"\A[\s{_CONTROLS}]+|[\s{_CONTROLS}]+\Z")


def has_controls(text: str) -> bool:
    """Whether a text holds a control character (checked quickly: most texts hold none)."""
    return not text.isprintable() and CONTROL.search(text) is not None


def _name(match: re.Match[str]) -> str:
    code = ord(match[0])
    return "〈NUL〉" if code == 0 else f"〈U+{code:04X}〉"


def with_controls_shown(text: str) -> str:
    """A text as a message may quote it: each control character written out (〈NUL〉, 〈U+001F〉)."""
    return CONTROL.sub(_name, text) if has_controls(text) else text


def without_controls(text: str) -> str:
    """A text with its control characters removed."""
    return CONTROL.sub("", text) if has_controls(text) else text
