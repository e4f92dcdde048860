"""When the relay misbehaves: transient failures retry with back-off until sent, permanent
ones fail with the server's reply, and no email is lost or sent twice."""
from __future__ import annotations

from datetime import timedelta

import pytest

from store import db
from store.activity import list_activity
from store.dispatch import RetryPolicy
from store.outbox import get_email, list_outbox, retry_email
from store.values import OutboxStatus

from mailer.dispatcher import dispatch_once

from .conftest import AGENT, SmtpServer, ScriptedHandler, free_port, queue_create_email, smtp_config

# Tests move the clock instead of sleeping: one second of back-off, no jitter.
FAST = RetryPolicy(base_seconds=1.0, factor=2.0, max_seconds=60.0, jitter=0.0, max_attempts=4)


def _raw(email_id: int, column: str):
    placeholder = "%s" if db.is_postgres() else "?"
    return db.database.execute_sql(f"SELECT {column} FROM outbox_email WHERE id = {placeholder}", (email_id,)).fetchone()[0]


def _actions(reference: str) -> list[str]:
    return [e.action for e in reversed(list_activity(reference))]


async def test_server_down_then_up_nothing_lost_and_sent_once(account, tmp_path, fixed_clock):
    """Rule 10: a relay that is down keeps the email queued; once it is up, it goes out once."""
    server = SmtpServer(ScriptedHandler(), free_port())
    config = smtp_config(account, server.port, tmp_path)
    reference, email_id = queue_create_email()

    report = await dispatch_once(config, retry_policy=FAST)
    assert (report.sent, report.retried) == (0, 1)
    email = get_email(email_id)
    assert email.status is OutboxStatus.queued and email.attempts == 1
    assert email.next_attempt_at == fixed_clock.now() + timedelta(seconds=1)
    assert "unreachable" in email.last_error
    assert (await dispatch_once(config, retry_policy=FAST)).claimed == 0  # not due yet

    server.start()
    try:
        fixed_clock.advance(timedelta(seconds=1))
        report = await dispatch_once(config, retry_policy=FAST)
        assert report.sent == 1 and len(server.received) == 1
        fixed_clock.advance(timedelta(hours=1))
        assert (await dispatch_once(config, retry_policy=FAST)).claimed == 0
        assert len(server.received) == 1
    finally:
        server.stop()
    assert get_email(email_id).attempts == 2
    assert _actions(reference)[-2:] == ["email retry scheduled", "email sent"]


async def test_421_then_success(account, smtp_server, tmp_path, fixed_clock):
    """421 (service not available) is transient: retried after the back-off, then delivered."""
    config = smtp_config(account, smtp_server.port, tmp_path)
    smtp_server.handler.mail_replies.append("421 4.3.2 Too busy, try later")
    reference, email_id = queue_create_email()

    assert (await dispatch_once(config, retry_policy=FAST)).retried == 1
    assert "421 4.3.2 Too busy" in get_email(email_id).last_error and smtp_server.received == []
    fixed_clock.advance(timedelta(seconds=1))
    assert (await dispatch_once(config, retry_policy=FAST)).sent == 1
    assert len(smtp_server.received) == 1 and get_email(email_id).status is OutboxStatus.sent
    assert "421 4.3.2 Too busy" in list_activity(reference)[1].detail


async def test_back_off_grows_exponentially_then_gives_up_visibly(account, tmp_path, fixed_clock):
    """Exponential back-off (1 s, 2 s, 4 s) and, after the last attempt, a failed row, never a dropped one."""
    config = smtp_config(account, free_port(), tmp_path)
    reference, email_id = queue_create_email()
    waits = []
    for _ in range(FAST.max_attempts - 1):
        await dispatch_once(config, retry_policy=FAST)
        email = get_email(email_id)
        waits.append((email.next_attempt_at - fixed_clock.now()).total_seconds())
        fixed_clock.set(email.next_attempt_at)
    assert waits == [1.0, 2.0, 4.0]
    await dispatch_once(config, retry_policy=FAST)
    email = get_email(email_id)
    assert email.status is OutboxStatus.failed and email.attempts == 4
    assert email.last_error.startswith("Gave up after 4 attempts")
    assert [e.email_id if hasattr(e, "email_id") else e.id for e in list_outbox(status=OutboxStatus.failed)] == [email_id]
    assert _actions(reference)[-1] == "email failed"


