"""Search as you type at a million customers: service-layer latency against the same SQL
run raw through the driver, on SQLite and on PostgreSQL, in one run.

    .venv/bin/python bench/search_latency.py --customers 1000000 \\
        [--sqlite-url sqlite:///...] [--postgres-url postgresql://.../portal_bench] [--backends sqlite,postgres]

The databases are made by bench/seed_customers.py when they don't hold N customers (the
PostgreSQL one must be a database of its own: it is wiped). The queries (at least 200) are
fixed by a seeded random choice of customers: prefixes of their names, companies,
references, addresses and portal usernames typed key by key from 1 to 12 characters,
misses, with and without the portal state filter, and later pages (2 to 5) followed by
cursor. Each query runs once unmeasured, then ROUNDS times: the service layer
(store.search.search_customers, 100 rows a page, as the console asks), then the same SQL
statements it ran (taken from its trace) on the driver's own cursor, fetching every row.
Per query the median of the rounds; over all queries p50, p95 and max; the ratio is
service / raw. The match count (store.search.count_customers) is timed on its own.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import seed_customers  # noqa: E402  (beside this file)

from store import db  # noqa: E402
from store.search import count_customers, search_customers  # noqa: E402
from store.values import CustomerOrder, PortalState, SearchCursor  # noqa: E402

PAGE = 100
ROUNDS = 5
TARGET_P95_MS, TARGET_MAX_MS, TARGET_RATIO = 30.0, 100.0, 1.5
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/portal_bench"


@dataclass(frozen=True)
class Query:
    text: str
    state: PortalState | None
    page: int  # 1 = the first page; later pages follow the cursor
    kind: str


def make_queries(seed: int = 14) -> list[Query]:
    """The fixed query set, read from the database the store points at."""
    rng = random.Random(seed)
    total = db.database.execute_sql("SELECT max(id) FROM customer").fetchone()[0]
    ids = sorted(rng.sample(range(1, total + 1), 16))
    marks = ", ".join(db.database.param for _ in ids)
    rows = db.database.execute_sql(
        f"SELECT c.name, c.company, c.reference, c.primary_email, l.username FROM customer c "
        f"LEFT JOIN portal_login l ON l.customer_id = c.id WHERE c.id IN ({marks}) ORDER BY c.id", ids).fetchall()
    queries: list[Query] = []
    fields = ("name", "company", "reference", "address", "username")
    for n, row in enumerate(rows):
        name, company, reference, email, username = row
        address = email.replace(",", " ").replace(";", " ").split()[-1]
        values = dict(name=name.split()[-1] if n % 2 else name, company=company or name,
                      reference=reference, address=address, username=username or address)
        field = fields[n % len(fields)]
        typed = values[field]
        state = [None, None, PortalState.active, PortalState.not_set_up][n % 4]
        for length in range(1, min(12, len(typed)) + 1):
            queries.append(Query(typed[:length], state, 1, f"{field} typed"))
    for miss in ("zqxv", "qq", "x9z7k", "ñzz"):
        queries.extend(Query(miss[:length], None, 1, "miss typed") for length in range(1, len(miss) + 1))
    for text in ("", "a", "s", "ma", "mar", "maria", "smith", "example", "billing@", "lovelace", "ada"):
        for page in (2, 3, 5):
            queries.append(Query(text, None if page != 3 else PortalState.active, page, "later page"))
    queries.extend(Query("", state, 1, "state filter only") for state in PortalState)
    return queries


def _raw(trace: list) -> None:
    """The statements the service ran, as plain driver calls."""
    conn = db.database.connection()
    cursor = conn.cursor()
    for sql, params in trace:
        cursor.execute(sql, params)
        cursor.fetchall()


def cursor_for(query: Query) -> SearchCursor | None:
    after = None
    for _ in range(query.page - 1):
        after = search_customers(query.text, state=query.state, limit=PAGE, after=after).next_after
        if after is None:
            break
    return after


def measure(queries: list[Query], slowest: int = 0) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"service": [], "raw": [], "count": []}
    per_kind: dict[str, list[float]] = {}
    for query in queries:
        after = cursor_for(query)
        search_customers(query.text, state=query.state, limit=PAGE, after=after)  # warm
        service, raw, count = [], [], []
        for _ in range(ROUNDS):
            trace: list = []
            started = time.perf_counter()
            search_customers(query.text, state=query.state, limit=PAGE, after=after, trace=trace,
                             order=CustomerOrder.name)
            service.append(time.perf_counter() - started)
            started = time.perf_counter()
            _raw(trace)
            raw.append(time.perf_counter() - started)
            if query.page == 1:
                started = time.perf_counter()
                count_customers(query.text, state=query.state)
                count.append(time.perf_counter() - started)
        times["service"].append(statistics.median(service) * 1000)
        times["raw"].append(statistics.median(raw) * 1000)
        if count:
            times["count"].append(statistics.median(count) * 1000)
        per_kind.setdefault(query.kind, []).append(times["service"][-1])
        if times["service"][-1] > TARGET_MAX_MS:
            print(f"  slow: {query} {times['service'][-1]:.1f} ms", flush=True)
    times.update({f"kind: {k}": v for k, v in per_kind.items()})
    for ms, query in sorted(zip(times["service"], queries), key=lambda pair: -pair[0])[:slowest]:
        state = query.state.value if query.state else "any state"
        print(f"  {ms:7.1f} ms  {query.text!r} ({state}, page {query.page}, {query.kind})")
    return times


def summary(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95, ordered[-1]


def run_backend(label: str, url: str, customers: int, slowest: int = 0) -> dict[str, list[float]]:
    db.init(url)
    have = db.database.execute_sql("SELECT count(*) FROM customer").fetchone()[0]
    db.close()
    if have != customers:
        print(f"{label}: {have:,} customers, seeding {customers:,} ...", flush=True)
        seed_customers.seed(url, customers)
        db.close()
    db.init(url)
    try:
        queries = make_queries()
        print(f"{label}: {len(queries)} queries, {ROUNDS} rounds each", flush=True)
        return measure(queries, slowest)
    finally:
        db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--sqlite-url")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--slowest", type=int, default=0, metavar="N", help="list the N slowest queries")
    args = parser.parse_args(argv)
    urls = {"sqlite": args.sqlite_url or seed_customers.default_url(args.customers),
            "postgres": args.postgres_url}
    if "postgres" in args.backends:
        ensure_postgres_database(args.postgres_url)
    results = {name: run_backend(name, urls[name], args.customers, args.slowest) for name in args.backends.split(",")}
    print(f"\n{args.customers:,} customers, {PAGE} rows a page; milliseconds (median of {ROUNDS} per query)")
    print(f"{'backend':<9} {'what':<28} {'queries':>7} {'p50':>7} {'p95':>7} {'max':>7}")
    for name, times in results.items():
        for what, values in times.items():
            if values:
                p50, p95, top = summary(values)
                print(f"{name:<9} {what:<28} {len(values):>7} {p50:>7.2f} {p95:>7.2f} {top:>7.2f}")
        ratios = [s / r for s, r in zip(times["service"], times["raw"]) if r > 0]
        total_ratio = sum(times["service"]) / sum(times["raw"])
        p50, p95, top = summary(ratios)
        s50, s95, smax = summary(times["service"])
        print(f"{name:<9} {'ratio service/raw':<28} {len(ratios):>7} {p50:>7.2f} {p95:>7.2f} {top:>7.2f}"
              f"   (sum of times: {total_ratio:.2f}x)")
        verdict = "met" if s95 <= TARGET_P95_MS and smax <= TARGET_MAX_MS and total_ratio <= TARGET_RATIO else "NOT met"
        print(f"{name:<9} targets p95 <= {TARGET_P95_MS:.0f} ms, max <= {TARGET_MAX_MS:.0f} ms, "
              f"<= {TARGET_RATIO}x raw: {verdict}")
    return 0


def ensure_postgres_database(url: str) -> None:
    """Create the benchmark's own PostgreSQL database when it is missing (never the `test` one)."""
    import psycopg2
    from psycopg2 import sql

    base, name = url.rsplit("/", 1)
    if name in ("test", "postgres"):
        raise SystemExit(f"give the benchmark a database of its own, not {name!r}")
    conn = psycopg2.connect(f"{base}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    conn.close()


if __name__ == "__main__":
    raise SystemExit(main())
