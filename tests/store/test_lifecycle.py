"""The credential lifecycle table of docs/design.md, state by state, on SQLite and PostgreSQL."""
import pytest

from store.activity import list_activity
from store.customers import add_customer, get_customer
from store.errors import ActionNotAllowed, NoPrimaryEmail, StaleEdit, UsernameTaken
from store.credentials import complete_link, open_link
from store.panel import delete_username, send_portal_email, set_username
from store.records import portal_view
from store.settings import update_setting
from store.values import EmailKind, LinkPurpose, PortalState

from .conftest import AGENT, column, count
from tests.links import live_token
from tests.links import live_link


def _link_token(outbox_id: int) -> str:
    return live_token(outbox_id)


def _activate(reference: str, username: str | None = None) -> None:
    """The customer finishes setup through the Credential Create email's link."""
    queued = send_portal_email(reference, actor=AGENT)
    grant = open_link(_link_token(queued.outbox_id), LinkPurpose.setup)
    complete_link(grant, username=username, password="violet tractor sings at dawn")


class TestStates:
    def test_new_customer_is_not_set_up_and_offers_create_credentials(self, customer):
        """NOT SET UP: empty username, no password, the one action is Send Create Credentials Email."""
        view = portal_view(customer)
        assert view.state is PortalState.not_set_up
        assert view.username is None and view.password_set_at is None
        assert view.email_action is EmailKind.credential_create
        assert view.email_action_label == "Send Create Credentials Email"
        assert not view.can_delete

    def test_update_sets_username_and_awaits_customer(self, customer):
        """The agent sets a username: AWAITING CUSTOMER, still Send Create Credentials Email."""
        view = set_username(customer, "ada.lovelace", expected_version=1, actor=AGENT)
        assert view.state is PortalState.awaiting_customer
        assert view.username == "ada.lovelace"
        assert view.email_action is EmailKind.credential_create
        assert view.state_text == "Awaiting customer setup"

    def test_awaiting_username_can_be_changed_or_cleared(self, customer):
        """AWAITING CUSTOMER: change it (Update) or clear it (Delete)."""
        view = set_username(customer, "ada.lovelace", expected_version=1, actor=AGENT)
        view = set_username(customer, "countess", expected_version=view.version, actor=AGENT)
        assert view.username == "countess" and view.state is PortalState.awaiting_customer
        view = delete_username(customer, expected_version=view.version, actor=AGENT)
        assert view.state is PortalState.not_set_up and view.username is None

    def test_customer_setup_makes_it_active_with_reset_as_the_only_email(self, customer):
        """ACTIVE: username and password set; the one action is Send Reset Password Email."""
        set_username(customer, "ada.lovelace", expected_version=1, actor=AGENT)
        _activate(customer)
        view = portal_view(customer)
        assert view.state is PortalState.active
        assert view.username == "ada.lovelace"  # pre-filled by the agent, kept
        assert view.email_action is EmailKind.password_reset
        assert view.email_action_label == "Send Reset Password Email"
        assert view.state_text == "Active since 2026-11-24"

    def test_delete_of_an_active_login_removes_the_password_and_offers_create_again(self, customer):
        """Delete in ACTIVE: state NOT SET UP, the password goes, the action becomes Create Credentials."""
        _activate(customer, username="ada.lovelace")
        view = delete_username(customer, expected_version=portal_view(customer).version, actor=AGENT)
        assert view.state is PortalState.not_set_up
        assert view.email_action is EmailKind.credential_create
        assert count("portal_login") == 0  # the password hash is gone with the row
        entry = list_activity(customer)[0]
        assert (entry.action, entry.old_value, entry.new_value, entry.actor) == ("username deleted", "ada.lovelace", None, AGENT)
        assert "password removed" in entry.detail

    def test_changing_an_active_username_keeps_the_password(self, customer):
        """ACTIVE: change it (Update); the customer keeps signing in with the new name."""
        _activate(customer, username="ada.lovelace")
        view = set_username(customer, "countess.ada", expected_version=portal_view(customer).version, actor=AGENT)
        assert view.state is PortalState.active and view.username == "countess.ada"

    def test_delete_without_a_username_is_refused(self, customer):
        """Delete in NOT SET UP has nothing to delete: a clear message, nothing written."""
        with pytest.raises(ActionNotAllowed):
            delete_username(customer, expected_version=1, actor=AGENT)
        assert portal_view(customer).version == 1