def test_jitter_spreads_retries_around_the_exponential_delay():
    """Jitter keeps many failed emails from coming back at the same instant; it stays within bounds."""
    import random

    policy = RetryPolicy(base_seconds=10, factor=2, max_seconds=1000, jitter=0.25)
    rng = random.Random(7)
    delays = [policy.delay(3, rng) for _ in range(200)]
    assert all(30 <= d <= 50 for d in delays) and len({round(d, 3) for d in delays}) > 150
    assert RetryPolicy(base_seconds=10, max_seconds=60, jitter=0).delay(10) == 60


async def test_550_for_one_of_three_recipients_counts_as_sent_to_the_others(account, smtp_server, tmp_path):
    """A permanent refusal of one address records it and still delivers to the other two."""
    config = smtp_config(account, smtp_server.port, tmp_path)
    smtp_server.handler.rcpt_replies["cfo@engines.example"] = "550 5.1.1 No such user"
    reference, email_id = queue_create_email()

    report = await dispatch_once(config)
    assert report.sent == 1
    [received] = smtp_server.received
    assert received.rcpt_tos == ["ada@engines.example", "billing@engines.example"]
    email = get_email(email_id)
    assert email.status is OutboxStatus.sent and email.refused == ("cfo@engines.example",)
    assert "550 5.1.1 No such user" in email.last_error
    detail = list_activity(reference)[0].detail
    assert "refused for cfo@engines.example: 550 5.1.1 No such user" in detail


async def test_550_for_every_recipient_fails_with_the_reply_and_can_be_queued_again(account, smtp_server, tmp_path):
    """A permanent refusal of all addresses: failed, visible with the reply, link dead; retry sends it."""
    config = smtp_config(account, smtp_server.port, tmp_path)
    for address in ("ada@engines.example", "billing@engines.example", "cfo@engines.example"):
        smtp_server.handler.rcpt_replies[address] = "550 5.7.1 Relaying denied"
    reference, email_id = queue_create_email()

    report = await dispatch_once(config)
    assert (report.sent, report.failed) == (0, 1) and smtp_server.received == []
    email = get_email(email_id)
    assert email.status is OutboxStatus.failed and "550 5.7.1 Relaying denied" in email.last_error
    assert _raw(email_id, "link_url").endswith("/setup/[redacted]")
    assert list_activity(reference)[0].action == "email failed"

    smtp_server.handler.rcpt_replies.clear()
    retry_email(email_id, actor=AGENT)
    assert (await dispatch_once(config)).sent == 1
    assert len(smtp_server.received) == 1 and get_email(email_id).status is OutboxStatus.sent


async def test_a_4xx_for_one_recipient_retries_the_whole_email_so_nobody_gets_it_twice(account, smtp_server, tmp_path, fixed_clock):
    """A temporary refusal of one address: nobody gets the message yet, all get it once later."""
    config = smtp_config(account, smtp_server.port, tmp_path)
    smtp_server.handler.rcpt_replies["cfo@engines.example"] = "450 4.2.1 Mailbox busy"
    _, email_id = queue_create_email()

    assert (await dispatch_once(config, retry_policy=FAST)).retried == 1
    assert smtp_server.received == [] and "450 4.2.1 Mailbox busy" in get_email(email_id).last_error
    smtp_server.handler.rcpt_replies.clear()
    fixed_clock.advance(timedelta(seconds=1))
    assert (await dispatch_once(config, retry_policy=FAST)).sent == 1
    assert [len(r.rcpt_tos) for r in smtp_server.received] == [3]


