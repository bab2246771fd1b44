"""`xinyong serve` as it runs in production: a real Uvicorn on a fresh PostgreSQL database."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa

from browser.liveserver import LiveServer, LiveServerError, another_server, start_live_server


@contextmanager
def live_server(database_url: str | None = None, **env: str) -> Iterator[LiveServer]:
    try:
        server = start_live_server(prefix="xinyong_serve", database_url=database_url, demo=False, users=False,
                                   env=env)
    except LiveServerError as exc:  # a missing PostgreSQL is a failure, never a skip
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


def _send(server: LiveServer, request: bytes) -> socket.socket:
    address = urlsplit(server.url)
    sock = socket.create_connection((address.hostname, address.port), timeout=30)
    sock.sendall(request)
    return sock


def _form_post(path: str, body: str, length: int | None = None) -> bytes:
    """A form posted with ``Content-Length: length`` (of ``body`` unless given)."""
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body) if length is None else length}\r\n\r\n{body}").encode()


def _waiting_for_a_lock(conn: sa.Connection) -> bool:
    return bool(conn.execute(sa.text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )).scalar())


def test_a_stopping_server_ends_although_a_request_is_stuck():
    """A request stuck on a database lock, and a client that sent half its form and went quiet,
    kept a stopping worker alive until the service manager killed it: the worker waited for them
    however long they took. With XINYONG_GRACEFUL_SHUTDOWN_SECONDS it cancels them after that
    long, says so in its log, and exits."""
    with live_server(XINYONG_GRACEFUL_SHUTDOWN_SECONDS="1") as server:
        assert server.process is not None
        engine = server.engine()
        clients: list[socket.socket] = []
        try:
            with engine.connect() as locker, engine.connect() as watcher:
                locker.execute(sa.text("LOCK TABLE login_failures IN ACCESS EXCLUSIVE MODE"))
                clients.append(_send(server, _form_post("/search", "q=", length=100)))  # half a form
                body = "username=admin&password=guess-guess"  # a login, counted in the table locked above
                clients.append(_send(server, _form_post("/login", body)))
                for _ in range(600):
                    if _waiting_for_a_lock(watcher):
                        break
                    time.sleep(0.1)
                assert _waiting_for_a_lock(watcher), server.log_tail()
                server.process.send_signal(signal.SIGTERM)
                try:
                    server.process.wait(timeout=120)
                except subprocess.TimeoutExpired:
                    pytest.fail(f"the server did not stop while requests were in flight:\n{server.log_tail()}")
                locker.rollback()
        finally:
            for client in clients:
                client.close()
            engine.dispose()
        assert "timeout graceful shutdown exceeded" in server.log_tail(200)


def test_two_servers_on_one_database_apply_one_rate_limit(empty_database_url):
    """Two `xinyong serve` processes (two servers behind a load balancer; `--workers 2` are two
    such processes too): each counted a client in its own memory, so the client got the limit
    from each. The count is the database's now, on SQLite (one file) and PostgreSQL alike."""
    limit = 5
    with live_server(empty_database_url, XINYONG_RATE_LIMIT_PER_MINUTE=str(limit)) as first:
        second = another_server(first)
        try:
            while time.time() % 60 > 45:  # a minute's end in the middle would weigh the count anew
                time.sleep(1)
            answers = [(server, httpx.get(f"{server.url}/", timeout=30)) for server in [first, second] * limit]
        finally:
            second.stop()
    assert [r.status_code for _, r in answers].count(200) == limit, [r.status_code for _, r in answers]
    refused = [(server, r) for server, r in answers if r.status_code != 200]
    assert {server.url for server, _ in refused} == {first.url, second.url}  # each refused the client
    for _, response in refused:
        assert response.status_code == 429 and "您的访问过于频繁" in response.text
        assert int(response.headers["Retry-After"]) > 0
