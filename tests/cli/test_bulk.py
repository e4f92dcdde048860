"""`portal-console portal send-all`, run as a script runs it."""
from __future__ import annotations

import json


def _add(cli, name: str, email: str) -> str:
    result = cli("customer", "add", "--name", name, "--email", email)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_send_all_queues_by_state_counts_the_skipped_and_prints_one_line(cli):
    _add(cli, "Ada Lovelace", "ada@example.com")
    _add(cli, "Charles Babbage", "charles@example.com")
    waiting = _add(cli, "Ada Byron", "byron@example.com")
    cli("portal", "set-username", waiting, "byron")
    cli("portal", "send", waiting)  # a link sent just now and unused: skipped
    dry = cli("portal", "send-all", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout) == {
        "matching": 3, "dry_run": True, "cancelled": False, "skip_recent_hours": 24,
        "queued": {"credential_create": 2, "password_reset": 0},
        "skipped": {"no_valid_address": 0, "recent_link": 1, "suspended": 0},
        "summary": json.loads(dry.stdout)["summary"]}
    assert len(json.loads(cli("outbox", "list", "--json").stdout)) == 1  # the dry run wrote nothing
    sent = cli("portal", "send-all", "--state", "not_set_up", "--match", "ada")
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.strip() == "1 matching: 1 Customer Credential Create queued."
    assert len(json.loads(cli("outbox", "list", "--json").stdout)) == 2


def test_bad_arguments_are_refused_where_typed(cli):
    result = cli("portal", "send-all", "--skip-recent-hours", "soon")
    assert result.returncode == 2 and "a number of hours" in result.stderr
    assert cli("portal", "send-all", "--state", "happy").returncode == 2
