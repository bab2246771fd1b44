"""The working-day calendar in force: the built-in schedules plus those an administrator loaded."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from xinyong.core import clock
from xinyong.core.errors import Conflict
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
    """What loading a year's schedule did: the schedule stored; the days of it another loaded
    year's schedule already holds, the same way (``held_elsewhere``: that year -> its days, not
    stored twice); the days the load turned from working to off or back (``changed_days``); and
    the stored publication deadlines it decided again (``examined``) and changed (``changed``)."""

    schedule: Schedule
    replaced: bool
    held_elsewhere: dict[int, tuple[dt.date, ...]]
    changed_days: tuple[dt.date, ...]
    examined: int
    changed: int


class ScheduleConflict(Conflict):
    """A schedule file lists a day that another loaded year's schedule lists the other way."""

    code = "schedule_conflict"


def import_schedule(session: Session, path: Path, *, actor: str) -> ScheduleLoaded:
    """Store one year's published schedule from an administrator's YAML file (replaces that year),
    audited, and count again, in the same transaction, the stored deadlines it may move
    (``records.service.recompute_deadlines``): every provisional deadline that touches the year —
    the domain rule is that a deadline counted while its year was unpublished is recomputed once
    the year's schedule is known — and every deadline, settled or not, whose count passed over a
    day the load changed. The calendar in force before and after the load is compared day by day
    over the year and the neighbouring days the old or the new schedule lists, so a corrected file
    corrects what the wrong one settled, and a notice that moves days of the previous December
    corrects the deadlines counted over them.

    A notice may list days of the neighbouring year (the 2019 notice: 2018-12-29 working, 12-30
    and 12-31 off), which that year's notice lists too. A day another loaded year's schedule
    already holds the same way is not stored again; one it holds the other way refuses the whole
    load (``ScheduleConflict``, nothing changed): one of the two files is wrong.

    This is the one way a schedule gets into the database, so every caller (the CLI, any API)
    gets the recomputation with it.
    """
    from xinyong.core import audit
    from xinyong.records.service import recompute_deadlines  # records own the versions

    schedule = parse_schedule_file(path)
    schedules = stored_schedules(session)
    calendar_before = WorkdayCalendar(schedules=schedules)
    previous = next((s for s in schedules if s.year == schedule.year), None)
    held_elsewhere = _days_held_elsewhere(session, schedule, origin=Path(path).name)
    shared = {day for days in held_elsewhere.values() for day in days}
    session.execute(delete(CalendarDay).where(CalendarDay.year == schedule.year))
    session.execute(delete(CalendarYear).where(CalendarYear.year == schedule.year))
    session.add(CalendarYear(year=schedule.year, source=schedule.source, loaded_at=clock.now()))
    session.flush()
    for entry in schedule.entries:
        if entry.day not in shared:
            session.add(CalendarDay(day=entry.day, year=schedule.year, working=entry.working, note=entry.note))
    session.flush()
    audit.record(session, actor=actor, action="calendar.load", target_type="calendar_year",
                 target_id=str(schedule.year),
                 before={"source": previous.source} if previous is not None else None,
                 after={"source": schedule.source, "url": schedule.url,
                        "holidays": sum(not e.working for e in schedule.entries),
                        "working_days": sum(e.working for e in schedule.entries)})
    calendar_after = load_calendar(session)
    changed_days = tuple(
        day for day in _days_covered(schedule, previous)
        if calendar_before.is_working_day(day) != calendar_after.is_working_day(day)
    )
    examined, changes = recompute_deadlines(session, actor=actor, year=schedule.year,
                                            changed_days=changed_days)
    return ScheduleLoaded(schedule=schedule, replaced=previous is not None, held_elsewhere=held_elsewhere,
                          changed_days=changed_days, examined=examined, changed=len(changes))


def _days_held_elsewhere(session: Session, schedule: Schedule, *, origin: str) -> dict[int, tuple[dt.date, ...]]:
    """The days of ``schedule`` that another year's stored schedule lists the same way, by that
    year; raises ``ScheduleConflict`` naming every day it lists the other way."""
    listed = {entry.day: entry for entry in schedule.entries}
    rows = session.execute(
        select(CalendarDay, CalendarYear.source)
        .join(CalendarYear, CalendarYear.year == CalendarDay.year)
        .where(CalendarDay.day.in_(list(listed)), CalendarDay.year != schedule.year)
        .order_by(CalendarDay.day)
    ).all()
    held: dict[int, list[dt.date]] = {}
    clashes = []
    for stored, source in rows:
        if stored.working == listed[stored.day].working:
            held.setdefault(stored.year, []).append(stored.day)
        else:
            clashes.append(f"{stored.day} 本文件列为{_kind(listed[stored.day].working)}，"
                           f"已载入的 {stored.year} 年安排（{source}）列为{_kind(stored.working)}")
    if clashes:
        raise ScheduleConflict(
            f"{origin}：与已载入的其他年份安排不一致，未载入（数据库未改动）：{'；'.join(clashes)}。"
            "同一天在两份通知中应相同，请对照两份通知核对：若本文件有误，更正后重新载入；"
            "若已载入的那一年有误，先载入该年更正后的文件，再载入本文件"
        )
    return {year: tuple(days) for year, days in held.items()}


def _kind(working: bool) -> str:
    return "调休上班日" if working else "放假日"


def _days_covered(schedule: Schedule, previous: Schedule | None) -> list[dt.date]:
    """Every day of the schedule's year, and of the neighbouring days it or the schedule it
    replaces lists: the days whose status loading it may change."""
    listed = [entry.day for s in (schedule, previous) if s is not None for entry in s.entries]
    day = min([dt.date(schedule.year, 1, 1), *listed])
    last = max([dt.date(schedule.year, 12, 31), *listed])
    days = []
    while day <= last:
        days.append(day)
        day += dt.timedelta(days=1)
    return days
