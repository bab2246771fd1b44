"""The working-day calendar in force: the built-in schedules plus those an administrator loaded."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class ScheduleLoaded:
    """What loading a year's schedule did: the schedule stored, and the stored records' provisional
    publication deadlines it decided again (``examined``) and changed (``changed``)."""

    schedule: Schedule
    replaced: bool
    examined: int
    changed: int


def import_schedule(session: Session, path: Path, *, actor: str) -> ScheduleLoaded:
    """Store one year's published schedule from an administrator's YAML file (replaces that year),
    audited, and count again, in the same transaction, every provisional deadline that touches the
    year (``records.service.recompute_deadlines``): the domain rule is that a deadline counted
    while its year was unpublished is recomputed once the year's schedule is known.

    This is the one way a schedule gets into the database, so every caller (the CLI, any API)
    gets the recomputation with it.
    """
    from xinyong.core import audit
    from xinyong.records.service import recompute_deadlines  # records own the versions

    schedule = parse_schedule_file(path)
    previous = session.scalar(select(CalendarYear.source).where(CalendarYear.year == schedule.year))
    before = {"source": previous} if previous is not None else None
    session.execute(delete(CalendarDay).where(CalendarDay.year == schedule.year))
    session.execute(delete(CalendarYear).where(CalendarYear.year == schedule.year))
    session.add(CalendarYear(year=schedule.year, source=schedule.source, loaded_at=clock.now()))
    session.flush()
    for entry in schedule.entries:
        session.add(CalendarDay(day=entry.day, year=schedule.year, working=entry.working, note=entry.note))
    session.flush()
    audit.record(session, actor=actor, action="calendar.load", target_type="calendar_year",
                 target_id=str(schedule.year), before=before,
                 after={"source": schedule.source, "url": schedule.url,
                        "holidays": sum(not e.working for e in schedule.entries),
                        "working_days": sum(e.working for e in schedule.entries)})
    examined, changes = recompute_deadlines(session, actor=actor, year=schedule.year)
    return ScheduleLoaded(schedule=schedule, replaced=previous is not None,
                          examined=examined, changed=len(changes))
