"""The rate limit of public pages and the public API is one limit per client, however many worker
processes (or servers) answer it: it is counted in the database, over a sliding minute."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from xinyong.core import clock
from xinyong.core.config import reset_settings
from xinyong.web.app import create_app

LIMIT = 4


@pytest.fixture
def limited(database, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XINYONG_RATE_LIMIT_PER_MINUTE", str(LIMIT))
    reset_settings()
    yield
    reset_settings()


def _client() -> TestClient:
    """The app as one worker process runs it: its own middleware, its own memory."""
    return TestClient(create_app(), base_url="https://testserver")


def _refused(response) -> int:  # type: ignore[no-untyped-def]
    assert response.status_code == 429, response.status_code
    assert "您的访问过于频繁" in response.text
    return int(response.headers["Retry-After"])


@pytest.mark.usefixtures("limited")
def test_two_workers_apply_one_limit():
    """Each worker counted in its own memory: a client whose requests two workers shared got
    twice the limit."""
    with _client() as first, _client() as second, clock.frozen(dt.datetime(2026, 11, 21, 10, 0, 10)):
        workers = [first, second] * LIMIT
        assert [w.get("/").status_code for w in workers[:LIMIT]] == [200] * LIMIT
        for worker in workers[LIMIT:]:
            _refused(worker.get("/api/v1/subjects", params={"q": "瑞丰"}))


@pytest.mark.usefixtures("limited")
def test_the_limit_slides_over_the_minute_and_says_when_to_come_back():
    """The count of the previous minute weighs as much of it as the sliding minute still covers;
    Retry-After says when the client is let in again, and it is."""
    with _client() as first, _client() as second:
        with clock.frozen(dt.datetime(2026, 11, 21, 10, 0, 10)):
            assert [first.get("/").status_code for _ in range(LIMIT)] == [200] * LIMIT
            # 4 requests this minute: the estimate falls to 3 (+1 = the limit) 15 s into the next
            assert _refused(second.get("/")) == 50 + 15
        with clock.frozen(dt.datetime(2026, 11, 21, 10, 1, 15)):  # 4 × ¾ of the last minute + 0
            assert second.get("/").status_code == 200
            assert _refused(first.get("/")) == 15  # at 10:01:30 the estimate is 1 + 4 × ½
        with clock.frozen(dt.datetime(2026, 11, 21, 10, 1, 30)):
            assert first.get("/").status_code == 200
            _refused(second.get("/"))
        with clock.frozen(dt.datetime(2026, 11, 21, 10, 3, 0)):  # two quiet minutes: a fresh count
            assert [second.get("/").status_code for _ in range(LIMIT)] == [200] * LIMIT


@pytest.mark.usefixtures("limited")
def test_each_client_has_its_own_limit():
    with _client() as worker, clock.frozen(dt.datetime(2026, 11, 21, 10, 0, 10)):
        assert [worker.get("/").status_code for _ in range(LIMIT)] == [200] * LIMIT
        _refused(worker.get("/"))
        other = TestClient(worker.app, base_url="https://testserver", client=("10.1.2.3", 5000))
        assert other.get("/").status_code == 200


@pytest.mark.usefixtures("limited")
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)  # a lock only SQLite's intake holds
def test_a_count_that_cannot_be_written_at_once_is_kept_in_the_workers_memory(database, caplog):
    """SQLite's write lock held (an intake holds it for its whole batch): public pages do not
    wait for it; the worker counts on its own meanwhile."""
    with database.connect() as locker:
        locker.exec_driver_sql("BEGIN IMMEDIATE")
        with _client() as worker, clock.frozen(dt.datetime(2026, 11, 21, 10, 0, 10)):
            assert [worker.get("/").status_code for _ in range(LIMIT)] == [200] * LIMIT
            _refused(worker.get("/"))
        locker.rollback()
    assert any("this worker counts in its own memory" in r.getMessage() for r in caplog.records)
