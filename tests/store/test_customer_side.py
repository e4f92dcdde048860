"""What the customer sees, read for the agent, on SQLite and PostgreSQL: the newest link through
its life (queued, sent, opened, used, expired, replaced, failed), sign-ins and lockouts, Unlock
and Sign out everywhere with their refusals, the merged history, and the email preview."""
from __future__ import annotations

from datetime import timedelta

import pytest

from store import customer_side, sessions
from store.credentials import complete_link, open_link
from store.dispatch import Failed, Sent, claim_due, mark_failed, mark_sent
from store.errors import ActionNotAllowed, InvalidLogin, NoPrimaryEmail
from store.panel import send_portal_email, set_username
from store.customers import update_customer
from store.signin import authenticate, begin_sign_in, finish_sign_in
from store.portal_values import LinkPhase, SessionEnd
from store.values import EmailKind, LinkPurpose

from .conftest import AGENT, count

PASSWORD = "violet tractor sings at dawn"
CLAIMER = "test-mailer"


def deliver() -> str:
    """Send the queued email as the mailer does; returns the working link the customer gets."""
    claim = claim_due(CLAIMER, limit=10, lease_seconds=300)
    (email,) = claim.emails
    assert mark_sent(Sent(email.id, message_id="<m@test>", delivered_via="test"), CLAIMER)
    return email.link_url


def phase(reference: str):
    side = customer_side.customer_side(reference)
    return side.link.phase(side.read_at), side.link_text(side.read_at)


def wrong(times: int, address: str = "198.51.100.7") -> None:
    for _ in range(times):
        with pytest.raises(InvalidLogin):
            authenticate("ada", "not the password", address=address)


@pytest.fixture
def ada(customer) -> str:
    """Ada's login is active: username 'ada', PASSWORD, set with a delivered setup link."""
    set_username(customer, "ada", expected_version=None, actor=AGENT)
    send_portal_email(customer, actor=AGENT)
    url = deliver()
    complete_link(open_link(url.rsplit("/", 1)[1], LinkPurpose.setup), username=None, password=PASSWORD)
    return customer


class TestLinkStatus:
    def test_no_link_yet(self, customer) -> None:
        side = customer_side.customer_side(customer)
        assert side.link is None and side.link_text(side.read_at) == "No setup or reset link sent yet"

    def test_a_setup_link_through_its_whole_life(self, customer, fixed_clock) -> None:
        set_username(customer, "ada", expected_version=None, actor=AGENT)
        send_portal_email(customer, actor=AGENT)
        assert phase(customer) == (LinkPhase.queued, "Setup link queued just now for 2 addresses, not sent yet, "
                                                     "expires in 72 h")
        fixed_clock.advance(timedelta(minutes=1))
        url = deliver()
        fixed_clock.advance(timedelta(hours=2))
        assert phase(customer) == (LinkPhase.sent, "Setup link sent 2 h ago to 2 addresses, not opened yet, "
                                                   "expires in 70 h")
        grant = open_link(url.rsplit("/", 1)[1], LinkPurpose.setup)
        fixed_clock.advance(timedelta(minutes=5))
        assert phase(customer) == (LinkPhase.opened, "Setup link sent 2 h 5 min ago to 2 addresses, opened 5 min ago, "
                                                     "no password set yet")
        complete_link(grant, username=None, password=PASSWORD)
        fixed_clock.advance(timedelta(hours=1))
        assert phase(customer) == (LinkPhase.used, "Setup link sent 3 h 5 min ago to 2 addresses, used 1 h ago: "
                                                   "password set")

    def test_an_unopened_link_expires(self, customer, fixed_clock) -> None:
        send_portal_email(customer, actor=AGENT)
        deliver()
        fixed_clock.advance(timedelta(hours=73))
        assert phase(customer) == (LinkPhase.expired, "Setup link sent 73 h ago to 2 addresses, never opened, "
                                                      "expired 1 h ago")

    def test_the_newest_link_is_shown_and_a_new_address_stops_it(self, customer, fixed_clock) -> None:
        send_portal_email(customer, actor=AGENT)
        fixed_clock.advance(timedelta(minutes=10))
        send_portal_email(customer, actor=AGENT)
        assert customer_side.customer_side(customer).link.created_at == fixed_clock.now()
        update_customer(customer, expected_version=None, actor=AGENT, primary_email="ada@new.example")
        got, text = phase(customer)
        assert got is LinkPhase.revoked and text.endswith("stopped just now: Primary Email Address changed")

    def test_a_failed_email_says_why(self, customer) -> None:
        send_portal_email(customer, actor=AGENT)
        (email,) = claim_due(CLAIMER, limit=10, lease_seconds=300).emails
        assert mark_failed(Failed(email.id, error="550 5.1.1 mailbox unavailable"), CLAIMER)
        assert phase(customer) == (LinkPhase.failed, "Setup link not delivered to 2 addresses: "
                                                     "550 5.1.1 mailbox unavailable")


