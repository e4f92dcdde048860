"""Customer import: a CSV file of N customers through store.importer, in a temporary database.

    .venv/bin/python bench/import_csv.py [N] [--credential-create] [--postgres URL]

Writes a CSV of N customers (one in ten without a reference, so it is generated; one valid
address each), then times reading it (read_customer_csv) and importing it (import_customers:
every row checked, then one transaction of savepoints of store.bulk.BATCH). Checks that N
customers are stored and that search finds the last one. --credential-create switches that
email on first, so every customer is also queued its Credential Create email.
Target: 100,000 rows in under a minute on SQLite. With --postgres, a server URL (its
`postgres` database is used to create and drop a database of this script's own,
portal_bench_import_<random>).
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from store import db  # noqa: E402
from store.bulk import BATCH  # noqa: E402
from store.search import find_customers  # noqa: E402
from store.importer import import_customers, read_customer_csv  # noqa: E402
from store.models import Customer, OutboxEmail  # noqa: E402
from store.settings import update_setting  # noqa: E402


def write_csv(path: Path, n: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["reference", "name", "company", "primary email"])
        for i in range(n):
            writer.writerow(["" if i % 10 == 0 else f"IMP{i:07d}", f"Imported Customer {i}",
                             f"Company {i % 977}", f"customer{i}@example.com"])


def run(url: str, n: int, folder: Path, credential_create: bool) -> None:
    db.init(url)
    if credential_create:
        update_setting("credential_create_email", "on", actor="bench")
    path = folder / "customers.csv"
    write_csv(path, n)
    started = time.perf_counter()
    rows = read_customer_csv(path.read_bytes())
    read = time.perf_counter() - started
    report = import_customers(rows, actor="bench")
    elapsed = time.perf_counter() - started
    assert report.imported == n and not report.refused, report
    assert Customer.select().count() == n
    assert find_customers(f"Imported Customer {n - 1}").customers, "search doesn't find the last customer"
    queued = OutboxEmail.select().count()
    assert queued == (n if credential_create else 0), queued
    print(f"{db.describe_database()}: imported {n:,} customers in {elapsed:.1f} s ({n / elapsed:,.0f}/s; "
          f"reading the file {read:.1f} s; savepoints of {BATCH}; Credential Create emails queued: {queued:,}); "
          f"load {os.getloadavg()[0]:.1f}")
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("--credential-create", action="store_true", help="queue each one's Credential Create email")
    parser.add_argument("--postgres", metavar="URL", help="e.g. postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        if not args.postgres:
            run(f"sqlite:///{tmp}/import.db", args.n, Path(tmp), args.credential_create)
            return
        import psycopg2

        name = f"portal_bench_import_{uuid.uuid4().hex[:8]}"
        admin = psycopg2.connect(args.postgres)
        admin.autocommit = True
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
        try:
            run(f"{args.postgres.rsplit('/', 1)[0]}/{name}", args.n, Path(tmp), args.credential_create)
        finally:
            admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()


if __name__ == "__main__":
    main()
