"""Tables of the intake: batches and the issues (errors, warnings) found in them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.db import Base
from xinyong.core.types import BigId, UTCDateTime


class Batch(Base):
    """One submitted file. A batch is stored whole or not at all."""

    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # penalty | licence
    file_name: Mapped[str] = mapped_column(String(500))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_format: Mapped[str] = mapped_column(String(10))
    encoding: Mapped[str | None] = mapped_column(String(20))
    layout: Mapped[str] = mapped_column(String(20))
    submitted_by: Mapped[str] = mapped_column(String(100), default="cli")
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL"), nullable=True
    )
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    rows_total: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer)
    corrected: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    report_json: Mapped[str] = mapped_column(Text)


class BatchIssue(Base):
    """An error (row rejected) or warning (row stored) found in a batch."""

    __tablename__ = "batch_issues"
    # full reports read a batch's issues of one severity a page at a time, by id
    __table_args__ = (Index("ix_batch_issues_batch_severity_id", "batch_id", "severity", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    severity: Mapped[str] = mapped_column(String(10))  # error | warning
    line: Mapped[int | None] = mapped_column(Integer)
    field: Mapped[str | None] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(50))
    message: Mapped[str] = mapped_column(Text)


class RejectedRow(Base):
    """The cells of a rejected row as the department sent them, so staff can fix them in Excel."""

    __tablename__ = "batch_rejected_rows"
    __table_args__ = (Index("ix_batch_rejected_rows_batch_line", "batch_id", "line"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    line: Mapped[int] = mapped_column(Integer)
    cells: Mapped[str] = mapped_column(Text)  # JSON object: column header as written -> cell text
