"""Several dispatchers on one database send each queued email exactly once."""
from __future__ import annotations

import asyncio
from collections import Counter

from store import db
from store.customers import add_customer
from store.dispatch import claim_due, release_claims
from store.outbox import pending_count
from store.settings import update_setting

from mailer.dispatcher import Dispatcher, dispatch_once

from .conftest import AGENT, smtp_config

EMAILS = 300


def _queue_many(count: int) -> None:
    """Customers added with Credential Create on: each gets its email queued with the change."""
    update_setting("credential_create_email", "on", actor=AGENT)
    for i in range(count):
        add_customer(name=f"Customer {i:03d}", primary_email=f"c{i:03d}@bulk.example", actor=AGENT)


async def test_three_dispatchers_send_300_emails_each_exactly_once(account, smtp_server, tmp_path):
    """Rule 10 with a team's setup: three dispatchers race for the same rows; each is delivered once."""
    _queue_many(EMAILS)
    config = smtp_config(account, smtp_server.port, tmp_path)
    # Small batches make the dispatchers claim often and meet each other at the database.
    reports = await asyncio.gather(*(
        dispatch_once(config, name=f"dispatcher-{n}", batch_size=10) for n in range(3)))

    assert sum(r.sent for r in reports) == EMAILS and sum(r.retried + r.failed for r in reports) == 0
    assert sum(r.sent > 0 for r in reports) >= 2, reports
    delivered = Counter(rcpt for message in smtp_server.received for rcpt in message.rcpt_tos)
    assert len(delivered) == EMAILS and set(delivered.values()) == {1}
    message_ids = Counter(message.message["Message-ID"] for message in smtp_server.received)
    stored = [row[0] for row in db.database.execute_sql("SELECT message_id FROM outbox_email").fetchall()]
    assert sorted(message_ids) == sorted(stored) and set(message_ids.values()) == {1}
    assert pending_count() == 0


def test_two_claims_at_once_never_share_a_row(store_db, account):
    """The claim itself: two connections claiming at the same instant get disjoint rows."""
    import threading

    _queue_many(40)
    barrier = threading.Barrier(2)
    claimed: dict[str, list[int]] = {}

    def claim(name: str) -> None:
        barrier.wait()
        try:
            claimed[name] = [e.id for e in claim_due(name, limit=25, lease_seconds=60).emails]
        finally:
            db.close()

    threads = [threading.Thread(target=claim, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not set(claimed["a"]) & set(claimed["b"])
    assert set(claimed["a"]) | set(claimed["b"]) == set(range(1, 41))
    assert release_claims(claimed["a"], "b") == 0, "a dispatcher can only release its own claims"
    assert release_claims(claimed["a"], "a") == len(claimed["a"])


async def test_a_stopped_dispatcher_gives_its_unsent_claims_back(account, smtp_server, tmp_path):
    """A stop between messages: nothing half-done, every unsent row is queued again at once."""
    _queue_many(5)
    config = smtp_config(account, smtp_server.port, tmp_path)
    dispatcher = Dispatcher(config, name="stopper", batch_size=5)
    stop = asyncio.Event()
    stop.set()
    try:
        report = await dispatcher.run_once(stop)
    finally:
        await dispatcher.close()
    assert report.sent == 0 and report.released == 5 and smtp_server.received == []
    attempts = {row[0] for row in db.database.execute_sql("SELECT attempts FROM outbox_email").fetchall()}
    assert attempts == {0} and pending_count() == 5
    assert (await dispatch_once(config)).sent == 5



async def test_a_slow_batch_keeps_its_lease_so_no_other_dispatcher_sends_it_again(account, smtp_server, tmp_path):
    """Lease renewal: a batch that takes longer than the lease is not taken over (and sent twice)."""
    from store import clock

    clock.use(clock.SystemClock())  # the lease is about real time passing here
    _queue_many(4)
    smtp_server.handler.mail_delay = 0.4
    config = smtp_config(account, smtp_server.port, tmp_path)
    lease = 0.9
    slow = asyncio.ensure_future(dispatch_once(config, name="slow", batch_size=4, lease_seconds=lease))
    for _ in range(100):
        await asyncio.sleep(0.01)
        if pending_count() == 4 and db.database.execute_sql(
                "SELECT COUNT(*) FROM outbox_email WHERE claimed_by = 'slow'").fetchone()[0] == 4:
            break
    rival_reports = []
    while not slow.done():
        rival_reports.append(await dispatch_once(config, name="rival", lease_seconds=lease))
        await asyncio.sleep(0.1)
    report = await slow
    assert report.sent == 4 and report.lost_claims == 0
    assert sum(r.taken_back + r.sent for r in rival_reports) == 0 and len(rival_reports) > 5
    assert sorted(len(m.rcpt_tos) for m in smtp_server.received) == [1, 1, 1, 1]
