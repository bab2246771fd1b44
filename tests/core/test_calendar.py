"""Administrator-loaded holiday schedules change working-day deadlines."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from filehelpers import ingest, sample_rows, write_rows
from xinyong.cli import app
from xinyong.core import clock, db
from xinyong.core.calendar import load_calendar

SCHEDULE_2027 = """\
year: 2027
source: 国务院办公厅关于2027年部分节假日安排的通知（测试用）
holidays:
  - 2027-01-01
  - 2027-02-05 至 2027-02-11
working_days:
  - 2027-02-14
"""


def test_loaded_year_is_published_and_counts_its_holidays(database, tmp_path):
    with db.transaction() as session:
        before = load_calendar(session).add_working_days(dt.date(2027, 2, 3), 3)
    assert before.provisional
    path = tmp_path / "2027.yaml"
    path.write_text(SCHEDULE_2027, encoding="utf-8")
    result = CliRunner().invoke(app, ["calendar", "load", str(path)])
    assert result.exit_code == 0, result.output
    with db.transaction() as session:
        after = load_calendar(session).add_working_days(dt.date(2027, 2, 3), 3)
    # 2-04 works, 2-05..2-11 are off, 2-12 (Fri) works, 2-14 (Sun) is an adjusted working day
    assert after == dt.date(2027, 2, 14) and not after.provisional


def test_deadline_of_a_stored_record_uses_the_loaded_schedule(database, tmp_path):
    path = tmp_path / "2027.yaml"
    path.write_text(SCHEDULE_2027, encoding="utf-8")
    assert CliRunner().invoke(app, ["calendar", "load", str(path)]).exit_code == 0
    headers, rows = sample_rows()
    rows[0]["处罚决定日期"] = "2027/02/03"
    with clock.frozen(dt.date(2027, 2, 20)):
        report = ingest(write_rows(tmp_path / "p.csv", headers, rows[:1]))
    assert report.accepted == 1
    from sqlalchemy import select

    from xinyong.records.models import RecordVersion

    with database.connect() as conn:
        deadline, provisional = conn.execute(
            select(RecordVersion.deadline, RecordVersion.deadline_provisional)).one()
    # 7 working days after 2027-02-03: 02-04, 02-12, 02-14, 02-15, 02-16, 02-17, 02-18
    assert (deadline, provisional) == (dt.date(2027, 2, 18), False)


def test_bad_schedule_file_is_refused_with_the_entry(database, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("year: 2027\nsource: x\nholidays:\n  - 2027-02-30\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["calendar", "load", str(path)])
    assert result.exit_code == 2
    assert "2027-02-30" in result.output or "放假日" in result.output


# --- provisional deadlines are counted again when their year's schedule is loaded ----------------

# The tester's 2027 schedule: 01-04 and 02-12 off as well, no adjusted working weekend.
SCHEDULE_2027_LONG = """\
year: 2027
source: 国务院办公厅关于2027年部分节假日安排的通知（测试用，春节放至2月12日）
holidays:
  - 2027-01-01
  - 2027-01-04
  - 2027-02-05 至 2027-02-12
"""


def _penalty(number: str, decided: str) -> dict[str, str]:
    """The sample's first penalty (石家庄市市场监督管理局, 7 working days) under another number."""
    _, rows = sample_rows()
    return dict(rows[0], **{"行政处罚决定书文号": number, "处罚决定日期": decided})


def _store(tmp_path, received: dt.date, *rows: dict[str, str]) -> None:
    headers, _ = sample_rows()
    with clock.frozen(received):
        report = ingest(write_rows(tmp_path / f"{received}.csv", headers, list(rows)))
    assert report.accepted == len(rows), report.errors


def _deadlines(database) -> dict[str, tuple[dt.date, bool, bool]]:
    """(deadline, provisional, on time) of every stored version, by decision number."""
    from sqlalchemy import select

    from xinyong.records.models import Record, RecordVersion

    with database.connect() as conn:
        rows = conn.execute(
            select(Record.decision_no, RecordVersion.deadline, RecordVersion.deadline_provisional,
                   RecordVersion.on_time).join(Record, Record.id == RecordVersion.record_id))
        return {no: (deadline, provisional, on_time) for no, deadline, provisional, on_time in rows}


