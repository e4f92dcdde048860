"""`portal-console db copy`: an embedded database moved to PostgreSQL as on-call staff run it,
every table's rows counted on both sides, and a target that holds data refused untouched."""
from __future__ import annotations

import sqlite3
import subprocess

import psycopg2
import pytest

from tests.children import PORTAL_CONSOLE, child_env


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([PORTAL_CONSOLE, *args], capture_output=True, text=True, timeout=120, env=env)


@pytest.fixture
def empty_postgres(postgres_url: str) -> str:
    """The session's PostgreSQL database with every table emptied (the copy wants no rows)."""
    from store import db
    from tests.conftest import _empty_tables

    db.init(postgres_url)
    _empty_tables()
    db.close()
    return postgres_url


def counts(table: str, sqlite_path, postgres_url: str) -> tuple[int, int]:
    with sqlite3.connect(sqlite_path) as lite:
        here = lite.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    with psycopg2.connect(postgres_url) as pg, pg.cursor() as cur:
        cur.execute(f'SELECT count(*) FROM "{table}"')
        there = cur.fetchone()[0]
    return here, there


def test_a_demo_database_is_copied_whole_and_a_second_copy_is_refused(tmp_path, empty_postgres):
    source = tmp_path / "portal.db"
    env = child_env(PORTAL_DATABASE_URL=f"sqlite:///{source}", PORTAL_MAILDIR=str(tmp_path / "mail"))
    assert run("demo", "--customers", "12", "--seed-only", env=env).returncode == 0

    copied = run("db", "copy", "--from", f"sqlite:///{source}", "--to", empty_postgres, env=env)
    assert copied.returncode == 0, copied.stderr
    assert "the row counts match" in copied.stdout
    for table in ("customer", "portal_login", "portal_link", "outbox_email", "activity_event", "account_setting"):
        here, there = counts(table, source, empty_postgres)
        assert here == there, table
        assert table in copied.stdout
    assert counts("customer", source, empty_postgres) == (12, 12)
    assert counts("portal_login", source, empty_postgres)[1] > 0

    again = run("db", "copy", "--from", f"sqlite:///{source}", "--to", empty_postgres, env=env)
    assert again.returncode == 1 and again.stdout == ""
    assert "customer" in again.stderr and again.stderr.count("\n") == 1
    assert counts("customer", source, empty_postgres) == (12, 12)  # nothing written twice


def test_a_source_that_is_not_a_sqlite_file_is_refused_with_the_reason(tmp_path, empty_postgres):
    env = child_env(PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / 'unused.db'}")
    missing = run("db", "copy", "--from", f"sqlite:///{tmp_path / 'nothing.db'}", "--to", empty_postgres, env=env)
    assert missing.returncode == 1 and "There is no SQLite database at" in missing.stderr
    backwards = run("db", "copy", "--from", empty_postgres, "--to", empty_postgres, env=env)
    assert backwards.returncode == 1 and "The source must be a SQLite file" in backwards.stderr
    assert run("db", "copy", "--to", empty_postgres, env=env).returncode == 2
