"""The official working-day calendar: holidays, adjusted working weekends (调休), deadlines."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import holidays
import yaml

DATA_FILE = Path(__file__).with_name("data") / "workday_schedules.yaml"

_ONE_DAY = dt.timedelta(days=1)
# Separators accepted between the two ends of a holiday range in a schedule file.
_RANGE_SPLIT = re.compile(r"\s*(?:\.\.|~|～|至|到|—|–)\s*")
# A schedule may list days this far outside its own year (New Year holidays and the working
# weekends around them sometimes fall in the neighbouring December or January).
_SPILL_DAYS = 31
# Sanity limit on one holiday range: the longest published break so far is 10 days (2020).
_MAX_RANGE_DAYS = 31


class WorkingDate(dt.date):
    """A date computed on the working-day calendar that also says whether it is provisional.

    ``provisional`` is true when the computation crossed a year whose official schedule was not
    published yet: the date must be recomputed once that schedule is loaded. Equality and hashing
    are those of the plain date; arithmetic returns plain dates.
    """

    __slots__ = ("provisional",)
    provisional: bool

    def __new__(cls, year: int, month: int, day: int, provisional: bool = False) -> WorkingDate:
        self = super().__new__(cls, year, month, day)
        self.provisional = provisional
        return self

    @classmethod
    def of(cls, d: dt.date, provisional: bool) -> WorkingDate:
        return cls(d.year, d.month, d.day, provisional)

    def as_date(self) -> dt.date:
        return dt.date(self.year, self.month, self.day)

    def __repr__(self) -> str:
        return f"WorkingDate({self.year}, {self.month}, {self.day}, provisional={self.provisional})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.year, self.month, self.day, self.provisional))

    def __add__(self, other: Any) -> Any:
        return self.as_date().__add__(other)

    __radd__ = __add__

    def __sub__(self, other: Any) -> Any:
        if isinstance(other, WorkingDate):
            other = other.as_date()
        return self.as_date().__sub__(other)


@dataclass(frozen=True)
class CalendarEntry:
    """An explicit holiday (``working=False``) or adjusted working day (``working=True``)."""

    day: dt.date
    working: bool
    note: str = ""


@dataclass(frozen=True)
class Schedule:
    """One year's published schedule, as the State Council notice states it."""

    year: int
    source: str
    entries: tuple[CalendarEntry, ...]
    url: str = ""


# --------------------------------------------------------------------------------------------
# Built-in schedules: the published years listed in the data file, days from the package.


@lru_cache
def _builtin_sources() -> dict[int, tuple[str, str]]:
    """Published years from the data file: year -> (source, url)."""
    data = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8")) or {}
    result: dict[int, tuple[str, str]] = {}
    for item in data.get("schedules", []):
        result[int(item["year"])] = (str(item["source"]), str(item.get("url") or ""))
    return result


@lru_cache(maxsize=256)
def _package_entries(year: int) -> tuple[CalendarEntry, ...]:
    """Holidays and adjusted working weekends of ``year`` as the ``holidays`` package gives them.

    For a year the package does not cover explicitly these are its estimates.
    """
    calendar = holidays.China(years=year, language="zh_CN")
    entries = {
        day: CalendarEntry(day=day, working=False, note=str(name))
        for day, name in calendar.items()
        if day.year == year
    }
    for day in calendar.weekend_workdays:
        if day.year == year and day not in entries:
            entries[day] = CalendarEntry(day=day, working=True, note="调休上班")
    return tuple(sorted(entries.values(), key=lambda e: e.day))


def builtin_schedules() -> list[Schedule]:
    """The published years shipped with Xinyong, their days taken from the ``holidays`` package."""
    return [
        Schedule(year=year, source=source, entries=_package_entries(year), url=url)
        for year, (source, url) in sorted(_builtin_sources().items())
    ]


# --------------------------------------------------------------------------------------------
# The calendar.


