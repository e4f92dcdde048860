"""Sign-in attempts in the database: counted before the password check, atomically on both
backends; limits per username and address with growing delays, a per-username ceiling, per
address; the console's status, Unlock and history; pruning."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from store import db, signin
from store.credentials import complete_link, open_link
from store.errors import InvalidLogin, TooManyAttempts
from store.panel import send_portal_email, set_username
from store.signin import Limit, SignInLimits, authenticate, begin_sign_in, finish_sign_in, unlock
from store.usernames import username_key
from store.values import LinkPurpose

from .conftest import AGENT, column, count
from tests.links import live_link

PASSWORD = "violet tractor sings at dawn"


@pytest.fixture
def ada(customer) -> str:
    """Ada's login is active: username 'ada', PASSWORD."""
    set_username(customer, "ada", expected_version=None, actor=AGENT)
    url = live_link(send_portal_email(customer, actor=AGENT).outbox_id)
    complete_link(open_link(url.rsplit("/", 1)[1], LinkPurpose.setup), username=None, password=PASSWORD)
    return customer


def wrong(times: int, address: str = "198.51.100.7", username: str = "ada") -> None:
    for _ in range(times):
        with pytest.raises(InvalidLogin):
            authenticate(username, "not the password", address=address)


def test_fifty_attempts_at_once_get_exactly_five_tickets(store_db):
    """The count and the new row are one transaction, serialised on both backends: of 50
    attempts at the same instant for one username from one address, 5 may check a password."""
    start = threading.Barrier(50)

    def attempt(_: int) -> bool:
        start.wait(timeout=30)
        try:
            begin_sign_in("ada", "198.51.100.7")
            return True
        except TooManyAttempts:
            return False
        finally:
            db.close()  # this thread's connection back to the pool

    with ThreadPoolExecutor(max_workers=50) as pool:
        admitted = list(pool.map(attempt, range(50)))
    assert admitted.count(True) == 5
    assert count("portal_attempt") == 5


def test_the_attempt_is_counted_before_the_password_is_checked(store_db):
    """A ticket alone (its password still being hashed) already counts."""
    for _ in range(5):
        begin_sign_in("ada", "198.51.100.7")
    with pytest.raises(TooManyAttempts):
        begin_sign_in("ada", "198.51.100.7")


def test_delays_grow_per_address_and_spare_other_addresses(ada, fixed_clock):
    wrong(5)
    with pytest.raises(TooManyAttempts) as waited:
        authenticate("ada", PASSWORD, address="198.51.100.7")
    assert waited.value.wait == timedelta(minutes=1)
    assert authenticate("ada", PASSWORD, address="203.0.113.20").username == "ada"
    fixed_clock.advance(timedelta(minutes=1))
    wrong(1)
    with pytest.raises(TooManyAttempts) as waited:
        begin_sign_in("ada", "198.51.100.7")
    assert waited.value.wait == timedelta(minutes=2)


def test_the_delay_stops_growing_at_an_hour(store_db):
    limits = SignInLimits()
    assert [limits.delay_after(n) for n in (4, 5, 6, 11, 12, 1000)] == [
        None, timedelta(minutes=1), timedelta(minutes=2), timedelta(hours=1), timedelta(hours=1),
        timedelta(hours=1)]


def test_a_reset_clears_the_username_s_failures_from_every_address(ada, fixed_clock):
    limits = SignInLimits(per_username=Limit(8, timedelta(hours=1)))
    for n in range(4):
        for _ in range(2):
            with pytest.raises(InvalidLogin):
                authenticate("ada", "guess", address=f"198.51.100.{n}", limits=limits)
    with pytest.raises(TooManyAttempts):
        authenticate("ada", PASSWORD, address="203.0.113.20", limits=limits)
    url = live_link(send_portal_email(ada, actor=AGENT).outbox_id)
    complete_link(open_link(url.rsplit("/", 1)[1], LinkPurpose.reset), username=None,
                  password="copper lantern drifts northward")
    assert count("portal_attempt") == 0
    assert authenticate("ada", "copper lantern drifts northward", address="203.0.113.20",
                        limits=limits).username == "ada"


