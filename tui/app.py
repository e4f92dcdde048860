"""The console app: customer search at home, the Customer Dashboard with its PORTAL
panel, and the way back to both from anywhere (keys, footer, command palette)."""
from __future__ import annotations

import logging
import secrets
from typing import Protocol

from textual import on
from textual.app import App
from textual.screen import ModalScreen, Screen

from store.errors import PortalError, UnexpectedError
from store.values import PortalState
from tui import bindings
from tui.commands import PortalCommands
from tui.messages import OpenCustomer, ShowError, WorkerFailed
from tui.typeahead import TypeAheadApp
from tui.workers import ReportsWorkerErrors
from tui.widgets.confirm import ConfirmModal
from tui.widgets.error_modal import ErrorModal



class ConsoleMailer(Protocol):
    """What the console needs of the dispatcher the program hands it (mailer.background's):
    start it once the first screen is up, stop it on quit."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


log = logging.getLogger("console")

# Seconds after start-up that the background mailer starts.
MAILER_START_DELAY = 0.5

# Actions that leave the current screen; a question or a form on top must be answered first.
_NAVIGATION = {"open_search", "new_customer", "open_settings", "open_outbox", "open_overview", "help"}
# Workers that write for the agent (PORTAL actions, a new customer, a retry, a setting):
# quitting while one runs would leave the agent not knowing whether it happened.
WRITING_GROUPS = frozenset({"portal-action", "new-customer", "email-retry", "outbox-retry", "settings-save",
                            "edit-customer", "bulk-send"})


class PortalConsoleApp(ReportsWorkerErrors, TypeAheadApp):
    """Portal Console: billing support agents manage customers' Self-Service Portal access."""

    TITLE = "Portal Console"
    # The home screen's CSS is the app's: Textual loads a Screen's CSS_PATH on push,
    # and the default screen is never pushed.
    CSS_PATH = ["app.tcss", "widgets/status_line.tcss", "screens/search.tcss"]
    BINDINGS = list(bindings.APP)
    EAGER_KEYS = bindings.EAGER_KEYS
    EAGER_SCREEN_ACTIONS = bindings.EAGER_SCREEN_ACTIONS
    COMMANDS = App.COMMANDS | {PortalCommands}
    NOTIFICATION_TIMEOUT = 6

    def __init__(self, agent: str, *, poll_seconds: float = 1.0, search_delay: float = 0.12,
                 page_size: int = 100, mailer: ConsoleMailer | None = None,
                 warnings: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.agent = agent
        # What the program found wrong at start (search without its index), said on the screen.
        self.warnings = warnings
        # The outbox dispatcher running beside the console (PORTAL_MAILER_IN_CONSOLE), or None.
        self.mailer = mailer
        # How often an open customer is checked for changes made elsewhere (<= 1 s: shown within 2 s).
        self.poll_seconds = poll_seconds
        # Typing pause before a search runs, so a burst of keys makes one query.
        self.search_delay = search_delay
        self.page_size = page_size
        self.sub_title = f"agent {agent}"

    def get_default_screen(self) -> Screen:
        from tui.screens.search import SearchScreen

        return SearchScreen()

    def on_mount(self) -> None:
        for warning in self.warnings:
            self.notify(warning, title="At start", severity="warning", timeout=30)
        if self.mailer is not None:
            # After the first screen is up, and from a worker thread: the mailer's imports and
            # thread start never delay the agent's first look at the search results.
            self.set_timer(MAILER_START_DELAY, self._start_mailer)

    def _start_mailer(self) -> None:
        if self.mailer is not None:
            self.run_worker(self.mailer.start, thread=True, name="mailer-start", group="mailer",
                            exit_on_error=False)

    def on_unmount(self) -> None:
        # Claims the mailer holds go back to the queue, so no email waits for the lease.
        if self.mailer is not None:
            self.mailer.stop()

    # --- the one path for errors and toasts ---------------------------------

    def show_error(self, error: PortalError) -> None:
        """Show a domain error in the one error modal."""
        self.push_screen(ErrorModal(error))

    @on(ShowError)
    def _on_show_error(self, message: ShowError) -> None:
        self.show_error(message.error)

    @on(WorkerFailed)
    def _on_worker_failed(self, message: WorkerFailed) -> None:
        """A worker raised what no service function promises (a bug, not a refusal): the agent
        keeps the console and gets a reference; the traceback goes to PORTAL_LOG_FILE."""
        reference = secrets.token_hex(4)
        error = message.error
        log.error("unexpected error %s in %s", reference, message.worker_name,
                  exc_info=(type(error), error, error.__traceback__))
        self.show_error(UnexpectedError(
            f"The console met an error it did not expect, and stopped that action. Nothing else was "
            f"changed. Tell support the reference {reference}: the details are in the console's log."))

    # --- navigation ---------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide screen-changing keys while a modal question or form is open."""
        if action in _NAVIGATION and isinstance(self.screen, ModalScreen):
            return False
        # Already there: the key is the screen's own (ctrl+s saves on Settings; on the search
        # screen its own binding puts the cursor in the box). Screens say which action opens
        # them, so this check (made for every footer key) imports none of them.
        return getattr(self.screen, "OPENED_BY", None) != action

    async def _to_home(self) -> None:
        """Back to the search screen, closing whatever is above it."""
        while len(self.screen_stack) > 1:
            await self.pop_screen()

    @on(OpenCustomer)
    async def _on_open_customer(self, message: OpenCustomer) -> None:
        await self.open_customer(message.reference)

    async def open_customer(self, reference: str, *, over: Screen | None = None) -> None:
        """Show the Customer Dashboard of ``reference`` on top of the search screen, or on top of
        ``over`` (the Outbox) when that is the screen in front, so Esc goes back to it."""
        from tui.screens.dashboard import DashboardScreen

        if over is None or over is not self.screen:
            await self._to_home()
        await self.push_screen(DashboardScreen(reference))

    async def action_open_search(self) -> None:
        from tui.screens.search import SearchScreen

        await self._to_home()
        if isinstance(self.screen, SearchScreen):
            self.screen.focus_search()

    def action_new_customer(self) -> None:
        from tui.screens.new_customer import NewCustomerScreen

        def opened(reference: str | None) -> None:
            if reference is not None:
                self.post_message(OpenCustomer(reference))

        self.push_screen(NewCustomerScreen(), opened)

    def action_open_settings(self) -> None:
        try:
            from tui.screens.settings import SettingsScreen
        except ImportError:
            self.notify("The Settings screen is not available yet.", severity="warning")
            return
        if not isinstance(self.screen, SettingsScreen):
            self.push_screen(SettingsScreen())

    async def action_open_outbox(self) -> None:
        try:
            from tui.screens.outbox import OutboxScreen
        except ImportError:
            self.notify("The Outbox screen is not available yet.", severity="warning")
            return
        if any(isinstance(screen, OutboxScreen) for screen in self.screen_stack):
            # A dashboard opened from the Outbox: back to that Outbox rather than a second one.
            while not isinstance(self.screen, OutboxScreen):
                await self.pop_screen()
        else:
            self.push_screen(OutboxScreen())

    async def action_open_overview(self) -> None:
        from tui.screens.overview import OverviewScreen

        if any(isinstance(screen, OverviewScreen) for screen in self.screen_stack):
            while not isinstance(self.screen, OverviewScreen):
                await self.pop_screen()
        else:
            self.push_screen(OverviewScreen())

    async def open_search_in_state(self, state: PortalState) -> None:
        """Customer search, every customer in ``state`` (the overview's counts open it)."""
        from textual.widgets import Input, Select

        from tui.screens.search import SearchScreen

        await self._to_home()
        if isinstance(self.screen, SearchScreen):
            self.screen.query_one(Input).value = ""
            self.screen.query_one("#state-filter", Select).value = state.value

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    # --- quitting -------------------------------------------------------------

    def unfinished_work(self) -> list[str]:
        """What quitting now would lose or leave in doubt, in words; empty when nothing would."""
        from textual.command import CommandPalette
        from textual.widgets import Input

        from tui.screens.settings import SettingsScreen

        found: list[str] = []
        for screen in self.screen_stack:
            # A form (New customer, Edit customer) holds what was typed until it is saved.
            if (isinstance(screen, ModalScreen) and not isinstance(screen, CommandPalette)
                    and screen.query(Input)):
                found.append(f"the {_form_name(screen)} form is open and not saved")
            if isinstance(screen, SettingsScreen):
                edited = [field.spec.label for field in screen.edited_fields()]
                if edited:
                    found.append(f"Settings edited and not saved: {', '.join(edited)}")
        if any(worker.group in WRITING_GROUPS and not worker.is_finished for worker in self.workers):
            found.append("an action is still running (it may or may not complete)")
        return found

    async def action_quit(self) -> None:
        """Quit at once, unless something would be lost: then ask first (ctrl+q again quits)."""
        if isinstance(self.screen, QuitModal):
            self.exit()
            return
        # ctrl+q is a priority key: letters typed just before it may still be on their way to
        # the focused field. Decide once they are in it, so an edit they make counts.
        if self.focused is not None:
            self.focused.call_later(self._quit_or_ask)
        else:
            self._quit_or_ask()

    def _quit_or_ask(self) -> None:
        unfinished = self.unfinished_work()
        if not unfinished:
            self.exit()
            return

        def answered(quit_now: bool | None) -> None:
            if quit_now:
                self.exit()

        self.push_screen(QuitModal(unfinished), answered)


class QuitModal(ConfirmModal):
    """"Quit anyway?", with what would be lost."""

    CSS_PATH = "widgets/confirm.tcss"

    def __init__(self, unfinished: list[str]) -> None:
        lines = "\n".join(f"- {what[0].upper()}{what[1:]}." for what in unfinished)
        super().__init__("Quit the Portal Console?", f"{lines}\nQuit anyway? ctrl+q again quits too.",
                         confirm_label="Quit", cancel_label="Stay")


def _form_name(screen: Screen) -> str:
    """The form's own title (the first Label's text), or its class name in words."""
    from textual.widgets import Label

    labels = screen.query(Label)
    if labels:
        return str(labels.first().content)
    return screen.__class__.__name__.removesuffix("Screen")
