"""Per-client rate limiting of public pages and the public API: a sliding minute, counted in the
database, so that every worker process — and every server of the platform — applies one limit.

The count is the sliding-window estimate: a client's requests in the current minute plus those
of the previous minute weighted by how much of it the sliding minute still covers (30 s into a
minute, half of them). A client at its limit is refused without being counted, and let in again
as the estimate falls. One statement per request (``_COUNT``) reads and raises the count: an
UPSERT whose update holds only while the estimate stays within the limit, so requests of one
client arriving at once on several workers are held to the limit too. When the database does
not answer at once (SQLite while an intake holds the write lock, PostgreSQL gone), the worker
counts in its own memory for a while (``LocalRateLimiter``), as it always did before.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from threading import Lock
from typing import Any

import psycopg
from sqlalchemy import BigInteger, Float, Integer, bindparam, case, delete, exc, select
from sqlalchemy.dialects import postgresql, sqlite
from starlette.types import ASGIApp, Receive, Scope, Send

from xinyong.core import clock, db
from xinyong.core.config import get_settings
from xinyong.web.models import RateLimitCount

log = logging.getLogger("xinyong.web")

LIMITED_PREFIXES = ("/search", "/subjects", "/api/v1/subjects", "/disclosures")
# After the shared count failed, how long a worker counts in its own memory before it tries again
LOCAL_FOR_SECONDS = 10.0


class LocalRateLimiter:
    """Counts requests per client in this process's memory (a sliding minute of timestamps)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = {}
        self._lock = Lock()

    def allow(self, client: str, now: float | None = None) -> tuple[bool, int]:
        """(allowed, seconds until the client may retry)."""
        if self.per_minute <= 0:
            return True, 0
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(client, deque())
            while hits and now - hits[0] >= 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return False, max(1, int(60 - (now - hits[0])) + 1)
            hits.append(now)
            if len(self._hits) > 100_000:  # forget idle clients
                for key in [k for k, v in self._hits.items() if not v or now - v[-1] >= 60]:
                    del self._hits[key]
            return True, 0


_T = RateLimitCount.__table__
_MINUTE = bindparam("minute", type_=BigInteger)
# a stored row's counts as of ``minute``: the current minute's, and the previous minute's
_CURRENT = case((_T.c.minute == _MINUTE, _T.c.hits), else_=0)
_PREVIOUS = case((_T.c.minute == _MINUTE, _T.c.previous_hits), (_T.c.minute == _MINUTE - 1, _T.c.hits), else_=0)


def _count_statement(insert: Any) -> Any:
    """Count one request of ``client`` unless that takes its estimate past ``limit``; returns the
    row's hits when counted, nothing when refused. ``carry``: the share of the previous minute
    the sliding minute still covers."""
    return (
        insert(_T)
        .values(client=bindparam("client"), minute=_MINUTE, hits=1, previous_hits=0)
        .on_conflict_do_update(
            index_elements=[_T.c.client],
            set_={"previous_hits": _PREVIOUS, "hits": _CURRENT + 1, "minute": _MINUTE},
            where=_CURRENT + 1 + bindparam("carry", type_=Float) * _PREVIOUS <= bindparam("limit", type_=Integer),
        )
        .returning(_T.c.hits)
    )


_COUNT = {"postgresql": db.HotQuery(_count_statement(postgresql.insert)),
          "sqlite": db.HotQuery(_count_statement(sqlite.insert))}
_COUNTS_OF = select(_CURRENT.label("current"), _PREVIOUS.label("previous")).where(_T.c.client == bindparam("client"))
_SWEEP = delete(_T).where(_T.c.minute < _MINUTE - 1)


def retry_after(limit: int, current: int, previous: int, into: float) -> int:
    """Seconds until a client refused ``into`` seconds into a minute, with ``current`` requests
    in it and ``previous`` in the minute before, is let in (the estimate + 1 within ``limit``)."""
    if previous and current + 1 <= limit:  # later in this minute, as the previous one weighs less
        wait = 60 * (1 - (limit - 1 - current) / previous) - into
    else:  # in the next minute, as this one weighs less
        wait = 60 - into + (60 * (1 - (limit - 1) / current) if current > limit - 1 else 0)
    return max(1, math.ceil(wait))


class RateLimiter:
    """The limit, counted in the platform's database (``rate_limit_counts``).

    A client refused is refused by this worker without asking the database again until the
    moment it was told to come back: its estimate only falls with time, and no worker counts it
    before then, so that moment holds for every worker. A client hammering at its limit costs
    one statement per worker and Retry-After, not one per request."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.local = LocalRateLimiter(per_minute)
        self._local_until = 0.0
        self._swept: int | None = None
        self._refused: dict[str, float] = {}  # client -> when it may come back (clock.now() timestamp)

    def allow(self, client: str) -> tuple[bool, int]:
        """(allowed, seconds until the client may retry)."""
        if self.per_minute <= 0:
            return True, 0
        client = client[:64]
        now = clock.now().timestamp()
        back = self._refused.get(client)
        if back is not None:
            if now < back:
                return False, max(1, math.ceil(back - now))
            del self._refused[client]
        if time.monotonic() < self._local_until:
            return self.local.allow(client)
        try:
            allowed, retry = self._count(client, now)
        except (exc.DBAPIError, psycopg.Error) as error:  # (a HotQuery on psycopg raises the driver's own)
            self._local_until = time.monotonic() + LOCAL_FOR_SECONDS
            log.warning("rate limit: the shared count failed (%s); this worker counts in its own memory for "
                        "%.0f s", type(getattr(error, "orig", error)).__name__, LOCAL_FOR_SECONDS)
            return self.local.allow(client)
        if not allowed:
            if len(self._refused) > 100_000:  # forget clients whose time has come
                self._refused = {k: v for k, v in self._refused.items() if v > now}
            self._refused[client] = now + retry
        return allowed, retry

    def _count(self, client: str, now: float) -> tuple[bool, int]:
        minute, into = divmod(now, 60)
        params = {"client": client, "minute": int(minute), "carry": 1 - into / 60, "limit": self.per_minute}
        with db.count_engine().connect() as connection:
            if _COUNT[connection.dialect.name].rows(connection, params):
                if self._swept != params["minute"]:  # forget the clients of minutes gone, once a minute
                    connection.execute(_SWEEP, params)
                    self._swept = params["minute"]
                return True, 0
            counts = connection.execute(_COUNTS_OF, params).one()
        return False, retry_after(self.per_minute, counts.current, counts.previous, into)


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.limiter = RateLimiter(get_settings().rate_limit_per_minute)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/" or path.startswith(LIMITED_PREFIXES)):
            await self.app(scope, receive, send)
            return
        from starlette.requests import Request

        from xinyong.web.deps import client_ip

        allowed, retry = self.limiter.allow(client_ip(Request(scope)))
        if allowed:
            await self.app(scope, receive, send)
            return
        from xinyong.web.errors import too_many_requests

        response = too_many_requests(Request(scope), retry)
        await response(scope, receive, send)