def test_what_was_typed_as_a_username_is_never_stored(store_db):
    wrong(1, username="my-secret-password-typed-here")
    assert all("secret" not in value for value in column("portal_attempt", "subject"))
    assert column("portal_attempt", "subject") == [signin.subject_of(username_key("my-secret-password-typed-here"))]


class TestConsole:
    def test_status_history_and_unlock(self, ada, fixed_clock):
        authenticate("ada", PASSWORD, address="203.0.113.20")
        fixed_clock.advance(timedelta(minutes=5))
        wrong(5)
        status = signin.signin_status(ada)
        assert status.last_signed_in_at is not None and status.failures_since == 5
        assert status.addresses_waiting == 1 and status.locked_until is None
        events = [record.event for record in signin.sign_in_history(ada)]
        assert events[:2] == ["locked", "wrong password"] and events[-1] == "signed in"
        assert unlock(ada, actor=AGENT) == 5
        assert authenticate("ada", PASSWORD, address="198.51.100.7").username == "ada"
        assert signin.signin_status(ada).addresses_waiting == 0
        assert "sign-in unlocked" in column("activity_event", "action")

    def test_the_ceiling_shows_as_locked_until(self, ada, fixed_clock):
        limits = SignInLimits(per_username=Limit(3, timedelta(hours=1)))
        for n in range(3):
            with pytest.raises(InvalidLogin):
                authenticate("ada", "guess", address=f"198.51.100.{n}", limits=limits)
        status = signin.signin_status(ada, limits)
        assert status.locked_until == fixed_clock.now() + timedelta(hours=1)


class TestPruning:
    def test_old_attempts_go_and_recent_ones_stay(self, store_db, fixed_clock):
        begin_sign_in("old", "198.51.100.7")
        fixed_clock.advance(timedelta(days=1, minutes=1))
        begin_sign_in("new", "198.51.100.7")
        assert signin.prune() == 1
        assert column("portal_attempt", "subject") == [signin.subject_of(username_key("new"))]

    def test_every_hundredth_attempt_prunes(self, store_db, fixed_clock):
        begin_sign_in("old", "198.51.100.7")
        fixed_clock.advance(timedelta(days=2))
        for n in range(signin.PRUNE_EVERY - 1):
            begin_sign_in(f"user{n}", f"198.51.100.{n % 200}")
        assert count("portal_attempt", "subject = ?", (signin.subject_of(username_key("old")),)) == 0


def test_a_wrong_password_keeps_its_attempt_and_a_right_one_removes_it(ada):
    ticket = begin_sign_in("ada", "198.51.100.7")
    with pytest.raises(InvalidLogin):
        finish_sign_in(ticket, "wrong one")
    assert count("portal_attempt") == 1
    finish_sign_in(begin_sign_in("ada", "198.51.100.7"), PASSWORD)
    assert count("portal_attempt") == 0


def test_a_login_kept_under_its_old_key_signs_in_and_resets(store_db):
    """Migration 0003 keeps the newer of two logins that now look alike ('mary' beside an older
    'rnary': one skeleton) under its old key: typed as its customer types it, it still signs
    in, and a password reset keeps that key instead of being refused as taken."""
    from store import clock
    from store.customers import add_customer
    from store.models import Customer, PortalLogin
    from store.passwords import hash_password

    rnary = add_customer(name="Rn Ary", primary_email="rnary@example.com", actor=AGENT).reference
    set_username(rnary, "rnary", expected_version=None, actor=AGENT)
    assert username_key("mary") == username_key("rnary")
    mary = add_customer(name="Mary Lou", primary_email="mary@example.com", actor=AGENT).reference
    # What the migration leaves for the newer login: its previous key, 'mary'.
    PortalLogin.create(customer=Customer.get(Customer.reference == mary).id, username="mary", username_key="mary",
                       password_hash=hash_password(PASSWORD), password_set_at=clock.now(), created_at=clock.now())

    assert authenticate("mary", PASSWORD, address="198.51.100.9").reference == mary
    reset = live_link(send_portal_email(mary, actor=AGENT).outbox_id)
    complete_link(open_link(reset.rsplit("/", 1)[1], LinkPurpose.reset), username=None,
                  password="copper lantern drifts northward")
    assert column("portal_login", "username_key", "username = ?", ("mary",)) == ["mary"]
    assert authenticate("mary", "copper lantern drifts northward", address="198.51.100.9").reference == mary
