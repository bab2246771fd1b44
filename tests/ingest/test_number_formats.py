"""What a number cell shows through its number format (numberformats): rendered where the format
changes what the cell says (a unit, a prefix, padding, a scale), left alone where it only dresses
the value (thousands, decimals, currency sign, colours)."""

from __future__ import annotations

import pytest

from xinyong.ingest.numberformats import shown_by


@pytest.mark.parametrize(("code", "value", "shown"), [
    ('#,##0.00"元"', 2000, "2,000.00元"),
    ('0!.0000"万元"', 20000, "2.0000万元"),  # 元 shown in 万元: a literal point between the digits
    ('0!.0000"万元"', 5000, "0.5000万元"),
    ('0!.0000"万元"', 123456, "12.3456万元"),
    ("0!.0000", 20000, "2.0000"),
    ('0\\.0000"万"', 20000, "2.0000万"),
    ('"XK2024"000000', 1, "XK2024000001"),
    ("000000", 2, "000002"),
    ('0.00,,"百万"', 12345678, "12.35百万"),
    ('#,##0"元"', 1234.5, "1,235元"),  # Excel rounds half away from zero
    ("0.00%", 0.05, "5.00%"),
    ("#,##0,", 1234567, "1,235"),
    ("0,000", 12, "0,012"),
    ('#,##0.00"元";-#,##0.00"元";"-"', 0, "-"),
    ('#,##0.00"元";[Red]\\(#,##0.00"元"\\)', -5, "(5.00元)"),
    ('0"元"', -5, "-5元"),
    ('"XK"General', 12, "XK12"),
    ('.00"元"', 12.5, "12.50元"),
    ('0.0#"元"', 1.5, "1.5元"),
    ("0.00元", 3, "3.00元"),  # a unit written without quotes (WPS)
    ('[$¥-804]#,##0.00"元"', 3, "¥3.00元"),
    ('_ ¥* #,##0.00_ "元"', 3, "¥3.00元"),
])
def test_a_format_that_says_more_than_the_number_is_rendered_as_excel_shows_it(code, value, shown):
    rendered = shown_by(code)
    assert rendered is not None
    assert rendered.show(value) == shown


@pytest.mark.parametrize("code", [
    None, "General", "@", "0.00", "#,##0.00", "0.00_ ;[Red]-0.00 ", "¥#,##0.00;¥-#,##0.00",
    '_("$"* #,##0.00_)_("$"* \\(#,##0.00\\)_("$"* "-"??_)_(@_)', "[$$-409]#,##0.00", "0;-0;;@",
    "0.00E+00", "# ?/?", "[DBNum2]General",
])
def test_a_format_that_only_dresses_the_value_leaves_the_cell_its_value(code):
    """Thousands, decimals, a currency sign, colours, scientific notation, a fraction, Chinese
    numerals: the value is what the cell says (rounded to its decimals it would be another amount)."""
    assert shown_by(code) is None


@pytest.mark.parametrize("code", ['[DBNum2]0"元"', '0.00E+00"元"', '[>100]0"元";0', '# ?/?"元"'])
def test_a_format_with_a_unit_that_is_not_rendered_says_so(code):
    """A unit the reader cannot place against the digits shown: never read as the bare value."""
    rendered = shown_by(code)
    assert rendered is not None and rendered.show(5) is None
