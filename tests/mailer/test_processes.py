"""`portal-console mailer` as its own process: killed while holding a claim, its emails are
sent by another dispatcher after the lease; stopped with SIGTERM, it gives its claims back.

The child reads the machine's clock, so these tests queue their emails at the real time
(`other_process`): a link queued at a fixed date would have expired by the child's."""
from __future__ import annotations

import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest

from store import db
from store.activity import list_activity
from store.models import OutboxEmail
from store.outbox import pending_count

from mailer.dispatcher import dispatch_once

from tests.children import PORTAL_CONSOLE, child_env

from .conftest import queue_create_email, smtp_config

LEASE = 2.0
pytestmark = pytest.mark.other_process


def _mailer(database_url: str, port: int | None, tmp_path: Path, *args: str) -> subprocess.Popen:
    smtp = {} if port is None else {"PORTAL_SMTP_HOST": "127.0.0.1", "PORTAL_SMTP_PORT": str(port)}
    env = child_env(PORTAL_DATABASE_URL=database_url, PORTAL_MAILDIR=str(tmp_path / "maildir"),
                    PORTAL_MAILER_POLL_SECONDS="0.1", PORTAL_MAILER_LEASE_SECONDS=str(LEASE),
                    PORTAL_SMTP_TIMEOUT="60", **smtp)
    return subprocess.Popen([PORTAL_CONSOLE, "mailer", *args], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _claims() -> list[tuple[str, str | None, object]]:
    return db.database.execute_sql("SELECT status, claimed_by, claimed_at FROM outbox_email ORDER BY id").fetchall()


def _wait_until_claimed(process: subprocess.Popen, count: int) -> list[tuple]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rows = _claims()
        if sum(status == "sending" for status, _, _ in rows) == count:
            return rows
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise AssertionError(f"the mailer process never claimed the rows: {_claims()}")


async def test_a_killed_dispatchers_claims_are_sent_by_another_after_the_lease(
        account, smtp_server, silent_relay, tmp_path, fixed_clock):
    """A crash mid-send leaves rows in 'sending'; after the lease another dispatcher sends each once."""
    references = [queue_create_email(name=f"Customer {i}", addresses=f"c{i}@engines.example")[0] for i in range(2)]
    process = _mailer(account, silent_relay, tmp_path)
    try:
        rows = _wait_until_claimed(process, 2)
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=10)
    assert {by.split(":")[1] for _, by, _ in rows} == {str(process.pid)}
    # The child stamped its claims with the real time; this process's clock is moved from there.
    claimed_at = max(row.claimed_at for row in OutboxEmail.select())

    config = smtp_config(account, smtp_server.port, tmp_path)
    fixed_clock.set(claimed_at + timedelta(seconds=LEASE - 0.5))
    assert (await dispatch_once(config, lease_seconds=LEASE)).claimed == 0, "taken back before the lease"
    assert smtp_server.received == []

    fixed_clock.set(claimed_at + timedelta(seconds=LEASE + 0.5))
    report = await dispatch_once(config, lease_seconds=LEASE)
    assert (report.taken_back, report.sent) == (2, 2)
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == ["c0@engines.example", "c1@engines.example"]
    assert pending_count() == 0
    for reference in references:
        actions = [e.action for e in list_activity(reference)]
        assert actions[:2] == ["email sent", "email claim taken back"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_mailer_and_gives_its_claims_back(sqlite_db, silent_relay, tmp_path, signum):
    """A clean stop (SIGTERM, or Ctrl-C) while a relay hangs: exit 0, the claimed row queued again, not lost."""
    from store.settings import update_setting

    update_setting("portal_url", "https://billing.acme.example/portal", actor="alice")
    queue_create_email()
    process = _mailer(sqlite_db, silent_relay, tmp_path)
    try:
        _wait_until_claimed(process, 1)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "stopped" in stderr
    assert _claims() == [("queued", None, None)]
    assert db.database.execute_sql("SELECT attempts FROM outbox_email").fetchone()[0] == 0


def test_mailer_once_delivers_what_is_due_and_says_so(store_db, tmp_path):
    """`portal-console mailer --once`: one pass, a one-line summary, exit 0 (here to the Maildir)."""
    from store.settings import update_setting

    update_setting("portal_url", "https://billing.acme.example/portal", actor="alice")
    queue_create_email()
    process = _mailer(store_db, None, tmp_path, "--once")
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert stdout.strip() == "1 sent, 0 to retry, 0 failed"
    assert len(list((tmp_path / "maildir" / "new").iterdir())) == 1
    assert pending_count() == 0


def test_mailer_once_with_nothing_due_sends_nothing(store_db, tmp_path):
    """The twin: an empty outbox is not an error."""
    process = _mailer(store_db, None, tmp_path, "--once")
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert stdout.strip() == "0 sent, 0 to retry, 0 failed"
