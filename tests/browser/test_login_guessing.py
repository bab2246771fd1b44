"""Password guessing against the real server (uvicorn, several requests at once)."""

from __future__ import annotations

import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from browser.liveserver import LiveServer
from webhelpers import make_user
from xinyong.accounts.access import Role
from xinyong.core import db, registry  # noqa: F401  (registry: every table, for the foreign keys)

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


def _new_user(server: LiveServer) -> str:
    """A user of its own (an approver): its lock-out harms no other test."""
    engine = db.build_engine(server.database_url)
    try:
        with db.transaction(engine) as session:
            return make_user(session, Role.APPROVER, username=f"change-{uuid.uuid4().hex[:8]}").username
    finally:
        engine.dispose()


def test_guesses_of_the_current_password_sent_at_the_same_moment_are_limited_too(live_server: LiveServer) -> None:
    """Changing one's password asks for the current one, and wrong ones count as failed logins.
    The count was read before the check and written after it, as the login's once was: 40
    guesses sent at once from a logged-in session (a stolen one) had far more than five checked."""
    username = _new_user(live_server)
    login = httpx.post(f"{live_server.url}/login", data={"username": username, "password": live_server.password},
                       follow_redirects=False, timeout=60)
    assert login.status_code == 303, login.text[:300]
    cookies = {"xy_session": login.cookies["xy_session"]}
    account = httpx.get(f"{live_server.url}/account", cookies=cookies, timeout=60)
    csrf = re.search(r'name="csrf_token"\s+value="([^"]+)"', account.text)
    assert csrf, account.text[:300]
    new = "a-new-password-for-" + username

    def change(current: str) -> httpx.Response:
        return httpx.post(f"{live_server.url}/account/password", cookies=cookies, timeout=60, data={
            "csrf_token": csrf.group(1), "current_password": current, "new_password": new,
            "new_password_again": new})

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = [r.status_code for r in pool.map(lambda n: change(f"guess-{n}-of-it"), range(40))]
    assert statuses.count(400) == LIMIT and statuses.count(429) == 40 - LIMIT, statuses
    refused = change(live_server.password)  # the right one too, until the ten minutes are over
    assert refused.status_code == 429 and "10 分钟后再试" in refused.text
