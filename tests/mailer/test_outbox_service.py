"""The store's delivery functions on their own: claims, leases and who may write an outcome."""
from __future__ import annotations

from datetime import timedelta

from store.activity import list_activity
from store.dispatch import (
    Failed, Retry, RetryPolicy, Sent, claim_due, mark_failed, mark_sent, redact_link, renew_claims,
    schedule_retry,
)
from store.outbox import get_email
from store.values import OutboxStatus

from .conftest import queue_create_email


def test_redacting_keeps_the_page_and_drops_the_token():
    """The console can still show which page the email linked to, never the token."""
    assert redact_link("https://x.example/portal/setup/" + "a" * 43) == "https://x.example/portal/setup/[redacted]"


def test_a_claim_is_exclusive_until_its_lease_passes(account, fixed_clock):
    """Claimed rows are invisible to other claimers; after the lease they are taken back, with an event."""
    reference, email_id = queue_create_email()
    assert [e.id for e in claim_due("first", limit=10, lease_seconds=60).emails] == [email_id]
    assert claim_due("second", limit=10, lease_seconds=60).emails == ()
    fixed_clock.advance(timedelta(seconds=59))
    assert claim_due("second", limit=10, lease_seconds=60).emails == ()
    fixed_clock.advance(timedelta(seconds=2))
    claim = claim_due("second", limit=10, lease_seconds=60)
    assert claim.taken_back == 1 and [e.id for e in claim.emails] == [email_id]
    assert claim.emails[0].attempt == 2
    assert "first held it longer than the 60 s lease" in list_activity(reference)[0].detail


def test_a_dispatcher_that_lost_its_claim_cannot_write_the_outcome(account, fixed_clock):
    """After a take-back only the new claimer's result counts: the old one's writes change nothing."""
    _, email_id = queue_create_email()
    claim_due("old", limit=10, lease_seconds=60)
    fixed_clock.advance(timedelta(seconds=61))
    claim_due("new", limit=10, lease_seconds=60)
    assert not mark_sent(Sent(email_id, "<old@x>", "smtp old"), "old")
    assert not schedule_retry(Retry(email_id, "421"), "old")
    assert not mark_failed(Failed(email_id, "550"), "old")
    assert renew_claims([email_id], "old") == set()
    assert get_email(email_id).status is OutboxStatus.sending
    assert mark_sent(Sent(email_id, "<new@x>", "smtp new"), "new")
    assert get_email(email_id).status is OutboxStatus.sent


def test_renewing_a_claim_pushes_its_lease(account, fixed_clock):
    """The twin: a claimer that renews keeps its rows past the original lease."""
    _, email_id = queue_create_email()
    claim_due("slow", limit=10, lease_seconds=60)
    fixed_clock.advance(timedelta(seconds=50))
    assert renew_claims([email_id], "slow") == {email_id}
    fixed_clock.advance(timedelta(seconds=50))
    assert claim_due("other", limit=10, lease_seconds=60).emails == ()
    assert mark_sent(Sent(email_id, "<slow@x>", "smtp slow"), "slow")


def test_schedule_retry_backs_off_from_the_attempt_count(account, fixed_clock):
    """The back-off grows with the row's attempts, not with the dispatcher's memory."""
    _, email_id = queue_create_email()
    policy = RetryPolicy(base_seconds=10, factor=3, jitter=0)
    for attempt, wait in ((1, 10), (2, 30), (3, 90)):
        [email] = claim_due("d", limit=1, lease_seconds=60).emails
        assert email.attempt == attempt
        assert schedule_retry(Retry(email_id, "451 later"), "d", policy)
        assert get_email(email_id).next_attempt_at == fixed_clock.now() + timedelta(seconds=wait)
        fixed_clock.advance(timedelta(seconds=wait))
