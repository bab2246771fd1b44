"""Tables of credit records: a record, and every version of it that a department sent."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.db import Base
from xinyong.core.types import BigId, UTCDateTime


class Record(Base):
    """A licence or penalty decision about one party, identified by decision number + authority
    USCC (+ the party: a decision naming several parties is a record for each).

    The number is compared by its key (``names.document_number_key``: brackets, width, spaces
    and case folded), so 〔2024〕 and [2024] are one decision; ``decision_no`` is the spelling of
    the current version, as the department wrote it.
    """

    __tablename__ = "records"
    __table_args__ = (UniqueConstraint("kind", "authority_uscc", "decision_key", "subject_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    item_code: Mapped[str] = mapped_column(String(20))
    decision_no: Mapped[str] = mapped_column(String(128))
    decision_key: Mapped[str] = mapped_column(Text)
    authority_uscc: Mapped[str] = mapped_column(String(18))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    current_version: Mapped[int] = mapped_column(Integer)
    current_hash: Mapped[str] = mapped_column(String(64))
    # the current content with the decision number's key for its spelling (None: stored before 0008)
    current_key_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class RecordVersion(Base):
    """One version of a record as received, with where it came from and what policy decided."""

    __tablename__ = "record_versions"
    __table_args__ = (
        UniqueConstraint("record_id", "version"),
        Index("ix_record_versions_subject_id", "subject_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    # The catalogue fields as received and normalised (JSON); personal ids appear masked only.
    data: Mapped[str] = mapped_column(Text)
    subject_name: Mapped[str] = mapped_column(String(200))
    decision_date: Mapped[dt.date] = mapped_column(Date)
    # penalties: class and publication window decided by the policy in force on the decision date
    penalty_class: Mapped[str | None] = mapped_column(String(10))
    class_reason: Mapped[str | None] = mapped_column(String(200))
    class_rule: Mapped[str | None] = mapped_column(String(100))
    published: Mapped[bool] = mapped_column(Boolean)
    publication_min_end: Mapped[dt.date | None] = mapped_column(Date)
    publication_end: Mapped[dt.date | None] = mapped_column(Date)
    publication_rule: Mapped[str | None] = mapped_column(String(100))
    # the 7-working-day submission limit
    deadline: Mapped[dt.date] = mapped_column(Date)
    deadline_provisional: Mapped[bool] = mapped_column(Boolean)
    deadline_rule: Mapped[str] = mapped_column(String(100))
    on_time: Mapped[bool] = mapped_column(Boolean)
    # provenance
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    line: Mapped[int] = mapped_column(Integer)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
