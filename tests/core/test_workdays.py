"""Tests of the official working-day calendar against the published 2025 and 2026 schedules."""

from __future__ import annotations

import datetime as dt
import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinyong.core.workdays import (
    CalendarEntry,
    Schedule,
    WorkdayCalendar,
    WorkingDate,
    add_working_days,
    builtin_schedules,
    default_calendar,
    parse_schedule_file,
)

D = dt.date


@pytest.fixture(scope="module")
def cal() -> WorkdayCalendar:
    return WorkdayCalendar()


# --- the real 2025 and 2026 schedules (国务院办公厅通知) ----------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # 2025 春节: 1-28..2-4 off, Sunday 1-26 and Saturday 2-8 worked.
        (D(2025, 1, 26), True),
        (D(2025, 1, 27), True),
        (D(2025, 1, 28), False),
        (D(2025, 2, 4), False),
        (D(2025, 2, 5), True),
        (D(2025, 2, 8), True),
        # 2025 劳动节: 5-1..5-5 off, Sunday 4-27 worked.
        (D(2025, 4, 27), True),
        (D(2025, 5, 5), False),
        (D(2025, 5, 6), True),
        # 2025 端午: 5-31..6-2 off.
        (D(2025, 6, 2), False),
        # 2025 国庆中秋: 10-1..10-8 off, Sunday 9-28 and Saturday 10-11 worked.
        (D(2025, 9, 28), True),
        (D(2025, 10, 8), False),
        (D(2025, 10, 9), True),
        (D(2025, 10, 11), True),
        # 2026 元旦: 1-1..1-3 off, Sunday 1-4 worked.
        (D(2026, 1, 2), False),
        (D(2026, 1, 4), True),
        # 2026 春节: 2-15..2-23 off, Saturdays 2-14 and 2-28 worked.
        (D(2026, 2, 14), True),
        (D(2026, 2, 16), False),
        (D(2026, 2, 23), False),
        (D(2026, 2, 24), True),
        (D(2026, 2, 28), True),
        # 2026 清明: 4-4..4-6 off.
        (D(2026, 4, 6), False),
        # 2026 劳动节: 5-1..5-5 off, Saturday 5-9 worked.
        (D(2026, 5, 4), False),
        (D(2026, 5, 5), False),
        (D(2026, 5, 9), True),
        # 2026 端午 (6-19) and 中秋 (9-25) fall on Fridays.
        (D(2026, 6, 19), False),
        (D(2026, 9, 25), False),
        # 2026 国庆: 10-1..10-7 off, Sunday 9-20 and Saturday 10-10 worked.
        (D(2026, 9, 20), True),
        (D(2026, 10, 7), False),
        (D(2026, 10, 8), True),
        (D(2026, 10, 10), True),
        # Ordinary days.
        (D(2026, 11, 21), False),  # Saturday
        (D(2026, 11, 23), True),  # Monday
    ],
)
def test_is_working_day(cal: WorkdayCalendar, day: dt.date, working: bool) -> None:
    assert cal.is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2026, 9, 30), 1, D(2026, 10, 8)),
        (D(2026, 9, 30), 2, D(2026, 10, 9)),
        (D(2026, 9, 30), 3, D(2026, 10, 10)),  # adjusted working Saturday
        (D(2026, 9, 30), 7, D(2026, 10, 15)),
        (D(2025, 9, 30), 1, D(2025, 10, 9)),
        (D(2025, 9, 26), 1, D(2025, 9, 28)),  # adjusted working Sunday
        (D(2026, 2, 13), 1, D(2026, 2, 14)),
        (D(2026, 2, 14), 1, D(2026, 2, 24)),
        (D(2026, 4, 30), 7, D(2026, 5, 13)),
        (D(2026, 11, 20), 7, D(2026, 12, 1)),
    ],
)
def test_add_working_days(cal: WorkdayCalendar, start: dt.date, n: int, expected: dt.date) -> None:
    result = cal.add_working_days(start, n)
    assert result == expected
    assert isinstance(result, WorkingDate)
    assert result.provisional is False