class TestUsernameUniqueness:
    def test_taken_username_is_refused_case_insensitively_and_nothing_is_written(self, customer):
        """Rule 1: "ADA.Lovelace " is taken when another customer has "ada.lovelace"."""
        other = add_customer(name="Other", primary_email="o@x.com", actor=AGENT).reference
        set_username(customer, "ada.lovelace", expected_version=1, actor=AGENT)
        events = count("activity_event")
        with pytest.raises(UsernameTaken) as caught:
            set_username(other, " ADA.Lovelace ", expected_version=1, actor=AGENT)
        assert caught.value.message == "That username is already in use."
        assert portal_view(other).username is None and portal_view(other).version == 1
        assert count("activity_event") == events

    def test_full_width_lookalike_is_the_same_username(self, customer):
        """NFKC: "ａｄａ" (full-width) and "ada" are one name."""
        other = add_customer(name="Other", primary_email="o@x.com", actor=AGENT).reference
        set_username(customer, "ada", expected_version=1, actor=AGENT)
        with pytest.raises(UsernameTaken):
            set_username(other, "ＡＤＡ", expected_version=1, actor=AGENT)

    def test_the_database_itself_refuses_a_duplicate_key(self, customer):
        """The UNIQUE index enforces rule 1 even for code that skips the service layer."""
        from peewee import IntegrityError

        from store.models import Customer, PortalLogin
        from store import clock
        other = add_customer(name="Other", primary_email="o@x.com", actor=AGENT).reference
        set_username(customer, "ada", expected_version=1, actor=AGENT)
        with pytest.raises(IntegrityError):
            PortalLogin.create(customer=Customer.get(reference=other).id, username="ADA",
                               username_key="ada", created_at=clock.now())

    def test_setting_the_same_username_again_changes_nothing(self, customer):
        view = set_username(customer, "ada", expected_version=1, actor=AGENT)
        again = set_username(customer, "ada", expected_version=view.version, actor=AGENT)
        assert again.version == view.version


class TestStaleEdits:
    def test_a_stale_update_is_refused_and_the_newer_value_kept(self, customer):
        """Rule 9: agent B's edit, made on version 1 after agent A saved, is refused."""
        set_username(customer, "from.agent.a", expected_version=1, actor="agent-a")
        with pytest.raises(StaleEdit) as caught:
            set_username(customer, "from.agent.b", expected_version=1, actor="agent-b")
        assert "changed by someone else" in caught.value.message
        assert portal_view(customer).username == "from.agent.a"

    def test_a_stale_delete_is_refused(self, customer):
        set_username(customer, "ada", expected_version=1, actor="agent-a")
        with pytest.raises(StaleEdit):
            delete_username(customer, expected_version=1, actor="agent-b")
        assert portal_view(customer).username == "ada"

    def test_a_stale_send_is_refused_because_the_action_may_have_changed(self, customer):
        """The panel's button was for the old state: nothing is queued."""
        set_username(customer, "ada", expected_version=1, actor="agent-a")
        with pytest.raises(StaleEdit):
            send_portal_email(customer, expected_version=1, actor="agent-b")
        assert count("outbox_email") == 0


class TestEmails:
    def test_new_customer_gets_credential_create_to_every_address_when_switched_on(self, switches_on):
        """Rule 3: with Credential Create on, creating a customer queues that email, in the same transaction."""
        new = add_customer(name="Grace Hopper", primary_email="grace@x.com, billing@x.com; grace@x.com",
                           actor=AGENT)
        assert new.credential_create_queued and new.queued_to == ("grace@x.com", "billing@x.com")
        assert column("outbox_email", "kind") == ["credential_create"]
        assert column("outbox_email", "to_addresses") == ['["grace@x.com", "billing@x.com"]']
        assert column("outbox_email", "queued_by") == ["system"]
        assert count("portal_link", "purpose = 'setup'") == 1

    def test_new_customer_gets_no_email_when_switched_off(self, store_db):
        new = add_customer(name="Grace Hopper", primary_email="grace@x.com", actor=AGENT)
        assert not new.credential_create_queued
        assert "switched off" in new.not_queued_reason
        assert count("outbox_email") == 0
        # Rule 8: the log says why the customer got no email.
        assert list_activity(new.reference)[0].action == "email not sent"
        assert "switched off in Settings" in list_activity(new.reference)[0].detail

    def test_new_customer_without_valid_address_gets_no_email_and_the_reason_is_logged(self, switches_on):
        new = add_customer(name="Imported", primary_email="nobody@nowhere", actor=AGENT, strict_email=False)
        assert not new.credential_create_queued and "not a valid email address" in new.not_queued_reason
        assert count("outbox_email") == 0
        assert list_activity(new.reference)[0].action == "email not sent"

    def test_explicit_send_goes_out_even_when_the_type_is_switched_off(self, customer):
        """Rule 3: an agent's explicit send always goes out; the panel says the type is off."""
        view = portal_view(customer)
        assert not view.email_type_enabled and "switched off in Settings" in view.email_type_note
        queued = send_portal_email(customer, expected_version=view.version, actor=AGENT)
        assert queued.to == ("ada@engines.example", "billing@engines.example")
        assert count("outbox_email", "status = 'queued'") == 1
        assert list_activity(customer)[0].action == "email queued"

    def test_send_without_a_valid_primary_email_is_refused_with_the_reason(self, store_db):
        """Rule 2: an empty or invalid field disables the email action; nothing is queued."""
        reference = add_customer(name="No Mail", primary_email="", actor=AGENT).reference
        view = portal_view(reference)
        assert not view.can_send and view.email_blocked_reason == "The Primary Email Address field is empty."
        with pytest.raises(NoPrimaryEmail):
            send_portal_email(reference, actor=AGENT)
        assert count("outbox_email") == 0 and count("portal_link") == 0

    def test_active_customer_gets_the_password_reset_email(self, customer):
        _activate(customer, username="ada")
        queued = send_portal_email(customer, actor=AGENT)
        assert queued.kind is EmailKind.password_reset
        assert live_link(queued.outbox_id).startswith("http://127.0.0.1:8080/reset/")


