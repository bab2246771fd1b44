"""Tables of the subject registry."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.db import Base
from xinyong.core.types import BigId, UTCDateTime


class Subject(Base):
    """A credit subject: organisation, individual business or natural person.

    Codes are nullable because a subject may be known only by some of them (a legacy record
    with an organisation code, an individual business with a registration number, a person
    with an identity document). A natural person's document number is never stored in
    clear: ``person_cipher`` holds it encrypted, ``person_index`` is its blind index.
    """

    __tablename__ = "subjects"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # organisation | individual_business | natural_person
    category: Mapped[str] = mapped_column(String(20))  # 行政相对人类别 as in the code table
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    org_code: Mapped[str | None] = mapped_column(String(9), index=True)
    reg_no: Mapped[str | None] = mapped_column(String(15), index=True)
    person_index: Mapped[str | None] = mapped_column(String(64), unique=True)
    person_cipher: Mapped[str | None] = mapped_column(String(200))
    person_masked: Mapped[str | None] = mapped_column(String(40))
    person_id_type: Mapped[str | None] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    name_norm: Mapped[str] = mapped_column(String(200), index=True)
    # decision date of the record that carried the current name: a later name wins
    name_as_of: Mapped[dt.date] = mapped_column(Date)
    area_code: Mapped[str | None] = mapped_column(String(6))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("batches.id", ondelete="SET NULL"), nullable=True
    )


class SubjectName(Base):
    """A name under which a subject appeared in a department's records.

    Every name has a row here, the current one (``Subject.name``) included: name search on
    PostgreSQL reads this table alone."""

    __tablename__ = "subject_names"
    __table_args__ = (UniqueConstraint("subject_id", "name_norm"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    name_norm: Mapped[str] = mapped_column(String(200))
    first_seen_on: Mapped[dt.date] = mapped_column(Date)  # earliest decision date under this name
    last_seen_on: Mapped[dt.date] = mapped_column(Date)
    first_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("batches.id", ondelete="SET NULL"), nullable=True
    )


class LegalRepresentative(Base):
    """A legal representative (法定代表人) named in a subject's records."""

    __tablename__ = "legal_representatives"
    __table_args__ = (
        UniqueConstraint("subject_id", "name", "id_index"),
        Index("ix_legal_representatives_id_index", "id_index"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    id_type: Mapped[str] = mapped_column(String(30), default="")
    id_index: Mapped[str] = mapped_column(String(64), default="")  # blind index, "" when none
    id_cipher: Mapped[str | None] = mapped_column(String(200))
    id_masked: Mapped[str | None] = mapped_column(String(40))
    first_seen_on: Mapped[dt.date] = mapped_column(Date)
    last_seen_on: Mapped[dt.date] = mapped_column(Date)
