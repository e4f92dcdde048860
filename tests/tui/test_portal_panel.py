"""The PORTAL panel: every state, every refusal, and the database behind each action.

Demo customers: C000001 Ada Lovelace (active), C000002 Grace Hopper (awaiting,
two addresses), C000003 Alan Turing (not set up), C000004 Edsger Dijkstra (empty
Primary Email Address), C000005 Barbara Liskov (invalid address), C000006 Ken
Thompson (active, three addresses).
"""
from __future__ import annotations

import asyncio
import json

import pytest
from textual.widgets import Button, Input, Label

from store import panel as panel_actions
from store.activity import list_activity
from store.errors import InvalidUsername
from store.settings import update_setting
from store.usernames import clean_username
from store.values import PortalState
from tests.tui.conftest import AGENT, SIZES, count, login_of, open_customer, settle, wait_for
from tui.messages import CustomerChanged
from tui.widgets.confirm import ConfirmModal
from tui.widgets.error_modal import ErrorModal
from tui.widgets.portal_panel import PortalPanel

# Snapshots never wait for the poll: a long interval keeps them still.
STILL = dict(poll_seconds=60.0)


def panel(app) -> PortalPanel:
    return app.screen.query_one(PortalPanel)


async def update_to(pilot, username: str) -> None:
    """u, the field filled in at once (typing is tested elsewhere; it is slow under Pilot), Enter."""
    await pilot.press("u")
    pilot.app.screen.query_one("#username-input", Input).value = username
    await pilot.press("enter")
    await settle(pilot)


def opened(reference: str, *keys: str, before=None):
    """A run_before that opens a customer, optionally changes data, presses keys and settles."""

    async def run(pilot) -> None:
        await open_customer(pilot, reference)
        if before is not None:
            before()
        await pilot.press(*keys)
        await settle(pilot)

    return run


@pytest.mark.parametrize("size", SIZES)
class TestPortalSnapshots:
    def test_not_set_up_offers_create_credentials(self, snap_compare, console_app, size) -> None:
        """An empty username: state Not set up, the one action Send Create Credentials Email."""
        assert snap_compare(console_app(**STILL), terminal_size=size, run_before=opened("C000003"))

    def test_awaiting_customer_offers_create_credentials_and_delete(self, snap_compare, console_app, size) -> None:
        """A username without a password: Awaiting customer setup; Delete and the create email."""
        assert snap_compare(console_app(**STILL), terminal_size=size, run_before=opened("C000002"))

    def test_active_offers_only_reset_password(self, snap_compare, console_app, size) -> None:
        """A customer who set a password: Active since the date, only Send Reset Password Email."""
        assert snap_compare(console_app(**STILL), terminal_size=size, run_before=opened("C000001"))

    def test_taken_username_is_said_at_the_field(self, snap_compare, console_app, size) -> None:
        """Another customer's username is refused under the field, in words."""
        keys = ["u", *"GHopper", "enter"]
        assert snap_compare(console_app(**STILL), terminal_size=size, run_before=opened("C000003", *keys))

    def test_invalid_primary_email_disables_the_email_with_the_reason(self, snap_compare, console_app, size) -> None:
        """An invalid address: the email button is off and the panel says why."""
        assert snap_compare(console_app(**STILL), terminal_size=size, run_before=opened("C000005"))

    def test_empty_primary_email_disables_the_email_with_the_reason(self, snap_compare, console_app, size) -> None:
        """An empty Primary Email Address field: no email possible, and the reason shown."""
        assert snap_compare(console_app(**STILL), terminal_size=size, run_before=opened("C000004"))

    def test_switched_off_email_type_is_noted(self, snap_compare, console_app, size) -> None:
        """With Customer Credential Create off in Settings the panel notes that a send still goes out."""
        update_setting("credential_create_email", "off", actor=AGENT)
        assert snap_compare(console_app(**STILL), terminal_size=size, run_before=opened("C000003"))

    def test_delete_asks_and_says_what_it_does(self, snap_compare, console_app, size) -> None:
        """Delete on an active customer warns that the password goes and the action changes."""
        assert snap_compare(console_app(**STILL), terminal_size=size, run_before=opened("C000001", "d"))

    def test_stale_edit_is_refused_with_a_message(self, snap_compare, console_app, size) -> None:
        """A change made elsewhere after the panel was read: Update is refused, nothing overwritten."""

        def behind() -> None:
            panel_actions.set_username("C000002", "grace.elsewhere", expected_version=None, actor="bob")

        keys = ["u", "ctrl+u", *"g.m", "enter"]
        assert snap_compare(console_app(**STILL), terminal_size=size,
                            run_before=opened("C000002", *keys, before=behind))

    def test_a_username_changed_elsewhere_while_typing_is_said_beside_the_field(self, snap_compare, console_app,
                                                                                 size) -> None:
        """The refresh brings another agent's username while this agent types: the text stays, and
        the panel says at once, beside the field, what is stored now and that Update will be refused."""

        async def run(pilot) -> None:
            await open_customer(pilot, "C000002")
            await pilot.press("u", "ctrl+u", *"g.m")
            panel_actions.set_username("C000002", "grace.elsewhere", expected_version=None, actor="bob")
            pilot.app.screen.post_message(CustomerChanged())  # what the next refresh does
            await settle(pilot)

        assert snap_compare(console_app(**STILL), terminal_size=size, run_before=run)


