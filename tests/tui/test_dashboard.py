"""The Customer Dashboard: details, the PORTAL / Emails / Activity sections, keys, retry."""
from __future__ import annotations

import pytest
from textual.widgets import DataTable, TabbedContent

from store import panel
from store.models import OutboxEmail
from store.values import OutboxStatus
from tests.tui.conftest import AGENT, SIZES, count, open_customer, settle
from tui.screens.dashboard import DashboardScreen
from tui.screens.search import SearchScreen
from tui.widgets.error_modal import ErrorModal

STILL = dict(poll_seconds=60.0)


def failed_email(reference: str) -> int:
    """Queue the customer's portal email and mark it failed, as the mailer does after its last try."""
    queued = panel.send_portal_email(reference, actor=AGENT)
    OutboxEmail.update(status=OutboxStatus.failed.value, attempts=5,
                       last_error="550 5.1.1 mailbox unavailable").where(OutboxEmail.id == queued.outbox_id).execute()
    return queued.outbox_id


def on_tab(reference: str, key: str, before=None):
    async def run(pilot) -> None:
        if before is not None:
            before()
        await open_customer(pilot, reference)
        await pilot.press(key)
        await settle(pilot)

    return run


@pytest.mark.parametrize("size", SIZES)
class TestDashboardSnapshots:
    def test_dashboard_shows_details_and_portal(self, snap_compare, console_app, size) -> None:
        """Grace Hopper: two addresses parsed from the field as typed, and PORTAL open."""
        assert snap_compare(console_app(**STILL), terminal_size=size, run_before=on_tab("C000002", "p"))

    def test_emails_section_lists_deliveries(self, snap_compare, console_app, size) -> None:
        """A queued and a failed email, with when, to whom and the error."""

        def emails() -> None:
            failed_email("C000002")
            panel.send_portal_email("C000002", actor=AGENT)

        assert snap_compare(console_app(**STILL), terminal_size=size, run_before=on_tab("C000002", "e", emails))

    def test_activity_section_lists_who_did_what(self, snap_compare, console_app, size) -> None:
        """Username changes and emails, newest first, with from -> to."""

        def history() -> None:
            panel.set_username("C000003", "aturing", expected_version=None, actor=AGENT)
            panel.set_username("C000003", "alan.t", expected_version=None, actor="bob")
            panel.send_portal_email("C000003", actor=AGENT)

        assert snap_compare(console_app(**STILL), terminal_size=size, run_before=on_tab("C000003", "a", history))

    def test_console_works_without_colour(self, snap_compare, console_app, size, monkeypatch) -> None:
        """NO_COLOR=1: the state, the disabled action and its reason still read clearly."""
        monkeypatch.setenv("NO_COLOR", "1")
        assert snap_compare(console_app(**STILL), terminal_size=size, run_before=on_tab("C000005", "p"))


class TestDashboardPilot:
    async def test_keys_switch_sections(self, console_app) -> None:
        """p, e, a (and 1, 2, 3) show PORTAL, Emails and Activity."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000001")
            tabs = app.screen.query_one(TabbedContent)
            for key, tab in (("e", "emails"), ("a", "activity"), ("p", "portal"), ("2", "emails"), ("3", "activity")):
                await pilot.press(key)
                assert tabs.active == tab

    async def test_retry_queues_a_failed_email_again(self, console_app) -> None:
        """r on a failed email puts it back in the queue and says so."""
        outbox_id = failed_email("C000002")
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000002")
            await pilot.press("e", "r")
            await settle(pilot)
            assert OutboxEmail.get_by_id(outbox_id).status == OutboxStatus.queued.value
            assert any(f"Email {outbox_id} queued again" in n.message for n in app._notifications)
            table = app.screen.query_one("#emails-table", DataTable)
            assert table.get_row_at(0)[0] == "queued"

    async def test_retry_of_a_queued_email_is_refused_with_a_reason(self, console_app) -> None:
        """Only a failed email can be sent again; a queued one stays as it is."""
        queued = panel.send_portal_email("C000002", actor=AGENT)
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000002")
            await pilot.press("e", "r")
            await settle(pilot)
            assert OutboxEmail.get_by_id(queued.outbox_id).attempts == 0
            # The store's refusal, in the one error modal, as on the Outbox screen.
            assert isinstance(app.screen, ErrorModal)
            assert f"Email {queued.outbox_id} is queued; only a failed email can be sent again." == app.screen.error.message

    async def test_escape_goes_back_to_search_which_shows_the_new_state(self, console_app) -> None:
        """After a change on the dashboard, the search results show the customer's new state."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000003")
            await pilot.press("u", *"alan.t", "enter")
            await settle(pilot)
            await pilot.press("escape", "escape")
            await settle(pilot)
            assert isinstance(app.screen, SearchScreen)
            table = app.screen.query_one("#results", DataTable)
            assert table.get_row("C000003")[-1] == "Awaiting"

    async def test_details_show_the_address_problem(self, console_app) -> None:
        """Edsger Dijkstra's empty field is named in the details, not only in PORTAL."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000004")
            assert isinstance(app.screen, DashboardScreen)
            text = str(app.screen.query_one("#customer-addresses").content)
            assert "empty" in text
            # The PORTAL panel says the same, and m, pressed anyway, queues nothing.
            blocked = str(app.screen.query_one("#email-blocked").render())
            assert blocked.startswith("Can't send:") and "empty" in blocked
            await pilot.press("m")
            await settle(pilot)
            assert count("outbox_email") == 0

    async def test_unknown_customer_is_said_and_search_stays(self, console_app) -> None:
        """Opening a reference that doesn't exist shows 'No such customer' and returns to search."""
        from tui.widgets.error_modal import ErrorModal

        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C999999")
            assert isinstance(app.screen, ErrorModal)
            assert app.screen.error.title == "No such customer"
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, SearchScreen)


