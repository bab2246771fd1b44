"""Password guessing against the real server (uvicorn, several requests at once)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from browser.liveserver import LiveServer

LIMIT = 5  # failed logins allowed per username and address in ten minutes


def _guess(server: LiveServer, username: str, headers: dict[str, str] | None = None) -> int:
    return httpx.post(f"{server.url}/login", data={"username": username, "password": "not-the-password-1"},
                      headers=headers, timeout=60).status_code


def test_guesses_sent_at_the_same_moment_are_limited_too(live_server: LiveServer) -> None:
    """The limit used to be read before the password was checked and written after: 40 guesses
    sent at once had 19 checked. Each attempt is now counted before its check."""
    username = f"guess-{uuid.uuid4().hex[:8]}"  # a name no test logs in with: its lock-out harms none
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(lambda _: _guess(live_server, username), range(40)))
    assert statuses.count(401) == LIMIT and statuses.count(429) == 40 - LIMIT, statuses


def test_a_forwarded_address_is_not_believed_without_a_configured_proxy(live_server: LiveServer) -> None:
    """Without XINYONG_TRUST_PROXY a client's X-Forwarded-For is no address of its own: rotating
    it neither escapes the limit nor writes a made-up address into the audit log."""
    username = f"guess-{uuid.uuid4().hex[:8]}"
    statuses = [_guess(live_server, username, {"X-Forwarded-For": f"203.0.113.{n}"}) for n in range(LIMIT + 3)]
    assert statuses == [401] * LIMIT + [429] * 3
