"""Administrator-loaded holiday schedules change working-day deadlines."""

from __future__ import annotations

import datetime as dt

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


def _load_2027(how: str, path) -> str:
    """Load the schedule through the service (in a transaction, as any caller would) or the CLI;
    the CLI's output, or a line saying what the service returned."""
    if how == "cli":
        result = CliRunner().invoke(app, ["calendar", "load", str(path)], env={"COLUMNS": "250"})
        assert result.exit_code == 0, result.output
        return " ".join(result.output.split())
    from xinyong.core.calendar import import_schedule

    with db.transaction() as session:
        loaded = import_schedule(session, path, actor="test")
    assert loaded.schedule.year == 2027
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
        said = _load_2027(how, path)

    after = _deadlines(database)
    # 12-28..12-31, 01-05, 01-06, 01-07: received on 01-07, on time
    assert after[late_december] == (dt.date(2027, 1, 7), False, True)
    # 02-04, 02-15..02-19, 02-22: received on 02-19, on time
    assert after[february] == (dt.date(2027, 2, 22), False, True)
    assert after[settled] == before[settled]
    assert after[next_year] == before[next_year]
    if how == "cli":
        assert "已按该年安排重新计算 2 条暂定的公示期限，其中 2 条改变" in said
    else:
        assert said == "examined=2 changed=2"
    assert _audit_actions(database).count("record.deadline") == 2
    assert _audit_actions(database).count("calendar.load") == 1

    # loading the same schedule again changes nothing
    with clock.frozen(dt.date(2028, 3, 22)):
        again = _load_2027(how, path)
    assert _deadlines(database) == after
    if how == "cli":
        assert "已替换 2027 年安排" in again and "没有涉及该年的暂定公示期限需要重新计算" in again
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
        said = _load_2027("service", path)
    assert said == "examined=1 changed=0"  # counted again: 2028 is still unpublished
    assert _deadlines(database)[number] == before
