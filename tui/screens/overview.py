"""Overview: what on-call staff look at first. Are portal emails going out (the outbox, its
deliveries per minute, the running mailers), can customers sign in (the portal's sign-ins),
and how many customers are in each portal state (Enter opens the search filtered by it).
Read by a thread worker on the console's polling period; a warning is said in words."""
from __future__ import annotations

from datetime import datetime

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, OptionList, Sparkline, Static
from textual.widgets.option_list import Option

from store.errors import PortalError
from store.overview import read_overview, waited
from store.overview_values import MailerBeat, Overview
from store.values import PortalState
from tui import bindings
from tui.calls import call
from tui.widgets.footer import Footer
from tui.widgets.status_line import StatusLine
from tui.workers import ReportsWorkerErrors

# Mailers listed at most; the rest are counted ("and 3 more"): `portal-console status` lists them all.
MAILER_LINES = 2


def verdict_text(overview: Overview) -> str:
    if overview.health.healthy:
        return "Healthy: email goes out and nothing failed beyond the threshold."
    return "\n".join(f"! {problem.text}" for problem in overview.health.problems)


def state_option(state: PortalState, count: int) -> Option:
    return Option(f"{state.label:<24}{count:>9,}", id=state.value)


def outbox_text(overview: Overview) -> str:
    box = overview.outbox
    oldest = "none" if box.oldest_queued_age is None else waited(box.oldest_queued_age)
    # Short lines: the box is 36 columns wide at 80x24.
    return (f"Queued {box.queued:,}, sending {box.sending:,}\n"
            f"Failed in 24 h: {box.failed_last_day:,}\n"
            f"Oldest queued: {oldest}\n"
            f"Delivered in 1 h: {box.sent_last_hour:,}, per minute:")


def mailer_lines(mailer: MailerBeat, now: datetime) -> str:
    return (f"{mailer.host} pid {mailer.pid} ({mailer.role})\n"
            f"  last pass {waited(now - mailer.last_pass_at)} ago, {mailer.sent:,} sent")


def mailers_text(overview: Overview) -> str:
    if not overview.mailers:
        return "None heard from in the last hour."
    lines = [mailer_lines(m, overview.read_at) for m in overview.mailers[:MAILER_LINES]]
    if len(overview.mailers) > MAILER_LINES:
        lines.append(f"and {len(overview.mailers) - MAILER_LINES} more (portal-console status)")
    return "\n".join(lines)


def portal_text(overview: Overview) -> str:
    s = overview.signins
    return (f"Sign-ins, 1 h / 24 h: {s.signed_in_last_hour:,} / {sum(s.signed_in_per_hour):,}\n"
            f"Wrong passwords: {s.failed_last_hour:,} / {sum(s.failed_per_hour):,}\n"
            f"Usernames locked out now: {s.locked_out_now:,}")


class OverviewScreen(ReportsWorkerErrors, Screen[None]):
    """On-call at a glance; Enter on a portal state opens the search filtered by it."""

    # The app's action that opens this screen: there, its key is the screen's own.
    OPENED_BY = "open_overview"

    AUTO_FOCUS = "#overview-states"
    CSS_PATH = "overview.tcss"
    TITLE = "Overview"
    BINDINGS = list(bindings.OVERVIEW)

    class Read(Message):
        """The overview, freshly read (or None with the reason it could not be)."""

        def __init__(self, overview: Overview | None, problem: str | None = None) -> None:
            super().__init__()
            self.overview = overview
            self.problem = problem

    def __init__(self) -> None:
        super().__init__()
        self.overview: Overview | None = None
        # A timer tick while a read is still running skips, rather than piling up threads.
        self._reading = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Reading…", id="overview-verdict", markup=False)
        with Grid(id="overview-grid"):
            with Vertical(id="overview-customers", classes="overview-box") as box:
                box.border_title = "Customers by portal state"
                yield OptionList(*(state_option(state, 0) for state in PortalState), id="overview-states",
                                 compact=True)
            with Vertical(id="overview-outbox", classes="overview-box") as box:
                box.border_title = "Outbox"
                yield Static("", id="overview-outbox-figures", markup=False)
                yield Sparkline([0] * 60, id="overview-deliveries")
            with Vertical(id="overview-mailers", classes="overview-box") as box:
                box.border_title = "Mailers"
                yield Static("", id="overview-mailer-list", markup=False)
            with Vertical(id="overview-portal", classes="overview-box") as box:
                box.border_title = "Portal"
                yield Static("", id="overview-portal-figures", markup=False)
        yield StatusLine()
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_overview()
        self.set_interval(self.app.poll_seconds, self._poll)

    def _poll(self) -> None:
        if not self._reading:
            self.refresh_overview()

    def refresh_overview(self) -> None:
        self._reading = True
        self._load()

    @work(thread=True, exclusive=True, group="overview-load", exit_on_error=False)
    def _load(self) -> None:
        try:
            self.post_message(self.Read(call(read_overview)))
        except PortalError as error:
            self.post_message(self.Read(None, error.message))

    @on(Read)
    def _show(self, message: Read) -> None:
        self._reading = False
        verdict = self.query_one("#overview-verdict", Static)
        overview = message.overview
        if overview is None:
            verdict.update(f"Not refreshed: {message.problem}")
            verdict.set_classes("-trouble")
            return
        self.overview = overview
        verdict.update(verdict_text(overview))
        verdict.set_class(not overview.health.healthy, "-trouble")
        verdict.set_class(overview.health.healthy, "-healthy")
        states = self.query_one("#overview-states", OptionList)
        for count in overview.states:
            states.replace_option_prompt(count.state.value, state_option(count.state, count.count).prompt)
        self.query_one("#overview-outbox-figures", Static).update(outbox_text(overview))
        self.query_one("#overview-deliveries", Sparkline).data = list(overview.outbox.sent_per_minute)
        self.query_one("#overview-mailer-list", Static).update(mailers_text(overview))
        self.query_one("#overview-portal-figures", Static).update(portal_text(overview))

    @on(OptionList.OptionSelected, "#overview-states")
    def _state_chosen(self, event: OptionList.OptionSelected) -> None:
        # By the app, after this handler: awaiting the pop of this screen from its own handler
        # would wait for itself.
        self.app.call_later(self.app.open_search_in_state, PortalState(event.option.id))  # type: ignore[attr-defined]

    def action_back(self) -> None:
        self.app.pop_screen()
