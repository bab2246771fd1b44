"""The one clock: every "today" and "now" in Xinyong is read here, and tests can set it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from xinyong.core.config import get_settings

CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """The current time, timezone-aware, in China Standard Time."""
    if _frozen is not None:
        return _frozen
    configured = get_settings().today
    if configured:
        day = dt.date.fromisoformat(configured)
        real = dt.datetime.now(CHINA_TZ)
        return real.replace(year=day.year, month=day.month, day=day.day)
    return dt.datetime.now(CHINA_TZ)


def today() -> dt.date:
    """Today's date in China, which decides deadlines and publication windows."""
    return now().date()


def china_date(at: dt.datetime) -> dt.date:
    """The date in China of a stored moment (a timezone-aware datetime, e.g. a ``received_at``)."""
    return at.astimezone(CHINA_TZ).date()


def set_now(value: dt.datetime | dt.date | None) -> None:
    """Freeze the clock (``None`` unfreezes it)."""
    global _frozen
    if value is None or isinstance(value, dt.datetime):
        _frozen = value if value is None or value.tzinfo else value.replace(tzinfo=CHINA_TZ)
    else:
        _frozen = dt.datetime(value.year, value.month, value.day, 10, 0, tzinfo=CHINA_TZ)


@contextmanager
def frozen(value: dt.datetime | dt.date) -> Iterator[None]:
    """Run a block with the clock frozen at ``value``."""
    previous = _frozen
    set_now(value)
    try:
        yield
    finally:
        set_now(previous)
