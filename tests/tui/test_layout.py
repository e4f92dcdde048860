"""Layout at small terminals: toasts beside the working area, the Activity section's
highlighted event in full, the help screen's own footer, Settings' switches that don't
run into their explanations, and f1 Help in the footer at 60 columns."""
from __future__ import annotations

import pytest
from textual.geometry import Region
from textual.widgets import DataTable, Footer, Label, Static, Switch

from store import activity, panel
from store.models import Customer
from tests.tui.conftest import AGENT, SIZES, open_customer, settle
from tui.screens.dashboard import DashboardScreen
from tui.screens.help import HelpScreen
from tui.screens.settings import SWITCHES, SettingsScreen
from tui.widgets.activity_section import ActivitySection

STILL = dict(poll_seconds=60.0)
# The smallest terminal f1 Help must stay visible in.
NARROW = (60, 20)


def toasts(app) -> list[Region]:
    """Where the toasts are on the screen."""
    return [toast.region for toast in app.screen.query("Toast")]


def footer_keys(app) -> dict[str, Region]:
    """The keys the current screen's own footer shows, by description, with where they are."""
    footer = app.screen.query_one(Footer)
    return {key.description: key.region for key in footer.query("FooterKey") if key.display}


def on_screen(region: Region, size: tuple[int, int]) -> bool:
    """True when all of ``region`` is inside a terminal of ``size``."""
    return bool(region) and Region(0, 0, *size).contains_region(region)


def history(reference: str) -> None:
    """Events whose Change is longer than the column at 80x24, and one with control characters."""
    customer_id = Customer.get(Customer.reference == reference).id
    panel.set_username(reference, "aturing", expected_version=None, actor=AGENT)
    panel.set_username(reference, "alan.turing.of.bletchley.park", expected_version=None, actor="bob")
    activity.record(customer_id, "importer", "note added", "line one\nline two \x1b[31m[red]not markup[/red]",
                    old="", new="a\tb")
    panel.send_portal_email(reference, actor=AGENT)


async def send_email(pilot) -> None:
    """Grace Hopper's dashboard, m: the email goes to both addresses and a toast says so."""
    await open_customer(pilot, "C000002")
    await pilot.press("m")
    await settle(pilot)
    await pilot.pause(0.2)


async def activity_row(pilot, reference: str, row: int) -> None:
    """The Activity section of ``reference`` with the cursor on ``row``."""
    await open_customer(pilot, reference)
    await pilot.press("a")
    await settle(pilot)
    table = pilot.app.screen.query_one("#activity-table", DataTable)
    table.focus()
    table.move_cursor(row=row, animate=False)
    await settle(pilot)


async def settings_with_one_switch_off(pilot) -> None:
    """Settings with Customer Credential Create switched off (space on the first switch)."""
    await settle(pilot)
    await pilot.press("ctrl+s")
    await settle(pilot)
    await pilot.press("space")
    await settle(pilot)
    # The "Setting saved" toast is tested above; it would only hide the title bar here.
    pilot.app.clear_notifications()
    await pilot.pause(0.2)


@pytest.mark.parametrize("size", SIZES)
class TestLayoutSnapshots:
    def test_toast_leaves_the_portal_panel_in_sight(self, snap_compare, console_app, size) -> None:
        """Right after an email is sent the toast is at the top right; "Goes to" reads in full."""
        assert snap_compare(console_app(**STILL), terminal_size=size, run_before=send_email)

    def test_activity_shows_the_highlighted_event_in_full(self, snap_compare, console_app, size) -> None:
        """Under the Activity table, the highlighted event with its whole change, plain text."""

        async def run(pilot) -> None:
            history("C000003")
            await activity_row(pilot, "C000003", 2)

        assert snap_compare(console_app(**STILL), terminal_size=size, run_before=run)

    def test_help_footer_shows_only_its_own_keys(self, snap_compare, console_app, size) -> None:
        """f1 on the dashboard: the footer says scroll and close, not the dashboard's keys."""

        async def run(pilot) -> None:
            await open_customer(pilot, "C000001")
            await pilot.press("f1")
            await settle(pilot)

        assert snap_compare(console_app(**STILL), terminal_size=size, run_before=run)

    def test_switch_off_is_apart_from_its_title_and_explanation(self, snap_compare, console_app, size) -> None:
        """A switch that is off: the name on its line, then switch, Off and what on would do."""
        assert snap_compare(console_app(), terminal_size=size, run_before=settings_with_one_switch_off)