async def test_connection_dropped_mid_data_is_retried_and_sent_once(account, smtp_server, tmp_path, fixed_clock):
    """A connection lost before the server's final reply: the email is tried again, once more."""
    config = smtp_config(account, smtp_server.port, tmp_path)
    smtp_server.handler.drop_in_data = 1
    _, email_id = queue_create_email()

    assert (await dispatch_once(config, retry_policy=FAST)).retried == 1
    assert smtp_server.received == [] and "Disconnected" in get_email(email_id).last_error
    fixed_clock.advance(timedelta(seconds=1))
    assert (await dispatch_once(config, retry_policy=FAST)).sent == 1
    assert len(smtp_server.received) == 1


async def test_a_drop_mid_batch_reconnects_for_the_rest_of_the_batch(account, smtp_server, tmp_path):
    """One connection carries the batch; after a drop the next email opens a new one instead of failing."""
    config = smtp_config(account, smtp_server.port, tmp_path)
    ids = [queue_create_email(name=f"Customer {i}", addresses=f"c{i}@engines.example")[1] for i in range(4)]
    assert (await dispatch_once(config)).sent == 4
    assert smtp_server.handler.connections == 1

    ids = [queue_create_email(name=f"Customer {i}", addresses=f"d{i}@engines.example")[1] for i in range(4)]
    smtp_server.handler.drop_in_data = 1
    report = await dispatch_once(config, retry_policy=FAST)
    assert (report.sent, report.retried) == (3, 1)
    assert get_email(ids[0]).status is OutboxStatus.queued
    assert [get_email(i).status for i in ids[1:]] == [OutboxStatus.sent] * 3


async def test_slow_server_past_the_time_out_is_retried(account, smtp_server, tmp_path, fixed_clock):
    """A relay slower than PORTAL_SMTP_TIMEOUT doesn't hang the dispatcher; the email waits and goes later."""
    config = smtp_config(account, smtp_server.port, tmp_path, smtp_timeout=0.3)
    smtp_server.handler.mail_delay = 1.0
    _, email_id = queue_create_email()

    assert (await dispatch_once(config, retry_policy=FAST)).retried == 1
    assert "Timeout" in get_email(email_id).last_error and smtp_server.received == []
    smtp_server.handler.mail_delay = 0.0
    fixed_clock.advance(timedelta(seconds=1))
    assert (await dispatch_once(config, retry_policy=FAST)).sent == 1
    assert len(smtp_server.received) == 1


async def test_a_server_within_the_time_out_is_not_retried(account, smtp_server, tmp_path):
    """The twin: a slow but timely relay delivers on the first attempt."""
    config = smtp_config(account, smtp_server.port, tmp_path, smtp_timeout=2.0)
    smtp_server.handler.mail_delay = 0.2
    _, email_id = queue_create_email()
    assert (await dispatch_once(config, retry_policy=FAST)).sent == 1
    assert get_email(email_id).attempts == 1


async def test_an_email_whose_link_expires_before_the_next_try_fails_instead(account, tmp_path, fixed_clock):
    """Sending a dead link helps no one: the row fails, visibly, and retry mints a fresh link."""
    config = smtp_config(account, free_port(), tmp_path)
    reference, email_id = queue_create_email()
    four_days = 4 * 24 * 3600.0  # longer than the 72 h setup link
    slow = RetryPolicy(base_seconds=four_days, max_seconds=four_days, jitter=0)
    await dispatch_once(config, retry_policy=slow)
    email = get_email(email_id)
    assert email.status is OutboxStatus.failed and "expires before the next try" in email.last_error
    assert retry_email(email_id, actor=AGENT).status is OutboxStatus.queued


