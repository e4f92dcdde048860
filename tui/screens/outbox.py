"""Outbox: every portal email across customers (queued, sending, sent, failed), refreshed
every couple of seconds so the mailer's progress shows; a failed one can be sent again."""
from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Select, Static
from textual.worker import get_current_worker
from rich.text import Text

from store.errors import PortalError
from store.outbox import list_outbox, retry_email
from store.values import OutboxEmail, OutboxStatus
from tui import bindings
from tui.calls import call
from tui.messages import OpenCustomer

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


class OutboxScreen(Screen[None]):
    """All queued, sending, sent and failed emails; `r` sends a failed one again."""

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

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="outbox-bar"):
            yield Label("Status", id="filter-label")
            yield Select([(name, name) for name, _ in FILTERS], id="status-filter",
                         value="All", allow_blank=False, compact=True)
            yield Static("", id="outbox-count", markup=False)
        table: DataTable[Text] = DataTable(id="outbox-table", cursor_type="row", zebra_stripes=True)
        for label, key in COLUMNS:
            table.add_column(label, key=key)
        yield table
        yield Static("", id="outbox-empty", markup=False)
        yield Static("", id="outbox-detail", markup=False)
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

    @work(thread=True, exclusive=True, group="outbox-load")
    def _load(self, status: OutboxStatus | None) -> None:
        try:
            emails = call(list_outbox, status=status, limit=LIMIT)
        except PortalError as error:
            self.app.call_from_thread(self._load_failed, error)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, status, emails)

    def _load_failed(self, error: PortalError) -> None:
        self._reading = False
        self.query_one("#outbox-count", Static).update(f"Not refreshed: {error.message}")

    def _show(self, status: OutboxStatus | None, emails: tuple[OutboxEmail, ...]) -> None:
        self._reading = False
        if status is not self.status_filter:
            return  # the filter changed while this was read; its own read follows
        count = f"{len(emails)} email{'s' if len(emails) != 1 else ''}"
        self.query_one("#outbox-count", Static).update(
            count + (f" (the newest {LIMIT})" if len(emails) == LIMIT else ""))
        if emails == self._shown and status is self._loaded_filter:
            return  # nothing changed: keep the cursor and scroll exactly where they are
        table = self.query_one(DataTable)
        selected = self.selected_email()
        self._shown, self._loaded_filter = emails, status
        self.emails = {email.id: email for email in emails}
        table.clear()
        for email in emails:
            table.add_row(*row_cells(email), key=str(email.id))
        if selected is not None and selected.id in self.emails:
            table.move_cursor(row=table.get_row_index(str(selected.id)), animate=False)
        empty = not emails
        table.display = not empty
        empty_text = ("The outbox is empty: no email has been queued yet." if status is None
                      else f"No {status.value} emails.")
        self.query_one("#outbox-empty", Static).update(empty_text)
        self.query_one("#outbox-empty").display = empty
        self._show_detail()

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
        if email.status is OutboxStatus.failed:
            keys += "; r sends the email again with a fresh link"
        lines.append(keys + ".")
        detail.update("\n".join(lines))

    # --- actions --------------------------------------------------------------------

    @on(Select.Changed, "#status-filter")
    def _filter_changed(self) -> None:
        self.refresh_outbox()

    def action_next_filter(self) -> None:
        """Show the next status: all, queued, sending, sent, failed."""
        select = self.query_one("#status-filter", Select)
        names = [name for name, _ in FILTERS]
        select.value = names[(names.index(str(select.value)) + 1) % len(names)]

    def action_retry(self) -> None:
        """Send the selected email again; the service layer says why when it can't be."""
        email = self.selected_email()
        if email is None:
            self.notify("There is no email to retry here.", severity="warning")
            return
        self._retry(email.id)

    @work(thread=True, group="outbox-retry")
    def _retry(self, outbox_id: int) -> None:
        try:
            email = call(retry_email, outbox_id, actor=self.app.agent)
        except PortalError as error:
            self.app.call_from_thread(self.app.show_error, error)
            return
        self.app.call_from_thread(
            self.notify, f"Email {email.id} queued again to {', '.join(email.to)} with a fresh link.",
            title="Email queued")
        self.app.call_from_thread(self.refresh_outbox)

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_customer()

    def action_open_customer(self) -> None:
        """Open the selected email's customer on the Customer Dashboard."""
        email = self.selected_email()
        if email is not None:
            self.post_message(OpenCustomer(email.customer_reference))

    def action_back(self) -> None:
        """Back to the screen the Outbox was opened from."""
        self.dismiss()
