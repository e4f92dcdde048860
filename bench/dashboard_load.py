"""What open Customer Dashboards cost PostgreSQL: each polls the store once a second
(store.changes.dashboard_marker, as tui/screens/dashboard.py does through tui/calls.py:
a connection for the call, one marker query, the connection back).

    .venv/bin/python bench/dashboard_load.py [--dashboards 50] [--seconds 20] \\
        [--database-url postgresql://postgres@127.0.0.1:5432/portal_bench]

Each dashboard is a thread of this process polling its own customer every second for the
given time, in three set-ups: no pool (a new connection a poll: the store before pooling),
the pool checking each connection with a round trip before use (peewee's pool as it comes),
and the pool as shipped (a connection used in the last 10 s is trusted). The server's own
counters (pg_stat_database: transactions, which count statements outside a transaction,
and sessions) give the load each caused, read after the phase's connections are closed so
the counters are flushed. The database must hold customers (bench/seed_customers.py).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg2  # noqa: E402
from peewee import PostgresqlDatabase  # noqa: E402
from playhouse.db_url import parse as parse_url  # noqa: E402

from store import db  # noqa: E402
from store.changes import dashboard_marker  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/portal_bench"


def server_counters(url: str) -> tuple[int, int]:
    conn = psycopg2.connect(url.split("?")[0])
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_stat_force_next_flush()")
            cur.execute("SELECT xact_commit + xact_rollback, sessions FROM pg_stat_database "
                        "WHERE datname = current_database()")
            transactions, sessions = cur.fetchone()
    finally:
        conn.close()
    return transactions, sessions


def phase(url: str, setup: str, references: list[str], seconds: float) -> dict[str, float]:
    if setup == "no pool":
        params = parse_url(url)
        db.database.initialize(PostgresqlDatabase(params.pop("database"), **params))
    else:
        db.init(url, migrate=False)
        db.TRUST_SECONDS = 0.0 if setup == "pool, checked before use" else 10.0
    latencies: list[float] = []
    stop = threading.Event()

    def dashboard(reference: str, offset: float) -> None:
        time.sleep(offset)
        while not stop.is_set():
            started = time.perf_counter()
            with db.database.connection_context():
                dashboard_marker(reference)
            latencies.append(time.perf_counter() - started)
            stop.wait(max(0.0, 1.0 - (time.perf_counter() - started)))

    before = server_counters(url)
    threads = [threading.Thread(target=dashboard, args=(ref, i / len(references)))
               for i, ref in enumerate(references)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    db.close()
    time.sleep(1.5)  # closed sessions have flushed their counters
    after = server_counters(url)
    transactions = after[0] - before[0] - 2  # our own two counter reads
    return {"polls/s": len(latencies) / elapsed, "statements/s": transactions / elapsed,
            "new connections/s": (after[1] - before[1] - 1) / elapsed,
            "poll p50 ms": statistics.median(latencies) * 1000,
            "poll p95 ms": sorted(latencies)[int(0.95 * (len(latencies) - 1))] * 1000}


def marker_cost(url: str, reference: str) -> float:
    """The marker query's execution time on the server (EXPLAIN ANALYZE, best of 20), ms."""
    from store.changes import _MARKER

    conn = psycopg2.connect(url)
    try:
        best = float("inf")
        with conn.cursor() as cur:
            for _ in range(20):
                cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + _MARKER.format(param="%s"), (reference,))
                plan = cur.fetchone()[0][0]
                best = min(best, plan["Execution Time"] + plan["Planning Time"])
    finally:
        conn.close()
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dashboards", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args(argv)
    url = args.database_url
    if url.rsplit("/", 1)[-1] in ("test", "postgres"):
        raise SystemExit("give the benchmark a database of its own")
    pooled = f"{url}{'&' if '?' in url else '?'}max_connections={args.dashboards + 5}"
    db.init(url)
    customers = db.database.execute_sql("SELECT count(*) FROM customer").fetchone()[0]
    step = max(1, customers // args.dashboards)
    references = [r[0] for r in db.database.execute_sql(
        "SELECT reference FROM customer WHERE mod(id, %s) = 0 ORDER BY id LIMIT %s", (step, args.dashboards))]
    db.close()
    if len(references) < args.dashboards:
        raise SystemExit(f"{url} holds {customers} customers; seed it first (bench/seed_customers.py)")
    print(f"{args.dashboards} dashboards polling once a second for {args.seconds:.0f} s each, "
          f"{customers:,} customers; marker query on the server: {marker_cost(url, references[0]):.3f} ms")
    print(f"{'set-up':<28} {'polls/s':>8} {'statements/s':>13} {'new conns/s':>12} {'poll p50':>9} {'poll p95':>9}")
    for setup in ("no pool", "pool, checked before use", "pool, as shipped"):
        figures = phase(pooled if setup != "no pool" else url, setup, references, args.seconds)
        print(f"{setup:<28} {figures['polls/s']:>8.1f} {figures['statements/s']:>13.1f} "
              f"{figures['new connections/s']:>12.1f} {figures['poll p50 ms']:>8.2f}  {figures['poll p95 ms']:>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
