"""The new customer form: refusals at the field with nothing written; on save, the email news."""
from __future__ import annotations

import pytest
from textual.widgets import Input, Label

from store.settings import update_setting
from tests.tui.conftest import AGENT, SIZES, count, settle
from tui.screens.dashboard import DashboardScreen
from tui.screens.new_customer import NewCustomerScreen


async def fill(pilot, **values: str) -> None:
    """Open the form with ctrl+n and type into its fields."""
    await settle(pilot)
    await pilot.press("ctrl+n")
    await settle(pilot)
    for field, text in values.items():
        pilot.app.screen.query_one(f"#field-{field}", Input).value = text
    await pilot.pause()


def error_at(app, field: str) -> str:
    label = app.screen.query_one(f"#error-{field}", Label)
    return str(label.content) if label.has_class("-shown") else ""


@pytest.mark.parametrize("size", SIZES)
class TestNewCustomerSnapshots:
    def test_form_is_empty_and_ready(self, snap_compare, console_app, size) -> None:
        """ctrl+n opens the form with the cursor in Name."""

        async def run(pilot) -> None:
            await fill(pilot)
            await settle(pilot)

        assert snap_compare(console_app(), terminal_size=size, run_before=run)

    def test_invalid_address_is_said_under_its_field(self, snap_compare, console_app, size) -> None:
        """One bad address among several: the message names it, under Primary Email Address."""

        async def run(pilot) -> None:
            await fill(pilot, name="Nora Quill", company="Pascal GmbH",
                       primary_email="nw@pascal.example; billing@pascal")
            await pilot.press("ctrl+s")
            await settle(pilot)

        assert snap_compare(console_app(), terminal_size=size, run_before=run)


class TestNewCustomerPilot:
    async def test_bad_address_is_refused_at_the_field_and_nothing_written(self, console_app) -> None:
        """An invalid address: the error sits under the field, the form stays, no customer row."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            before = count("customer")
            await fill(pilot, name="Nora Quill", primary_email="nw@pascal.example; billing@pascal")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, NewCustomerScreen)
            assert "billing@pascal" in error_at(app, "primary_email")
            assert app.screen.query_one("#field-primary_email", Input).has_class("-invalid")
            assert app.screen.focused is app.screen.query_one("#field-primary_email", Input)
            assert count("customer") == before
            assert count("customer", "name = ?", ("Nora Quill",)) == 0

    async def test_valid_customer_is_saved_email_queued_and_dashboard_opened(self, console_app) -> None:
        """With Credential Create on: the customer row, one email to both addresses, and the dashboard."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await fill(pilot, name="Nora Quill", primary_email="nw@pascal.example; billing@pascal.example")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert count("customer", "name = ?", ("Nora Quill",)) == 1
            assert count("outbox_email", "kind = 'credential_create'") == 1
            assert isinstance(app.screen, DashboardScreen)
            assert app.screen.customer_name == "Nora Quill"
            assert any("queued to nw@pascal.example, billing@pascal.example" in n.message
                       for n in app._notifications)

    async def test_switch_off_says_no_email_was_queued(self, console_app) -> None:
        """With Credential Create off, the console says why no email went."""
        update_setting("credential_create_email", "off", actor=AGENT)
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await fill(pilot, name="Nora Quill", primary_email="nw@pascal.example")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert count("outbox_email") == 0
            assert any("switched off in Settings" in n.message for n in app._notifications)

    async def test_missing_name_is_said_at_the_field(self, console_app) -> None:
        """No name: 'Enter the customer name.' under Name; nothing written."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            before = count("customer")
            await fill(pilot, primary_email="nw@pascal.example")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert error_at(app, "name") == "Enter the customer name."
            assert count("customer") == before

    async def test_taken_reference_is_said_at_the_field(self, console_app) -> None:
        """A reference another customer has: refused under Reference, nothing written."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            before = count("customer")
            await fill(pilot, name="Nora Quill", primary_email="nw@pascal.example", reference="C000001")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert "already used" in error_at(app, "reference")
            assert count("customer") == before

    async def test_editing_a_field_clears_its_error(self, console_app) -> None:
        """Once the agent fixes the value, the old message goes."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await fill(pilot, primary_email="nw@pascal.example")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert error_at(app, "name")
            await pilot.click("#field-name")
            await pilot.press("N")
            assert error_at(app, "name") == ""

    async def test_escape_cancels_without_writing(self, console_app) -> None:
        """Esc closes the form; nothing is saved."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            before = count("customer")
            await fill(pilot, name="Nora Quill", primary_email="nw@pascal.example")
            await pilot.press("escape")
            await settle(pilot)
            assert not isinstance(app.screen, NewCustomerScreen)
            assert count("customer") == before
