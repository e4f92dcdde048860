"""Customer search: results as you type, the state filter, paging, opening a customer."""
from __future__ import annotations

import pytest
from textual.widgets import DataTable, Label, Select

from store.customers import find_customers
from store.values import PortalState
from tests.tui.conftest import SIZES, settle
from tui.screens.dashboard import DashboardScreen


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
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            for state in PortalState:
                app.screen.query_one("#state-filter", Select).value = state.value
                await settle(pilot)
                expected = [c.reference for c in find_customers("", state=state, limit=100).customers]
                assert [str(k.value) for k in results(app).rows] == expected
                assert expected

    async def test_pages_load_as_the_cursor_nears_the_end(self, console_app) -> None:
        """Only a page is loaded at first; moving down loads the next one, never everything at once."""
        app = console_app(page_size=20)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert results(app).row_count == 20
            assert "more below" in status(app)
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

    async def test_letter_shortcut_works_from_the_results(self, console_app) -> None:
        """With the cursor in the results, n opens the new customer form."""
        from tui.screens.new_customer import NewCustomerScreen

        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("down", "n")
            await settle(pilot)
            assert isinstance(app.screen, NewCustomerScreen)


class TestSearchPaging:
    async def test_a_customer_added_between_pages_is_not_shown_twice(self, console_app) -> None:
        """Paging by offset while someone adds a customer: no row appears twice, nothing crashes."""
        from store.customers import add_customer

        app = console_app(page_size=20)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            add_customer(name="Aaron Aardvark", primary_email="aa@example.com", actor="bob")
            await pilot.press("down", "ctrl+end")
            await settle(pilot)
            keys = [str(k.value) for k in results(app).rows]
            assert len(keys) == len(set(keys)) == 39

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
