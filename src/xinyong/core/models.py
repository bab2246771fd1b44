"""Tables owned by core: published working-day schedules added by administrators."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.db import Base
from xinyong.core.types import UTCDateTime


class CalendarYear(Base):
    """One year's official holiday schedule (国务院办公厅节假日安排), as loaded by an administrator."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(500))
    loaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class CalendarDay(Base):
    """A holiday or an adjusted working day (调休) of a loaded year."""

    __tablename__ = "calendar_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("calendar_years.year", ondelete="CASCADE"), index=True)
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")
