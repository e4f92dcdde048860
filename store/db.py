"""The database: chosen at run time from a URL, schema brought up to date on first use."""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

from peewee import Database, DatabaseProxy, InterfaceError, OperationalError, PostgresqlDatabase, SqliteDatabase
from playhouse.migrations import Runner
from playhouse.pool import PooledDatabase, PooledPostgresqlDatabase, PooledSqliteDatabase

database = DatabaseProxy()

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


# Search reads index pages all over a big file: each connection keeps 16 MiB of them
# (SQLite's default is 2 MiB). Not mmap: mapped pages of a 1.5 GB file count in every
# console's resident memory.
SQLITE_CACHE_KIB = 16 * 1024


def open_database(url: str) -> Database:
    """Build a Database for a URL: sqlite:///path or postgresql://user@host/db."""
    if url.startswith("sqlite://"):
        path = urlparse(url).path if url != "sqlite:///:memory:" else ":memory:"
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # WAL lets consoles read while the mailer writes; IMMEDIATE makes every
        # write transaction take the write lock up front, so two writers queue
        # on busy_timeout instead of failing on a lock upgrade.
        settings = dict(
            pragmas={"journal_mode": "wal", "busy_timeout": 10000, "foreign_keys": 1,
                     "synchronous": "normal", "cache_size": -SQLITE_CACHE_KIB},
            lock_type="IMMEDIATE",
        )
        # check_same_thread: a pooled connection serves one thread at a time, but not always
        # the one that opened it.
        db: SqliteDatabase = SqliteDatabase(path, **settings) if path == ":memory:" else WarmSqliteDatabase(
            path, max_connections=None, check_same_thread=False, **settings)
        # The search index's triggers fold text with these Python functions on every connection.
        from .search_index import register_functions

        register_functions(db)
        return db
    # Imported here: db_url imports every database playhouse has, which a SQLite console never needs.
    from playhouse.db_url import parse as parse_url

    params = parse_url(url)
    name = params.pop("database")
    return TeamPostgresqlDatabase(
        name, max_connections=int(params.pop("max_connections", POOL_SIZE)),
        stale_timeout=int(params.pop("stale_timeout", POOL_STALE_SECONDS)),
        timeout=int(params.pop("pool_timeout", POOL_WAIT_SECONDS)), **params)


# Connections a process keeps open at most (each console, portal and mailer has its own
# pool; the server's max_connections must cover them all), how long one lives, and how long
# a thread waits for one when all are in use. The URL's ?max_connections=, ?stale_timeout=
# and ?pool_timeout= change them.
POOL_SIZE = 20
POOL_STALE_SECONDS = 120
POOL_WAIT_SECONDS = 10
# A connection back in the pool longer than this is checked with a round trip before
# reuse; one used within it is trusted (an open dashboard asks every second: one query a
# poll, not two). A statement that finds its connection dead is retried once (below).
TRUST_SECONDS = 10.0
# What psycopg2 says when the server went away (restarted, or the connection was killed).
_GONE = ("server closed the connection", "terminating connection", "connection already closed",
         "could not receive data from server", "connection not open", "ssl connection has been closed",
         "could not connect to server", "connection to server")


def _server_gone(error: Exception) -> bool:
    text = str(error).lower()
    return isinstance(error, (OperationalError, InterfaceError)) and any(part in text for part in _GONE)


class TeamPostgresqlDatabase(PooledPostgresqlDatabase):
    """PostgreSQL for a team: pooled connections (peewee's playhouse.pool) that heal after a
    server restart. A statement outside a transaction that finds the server gone empties the
    pool (every connection in it died with the server) and runs once more on a new one; in a
    transaction the error stands (the work can't be replayed), and the next call gets a new one."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._returned: dict[int, float] = {}

    def _close(self, conn, close_conn: bool = False) -> None:
        self._returned[id(conn)] = time.monotonic()
        super()._close(conn, close_conn)

    def _is_closed(self, conn) -> bool:
        if conn.closed:
            self._returned.pop(id(conn), None)
            return True
        if time.monotonic() - self._returned.get(id(conn), 0.0) < TRUST_SECONDS:
            return self._adapter.txn_status(conn) == self._adapter.txn_unknown
        return super()._is_closed(conn)

    def execute_sql(self, sql, params=None):
        return self._retried(super().execute_sql, sql, params)

    def begin(self, *args, **kwargs):
        return self._retried(super().begin, *args, **kwargs)

    def _retried(self, run, *args, **kwargs):
        try:
            return run(*args, **kwargs)
        except (OperationalError, InterfaceError) as error:
            if not _server_gone(error):
                raise
            self.close_idle()
            if self.in_transaction() or self.is_closed():
                raise
            # A new connection in place of the dead one, inside the caller's connection_context.
            self._close(self._state.conn, close_conn=True)
            conn = self._connect()
            self._initialize_connection(conn)
            self._state.conn = conn
            return run(*args, **kwargs)


# Idle SQLite connections kept for the next call (see WarmSqliteDatabase).
SQLITE_IDLE = 2


class WarmSqliteDatabase(PooledSqliteDatabase):
    """SQLite with its connections pooled so their page caches stay warm: the console runs
    each call on a new worker thread, and a connection of its own each time would start
    with an empty cache (a keystroke's search reading its index pages from the file again).

    No bound on connections in use: SQLite has no server to protect, and a burst of portal
    requests waits on the file's write lock (busy_timeout), not on the pool. At most
    SQLITE_IDLE stay idle: each holds up to SQLITE_CACHE_KIB of pages (a console typing fast
    has a search, a count and a dashboard's poll at once), and a burst's extra ones close
    when they come back."""

    def _close(self, conn, close_conn: bool = False) -> None:
        if not close_conn and len(self._connections) >= SQLITE_IDLE:
            close_conn = True
        super()._close(conn, close_conn)


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
    """This thread's connection back, and the pool's idle ones closed (a process, or a test, ends)."""
    if database.obj is None:
        return
    if not database.is_closed():
        database.close()
    if isinstance(database.obj, PooledDatabase):
        database.obj.close_idle()


@contextmanager
def write() -> Iterator[None]:
    """A whole change: everything inside commits together or not at all."""
    with database.atomic():
        yield
