"""Test fixtures: every database test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings

from xinyong.core import clock, db
from xinyong.core.config import reset_settings
from xinyong.core.crypto import reset_keyring

FIXTURES = Path(__file__).parent / "fixtures"
PG_ADMIN_URL = os.environ.get(
    "XINYONG_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TODAY = dt.date(2026, 11, 21)

# Hypothesis fails an example that takes longer than 200 ms by default: a timing assertion, which
# a loaded machine (CI, two test workers on two cores) trips with no fault in the code.
settings.register_profile("xinyong", deadline=None)
settings.load_profile("xinyong")

os.environ.setdefault("XINYONG_SECRET_KEY", base64.b64encode(b"x" * 32).decode())


@pytest.fixture(autouse=True)
def _frozen_today() -> Iterator[None]:
    """Every test runs on a fixed "today"; a test that needs another day sets the clock."""
    with clock.frozen(TODAY):
        yield


def _pg_database(worker: str) -> Iterator[str]:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"xinyong_test_{worker}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:  # a missing server is a failure, never a skip
        pytest.fail(f"PostgreSQL is required for the tests and is not reachable: {exc}")
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def _migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One migrated database per backend for the whole session."""
    sqlite_url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'xinyong.db'}"
    urls = {"sqlite": sqlite_url}
    pg = _pg_database(os.environ.get("PYTEST_XDIST_WORKER", "main"))
    urls["postgresql"] = next(pg)
    for url in urls.values():
        db.upgrade(url)
    yield urls
    next(pg, None)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path,
                       monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database of its own with no tables, configured as the platform's database (for tests
    of the migrations themselves)."""
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path / 'fresh.db'}"])
    else:
        urls = _pg_database(f"fresh_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")
    url = next(urls)
    monkeypatch.setenv("XINYONG_DATABASE_URL", url)
    reset_settings()
    db.reset_engine()
    reset_keyring()
    try:
        yield url
    finally:
        db.reset_engine()
        reset_settings()
        next(urls, None)


def _truncate(engine: sa.Engine) -> None:
    from xinyong.core.registry import metadata

    tables = [t.name for t in metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            conn.execute(sa.text("PRAGMA foreign_keys=OFF"))
            for name in reversed(tables):
                conn.execute(sa.text(f"DELETE FROM {name}"))
            conn.execute(sa.text("DELETE FROM sqlite_sequence")) if _has_sequence(conn) else None
            conn.execute(sa.text("PRAGMA foreign_keys=ON"))


def _has_sequence(conn: sa.Connection) -> bool:
    return bool(conn.execute(sa.text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first())


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, _migrated: dict[str, str],
             monkeypatch: pytest.MonkeyPatch) -> Iterator[sa.Engine]:
    """An empty, migrated database, configured as the platform's database for this test."""
    url = _migrated[request.param]
    monkeypatch.setenv("XINYONG_DATABASE_URL", url)
    reset_settings()
    db.reset_engine()
    reset_keyring()
    engine = db.get_engine()
    _truncate(engine)
    yield engine
    db.reset_engine()
    reset_settings()


@pytest.fixture
def session(database: sa.Engine) -> Iterator[sa.orm.Session]:
    with db.transaction(database) as s:
        yield s


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def broken_packs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The shipped policy packs with an operator's editing slip, configured as the platform's: a
    copy of a national rule under another id, in force on the same days. Yields that id, which
    the packs' check names."""
    import shutil

    from xinyong.core.config import POLICY_PACKS_DIR
    from xinyong.policy.service import reset_policy_book

    packs = tmp_path / "broken-packs"
    shutil.copytree(POLICY_PACKS_DIR, packs)
    deadlines = packs / "national" / "publication-deadlines.yaml"
    text = deadlines.read_text(encoding="utf-8")
    copy = text[text.index("  - id: publication-deadline-2016"):].split("\n  - id:")[0]
    deadlines.write_text(text + "\n" + copy.replace("publication-deadline-2016", "publication-deadline-copy"),
                         encoding="utf-8")
    monkeypatch.setenv("XINYONG_POLICY_DIR", str(packs))
    reset_settings()
    reset_policy_book()
    yield "publication-deadline-copy"
    monkeypatch.delenv("XINYONG_POLICY_DIR")
    reset_settings()
    reset_policy_book()


os.environ.setdefault("XINYONG_RATE_LIMIT_PER_MINUTE", "0")  # the rate-limit test turns it on


@pytest.fixture
def app(database: sa.Engine):  # type: ignore[no-untyped-def]
    """The web application on the test's database."""
    from xinyong.web.app import create_app

    return create_app()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    """An HTTP client for the app (https, so that Secure cookies are kept)."""
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client
