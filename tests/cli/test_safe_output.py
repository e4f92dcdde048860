"""Stored values reach a terminal through the CLI: none of them may forge a row or rewrite a line.

Names and settings are refused with control characters when typed, but not every value
came in that way: billing-system imports keep the Primary Email Address as it was, an
SMTP server writes the error text, older rows predate the checks. These tests put such
values straight into the database and read them back through `portal-console`.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Iterator

import pytest

from store import activity, db
from store.models import Customer, OutboxEmail

# A carriage return and an erase-line escape rewrite the line; a newline and a tab forge a
# row and a column; the bidi override reverses what follows; 0x9b is the C1 CSI.
HOSTILE = "Eve\r\x1b[2KC000009\tMallory\nC000010\u202e\x9b"
HOSTILE_SHOWN = "Eve\\r\\x1b[2KC000009\\tMallory\\nC000010\\u202e\\x9b"

pytestmark = pytest.mark.other_process  # rows written here are read by a child process


@contextmanager
def _database(url: str) -> Iterator[None]:
    db.init(url)
    try:
        yield
    finally:
        db.close()


def _terminal_safe(text: str, separators: str = "\n") -> bool:
    """Nothing a terminal acts on but the line ends (and the column tabs of a table)."""
    return all(ch.isprintable() or ch in separators for ch in text)


def test_hostile_stored_values_are_printed_escaped(cli, database_url, fixed_clock):
    ref = cli("customer", "add", "--name", "Eve", "--email", "eve@x.com").stdout.strip()
    assert cli("portal", "set-username", ref, "eve").returncode == 0
    assert cli("portal", "send", ref).returncode == 0
    with _database(database_url):
        customer = Customer.get(Customer.reference == ref)
        Customer.update(name=HOSTILE, company=HOSTILE, primary_email=f"eve@x.com{HOSTILE}").where(
            Customer.id == customer.id).execute()
        activity.record(customer.id, HOSTILE, "imported", HOSTILE, old=HOSTILE, new=f"x{HOSTILE}")
        OutboxEmail.update(status="failed", last_error=HOSTILE).execute()

    show = cli("customer", "show", ref)
    assert show.returncode == 0 and _terminal_safe(show.stdout), show.stdout
    assert show.stdout.startswith(f"{ref}  {HOSTILE_SHOWN}  ({HOSTILE_SHOWN})\n")
    assert f"Primary Email Address: eve@x.com{HOSTILE_SHOWN}\n" in show.stdout

    find = cli("customer", "find", "Eve")
    assert find.returncode == 0 and _terminal_safe(find.stdout, "\n\t")
    (row,) = find.stdout.splitlines()
    assert row.split("\t")[:3] == [ref, HOSTILE_SHOWN, HOSTILE_SHOWN]
    assert len(row.split("\t")) == 6

    logged = cli("activity", ref)
    assert logged.returncode == 0 and _terminal_safe(logged.stdout)
    lines = logged.stdout.splitlines()
    assert len(lines) == len(json.loads(cli("activity", ref, "--json").stdout))
    assert lines[0].endswith(f"{HOSTILE_SHOWN}  imported: {HOSTILE_SHOWN}  {HOSTILE_SHOWN} -> x{HOSTILE_SHOWN}")

    outbox = cli("outbox", "list")
    assert outbox.returncode == 0 and _terminal_safe(outbox.stdout, "\n\t")
    (email,) = outbox.stdout.splitlines()
    assert email.split("\t")[1] == "failed" and email.split("\t")[-1] == HOSTILE_SHOWN

    # Updating away from a hostile address prints the old one escaped, too.
    updated = cli("customer", "update", ref, "--email", "eve@y.com")
    assert updated.returncode == 0 and _terminal_safe(updated.stdout), updated.stdout
    assert f": Primary Email Address: eve@x.com{HOSTILE_SHOWN} -> eve@y.com\n" in updated.stdout


def test_json_keeps_the_data_and_escapes_what_a_terminal_acts_on(cli, database_url, fixed_clock):
    ref = cli("customer", "add", "--name", "Eve", "--email", "eve@x.com").stdout.strip()
    with _database(database_url):
        Customer.update(name=HOSTILE).where(Customer.reference == ref).execute()
    shown = cli("customer", "show", ref, "--json")
    assert shown.returncode == 0 and _terminal_safe(shown.stdout), shown.stdout
    assert json.loads(shown.stdout)["name"] == HOSTILE
    found = cli("customer", "find", "Eve", "--json")
    assert _terminal_safe(found.stdout) and json.loads(found.stdout)[0]["name"] == HOSTILE
