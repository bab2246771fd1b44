"""A real Xinyong server on a fresh PostgreSQL database, for browser tests, screenshots and benchmarks.

``start_live_server()`` creates a database, migrates it (``xinyong db upgrade``), fills it with demo
data (``xinyong demo``), creates users (two officers of two departments and an administrator),
starts ``xinyong serve`` on a free port and waits for ``/readyz``. ``LiveServer.stop()`` terminates
the server and drops the database. Used by ``tests/browser/conftest.py``, ``scripts/screenshots.py``
and ``bench/web.py``.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = os.environ.get(
    "XINYONG_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TODAY = "2026-11-21"
SECRET_KEY = base64.b64encode(b"x" * 32).decode()  # the same key as tests/conftest.py
PASSWORD = "correct-horse-battery"  # the same as tests/webhelpers.py

CHROMIUM = "/usr/bin/chromium"
# The launch flags this machine's Chromium needs (no sandbox as root; no calls to Google's hosts).
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

# Officer A belongs to the department that sent the one valid row of
# tests/fixtures/penalties_with_errors.csv (line 7); officer B to a demo department.
DEPARTMENT_A = ("11440402A20Y55BB2N", "珠海市生态环境局香洲分局")
DEPARTMENT_B = ("11130102000084785B", "石家庄市市场监督管理局")


class LiveServerError(RuntimeError):
    pass


@dataclass
class LiveServer:
    url: str
    database_url: str
    database_name: str
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None
    users: dict[str, str] = field(default_factory=dict)  # officer_a, officer_b, admin -> username
    password: str = PASSWORD

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.database_url, pool_pre_ping=True)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None
        if self.database_name:  # a server started on a database of the caller's leaves it
            drop_database(self.database_name)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def create_database(prefix: str) -> tuple[str, str]:
    """A new, empty PostgreSQL database; returns (name, SQLAlchemy URL). Raises when unreachable."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        raise LiveServerError(f"PostgreSQL is required and is not reachable at {PG_ADMIN_URL}: {exc}") from exc
    finally:
        admin.dispose()
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    return name, url


def drop_database(name: str) -> None:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "XINYONG_DATABASE_URL": database_url,
        "XINYONG_TODAY": TODAY,
        "XINYONG_SECRET_KEY": SECRET_KEY,
        "XINYONG_COOKIE_SECURE": "false",  # plain http on 127.0.0.1
        "XINYONG_RATE_LIMIT_PER_MINUTE": "0",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