class TestCustomers:
    def test_name_with_line_breaks_is_refused(self, store_db):
        """Header injection through a customer's name can't even be stored."""
        from store.errors import InvalidInput
        with pytest.raises(InvalidInput) as caught:
            add_customer(name="Evil\r\nBcc: x@y.com", primary_email="a@x.com", actor=AGENT)
        assert caught.value.field == "name"
        assert count("customer") == 0

    def test_invalid_primary_email_is_refused_at_the_field(self, store_db):
        from store.errors import InvalidPrimaryEmail
        with pytest.raises(InvalidPrimaryEmail) as caught:
            add_customer(name="A", primary_email="a@x.com; broken@", actor=AGENT)
        assert caught.value.field == "primary_email" and "'broken@'" in caught.value.message
        assert count("customer") == 0

    def test_duplicate_reference_is_refused(self, store_db):
        from store.errors import InvalidInput
        add_customer(name="A", primary_email="a@x.com", reference="ACME-1", actor=AGENT)
        with pytest.raises(InvalidInput) as caught:
            add_customer(name="B", primary_email="b@x.com", reference="ACME-1", actor=AGENT)
        assert caught.value.field == "reference"
        assert count("customer") == 1

    def test_edit_is_logged_from_old_to_new_and_checks_the_version(self, customer):
        from store.customers import update_customer
        update = update_customer(customer, expected_version=1, actor=AGENT, primary_email="new@engines.example")
        detail = update.detail
        assert detail.addresses == ("new@engines.example",) and detail.version == 2
        assert update.changed == ("primary_email",)
        entry = list_activity(customer)[0]
        assert (entry.action, entry.new_value) == ("primary email changed", "new@engines.example")
        with pytest.raises(StaleEdit):
            update_customer(customer, expected_version=1, actor=AGENT, name="Someone Else")
        assert get_customer(customer).name == "Ada Lovelace"

    def test_a_new_primary_email_address_stops_the_links_sent_to_the_old_one(self, customer):
        """The billing contact changed: the setup link in the old contact's mailbox no longer opens,
        the form it opened is closed, and the activity log says how many links were revoked."""
        from store.customers import update_customer
        from store.errors import LinkUnusable

        waiting = send_portal_email(customer, actor=AGENT)
        waiting_token = _link_token(waiting.outbox_id)  # delivered: the old contact holds it
        opened = send_portal_email(customer, actor=AGENT)  # the newer link; the first is replaced
        opened_token = _link_token(opened.outbox_id)
        grant = open_link(opened_token, LinkPurpose.setup)
        version = get_customer(customer).version
        update = update_customer(customer, expected_version=version, actor=AGENT,
                                 primary_email="new.contact@engines.example")
        assert update.links_revoked == 1 and update.detail.portal.addresses == ("new.contact@engines.example",)
        for token in (waiting_token, opened_token):
            with pytest.raises(LinkUnusable):
                open_link(token, LinkPurpose.setup)
        with pytest.raises(LinkUnusable):
            complete_link(grant, username="ada.l", password="violet tractor sings at dawn")
        entry = list_activity(customer)[0]
        assert (entry.action, entry.detail) == ("primary email changed", "1 open link revoked")
        assert portal_view(customer).state is PortalState.not_set_up

    def test_a_name_change_leaves_the_links_working(self, customer):
        """The twin: only a new address ends links; a corrected name or company does not."""
        from store.customers import update_customer

        queued = send_portal_email(customer, actor=AGENT)
        update = update_customer(customer, expected_version=None, actor=AGENT, name="Ada King", company="Engines Ltd")
        assert update.links_revoked == 0 and set(update.changed) == {"name", "company"}
        assert open_link(_link_token(queued.outbox_id), LinkPurpose.setup).customer_reference == customer

    def test_a_refused_edit_writes_nothing(self, customer):
        """A bad address next to a good name: nothing saved, the version unchanged, nothing logged."""
        from store.customers import update_customer
        from store.errors import InvalidPrimaryEmail

        before = (get_customer(customer), len(list_activity(customer)))
        with pytest.raises(InvalidPrimaryEmail) as caught:
            update_customer(customer, expected_version=1, actor=AGENT, name="Ada King",
                            primary_email="barbara@substitution")
        assert caught.value.field == "primary_email"
        assert (get_customer(customer), len(list_activity(customer))) == before

    def test_a_reference_is_found_whatever_its_case(self, customer):
        """Agents type c000001 as often as C000001; both open the same customer."""
        assert get_customer(customer.lower()).reference == customer
        assert set_username(customer.lower(), "ada.l", expected_version=None, actor=AGENT).reference == customer

    def test_search_finds_by_every_field_and_filters_by_state(self, customer):
        from store.search import find_customers
        set_username(customer, "countess", expected_version=1, actor=AGENT)
        add_customer(name="Grace Hopper", primary_email="grace@navy.example", actor=AGENT)
        for text in ("lovelace", "ANALYTICAL", customer, "billing@engines", "countess", "ada countess"):
            assert [c.reference for c in find_customers(text).customers] == [customer], text
        assert [c.name for c in find_customers("", state=PortalState.not_set_up).customers] == ["Grace Hopper"]
        assert find_customers("", state=PortalState.awaiting_customer).customers[0].username == "countess"
        assert find_customers("nobody-like-this").customers == ()

    def test_search_pages_never_load_everything(self, store_db):
        from store.search import find_customers
        for i in range(7):
            add_customer(name=f"Customer {i}", primary_email=f"c{i}@x.com", actor=AGENT)
        first = find_customers("customer", limit=5)
        second = find_customers("customer", limit=5, offset=5)
        assert len(first.customers) == 5 and first.has_more
        assert len(second.customers) == 2 and not second.has_more


