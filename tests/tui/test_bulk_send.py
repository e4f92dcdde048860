"""Bulk email from the search results: space marks rows, m emails the marked customers, M every
customer the search matches; a question with the counts first, then a progress bar that can be
stopped, then what was done. Real SQLite files; the outbox is read back with plain SQL."""
from __future__ import annotations

import sqlite3

import pytest
from textual.widgets import Button, DataTable, Label, Static

from store import db, demo
from store.bulk import BULK_PRIORITY
from store.search import find_customers
from store.values import PortalState
from tests.tui.conftest import AGENT, SIZES, count, settle, wait_for
from tui.app import PortalConsoleApp
from tui.screens.search import SearchScreen
from tui.widgets.bulk_send import BulkSendModal, Phase


def results(app) -> DataTable:
    return app.screen.query_one("#results", DataTable)


def status(app) -> str:
    return str(app.screen.query_one("#search-status", Label).content)


def message(app) -> str:
    return str(app.screen.query_one("#bulk-message", Static).content)


def marks(app) -> list[str]:
    """The references whose row shows the mark, top to bottom."""
    table = results(app)
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count) if str(table.get_row_at(i)[0])]


def queued_to() -> list[str]:
    """The references of the customers with a bulk email in the outbox."""
    rows = db.database.execute_sql(
        "SELECT c.reference FROM outbox_email o JOIN customer c ON c.id = o.customer_id WHERE o.priority = ? "
        "ORDER BY c.reference", (BULK_PRIORITY,)).fetchall()
    return [row[0] for row in rows]


def marking(*keys: str, then: tuple[str, ...] = ()):
    """In the results: the keys (space marks), then ``then`` (m opens the question)."""
    async def run(pilot) -> None:
        await settle(pilot)
        await pilot.press("down", *keys)
        await settle(pilot)
        await pilot.press(*then)
        await settle(pilot)

    return run


@pytest.mark.parametrize("size", SIZES)
class TestBulkSnapshots:
    def test_marked_rows_show_a_tick_and_the_status_says_how_to_send(self, snap_compare, console_app, size) -> None:
        assert snap_compare(console_app(), terminal_size=size, run_before=marking("space", "down", "space", "space"))

    def test_the_question_gives_the_counts_of_each_email_and_of_the_skipped(
            self, snap_compare, console_app, size) -> None:
        """All 60 demo customers: two emails kinds, and skipped without an address or with a fresh link."""
        assert snap_compare(console_app(), terminal_size=size, run_before=marking(then=("M",)))

    def test_the_end_says_what_was_queued(self, snap_compare, console_app, size) -> None:
        assert snap_compare(console_app(), terminal_size=size,
                            run_before=marking("space", "space", then=("m", "y")))

    def test_nothing_to_send_says_why_and_offers_only_close(self, snap_compare, console_app, size) -> None:
        """The suspended only: every one is skipped, so there is nothing to confirm."""
        from store.panel import suspend_portal

        suspend_portal("C000001", actor=AGENT)

        async def run(pilot) -> None:
            await settle(pilot)
            await pilot.press("ctrl+t", "ctrl+t", "ctrl+t", "ctrl+t")
            await marking(then=("M",))(pilot)

        assert snap_compare(console_app(), terminal_size=size, run_before=run)


class TestMarking:
    async def test_space_marks_and_moves_down_and_marks_outlive_a_new_search(self, console_app) -> None:
        app = console_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await marking("space", "space", "up", "space")(pilot)  # the second one marked, then unmarked
            first = str(results(app).get_row_at(0)[1])
            assert marks(app) == [first]
            assert "1 marked: m emails them" in status(app)
            await pilot.press("slash", *"ghopper")
            await settle(pilot)
            await pilot.press("down", "space")
            await settle(pilot)
            assert isinstance(app.screen, SearchScreen) and set(app.screen.marked) == {first, "C000002"}
            await pilot.press("slash", "escape")  # back to every customer: both ticks show
            await settle(pilot)
            assert set(marks(app)) == {first, "C000002"}
            await pilot.press("down", "U")
            await settle(pilot)
            assert marks(app) == [] and "marked" not in status(app)

    async def test_space_in_the_search_box_is_a_space_not_a_mark(self, console_app) -> None:
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press(*"ada", "space", *"lo")
            await settle(pilot)
            assert app.screen.query_one("#search-input").value == "ada lo"
            assert isinstance(app.screen, SearchScreen) and not app.screen.marked

    async def test_m_with_nothing_marked_says_how_to_mark_and_opens_nothing(self, console_app) -> None:
        app = console_app()
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await marking(then=("m",))(pilot)
            assert isinstance(app.screen, SearchScreen)
            assert any("No customer is marked" in n.message for n in app._notifications)
            assert count("outbox_email", "priority = ?", (BULK_PRIORITY,)) == 0


