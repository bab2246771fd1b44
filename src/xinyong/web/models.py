"""Tables owned by the web layer: the rate limiter's counts."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.db import Base


class RateLimitCount(Base):
    """One client's requests to the limited pages in the current minute and the one before it,
    shared by every worker process and every server of the platform (``web.ratelimit``). A row
    lives for two minutes; on PostgreSQL the table is UNLOGGED (no WAL, emptied after a crash)."""

    __tablename__ = "rate_limit_counts"

    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    minute: Mapped[int] = mapped_column(BigInteger)  # minutes since the epoch
    hits: Mapped[int] = mapped_column(Integer)  # in ``minute``
    previous_hits: Mapped[int] = mapped_column(Integer)  # in the minute before it
