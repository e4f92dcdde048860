"""Outbox: every portal email across customers (queued, sending, sent, failed), refreshed
every couple of seconds so the mailer's progress shows; a failed one can be sent again."""
from __future__ import annotations

from typing import Any, Callable

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Label, Select, Static
from textual.worker import get_current_worker
from rich.text import Text

from store.customer_values import OutboxEmail
from store.errors import PortalError
from store.outbox import list_outbox, retry_email
from store.values import OutboxStatus
from tui import bindings
from tui.calls import call
from tui.messages import ShowError
from tui.widgets.footer import Footer
from tui.widgets.row_table import RowTable
from tui.widgets.status_line import StatusLine
from tui.workers import ReportsWorkerErrors

# The newest emails shown; older ones stay reachable with `portal-console outbox list`.
LIMIT = 500

FILTERS: tuple[tuple[str, OutboxStatus | None], ...] = (
    ("All", None),
    ("Queued", OutboxStatus.queued),
    ("Sending", OutboxStatus.sending),
    ("Sent", OutboxStatus.sent),
    ("Failed", OutboxStatus.failed),
)
COLUMNS = (
    ("ID", "id"), ("Status", "status"), ("Created (UTC)", "created"), ("Customer", "customer"),
    ("Kind", "kind"), ("To", "to"), ("Tries", "attempts"), ("Last error / refused", "error"),
)
COLUMNS_BY_KEY = tuple((key, label) for label, key in COLUMNS)
# What each column sorts by (what it shows), and whether it sorts largest first the first
# time it is chosen: numbers and times newest or most first, words A to Z.
SORT_KEYS: dict[str, tuple[Callable[[OutboxEmail], Any], bool]] = {
    "id": (lambda email: email.id, True),
    "status": (lambda email: email.status.value, False),
    "created": (lambda email: email.created_at, True),
    "customer": (lambda email: f"{email.customer_reference} {email.customer_name}".casefold(), False),
    "kind": (lambda email: email.kind.type_name, False),
    "to": (lambda email: ", ".join(email.to).casefold(), False),
    "attempts": (lambda email: email.attempts, True),
    "error": (lambda email: problem_text(email).casefold(), False),
}
# The order the outbox is read in: newest first.
DEFAULT_SORT = ("id", True)
# Colour helps, but the status word carries the meaning, so NO_COLOR loses nothing.
STATUS_STYLES = {
    OutboxStatus.queued: "bold",
    OutboxStatus.sending: "bold italic",
    OutboxStatus.sent: "green",
    OutboxStatus.failed: "bold red",
}


def problem_text(email: OutboxEmail) -> str:
    """What went wrong with an email, in one line: its last error and refused addresses."""
    parts = []
    if email.last_error:
        parts.append(" ".join(email.last_error.split()))
    if email.refused:
        parts.append(f"refused: {', '.join(email.refused)}")
    return "; ".join(parts)


def row_cells(email: OutboxEmail) -> tuple[Text, ...]:
    """One table row; Text, not markup, so names with brackets show as typed."""
    return (
        Text(str(email.id), justify="right"),
        Text(email.status.value, style=STATUS_STYLES[email.status]),
        Text(f"{email.created_at:%Y-%m-%d %H:%M}"),
        Text(f"{email.customer_reference} {email.customer_name}"),
        # Every type name starts "Customer "; dropping it keeps To in sight at 80 columns.
        Text(email.kind.type_name.removeprefix("Customer ")),
        Text(", ".join(email.to)),
        Text(str(email.attempts), justify="right"),
        Text(problem_text(email)),
    )