class TestToasts:
    @pytest.mark.parametrize("size", [(80, 24), (120, 40)])
    async def test_toast_covers_neither_the_sections_nor_goes_to(self, console_app, size) -> None:
        """The toast of an action sits above the sections: the PORTAL panel stays readable."""
        app = console_app(**STILL)
        async with app.run_test(size=size, notifications=True) as pilot:
            await send_email(pilot)
            shown = toasts(app)
            assert shown, "the email's toast is shown"
            recipients = app.screen.query_one("#email-recipients", Static)
            assert "Goes to all 2 addresses" in str(recipients.content)
            sections = app.screen.query_one("#sections").region
            for toast in shown:
                assert not toast.overlaps(recipients.region)
                assert not toast.overlaps(sections)
                assert toast.width <= size[0] // 2

    async def test_settings_toast_leaves_the_switches_in_sight(self, console_app) -> None:
        """A saved setting's toast covers the title bar, not the switch that was just toggled."""
        app = console_app()
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)
            await pilot.press("space")
            await settle(pilot)
            await pilot.pause(0.2)
            shown = toasts(app)
            assert shown
            row = app.screen.query_one(f"#row-{SWITCHES[0].key}").region
            assert not any(toast.overlaps(row) for toast in shown)


class TestActivityDetail:
    async def test_the_highlighted_event_is_shown_in_full(self, console_app) -> None:
        """The Change column is cut at 80x24; the line under the table has all of it."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            history("C000003")
            await activity_row(pilot, "C000003", 2)
            detail = str(app.screen.query_one("#activity-detail", Static).content)
            assert "bob: username changed" in detail
            assert "aturing -> alan.turing.of.bletchley.park" in detail
            # The table's own Change cell is cut short here; the detail line is not.
            table = app.screen.query_one("#activity-table", DataTable)
            assert table.region.right <= 80

            await pilot.press("down")
            await settle(pilot)
            assert "alice: username set; (none) -> aturing" in str(
                app.screen.query_one("#activity-detail", Static).content)

    async def test_values_are_plain_and_terminal_safe(self, console_app) -> None:
        """Control characters show as escapes, brackets as brackets, no value as (none) or (empty)."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            history("C000003")
            await activity_row(pilot, "C000003", 1)
            section = app.screen.query_one(ActivitySection)
            assert section.selected is not None and section.selected.action == "note added"
            detail = str(app.screen.query_one("#activity-detail", Static).content)
            assert detail.endswith(
                r"importer: note added; line one\nline two \x1b[31m[red]not markup[/red]; (empty) -> a\tb")
            assert all(ch.isprintable() for ch in detail)
            table = app.screen.query_one("#activity-table", DataTable)
            for cell in table.get_row_at(1):
                assert all(ch.isprintable() for ch in str(cell))
            assert "[red]not markup[/red]" in str(table.get_row_at(1)[3])

    async def test_the_highlight_stays_on_its_row_when_the_log_is_read_again(self, console_app) -> None:
        """A refresh (a change elsewhere) keeps the cursor, and the detail line, where they were."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            history("C000003")
            await activity_row(pilot, "C000003", 2)
            section = app.screen.query_one(ActivitySection)
            section.entries = tuple(section.entries or ())[:]  # the same events, shown again
            await settle(pilot)
            assert "bob: username changed" in str(app.screen.query_one("#activity-detail", Static).content)

    async def test_no_events_no_detail(self, console_app) -> None:
        """A customer with nothing recorded shows no detail line text."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000003")
            section = app.screen.query_one(ActivitySection)
            section.entries = ()
            await settle(pilot)
            assert str(app.screen.query_one("#activity-detail", Static).content) == ""