class TestDashboardRefresh:
    async def test_a_read_that_lands_after_a_newer_one_is_dropped(self, console_app) -> None:
        """A slow background read finishing after a newer one must not put the older view back."""
        from tui.messages import CustomerLoaded
        from tui.screens.dashboard import read_snapshot
        from tui.widgets.portal_panel import PortalPanel

        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000003")
            older = read_snapshot("C000003")
            panel.set_username("C000003", "alan.newer", expected_version=None, actor="bob")
            app.screen._load()
            await settle(pilot)
            assert app.screen.query_one(PortalPanel).view.username == "alan.newer"
            app.screen.post_message(CustomerLoaded(older, number=1))
            await settle(pilot)
            assert app.screen.query_one(PortalPanel).view.username == "alan.newer"

    async def test_a_failed_background_check_says_not_refreshed_and_recovers(self, console_app, tmp_path) -> None:
        """The database goes away: the title says the screen is not refreshed; back, it says nothing."""
        import asyncio

        from peewee import SqliteDatabase

        from store import db

        app = console_app(poll_seconds=0.2)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000003")
            working = db.database.obj
            (tmp_path / "gone").mkdir()
            db.database.initialize(SqliteDatabase(str(tmp_path / "gone")))
            try:
                for _ in range(100):
                    if "not refreshed" in app.screen.sub_title:
                        break
                    await asyncio.sleep(0.05)
                assert app.screen.sub_title.endswith("not refreshed: database unavailable")
            finally:
                db.database.initialize(working)
            for _ in range(100):
                if "not refreshed" not in app.screen.sub_title:
                    break
                await asyncio.sleep(0.05)
            assert app.screen.sub_title == "Alan Turing · C000003"
            assert app.is_running


class TestCopy:
    async def test_y_copies_the_chosen_identifier_to_the_clipboard(self, console_app) -> None:
        """y, then the number: the reference, the username or one address goes to the clipboard."""
        from tui.widgets.copy_modal import CopyModal

        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000002")
            await pilot.press("y")
            await settle(pilot)
            assert isinstance(app.screen, CopyModal)
            assert [label for label, _ in app.screen.choices] == ["Reference", "Portal username", "Address", "Address"]
            await pilot.press("1")
            await settle(pilot)
            assert app.clipboard == "C000002" and isinstance(app.screen, DashboardScreen)
            await pilot.press("y", "down", "down", "down", "enter")
            await settle(pilot)
            assert app.clipboard == "billing@compiler.example"
            await pilot.press("y", "escape")
            await settle(pilot)
            assert app.clipboard == "billing@compiler.example" and isinstance(app.screen, DashboardScreen)

    @pytest.mark.parametrize("size", SIZES)
    def test_the_copy_choices_list_every_identifier(self, snap_compare, console_app, size) -> None:
        """The customer's reference, username and each address, numbered."""
        assert snap_compare(console_app(**STILL), terminal_size=size, run_before=on_tab("C000002", "y"))


class TestActivityKeys:
    async def test_s_sorts_the_activity_log_and_g_jumps_to_the_first_event(self, console_app) -> None:
        """S: newest first, by who, by what; the detail line follows the row under the cursor."""
        panel.set_username("C000003", "alan.t", expected_version=None, actor="zoe")
        panel.send_portal_email("C000003", actor="bob")
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000003")
            await pilot.press("a", "tab")
            await settle(pilot)
            section = app.screen.query_one("#activity-section")
            table = section.query_one(DataTable)
            assert table.has_focus
            newest = [e.actor for e in section._shown]
            await pilot.press("S")
            assert [e.actor for e in section._shown] == sorted(newest, key=str.casefold)
            assert "by who; S sorts" in str(section.query_one("#activity-status").render())
            await pilot.press("G")
            assert section.selected.actor == "zoe"
            assert "zoe" in str(section.query_one("#activity-detail").render())
            await pilot.press("g")
            assert table.cursor_row == 0 and section.selected.actor == sorted(newest, key=str.casefold)[0]