class TestPortalActions:
    async def test_update_sets_username_and_state_becomes_awaiting(self, console_app) -> None:
        """Update writes the portal_login row; the panel follows to Awaiting customer setup."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000003")
            await update_to(pilot, "alan.turing")
            assert login_of("C000003") == ("alan.turing", None)
            assert panel(app).view.state is PortalState.awaiting_customer
            await pilot.press("m")  # the next step works at once: keys are no longer typed into the field
            await settle(pilot)
            assert count("outbox_email", "kind = 'credential_create'") == 1
            assert str(app.screen.query_one("#portal-state", Label).content) == "Awaiting customer setup"
            assert not app.screen.query_one("#delete-button", Button).disabled

    async def test_update_with_the_same_username_changes_nothing(self, console_app) -> None:
        """Update without an edit writes nothing and says so (no version bump, no activity)."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000002")
            events = count("activity_event")
            version = panel(app).view.version
            await update_to(pilot, "ghopper")
            assert count("activity_event") == events
            assert panel(app).view.version == version
            assert any("already ghopper" in n.message for n in app._notifications)

    async def test_invalid_username_is_said_at_the_field_and_nothing_written(self, console_app) -> None:
        """A username the rules refuse is explained under the field; no login row appears."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000003")
            await update_to(pilot, "a b")
            error = app.screen.query_one("#username-error", Label)
            # The store's own sentence for this username, word for word, naming what is wrong.
            with pytest.raises(InvalidUsername) as refused:
                clean_username("a b")
            assert "space" in refused.value.message
            assert error.has_class("-shown") and str(error.content) == refused.value.message
            assert app.screen.query_one("#username-input", Input).has_class("-invalid")
            assert login_of("C000003") is None

    async def test_taken_username_is_refused_and_nothing_written(self, console_app) -> None:
        """Grace Hopper's username, in other letters, can't be given to Alan Turing."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000003")
            await update_to(pilot, "GHOPPER")
            assert str(app.screen.query_one("#username-error", Label).content) == "That username is already in use."
            assert login_of("C000003") is None
            assert login_of("C000002") == ("ghopper", None)
            assert not app.screen.query(ErrorModal)

    async def test_send_queues_one_email_to_every_address(self, console_app) -> None:
        """Ken Thompson's field holds three addresses: one outbox row goes to all of them."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000006")
            before = count("outbox_email")
            await pilot.press("m")
            await settle(pilot)
            assert count("outbox_email") == before + 1
            to, kind = rows_of_last_email()
            assert json.loads(to) == ["ken@unix.example", "dmr@unix.example", "ops@unix.example"]
            assert kind == "password_reset"
            assert any("queued to ken@unix.example, dmr@unix.example, ops@unix.example" in n.message
                       for n in app._notifications)

    async def test_send_with_invalid_address_is_refused_and_nothing_queued(self, console_app) -> None:
        """Barbara Liskov's address is invalid: the button is off, and `m` (and the palette) say why."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000005")
            before = count("outbox_email")
            assert app.screen.query_one("#email-button", Button).disabled
            await pilot.press("m")
            await settle(pilot)
            assert isinstance(app.screen, ErrorModal)
            assert "not a valid email address" in app.screen.error.message
            await pilot.press("escape")
            await settle(pilot)
            app.screen.portal_send()
            await settle(pilot)
            assert isinstance(app.screen, ErrorModal)
            assert count("outbox_email") == before

    async def test_delete_without_a_username_says_why(self, console_app) -> None:
        """`d` on a customer who is Not set up is not a dead key: the console says there is nothing to delete."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000003")
            await pilot.press("d")
            await settle(pilot)
            assert not isinstance(app.screen, ConfirmModal)
            assert any("no portal username to delete" in n.message for n in app._notifications)

    async def test_delete_after_confirmation_removes_login(self, console_app) -> None:
        """Delete + yes: no login row, state Not set up, the action becomes Send Create Credentials Email."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000001")
            await pilot.press("d")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmModal)
            await pilot.press("y")
            await settle(pilot)
            assert login_of("C000001") is None
            assert panel(app).view.state is PortalState.not_set_up
            assert str(app.screen.query_one("#email-button", Button).label) == "Send Create Credentials Email"
            assert app.screen.query_one("#username-input", Input).value == ""

    async def test_delete_answered_no_keeps_login(self, console_app) -> None:
        """Delete + no: the username and password stay."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000001")
            await pilot.press("d")
            await settle(pilot)
            await pilot.press("n")
            await settle(pilot)
            username, password_hash = login_of("C000001")
            assert username == "ada.lovelace" and password_hash is not None
            assert panel(app).view.state is PortalState.active

    async def test_stale_update_is_refused_and_panel_shows_current(self, console_app) -> None:
        """Another agent changed the username after this panel was read: ours is refused, theirs stays."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000002")
            panel_actions.set_username("C000002", "grace.elsewhere", expected_version=None, actor="bob")
            await update_to(pilot, "grace.mine")
            assert isinstance(app.screen, ErrorModal)
            assert app.screen.error.title == "Changed by someone else"
            assert login_of("C000002") == ("grace.elsewhere", None)
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen.query_one("#username-input", Input).value == "grace.elsewhere"

    async def test_change_behind_the_panel_appears_within_two_seconds(self, console_app) -> None:
        """The customer's state changed elsewhere (CLI, portal, another console): the open panel follows."""
        app = console_app(poll_seconds=0.5)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000003")
            panel_actions.set_username("C000003", "turing.elsewhere", expected_version=None, actor="bob")
            for _ in range(20):
                await asyncio.sleep(0.1)
                if panel(app).view.username == "turing.elsewhere":
                    break
            assert panel(app).view.username == "turing.elsewhere"
            assert panel(app).view.state is PortalState.awaiting_customer
            assert app.screen.query_one("#username-input", Input).value == "turing.elsewhere"


