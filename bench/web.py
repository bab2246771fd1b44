"""Benchmark: the public subject API under 32 concurrent clients, against the raw database lookup.

Run by hand (not part of the tests), with PostgreSQL at 127.0.0.1:5432 and Debian's ``wrk``:

    .venv/bin/python bench/web.py --subjects 1000000 --records 100000

In one run, on one fresh PostgreSQL database:

1. ``xinyong db upgrade``; ``--subjects`` organisations and individual businesses (valid codes and
   names from ``xinyong.demo.generator``) bulk-loaded with ``COPY`` into ``subjects`` and
   ``subject_names`` (their secondary indexes are dropped for the load and rebuilt after it);
   then ``--records`` penalty rows (``bench_penalty_rows``) through the real intake
   (``xinyong ingest penalties``), so that subjects carry published records; ``VACUUM ANALYZE``.
2. Baseline: the raw lookup ``SELECT … FROM subjects WHERE uscc = %s`` with psycopg, one connection
   per thread, ``--concurrency`` threads, ``--requests`` lookups of random codes.
3. ``xinyong serve --workers N`` (the rate limit off unless ``--rate-limit``) and ``wrk`` (a separate
   process, ``--concurrency`` connections, from one address or ``--clients`` addresses) for
   about a fixed number of requests (wrk runs for a duration: a 3 s warm-up measures the rate, the
   measured run lasts ``requests / rate``; the JSON gives the real count):
   ``GET /api/v1/subjects/{code}`` (random codes), then ``GET /api/v1/subjects?q=<part of a name>``
   (the trade-name part of random names).

Latency percentiles (p50/p95/p99, ms) and requests per second are printed as JSON and written to
``--out`` (``bench/out/web.json``). Targets: lookup p99 ≤ 25 ms and ≥ 800 req/s; search p95 ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser.liveserver import (  # noqa: E402
    TODAY,
    create_database,
    drop_database,
    server_env,
    start_live_server,
    xinyong,
)

KINDS = {"法人及非法人组织": "organisation", "个体工商户": "individual_business"}

WRK_SCRIPT = r"""
local paths = {}
local clients = 0

function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  clients = tonumber(args[2] or "0")
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end

