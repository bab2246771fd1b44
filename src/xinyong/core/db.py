"""Database engine, sessions, the declarative base, and the migration-state guard."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from psycopg.rows import namedtuple_row
from sqlalchemy import Connection, Engine, MetaData, create_engine, event, exc, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql import Executable

from xinyong.core.config import MIGRATIONS_DIR, get_settings
from xinyong.core.errors import DatabaseNotReady

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache: bulk merges stay in memory
    cursor.close()


def build_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their directory and sensible pragmas."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return _postgres_engine(url, pool_size=10, max_overflow=20)


def _postgres_engine(url: str | URL, **options: Any) -> Engine:
    """A PostgreSQL engine: session settings on connect, a ping only for idle connections."""
    engine = create_engine(url, **options)
    event.listen(engine, "connect", _postgres_session)
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


# Settings of every PostgreSQL session. Name search (subjects.service) takes names whose best-matching
# stretch resembles the query at least this much: pg_trgm's default, 0.6, misses common typos.
POSTGRES_SESSION = {"pg_trgm.word_similarity_threshold": "0.3"}


def _postgres_session(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    for name, value in POSTGRES_SESSION.items():
        cursor.execute("SELECT set_config(%s, %s, false)", (name, value))
    cursor.close()
    if not dbapi_connection.autocommit:
        dbapi_connection.commit()


# A pooled connection that sat idle for longer than this is tested before use, so that a restart
# of the database server costs no failed request. A busy connection is not: a ping on every
# checkout would double the round trips of a one-query request. If the server goes away under
# load, SQLAlchemy sees the disconnect on the next statement and replaces the whole pool.
IDLE_PING_SECONDS = 5.0


def _note_checkin(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection, record, _proxy) -> None:  # type: ignore[no-untyped-def]
    if getattr(dbapi_connection, "broken", False) or getattr(dbapi_connection, "closed", False):
        raise exc.DisconnectionError()  # the driver already knows: no round trip needed
    checked_in = record.info.get("checked_in_at")
    if checked_in is not None and time.monotonic() - checked_in < IDLE_PING_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        if not dbapi_connection.autocommit:
            dbapi_connection.rollback()
    except Exception as error:  # the server closed it: the pool retries with a new connection
        raise exc.DisconnectionError() from error


@lru_cache
def get_engine() -> Engine:
    return build_engine(get_settings().database_url)


def reset_engine() -> None:
    """Dispose of the cached engine (tests switch databases)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    while _READ_ENGINES:
        _READ_ENGINES.popitem()[1].dispose()
    while _COUNT_ENGINES:
        _COUNT_ENGINES.popitem()[1].dispose()


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=engine or get_engine(), expire_on_commit=False)


_READ_ENGINES: dict[Engine, Engine] = {}


def read_engine(engine: Engine | None = None) -> Engine:
    """An engine of its own for autocommit reads: switching a pooled connection's isolation level
    on every checkout and back on checkin costs more than the read itself. Its pool is small:
    hot reads run on the event loop, one at a time per worker process. On PostgreSQL the rate
    limiter's counts use it too (``count_engine``)."""
    engine = engine or get_engine()
    reads = _READ_ENGINES.get(engine)
    if reads is not None:
        return reads
    if engine.dialect.name == "sqlite":
        reads = engine.execution_options(isolation_level="AUTOCOMMIT")
    else:
        reads = _postgres_engine(engine.url, isolation_level="AUTOCOMMIT", pool_size=2, max_overflow=8)
    _READ_ENGINES[engine] = reads
    return reads


_COUNT_ENGINES: dict[Engine, Engine] = {}
# How long a count on a hot path waits for SQLite's write lock, in milliseconds: an intake holds
# that lock for its whole batch, and a public request must not wait for it (the rate limiter
# counts in its own process meanwhile); writers that only count hold it for microseconds.
COUNT_BUSY_TIMEOUT_MS = 50


