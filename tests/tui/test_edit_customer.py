"""Editing a customer's name, company and Primary Email Address from the dashboard (`c`):
errors under the field, nothing half-written, the PORTAL panel following at once, the
links sent to an old address stopped, and another console's change never overwritten.

Demo customers: C000001 Ada Lovelace (active), C000002 Grace Hopper (awaiting, two
addresses), C000003 Alan Turing (not set up), C000005 Barbara Liskov (invalid address).
"""
from __future__ import annotations

import asyncio

import pytest
from textual.widgets import Input

from store.activity import list_activity
from store.customers import get_customer, update_customer
from store.errors import LinkUnusable
from store.credentials import open_link
from store.panel import send_portal_email, set_username
from store.values import LinkPurpose
from tests.tui.conftest import AGENT, SIZES, open_customer, settle, wait_for
from tui.screens.dashboard import DashboardScreen
from tui.screens.edit_customer import EditCustomerScreen
from tui.widgets.error_modal import ErrorModal
from tui.widgets.portal_panel import PortalPanel
from tests.links import live_token

STILL = dict(poll_seconds=60.0)


def field(app, name: str) -> Input:
    return app.screen.query_one(f"#field-{name}", Input)


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def edit(pilot, reference: str, **values: str) -> None:
    """Open the customer, `c`, replace the given fields (set at once: typing is tested elsewhere)."""
    await open_customer(pilot, reference)
    await pilot.press("c")
    await settle(pilot)
    for name, value in values.items():
        field(pilot.app, name).value = value


def link_token(outbox_id: int) -> str:
    return live_token(outbox_id)


@pytest.mark.parametrize("size", SIZES)
class TestEditCustomerSnapshots:
    def test_the_form_opens_with_the_current_details(self, snap_compare, console_app, size) -> None:
        """`c` on a dashboard: the three fields hold what is stored, the cursor in the address."""

        async def run(pilot) -> None:
            await edit(pilot, "C000002")

        assert snap_compare(console_app(**STILL), terminal_size=size, run_before=run)

    def test_an_invalid_address_is_said_under_its_field(self, snap_compare, console_app, size) -> None:
        """A bad address: the reason under the Primary Email Address field, the form still open."""

        async def run(pilot) -> None:
            await edit(pilot, "C000002", primary_email="barbara@substitution")
            await pilot.press("ctrl+s")
            await settle(pilot)

        assert snap_compare(console_app(**STILL), terminal_size=size, run_before=run)

    def test_a_field_changed_elsewhere_is_said_under_it(self, snap_compare, console_app, size) -> None:
        """Another agent saved a new address while this form was open: said under the field at once."""

        async def run(pilot) -> None:
            await edit(pilot, "C000002", primary_email="mine@compiler.example")
            update_customer("C000002", expected_version=None, actor="bob", primary_email="theirs@compiler.example")
            pilot.app.screen._check()  # what the next refresh does
            await settle(pilot)

        assert snap_compare(console_app(**STILL), terminal_size=size, run_before=run)


class TestEditCustomer:
    async def test_a_new_address_is_saved_logged_and_followed_by_the_portal_panel(self, console_app) -> None:
        """The billing contact changes: saved, logged with the agent's name, the PORTAL panel's
        recipients follow at once, and the link sent to the old address no longer opens."""
        old_link = link_token(send_portal_email("C000002", actor=AGENT).outbox_id)
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await edit(pilot, "C000002", name="Grace B. Hopper", primary_email="new.contact@compiler.example")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen)
            assert app.screen.query_one(PortalPanel).view.addresses == ("new.contact@compiler.example",)
            assert "Goes to: new.contact@compiler.example" in text_of(app, "#email-recipients")
            assert "Grace B. Hopper" in text_of(app, "#customer-heading")
        detail = get_customer("C000002")
        assert (detail.name, detail.primary_email) == ("Grace B. Hopper", "new.contact@compiler.example")
        actions = [(e.actor, e.action) for e in list_activity("C000002")[:2]]
        assert sorted(actions) == [(AGENT, "name changed"), (AGENT, "primary email changed")]
        with pytest.raises(LinkUnusable):
            open_link(old_link, LinkPurpose.setup)

    async def test_an_invalid_address_is_refused_at_the_field_and_nothing_is_written(self, console_app) -> None:
        """The bad case: a new name and a bad address; neither is saved, the reason is under the field."""
        before = get_customer("C000002")
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await edit(pilot, "C000002", name="Someone Else", primary_email="barbara@substitution")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, EditCustomerScreen)
            assert "'barbara@substitution'" in text_of(app, "#error-primary_email")
            assert field(app, "primary_email").has_focus
            assert field(app, "name").value == "Someone Else"  # the agent's typing is kept
        assert get_customer("C000002") == before

    async def test_an_empty_name_is_refused_at_the_field(self, console_app) -> None:
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await edit(pilot, "C000003", name="   ")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert "Enter the customer name." in text_of(app, "#error-name")
        assert get_customer("C000003").name == "Alan Turing"

    async def test_fixing_an_invalid_address_turns_the_email_action_on(self, console_app) -> None:
        """Barbara's field held an address that can't receive mail; fixed here, PORTAL can send."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000005")
            assert not app.screen.query_one(PortalPanel).view.can_send
            await pilot.press("c")
            await settle(pilot)
            field(app, "primary_email").value = "barbara@liskov.example"
            await pilot.press("enter")  # Enter in the last field saves
            await settle(pilot)
            assert app.screen.query_one(PortalPanel).view.can_send
            assert not app.screen.query_one("#email-button").disabled

    async def test_escape_leaves_everything_as_it_was(self, console_app) -> None:
        before = get_customer("C000002")
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await edit(pilot, "C000002", primary_email="other@compiler.example")
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen)
        assert get_customer("C000002") == before


class TestEditCustomerWithAnotherConsole:
    async def test_an_address_changed_elsewhere_is_refused_after_several_refreshes(self, console_app) -> None:
        """Another agent saved a new address while this form was open; refresh cycles pass; the
        form says so under the field, and Save is refused rather than overwriting theirs."""
        app = console_app(poll_seconds=0.2)
        async with app.run_test(size=(80, 24)) as pilot:
            await edit(pilot, "C000002", primary_email="mine@compiler.example")
            update_customer("C000002", expected_version=None, actor="bob", primary_email="theirs@compiler.example")
            await wait_for(lambda: app.screen.query_one("#changed-primary_email").display)
            await asyncio.sleep(1.0)  # five more refreshes
            assert "'theirs@compiler.example'" in text_of(app, "#changed-primary_email")
            assert field(app, "primary_email").value == "mine@compiler.example"
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, ErrorModal) and app.screen.error.title == "Changed by someone else"
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, EditCustomerScreen)
            assert field(app, "primary_email").value == "theirs@compiler.example"
        assert get_customer("C000002").primary_email == "theirs@compiler.example"
        assert all("mine@" not in (e.new_value or "") for e in list_activity("C000002"))

    async def test_a_username_set_elsewhere_leaves_the_edit_saveable(self, console_app) -> None:
        """The twin: another agent's change to something this form doesn't edit is no conflict."""
        app = console_app(poll_seconds=0.2)
        async with app.run_test(size=(80, 24)) as pilot:
            await edit(pilot, "C000003", company="Bletchley Park")
            version = app.screen.base.version
            set_username("C000003", "alan.t", expected_version=None, actor="bob")
            await wait_for(lambda: app.screen.base.version > version)
            await asyncio.sleep(0.6)
            assert not app.screen.query_one("#changed-company").display
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen)
        assert get_customer("C000003").company == "Bletchley Park"
