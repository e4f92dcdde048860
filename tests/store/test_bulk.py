"""Bulk sends (store/bulk.py): each customer gets the one email its state allows, the skipped
are counted by reason, batches are whole, and a hand-sent email goes before the backlog."""
from __future__ import annotations

from datetime import timedelta

from store.bulk import BULK_PRIORITY, send_all
from store.credentials import open_link
from store.customers import add_customer
from store.dispatch import claim_due
from store.panel import send_portal_email, set_username
from store.bulk_values import BulkSkip
from store.values import EmailKind, LinkPurpose, PortalState

from tests.links import live_token

from .conftest import AGENT, column, count
from .test_overview import _activate


def _customer(name: str, email: str) -> str:
    return add_customer(name=name, company="Engines", primary_email=email, actor=AGENT).reference


def _kinds(result) -> dict:
    return {kind: n for kind, n in result.queued if n}


def test_each_customer_gets_the_email_its_state_allows_and_the_unreachable_are_skipped(store_db):
    fresh = _customer("Fresh", "fresh@example.com")
    waiting = _customer("Waiting", "waiting@example.com")
    set_username(waiting, "waiting", expected_version=None, actor=AGENT)
    active = _customer("Active", "active@example.com")
    _activate(active, "active")
    _customer("No address", "")
    before = count("outbox_email")
    result = send_all(actor=AGENT, recent_hours=0)
    assert result.matching == 4 and not result.dry_run and not result.cancelled
    assert _kinds(result) == {EmailKind.credential_create: 2, EmailKind.password_reset: 1}
    assert dict(result.skipped)[BulkSkip.no_valid_address] == 1
    assert count("outbox_email") == before + 3
    assert set(column("outbox_email", "priority", "queued_by = ? AND id > ?", (AGENT, before))) == {BULK_PRIORITY}
    assert "3 matching" not in result.summary and "4 matching: 2 Customer Credential Create" in result.summary
    assert "1 no valid Primary Email Address" in result.summary
    # The row holds no working link (as PORTAL's); the one the mailer issues opens the setup page.
    outbox_id = column("outbox_email", "id", "customer_id = (SELECT id FROM customer WHERE reference = ?)"
                       " AND priority = ?", (fresh, BULK_PRIORITY))[0]
    assert column("outbox_email", "link_url", "id = ?", (outbox_id,))[0].endswith("/setup/[redacted]")
    assert open_link(live_token(outbox_id), LinkPurpose.setup).customer_reference == fresh
    assert count("activity_event", "detail LIKE ?", ("%(bulk send)",)) == 3


def test_a_recent_unused_link_skips_the_customer_and_an_older_one_is_replaced(store_db, fixed_clock):
    ref = _customer("Ada", "ada@example.com")
    send_portal_email(ref, actor=AGENT)
    result = send_all(actor=AGENT, recent_hours=24)
    assert result.queued_total == 0 and dict(result.skipped)[BulkSkip.recent_link] == 1
    assert "1 a link sent in the last 24 h is still unused" in result.summary
    fixed_clock.advance(timedelta(hours=25))  # the setup link (72 h by default) still works
    result = send_all(actor=AGENT, recent_hours=24)
    assert result.queued_total == 1
    assert count("portal_link", "revoked_at IS NULL") == 1  # the older one was revoked (rule 6)


def test_state_and_match_narrow_it_and_a_dry_run_writes_nothing(store_db):
    _customer("Ada Lovelace", "ada@example.com")
    _customer("Charles Babbage", "charles@example.com")
    waiting = _customer("Ada Byron", "byron@example.com")
    set_username(waiting, "byron", expected_version=None, actor=AGENT)
    before = (count("outbox_email"), count("portal_link"), count("activity_event"))
    dry = send_all(actor=AGENT, state=PortalState.not_set_up, match="ada", dry_run=True)
    assert (dry.matching, dry.queued_total, dry.dry_run) == (1, 1, True)
    assert "would be queued" in dry.summary
    assert (count("outbox_email"), count("portal_link"), count("activity_event")) == before
    assert send_all(actor=AGENT, state=PortalState.awaiting_customer).matching == 1
    assert send_all(actor=AGENT, match="ada", recent_hours=0).matching == 2


def test_marked_references_are_sent_exactly_once_each_and_unknown_ones_are_not_counted(store_db):
    """The console's marked rows: only those customers, a reference marked twice once, and a
    customer deleted since it was marked left out (not counted as matching)."""
    first = _customer("Ada Lovelace", "ada@example.com")
    _customer("Charles Babbage", "charles@example.com")
    third = _customer("Grace Hopper", "grace@example.com")
    result = send_all(actor=AGENT, references=[third, first, first, "C999999"])
    assert (result.matching, result.queued_total) == (2, 2)
    sent_to = column("customer", "reference", "id IN (SELECT customer_id FROM outbox_email)")
    assert sorted(sent_to) == sorted([first, third])


def test_cancelling_keeps_the_batches_queued_and_says_so(store_db):
    for i in range(5):
        _customer(f"Customer {i}", f"c{i}@example.com")
    seen: list[tuple[int, int]] = []
    result = send_all(actor=AGENT, batch_size=2, progress=lambda done, total: seen.append((done, total)),
                      cancelled=lambda: len(seen) == 2)
    assert seen == [(2, 5), (4, 5)]
    assert result.cancelled and result.queued_total == 4 and result.matching == 5 and result.looked_at == 4
    assert count("outbox_email", "priority = ?", (BULK_PRIORITY,)) == 4
    assert "cancelled" in result.summary


def test_an_email_sent_by_hand_is_claimed_before_a_bulk_backlog(store_db, fixed_clock):
    for i in range(5):
        _customer(f"Customer {i}", f"c{i}@example.com")
    send_all(actor=AGENT)
    fixed_clock.advance(timedelta(minutes=5))
    by_hand = send_portal_email(_customer("Urgent", "urgent@example.com"), actor=AGENT)
    first = claim_due("dispatcher", limit=1, lease_seconds=300)
    assert [e.id for e in first.emails] == [by_hand.outbox_id]
    rest = claim_due("dispatcher", limit=10, lease_seconds=300)
    assert len(rest.emails) == 5  # then the backlog, oldest first
    assert [e.id for e in rest.emails] == sorted(e.id for e in rest.emails)


def test_a_dry_run_reads_while_another_writer_holds_the_lock(sqlite_db):
    """The console's counts (a dry run) never wait for, or hold, SQLite's write lock: another
    connection mid-write doesn't stop them, and they write nothing."""
    import sqlite3

    _customer("Ada Lovelace", "ada@example.com")
    writer = sqlite3.connect(sqlite_db.removeprefix("sqlite:///"), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        dry = send_all(actor=AGENT, dry_run=True)
    finally:
        writer.rollback()
        writer.close()
    assert (dry.matching, dry.queued_total) == (1, 1)
    assert count("outbox_email") == 0
