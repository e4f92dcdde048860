"""Customer search: results as you type, the state filter, paging, opening a customer."""
from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, Label, Select

from store import db
from store.search import find_customers
from store.values import PortalState
from store.panel import suspend_portal
from tests.tui.conftest import AGENT, SIZES, settle
from tui.screens.dashboard import DashboardScreen
from tui.screens.search import SearchScreen


def results(app) -> DataTable:
    return app.screen.query_one("#results", DataTable)


def status(app) -> str:
    return str(app.screen.query_one("#search-status", Label).content)


def typed(*keys: str):
    async def run(pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
        await settle(pilot)

    return run


@pytest.mark.parametrize("size", SIZES)
class TestSearchSnapshots:
    def test_home_lists_customers_by_name(self, snap_compare, console_app, size) -> None:
        """Before anything is typed, the first page of customers in name order."""
        assert snap_compare(console_app(), terminal_size=size, run_before=typed())

    def test_search_filtered_by_text_and_state(self, snap_compare, console_app, size) -> None:
        """'ada' among Active customers only: the filter and the text narrow together."""
        assert snap_compare(console_app(), terminal_size=size, run_before=typed(*"ada", "ctrl+t", "ctrl+t", "ctrl+t"))

    def test_no_match_says_so(self, snap_compare, console_app, size) -> None:
        """A search that finds nobody says what was searched."""
        assert snap_compare(console_app(), terminal_size=size, run_before=typed(*"zzz-nobody"))


class TestSearchPilot:
    async def test_down_goes_to_the_results_then_moves_down_them(self, console_app) -> None:
        """The first ↓ leaves the search box for the first row; each next one moves a row down
        (the screen's ↓ must not take the table's own key), and ↑ comes back up."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("down", "down", "down", "down", "up")
            await settle(pilot)
            assert app.focused is results(app) and results(app).cursor_row == 2

    async def test_results_follow_typing_over_every_field(self, console_app) -> None:
        """A username, an address and a company each find their customer as you type."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            for text, reference in (("ghopper", "C000002"), ("dmr@unix", "C000006"), ("bletchley", "C000003")):
                app.screen.query_one("#search-input").value = text
                await settle(pilot)
                table = results(app)
                assert [str(k.value) for k in table.rows] == [reference], text

    async def test_state_filter_matches_the_service_layer(self, console_app) -> None:
        """Each portal state filter shows exactly what find_customers returns for it."""
        suspend_portal("C000001", "non-payment", actor=AGENT)  # the demo has no suspended customer
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            for state in PortalState:
                app.screen.query_one("#state-filter", Select).value = state.value
                await settle(pilot)
                expected = [c.reference for c in find_customers("", state=state, limit=100).customers]
                assert [str(k.value) for k in results(app).rows] == expected
                assert expected

    async def test_ctrl_t_cycles_through_every_state_to_suspended(self, console_app) -> None:
        """The filter's cycle: all, not set up, awaiting, active, suspended, and round again."""
        suspend_portal("C000001", actor=AGENT)
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+t", "ctrl+t", "ctrl+t", "ctrl+t")
            await settle(pilot)
            assert app.screen.query_one("#state-filter", Select).value == PortalState.suspended.value
            assert [str(k.value) for k in results(app).rows] == ["C000001"]
            assert "Suspended" in str(results(app).get_row_at(0)[-1])
            await pilot.press("ctrl+t")
            await settle(pilot)
            assert app.screen.query_one("#state-filter", Select).value == "all"

    async def test_pages_load_as_the_cursor_nears_the_end(self, console_app) -> None:
        """Only a page is loaded at first; moving down loads the next one, never everything at once."""
        app = console_app(page_size=20)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert results(app).row_count == 20
            assert status(app) == "60 customers match; 20 shown by name, more below. Enter opens."
            await pilot.press("down")
            await pilot.press("ctrl+end")
            await settle(pilot)
            assert results(app).row_count == 40
            await pilot.press("ctrl+end")
            await settle(pilot)
            assert results(app).row_count == 60
            assert status(app).startswith("60 customers")

    async def test_enter_opens_the_highlighted_customer(self, console_app) -> None:
        """Enter in the search box opens the first result's Customer Dashboard."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"liskov substitution")
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen)
            assert app.screen.reference == "C000005"

    async def test_letters_type_into_the_search_box_not_shortcuts(self, console_app) -> None:
        """n, s, o and q are search text while the box has the cursor; they don't open screens or quit."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"snoq")
            await settle(pilot)
            assert app.screen.query_one("#search-input").value == "snoq"
            assert app.is_running and len(app.screen_stack) == 1

    async def test_letters_in_the_results_are_not_shortcuts(self, console_app) -> None:
        """With the cursor in the results, n opens nothing (a typist's name must not open forms);
        ctrl+n does."""
        from tui.screens.new_customer import NewCustomerScreen

        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("down", "n")
            await settle(pilot)
            assert isinstance(app.screen, SearchScreen)
            await pilot.press("ctrl+n")
            await settle(pilot)
            assert isinstance(app.screen, NewCustomerScreen)


class TestCountAndMarks:
    async def test_the_searched_word_is_marked_where_it_matched(self, console_app) -> None:
        """'love' is marked inside 'Lovelace' (any case), and only there."""
        app = console_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press(*"love")
            await settle(pilot)
            name = results(app).get_row_at(0)[2]
            assert str(name) == "Ada Lovelace"
            assert [(span.start, span.end, str(span.style)) for span in name.spans] == [(4, 8, "bold underline")]
            assert "best match first" in status(app)

    async def test_a_big_result_says_how_many_match_up_to_the_bound(self, console_app, monkeypatch) -> None:
        """More customers than shown: the count says how many, '10,000+' beyond the bound."""
        from store import search

        monkeypatch.setattr(search, "COUNT_BOUND", 25)
        app = console_app(page_size=20)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert status(app) == "25+ customers match; 20 shown by name, more below. Enter opens."


class TestBackToSearch:
    @pytest.mark.parametrize("key", ["ctrl+f", "slash"])
    async def test_typing_after_going_back_replaces_the_last_search(self, console_app, key) -> None:
        """From a dashboard, ctrl+f (or /) then a name: the name replaces the old search, and finds its customer."""
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press(*"lovelace", "enter")
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen)
            await pilot.press(key, *"grace")
            await settle(pilot)
            assert isinstance(app.screen, SearchScreen)
            assert app.screen.query_one("#search-input").value == "grace"
            assert [str(k.value) for k in results(app).rows] == ["C000002"]
            assert "No customer matches" not in status(app)

    async def test_typing_after_esc_back_replaces_the_last_search(self, console_app) -> None:
        """Esc from the dashboard back to the search box: the old search is selected, typing replaces it."""
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press(*"lovelace", "enter")
            await settle(pilot)
            await pilot.press("escape")
            await settle(pilot)
            await pilot.press(*"grace")
            await settle(pilot)
            assert app.screen.query_one("#search-input").value == "grace"

    async def test_ctrl_f_in_the_box_selects_the_search_and_home_keeps_it(self, console_app) -> None:
        """The twin: the selected search is kept when the cursor moves; only typing replaces it."""
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press(*"grace", "down")
            await settle(pilot)
            await pilot.press("slash", "end", *" hopper")
            await settle(pilot)
            assert app.screen.query_one("#search-input").value == "grace hopper"


