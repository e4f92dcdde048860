"""On-call at a glance (store/overview.py, store/heartbeats.py): the figures are what the
database holds, on both backends, and the verdict names each kind of trouble."""
from __future__ import annotations

from datetime import timedelta

import pytest

from store import heartbeats
from store.credentials import complete_link, open_link
from store.customers import add_customer
from store.dispatch import Failed, Sent, claim_due, record_outcomes
from store.errors import InvalidLogin, TooManyAttempts
from store.overview import FAILURE_THRESHOLD, judge, outbox_health, read_overview, signin_figures, state_counts
from store.panel import send_portal_email, set_username
from store.signin import Limit, SignInLimits, authenticate
from store.overview_values import Trouble
from store.values import LinkPurpose, PortalState

from tests.links import live_token

from .conftest import AGENT, column
from tests.links import live_token

PASSWORD = "violet tractor sings at dawn"


def _customers(n: int) -> list[str]:
    return [add_customer(name=f"Customer {i}", company="", primary_email=f"c{i}@example.com",
                         actor=AGENT).reference for i in range(n)]


def _activate(reference: str, username: str) -> None:
    queued = send_portal_email(reference, actor=AGENT)
    token = live_token(queued.outbox_id)
    complete_link(open_link(token, LinkPurpose.setup), username=username, password=PASSWORD)


def _deliver(n: int) -> None:
    """A dispatcher claims ``n`` due emails and the server accepts them now."""
    claim = claim_due("test-dispatcher", limit=n, lease_seconds=300)
    assert len(claim.emails) == n
    record_outcomes([Sent(e.id, f"<{e.id}@test>", "test relay") for e in claim.emails], "test-dispatcher")


def _beat(name: str = "host:1:aa", **kw) -> None:
    from store import clock
    heartbeats.beat(name, host="host", pid=1, role=kw.get("role", "mailer"), started_at=clock.now(),
                    sent=kw.get("sent", 0), failed=0)


def test_customers_are_counted_by_their_derived_state(store_db):
    refs = _customers(4)
    set_username(refs[1], "awaiting.one", expected_version=None, actor=AGENT)
    _activate(refs[2], "active.one")
    assert {c.state: c.count for c in state_counts()} == {
        PortalState.not_set_up: 2, PortalState.awaiting_customer: 1, PortalState.active: 1,
        PortalState.suspended: 0}


def test_an_empty_database_is_healthy_and_all_zero(store_db):
    overview = read_overview()
    assert overview.customers == 0
    assert overview.outbox.sent_per_minute == (0,) * 60
    assert overview.outbox.oldest_queued_at is None
    assert overview.signins.signed_in_per_hour == (0,) * 24
    assert overview.health.healthy and overview.health.exit_status == 0


def test_outbox_health_counts_waiting_emails_and_the_oldest_ones_age(store_db, fixed_clock):
    refs = _customers(3)
    send_portal_email(refs[0], actor=AGENT)
    fixed_clock.advance(timedelta(minutes=7))
    send_portal_email(refs[1], actor=AGENT)
    health = outbox_health()
    assert (health.queued, health.sending) == (2, 0)
    assert health.oldest_queued_age == timedelta(minutes=7)
    claim_due("test-dispatcher", limit=1, lease_seconds=300)
    health = outbox_health()
    assert (health.queued, health.sending, health.waiting) == (1, 1, 2)


def test_deliveries_are_counted_in_the_minute_they_happened(store_db, fixed_clock):
    refs = _customers(6)
    for ref in refs:
        send_portal_email(ref, actor=AGENT)
    _deliver(3)  # at 09:00
    fixed_clock.advance(timedelta(minutes=10, seconds=30))
    _deliver(2)  # at 09:10:30
    fixed_clock.advance(timedelta(minutes=2))
    per_minute = outbox_health().sent_per_minute  # read at 09:12:30
    assert len(per_minute) == 60 and sum(per_minute) == 5
    assert per_minute[-1 - 2] == 2 and per_minute[-1 - 12] == 3
    fixed_clock.advance(timedelta(minutes=50))  # 09:62:30: the first three are more than an hour old
    assert sum(outbox_health().sent_per_minute) == 2