def rows_of_last_email() -> tuple[str, str]:
    from store import db

    return db.database.execute_sql("SELECT to_addresses, kind FROM outbox_email ORDER BY id DESC LIMIT 1").fetchone()


class TestPortalMouseAndFailures:
    async def test_mouse_alone_sets_username_and_switches_sections(self, console_app) -> None:
        """Click the field, type, click Update, click the Activity tab: no keys but the name itself."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000003")
            await pilot.click("#username-input")
            app.screen.query_one("#username-input", Input).value = "alan.clicked"
            await pilot.click("#update-button")
            await settle(pilot)
            assert login_of("C000003") == ("alan.clicked", None)
            await pilot.click("#--content-tab-activity")
            await settle(pilot)
            assert app.screen.query_one("TabbedContent").active == "activity"

    async def test_database_gone_shows_the_error_modal_and_nothing_breaks(self, console_app, tmp_path) -> None:
        """When the database can't be reached, Update says so in the one error modal; the console stays up."""
        from peewee import SqliteDatabase

        from store import db

        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000003")
            working = db.database.obj
            (tmp_path / "gone").mkdir()
            db.database.initialize(SqliteDatabase(str(tmp_path / "gone")))
            try:
                await update_to(pilot, "alan.offline")
                assert isinstance(app.screen, ErrorModal)
                assert app.screen.error.title == "Database unavailable"
            finally:
                db.database.initialize(working)
            await pilot.press("escape")
            await settle(pilot)
            assert login_of("C000003") is None
            assert app.is_running


class TestPortalOnPostgres:
    async def test_update_send_and_follow_on_postgresql(self, demo_postgres) -> None:
        """The same panel on PostgreSQL: worker threads' connections write, and a change elsewhere shows."""
        from tui.app import PortalConsoleApp

        app = PortalConsoleApp(agent=AGENT, search_delay=0.0, poll_seconds=0.5)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000003")
            await update_to(pilot, "alan.pg")
            await pilot.press("m")
            await settle(pilot)
            assert login_of_pg("C000003") == "alan.pg"
            assert count("outbox_email") == 1
            panel_actions.set_username("C000003", "alan.elsewhere", expected_version=None, actor="bob")
            for _ in range(20):
                await asyncio.sleep(0.1)
                if panel(app).view.username == "alan.elsewhere":
                    break
            assert panel(app).view.username == "alan.elsewhere"


