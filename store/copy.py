"""Move an embedded SQLite database to PostgreSQL for a team: every table of the store
(store.models.ALL_MODELS, so tables added later come along), verified by row counts.

The target must be empty (no rows in any of the store's tables; a database with no tables
at all is fine): a copy never merges into, or overwrites, data. It runs in one transaction
on the target: a failure, or a count that differs, leaves the target as it was. The search
index is not copied but rebuilt on the target from the copied customers.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from peewee import Database, PostgresqlDatabase, SqliteDatabase
from psycopg2.extras import execute_values

from . import db as store_db
from . import search_index
from .errors import PortalError
from .models import ALL_MODELS

BATCH = 5000
# (table, rows copied so far, rows in all) after each batch.
CopyProgress = Callable[[str, int, int], None]


class CopyRefused(PortalError):
    title = "Copy refused"


@dataclass(frozen=True)
class CopyReport:
    """What was copied: each table with its row count (the same on both sides), and how long it took."""

    tables: tuple[tuple[str, int], ...]
    seconds: float

    @property
    def rows(self) -> int:
        return sum(count for _, count in self.tables)


@contextmanager
def _store_on(database: Database) -> Iterator[None]:
    """Point the store at ``database`` for a while (migrations read the store's proxy)."""
    previous = store_db.database.obj
    store_db.database.initialize(database)
    try:
        yield
    finally:
        store_db.database.initialize(previous)


def _count(database: Database, table: str) -> int:
    return database.execute_sql(f'SELECT count(*) FROM "{table}"').fetchone()[0]


def _rows_in_target(target: Database) -> list[tuple[str, int]]:
    """The store's tables on the target that hold rows."""
    tables = set(target.get_tables())
    names = [model._meta.table_name for model in ALL_MODELS]
    return [(name, n) for name in names if name in tables and (n := _count(target, name))]


def copy_database(source_url: str, target_url: str, *, progress: CopyProgress | None = None) -> CopyReport:
    """Copy every table of the store from the SQLite database at ``source_url`` to the empty
    PostgreSQL database at ``target_url``; both are brought to the current schema first.
    Raises CopyRefused, saying why, when the source or target won't do; nothing is written then."""
    if not source_url.startswith("sqlite:///") or source_url == "sqlite:///:memory:":
        raise CopyRefused(f"The source must be a SQLite file (sqlite:///path), not {source_url.split('@')[-1]!r}.")
    if not target_url.startswith(("postgresql://", "postgres://")):
        raise CopyRefused("The target must be a PostgreSQL database (postgresql://user@host/name).")
    path = Path(source_url[len("sqlite:///"):])
    if not path.is_file():
        raise CopyRefused(f"There is no SQLite database at {path}.")
    started = time.perf_counter()
    source = store_db.open_database(source_url)
    target = store_db.open_database(target_url)
    try:
        assert isinstance(source, SqliteDatabase) and isinstance(target, PostgresqlDatabase)
        full = _rows_in_target(target)
        if full:
            held = ", ".join(f"{n:,} in {name}" for name, n in full)
            raise CopyRefused(f"The target database is not empty ({held}). Copy only into an empty "
                              "database: create a new one, or drop this one's tables first.")
        with _store_on(source):
            store_db.migrate_schema()
        with _store_on(target):
            store_db.migrate_schema()
        tables = _copy_tables(source, target, progress)
    finally:
        for database in (source, target):
            if not database.is_closed():
                database.close()
            if hasattr(database, "close_idle"):
                database.close_idle()
    return CopyReport(tables=tables, seconds=time.perf_counter() - started)


def _copy_tables(source: SqliteDatabase, target: PostgresqlDatabase,
                 progress: CopyProgress | None) -> tuple[tuple[str, int], ...]:
    copied: list[tuple[str, int]] = []
    with target.atomic(), search_index.suspended(target):
        for model in ALL_MODELS:
            table = model._meta.table_name
            fields = list(model._meta.sorted_fields)
            columns = ", ".join(f'"{f.column_name}"' for f in fields)
            total = _count(source, table)
            cursor = source.execute_sql(f'SELECT {columns} FROM "{table}" ORDER BY 1')
            insert = f'INSERT INTO "{table}" ({columns}) VALUES %s'
            done = 0
            while batch := cursor.fetchmany(BATCH):
                # Each value as the store reads it from SQLite, then as it writes it to
                # PostgreSQL (0/1 become booleans, times stay naive UTC).
                rows = [tuple(f.db_value(f.python_value(v)) for f, v in zip(fields, row)) for row in batch]
                execute_values(target.cursor(), insert, rows, page_size=1000)
                done += len(rows)
                if progress:
                    progress(table, done, total)
            if model._meta.primary_key is not None and model._meta.auto_increment:
                target.execute_sql(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f"COALESCE((SELECT max(id) FROM \"{table}\"), 0) + 1, false)")
            copied.append((table, done))
        for table, done in copied:
            there, here = _count(source, table), _count(target, table)
            if not done == there == here:
                raise CopyRefused(f"The copy of {table} has {here:,} rows, the source {there:,}; "
                                  "nothing was kept.")
    return tuple(copied)