class TestHelpFooter:
    @pytest.mark.parametrize("size", [(80, 24), NARROW])
    async def test_help_footer_shows_close_and_scroll_only(self, console_app, size) -> None:
        """The help screen has its own footer at the bottom row, with its own two keys."""
        app = console_app(**STILL)
        async with app.run_test(size=size) as pilot:
            await open_customer(pilot, "C000001")
            await pilot.press("f1")
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen)
            keys = footer_keys(app)
            assert set(keys) == {"Close", "Scroll"}
            assert all(on_screen(region, size) for region in keys.values())
            footer = app.screen.query_one(Footer).region
            assert footer == Region(0, size[1] - 1, size[0], 1)

    async def test_the_footer_keys_work(self, console_app) -> None:
        """↓ scrolls the list of keys, esc closes it."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000001")
            await pilot.press("f1")
            await settle(pilot)
            keys = app.screen.query_one("#help-keys")
            await pilot.press("down", "down")
            await settle(pilot)
            assert keys.scroll_y > 0
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen)


class TestSettingsSwitches:
    @pytest.mark.parametrize("size", [(80, 24), (120, 40)])
    async def test_switch_state_title_and_explanation_do_not_overlap(self, console_app, size) -> None:
        """Each part of a switch row has its own cells, and the title its own line."""
        app = console_app()
        async with app.run_test(size=size) as pilot:
            await settings_with_one_switch_off(pilot)
            screen = app.screen
            assert isinstance(screen, SettingsScreen)
            assert str(screen.query_one(f"#state-{SWITCHES[0].key}", Label).render()) == "Off"
            for spec in SWITCHES:
                row = screen.query_one(f"#row-{spec.key}")
                parts = [row.query_one(Switch).region, row.query_one(".switch-state").region,
                         row.query_one(".switch-title").region, row.query_one(".switch-help").region]
                for index, part in enumerate(parts):
                    assert on_screen(part, size)
                    for other in parts[index + 1:]:
                        assert not part.overlaps(other)
                title = parts[2]
                # Nothing else on the title's line: "Off" can't read as part of the name.
                assert all(part.y != title.y for part in parts[:2] + parts[3:])
                # The explanation starts after the state, with a gap.
                assert parts[3].x > parts[1].x + len("Off")

    async def test_the_explanation_reads_in_full_at_80x24(self, console_app) -> None:
        """The longer explanation isn't cut at 80 columns."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_with_one_switch_off(pilot)
            for spec in SWITCHES:
                help_ = app.screen.query_one(f"#row-{spec.key} .switch-help", Static)
                lines = help_.region.height
                assert help_.region.right <= 80
                assert lines * help_.content_region.width >= len(spec.explanation)


class TestFooterAtSixtyColumns:
    async def _help_is_shown(self, app) -> None:
        keys = footer_keys(app)
        assert "Help" in keys, list(keys)
        assert on_screen(keys["Help"], NARROW)

    async def test_search_footer_shows_help(self, console_app) -> None:
        app = console_app(**STILL)
        async with app.run_test(size=NARROW) as pilot:
            await settle(pilot)
            await self._help_is_shown(app)

    @pytest.mark.parametrize("tab", ["p", "e", "a"])
    async def test_dashboard_footer_shows_help(self, console_app, tab) -> None:
        """On every section, with PORTAL's keys as well as Back and Edit customer."""
        app = console_app(**STILL)
        async with app.run_test(size=NARROW) as pilot:
            await open_customer(pilot, "C000002")
            await pilot.press(tab)
            await settle(pilot)
            await self._help_is_shown(app)

    async def test_settings_and_outbox_footers_show_help(self, console_app) -> None:
        app = console_app(**STILL)
        async with app.run_test(size=NARROW) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)
            await self._help_is_shown(app)
            await pilot.press("escape", "ctrl+o")
            await settle(pilot)
            await self._help_is_shown(app)

    async def test_f1_from_the_narrow_dashboard_opens_help(self, console_app) -> None:
        """The key the footer shows works."""
        app = console_app(**STILL)
        async with app.run_test(size=NARROW) as pilot:
            await open_customer(pilot, "C000002")
            await pilot.press("f1")
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen)