def login_of_pg(reference: str) -> str | None:
    from store import db

    row = db.database.execute_sql(
        "SELECT l.username FROM portal_login l JOIN customer c ON c.id = l.customer_id WHERE c.reference = %s",
        (reference,)).fetchone()
    return row[0] if row else None


class TestTwoConsoles:
    async def test_a_second_console_cannot_overwrite_a_first_ones_username_after_refreshes(self, console_app) -> None:
        """Two agents edit one username; the first saves. Several refresh cycles later the second
        console says beside its field what changed, keeps its text, and its Update is refused."""
        first, second = console_app(poll_seconds=0.2), console_app(poll_seconds=0.2)
        async with first.run_test(size=(80, 24)) as one, second.run_test(size=(80, 24)) as two:
            for pilot in (one, two):
                await open_customer(pilot, "C000001")
            await one.press("u", "ctrl+u", *"ada.one")
            await two.press("u", "ctrl+u", *"ada.two")
            await one.press("enter")
            await settle(one)
            assert login_of("C000001")[0] == "ada.one"
            # Five refresh cycles: the second panel now holds the new version underneath the typing.
            await wait_for(lambda: panel(second).view.username == "ada.one")
            await asyncio.sleep(1.0)
            warning = second.screen.query_one("#username-conflict")
            assert warning.display and "changed to 'ada.one' while you were typing" in str(warning.render())
            assert second.screen.query_one("#username-input", Input).value == "ada.two"
            await two.press("enter")
            await settle(two)
            assert isinstance(second.screen, ErrorModal)
            assert second.screen.error.title == "Changed by someone else"
            assert login_of("C000001")[0] == "ada.one"
            assert "ada.two" not in json.dumps([e.new_value for e in list_activity("C000001")])
            await two.press("escape")
            await settle(two)
            assert second.screen.query_one("#username-input", Input).value == "ada.one"
            assert not second.screen.query_one("#username-conflict").display

    async def test_a_change_elsewhere_that_leaves_the_username_alone_keeps_the_edit(self, console_app) -> None:
        """The twin: another agent edits the customer's name meanwhile; the username edit was based
        on an unchanged username, so no warning shows and Update saves it after the refreshes."""
        from store.customers import update_customer

        app = console_app(poll_seconds=0.2)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000001")
            await pilot.press("u", "ctrl+u", *"ada.mine")
            version = panel(app).view.version
            update_customer("C000001", expected_version=None, actor="bob", name="Ada King")
            await wait_for(lambda: panel(app).view.version > version)
            await asyncio.sleep(0.6)
            assert not app.screen.query_one("#username-conflict").display
            await pilot.press("enter")
            await settle(pilot)
            assert not isinstance(app.screen, ErrorModal)
            assert login_of("C000001")[0] == "ada.mine"


class TestUnexpectedErrors:
    async def test_a_service_function_that_raises_leaves_the_console_running(self, console_app, monkeypatch,
                                                                            tmp_path, caplog) -> None:
        """A bug in a service call (not a refusal): the one error modal with a reference, the
        traceback in the log under that reference, the console still up, Update usable again."""
        import logging
        import re

        def broken(*args, **kwargs):
            raise RuntimeError("a bug in the service layer")

        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000003")
            monkeypatch.setattr(panel_actions, "set_username", broken)
            with caplog.at_level(logging.ERROR, logger="console"):
                await update_to(pilot, "alan.t")
            assert app.is_running
            assert isinstance(app.screen, ErrorModal) and app.screen.error.title == "Unexpected error"
            reference = re.search(r"reference ([0-9a-f]{8})", app.screen.error.message).group(1)
            [record] = [r for r in caplog.records if reference in r.getMessage()]
            assert record.exc_info[0] is RuntimeError
            await pilot.press("escape")
            await settle(pilot)
            assert not panel(app).busy and not app.screen.query_one("#update-button", Button).disabled
            monkeypatch.undo()
            await update_to(pilot, "alan.t")
        assert login_of("C000003")[0] == "alan.t"
