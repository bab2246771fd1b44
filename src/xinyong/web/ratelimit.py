"""Per-client rate limiting of public pages and the public API (a sliding one-minute window)."""

from __future__ import annotations

import time
from collections import deque
from threading import Lock

from starlette.types import ASGIApp, Receive, Scope, Send

from xinyong.core.config import get_settings

LIMITED_PREFIXES = ("/search", "/subjects", "/api/v1/subjects", "/disclosures")


class RateLimiter:
    """Counts requests per client in memory (per process: each worker limits on its own)."""

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