class OutboxScreen(ReportsWorkerErrors, Screen[None]):
    """All queued, sending, sent and failed emails; `r` sends a failed one again, `S` sorts."""

    # The app's action that opens this screen: there, its key is the screen's own.
    OPENED_BY = "open_outbox"

    class Read(Message):
        """The outbox as read for a status filter, or why it could not be read."""

        def __init__(self, status: OutboxStatus | None, emails: tuple[OutboxEmail, ...],
                     error: PortalError | None) -> None:
            super().__init__()
            self.status, self.emails, self.error = status, emails, error

    class Retried(Message):
        """A failed email was queued again."""

        def __init__(self, email: OutboxEmail) -> None:
            super().__init__()
            self.email = email

    # Focused when the screen opens (Textual's auto focus), so keys typed meanwhile land here (tui/typeahead.py).
    AUTO_FOCUS = "DataTable"

    CSS_PATH = "outbox.tcss"
    TITLE = "Outbox"
    BINDINGS = list(bindings.OUTBOX)

    def __init__(self) -> None:
        super().__init__()
        self.emails: dict[int, OutboxEmail] = {}
        self._shown: tuple[OutboxEmail, ...] | None = None
        self._loaded_filter: OutboxStatus | None = None
        # A timer tick while a read is still running skips, rather than piling up threads.
        self._reading = False
        # The column the rows are sorted by, and whether largest first.
        self.sort: tuple[str, bool] = DEFAULT_SORT

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="outbox-bar"):
            yield Label("Status", id="filter-label")
            yield Select([(name, name) for name, _ in FILTERS], id="status-filter",
                         value="All", allow_blank=False, compact=True)
            yield Static("", id="outbox-count", markup=False)
        table: DataTable[Text] = RowTable(id="outbox-table", cursor_type="row", zebra_stripes=True)
        for label, key in COLUMNS:
            table.add_column(label, key=key)
        yield table
        yield Static("", id="outbox-empty", markup=False)
        yield Static("", id="outbox-detail", markup=False)
        yield StatusLine()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#outbox-empty").display = False
        self.refresh_outbox()
        # Read again on the console's polling period (about a second), so the mailer's progress
        # shows without a key press.
        self.set_interval(self.app.poll_seconds, self._poll)

    def _poll(self) -> None:
        if not self._reading:
            self.refresh_outbox()

    @property
    def status_filter(self) -> OutboxStatus | None:
        """The status the list is narrowed to; None shows every email."""
        chosen = self.query_one("#status-filter", Select).value
        return dict(FILTERS).get(str(chosen))

    # --- reading, off the event loop ------------------------------------------------

    def refresh_outbox(self) -> None:
        """Read the outbox again for the chosen filter."""
        self._reading = True
        self._load(self.status_filter)

    @work(thread=True, exclusive=True, group="outbox-load", exit_on_error=False)
    def _load(self, status: OutboxStatus | None) -> None:
        try:
            emails = call(list_outbox, status=status, limit=LIMIT)
        except PortalError as error:
            self.post_message(self.Read(status, (), error))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Read(status, emails, None))

    @on(Read)
    def _read(self, message: Read) -> None:
        message.stop()
        if message.error is not None:
            self._load_failed(message.error)
        else:
            self._show(message.status, message.emails)

    def _load_failed(self, error: PortalError) -> None:
        self._reading = False
        self.query_one("#outbox-count", Static).update(f"Not refreshed: {error.message}")

    def _show(self, status: OutboxStatus | None, emails: tuple[OutboxEmail, ...]) -> None:
        self._reading = False
        if status is not self.status_filter:
            return  # the filter changed while this was read; its own read follows
        if emails == self._shown and status is self._loaded_filter:
            self._show_count()
            return  # nothing changed: keep the cursor and scroll exactly where they are
        self._shown, self._loaded_filter = emails, status
        self._fill_table()

    def _show_count(self) -> None:
        emails = self._shown or ()
        count = f"{len(emails)} email{'s' if len(emails) != 1 else ''}"
        if len(emails) == LIMIT:
            count += f" (the newest {LIMIT})"
        column, largest_first = self.sort
        if self.sort == DEFAULT_SORT:
            count += ", newest first"
        else:
            count += f", by {dict(COLUMNS_BY_KEY)[column]} {'↓' if largest_first else '↑'}"
        self.query_one("#outbox-count", Static).update(count)

    def _fill_table(self) -> None:
        """Show the emails read last in the chosen order; the cursor stays on its email."""
        emails = self._shown or ()
        status = self._loaded_filter
        table = self.query_one(DataTable)
        selected = self.selected_email()
        self.emails = {email.id: email for email in emails}
        column, largest_first = self.sort
        sort_key, _ = SORT_KEYS[column]
        table.clear()
        # Stable: equal values keep the outbox's newest-first order.
        for email in sorted(emails, key=sort_key, reverse=largest_first):
            table.add_row(*row_cells(email), key=str(email.id))
        if selected is not None and selected.id in self.emails:
            table.move_cursor(row=table.get_row_index(str(selected.id)), animate=False)
        empty = not emails
        table.display = not empty
        if not empty and self.focused is None and self.is_current:
            # A filter that matched nothing hid the table, and focus went with it: without
            # this, ↓ and Enter would do nothing once the rows are back.
            self.set_focus(table)
        empty_text = ("The outbox is empty: no email has been queued yet." if status is None
                      else f"No {status.value} emails.")
        self.query_one("#outbox-empty", Static).update(empty_text)
        self.query_one("#outbox-empty").display = empty
        self._show_count()
        self._show_detail()
        self.refresh_bindings()

    # --- the selected email ---------------------------------------------------------

    def selected_email(self) -> OutboxEmail | None:
        """The email under the table's cursor, if any."""
        table = self.query_one(DataTable)
        if not self.emails or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.emails.get(int(key)) if key is not None else None

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self) -> None:
        self._show_detail()
        # Retry is offered for a failed email only.
        self.refresh_bindings()

    def on_screen_resume(self) -> None:
        table = self.query_one(DataTable)
        if self.focused is None and table.display:
            self.set_focus(table)

    def _show_detail(self) -> None:
        """The selected email in full under the table: the columns are cut short at 80 wide."""
        email = self.selected_email()
        detail = self.query_one("#outbox-detail", Static)
        if email is None:
            detail.update("")
            return
        when = f"sent {email.sent_at:%Y-%m-%d %H:%M}" if email.sent_at else f"queued by {email.queued_by}"
        lines = [f"Email {email.id}, {email.status.value}, {when}: {email.kind.type_name} "
                 f"for {email.customer_reference} {email.customer_name} to {', '.join(email.to)}"]
        problem = problem_text(email)
        if problem:
            lines.append(f"Problem: {problem}")
        keys = "Enter opens the customer"
        if email.can_retry:
            keys += "; r sends the email again with a fresh link"
        lines.append(keys + ".")
        detail.update("\n".join(lines))

    # --- actions --------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Retry only while a failed email is highlighted: the footer offers what can be done."""
        if action == "retry":
            email = self.selected_email() if self.is_mounted else None
            return email is not None and email.can_retry
        return True

    @on(Select.Changed, "#status-filter")
    def _filter_changed(self) -> None:
        self.refresh_outbox()

    def action_next_filter(self) -> None:
        """Show the next status: all, queued, sending, sent, failed."""
        select = self.query_one("#status-filter", Select)
        names = [name for name, _ in FILTERS]
        select.value = names[(names.index(str(select.value)) + 1) % len(names)]

    def action_next_sort(self) -> None:
        """Sort by the next column, in that column's natural order."""
        keys = [key for _, key in COLUMNS]
        column = keys[(keys.index(self.sort[0]) + 1) % len(keys)]
        self.sort = (column, SORT_KEYS[column][1])
        self._fill_table()

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        """A click on a column's title sorts by it; a second click reverses the order."""
        event.stop()
        column = str(event.column_key.value)
        largest_first = SORT_KEYS[column][1]
        if self.sort[0] == column:
            largest_first = not self.sort[1]
        self.sort = (column, largest_first)
        self._fill_table()

    def action_retry(self) -> None:
        """Send the selected email again; the service layer says why when it no longer can be
        (someone else retried it, or a newer email overtook it)."""
        email = self.selected_email()
        if email is not None:
            self._retry(email.id)

    @work(thread=True, group="outbox-retry", exit_on_error=False)
    def _retry(self, outbox_id: int) -> None:
        try:
            email = call(retry_email, outbox_id, actor=self.app.agent)
        except PortalError as error:
            self.post_message(ShowError(error))
            return
        self.post_message(self.Retried(email))

    @on(Retried)
    def _retried(self, message: Retried) -> None:
        message.stop()
        email = message.email
        self.notify(f"Email {email.id} queued again to {', '.join(email.to)} with a fresh link.", title="Email queued")
        self.refresh_outbox()

    @on(DataTable.RowSelected)
    async def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        await self.action_open_customer()

    async def action_open_customer(self) -> None:
        """Open the selected email's customer on the Customer Dashboard, above the Outbox:
        Esc on the dashboard comes back here."""
        email = self.selected_email()
        if email is not None:
            await self.app.open_customer(email.customer_reference, over=self)  # type: ignore[attr-defined]

    def action_back(self) -> None:
        """Back to the screen the Outbox was opened from."""
        self.dismiss()
