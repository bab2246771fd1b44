"""Benchmark: validated ingest of penalty rows against the raw load of the same file.

Run by hand (not part of the tests):

    .venv/bin/python bench/ingest.py --rows 1000000

For each backend it measures, in the same run and on the same CSV file:
- the raw baseline: PostgreSQL ``COPY`` of the CSV into an unindexed table with the same
  columns; SQLite ``executemany`` of the same rows (read with the csv module) into such a table;
- ``xinyong ingest penalties FILE`` through the real service, into a freshly migrated database.

Each measurement runs in its own process, so its peak memory (max RSS) is its own. With
``--corrections``, the same rows are then sent again in a narrower template with another 备注 and
that intake is timed on its own: every row is a correction that keeps values of its record.
Results are printed and written as JSON (``--out``) for docs/performance.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("XINYONG_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TODAY = "2026-11-21"


def _child(args: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Run one measurement in a child process: (seconds, peak RSS in MB, stdout)."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, *args], env={**os.environ, **(env or {})},
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0,):
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"measurement failed: {args}")
    # the child reports its own peak on its last line (RUSAGE_CHILDREN would be a running max)
    lines = proc.stdout.strip().splitlines()
    peak_kb = int(lines[-1].split("=", 1)[1])
    return seconds, peak_kb // 1024, "\n".join(lines[:-1])


# what a corrections file (``--corrections``) lacks: a narrower template, without the amounts, the
# legal representative's id and the licence column; every correction keeps them from its record
NARROW_DROPS = ("罚款金额（万元）", "没收违法所得、没收非法财物的金额（万元）", "法定代表人证件类型",
                "法定代表人证件号码", "暂扣或吊销证照名称及编号")


def narrow_corrections(source: Path, path: Path) -> None:
    """The rows of ``source`` again, in a template without ``NARROW_DROPS``, each with another 备注:
    every row corrects its record and is completed from it."""
    with open(source, encoding="utf-8", newline="") as fh, open(path, "w", encoding="utf-8", newline="") as out:
        reader = csv.DictReader(fh)
        headers = [h for h in reader.fieldnames or [] if h not in NARROW_DROPS]
        writer = csv.DictWriter(out, fieldnames=headers, extrasaction="ignore")
        writer.writeheader()
        for row in reader:
            writer.writerow({**row, "备注": "已整改，罚款已缴纳"})


def generate(path: Path, rows: int, *, rejected: bool = False) -> float:
    """Write the bench file; ``rejected``: every row has two errors (date and amount)."""
    from xinyong.demo.generator import PENALTY_HEADERS, bench_penalty_rows, write_csv

    def spoiled(row: dict[str, str]) -> dict[str, str]:
        return {**row, "处罚决定日期": "2024/02/30", "罚款金额（万元）": "约三万"}

    start = time.perf_counter()
    stream = bench_penalty_rows(rows, today=dt.date.fromisoformat(TODAY))
    write_csv(path, PENALTY_HEADERS, map(spoiled, stream) if rejected else stream)
    return time.perf_counter() - start


# -- measurements run in child processes -------------------------------------------------------

def raw_pg(url: str, path: str) -> None:
    import psycopg

    with open(path, encoding="utf-8") as fh:
        headers = next(csv.reader(fh))
    cols = ", ".join(f"c{i} text" for i in range(len(headers)))
    dsn = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn:
        conn.execute(f"CREATE TABLE raw_penalties ({cols})")
        with conn.cursor() as cur, cur.copy("COPY raw_penalties FROM STDIN WITH (FORMAT csv, HEADER true)") as copy, \
                open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
        conn.commit()


def raw_sqlite(db_path: str, path: str) -> None:
    import sqlite3

    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        headers = next(reader)
        cols = ", ".join(f"c{i} TEXT" for i in range(len(headers)))
        conn.execute(f"CREATE TABLE raw_penalties ({cols})")
        marks = ", ".join("?" for _ in headers)
        batch: list[list[str]] = []
        for row in reader:
            batch.append(row)
            if len(batch) >= 5000:
                conn.executemany(f"INSERT INTO raw_penalties VALUES ({marks})", batch)
                batch.clear()
        conn.executemany(f"INSERT INTO raw_penalties VALUES ({marks})", batch)
    conn.commit()
    conn.close()


def xinyong_ingest(path: str, *then: str) -> None:
    """As ``xinyong ingest penalties FILE --report REPORT.json`` does; then each file of ``then``
    the same way, each timed on its own (``--corrections``)."""
    from xinyong.core import db
    from xinyong.ingest.service import ingest_file, write_report

    with db.transaction() as session:
        report = ingest_file(session, Path(path), "penalties")
    write_report(report, Path(path).with_suffix(".report.json"))
    print(json.dumps({"accepted": report.accepted, "rejected": report.rejected, "rows": report.rows_total}))
    for more in then:
        start = time.perf_counter()
        with db.transaction() as session:
            report = ingest_file(session, Path(more), "penalties")
        seconds = time.perf_counter() - start
        write_report(report, Path(more).with_suffix(".report.json"))
        print(json.dumps({"seconds": round(seconds, 2), "corrected": report.corrected,
                          "unchanged": report.unchanged, "rejected": report.rejected}))


# -- orchestration -----------------------------------------------------------------------------

def _pg_db() -> tuple[str, sa.Engine, str]:
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"xinyong_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return sa.engine.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False), admin, name


def _drop(admin: sa.Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "ingest.json")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--rejected", action="store_true",
                        help="every row has two errors: the memory of a report with 2 errors per row")
    parser.add_argument("--corrections", action="store_true",
                        help="after the intake, send every row again in a narrower template with another "
                             "备注 (each a correction completed from its record), timed on its own")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="xinyong-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    csv_path = work / f"penalties_{args.rows}{'_rejected' if args.rejected else ''}.csv"
    if not csv_path.exists():
        print(f"generating {args.rows} rows …", flush=True)
        seconds = generate(csv_path, args.rows, rejected=args.rejected)
        print(f"  {seconds:.1f} s, {csv_path.stat().st_size / 1e6:.0f} MB")
    then: list[str] = []
    if args.corrections:
        narrow = work / f"corrections_{args.rows}.csv"
        if not narrow.exists():
            narrow_corrections(csv_path, narrow)
        then.append(str(narrow))
    me = str(Path(__file__).resolve())
    env = {"XINYONG_TODAY": TODAY, "XINYONG_VAR_DIR": str(work),
           "XINYONG_SECRET_KEY": "YmVuY2htYXJrLWtleS1ub3QtZm9yLXByb2R1Y3Rpb24tdXNlLTEyMzQ1Ng=="}
    results: dict[str, object] = {"rows": args.rows, "file_mb": round(csv_path.stat().st_size / 1e6),
                                  "rejected_file": args.rejected,
                                  "date": dt.date.today().isoformat(), "machine": f"{os.cpu_count()} cores"}
    for backend in args.backends.split(","):
        if backend == "postgresql":
            url, admin, name = _pg_db()
            try:
                raw_s, raw_mb, _ = _child([me, "--child", "raw_pg", url, str(csv_path)])
            finally:
                _drop(admin, name)
            url, admin, name = _pg_db()
            try:
                subprocess.run([sys.executable, "-m", "xinyong.cli", "db", "upgrade"], check=True,
                               env={**os.environ, **env, "XINYONG_DATABASE_URL": url}, capture_output=True)
                ing_s, ing_mb, out = _child([me, "--child", "ingest", str(csv_path), *then],
                                            {**env, "XINYONG_DATABASE_URL": url})
            finally:
                _drop(admin, name)
        else:
            raw_db = work / "raw.db"
            for p in work.glob("raw.db*"):
                p.unlink()
            raw_s, raw_mb, _ = _child([me, "--child", "raw_sqlite", str(raw_db), str(csv_path)])
            db_path = work / "xinyong.db"
            for p in work.glob("xinyong.db*"):
                p.unlink()
            url = f"sqlite:///{db_path}"
            subprocess.run([sys.executable, "-m", "xinyong.cli", "db", "upgrade"], check=True,
                           env={**os.environ, **env, "XINYONG_DATABASE_URL": url}, capture_output=True)
            ing_s, ing_mb, out = _child([me, "--child", "ingest", str(csv_path), *then],
                                        {**env, "XINYONG_DATABASE_URL": url})
        lines = out.strip().splitlines()
        outcome = json.loads(lines[-1 - len(then)])
        if then:  # the intake alone: the child's time less the corrections'
            corrections = json.loads(lines[-1])
            ing_s -= corrections["seconds"]
        entry = {
            "raw_seconds": round(raw_s, 2), "raw_rows_per_s": round(args.rows / raw_s),
            "ingest_seconds": round(ing_s, 2), "ingest_rows_per_s": round(args.rows / ing_s),
            "ratio": round(raw_s / ing_s, 3), "ingest_peak_mb": ing_mb, "raw_peak_mb": raw_mb,
            "accepted": outcome["accepted"], "rejected": outcome["rejected"],
        }
        if then:
            entry["corrections"] = corrections
        results[backend] = entry
        print(backend, json.dumps(entry), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        what, rest = sys.argv[2], sys.argv[3:]
        {"raw_pg": raw_pg, "raw_sqlite": raw_sqlite, "ingest": xinyong_ingest}[what](*rest)
        print(f"maxrss_kb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")
    else:
        main()
