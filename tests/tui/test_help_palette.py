"""Help, command palette and footer: every key is listed, every action is reachable."""
from __future__ import annotations

import pytest
from textual.binding import Binding
from textual.command import CommandPalette
from textual.widgets import Label

from tests.tui.conftest import AGENT, SIZES, count, open_customer, settle
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
    async def test_help_lists_every_key_a_screen_or_widget_declares(self, console_app) -> None:
        """Every binding any screen, widget or modal of the console declares (read from the classes
        themselves, not from the lists help is built from) is on the help screen with its keys."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("f1")
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen)
            text = "\n".join(str(label.content) for label in app.screen.query(Label))
            declared = declared_bindings()
            assert len(declared) > 30
            for owner, binding in declared:
                assert bindings.help_text(binding) in text, f"{owner}: {binding.key} -> {binding.action}"
                first_key = bindings.key_text(binding).split(", ")[0]
                assert first_key in text, f"{owner}: {binding.key}"
            await pilot.press("escape")
            assert not isinstance(app.screen, HelpScreen)


def declared_bindings() -> list[tuple[str, Binding]]:
    """(class, binding) for every binding a class of tui/ declares itself, but the help screen's
    own (its footer shows them) and Textual's defaults."""
    import importlib
    import inspect
    import pkgutil

    import tui
    from textual.dom import DOMNode

    found: list[tuple[str, Binding]] = []
    for module_info in pkgutil.walk_packages(tui.__path__, "tui."):
        module = importlib.import_module(module_info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (cls.__module__ != module.__name__ or not issubclass(cls, DOMNode)
                    or "BINDINGS" not in vars(cls) or module.__name__ == "tui.screens.help"):
                continue
            found.extend((name, b) for b in cls.BINDINGS if isinstance(b, Binding))
    return found


class TestPalette:
    async def test_palette_offers_every_global_action(self, console_app) -> None:
        """Before typing, the palette lists search, new customer, settings, outbox, help, quit."""
        app = console_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            names = await discovered(app)
            assert {"Search", "New customer", "Settings", "Outbox", "Help", "Quit"} <= set(names)

    async def test_a_global_action_from_the_palette_does_what_its_key_does(self, console_app) -> None:
        """Outbox chosen in the palette opens the Outbox screen, as ctrl+o does."""
        from tui.screens.outbox import OutboxScreen

        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            [outbox] = [hit for hit in await hits(app, "Outbox") if str(hit.text) == "Outbox"]
            app.call_later(outbox.command)  # as the palette runs a chosen command
            await settle(pilot)
            assert isinstance(app.screen, OutboxScreen)

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

    async def test_footer_offers_retry_for_a_failed_email_only(self, console_app) -> None:
        """On the Emails section, r shows in the footer while a failed email is highlighted, not a queued one."""
        from store import panel
        from store.models import OutboxEmail

        queued = panel.send_portal_email("C000002", actor=AGENT)
        OutboxEmail.update(status="failed", attempts=5, last_error="550 mailbox unavailable").where(
            OutboxEmail.id == queued.outbox_id).execute()
        panel.send_portal_email("C000002", actor=AGENT)
        app = console_app(**STILL)
        async with app.run_test(size=(120, 40)) as pilot:
            await open_customer(pilot, "C000002")
            await pilot.press("e", "tab")
            await settle(pilot)
            # Newest first: the queued email, then the failed one.
            assert "Retry" not in footer(app)
            await pilot.press("down")
            await settle(pilot)
            assert "Retry" in footer(app)
            await pilot.press("up")
            await settle(pilot)
            assert "Retry" not in footer(app)


def footer(app) -> set[str]:
    """What the footer offers now."""
    return {key.description for key in app.screen.query("FooterKey")}


async def new_customer_typed(pilot) -> None:
    """The New customer form open with a name typed into it."""
    await settle(pilot)
    await pilot.press("ctrl+n")
    await settle(pilot)
    await pilot.press(*"Half Typed")
    await settle(pilot)


class TestQuit:
    async def test_ctrl_q_quits_at_once_when_nothing_is_unsaved(self, console_app) -> None:
        """On a dashboard with nothing open or running, ctrl+q closes the console without a question."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_customer(pilot, "C000002")
            await pilot.press("ctrl+q")
            await pilot.pause()
            assert app.return_code == 0

    async def test_ctrl_q_asks_while_a_form_is_open_and_no_keeps_it(self, console_app) -> None:
        """With the New customer form open, ctrl+q asks; n goes back to the form with what was typed."""
        from tui.app import QuitModal
        from tui.screens.new_customer import NewCustomerScreen

        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await new_customer_typed(pilot)
            await pilot.press("ctrl+q")
            await settle(pilot)
            assert isinstance(app.screen, QuitModal)
            assert "New customer form is open" in app.screen.message
            await pilot.press("n")
            await settle(pilot)
            assert isinstance(app.screen, NewCustomerScreen) and app.return_code is None
            assert app.screen.query_one("#field-name").value == "Half Typed"
            await pilot.press("ctrl+q")
            await settle(pilot)
            await pilot.press("y")
            await pilot.pause()
            assert app.return_code == 0

    async def test_ctrl_q_twice_quits(self, console_app) -> None:
        """The question itself: ctrl+q again means yes."""
        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await new_customer_typed(pilot)
            await pilot.press("ctrl+q")
            await settle(pilot)
            await pilot.press("ctrl+q")
            await pilot.pause()
            assert app.return_code == 0

    async def test_ctrl_q_asks_when_a_setting_is_edited_and_not_saved(self, console_app) -> None:
        """An edited setting not yet saved: ctrl+q names it and asks."""
        from textual.widgets import Input

        from tui.app import QuitModal

        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)
            app.screen.query_one("#portal_url", Input).value = "https://portal.example/new"
            await settle(pilot)
            await pilot.press("ctrl+q")
            await settle(pilot)
            assert isinstance(app.screen, QuitModal)
            assert "Portal URL" in app.screen.message

    async def test_ctrl_q_asks_while_an_action_runs(self, console_app) -> None:
        """A PORTAL action still running: ctrl+q asks; once it is done, ctrl+q quits at once."""
        import threading

        from tui.app import QuitModal

        app = console_app(**STILL)
        release = threading.Event()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.run_worker(lambda: release.wait(10), thread=True, group="portal-action")
            await pilot.press("ctrl+q")
            await pilot.pause()
            assert isinstance(app.screen, QuitModal)
            assert "still running" in app.screen.message
            await pilot.press("n")
            release.set()
            await settle(pilot)
            await pilot.press("ctrl+q")
            await pilot.pause()
            assert app.return_code == 0

    async def test_the_palette_quit_asks_too(self, console_app) -> None:
        """Quit from the command palette takes the same path as ctrl+q."""
        from tui.app import QuitModal

        app = console_app(**STILL)
        async with app.run_test(size=(80, 24)) as pilot:
            await new_customer_typed(pilot)
            await app.run_action("quit")
            await settle(pilot)
            assert isinstance(app.screen, QuitModal)


@pytest.mark.parametrize("size", SIZES)
class TestQuitSnapshots:
    def test_quit_asks_while_a_form_is_open(self, snap_compare, console_app, size) -> None:
        """ctrl+q with the New customer form half filled: the question says what would be lost."""

        async def run(pilot) -> None:
            await new_customer_typed(pilot)
            await pilot.press("ctrl+q")
            await settle(pilot)

        assert snap_compare(console_app(**STILL), terminal_size=size, run_before=run)
