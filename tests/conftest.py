"""Shared fixtures: real databases (a SQLite file; PostgreSQL when reachable) and a settable clock.

PostgreSQL: PORTAL_TEST_POSTGRES_URL, else postgresql://postgres@127.0.0.1:5432/test.
Each test session makes its own database on that server (so parallel runs don't
meet) and drops it at the end; each test starts from empty tables.
"""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from typing import Iterator

import pytest

from store import clock, db
from store.models import ALL_MODELS

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
# A fixed moment for every test that stays in this process (snapshots show it); tests move
# it with fixed_clock.advance(). Tests that hand rows to another process start at the real
# time instead (the `other_process` marker, see tests/children.py).
TEST_NOW = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True, scope="session")
def argon2_at_its_lowest_cost() -> Iterator[None]:
    """Passwords are hashed with Argon2id at its lowest cost in the test process: the same
    algorithm and code path (hash, verify, the dummy a wrong username is checked against),
    a thousandth of the time; a test that tries 60 wrong passwords took 15 s. The store
    keeps the library's recommended cost, and so do the processes tests start (serve,
    mailer, the CLI); each hash names its own parameters, so either verifies the other's."""
    from argon2 import PasswordHasher

    from store import passwords

    production = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    passwords._dummy_hash.cache_clear()
    yield
    passwords._hasher = production
    passwords._dummy_hash.cache_clear()


def _admin_url() -> str:
    return os.environ.get("PORTAL_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str | None]:
    """A fresh database on the test PostgreSQL server for this session, or None if none answers."""
    try:
        import psycopg2
        from psycopg2 import sql
    except ImportError:  # pragma: no cover - psycopg2-binary is a dependency
        yield None
        return
    admin = _admin_url()
    try:
        conn = psycopg2.connect(admin, connect_timeout=3)
    except psycopg2.OperationalError:
        yield None
        return
    conn.autocommit = True
    name = f"portal_test_{uuid.uuid4().hex[:12]}"
    with conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base = admin.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        db.close()
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.close()


@pytest.fixture
def postgres_url(postgres_server_url: str | None) -> str:
    """The session's PostgreSQL database URL, emptied; skips with a reason when none is reachable."""
    if postgres_server_url is None:
        pytest.skip(f"no PostgreSQL answers at {_admin_url()} (set PORTAL_TEST_POSTGRES_URL)")
    return postgres_server_url


def _empty_tables() -> None:
    if db.is_postgres():
        names = ", ".join(f'"{m._meta.table_name}"' for m in ALL_MODELS)
        db.database.execute_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    else:
        with db.database.atomic():
            for model in reversed(ALL_MODELS):
                model.delete().execute()


@pytest.fixture
def fixed_clock(request: pytest.FixtureRequest) -> Iterator[clock.FixedClock]:
    """Installs a clock standing at TEST_NOW (at the real time in `other_process` tests, whose
    child processes read the machine's clock); tests move it past expiries."""
    start = clock.SystemClock().now() if request.node.get_closest_marker("other_process") else TEST_NOW
    fixed = clock.FixedClock(start)
    previous = clock.use(fixed)
    yield fixed
    clock.use(previous)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A real database URL: a SQLite file, then the session's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'portal.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store_db(database_url: str, fixed_clock: clock.FixedClock) -> Iterator[str]:
    """The store pointed at an empty, migrated database (each backend in turn); yields its URL."""
    db.init(database_url)
    _empty_tables()
    yield database_url
    db.close()


@pytest.fixture
def sqlite_db(tmp_path, fixed_clock: clock.FixedClock) -> Iterator[str]:
    """The store on a fresh SQLite file only (for tests where the backend doesn't matter)."""
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    db.init(url)
    yield url
    db.close()