class TestTableKeys:
    async def test_g_and_capital_g_jump_to_the_first_and_last_row(self, console_app) -> None:
        """g / G and Home / End in the results, as in k9s or htop; the last row loads the next page."""
        app = console_app(page_size=20)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("down", "G")
            await settle(pilot)
            table = results(app)
            assert table.row_count == 40 and table.cursor_row == 19
            await pilot.press("g")
            assert table.cursor_row == 0
            await pilot.press("end")
            await settle(pilot)
            assert table.cursor_row == 39
            await pilot.press("home")
            assert table.cursor_row == 0

    async def test_page_down_and_up_move_a_page(self, console_app) -> None:
        """PgDn moves the cursor by a screenful of rows, PgUp back."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("down", "pagedown")
            table = results(app)
            assert table.cursor_row > 5
            await pilot.press("pageup")
            assert table.cursor_row == 0

    async def test_home_and_g_in_the_search_box_are_the_boxs(self, console_app) -> None:
        """The twin: in the search box g is a letter and Home moves the text cursor."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press(*"race", "home", "g")
            await settle(pilot)
            assert app.screen.query_one("#search-input").value == "grace"


class TestSearchPaging:
    async def test_a_customer_added_between_pages_is_not_shown_twice(self, console_app) -> None:
        """Paging by cursor while someone adds a customer: no row appears twice and none is
        skipped (the newcomer sorts before the rows already shown, so it waits for a new search)."""
        from store.customers import add_customer

        app = console_app(page_size=20)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            add_customer(name="Aaron Aardvark", primary_email="aa@example.com", actor="bob")
            await pilot.press("down", "ctrl+end")
            await settle(pilot)
            keys = [str(k.value) for k in results(app).rows]
            assert keys == [c.reference for c in find_customers("", limit=41).customers][1:]

    async def test_first_page_does_not_wait_the_typing_pause(self, console_app) -> None:
        """The typing pause is for bursts of keys; the home screen's first page comes at once."""
        import asyncio

        app = console_app(search_delay=5.0)
        async with app.run_test(size=(80, 24)) as pilot:
            for _ in range(50):
                await asyncio.sleep(0.02)
                if results(app).row_count:
                    break
            assert results(app).row_count == 60
            await pilot.press("x")
            await asyncio.sleep(0.3)
            assert results(app).row_count == 60  # typed text waits the pause


    async def test_the_first_page_is_asked_for_once(self, console_app, monkeypatch) -> None:
        """At start the state filter reports a change and the screen is shown for the first
        time: neither asks again for the page the screen asked for on mount (each did, and the
        console ran its first query two or three times). Back from a dashboard it asks again,
        for the states changed there, and a changed filter asks too."""
        import tui.screens.search as search_screen

        asked: list[tuple[str, PortalState | None]] = []

        def counting_find_customers(text, **options):
            asked.append((text, options.get("state")))
            return find_customers(text, **options)

        monkeypatch.setattr(search_screen, "find_customers", counting_find_customers)
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.pause(0.3)
            assert asked == [("", None)] and results(app).row_count == 60
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen)
            await pilot.press("escape")
            await settle(pilot)
            assert asked == [("", None), ("", None)]
            app.screen.query_one("#state-filter", Select).value = PortalState.active.value
            await settle(pilot)
            assert asked[2:] == [("", PortalState.active)]


