"""`portal-console status`: the figures, and an exit status for each kind of trouble, run as
on-call's cron job runs it. Rows are written here on the real clock the child reads."""
from __future__ import annotations

import json
import os
import socket

import pytest

from store import clock, db, heartbeats
from store.customers import add_customer
from store.dispatch import Failed, claim_due, record_outcomes
from store.panel import send_portal_email


def _queue(url: str, n: int = 1) -> None:
    db.init(url)
    for i in range(n):
        ref = add_customer(name=f"Customer {i}", company="", primary_email=f"c{i}@example.com", actor="t").reference
        send_portal_email(ref, actor="t")
    db.close()


def test_an_empty_database_is_healthy(cli):
    result = cli("status")
    assert result.returncode == 0, result.stderr
    assert ": healthy" in result.stdout.splitlines()[0]
    assert "Customers: 0 (Not set up 0, Awaiting customer setup 0, Active 0, Suspended 0)" in result.stdout
    as_json = json.loads(cli("status", "--json").stdout)
    assert as_json["healthy"] is True and as_json["exit_status"] == 0 and as_json["problems"] == []
    assert as_json["overview"]["outbox"]["sent_per_minute"] == [0] * 60


def test_email_waiting_with_no_mailer_exits_4_and_says_the_usual_cause(cli, database_url):
    _queue(database_url)
    result = cli("status")
    assert result.returncode == 4
    assert "TROUBLE (exit status 4)" in result.stdout
    assert "PORTAL_MAILER_IN_CONSOLE=false" in result.stdout
    as_json = json.loads(cli("status", "--json").stdout)
    assert as_json["exit_status"] == 4 and [p["trouble"] for p in as_json["problems"]] == ["no_mailer"]
    assert as_json["overview"]["outbox"]["queued"] == 1


def test_a_running_mailer_makes_waiting_email_healthy(cli, database_url):
    _queue(database_url)
    db.init(database_url)
    heartbeats.beat("host:1:ab", host=socket.gethostname(), pid=os.getpid(), role="mailer",
                    started_at=clock.now(), sent=0, failed=0)
    db.close()
    result = cli("status")
    assert result.returncode == 0, result.stdout
    assert f"Mailer:    mailer on {socket.gethostname()}, pid {os.getpid()}" in result.stdout


def test_failures_above_the_threshold_exit_5(cli, database_url):
    _queue(database_url, 2)
    db.init(database_url)
    claim = claim_due("t", limit=2, lease_seconds=300)
    record_outcomes([Failed(e.id, "550 no such mailbox") for e in claim.emails], "t")
    db.close()
    assert cli("status").returncode == 0  # 2 failed, the default threshold is 10
    result = cli("status", "--max-failed", "1")
    assert result.returncode == 5
    assert "2 emails failed in the last 24 h (more than 1)" in result.stdout
    assert cli("status", "--max-failed", "many").returncode == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_unreachable_database_exits_3(cli, tmp_path):
    gone = "postgresql://postgres@127.0.0.1:9/nowhere"
    result = cli("status", env_extra={"PORTAL_DATABASE_URL": gone})
    assert result.returncode == 3, result.stderr
    assert "The database is unreachable" in result.stdout
    as_json = json.loads(cli("status", "--json", env_extra={"PORTAL_DATABASE_URL": gone}).stdout)
    assert as_json["exit_status"] == 3 and as_json["overview"] is None
    assert [p["trouble"] for p in as_json["problems"]] == ["database_unreachable"]
