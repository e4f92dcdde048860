"""Help, command palette and footer: every key is listed, every action is reachable."""
from __future__ import annotations

import pytest
from textual.command import CommandPalette
from textual.widgets import Label

from tests.tui.conftest import SIZES, count, open_customer, settle
from tui import bindings
from tui.commands import PortalCommands
from tui.screens.dashboard import DashboardScreen
from tui.screens.help import HelpScreen

STILL = dict(poll_seconds=60.0)


async def hits(app, query: str) -> list:
    """What the palette's provider offers for ``query`` on the current screen."""
    provider = PortalCommands(app.screen)
    return [hit async for hit in provider.search(query)]


async def discovered(app) -> list[str]:
    provider = PortalCommands(app.screen)
    return [str(hit.text) async for hit in provider.discover()]


@pytest.mark.parametrize("size", SIZES)
class TestHelpSnapshots:
    def test_help_lists_the_keys(self, snap_compare, console_app, size) -> None:
        """f1 shows the keys, grouped by where they work."""

        async def run(pilot) -> None:
            await settle(pilot)
            await pilot.press("f1")
            await settle(pilot)

        assert snap_compare(console_app(), terminal_size=size, run_before=run)


class TestHelp:
    async def test_help_lists_every_binding(self, console_app) -> None:
        """Every binding in tui/bindings.py appears on the help screen with its keys."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("f1")
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen)
            text = "\n".join(str(label.content) for label in app.screen.query(Label))
            for group in bindings.HELP:
                for binding in group.bindings:
                    assert bindings.help_text(binding) in text
                    assert bindings.key_text(binding) in text
            for binding in (bindings.APP + bindings.DASHBOARD + bindings.PORTAL + bindings.EMAILS
                            + bindings.SETTINGS + bindings.OUTBOX):
                assert bindings.help_text(binding) in text
            await pilot.press("escape")
            assert not isinstance(app.screen, HelpScreen)


class TestPalette:
    async def test_palette_offers_every_global_action(self, console_app) -> None:
        """Before typing, the palette lists search, new customer, settings, outbox, help, quit."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            names = await discovered(app)
            for binding in bindings.APP:
                assert binding.description in names

    async def test_palette_finds_a_customer_by_name_and_opens_it(self, console_app) -> None:
        """Typing a name finds the customer through the service layer; choosing it opens the dashboard."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            found = [hit for hit in await hits(app, "Liskov Substitution")]
            assert [str(hit.text) for hit in found] == ["Open customer Barbara Liskov (C000005)"]
            found[0].command()
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen) and app.screen.reference == "C000005"

    async def test_palette_sends_the_portal_email_of_the_open_customer(self, console_app) -> None:
        """On a dashboard the palette offers the one email the state allows, and it is queued."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000001")
            names = await discovered(app)
            assert "Send Reset Password Email to Ada Lovelace" in names
            assert "Delete the portal username of Ada Lovelace" in names
            [send] = [h for h in await hits(app, "reset password") if "Ada Lovelace" in str(h.text)]
            send.command()
            await settle(pilot)
            assert count("outbox_email", "kind = 'password_reset'") == 1

    async def test_palette_opens_from_the_keyboard_and_runs_a_command(self, console_app) -> None:
        """ctrl+p, type, Enter: the real palette, as an agent uses it."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+p")
            await settle(pilot)
            assert isinstance(app.screen, CommandPalette)
            await pilot.press(*"Thompson Unix")
            await pilot.pause(0.5)
            await settle(pilot)
            await pilot.press("down", "enter")
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen) and app.screen.reference == "C000006"


class TestFooter:
    @pytest.mark.parametrize("size", [(80, 24), (120, 40)])
    async def test_footer_shows_the_dashboard_keys(self, console_app, size) -> None:
        """In the smallest terminal the footer still shows Back, the PORTAL keys and Help."""
        app = console_app(**STILL)
        async with app.run_test(size=size) as pilot:
            await open_customer(pilot, "C000001")
            shown = {key.description for key in app.screen.query("FooterKey") if key.region.right <= size[0]}
            assert {"Back", "Username", "Send email", "Delete", "Help"} <= shown

    async def test_palette_runs_a_global_action(self, console_app) -> None:
        """Choosing 'New customer' in the palette opens the form, as ctrl+n does."""
        from tui.screens.new_customer import NewCustomerScreen

        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+p")
            await settle(pilot)
            await pilot.press(*"new cust")
            await pilot.pause(0.3)
            await pilot.press("down", "enter")
            await settle(pilot)
            assert isinstance(app.screen, NewCustomerScreen)
