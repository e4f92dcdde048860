"""The `cli` fixture: the real `portal-console` binary, run the way on-call staff and scripts run it."""
from __future__ import annotations

import subprocess

import pytest

from tests.children import PORTAL_CONSOLE, child_env


@pytest.fixture
def cli(database_url: str, tmp_path):
    """Run `portal-console ARGS` against a real database (SQLite file, then PostgreSQL)."""
    from store import db
    from tests.conftest import _empty_tables

    db.init(database_url)
    _empty_tables()
    db.close()
    env = child_env(PORTAL_DATABASE_URL=database_url, PORTAL_AGENT="oncall", PORTAL_MAILDIR=str(tmp_path / "mail"))

    def run(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([PORTAL_CONSOLE, *args], capture_output=True, text=True, timeout=60,
                              env={**env, **(env_extra or {})}, cwd=tmp_path)

    return run
