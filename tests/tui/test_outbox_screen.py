"""Outbox: every email across customers, filtered by status, refreshed while open; a failed
email is queued again with a fresh link, any other is refused with the reason.

The emails come from store.demo.seed_emails(): each is queued through the PORTAL send
action, then its row is moved on as the mailer moves it (sending, sent, failed with the
server's answer), so the screen reads exactly what a mailer would leave behind.
"""
from __future__ import annotations

import pytest
from peewee import SqliteDatabase
from textual.pilot import Pilot
from textual.widgets import DataTable, Select, Static

from store import db, demo
from store.models import OutboxEmail as OutboxRow, PortalLink
from store.outbox import get_email
from store.values import OutboxStatus
from tests.tui.conftest import SIZES, settle
from tui.screens.dashboard import DashboardScreen
from tui.screens.outbox import OutboxScreen
from tui.widgets.error_modal import ErrorModal


@pytest.fixture
def emails(demo_db: str) -> dict[str, int]:
    """The demo emails by outcome: queued, sending, failed and two sent (one with a refused address)."""
    ids = demo.seed_emails()
    return {get_email(i).status.value + ("" if not get_email(i).refused else "-refused"): i for i in ids}


async def open_outbox(pilot: Pilot) -> OutboxScreen:
    """Go to the Outbox the way the agent does, and wait until its rows show."""
    await pilot.press("ctrl+o")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, OutboxScreen)
    return screen


async def select_email(pilot: Pilot, outbox_id: int) -> None:
    """Move the table's cursor to an email's row with the arrow keys."""
    table = pilot.app.screen.query_one(DataTable)
    target = table.get_row_index(str(outbox_id))
    await pilot.press(*(["down"] * (target - table.cursor_row)))
    await pilot.pause()
    assert pilot.app.screen.selected_email().id == outbox_id


def footer(app) -> set[str]:
    """What the footer offers now."""
    return {key.description for key in app.screen.query("FooterKey")}


def rows(screen: OutboxScreen) -> list[tuple[str, str]]:
    """The table's (id, status) pairs, as shown."""
    table = screen.query_one(DataTable)
    return [(str(table.get_cell_at((r, 0))), str(table.get_cell_at((r, 1)))) for r in range(table.row_count)]


class TestOutboxSnapshots:
    @pytest.mark.parametrize("size", SIZES)
    def test_outbox_lists_queued_sending_sent_and_failed(self, snap_compare, console_app, emails, size) -> None:
        """Every status in one list, newest first; the failed one selected shows its error in full."""

        async def run_before(pilot: Pilot) -> None:
            await open_outbox(pilot)
            await select_email(pilot, emails["failed"])

        assert snap_compare(console_app(), terminal_size=size, run_before=run_before)

    @pytest.mark.parametrize("size", SIZES)
    def test_empty_outbox_says_so(self, snap_compare, console_app, size) -> None:
        """No emails yet: a sentence, not an empty grid."""

        async def run_before(pilot: Pilot) -> None:
            await open_outbox(pilot)

        assert snap_compare(console_app(), terminal_size=size, run_before=run_before)

    @pytest.mark.parametrize("size", SIZES)
    def test_a_sent_email_offers_no_retry(self, snap_compare, console_app, emails, size) -> None:
        """Only a failed email can be sent again: with a sent one highlighted the footer has no r."""

        async def run_before(pilot: Pilot) -> None:
            await open_outbox(pilot)
            await select_email(pilot, emails["sent"])

        assert snap_compare(console_app(), terminal_size=size, run_before=run_before)

    @pytest.mark.parametrize("size", SIZES)
    def test_sorted_by_status(self, snap_compare, console_app, emails, size) -> None:
        """S sorts by the next column (Status after the newest-first ID); the count line says so."""

        async def run_before(pilot: Pilot) -> None:
            await open_outbox(pilot)
            await pilot.press("S")
            await settle(pilot)

        assert snap_compare(console_app(), terminal_size=size, run_before=run_before)