def _sqlite_count_pragmas(dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
    _sqlite_pragmas(dbapi_connection, record)
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={COUNT_BUSY_TIMEOUT_MS}")
    cursor.close()


def count_engine(engine: Engine | None = None) -> Engine:
    """An engine for counts on a hot path (the rate limiter's): one small autocommit write per
    request, run on the event loop. On PostgreSQL the read pool, autocommit already: the count
    and the lookup that follows it run on the same connection and backend (with a pool of its
    own, one more backend per worker to wake, the lookup kept a third of its throughput on two
    busy cores: docs/performance.md);
    nothing but DDL locks the counts' table, and a row is locked for microseconds. On SQLite an
    engine of its own that gives up on the write lock after ``COUNT_BUSY_TIMEOUT_MS``."""
    engine = engine or get_engine()
    counts = _COUNT_ENGINES.get(engine)
    if counts is not None:
        return counts
    if engine.dialect.name == "sqlite":
        counts = create_engine(engine.url, isolation_level="AUTOCOMMIT")
        event.listen(counts, "connect", _sqlite_count_pragmas)
    else:
        counts = read_engine(engine)
    _COUNT_ENGINES[engine] = counts
    return counts


@contextmanager
def read_only(engine: Engine | None = None) -> Iterator[Connection]:
    """A connection for public reads: each statement runs on its own (autocommit), which saves the
    BEGIN and ROLLBACK round trips of a transaction, and rows come without the ORM's identity map.
    Nothing may be written through it."""
    with read_engine(engine).connect() as connection:
        yield connection


class HotQuery:
    """A read statement on a hot path, compiled once per dialect.

    On psycopg it runs straight on the driver's cursor as a server-side prepared statement (the
    driver returns Python types itself, and PostgreSQL plans it once per connection), which
    costs a third of the CPU of a trip through SQLAlchemy's execution and result layers. On other
    drivers it runs through SQLAlchemy. Rows have attribute access either way.
    """

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[str, dict[str, Any]]] = {}

    def rows(self, connection: Connection, params: dict[str, Any]) -> list[Any]:
        dialect = connection.dialect
        if dialect.driver != "psycopg":
            return list(connection.execute(self.statement, params))
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            done = self.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
            compiled = self._compiled[dialect.name] = (str(done), dict(done.params))
        sql, defaults = compiled
        cursor = connection.connection.dbapi_connection.cursor(row_factory=namedtuple_row)  # type: ignore[union-attr]
        try:
            cursor.execute(sql, {**defaults, **params}, prepare=True)
            return cursor.fetchall()
        finally:
            cursor.close()


@contextmanager
def transaction(engine: Engine | None = None) -> Iterator[Session]:
    """One unit of work: commits at the end, rolls back on any error."""
    session = session_factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str | None = None):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", (url or get_settings().database_url).replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Apply the migrations up to ``revision``."""
    from alembic import command

    url = url or get_settings().database_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def ensure_ready(engine: Engine | None = None) -> None:
    """Refuse to work on a database that is missing or not at the current migration."""
    revision, head = schema_revision(engine)
    if revision != head:
        raise DatabaseNotReady(behind_message(revision, head))


_UPGRADE_HINT = "请先运行 `xinyong db upgrade`。"


def behind_message(revision: str, head: str) -> str:
    """What to say of a database whose schema is not at the newest migration."""
    return f"数据库结构版本为 {revision}，当前程序需要 {head}。{_UPGRADE_HINT}"


def schema_revision(engine: Engine | None = None) -> tuple[str, str]:
    """The database's schema revision and the newest migration, which this program needs; refuses
    (``DatabaseNotReady``) a database that is missing, unreachable or has no revision."""
    engine = engine or get_engine()
    url = engine.url
    hint = _UPGRADE_HINT
    is_file = url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:"
    if is_file and not Path(str(url.database)).exists():
        raise DatabaseNotReady(f"数据库文件不存在：{url.database}。{hint}")
    try:
        revision = current_revision(engine)
    except Exception as exc:  # the server is down or refuses us
        raise DatabaseNotReady(
            f"无法连接数据库 {url.render_as_string(hide_password=True)}：{exc.__class__.__name__}"
        ) from exc
    if revision is None:
        raise DatabaseNotReady(f"数据库尚未初始化。{hint}")
    return revision, head_revision()


def table_names(engine: Engine) -> list[str]:
    return inspect(engine).get_table_names()
