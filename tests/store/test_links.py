"""Rule 4-6: one-time, hashed, expiring setup and reset links, and what the customer does with them."""
import threading
from datetime import timedelta

import pytest

from store import db
from store.activity import list_activity
from store.customers import add_customer
from store.errors import FormExpired, LinkUnusable, UsernameTaken, WeakPassword
from store.links import GRANT_MINUTES
from store.credentials import complete_link, open_link
from store.panel import delete_username, send_portal_email, set_username
from store.signin import authenticate
from store.records import portal_view
from store.settings import update_setting
from store.values import LinkPurpose, PortalState

from .conftest import AGENT, column, count
from tests.links import live_token

GOOD_PASSWORD = "violet tractor sings at dawn"


def _send(reference: str) -> str:
    """Queue the PORTAL email and return the token its link carries."""
    queued = send_portal_email(reference, actor=AGENT)
    return live_token(queued.outbox_id)


class TestOneTimeLinks:
    def test_the_first_open_uses_the_link_and_a_second_open_is_refused(self, customer):
        """Rule 4: opened again, later or tomorrow, the link no longer gives the setup page."""
        set_username(customer, "ada", expected_version=1, actor=AGENT)
        token = _send(customer)
        grant = open_link(token, LinkPurpose.setup)
        assert grant.consumed and grant.username == "ada"  # the form is pre-filled
        with pytest.raises(LinkUnusable) as caught:
            open_link(token, LinkPurpose.setup)
        assert caught.value.message == "This link has already been used or has expired."

    def test_the_database_keeps_only_the_hash_of_the_token(self, customer):
        token = _send(customer)
        hashes = column("portal_link", "token_hash")
        assert len(hashes) == 1 and token not in hashes[0] and len(hashes[0]) == 64

    def test_an_expired_link_is_refused(self, customer, fixed_clock):
        """Rule 6: setup links live setup_link_hours (72 by default)."""
        token = _send(customer)
        fixed_clock.advance(timedelta(hours=72, seconds=1))
        with pytest.raises(LinkUnusable):
            open_link(token, LinkPurpose.setup)

    def test_a_link_just_before_expiry_still_works(self, customer, fixed_clock):
        token = _send(customer)
        fixed_clock.advance(timedelta(hours=71, minutes=59))
        assert open_link(token, LinkPurpose.setup).customer_reference == customer

    def test_a_newer_link_revokes_the_older_unused_one(self, customer):
        """Rule 6: sending a new link of one kind revokes the older unused ones of that kind."""
        old = _send(customer)
        new = _send(customer)
        with pytest.raises(LinkUnusable):
            open_link(old, LinkPurpose.setup)
        assert open_link(new, LinkPurpose.setup).customer_reference == customer

    @pytest.mark.parametrize("change", ["update", "delete"])
    def test_changing_or_deleting_the_username_revokes_every_open_link(self, customer, change):
        set_username(customer, "ada", expected_version=1, actor=AGENT)
        token = _send(customer)
        version = portal_view(customer).version
        if change == "update":
            set_username(customer, "countess", expected_version=version, actor=AGENT)
        else:
            delete_username(customer, expected_version=version, actor=AGENT)
        with pytest.raises(LinkUnusable):
            open_link(token, LinkPurpose.setup)

    @pytest.mark.parametrize("token", ["", "x", "not-a-token", "A" * 43 + "=", "../" * 15])
    def test_malformed_tokens_are_refused_the_same_way(self, customer, token):
        with pytest.raises(LinkUnusable) as caught:
            open_link(token, LinkPurpose.setup)
        assert caught.value.message == "This link has already been used or has expired."

    def test_a_setup_token_does_not_open_the_reset_page(self, customer):
        token = _send(customer)
        with pytest.raises(LinkUnusable):
            open_link(token, LinkPurpose.reset)

    def test_two_opens_at_the_same_instant_use_the_link_once(self, customer):
        """Rule 6: using a link is atomic; of two simultaneous clicks exactly one wins."""
        token = _send(customer)
        barrier = threading.Barrier(2)
        results: list[str] = []

        def click() -> None:
            barrier.wait()
            try:
                open_link(token, LinkPurpose.setup)
                results.append("grant")
            except LinkUnusable:
                results.append("refused")
            finally:
                db.close()

        threads = [threading.Thread(target=click) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == ["grant", "refused"]
        assert count("portal_link", "used_at IS NOT NULL") == 1


class TestCompletingSetup:
    def test_setup_sets_username_and_password_and_revokes_every_open_link(self, customer):
        """Setting a password revokes every open link (rule 6) and makes the login ACTIVE."""
        token = _send(customer)
        grant = open_link(token, LinkPurpose.setup)
        signed_in = complete_link(grant, username="Ada.L", password=GOOD_PASSWORD)
        assert signed_in.username == "Ada.L"
        assert portal_view(customer).state is PortalState.active
        assert authenticate("ada.l", GOOD_PASSWORD).reference == customer
        assert count("portal_link", "used_at IS NULL AND revoked_at IS NULL") == 0
        assert GOOD_PASSWORD not in str(column("portal_login", "password_hash"))
        actions = [e.action for e in list_activity(customer)][:3]
        assert actions == ["password set", "username set", "setup link opened"]

    def test_taken_username_keeps_the_grant_for_another_try(self, customer):
        """The portal prompts when the chosen username is in use; the customer picks another."""
        other = add_customer(name="Other", primary_email="o@x.com", actor=AGENT).reference
        set_username(other, "ada", expected_version=1, actor=AGENT)
        grant = open_link(_send(customer), LinkPurpose.setup)
        with pytest.raises(UsernameTaken) as caught:
            complete_link(grant, username="ADA", password=GOOD_PASSWORD)
        assert caught.value.message == "That username is already in use."
        assert portal_view(customer).state is PortalState.not_set_up
        complete_link(grant, username="ada2", password=GOOD_PASSWORD)
        assert portal_view(customer).state is PortalState.active

    def test_weak_password_is_refused_and_nothing_is_written(self, customer):
        grant = open_link(_send(customer), LinkPurpose.setup)
        version = portal_view(customer).version
        with pytest.raises(WeakPassword):
            complete_link(grant, username="ada", password="password123")
        assert portal_view(customer).version == version and count("portal_login") == 0

    def test_the_form_expires_thirty_minutes_after_the_link_was_opened(self, customer, fixed_clock):
        grant = open_link(_send(customer), LinkPurpose.setup)
        fixed_clock.advance(timedelta(minutes=GRANT_MINUTES, seconds=1))
        with pytest.raises(FormExpired):  # its own type: the portal says "the page closed", not "used"
            complete_link(grant, username="ada", password=GOOD_PASSWORD)
        assert count("portal_login") == 0

    @pytest.mark.parametrize("change", ["update", "delete"])
    def test_a_setup_form_left_open_dies_when_the_agent_changes_the_username(self, customer, change):
        """The billing contact changed: the old contact's half-done setup must not finish."""
        set_username(customer, "ada", expected_version=1, actor=AGENT)
        grant = open_link(_send(customer), LinkPurpose.setup)
        version = portal_view(customer).version
        if change == "update":
            set_username(customer, "new.contact", expected_version=version, actor=AGENT)
        else:
            delete_username(customer, expected_version=version, actor=AGENT)
        with pytest.raises(LinkUnusable) as refused:
            complete_link(grant, username="ada", password=GOOD_PASSWORD)
        assert not isinstance(refused.value, FormExpired)  # the link is dead, not the page left open
        assert portal_view(customer).password_set_at is None

    def test_reset_link_sets_a_new_password_and_keeps_the_username(self, customer):
        grant = open_link(_send(customer), LinkPurpose.setup)
        assert grant.asks_username
        complete_link(grant, username="ada", password=GOOD_PASSWORD)
        token = _send(customer)  # ACTIVE now: the Password Reset email
        grant = open_link(token, LinkPurpose.reset)
        assert not grant.asks_username  # the form shows the username, read-only
        complete_link(grant, username="ignored-for-reset", password="another long phrase here")
        assert authenticate("ada", "another long phrase here").username == "ada"
        from store.errors import InvalidLogin
        with pytest.raises(InvalidLogin):
            authenticate("ada", GOOD_PASSWORD)

    def test_a_reset_link_of_a_customer_without_username_asks_for_one(self, customer, switches_on):
        """The twin: Create Credential sends a reset email to a customer who was never set up;
        its form must ask for a username, and the setup finishes with the one chosen."""
        from store.prompts import request_password_reset

        request_password_reset("ada@engines.example", prompt="Create Credential")
        token = live_token(column("outbox_email", "id")[-1])
        grant = open_link(token, LinkPurpose.reset)
        assert grant.username is None and grant.asks_username
        complete_link(grant, username="ada.chosen", password=GOOD_PASSWORD)
        assert authenticate("ada.chosen", GOOD_PASSWORD).username == "ada.chosen"

    def test_submit_mode_uses_the_link_when_the_form_is_sent(self, customer):
        """link_use=submit: opening (e.g. by a mail filter) does not use the link up; submitting does."""
        update_setting("link_use", "submit", actor=AGENT)
        token = _send(customer)
        first = open_link(token, LinkPurpose.setup)
        second = open_link(token, LinkPurpose.setup)  # a mail filter pre-opened it
        assert not first.consumed
        complete_link(second, username="ada", password=GOOD_PASSWORD)
        with pytest.raises(LinkUnusable):
            complete_link(first, username="ada", password=GOOD_PASSWORD)
        with pytest.raises(LinkUnusable):
            open_link(token, LinkPurpose.setup)


class TestSignIn:
    def test_wrong_password_and_unknown_user_get_the_same_message(self, customer):
        grant = open_link(_send(customer), LinkPurpose.setup)
        complete_link(grant, username="ada", password=GOOD_PASSWORD)
        from store.errors import InvalidLogin
        messages = []
        for username, password in (("ada", "wrong password here"), ("nobody", GOOD_PASSWORD), ("", "")):
            with pytest.raises(InvalidLogin) as caught:
                authenticate(username, password)
            messages.append(caught.value.message)
        assert set(messages) == {"That username and password do not match."}

    def test_an_awaiting_login_without_password_cannot_sign_in(self, customer):
        from store.errors import InvalidLogin
        set_username(customer, "ada", expected_version=1, actor=AGENT)
        with pytest.raises(InvalidLogin):
            authenticate("ada", "")


def test_a_megabyte_password_is_refused_at_sign_in_without_hashing_it(customer):
    from store.errors import InvalidLogin
    grant = open_link(_send(customer), LinkPurpose.setup)
    complete_link(grant, username="ada", password=GOOD_PASSWORD)
    with pytest.raises(InvalidLogin):
        authenticate("ada", GOOD_PASSWORD + "x" * 1_000_000)


class TestFormTries:
    def test_sendings_at_once_count_no_more_than_the_form_s_tries(self, customer):
        """One conditional UPDATE per sending: 30 at once, exactly FORM_TRIES counted."""
        from concurrent.futures import ThreadPoolExecutor

        from store.links import FORM_TRIES, take_form_try

        _send(customer)
        link_id = column("portal_link", "id")[-1]
        start = threading.Barrier(30)

        def send(_: int) -> bool:
            start.wait(timeout=30)
            try:
                return take_form_try(link_id)
            finally:
                db.close()

        with ThreadPoolExecutor(max_workers=30) as pool:
            counted = list(pool.map(send, range(30)))
        assert counted.count(True) == FORM_TRIES
        assert column("portal_link", "form_tries")[-1] == FORM_TRIES

    def test_the_eleventh_sending_is_refused_before_anything_else(self, customer):
        from store.credentials import check_grant
        from store.errors import FormTriesUsedUp, WeakPassword

        grant = open_link(_send(customer), LinkPurpose.setup)
        for _ in range(10):
            with pytest.raises(WeakPassword):
                complete_link(grant, username="ada", password="password123")
        with pytest.raises(FormTriesUsedUp) as closed:
            complete_link(grant, username="ada", password=GOOD_PASSWORD)
        assert "sent 10 times, so it closed" in closed.value.message
        with pytest.raises(FormTriesUsedUp):
            check_grant(grant)