class TestSignIns:
    def test_last_sign_in_from_where_and_failures_since(self, ada, fixed_clock) -> None:
        authenticate("ada", PASSWORD, address="203.0.113.20")
        fixed_clock.advance(timedelta(minutes=30))
        wrong(2)
        side = customer_side.customer_side(ada)
        assert side.signin.sign_in_text(side.read_at) == (
            "Last signed in 30 min ago from 203.0.113.20, 2 wrong passwords since")
        assert side.signin.lock_text(side.read_at) is None

    def test_locked_until_and_unlock_clears_it(self, ada, fixed_clock) -> None:
        wrong(5)
        side = customer_side.customer_side(ada)
        assert side.signin.blocked_until(side.read_at) == fixed_clock.now() + timedelta(minutes=1)
        assert side.signin.lock_text(side.read_at).startswith("Locked until 09:01 UTC")
        assert customer_side.unlock_customer(ada, actor=AGENT) == 5
        assert customer_side.customer_side(ada).signin.blocked_until(fixed_clock.now()) is None
        assert authenticate("ada", PASSWORD, address="198.51.100.7").username == "ada"
        assert count("activity_event", "action = 'sign-in unlocked' AND actor = ?", (AGENT,)) == 1

    def test_unlock_is_refused_when_nothing_is_locked(self, ada) -> None:
        wrong(2)
        with pytest.raises(ActionNotAllowed, match="Nothing to unlock"):
            customer_side.unlock_customer(ada, actor=AGENT)
        assert count("activity_event", "action = 'sign-in unlocked'") == 0

    def test_a_lock_ends_by_itself_when_its_wait_is_over(self, ada, fixed_clock) -> None:
        wrong(5)
        fixed_clock.advance(timedelta(minutes=1))
        side = customer_side.customer_side(ada)
        assert side.signin.lock_text(side.read_at) is None

    def test_sign_out_everywhere_counts_and_refuses_when_none_is_open(self, ada) -> None:
        first = finish_sign_in(begin_sign_in("ada", "203.0.113.20"), PASSWORD).session_id
        finish_sign_in(begin_sign_in("ada", "198.51.100.7"), PASSWORD)
        assert customer_side.customer_side(ada).signin.open_sessions == 2
        assert customer_side.sign_out_everywhere(ada, actor=AGENT) == 2
        assert sessions.check_session(first).ended is SessionEnd.ended_by_agent
        with pytest.raises(ActionNotAllowed, match="no open portal session"):
            customer_side.sign_out_everywhere(ada, actor=AGENT)

    def test_the_dashboard_marker_moves_with_every_sign_in_event(self, ada) -> None:
        """A wrong password writes no activity event; the dashboard's one poll query still sees it."""
        from store.changes import dashboard_marker

        before = dashboard_marker(ada)
        wrong(1)
        after = dashboard_marker(ada.lower())
        assert after != before
        assert dashboard_marker(ada) == after


class TestHistory:
    def test_sign_ins_links_and_passwords_newest_first(self, customer, fixed_clock) -> None:
        set_username(customer, "ada", expected_version=None, actor=AGENT)
        send_portal_email(customer, actor=AGENT)
        url = deliver()
        fixed_clock.advance(timedelta(minutes=1))
        grant = open_link(url.rsplit("/", 1)[1], LinkPurpose.setup)
        fixed_clock.advance(timedelta(minutes=1))
        complete_link(grant, username=None, password=PASSWORD, address="203.0.113.20")
        fixed_clock.advance(timedelta(minutes=1))
        wrong(5)
        history = customer_side.sign_in_history(customer)
        assert [r.event for r in history] == ["locked", "wrong password", "wrong password", "wrong password",
                                              "wrong password", "wrong password", "password set", "signed in",
                                              "link opened"]
        assert history[1].address == "198.51.100.7"

    def test_at_most_fifty(self, ada, fixed_clock) -> None:
        fixed_clock.advance(timedelta(seconds=1))
        for n in range(60):
            wrong(1, address=f"198.51.100.{n}")
        history = customer_side.sign_in_history(ada)
        assert len(history) == 50 and {r.event for r in history} == {"wrong password"}
        assert history[0].address == "198.51.100.59"


class TestPreview:
    def test_the_exact_words_with_a_placeholder_for_the_link(self, customer, fixed_clock) -> None:
        preview = customer_side.preview_email(customer)
        assert preview.kind is EmailKind.credential_create
        assert preview.to == ("ada@engines.example", "billing@engines.example")
        assert preview.subject.endswith(": set up your billing portal login")
        assert preview.text.startswith("Hello Ada Lovelace,")
        assert preview.link_placeholder in preview.text
        assert preview.link_placeholder.endswith("/setup/<link made when the email is sent>")
        assert f"{fixed_clock.now() + timedelta(hours=72):%d %B %Y, %H:%M} UTC" in preview.text
        assert count("outbox_email") == 0 and count("portal_link") == 0  # a preview sends nothing

    def test_an_active_customer_previews_the_reset_email(self, ada) -> None:
        assert customer_side.preview_email(ada).kind is EmailKind.password_reset

    def test_refused_like_the_send_without_a_valid_address(self, customer) -> None:
        update_customer(customer, expected_version=None, actor=AGENT, primary_email="")
        with pytest.raises(NoPrimaryEmail):
            customer_side.preview_email(customer)