class WorkdayCalendar:
    """Working days on the official calendar.

    Built from the ``holidays`` package, the built-in list of published years and any extra
    schedules (for example those an administrator loaded). An extra schedule replaces the
    package's days for its year; its entries also override single days in neighbouring years.
    Years neither built in nor given are provisional: weekends plus the package's estimates.
    """

    def __init__(self, schedules: Iterable[Schedule] = ()) -> None:
        self._extra: dict[int, Schedule] = {}
        for schedule in schedules:
            self._extra[schedule.year] = schedule  # a later schedule for a year wins
        self._overrides: dict[int, dict[dt.date, bool]] = {}
        for schedule in self._extra.values():
            for entry in schedule.entries:
                self._overrides.setdefault(entry.day.year, {})[entry.day] = entry.working
        self.published_years: frozenset[int] = frozenset(_builtin_sources()) | frozenset(
            self._extra
        )
        # year -> (non-working weekdays, working weekend days), filled lazily.
        self._years: dict[int, tuple[frozenset[dt.date], frozenset[dt.date]]] = {}

    def _year(self, year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        days: dict[dt.date, bool] = {}
        if year in self._extra:
            for entry in self._extra[year].entries:
                if entry.day.year == year:
                    days[entry.day] = entry.working
        else:
            for entry in _package_entries(year):
                days[entry.day] = entry.working
        days.update(self._overrides.get(year, {}))
        off = frozenset(d for d, working in days.items() if not working and d.weekday() < 5)
        on = frozenset(d for d, working in days.items() if working and d.weekday() >= 5)
        self._years[year] = (off, on)
        return off, on

    def is_working_day(self, d: dt.date) -> bool:
        """Whether ``d`` is an official working day (adjusted working weekends included)."""
        if isinstance(d, dt.datetime):
            d = d.date()
        off, on = self._years.get(d.year) or self._year(d.year)
        if d.weekday() >= 5:
            return d in on
        return d not in off

    def is_published(self, year: int) -> bool:
        """Whether the official schedule of ``year`` is known (else the year is provisional)."""
        return year in self.published_years

    def schedule_source(self, year: int) -> str | None:
        """The notice a published year comes from, or ``None`` for a provisional year."""
        if year in self._extra:
            return self._extra[year].source
        builtin = _builtin_sources().get(year)
        return builtin[0] if builtin else None

    def add_working_days(self, start: dt.date, n: int) -> WorkingDate:
        """The ``n``-th working day after ``start`` (``start`` itself is not counted).

        The result is provisional if any day passed over lies in an unpublished year.
        """
        if n < 0:
            raise ValueError(f"工作日天数不能为负数：{n}")
        d = dt.date(start.year, start.month, start.day)
        published = self.published_years
        provisional = False
        year = None
        count = 0
        while count < n:
            d += _ONE_DAY
            if d.year != year:
                year = d.year
                if year not in published:
                    provisional = True
            if self.is_working_day(d):
                count += 1
        return WorkingDate(d.year, d.month, d.day, provisional)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in ``(start, end]``; negative when ``end`` is before ``start``."""
        start = dt.date(start.year, start.month, start.day)
        end = dt.date(end.year, end.month, end.day)
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        d = start
        while d < end:
            d += _ONE_DAY
            if self.is_working_day(d):
                count += 1
        return count


@lru_cache
def default_calendar() -> WorkdayCalendar:
    """The calendar with the built-in published years only (cached)."""
    return WorkdayCalendar()


def add_working_days(
    start: dt.date, n: int, calendar: WorkdayCalendar | None = None
) -> WorkingDate:
    """The ``n``-th working day after ``start`` on ``calendar`` (the default one if omitted)."""
    return (calendar or default_calendar()).add_working_days(start, n)


# --------------------------------------------------------------------------------------------
# Schedule files written by administrators.


class _PlainLoader(yaml.SafeLoader):
    """A safe YAML loader that leaves dates as text, so a bad date is reported by its entry."""


_PlainLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _parse_day(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip().replace("/", "-").replace(".", "-")
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None
    return None


def _entry_days(value: Any) -> tuple[list[dt.date], str] | None:
    """The days one list item stands for, with its note; ``None`` when it cannot be read."""
    note = ""
    if isinstance(value, Mapping):
        note = str(value.get("note") or "")
        if "date" in value:
            value = value["date"]
        elif "from" in value and "to" in value:
            first, last = _parse_day(value["from"]), _parse_day(value["to"])
            return (_range(first, last), note) if first and last else None
        else:
            return None
    single = _parse_day(value)
    if single is not None:
        return [single], note
    if isinstance(value, str):
        parts = _RANGE_SPLIT.split(value.strip())
        if len(parts) == 2:
            first, last = _parse_day(parts[0]), _parse_day(parts[1])
            if first and last:
                return _range(first, last), note
    return None


def _range(first: dt.date, last: dt.date) -> list[dt.date]:
    if last < first or (last - first).days >= _MAX_RANGE_DAYS:
        return []
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def schedule_from_dict(data: Any, origin: str = "日程表") -> Schedule:
    """Build a schedule from parsed YAML (see :func:`parse_schedule_file` for the format)."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{origin}：内容应为包含 year、source、holidays、working_days 的映射")
    unknown = sorted(set(data) - {"year", "source", "url", "holidays", "working_days"})
    if unknown:
        raise ValueError(f"{origin}：无法识别的字段 {', '.join(map(str, unknown))}")
    year = data.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 1950 <= year <= 2200:
        raise ValueError(f"{origin}：year（年份）缺失或无效：{year!r}")
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ValueError(f"{origin}：source（依据的通知名称和文号）不能为空")
    lowest = dt.date(year, 1, 1) - dt.timedelta(days=_SPILL_DAYS)
    highest = dt.date(year, 12, 31) + dt.timedelta(days=_SPILL_DAYS)

    found: dict[dt.date, CalendarEntry] = {}
    for key, label, working in (
        ("holidays", "放假日", False),
        ("working_days", "调休上班日", True),
    ):
        items = data.get(key) or []
        if not isinstance(items, list):
            raise ValueError(f"{origin}：{key}（{label}）应为列表")
        for index, item in enumerate(items, start=1):
            parsed = _entry_days(item)
            if not parsed or not parsed[0]:
                raise ValueError(
                    f"{origin}：{label}第{index}项“{item}”无法识别，应为日期 YYYY-MM-DD "
                    f"或区间“YYYY-MM-DD 至 YYYY-MM-DD”（不超过{_MAX_RANGE_DAYS}天）"
                )
            days, note = parsed
            for day in days:
                if not lowest <= day <= highest:
                    raise ValueError(
                        f"{origin}：{label}第{index}项“{item}”中的 {day} 不在 {year} 年前后"
                    )
                previous = found.get(day)
                if previous is not None and previous.working != working:
                    raise ValueError(
                        f"{origin}：{day} 同时被列为放假日和调休上班日（{label}第{index}项）"
                    )
                found[day] = CalendarEntry(day=day, working=working, note=note)
    if not found:
        raise ValueError(f"{origin}：没有列出任何放假日或调休上班日")
    return Schedule(
        year=year,
        source=source.strip(),
        entries=tuple(sorted(found.values(), key=lambda e: e.day)),
        url=str(data.get("url") or ""),
    )


def parse_schedule_file(path: Path) -> Schedule:
    """Read a year's schedule written by an administrator.

    Format (YAML)::

        year: 2027
        source: 国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕N号）
        url: https://www.gov.cn/...          # optional
        holidays:                            # days off: a date, a range, or {from, to, note}
          - 2027-01-01
          - 2027-02-05 至 2027-02-11
          - {from: 2027-10-01, to: 2027-10-07, note: 国庆节}
        working_days:                        # adjusted working days (usually weekends)
          - 2027-02-14
          - {date: 2027-10-09, note: 国庆节调休}

    Raises ``ValueError`` with a Chinese message naming the bad entry.
    """
    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_PlainLoader)
    except OSError as exc:
        raise ValueError(f"{path.name}：无法读取文件（{exc}）") from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"{path.name}：不是有效的 YAML（{exc}）") from exc
    return schedule_from_dict(data, origin=path.name)