async def test_an_email_whose_link_was_replaced_before_delivery_is_not_sent(account, smtp_server, tmp_path):
    """Two sends before the mailer runs: the first link is revoked, so only the second email goes out."""
    from store.panel import send_portal_email

    config = smtp_config(account, smtp_server.port, tmp_path)
    reference, first = queue_create_email()
    second = send_portal_email(reference, actor=AGENT).outbox_id
    report = await dispatch_once(config)
    assert (report.sent, report.failed) == (1, 1) and len(smtp_server.received) == 1
    assert get_email(second).status is OutboxStatus.sent
    failed = get_email(first)
    assert failed.status is OutboxStatus.failed and "revoked before delivery" in failed.last_error
    assert "replaced by a newer setup link" in failed.last_error
    # The mailer's "not sent" names the email (the customer's creation logged one too: the switch was off).
    not_sent = [e for e in list_activity(reference) if e.action == "email not sent" and "(email " in e.detail]
    assert len(not_sent) == 1 and f"(email {first})" in not_sent[0].detail


async def test_a_relay_that_never_greets_times_out_on_connect(account, silent_relay, tmp_path):
    """The connection's time-out: a relay that accepts TCP and says nothing doesn't hang the batch."""
    import time

    config = smtp_config(account, silent_relay, tmp_path, smtp_timeout=0.3)
    ids = [queue_create_email(name=f"Customer {i}", addresses=f"c{i}@engines.example")[1] for i in range(3)]
    started = time.monotonic()
    report = await dispatch_once(config, retry_policy=FAST)
    assert report.retried == 3 and time.monotonic() - started < 2.0, "one time-out for the batch, not one each"
    assert all("unreachable" in get_email(i).last_error for i in ids)


def _fail_activity_inserts(times: str) -> None:
    """A real database fault: a trigger makes writing the 'email sent' event fail (PostgreSQL)."""
    limit = "" if times == "always" else "AND nextval('mailer_fault') = 1"
    db.database.execute_sql("CREATE SEQUENCE IF NOT EXISTS mailer_fault")
    db.database.execute_sql(f"""
        CREATE OR REPLACE FUNCTION mailer_fault() RETURNS trigger AS $$
        BEGIN
            IF NEW.action = 'email sent' {limit} THEN RAISE EXCEPTION 'disk full'; END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql""")
    db.database.execute_sql("DROP TRIGGER IF EXISTS mailer_fault ON activity_event")
    db.database.execute_sql("CREATE TRIGGER mailer_fault BEFORE INSERT ON activity_event "
                            "FOR EACH ROW EXECUTE FUNCTION mailer_fault()")


def _heal() -> None:
    db.database.execute_sql("DROP TRIGGER IF EXISTS mailer_fault ON activity_event")
    db.database.execute_sql("DROP SEQUENCE IF EXISTS mailer_fault")


async def test_an_outcome_write_that_fails_once_is_written_on_the_second_try(account, smtp_server, tmp_path, caplog):
    """A database hiccup while recording: the sent email is recorded as sent, not queued again."""
    if not account.startswith("postgres"):
        pytest.skip("PostgreSQL only: the fault is a trigger")
    _fail_activity_inserts("once")
    try:
        _, email_id = queue_create_email()
        report = await dispatch_once(smtp_config(account, smtp_server.port, tmp_path))
    finally:
        _heal()
    assert report.sent == 1 and report.released == 0 and len(smtp_server.received) == 1
    assert get_email(email_id).status is OutboxStatus.sent
    assert any("recording a batch failed" in r.getMessage() for r in caplog.records)


async def test_a_sent_email_whose_outcome_cant_be_written_stays_claimed_not_requeued(
        account, smtp_server, tmp_path, fixed_clock):
    """The database stays broken: the row is left to the lease, never handed back as unsent at once."""
    if not account.startswith("postgres"):
        pytest.skip("PostgreSQL only: the fault is a trigger")
    _fail_activity_inserts("always")
    try:
        _, email_id = queue_create_email()
        report = await dispatch_once(smtp_config(account, smtp_server.port, tmp_path))
        assert report.released == 0 and len(smtp_server.received) == 1
        assert get_email(email_id).status is OutboxStatus.sending
        assert (await dispatch_once(smtp_config(account, smtp_server.port, tmp_path))).claimed == 0
    finally:
        _heal()