class TestSortingResults:
    async def test_s_in_the_results_sorts_by_reference_then_company(self, console_app) -> None:
        """S in the results asks the store for another order (all matches, not only the rows loaded);
        in the search box S is a letter."""
        app = console_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("down", "S")
            await settle(pilot)
            table = results(app)
            shown = [table.get_row_at(row)[1] for row in range(table.row_count)]
            assert shown == sorted(shown) and shown[0] == "C000001"
            assert "by reference" in status(app)
            await pilot.press("S")
            await settle(pilot)
            companies = [str(table.get_row_at(row)[3]) for row in range(table.row_count)]
            assert companies == sorted(companies, key=str.casefold) and "by company" in status(app)
            await pilot.press("slash", "S")
            await settle(pilot)
            assert app.screen.query_one("#search-input", Input).value == "S"


class TestSearchStatusWhileItRuns:
    async def test_the_line_counts_no_old_rows_while_a_new_search_runs(self, console_app) -> None:
        """The last search's rows stay on screen while the new one runs (no blank flash between
        keys), and the line above them says it is searching for the new text; it used to say
        "100+ customers match" of rows that were found for the old one."""
        app = console_app(search_delay=5.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert "customers match" in status(app) or "customers by" in status(app)
            await pilot.press(*"grace")
            await pilot.pause(0.2)
            assert results(app).row_count == 60
            assert status(app) == "Searching for 'grace'…"

    async def test_a_search_that_fails_says_so_and_keeps_the_rows_from_before(self, console_app) -> None:
        """The search index gone from under the console (renamed by hand in the database): the
        error modal says the database failed, Esc closes it for good, and the line says the
        rows are not the new search's. With the index back, editing the text searches again."""
        from tui.widgets.error_modal import ErrorModal

        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            db.database.execute_sql("ALTER TABLE customer_search RENAME TO customer_search_away")
            try:
                app.screen.query_one("#search-input", Input).value = "grace"
                await settle(pilot)
                assert isinstance(app.screen, ErrorModal)
                await pilot.press("escape")
                await settle(pilot)
                # Closing the message doesn't search again (and fail again, with a new message).
                assert isinstance(app.screen, SearchScreen)
                assert status(app) == "The search did not run; the rows below are from before. Edit the text to try again."
                assert results(app).row_count == 60
            finally:
                db.database.execute_sql("ALTER TABLE customer_search_away RENAME TO customer_search")
            await pilot.press("end", "backspace")  # the box holds 'grace', selected: End keeps it
            await settle(pilot)
            assert [str(k.value) for k in results(app).rows] == ["C000002"]
            assert "1 customer" in status(app)

    async def test_rows_from_before_a_failed_search_are_not_paged_on_with_its_text(self, console_app) -> None:
        """After a search that failed, the rows shown are the last search's: moving down to their
        end must not ask for a next page of the new text from the old search's cursor (a page of
        one search appended to the other's)."""
        app = console_app(page_size=20)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            before = [str(k.value) for k in results(app).rows]
            db.database.execute_sql("ALTER TABLE customer_search RENAME TO customer_search_away")
            try:
                app.screen.query_one("#search-input", Input).value = "a"
                await settle(pilot)
                await pilot.press("escape")
                await settle(pilot)
            finally:
                db.database.execute_sql("ALTER TABLE customer_search_away RENAME TO customer_search")
            await pilot.press("down", "ctrl+end")
            await settle(pilot)
            assert [str(k.value) for k in results(app).rows] == before
            assert status(app).startswith("The search did not run")

    async def test_a_next_page_that_fails_keeps_the_rows_and_says_so(self, console_app) -> None:
        """The first 20 rows shown, then the index gone: moving down to the end asks for the next
        page, which fails; the 20 rows stay, the line says the next ones could not be read, and
        moving down again with the index back loads them."""
        from tui.widgets.error_modal import ErrorModal

        app = console_app(page_size=20)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            db.database.execute_sql("ALTER TABLE customer_search RENAME TO customer_search_away")
            try:
                await pilot.press("down", "ctrl+end")
                await settle(pilot)
                assert isinstance(app.screen, ErrorModal)
                await pilot.press("escape")
                await settle(pilot)
                assert status(app) == "20 shown; the next rows could not be read. Move down to try again."
                assert results(app).row_count == 20
            finally:
                db.database.execute_sql("ALTER TABLE customer_search_away RENAME TO customer_search")
            await pilot.press("up", "down")
            await settle(pilot)
            assert results(app).row_count == 40 and "the next rows" not in status(app)