def test_unpublished_year_is_provisional(cal: WorkdayCalendar) -> None:
    assert cal.is_published(2026)
    assert not cal.is_published(2027)
    assert 2027 not in cal.published_years
    inside = cal.add_working_days(D(2026, 12, 30), 1)
    assert inside == D(2026, 12, 31) and not inside.provisional
    # 12-31 Thursday, 2027-01-01 New Year (package), weekend, then Monday 1-4 and Tuesday 1-5.
    crossing = cal.add_working_days(D(2026, 12, 30), 3)
    assert crossing == D(2027, 1, 5)
    assert crossing.provisional
    # Passing over an unpublished year's weekend already makes a result provisional.
    assert cal.add_working_days(D(2026, 12, 31), 1).provisional


def test_zero_and_negative(cal: WorkdayCalendar) -> None:
    saturday = D(2026, 11, 21)
    assert cal.add_working_days(saturday, 0) == saturday
    assert not cal.add_working_days(saturday, 0).provisional
    with pytest.raises(ValueError, match="负数"):
        cal.add_working_days(saturday, -1)


def test_working_days_between(cal: WorkdayCalendar) -> None:
    assert cal.working_days_between(D(2026, 9, 30), D(2026, 10, 10)) == 3
    assert cal.working_days_between(D(2026, 10, 10), D(2026, 9, 30)) == -3
    assert cal.working_days_between(D(2026, 10, 1), D(2026, 10, 1)) == 0
    assert cal.working_days_between(D(2026, 10, 1), D(2026, 10, 7)) == 0


def test_module_helper_and_default_calendar() -> None:
    assert default_calendar() is default_calendar()
    assert add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
    own = WorkdayCalendar()
    assert add_working_days(D(2026, 9, 30), 1, own) == D(2026, 10, 8)


def test_accepts_datetime_and_working_date(cal: WorkdayCalendar) -> None:
    moment = dt.datetime(2026, 9, 30, 15, 30)
    assert cal.is_working_day(dt.datetime(2026, 10, 10, 9, 0))
    assert cal.add_working_days(moment, 1) == D(2026, 10, 8)
    chained = cal.add_working_days(cal.add_working_days(D(2026, 9, 30), 1), 1)
    assert chained == D(2026, 10, 9)


# --- WorkingDate ---------------------------------------------------------------------------


def test_working_date_behaves_like_a_date() -> None:
    w = WorkingDate.of(D(2027, 1, 5), provisional=True)
    assert w == D(2027, 1, 5) and hash(w) == hash(D(2027, 1, 5))
    assert w.provisional and w.isoformat() == "2027-01-05"
    assert "provisional=True" in repr(w)
    copy = pickle.loads(pickle.dumps(w))
    assert copy == w and copy.provisional
    later = w + dt.timedelta(days=1)
    assert type(later) is dt.date and later == D(2027, 1, 6)
    assert type(w - dt.timedelta(days=1)) is dt.date
    assert w - D(2027, 1, 1) == dt.timedelta(days=4)
    assert WorkingDate(2026, 1, 5).provisional is False


# --- built-in schedules --------------------------------------------------------------------


def test_builtin_schedules() -> None:
    schedules = {s.year: s for s in builtin_schedules()}
    assert 2025 in schedules and 2026 in schedules and 2027 not in schedules
    s2026 = schedules[2026]
    assert "2026年" in s2026.source
    working = {e.day for e in s2026.entries if e.working}
    off = {e.day for e in s2026.entries if not e.working}
    assert {D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9)} <= working
    assert {D(2026, 9, 20), D(2026, 10, 10)} <= working
    assert {D(2026, 10, d) for d in (1, 2, 5, 6, 7)} <= off  # 10-3 and 10-4 are a weekend
    assert not working & off
    assert all(e.day.year == 2026 for e in s2026.entries)


# --- schedules loaded by an administrator ---------------------------------------------------

SCHEDULE_2027 = """\
year: 2027
source: 国务院办公厅关于2027年部分节假日安排的通知（测试）
holidays:
  - 2027-01-01
  - 2027-02-05 至 2027-02-11
  - {from: 2027-10-01, to: 2027-10-07, note: 国庆节}
  - "2027/04/05"
working_days:
  - 2027-02-20
  - {date: 2027-10-09, note: 国庆节调休}
"""


def test_parse_schedule_file(tmp_path: Path) -> None:
    path = tmp_path / "2027.yaml"
    path.write_text(SCHEDULE_2027, encoding="utf-8")
    schedule = parse_schedule_file(path)
    assert schedule.year == 2027
    off = {e.day for e in schedule.entries if not e.working}
    on = {e.day for e in schedule.entries if e.working}
    assert D(2027, 2, 8) in off and D(2027, 4, 5) in off and len(off) == 1 + 7 + 7 + 1
    assert on == {D(2027, 2, 20), D(2027, 10, 9)}
    assert any(e.note == "国庆节" for e in schedule.entries)