class TestImportedData:
    def test_an_unusable_address_from_the_billing_system_is_kept_but_disables_email(self, store_db):
        """Imported customers may carry a broken field: kept as typed, the actions say why they're off."""
        ref = add_customer(name="Imported", primary_email="nobody@nowhere", actor=AGENT, strict_email=False).reference
        view = portal_view(ref)
        assert get_customer(ref).primary_email == "nobody@nowhere"
        assert not view.can_send and "not a valid email address" in view.email_blocked_reason

    @pytest.mark.parametrize("field", ["a@x.com\r\nBcc: evil@y.com", "a@x.com " * 300])
    def test_line_breaks_and_over_long_fields_are_refused_even_on_import(self, store_db, field):
        from store.errors import InvalidPrimaryEmail
        with pytest.raises(InvalidPrimaryEmail):
            add_customer(name="Imported", primary_email=field, actor=AGENT, strict_email=False)
        assert count("customer") == 0


def test_search_results_sort_by_name_reference_or_company(store_db):
    """The agent sorts the results by another column; every order pages without overlap."""
    from store.search import find_customers
    from store.values import CustomerOrder

    for name, company in (("Zoe Adams", "Acme"), ("Ann Young", "Zenith"), ("Max Moore", "Midway")):
        add_customer(name=name, company=company, primary_email=f"{name.split()[0].lower()}@x.com", actor=AGENT)
    by = {order: [c.name for c in find_customers("", order=order).customers] for order in CustomerOrder}
    assert by[CustomerOrder.name] == ["Ann Young", "Max Moore", "Zoe Adams"]
    assert by[CustomerOrder.company] == ["Zoe Adams", "Max Moore", "Ann Young"]
    assert by[CustomerOrder.reference] == ["Zoe Adams", "Ann Young", "Max Moore"]
    pages = [c.name for offset in (0, 1, 2)
             for c in find_customers("", order=CustomerOrder.company, limit=1, offset=offset).customers]
    assert pages == by[CustomerOrder.company]