def _audit_actions(database) -> list[str]:
    from sqlalchemy import select

    from xinyong.core.models import AuditEntry

    with database.connect() as conn:
        return list(conn.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def _load(how: str, path) -> str:
    """Load the schedule through the service (in a transaction, as any caller would) or the CLI;
    the CLI's output, or a line saying what the service returned."""
    if how == "cli":
        result = CliRunner().invoke(app, ["calendar", "load", str(path)], env={"COLUMNS": "250"})
        assert result.exit_code == 0, result.output
        return " ".join(result.output.split())
    from xinyong.core.calendar import import_schedule

    with db.transaction() as session:
        loaded = import_schedule(session, path, actor="test")
    return f"examined={loaded.examined} changed={loaded.changed}"


@pytest.mark.parametrize("how", ["service", "cli"])
def test_loading_a_year_recomputes_the_provisional_deadlines_that_touch_it(database, tmp_path, how):
    """Deadlines counted while 2027 was unpublished (weekends and the `holidays` package's
    estimates) are counted again when its schedule is loaded: the deadline, whether it is
    provisional and whether the version arrived on time, as intake decides them."""
    late_december = "石家监督罚〔2026〕901号"  # its 7 working days run into January 2027
    february = "石家监督罚〔2027〕902号"
    settled = "石家监督罚〔2026〕903号"  # counted in 2026 only: never provisional
    next_year = "石家监督罚〔2028〕904号"  # provisional because of 2028, not 2027
    _store(tmp_path, dt.date(2027, 1, 7), _penalty(late_december, "2026/12/25"))
    _store(tmp_path, dt.date(2027, 2, 19), _penalty(february, "2027/02/03"), _penalty(settled, "2026/06/15"))
    _store(tmp_path, dt.date(2028, 3, 20), _penalty(next_year, "2028/03/01"))
    before = _deadlines(database)
    # provisional: 12-28..12-31, (01-01 off), 01-04, 01-05, 01-06; 02-04, (02-05..02-10 off), 02-11..02-18
    assert before[late_december] == (dt.date(2027, 1, 6), True, False)
    assert before[february] == (dt.date(2027, 2, 18), True, False)
    assert before[settled][1] is False and before[next_year][1] is True
    path = tmp_path / "2027.yaml"
    path.write_text(SCHEDULE_2027_LONG, encoding="utf-8")

    with clock.frozen(dt.date(2028, 3, 21)):
        said = _load(how, path)

    after = _deadlines(database)
    # 12-28..12-31, 01-05, 01-06, 01-07: received on 01-07, on time
    assert after[late_december] == (dt.date(2027, 1, 7), False, True)
    # 02-04, 02-15..02-19, 02-22: received on 02-19, on time
    assert after[february] == (dt.date(2027, 2, 22), False, True)
    assert after[settled] == before[settled]
    assert after[next_year] == before[next_year]
    if how == "cli":
        assert "已重新计算 2 条公示期限（涉及该年的暂定期限，及计数经过改变日期的期限），其中 2 条改变" in said
    else:
        assert said == "examined=2 changed=2"
    assert _audit_actions(database).count("record.deadline") == 2
    assert _audit_actions(database).count("calendar.load") == 1

    # loading the same schedule again changes nothing
    with clock.frozen(dt.date(2028, 3, 22)):
        again = _load(how, path)
    assert _deadlines(database) == after
    if how == "cli":
        assert "已替换 2027 年安排" in again and "没有需要重新计算的公示期限" in again
        assert "有改变" not in again
    else:
        assert again == "examined=0 changed=0"
    assert _audit_actions(database).count("record.deadline") == 2
    from xinyong.core import audit

    with db.transaction() as session:
        assert audit.verify(session).ok


def test_a_deadline_still_crossing_an_unpublished_year_stays_provisional(database, tmp_path):
    """A decision of late December 2027 whose count runs into unpublished 2028 touches 2027, so
    loading 2027 counts it again; it stays provisional (and unchanged) until 2028 is loaded."""
    number = "石家监督罚〔2027〕905号"
    _store(tmp_path, dt.date(2028, 1, 20), _penalty(number, "2027/12/24"))
    before = _deadlines(database)[number]
    assert before[1] is True and before[0].year == 2028
    path = tmp_path / "2027.yaml"
    path.write_text(SCHEDULE_2027_LONG, encoding="utf-8")
    with clock.frozen(dt.date(2028, 1, 21)):
        said = _load("service", path)
    assert said == "examined=1 changed=0"  # counted again: 2028 is still unpublished
    assert _deadlines(database)[number] == before


# --- a load that changes days recounts the deadlines counted over them, settled or not ------------

# A 2027 schedule loaded with two typos (01-04 and 01-29 off), then the corrected file.
SCHEDULE_2027_WRONG = """\
year: 2027
source: 国务院办公厅关于2027年部分节假日安排的通知（测试用，有误）
holidays:
  - 2027-01-01 至 2027-01-04
  - 2027-01-29
"""
SCHEDULE_2027_FIXED = """\
year: 2027
source: 国务院办公厅关于2027年部分节假日安排的通知（测试用，更正）
holidays:
  - 2027-01-01 至 2027-01-03
"""


def _last_deadline_audit(database, record_no: str) -> tuple[dict, dict]:
    from sqlalchemy import select

    from xinyong.core.models import AuditEntry
    from xinyong.records.models import Record

    with database.connect() as conn:
        record_id = conn.scalar(select(Record.id).where(Record.decision_no == record_no))
        before, after = conn.execute(
            select(AuditEntry.before, AuditEntry.after)
            .where(AuditEntry.action == "record.deadline", AuditEntry.target_id == str(record_id))
            .order_by(AuditEntry.seq.desc()).limit(1)).one()
    return json.loads(before), json.loads(after)


@pytest.mark.parametrize("how", ["service", "cli"])
def test_a_corrected_schedule_corrects_the_deadlines_the_wrong_one_settled(database, tmp_path, how):
    """Found by probing: a deadline the wrong file settled (no longer provisional) was never
    counted again, by the corrected file or by `records redeadline`. Now the corrected load
    compares the calendar before and after and counts again every deadline whose count passed
    over a changed day (01-04, 01-29), and only those."""
    december = "石家监督罚〔2026〕911号"  # counted over 01-04
    between = "石家监督罚〔2027〕912号"  # counted between 01-04 and 01-29: over neither
    january = "石家监督罚〔2027〕913号"  # counted over 01-29
    _store(tmp_path, dt.date(2027, 1, 6), _penalty(december, "2026/12/24"))
    # provisional (2027 unpublished; the package has 01-01 off): 12-25, 12-28..12-31, 01-04, 01-05
    assert _deadlines(database)[december] == (dt.date(2027, 1, 5), True, False)
    wrong, fixed = tmp_path / "wrong.yaml", tmp_path / "fixed.yaml"
    wrong.write_text(SCHEDULE_2027_WRONG, encoding="utf-8")
    fixed.write_text(SCHEDULE_2027_FIXED, encoding="utf-8")
    with clock.frozen(dt.date(2027, 1, 7)):
        _load(how, wrong)
    assert _deadlines(database)[december] == (dt.date(2027, 1, 6), False, True)
    _store(tmp_path, dt.date(2027, 1, 25), _penalty(between, "2027/01/12"))
    _store(tmp_path, dt.date(2027, 2, 10), _penalty(january, "2027/01/25"))
    before = _deadlines(database)
    assert before[between] == (dt.date(2027, 1, 21), False, False)
    # 01-26..01-28, (01-29 off), 02-01..02-04
    assert before[january] == (dt.date(2027, 2, 4), False, False)
    assert _audit_actions(database).count("record.deadline") == 1

    with clock.frozen(dt.date(2027, 2, 11)):
        said = _load(how, fixed)

    after = _deadlines(database)
    # 12-25, 12-28..12-31, 01-04, 01-05: received on 01-06, late
    assert after[december] == (dt.date(2027, 1, 5), False, False)
    assert after[between] == before[between]
    assert after[january] == (dt.date(2027, 2, 3), False, False)
    if how == "cli":
        assert "2 天的放假或上班有改变" in said
        assert "已重新计算 2 条公示期限" in said and "其中 2 条改变" in said
    else:
        assert said == "examined=2 changed=2"
    assert _audit_actions(database).count("record.deadline") == 3
    was, now = _last_deadline_audit(database, december)
    assert (was["deadline"], was["on_time"], now["deadline"], now["on_time"]) == (
        "2027-01-06", True, "2027-01-05", False)

    # loading the corrected file again changes no day, so it counts nothing again
    with clock.frozen(dt.date(2027, 2, 12)):
        again = _load(how, fixed)
    assert _deadlines(database) == after
    if how == "cli":
        assert "没有需要重新计算的公示期限" in again and "有改变" not in again
    else:
        assert again == "examined=0 changed=0"
    assert _audit_actions(database).count("record.deadline") == 3
    from xinyong.core import audit

    with db.transaction() as session:
        assert audit.verify(session).ok


# Like the 2019 notice (2018-12-29 working, 12-31 off), a 2027 notice that moves days of 2026.
SCHEDULE_2027_SPILL = """\
year: 2027
source: 国务院办公厅关于2027年部分节假日安排的通知（测试用，含2026年12月调休）
holidays:
  - 2026-12-31 至 2027-01-03
working_days:
  - 2026-12-26
"""


def test_a_schedule_moving_days_of_the_previous_december_recounts_deadlines_counted_there(database, tmp_path):
    """A deadline counted wholly in published 2026 is settled; the 2027 notice that makes Saturday
    2026-12-26 a working day moves it, and loading the notice counts it again."""
    late = "石家监督罚〔2026〕914号"
    early = "石家监督罚〔2026〕915号"  # counted before 12-26: untouched
    _store(tmp_path, dt.date(2026, 12, 28), _penalty(late, "2026/12/17"), _penalty(early, "2026/12/01"))
    before = _deadlines(database)
    # 12-18, 12-21..12-25, 12-28: received on 12-28, on time
    assert before[late] == (dt.date(2026, 12, 28), False, True)
    path = tmp_path / "2027.yaml"
    path.write_text(SCHEDULE_2027_SPILL, encoding="utf-8")

    with clock.frozen(dt.date(2026, 12, 29)):
        said = _load("service", path)

    after = _deadlines(database)
    # 12-18, 12-21..12-25, 12-26 (Saturday, working): received on 12-28, late
    assert after[late] == (dt.date(2026, 12, 26), False, False)
    assert after[early] == before[early]
    assert said == "examined=1 changed=1"
    assert _audit_actions(database).count("record.deadline") == 1
    with clock.frozen(dt.date(2026, 12, 30)):
        assert _load("service", path) == "examined=0 changed=0"
    assert _deadlines(database) == after
    assert _audit_actions(database).count("record.deadline") == 1


# --- days of the neighbouring year that two notices list --------------------------------------

SCHEDULE_2019 = """\
year: 2019
source: 国务院办公厅关于2019年部分节假日安排的通知（国办发明电〔2018〕15号）
holidays:
  - 2018-12-30 至 2019-01-01
  - 2019-02-04 至 2019-02-10
working_days:
  - 2018-12-29
  - 2019-02-02
  - 2019-02-03
"""
# the 2018 notice as an administrator may write it, with the 2019 notice's days at its end
SCHEDULE_2018 = """\
year: 2018
source: 国务院办公厅关于2018年部分节假日安排的通知（国办发明电〔2017〕12号）
holidays:
  - 2018-02-15 至 2018-02-21
  - 2018-12-30 至 2019-01-01
working_days:
  - 2018-02-11
  - 2018-12-29
"""
# a 2018 file with 12-29 off, as the 2019 notice does not have it
SCHEDULE_2018_WRONG = """\
year: 2018
source: 2018年安排（测试用，12月29日有误）
holidays:
  - 2018-02-15 至 2018-02-21
  - 2018-12-29 至 2019-01-01
working_days:
  - 2018-02-11
"""


def _run_load(path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["calendar", "load", str(path)], env={"COLUMNS": "250"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, "".join(result.output.split())


def _stored_days(database) -> dict[dt.date, tuple[int, bool]]:
    from sqlalchemy import select

    from xinyong.core.models import CalendarDay

    with database.connect() as conn:
        return {day: (year, working) for day, year, working in conn.execute(
            select(CalendarDay.day, CalendarDay.year, CalendarDay.working))}


def test_a_day_two_notices_list_alike_is_stored_once(database, tmp_path):
    """Found by probing: loading the 2018 file after the 2019 one, both listing 2018-12-29..
    2019-01-01, died on the primary key of calendar_days (a traceback, exit 1). The days the
    2019 schedule holds the same way are not stored twice, and the calendar counts them alike;
    reloading either file works."""
    s2019, s2018 = tmp_path / "2019.yaml", tmp_path / "2018.yaml"
    s2019.write_text(SCHEDULE_2019, encoding="utf-8")
    s2018.write_text(SCHEDULE_2018, encoding="utf-8")
    assert _run_load(s2019)[0] == 0
    code, said = _run_load(s2018)
    assert code == 0, said
    assert "已载入2018年安排" in said
    assert "其中2018-12-29、2018-12-30、2018-12-31、2019-01-01已在2019年安排中" in said
    stored = _stored_days(database)
    assert stored[dt.date(2018, 12, 29)] == (2019, True) and stored[dt.date(2018, 2, 11)] == (2018, True)
    with db.transaction() as session:
        calendar = load_calendar(session)
    assert calendar.is_working_day(dt.date(2018, 12, 29)) and not calendar.is_working_day(dt.date(2018, 12, 31))
    assert calendar.is_published(2018) and calendar.is_published(2019)
    for path in (s2018, s2019, s2018):
        code, said = _run_load(path)
        assert code == 0 and "已替换" in said, said
    assert _stored_days(database) == stored


def test_a_day_of_the_previous_year_listed_by_the_next_notice_first_is_stored_once(database, tmp_path):
    """The other direction: the 2027 notice stores 2026-12-31, then the 2026 file lists it too."""
    s2027, s2026 = tmp_path / "2027.yaml", tmp_path / "2026.yaml"
    s2027.write_text(SCHEDULE_2027_SPILL, encoding="utf-8")
    s2026.write_text("year: 2026\nsource: 2026年安排（测试用）\nholidays:\n  - 2026-01-01 至 2026-01-03\n"
                     "  - 2026-12-31\n", encoding="utf-8")
    assert _run_load(s2027)[0] == 0
    for _ in range(2):
        code, said = _run_load(s2026)
        assert code == 0, said
        assert "其中2026-12-31已在2027年安排中" in said
    assert _stored_days(database)[dt.date(2026, 12, 31)] == (2027, False)


def test_a_day_two_notices_list_differently_refuses_the_load(database, tmp_path):
    """One of the two files is wrong: the load is refused (exit 2, no traceback), naming the day,
    what each file says and where the stored one comes from; nothing is changed."""
    s2019, s2018, wrong = tmp_path / "2019.yaml", tmp_path / "2018.yaml", tmp_path / "2018-wrong.yaml"
    s2019.write_text(SCHEDULE_2019, encoding="utf-8")
    s2018.write_text(SCHEDULE_2018, encoding="utf-8")
    wrong.write_text(SCHEDULE_2018_WRONG, encoding="utf-8")
    assert _run_load(s2019)[0] == 0
    assert _run_load(s2018)[0] == 0
    stored = _stored_days(database)
    loads = _audit_actions(database).count("calendar.load")

    code, said = _run_load(wrong)

    assert code == 2, said
    assert ("2018-wrong.yaml：与已载入的其他年份安排不一致，未载入" in said
            and "2018-12-29本文件列为放假日，已载入的2019年安排（国务院办公厅关于2019年部分节假日安排的通知"
                "（国办发明电〔2018〕15号））列为调休上班日" in said), said
    assert _stored_days(database) == stored
    assert _audit_actions(database).count("calendar.load") == loads
    with db.transaction() as session:
        calendar = load_calendar(session)
    assert calendar.schedule_source(2018) == "国务院办公厅关于2018年部分节假日安排的通知（国办发明电〔2017〕12号）"

    # the service refuses it too, with a typed error (a 409 for an API)
    from xinyong.core.calendar import ScheduleConflict, import_schedule

    with pytest.raises(ScheduleConflict) as refused, db.transaction() as session:
        import_schedule(session, wrong, actor="test")
    assert refused.value.status_code == 409 and "2018-12-29" in refused.value.message