class TestRetry:
    async def test_retry_of_a_failed_email_queues_it_again_with_a_fresh_link(self, console_app, emails) -> None:
        """Rule 10: a failed email can be sent again; the old link is revoked and a new one goes out."""
        failed = emails["failed"]
        old_link = OutboxRow.get_by_id(failed).link_id
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_outbox(pilot)
            await select_email(pilot, failed)
            await pilot.press("r")
            await settle(pilot)
            email = get_email(failed)
            assert (email.status, email.attempts) == (OutboxStatus.queued, 0)
            row = OutboxRow.get_by_id(failed)
            assert row.link_id != old_link
            assert PortalLink.get_by_id(old_link).revoked_at is not None
            assert PortalLink.get_by_id(row.link_id).revoked_at is None
            assert (str(failed), "queued") in rows(screen)
            assert any(f"Email {failed} queued again" in n.message for n in app._notifications)

    async def test_retry_is_offered_for_a_failed_email_only(self, console_app, emails) -> None:
        """The footer shows r while a failed email is highlighted, and not for a sent one; r on a
        sent one changes nothing."""
        sent = emails["sent"]
        before = OutboxRow.get_by_id(sent)
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_outbox(pilot)
            await select_email(pilot, emails["failed"])
            await settle(pilot)
            assert "Retry failed" in footer(app)
            await select_email(pilot, sent)
            await settle(pilot)
            assert "Retry failed" not in footer(app)
            await pilot.press("r")
            await settle(pilot)
            assert app.screen is screen
            after = OutboxRow.get_by_id(sent)
            assert (after.status, after.attempts, after.link_id) == ("sent", before.attempts, before.link_id)

    async def test_a_retry_overtaken_meanwhile_is_refused_by_the_service_layer(self, console_app, emails) -> None:
        """The screen offers r from what it last read; if the email was sent again elsewhere since,
        the service layer refuses and the error modal says why."""
        failed = emails["failed"]
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_outbox(pilot)
            await select_email(pilot, failed)
            OutboxRow.update(status="sent", attempts=1).where(OutboxRow.id == failed).execute()
            await pilot.press("r")
            await settle(pilot)
            assert isinstance(app.screen, ErrorModal)
            assert "only a failed email can be sent again" in app.screen.error.message
            assert OutboxRow.get_by_id(failed).status == "sent"

    async def test_an_empty_outbox_offers_no_retry(self, console_app) -> None:
        """No rows: no r in the footer, and r does nothing."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_outbox(pilot)
            assert "Retry failed" not in footer(app)
            await pilot.press("r")
            await settle(pilot)
            assert app.screen is screen and not app._notifications


class TestListing:
    async def test_filter_shows_only_that_status(self, console_app, emails) -> None:
        """`f` steps through all, queued, sending, sent and failed."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_outbox(pilot)
            assert len(rows(screen)) == 5
            await pilot.press("f")
            await settle(pilot)
            assert rows(screen) == [(str(emails["queued"]), "queued")]
            screen.query_one("#status-filter", Select).value = "Failed"
            await settle(pilot)
            assert rows(screen) == [(str(emails["failed"]), "failed")]

    async def test_a_filter_with_no_match_says_so(self, console_app, emails) -> None:
        """An empty filtered list names the status it looked for."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_outbox(pilot)
            OutboxRow.update(status="sent").where(OutboxRow.status == "sending").execute()
            screen.query_one("#status-filter", Select).value = "Sending"
            await settle(pilot)
            assert not screen.query_one(DataTable).display
            assert "No sending emails." in str(screen.query_one("#outbox-empty", Static).render())

    async def test_refused_addresses_show_with_the_email(self, console_app, emails) -> None:
        """A partly refused delivery says which address the server refused."""
        app = console_app()
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_outbox(pilot)
            await select_email(pilot, emails["sent-refused"])
            assert "refused: dmr@unix.example" in str(screen.query_one("#outbox-detail", Static).render())

    async def test_the_list_follows_the_mailer_while_open(self, console_app, emails) -> None:
        """A delivery made by the mailer shows without a key press, and the cursor stays on its email."""
        app = console_app(poll_seconds=0.2)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_outbox(pilot)
            await select_email(pilot, emails["sending"])
            # What the mailer does when the server accepts the message.
            OutboxRow.update(status="sent", sent_at=OutboxRow.created_at, attempts=1).where(
                OutboxRow.id == emails["sending"]).execute()
            await pilot.pause(0.6)
            await settle(pilot)
            assert (str(emails["sending"]), "sent") in rows(screen)
            assert screen.selected_email().id == emails["sending"]

    async def test_a_click_selects_an_email(self, console_app, emails) -> None:
        """With the mouse: clicking a row selects that email and shows it in full."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_outbox(pilot)
            row = screen.query_one(DataTable).get_row_index(str(emails["failed"]))
            # One header line above the rows.
            await pilot.click("#outbox-table", offset=(5, row + 1))
            await pilot.pause()
            assert screen.selected_email().id == emails["failed"]
            assert "mailbox unavailable" in str(screen.query_one("#outbox-detail", Static).render())

    async def test_enter_opens_the_emails_customer(self, console_app, emails) -> None:
        """From an email to the Customer Dashboard of the customer it was for."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_outbox(pilot)
            await select_email(pilot, emails["failed"])
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen)
            assert app.screen.reference == get_email(emails["failed"]).customer_reference


class TestDatabaseGone:
    async def test_a_failed_refresh_keeps_the_rows_and_says_so(self, console_app, emails, tmp_path) -> None:
        """The list stays readable when the database goes away; the count line says it is not fresh."""
        app = console_app(poll_seconds=0.1)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_outbox(pilot)
            working = db.database.obj
            (tmp_path / "gone").mkdir()
            # A directory is no SQLite file: every query fails as with a database that went away.
            db.database.initialize(SqliteDatabase(str(tmp_path / "gone")))
            try:
                await pilot.pause(0.4)
                await settle(pilot)
                assert "Not refreshed" in str(screen.query_one("#outbox-count", Static).render())
                assert len(rows(screen)) == 5
            finally:
                db.database.initialize(working)
            await pilot.pause(0.4)
            await settle(pilot)
            assert str(screen.query_one("#outbox-count", Static).render()) == "5 emails, newest first"


class TestKeys:
    async def test_the_table_keeps_the_cursor_after_an_empty_filter(self, console_app, emails) -> None:
        """f through a status with no email and on: the table has the cursor again, so ↓ and Enter work."""
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_outbox(pilot)
            OutboxRow.update(status="sent").where(OutboxRow.status == "sending").execute()
            await pilot.press("f", "f")
            await settle(pilot)
            assert str(screen.query_one("#status-filter", Select).value) == "Sending"
            assert not screen.query_one(DataTable).display
            await pilot.press("f")
            await settle(pilot)
            assert str(screen.query_one("#status-filter", Select).value) == "Sent"
            assert app.focused is screen.query_one(DataTable)
            await pilot.press("down")
            second = screen.selected_email()
            assert second is not None and second.status is OutboxStatus.sent
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen)
            assert app.screen.reference == second.customer_reference

    async def test_esc_on_a_dashboard_opened_from_the_outbox_comes_back_to_it(self, console_app, emails) -> None:
        """Enter on an email opens its customer above the Outbox; Esc returns to the same Outbox and row."""
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_outbox(pilot)
            await select_email(pilot, emails["failed"])
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen)
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is screen
            assert screen.selected_email().id == emails["failed"]
            assert app.focused is screen.query_one(DataTable)

    async def test_ctrl_o_on_that_dashboard_goes_back_to_the_same_outbox(self, console_app, emails) -> None:
        """No second Outbox piles up: ctrl+o from a dashboard opened from the Outbox returns to it."""
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_outbox(pilot)
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("ctrl+o")
            await settle(pilot)
            assert app.screen is screen and len(app.screen_stack) == 2
            await pilot.press("escape")
            await settle(pilot)
            assert len(app.screen_stack) == 1

    async def test_g_and_capital_g_jump_to_the_first_and_last_email(self, console_app, emails) -> None:
        """G / End to the last row, g / Home to the first."""
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_outbox(pilot)
            table = screen.query_one(DataTable)
            await pilot.press("G")
            assert table.cursor_row == 4
            await pilot.press("g")
            assert table.cursor_row == 0
            await pilot.press("end")
            assert table.cursor_row == 4
            await pilot.press("home")
            assert table.cursor_row == 0

    async def test_s_cycles_the_sort_column(self, console_app, emails) -> None:
        """S: by status (A to Z), then by created time, ... and round to newest first."""
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_outbox(pilot)
            newest_first = rows(screen)
            assert [int(i) for i, _ in newest_first] == sorted((int(i) for i, _ in newest_first), reverse=True)
            await pilot.press("S")
            statuses = [status for _, status in rows(screen)]
            assert statuses == sorted(statuses)
            assert "by Status" in str(screen.query_one("#outbox-count", Static).render())
            await pilot.press(*["S"] * 7)
            assert rows(screen) == newest_first

    async def test_a_click_on_a_column_title_sorts_and_a_second_reverses(self, console_app, emails) -> None:
        """With the mouse: the Status title sorts A to Z, a second click Z to A."""
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_outbox(pilot)
            table = screen.query_one(DataTable)
            # The Status title: past the ID column, on the header line.
            x = next(iter(table.columns.values())).get_render_width(table) + 2

            def statuses() -> list[str]:
                return [status for _, status in rows(screen)]

            await pilot.click("#outbox-table", offset=(x, 0))
            await settle(pilot)
            assert statuses() == sorted(statuses())
            await pilot.click("#outbox-table", offset=(x, 0))
            await settle(pilot)
            assert statuses() == sorted(statuses(), reverse=True)
            assert "by Status ↓" in str(screen.query_one("#outbox-count", Static).render())
