"""Administrator-loaded holiday schedules change working-day deadlines."""

from __future__ import annotations

import datetime as dt

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