def test_loaded_schedule_replaces_package_guess(tmp_path: Path) -> None:
    path = tmp_path / "2027.yaml"
    path.write_text(SCHEDULE_2027, encoding="utf-8")
    cal = WorkdayCalendar([parse_schedule_file(path)])
    assert cal.is_published(2027)
    assert cal.schedule_source(2027).startswith("国务院办公厅关于2027年")
    assert cal.is_working_day(D(2027, 2, 20))  # adjusted Saturday
    assert not cal.is_working_day(D(2027, 2, 11))
    # The package guesses 2027-05-03 as a holiday; the loaded schedule does not list it.
    assert not default_calendar().is_working_day(D(2027, 5, 3))
    assert cal.is_working_day(D(2027, 5, 3))
    result = cal.add_working_days(D(2026, 12, 30), 3)
    assert result == D(2027, 1, 5) and not result.provisional
    # Other years are unaffected.
    assert cal.is_working_day(D(2026, 10, 10))


def test_schedule_entries_spilling_into_previous_year() -> None:
    schedule = Schedule(
        year=2027,
        source="测试",
        entries=(CalendarEntry(D(2026, 12, 31), working=False, note="元旦"),),
    )
    cal = WorkdayCalendar([schedule])
    assert not cal.is_working_day(D(2026, 12, 31))
    assert WorkdayCalendar().is_working_day(D(2026, 12, 31))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("year: 2027\nsource: 通知\nholidays: [2027-13-01]\n", "放假日第1项"),
        ("year: 2027\nsource: 通知\nholidays: ['2027-02-11 至 2027-02-05']\n", "放假日第1项"),
        ("year: 2027\nsource: 通知\nholidays: [2027-01-01, 2030-01-01]\n", "放假日第2项"),
        ("year: 2027\nsource: 通知\nholidays: [2027-02-20]\nworking_days: [2027-02-20]\n", "同时"),
        ("year: 2027\nholidays: [2027-01-01]\n", "source"),
        ("year: twenty\nsource: 通知\nholidays: [2027-01-01]\n", "year"),
        ("year: 2027\nsource: 通知\nholiday: [2027-01-01]\n", "holiday"),
        ("year: 2027\nsource: 通知\n", "没有列出"),
        ("- 2027-01-01\n", "映射"),
        ("year: [2027\n", "YAML"),
        ("year: 2027\nsource: 通知\nworking_days: [{day: 2027-02-20}]\n", "调休上班日第1项"),
    ],
)
def test_bad_schedule_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as info:
        parse_schedule_file(path)
    assert "bad.yaml" in str(info.value)


# --- properties ----------------------------------------------------------------------------

_starts = st.dates(min_value=D(2018, 1, 1), max_value=D(2027, 12, 31))
_counts = st.integers(min_value=0, max_value=40)


@settings(max_examples=150, deadline=None)
@given(start=_starts, n=st.integers(min_value=1, max_value=40))
def test_result_is_a_working_day(start: dt.date, n: int) -> None:
    cal = default_calendar()
    result = cal.add_working_days(start, n)
    assert result > start
    assert cal.is_working_day(result)
    assert cal.working_days_between(start, result) == n
    # The day before the result does not yet reach n working days.
    assert cal.working_days_between(start, result - dt.timedelta(days=1)) == n - 1


@settings(max_examples=150, deadline=None)
@given(start=_starts, m=_counts, n=_counts)
def test_adding_is_additive(start: dt.date, m: int, n: int) -> None:
    cal = default_calendar()
    assert cal.add_working_days(cal.add_working_days(start, m), n) == cal.add_working_days(
        start, m + n
    )


@settings(max_examples=100, deadline=None)
@given(start=_starts, n=st.integers(min_value=1, max_value=40))
def test_provisional_iff_an_unpublished_year_is_crossed(start: dt.date, n: int) -> None:
    cal = default_calendar()
    result = cal.add_working_days(start, n)
    first = start + dt.timedelta(days=1)
    years = range(first.year, result.year + 1)
    assert result.provisional == any(not cal.is_published(y) for y in years)
