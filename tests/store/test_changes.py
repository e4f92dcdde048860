"""The dashboard's change marker: one query whose answer moves with every change the
dashboard shows, and stays put when nothing changed (else every open console reads
the whole customer every second)."""
import pytest

from store.changes import dashboard_marker
from store.customers import update_customer
from store.errors import CustomerNotFound
from store.outbox import claim_due
from store.panel import send_portal_email, set_username
from store.settings import update_setting

from .conftest import AGENT


def test_the_marker_stays_put_while_nothing_changes(customer):
    assert dashboard_marker(customer) == dashboard_marker(customer.lower())


@pytest.mark.parametrize("change", ["username", "details", "email queued", "switch", "email claimed"])
def test_every_change_the_dashboard_shows_moves_the_marker(customer, change):
    """Each kind of change made elsewhere (another console, the portal, the mailer) is seen."""
    if change == "email claimed":
        send_portal_email(customer, actor=AGENT)
    before = dashboard_marker(customer)
    if change == "username":
        set_username(customer, "ada.l", expected_version=None, actor=AGENT)
    elif change == "details":
        update_customer(customer, expected_version=None, actor=AGENT, company="Engines Ltd")
    elif change == "email queued":
        send_portal_email(customer, actor=AGENT)
    elif change == "switch":
        update_setting("password_reset_email", "on", actor=AGENT)
    else:
        assert len(claim_due("test-mailer", limit=10, lease_seconds=60).emails) == 1
    assert dashboard_marker(customer) != before


def test_an_unknown_reference_is_not_found(store_db):
    with pytest.raises(CustomerNotFound):
        dashboard_marker("C999999")

