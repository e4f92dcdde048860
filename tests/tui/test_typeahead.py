"""Type-ahead: keys that arrive in one burst with the key that opens a screen (a fast
typist, or keystrokes bunched together by a slow SSH link) land on the new screen."""
from __future__ import annotations

from textual import events
from textual.widgets import Input

from tui.screens.new_customer import NewCustomerScreen

from .conftest import count, login_of, open_customer, settle

# What the terminal would send for each character typed.
_KEY_NAMES = {" ": "space", "@": "at", ".": "full_stop", ";": "semicolon"}


def burst(app, *keys: str) -> None:
    """Queue keys all at once, without waiting for any of them to be handled."""
    for key in keys:
        if len(key) == 1:
            app.post_message(events.Key(_KEY_NAMES.get(key, key), key))
        else:
            app.post_message(events.Key(key, None))


# A whole new customer, typed right after ctrl+n without waiting for the form.
NEW_CUSTOMER_KEYS = ("ctrl+n", *"Joan Clarke", "tab", *"Hut 8", "tab", *"joan@hut8.example")


class TestTypeAhead:
    async def test_a_burst_after_ctrl_n_fills_the_new_customer_form(self, console_app) -> None:
        """ctrl+n, a name, tab, a company, tab and an address in one burst: each lands in its field."""
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            before = count("customer")
            burst(app, *NEW_CUSTOMER_KEYS)
            await settle(pilot)
            assert isinstance(app.screen, NewCustomerScreen)
            fields = {field.id: field.value for field in app.screen.query(Input)}
            assert fields["field-name"] == "Joan Clarke"
            assert fields["field-company"] == "Hut 8"
            assert fields["field-primary_email"] == "joan@hut8.example"
            assert count("customer") == before

    async def test_ctrl_s_typed_ahead_saves_what_was_typed_before_it(self, console_app) -> None:
        """The whole form and ctrl+s in one burst: the save waits for the letters before it."""
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            before = count("customer")
            burst(app, *NEW_CUSTOMER_KEYS, "ctrl+s")
            await settle(pilot)
            await settle(pilot)
            assert count("customer") == before + 1
            assert count("customer", "name = ? AND company = ?", ("Joan Clarke", "Hut 8")) == 1

    async def test_keys_typed_at_a_normal_pace_still_reach_the_search_box(self, console_app) -> None:
        """The twin: without a new screen nothing is held, and typing searches as before."""
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press(*"grace")
            await settle(pilot)
            assert app.screen.query_one("#search-input", Input).value == "grace"
            assert not app._held_keys

    async def test_a_burst_after_u_lands_in_the_username_field(self, console_app) -> None:
        """On the dashboard, u and a new username in one burst: the letters reach the field."""
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000003")
            burst(app, "u", *"alan.t")
            await settle(pilot)
            assert app.screen.query_one("#username-input", Input).value == "alan.t"

    async def test_u_typed_in_a_text_field_is_a_letter(self, console_app) -> None:
        """The twin: with the cursor in the username field, u is typed, never an action."""
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000003")
            await pilot.press("u")
            burst(app, *"uu")
            await settle(pilot)
            assert app.screen.query_one("#username-input", Input).value == "uu"

    async def test_a_burst_after_slash_lands_in_the_search_box(self, console_app) -> None:
        """From the results table, / and a name in one burst search for that name."""
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("down")
            await settle(pilot)
            burst(app, "slash", *"grace")
            await settle(pilot)
            assert app.screen.query_one("#search-input", Input).value == "grace"

    async def test_a_burst_after_slash_on_a_dashboard_searches_for_it(self, console_app) -> None:
        """/ and a name in one burst on a dashboard: back to search with the name in the box, as ctrl+f does."""
        from tui.screens.search import SearchScreen

        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000002")
            burst(app, "slash", *"hedy")
            await settle(pilot)
            assert isinstance(app.screen, SearchScreen)
            assert app.screen.query_one("#search-input", Input).value == "hedy"

    async def test_slash_typed_in_a_text_field_is_a_character(self, console_app) -> None:
        """The twin: with the cursor in the username field, / and ? are typed, never actions."""
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000003")
            await pilot.press("u")
            burst(app, *"a/b?c")
            await settle(pilot)
            assert app.screen.query_one("#username-input", Input).value == "a/b?c"

    def test_every_key_that_opens_a_screen_is_eager(self) -> None:
        """ctrl+f and /, f1 and ?, ctrl+n, ctrl+s, ctrl+o: whichever twin is typed, what follows lands there."""
        from tui import bindings

        leading = [b for b in bindings.APP if b.action in {"open_search", "help", "new_customer",
                                                          "open_settings", "open_outbox"}]
        assert {key for b in leading for key in b.key.split(",")} <= bindings.EAGER_KEYS
        assert {"slash", "question_mark"} <= bindings.EAGER_KEYS


