"""Account settings, the outbox's retry, and the activity log."""
import pytest

from store import db
from store.activity import list_activity
from store.errors import ActionNotAllowed, InvalidSetting, OutboxEmailNotFound
from store.outbox import list_outbox, pending_count, retry_email
from store.panel import send_portal_email
from store.settings import get_settings, update_setting
from store.values import OutboxStatus

from .conftest import AGENT, column, count
from tests.links import live_link


class TestSettings:
    def test_defaults_follow_the_source_document(self, store_db):
        """A new account has both Email Notifications off until someone enables them."""
        settings = get_settings()
        assert not settings.credential_create_email and not settings.password_reset_email
        assert settings.link_use == "open"

    @pytest.mark.parametrize("key, text, expected", [
        ("credential_create_email", "on", True),
        ("password_reset_email", "YES", True),
        ("setup_link_hours", "48", 48),
        ("portal_url", "https://billing.acme.example/portal/", "https://billing.acme.example/portal"),
        ("link_use", "submit", "submit"),
    ])
    def test_each_setting_is_parsed_and_logged(self, store_db, key, text, expected):
        settings = update_setting(key, text, actor=AGENT)
        assert getattr(settings, key) == expected
        entry = list_activity(None)[0]
        assert (entry.action, entry.detail, entry.actor) == ("setting changed", key, AGENT)

    def test_sender_takes_name_and_address(self, store_db):
        settings = update_setting("sender", "Acme Billing <billing@acme.example>", actor=AGENT)
        assert (settings.sender_name, settings.sender_address) == ("Acme Billing", "billing@acme.example")

    @pytest.mark.parametrize("key, text, words", [
        ("credential_create_email", "maybe", "on or off"),
        ("setup_link_hours", "0", "from 1 to 720"),
        ("setup_link_hours", "-3", "from 1 to 720"),
        ("reset_link_hours", "lots", "whole number"),
        ("portal_url", "ftp://x.example", "https://"),
        ("portal_url", "https://x.example/?a=1", "query"),
        ("sender", "Billing <not an address>", "valid address"),
        ("sender", "Evil\r\nBcc: x@y.com <a@x.com>", "control characters"),
        ("link_use", "sometimes", "open"),
        ("colour", "blue", "Unknown setting"),
    ])
    def test_bad_values_are_refused_and_nothing_changes(self, store_db, key, text, words):
        before = get_settings()
        with pytest.raises(InvalidSetting) as caught:
            update_setting(key, text, actor=AGENT)
        assert words in caught.value.message and caught.value.field == key
        assert get_settings() == before


