"""Hostile command-line arguments: the real `portal-console` binary as a subprocess, the way
on-call staff and scripts run it (a SQLite file; the store rows cover both backends). Each
row: exit 1, one sentence on stderr, nothing on stdout, no table changed."""
from __future__ import annotations

import subprocess

import pytest

from store import db
from tests.children import PORTAL_CONSOLE, child_env
from tests.conftest import _empty_tables

from .conftest import TEN_KB, table_counts

pytestmark = pytest.mark.other_process

EMAIL_CONTROL = "can't contain line breaks, tabs, control or invisible characters"

ROWS = [
    (("customer", "add", "--name", "Tab Test", "--email",
      "tab@example.com\tforged@example.com\nc999999@fake.example"), f"{EMAIL_CONTROL} (found: tab)"),
    (("customer", "add", "--name", "C1 Test", "--email", "a@x.example\x85b@y.example"), "(found: U+0085)"),
    (("customer", "add", "--name", "Ada\u202eecalevoL", "--email", "a@x.example"), "line breaks or control characters"),
    (("customer", "add", "--name", "Ada", "--email", "a@x.example", "--company", TEN_KB), "at most 200 characters"),
    (("customer", "add", "--name", "Ada", "--email", "a@x.example", "--reference", "'; DROP TABLE customer; --"),
     "A customer reference is 1 to 64 letters"),
    (("customer", "update", "C000001", "--email", "ada@x.example\r\nBcc: evil@y.example"), "(found: carriage return)"),
    (("portal", "set-username", "C000001", "\u0430da.lovelace"), "This username mixes alphabets (Cyrillic and Latin); use one."),
    (("portal", "set-username", "C000001", "{{ 7*7 }}"), "A username can hold letters, digits"),
    (("settings", "set", "portal_url", "https://portal .example"), "The portal URL can't contain spaces."),
    (("settings", "set", "setup_link_hours", "\u00b2"), "A link lifetime is a whole number of hours from 1 to 720."),
]


@pytest.fixture
def cli(tmp_path, fixed_clock):
    """`portal-console ARGS` on a SQLite file holding one customer, C000001."""
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    db.init(url)
    _empty_tables()
    env = child_env(PORTAL_DATABASE_URL=url, PORTAL_AGENT="oncall", PORTAL_MAILDIR=str(tmp_path / "mail"))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([PORTAL_CONSOLE, *args], capture_output=True, text=True, timeout=60,
                              env=env, cwd=tmp_path)

    assert run("customer", "add", "--name", "Ada Lovelace", "--email", "ada@x.example").returncode == 0
    yield run
    db.close()


@pytest.mark.parametrize("args, says", ROWS, ids=lambda v: repr(v)[:40] if isinstance(v, tuple) else None)
def test_a_hostile_argument_exits_1_with_one_sentence_and_writes_nothing(cli, args, says):
    before = table_counts()
    result = cli(*args)
    assert result.returncode == 1, result.stderr
    assert says in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert table_counts() == before