function request()
  if clients > 0 then  -- each request from one of that many addresses (the server trusts the header)
    local n = math.random(clients)
    local address = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
    return wrk.format("GET", paths[math.random(#paths)], {["X-Forwarded-For"] = address})
  end
  return wrk.format("GET", paths[math.random(#paths)])
end

function done(summary, latency, requests)
  io.write(string.format(
    '\nBENCH {"requests": %d, "duration_s": %.3f, "non_2xx": %d, "socket_errors": %d, ' ..
    '"p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, "mean_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000))
end
"""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def psycopg_url(url: str) -> str:
    return sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# --------------------------------------------------------------------------- data


def load_subjects(url: str, n: int, seed: int) -> dict[str, float | int]:
    """COPY ``n`` generated subjects (organisations, individual businesses) and their names."""
    import psycopg

    from xinyong.core import ids
    from xinyong.core.names import normalize_name
    from xinyong.demo.generator import subjects

    start = time.perf_counter()
    created = dt.datetime.now(dt.UTC).isoformat()
    name_as_of = "2025-01-01"
    loaded = 0
    with psycopg.connect(psycopg_url(url), autocommit=False) as conn, conn.cursor() as cur:
        cur.execute("SELECT indexname, indexdef FROM pg_indexes "
                    "WHERE tablename IN ('subjects', 'subject_names') AND indexname LIKE 'ix_%'")
        indexes = cur.fetchall()
        for name, _definition in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        columns = "kind, category, uscc, org_code, reg_no, name, name_norm, name_as_of, area_code, created_at"
        with cur.copy(f"COPY subjects ({columns}) FROM STDIN") as copy:
            for s in subjects(n, seed):
                kind = KINDS.get(s.kind)
                if kind is None:  # natural persons need the encrypted id: the intake creates them
                    continue
                org_code = ids.uscc_org_code(s.uscc) if s.uscc else None
                area = ids.uscc_area_code(s.uscc) if s.uscc else None
                copy.write_row((kind, s.kind, s.uscc, org_code, s.reg_no, s.name, normalize_name(s.name),
                                name_as_of, area, created))
                loaded += 1
        cur.execute("INSERT INTO subject_names (subject_id, name, name_norm, first_seen_on, last_seen_on) "
                    "SELECT id, name, name_norm, name_as_of, name_as_of FROM subjects")
        copied = time.perf_counter() - start
        for _name, definition in indexes:
            cur.execute(definition)
        conn.commit()
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE subjects")
        conn.execute("VACUUM ANALYZE subject_names")
    return {"subjects_loaded": loaded, "copy_s": round(copied, 1),
            "load_with_indexes_s": round(time.perf_counter() - start, 1)}


def ingest_records(url: str, rows: int, seed: int) -> dict[str, float | int]:
    from xinyong.demo.generator import PENALTY_HEADERS, bench_penalty_rows, write_csv

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="xinyong-bench-web-") as tmp:
        path = Path(tmp) / "bench_penalties.csv"
        write_csv(path, PENALTY_HEADERS, bench_penalty_rows(rows, seed, today=dt.date.fromisoformat(TODAY)))
        report = Path(tmp) / "report.json"
        proc = subprocess.run([sys.executable, "-m", "xinyong.cli", "ingest", "penalties", str(path),
                               "--report", str(report)], env=server_env(url), cwd=ROOT,
                              capture_output=True, text=True)
        if proc.returncode not in (0, 3):
            raise SystemExit(f"ingest failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        result = json.loads(report.read_text(encoding="utf-8"))
    import psycopg

    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return {"records_rows": rows, "accepted": result.get("accepted", 0), "rejected": result.get("rejected", 0),
            "ingest_s": round(time.perf_counter() - start, 1)}


def sample(url: str, n: int, seed: int) -> tuple[list[str], list[str]]:
    """Random subject codes, and trade-name parts of random names (e.g. 凯旋宝丰 of 珠海市凯旋宝丰…)."""
    import psycopg

    with psycopg.connect(psycopg_url(url)) as conn:
        conn.execute("SELECT setseed(%s)", ((seed % 1000) / 1000,))
        rows = conn.execute("SELECT uscc, name FROM subjects WHERE uscc IS NOT NULL AND kind = 'organisation' "
                            "ORDER BY random() LIMIT %s", (n,)).fetchall()
    codes = [r[0] for r in rows]
    parts = []
    for _code, name in rows:
        rest = name.split("市", 1)[1] if "市" in name[:5] else name
        parts.append(rest[:4])
    return codes, sorted(set(parts))


# --------------------------------------------------------------------------- measurements


def percentiles(latencies_ms: list[float]) -> dict[str, float]:
    ordered = sorted(latencies_ms)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50_ms": round(q[49], 2), "p95_ms": round(q[94], 2), "p99_ms": round(q[98], 2),
            "max_ms": round(ordered[-1], 2), "mean_ms": round(statistics.fmean(ordered), 2)}


def baseline(url: str, codes: list[str], requests: int, concurrency: int) -> dict[str, float | int]:
    """The raw lookup by code: psycopg, one connection per thread, ``concurrency`` threads."""
    import psycopg

    per_thread = requests // concurrency
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    barrier = threading.Barrier(concurrency + 1)
    found = [0] * concurrency

    def worker(i: int) -> None:
        rng = random.Random(i)
        with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
            cur = conn.cursor()
            sql = ("SELECT id, kind, category, uscc, org_code, reg_no, name, area_code "
                   "FROM subjects WHERE uscc = %s")
            cur.execute(sql, (codes[0],), prepare=True)
            cur.fetchone()
            barrier.wait()
            out = latencies[i]
            for _ in range(per_thread):
                code = codes[rng.randrange(len(codes))]
                t0 = time.perf_counter()
                cur.execute(sql, (code,), prepare=True)
                row = cur.fetchone()
                out.append((time.perf_counter() - t0) * 1000)
                found[i] += row is not None

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    flat = [x for part in latencies for x in part]
    assert sum(found) == len(flat), "a sampled code was not found"
    return {"requests": len(flat), "duration_s": round(seconds, 2), "rate_per_s": round(len(flat) / seconds),
            **percentiles(flat)}


def run_wrk(base_url: str, paths: list[str], seconds: float, concurrency: int, threads: int,
            clients: int = 0) -> dict:
    """``wrk`` for ``seconds`` (wrk runs for a duration: see ``fixed_count``), from ``clients``
    addresses given in X-Forwarded-For (0: all from wrk's own)."""
    with tempfile.TemporaryDirectory(prefix="xinyong-wrk-") as tmp:
        script = Path(tmp) / "bench.lua"
        script.write_text(WRK_SCRIPT, encoding="utf-8")
        path_file = Path(tmp) / "paths.txt"
        path_file.write_text("\n".join(paths) + "\n", encoding="utf-8")
        proc = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{max(1, round(seconds))}s",
             "--timeout", "10s", "-s", str(script), base_url, "--", str(path_file), str(clients)],
            capture_output=True, text=True, timeout=seconds + 120,
        )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    result = json.loads(line[len("BENCH "):])
    result["rate_per_s"] = round(result["requests"] / result["duration_s"])
    return result


def fixed_count(base_url: str, paths: list[str], requests: int, concurrency: int, threads: int,
                clients: int = 0) -> dict:
    """About ``requests`` requests: wrk runs for a duration, so a 3 s warm-up measures the rate
    and the measured run lasts ``requests / rate`` seconds (the result gives the real count)."""
    warm = run_wrk(base_url, paths, 3, concurrency, threads, clients)
    seconds = min(max(requests / max(warm["rate_per_s"], 1), 5), 300)
    return run_wrk(base_url, paths, seconds, concurrency, threads, clients)


def check_paths(base_url: str, paths: list[str]) -> dict[str, int]:
    """Status codes of a few of the paths, so that a benchmark of 404s is noticed."""
    import httpx

    counts: dict[str, int] = {}
    with httpx.Client(base_url=base_url, timeout=10) as client:
        for path in paths[:20]:
            status = str(client.get(path).status_code)
            counts[status] = counts.get(status, 0) + 1
    return counts


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=100_000, help="penalty rows through the intake (0: none)")
    parser.add_argument("--requests", type=int, default=30_000, help="lookups by code (API and baseline)")
    parser.add_argument("--search-requests", type=int, default=3_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="xinyong serve --workers")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--rate-limit", type=int, default=0,
                        help="XINYONG_RATE_LIMIT_PER_MINUTE of the server (0: off; a limit no client reaches, "
                             "e.g. 1000000000, measures what counting costs)")
    parser.add_argument("--clients", type=int, default=0,
                        help="send each request from one of this many addresses (X-Forwarded-For, with "
                             "XINYONG_TRUST_PROXY on), as many users would; 0: all from one address")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "web.json")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")

    results: dict = {
        "date": TODAY, "machine": f"{os.cpu_count()} cores", "subjects": args.subjects,
        "records": args.records, "concurrency": args.concurrency, "workers": args.workers,
        "rate_limit_per_minute": args.rate_limit, "clients": args.clients,
    }
    name, url = create_database("xinyong_bench_web")
    server = None
    try:
        log(f"database {name}: migrating")
        xinyong(server_env(url), "db", "upgrade")
        log(f"loading {args.subjects:,} subjects with COPY")
        results["load"] = load_subjects(url, args.subjects, args.seed)
        log(f"loaded: {results['load']}")
        if args.records:
            log(f"ingesting {args.records:,} penalty rows through the intake")
            results["load"].update(ingest_records(url, args.records, args.seed))
            log(f"ingested: {results['load']}")
        codes, parts = sample(url, 5000, args.seed)

        log(f"baseline: {args.requests:,} raw lookups by code, {args.concurrency} threads")
        results["baseline_db_lookup"] = baseline(url, codes, args.requests, args.concurrency)
        log(f"baseline: {results['baseline_db_lookup']}")

        log(f"starting xinyong serve --workers {args.workers}")
        server = start_live_server(database_url=url, demo=False, users=False, workers=args.workers,
                                   env={"XINYONG_RATE_LIMIT_PER_MINUTE": str(args.rate_limit),
                                        "XINYONG_TRUST_PROXY": "true" if args.clients else "false"})
        lookup_paths = [f"/api/v1/subjects/{c}" for c in codes]
        search_paths = [f"/api/v1/subjects?q={urllib.parse.quote(p)}" for p in parts]
        results["status_sample"] = {"lookup": check_paths(server.url, lookup_paths),
                                    "search": check_paths(server.url, search_paths)}
        log(f"status of sample requests: {results['status_sample']}")
        log(f"API lookup: {args.requests:,} requests")
        results["api_lookup"] = fixed_count(server.url, lookup_paths, args.requests, args.concurrency,
                                            args.wrk_threads, args.clients)
        log(f"API lookup: {results['api_lookup']}")
        log(f"API search: {args.search_requests:,} requests over {len(parts)} name parts")
        results["api_search"] = fixed_count(server.url, search_paths, args.search_requests, args.concurrency,
                                            args.wrk_threads, args.clients)
        log(f"API search: {results['api_search']}")
    finally:
        if server is not None:
            server.stop()  # also drops the database
        else:
            drop_database(name)

    lookup, search = results["api_lookup"], results["api_search"]
    results["targets"] = {
        "lookup_p99_le_25ms": lookup["p99_ms"] <= 25,
        "lookup_rate_ge_800": lookup["rate_per_s"] >= 800,
        "search_p95_le_100ms": search["p95_ms"] <= 100,
        "lookup_p99_vs_baseline": round(lookup["p99_ms"] / max(results["baseline_db_lookup"]["p99_ms"], 0.01), 1),
        "lookup_rate_vs_baseline": round(lookup["rate_per_s"] / results["baseline_db_lookup"]["rate_per_s"], 3),
    }
    text = json.dumps(results, ensure_ascii=False, indent=2)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