class TestLettersAreNotGlobal:
    async def test_a_name_typed_on_a_dashboard_opens_no_form(self, console_app) -> None:
        """'anna' typed on a dashboard with no field focused: no New customer form, nothing quits."""
        from tui.screens.dashboard import DashboardScreen

        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000002")
            await pilot.press(*"anna")
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen)
            assert app.is_running

    async def test_letters_in_the_results_open_nothing_and_do_not_quit(self, console_app) -> None:
        """n, s, o and q with the cursor in the search results: no screen opens, the console stays."""
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("down")
            await settle(pilot)
            for key in "nsoq":
                await pilot.press(key)
                await settle(pilot)
                assert len(app.screen_stack) == 1 and app.is_running, key

    async def test_a_burst_after_ctrl_n_from_a_dashboard_fills_the_name(self, console_app) -> None:
        """The control twin still opens the form from anywhere, and the name typed with it lands in it."""
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000002")
            burst(app, "ctrl+n", *"Quick Typist")
            await settle(pilot)
            assert isinstance(app.screen, NewCustomerScreen)
            assert app.screen.query_one("#field-name", Input).value == "Quick Typist"


class TestEditingKeysInOrder:
    async def test_ctrl_u_then_a_name_in_one_burst_keeps_the_name(self, console_app) -> None:
        """u, ctrl+u and a new username typed in one go: the field holds the new name, not nothing
        (Textual ran ctrl+u after the letters behind it, clearing what was just typed)."""
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000001")
            burst(app, "u", "ctrl+u", *"zelda.one")
            await settle(pilot)
            assert app.screen.query_one("#username-input", Input).value == "zelda.one"

    async def test_backspace_and_arrows_land_where_they_were_typed(self, console_app) -> None:
        """A typo mended at speed: 'abx', backspace, 'c', ←, 'Z' reads 'abZc'."""
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            burst(app, "ctrl+f", *"abx", "backspace", "c", "left", "Z")
            await settle(pilot)
            assert app.screen.query_one("#search-input", Input).value == "abZc"

    async def test_enter_typed_right_after_a_username_updates_with_all_of_it(self, console_app) -> None:
        """u, ctrl+u, a name and Enter in one burst save the whole name."""
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000003")
            burst(app, "u", "ctrl+u", *"alan.t", "enter")
            await settle(pilot)
        assert login_of("C000003")[0] == "alan.t"


class TestLeavingTheSearchBoxAtSpeed:
    async def test_down_then_s_in_one_burst_sorts_instead_of_typing(self, console_app) -> None:
        """↓ from the search box and S right after it: the results sort by reference, the query stays."""
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            burst(app, "down", "S")
            await settle(pilot)
            assert app.screen.query_one("#search-input", Input).value == ""
            assert app.screen.order.value == "reference"

    async def test_a_letter_typed_in_the_search_box_stays_a_letter(self, console_app) -> None:
        """The twin: u and S typed in the box are text, not the dashboard's or the results' keys."""
        app = console_app(poll_seconds=60.0)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            burst(app, *"uS")
            await settle(pilot)
            assert app.screen.query_one("#search-input", Input).value == "uS"
            assert app.screen.order.value == "name"