def xinyong(env: dict[str, str], *args: str, input: str | None = None, timeout: float = 600) -> str:
    """Run one ``xinyong`` command; raises with its output when it fails."""
    result = subprocess.run(
        [sys.executable, "-m", "xinyong.cli", *args], env=env, cwd=ROOT, input=input,
        capture_output=True, text=True, timeout=timeout,
    )
    if result.returncode != 0:
        raise LiveServerError(f"xinyong {' '.join(args)} failed ({result.returncode}):\n"
                              f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


@contextmanager
def _as_the_server() -> Iterator[None]:
    """This process with the server's key and day, for what it writes into the server's database:
    the audit entries of the users it creates are chained with the server's key (a script run
    without XINYONG_SECRET_KEY would chain them with a key of its own, and the server's audit log
    would not verify from the first of them on)."""
    from xinyong.core.config import reset_settings
    from xinyong.core.crypto import reset_keyring

    saved = {name: os.environ.get(name) for name in ("XINYONG_SECRET_KEY", "XINYONG_TODAY")}
    os.environ.update({"XINYONG_SECRET_KEY": SECRET_KEY, "XINYONG_TODAY": TODAY})
    reset_settings()
    reset_keyring()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_settings()
        reset_keyring()


def create_users(database_url: str) -> dict[str, str]:
    """Two officers of two departments and an administrator, through the accounts service."""
    from xinyong.accounts import service
    from xinyong.accounts.access import Role
    from xinyong.core import (
        db,
        registry,  # noqa: F401  (every table, for the foreign keys)
    )

    engine = db.build_engine(database_url)
    users: dict[str, str] = {}
    try:
        with _as_the_server(), db.transaction(engine) as session:
            departments = {}
            for key, (uscc, name) in (("a", DEPARTMENT_A), ("b", DEPARTMENT_B)):
                department = service.find_department(session, uscc)
                if department is None:
                    department = service.register_department(session, uscc=uscc, name=name)
                departments[key] = department
            for key, role, department, display in (
                ("officer_a", Role.OFFICER, departments["a"], "珠海生态报送员"),
                ("officer_b", Role.OFFICER, departments["b"], "石家庄市监报送员"),
                ("admin", Role.ADMIN, None, "信用办管理员"),
            ):
                username = f"e2e_{key}"  # `xinyong demo` has its own demo users
                service.create_user(session, username=username, password=PASSWORD, role=role,
                                    display_name=display,
                                    department_id=department.id if department is not None else None)
                users[key] = username
    finally:
        engine.dispose()
    return users


def start_live_server(
    *, prefix: str = "xinyong_browser", subjects: int = 200, workers: int = 1, port: int | None = None,
    database_url: str | None = None, demo: bool = True, users: bool = True, startup_timeout: float = 60,
    env: dict[str, str] | None = None,
) -> LiveServer:
    """Create (unless ``database_url`` is given), migrate and fill a database, then start the server
    (``env``: settings of its own, e.g. ``{"XINYONG_RATE_LIMIT_PER_MINUTE": "10"}``)."""
    if database_url is None:
        name, url = create_database(prefix)
    else:  # the server drops a PostgreSQL database it is given when it stops; a SQLite file stays
        parsed = sa.engine.make_url(database_url)
        name, url = "" if parsed.get_backend_name() == "sqlite" else parsed.database or "", database_url
    env = server_env(url, **(env or {}))
    port = port or free_port()
    log = Path(tempfile.mkstemp(prefix=f"{name}-", suffix=".log")[1])
    server = LiveServer(url=f"http://127.0.0.1:{port}", database_url=url, database_name=name, env=env,
                        log_path=log)
    try:
        xinyong(env, "db", "upgrade")
        if demo:
            xinyong(env, "demo", "--subjects", str(subjects))
        if users:
            server.users = create_users(url)
        run_server(server, workers, startup_timeout)
    except BaseException:
        server.stop()
        raise
    return server


def another_server(server: LiveServer, *, startup_timeout: float = 60) -> LiveServer:
    """A second ``xinyong serve`` (a process of its own, as on a second machine behind a load
    balancer) on ``server``'s database and settings; stopping it leaves the database."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="xinyong-another-", suffix=".log")[1])
    other = LiveServer(url=f"http://127.0.0.1:{port}", database_url=server.database_url, database_name="",
                       env=server.env, log_path=log)
    try:
        run_server(other, 1, startup_timeout)
    except BaseException:
        other.stop()
        raise
    return other


def run_server(server: LiveServer, workers: int, startup_timeout: float) -> None:
    """Start ``xinyong serve`` for ``server`` (its port, settings and log) and wait until it is ready."""
    with open(server.log_path, "wb") as out:
        server.process = subprocess.Popen(
            [sys.executable, "-m", "xinyong.cli", "serve", "--host", "127.0.0.1",
             "--port", server.url.rsplit(":", 1)[1], "--workers", str(workers)],
            env=server.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )
    wait_ready(server, startup_timeout)


def wait_ready(server: LiveServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if server.process is not None and server.process.poll() is not None:
            raise LiveServerError(f"xinyong serve exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            response = httpx.get(f"{server.url}/readyz", timeout=2)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:200]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.2)
    raise LiveServerError(f"xinyong serve not ready after {timeout:.0f} s ({last}):\n{server.log_tail()}")


def published_penalty(server: LiveServer) -> dict[str, str]:
    """A company with a penalty published today: its code, name and decision number."""
    query = sa.text("""
        SELECT s.uscc, s.name, r.decision_no
        FROM records r
        JOIN record_versions v ON v.record_id = r.id AND v.version = r.current_version
        JOIN subjects s ON s.id = r.subject_id
        WHERE r.kind = 'penalty' AND s.kind = 'organisation' AND s.uscc IS NOT NULL
          AND v.published AND r.revoked_at IS NULL
          AND (v.publication_end IS NULL OR v.publication_end >= :today)
        ORDER BY s.id, r.id
        LIMIT 1
    """)
    engine = server.engine()
    try:
        with engine.connect() as conn:
            row = conn.execute(query, {"today": TODAY}).one()
    finally:
        engine.dispose()
    return {"uscc": row.uscc, "name": row.name, "decision_no": row.decision_no}


def launch_chromium(playwright):  # type: ignore[no-untyped-def]
    """Debian's Chromium (never a downloaded browser) with this machine's flags."""
    if not Path(CHROMIUM).exists():
        raise LiveServerError(f"{CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def log_in(page, username: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    """Log in through the login form, as a person would (type, then Enter)."""
    page.goto("/login")
    page.locator("input[name=username]").fill(username)
    password_box = page.locator("input[name=password]")
    password_box.fill(password)
    with page.expect_navigation():
        password_box.press("Enter")
    if page.url.split("?")[0].rstrip("/").endswith("/login"):
        raise AssertionError(f"login as {username} failed: still on {page.url}")