def test_failures_of_the_last_day_are_counted_and_trouble_above_the_threshold(store_db, fixed_clock):
    refs = _customers(3)
    for ref in refs:
        send_portal_email(ref, actor=AGENT)
    claim = claim_due("test-dispatcher", limit=3, lease_seconds=300)
    record_outcomes([Failed(e.id, "550 no such mailbox") for e in claim.emails], "test-dispatcher")
    health = outbox_health()
    assert health.failed_last_day == 3
    verdict = judge(health, (), fixed_clock.now(), failure_threshold=2)
    assert [p.trouble for p in verdict.problems] == [Trouble.failures]
    assert verdict.exit_status == Trouble.failures.exit_status == 5
    assert "3 emails failed in the last 24 h" in verdict.problems[0].text
    assert judge(health, (), fixed_clock.now(), failure_threshold=3).healthy
    fixed_clock.advance(timedelta(hours=24, seconds=1))
    assert outbox_health().failed_last_day == 0


def test_email_waiting_with_no_mailer_is_trouble_and_says_the_usual_cause(store_db, fixed_clock):
    send_portal_email(_customers(1)[0], actor=AGENT)
    verdict = read_overview().health
    assert [p.trouble for p in verdict.problems] == [Trouble.no_mailer]
    assert verdict.exit_status == 4
    assert "PORTAL_MAILER_IN_CONSOLE=false" in verdict.problems[0].text
    assert "no mailer has run in the last hour" in verdict.problems[0].text


def test_a_mailer_heard_within_a_minute_keeps_it_healthy_and_a_quiet_one_does_not(store_db, fixed_clock):
    send_portal_email(_customers(1)[0], actor=AGENT)
    _beat(role="console", sent=4)
    fixed_clock.advance(timedelta(seconds=59))
    overview = read_overview()
    assert overview.health.healthy
    [mailer] = overview.mailers
    assert (mailer.role, mailer.host, mailer.pid, mailer.sent) == ("console", "host", 1, 4)
    fixed_clock.advance(timedelta(seconds=2))
    verdict = read_overview().health
    assert [p.trouble for p in verdict.problems] == [Trouble.no_mailer]
    assert "the last mailer (console on host, pid 1) passed 61 s ago" in verdict.problems[0].text


def test_no_mailer_is_no_trouble_while_nothing_waits(store_db, fixed_clock):
    _customers(1)
    assert read_overview().health.healthy


def test_heartbeats_are_updated_in_place_removed_on_stop_and_forgotten_after_an_hour(store_db, fixed_clock):
    _beat("a", sent=1)
    _beat("b")
    fixed_clock.advance(timedelta(seconds=5))
    _beat("a", sent=9)
    mailers = heartbeats.recent_mailers()
    assert [m.name for m in mailers] == ["a", "b"] and mailers[0].sent == 9
    heartbeats.stopped("b")
    assert [m.name for m in heartbeats.recent_mailers()] == ["a"]
    fixed_clock.advance(heartbeats.KEEP + timedelta(seconds=1))
    assert heartbeats.recent_mailers() == ()
    _beat("c")  # a beat forgets the rows of dispatchers killed without stopping
    assert column("mailer_heartbeat", "name") == ["c"]


def test_sign_ins_and_wrong_passwords_per_hour_and_usernames_locked_out(store_db, fixed_clock):
    ref = _customers(1)[0]
    _activate(ref, "ada")  # the setup form signs the customer in: one sign-in at 09:00
    fixed_clock.advance(timedelta(hours=2))
    limits = SignInLimits(per_pair=100, per_username=Limit(3, timedelta(hours=1)))
    authenticate("ada", PASSWORD, limits=limits)
    for _ in range(3):
        with pytest.raises(InvalidLogin):
            authenticate("ada", "wrong password typed", address="10.0.0.9", limits=limits)
    with pytest.raises(TooManyAttempts):
        authenticate("ada", PASSWORD, limits=limits)
    figures = signin_figures(limits=limits)
    signed_in_then = sum(figures.signed_in_per_hour) - figures.signed_in_last_hour
    assert figures.signed_in_last_hour == 1 and figures.failed_last_hour == 3
    assert figures.failed_per_hour[:-1] == (0,) * 23
    assert signed_in_then in (0, 1)  # the setup form's sign-in, if it records one
    assert figures.locked_out_now == 1
    fixed_clock.advance(timedelta(hours=1, seconds=1))
    assert signin_figures(limits=limits).locked_out_now == 0


def test_the_default_failure_threshold_is_said_in_the_verdict(store_db, fixed_clock):
    refs = _customers(FAILURE_THRESHOLD + 1)
    for ref in refs:
        send_portal_email(ref, actor=AGENT)
    claim = claim_due("test-dispatcher", limit=len(refs), lease_seconds=300)
    record_outcomes([Failed(e.id, "550 no") for e in claim.emails], "test-dispatcher")
    [problem] = read_overview().health.problems
    assert f"(more than {FAILURE_THRESHOLD})" in problem.text
