"""Tables of the accounts module: departments that provide records."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.db import Base
from xinyong.core.types import BigId, UTCDateTime


class Department(Base):
    """A department that submits records (信息提供单位), identified by its USCC."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    area_code: Mapped[str] = mapped_column(String(6), index=True)
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # True when the department was first seen in a file rather than set up by the credit office.
    auto_registered: Mapped[bool] = mapped_column(Boolean, default=False)
    registered_by_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("batches.id", use_alter=True, ondelete="SET NULL"), nullable=True
    )
