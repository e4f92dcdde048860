"""Bulk queueing: `send_all` over N never-invited customers in a temporary SQLite database.

    .venv/bin/python bench/bulk_queue.py [N] [--postgres URL]

Inserts N customers (not set up, one valid address each) straight into the table, then
times store.bulk.send_all: the link, outbox row and activity event of each, in transactions
of store.bulk.BATCH. Prints the time and the rate, and checks that N emails are queued.
Target: 100,000 in under 30 s on SQLite. With --postgres, a server URL (its `postgres`
database is used to create and drop a database of this script's own).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from store import clock, db  # noqa: E402
from store.bulk import BATCH, send_all  # noqa: E402
from store.models import Customer, OutboxEmail  # noqa: E402


def seed(n: int) -> None:
    now = clock.now()
    rows = [{"reference": f"B{i:07d}", "name": f"Bulk Customer {i}", "company": f"Company {i % 977}",
             "primary_email": f"customer{i}@example.com", "version": 1, "created_at": now, "updated_at": now}
            for i in range(n)]
    with db.database.atomic():
        for start in range(0, n, 500):
            Customer.insert_many(rows[start:start + 500]).execute()


def run(url: str, n: int) -> None:
    db.init(url)
    started = time.perf_counter()
    seed(n)
    print(f"seeded {n:,} customers in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    result = send_all(actor="bench")
    elapsed = time.perf_counter() - started
    queued = OutboxEmail.select().count()
    assert queued == n == result.queued_total, (queued, result)
    print(f"{db.describe_database()}: queued {n:,} emails in {elapsed:.1f} s "
          f"({n / elapsed:,.0f}/s, transactions of {BATCH})")
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("--postgres", metavar="URL", help="e.g. postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if not args.postgres:
        with tempfile.TemporaryDirectory(prefix="bench-bulk-") as tmp:
            run(f"sqlite:///{tmp}/bulk.db", args.n)
        return
    import psycopg2

    name = f"bench_bulk_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(args.postgres)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        run(f"{args.postgres.rsplit('/', 1)[0]}/{name}", args.n)
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
