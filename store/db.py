"""The database: chosen at run time from a URL, schema brought up to date on first use."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

from peewee import Database, DatabaseProxy, PostgresqlDatabase, SqliteDatabase
from playhouse.db_url import connect as connect_url
from playhouse.migrations import Runner

database = DatabaseProxy()

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def open_database(url: str) -> Database:
    """Build a Database for a URL: sqlite:///path or postgresql://user@host/db."""
    if url.startswith("sqlite://"):
        path = urlparse(url).path if url != "sqlite:///:memory:" else ":memory:"
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # WAL lets consoles read while the mailer writes; IMMEDIATE makes every
        # write transaction take the write lock up front, so two writers queue
        # on busy_timeout instead of failing on a lock upgrade.
        db = SqliteDatabase(
            path,
            pragmas={"journal_mode": "wal", "busy_timeout": 10000, "foreign_keys": 1,
                     "synchronous": "normal"},
            lock_type="IMMEDIATE",
        )
        # The search index's triggers fold text with these Python functions on every connection.
        from .search_index import register_functions

        register_functions(db)
        return db
    return connect_url(url)


def init(url: str, *, migrate: bool = True) -> Database:
    """Point the store at the database of ``url`` and apply pending migrations."""
    db = open_database(url)
    database.initialize(db)
    if migrate:
        migrate_schema()
        check_search_index()
    return db


# Why customer search runs without its index on this database (said at start), else None.
search_index_problem: str | None = None


def check_search_index() -> str | None:
    """Make sure the search index is complete (its triggers, and on PostgreSQL its pg_trgm
    indexes); log and return why search must fall back to reading every customer, else None."""
    global search_index_problem
    from .search_index import ensure

    search_index_problem = ensure(database.obj)
    if search_index_problem:
        logging.getLogger("store.search").warning(search_index_problem)
    return search_index_problem


def migrate_schema() -> list[str]:
    """Apply every migration under store/migrations not yet applied; return their names."""
    runner = Runner(database.obj, str(MIGRATIONS_DIR))
    pending = [m.name for m in runner.status() if not m.applied]
    if pending:
        runner.up()
    return pending


def is_postgres() -> bool:
    return isinstance(database.obj, PostgresqlDatabase)


def describe_database() -> str:
    """Which database the store uses, for people: the SQLite file's name, or the PostgreSQL
    database and server (never the user or password of the URL)."""
    obj = database.obj
    if isinstance(obj, SqliteDatabase):
        return f"SQLite {Path(obj.database).name}"
    params = getattr(obj, "connect_params", {}) or {}
    server = params.get("host") or "local socket"
    if params.get("port"):
        server += f":{params['port']}"
    return f"PostgreSQL {obj.database} on {server}"


def close() -> None:
    if database.obj is not None and not database.is_closed():
        database.close()


@contextmanager
def write() -> Iterator[None]:
    """A whole change: everything inside commits together or not at all."""
    with database.atomic():
        yield