class TestOutbox:
    def _fail(self, outbox_id: int) -> None:
        """What the dispatcher writes when the server refused the email for good."""
        placeholder = "%s" if db.is_postgres() else "?"
        db.database.execute_sql(
            f"UPDATE outbox_email SET status = 'failed', last_error = '550 mailbox unavailable' WHERE id = {placeholder}",
            (outbox_id,))

    def test_a_failed_email_is_queued_again_with_a_fresh_link(self, customer):
        """Rule 10: a failed email stays visible and can be sent again."""
        queued = send_portal_email(customer, actor=AGENT)
        old_link = column("outbox_email", "link_id")[0]
        self._fail(queued.outbox_id)
        assert [e.status for e in list_outbox(status=OutboxStatus.failed)] == [OutboxStatus.failed]
        email = retry_email(queued.outbox_id, actor=AGENT)
        assert email.status is OutboxStatus.queued and email.attempts == 0
        assert column("outbox_email", "link_id")[0] != old_link
        assert column("portal_link", "revoked_at IS NOT NULL", "id = ?", (old_link,)) in ([1], [True])
        assert count("portal_link", "revoked_at IS NULL") == 1
        assert pending_count() == 1
        assert "550 mailbox unavailable" in list_activity(customer)[0].detail

    def test_only_a_failed_email_can_be_retried(self, customer):
        queued = send_portal_email(customer, actor=AGENT)
        with pytest.raises(ActionNotAllowed):
            retry_email(queued.outbox_id, actor=AGENT)
        with pytest.raises(OutboxEmailNotFound):
            retry_email(9999, actor=AGENT)

    def test_a_failed_email_overtaken_by_a_newer_one_is_not_retried(self, customer):
        """Retrying would mint a link that revokes the newer email's link the customer already has."""
        first = send_portal_email(customer, actor=AGENT)
        self._fail(first.outbox_id)
        second = send_portal_email(customer, actor=AGENT)
        live_links = column("portal_link", "id", "revoked_at IS NULL")
        with pytest.raises(ActionNotAllowed, match=f"newer Customer Credential Create email \\(email {second.outbox_id}\\)"):
            retry_email(first.outbox_id, actor=AGENT)
        assert column("portal_link", "id", "revoked_at IS NULL") == live_links
        assert column("outbox_email", "status", "id = ?", (first.outbox_id,)) == ["failed"]

    def test_a_failed_setup_email_is_not_retried_once_the_customer_is_active(self, customer):
        """A setup link for a login that already has a password no longer fits; PORTAL offers the reset."""
        from store.credentials import complete_link, open_link
        from store.values import LinkPurpose

        queued = send_portal_email(customer, actor=AGENT)
        self._fail(queued.outbox_id)
        retry_email(queued.outbox_id, actor=AGENT)
        url = live_link(queued.outbox_id)
        grant = open_link(url.rsplit("/", 1)[1], LinkPurpose.setup)
        complete_link(grant, username="ada.l", password="correct horse battery staple 42")
        self._fail(queued.outbox_id)
        with pytest.raises(ActionNotAllowed, match="Use Send Reset Password Email on PORTAL"):
            retry_email(queued.outbox_id, actor=AGENT)
        assert column("outbox_email", "status", "id = ?", (queued.outbox_id,)) == ["failed"]

    def test_a_retry_goes_to_the_addresses_the_field_holds_now(self, customer):
        """The billing contact changed after the email failed: the fresh link goes to the new one only."""
        from store.customers import update_customer

        queued = send_portal_email(customer, actor=AGENT)
        self._fail(queued.outbox_id)
        update_customer(customer, expected_version=None, actor=AGENT, primary_email="new.contact@engines.example")
        email = retry_email(queued.outbox_id, actor=AGENT)
        assert email.to == ("new.contact@engines.example",)
        assert "to new.contact@engines.example" in list_activity(customer)[0].detail

    def test_a_retry_with_an_emptied_field_is_refused_and_nothing_changes(self, customer):
        """Rule 2: an empty Primary Email Address disables the email actions, retry included."""
        from store.customers import update_customer
        from store.errors import NoPrimaryEmail

        queued = send_portal_email(customer, actor=AGENT)
        self._fail(queued.outbox_id)
        update_customer(customer, expected_version=None, actor=AGENT, primary_email="")
        links = count("portal_link")
        with pytest.raises(NoPrimaryEmail, match="field is empty"):
            retry_email(queued.outbox_id, actor=AGENT)
        assert column("outbox_email", "status", "id = ?", (queued.outbox_id,)) == ["failed"]
        assert count("portal_link") == links

    def test_a_failed_reset_email_is_not_retried_after_the_username_was_deleted(self, customer):
        """A reset link on a login-less account lets its holder choose a username: PORTAL offers
        Send Create Credentials Email instead."""
        from store.credentials import complete_link, open_link
        from store.panel import delete_username, set_username
        from store.values import LinkPurpose

        set_username(customer, "ada.l", expected_version=None, actor=AGENT)
        setup = send_portal_email(customer, actor=AGENT)
        url = live_link(setup.outbox_id)
        complete_link(open_link(url.rsplit("/", 1)[1], LinkPurpose.setup), username=None,
                      password="correct horse battery staple 42")
        reset = send_portal_email(customer, actor=AGENT)
        self._fail(reset.outbox_id)
        delete_username(customer, expected_version=None, actor=AGENT)
        with pytest.raises(ActionNotAllowed, match="Use Send Create Credentials Email on PORTAL"):
            retry_email(reset.outbox_id, actor=AGENT)
        assert column("outbox_email", "status", "id = ?", (reset.outbox_id,)) == ["failed"]

    def test_list_shows_every_customer_or_one(self, customer):
        from store.customers import add_customer
        other = add_customer(name="Other", primary_email="o@x.com", actor=AGENT).reference
        send_portal_email(customer, actor=AGENT)
        send_portal_email(other, actor=AGENT)
        assert len(list_outbox()) == 2
        assert [e.customer_reference for e in list_outbox(reference=other)] == [other]
        assert list_outbox(reference=other)[0].to == ("o@x.com",)


class TestActivity:
    def test_every_change_and_email_is_recorded_with_who_what_and_from_to(self, customer):
        """Rule 8: the log tells the whole story, newest first."""
        from store.panel import delete_username, set_username
        v = set_username(customer, "ada", expected_version=1, actor="alice").version
        v = set_username(customer, "countess", expected_version=v, actor="bob").version
        send_portal_email(customer, actor="bob")
        delete_username(customer, expected_version=v, actor="carol")
        log = [(e.actor, e.action, e.old_value, e.new_value) for e in list_activity(customer)]
        assert log == [
            ("carol", "username deleted", "countess", None),
            ("bob", "email queued", None, None),
            ("bob", "username changed", "ada", "countess"),
            ("alice", "username set", None, "ada"),
            ("system", "email not sent", None, None),
            ("alice", "customer created", None, None),
        ]


def test_the_activity_log_names_its_customer_whatever_case_the_reference_is_typed_in(customer):
    """Each event says whose it is, and c000001 finds C000001's events as the console and CLI do."""
    from store.activity import list_activity

    events = list_activity(customer.lower())
    assert events and {e.customer_reference for e in events} == {customer}
    assert list_activity("C999999") == ()


def test_a_setting_saved_elsewhere_refuses_an_edit_based_on_the_old_value(store_db):
    """Rule 9 for settings: an edit made from 72 after someone saved 24 is refused; from 24 it saves."""
    from store.errors import StaleSetting
    from store.settings import get_settings, update_setting

    update_setting("setup_link_hours", "24", actor="bob")
    with pytest.raises(StaleSetting) as refused:
        update_setting("setup_link_hours", "48", actor=AGENT, expected="72")
    assert refused.value.field == "setup_link_hours" and get_settings().setup_link_hours == 24
    assert update_setting("setup_link_hours", "48", actor=AGENT, expected="24").setup_link_hours == 48
