"""The dispatcher inside the console: a daemon thread that sends, survives a database
outage, stops on request without losing a claim, and never raises into the console."""
from __future__ import annotations

import time
from typing import Callable

import pytest

from store import db
from store.outbox import get_email, pending_count
from store.values import OutboxStatus

from mailer.background import BackgroundMailer

from .conftest import queue_create_email, smtp_config


def _eventually(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("the background mailer did not get there in time")


def test_the_background_mailer_sends_what_is_queued_while_the_console_runs(account, smtp_server, tmp_path):
    """The embedded setup: the console's own thread delivers emails queued after it started."""
    mailer = BackgroundMailer(smtp_config(account, smtp_server.port, tmp_path))
    mailer.start()
    try:
        assert mailer.running
        _, first = queue_create_email(name="First", addresses="first@engines.example")
        _eventually(lambda: len(smtp_server.received) == 1)
        _, second = queue_create_email(name="Second", addresses="second@engines.example")
        _eventually(lambda: len(smtp_server.received) == 2)
    finally:
        mailer.stop()
    assert not mailer.running
    assert [get_email(i).status for i in (first, second)] == [OutboxStatus.sent] * 2


def test_stop_while_a_relay_hangs_returns_in_time_and_queues_the_claim_again(account, silent_relay, tmp_path):
    """Quitting the console mid-send: stop() keeps its time limit and the email is not lost."""
    mailer = BackgroundMailer(smtp_config(account, silent_relay, tmp_path, smtp_timeout=30.0))
    _, email_id = queue_create_email()
    mailer.start()
    _eventually(lambda: get_email(email_id).status is OutboxStatus.sending)
    started = time.monotonic()
    mailer.stop(timeout=2.0)
    assert time.monotonic() - started < 2.5 and not mailer.running
    email = get_email(email_id)
    assert email.status is OutboxStatus.queued and email.attempts == 0 and pending_count() == 1


def test_start_and_stop_never_raise_into_the_console(account, tmp_path):
    """Start twice, stop twice: the console's calls are always safe."""
    mailer = BackgroundMailer(smtp_config(account, 9, tmp_path))
    mailer.start()
    mailer.start()
    assert mailer.running
    mailer.stop()
    mailer.stop()
    assert not mailer.running


def test_a_mailer_stopped_before_it_started_never_starts(account, tmp_path):
    """The console quit before its delayed start: no dispatcher thread is left running."""
    mailer = BackgroundMailer(smtp_config(account, 9, tmp_path))
    mailer.stop()
    mailer.start()
    assert not mailer.running


def test_the_loop_survives_its_database_connection_being_cut(account, smtp_server, tmp_path):
    """A database restart (here: the server ends the mailer's connection) is not fatal: the
    store's pool replaces the dead connection and the next email still goes out."""
    if not account.startswith("postgres"):
        pytest.skip("PostgreSQL only: it ends the mailer's server connection with pg_terminate_backend")
    mailer = BackgroundMailer(smtp_config(account, smtp_server.port, tmp_path))
    mailer.start()
    try:
        queue_create_email(name="Before", addresses="before@engines.example")
        _eventually(lambda: len(smtp_server.received) == 1)
        ended = db.database.execute_sql(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()[0]
        assert ended >= 1
        queue_create_email(name="After", addresses="after@engines.example")
        _eventually(lambda: len(smtp_server.received) == 2)
        assert mailer.running
    finally:
        mailer.stop()