class TestSending:
    async def test_the_marked_customers_get_their_email_and_nobody_else(self, console_app) -> None:
        app = console_app()
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await marking("space", "space", "down", "space")(pilot)
            marked = sorted(app.screen.marked)
            emails_before = count("outbox_email")
            await pilot.press("m")
            await settle(pilot)
            assert isinstance(app.screen, BulkSendModal) and app.screen.phase is Phase.asking
            assert message(app).startswith("3 customers.\nWould be queued:")
            assert count("outbox_email") == emails_before  # the counts wrote nothing
            await pilot.press("y")
            await settle(pilot)
            assert app.screen.phase is Phase.done and "Queued:" in message(app)
            assert queued_to() == marked
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, SearchScreen) and not app.screen.marked
            assert marks(app) == []
            assert any("3 matching" in n.message for n in app._notifications)
            activity = count("activity_event", "action = 'email queued' AND detail LIKE '%(bulk send)'")
            assert activity == 3

    async def test_all_matching_follows_the_search_text_and_the_state_filter(self, console_app) -> None:
        app = console_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press(*"hooli", "ctrl+t")  # Not set up customers of Hooli
            await settle(pilot)
            expected = sorted(c.reference for c in find_customers(
                "hooli", state=PortalState.not_set_up, limit=100).customers)
            assert len(expected) > 1
            await pilot.press("down", "M")
            await settle(pilot)
            assert "every customer matching 'hooli' whose portal state is Not set up" in str(
                app.screen.query_one("#bulk-title", Label).content)
            await pilot.press("y")
            await settle(pilot)
            assert queued_to() == expected

    async def test_no_and_escape_send_nothing(self, console_app) -> None:
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            for key in ("n", "escape"):
                await marking(then=("M",))(pilot)
                assert app.screen.focused is app.screen.query_one("#bulk-cancel", Button)
                await pilot.press(key)
                await settle(pilot)
                assert isinstance(app.screen, SearchScreen)
                await pilot.press("slash")
            assert count("outbox_email", "priority = ?", (BULK_PRIORITY,)) == 0

    async def test_enter_on_the_question_cancels_it(self, console_app) -> None:
        """The safe button has the focus: a stray Enter sends nothing."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await marking(then=("M", "enter"))(pilot)
            assert isinstance(app.screen, SearchScreen)
            assert count("outbox_email", "priority = ?", (BULK_PRIORITY,)) == 0


@pytest.fixture
def many_customers(tmp_path, fixed_clock):
    """1,200 demo customers on a SQLite file: more than two of the store's batches of 500."""
    path = tmp_path / "many.db"
    db.init(f"sqlite:///{path}")
    demo.seed(customers=1200)
    yield path
    db.close()


class TestStopping:
    async def test_stopping_keeps_what_was_queued_reports_it_and_keeps_the_marks(self, many_customers) -> None:
        """Another connection holds the write lock, so the first batch waits; esc asks to stop;
        the lock goes, the batch in hand commits, and the send stops before the next."""
        app = PortalConsoleApp(agent=AGENT, search_delay=0.0)
        async with app.run_test(size=(120, 40)) as pilot:
            await marking(then=("M",))(pilot)
            assert app.screen.phase is Phase.asking
            blocker = sqlite3.connect(many_customers, isolation_level=None)
            blocker.execute("BEGIN IMMEDIATE")
            try:
                await pilot.press("y")
                await wait_for(lambda: app.screen.phase is Phase.sending)
                await pilot.press("escape")
                await pilot.pause()
                assert "Stopping after the batch in hand" in message(app)
                assert app.screen.query_one("#bulk-cancel", Button).disabled
            finally:
                blocker.rollback()
                blocker.close()
            await wait_for(lambda: app.screen.phase is Phase.done)
            result = app.screen.result
            assert result is not None and result.cancelled
            assert message(app).startswith("Stopped. The rest were not looked at")
            looked = result.queued_total + result.skipped_total
            assert looked < 1200 and f"\n{looked:,} of 1,200 customers looked at." in message(app)
            # What the dialog reports is what the outbox holds: whole batches, not all of them.
            assert len(queued_to()) == result.queued_total < result.matching

    async def test_quitting_while_queueing_asks_first(self, many_customers) -> None:
        app = PortalConsoleApp(agent=AGENT, search_delay=0.0)
        async with app.run_test(size=(120, 40)) as pilot:
            await marking(then=("M",))(pilot)
            blocker = sqlite3.connect(many_customers, isolation_level=None)
            blocker.execute("BEGIN IMMEDIATE")
            try:
                await pilot.press("y")
                await wait_for(lambda: app.screen.phase is Phase.sending)
                assert "an action is still running (it may or may not complete)" in app.unfinished_work()
            finally:
                blocker.rollback()
                blocker.close()
            await wait_for(lambda: app.screen.phase is Phase.done)


class TestPalette:
    async def test_the_palette_offers_the_bulk_emails_and_opens_the_question(self, console_app) -> None:
        from tui.commands import PortalCommands

        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            provider = PortalCommands(app.screen)
            names = [str(hit.text) async for hit in provider.discover()]
            assert {"Search: Email marked", "Search: Email all matching", "Search: Unmark all"} <= set(names)
            [every] = [hit async for hit in provider.search("Email all matching")
                       if str(hit.text) == "Search: Email all matching"]
            app.call_later(every.command)
            await settle(pilot)
            assert isinstance(app.screen, BulkSendModal) and app.screen.phase is Phase.asking


class TestTypingFast:
    async def test_keys_pressed_while_the_results_are_read_again_are_not_undone(self, console_app) -> None:
        """Closing the dialog reads the results again (states changed); a ↓ and a space typed
        at once land on the row below, not back on the row the cursor had before."""
        app = console_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await marking("space", then=("m", "y"))(pilot)
            search = next(screen for screen in app.screen_stack if isinstance(screen, SearchScreen))
            below = str(search.query_one("#results", DataTable).get_row_at(2)[1])
            await pilot.press("enter", "down", "space")
            await settle(pilot)
            assert isinstance(app.screen, SearchScreen) and list(app.screen.marked) == [below]
