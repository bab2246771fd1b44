"""The working-day calendar in force: the built-in schedules plus those an administrator loaded."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from xinyong.core import clock
from xinyong.core.models import CalendarDay, CalendarYear
from xinyong.core.workdays import CalendarEntry, Schedule, WorkdayCalendar, parse_schedule_file


def stored_schedules(session: Session) -> list[Schedule]:
    days: dict[int, list[CalendarEntry]] = {}
    for row in session.scalars(select(CalendarDay).order_by(CalendarDay.day)):
        days.setdefault(row.year, []).append(CalendarEntry(row.day, row.working, row.note))
    return [
        Schedule(year=y.year, source=y.source, entries=tuple(days.get(y.year, ())))
        for y in session.scalars(select(CalendarYear).order_by(CalendarYear.year))
    ]


def load_calendar(session: Session) -> WorkdayCalendar:
    """The calendar to count working days with, as of what the database holds now."""
    return WorkdayCalendar(schedules=stored_schedules(session))


def import_schedule(session: Session, path: Path) -> Schedule:
    """Store one year's published schedule from an administrator's YAML file (replaces that year)."""
    schedule = parse_schedule_file(path)
    session.execute(delete(CalendarDay).where(CalendarDay.year == schedule.year))
    session.execute(delete(CalendarYear).where(CalendarYear.year == schedule.year))
    session.add(CalendarYear(year=schedule.year, source=schedule.source, loaded_at=clock.now()))
    session.flush()
    for entry in schedule.entries:
        session.add(CalendarDay(day=entry.day, year=schedule.year, working=entry.working, note=entry.note))
    return schedule
