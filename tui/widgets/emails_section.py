"""The dashboard's Emails section: this customer's deliveries, newest first, and retry."""
from __future__ import annotations

from datetime import datetime

from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, Label, Static

from store import outbox
from store.customer_values import OutboxEmail
from store.errors import PortalError
from store.values import EmailKind, OutboxStatus
from tui import bindings
from tui.calls import call
from tui.messages import CustomerChanged, ShowError
from tui.workers import ReportsWorkerErrors
from tui.widgets.row_table import RowTable


# The table's short names of the two email types.
KIND_WORDS = {EmailKind.credential_create: "Credential Create", EmailKind.password_reset: "Password Reset"}
ERROR_SHOWN = 36


def when(moment: datetime | None) -> str:
    """A timestamp as the console shows it: minutes, UTC."""
    return f"{moment:%Y-%m-%d %H:%M}" if moment is not None else ""


class EmailsSection(ReportsWorkerErrors, Vertical):
    """Queued, sent and failed emails of one customer; r queues a failed one again."""

    class Retried(Message):
        """A failed email was queued again."""

        def __init__(self, email: OutboxEmail) -> None:
            super().__init__()
            self.email = email

    # While the table has the cursor the footer shows r for a failed email only (check_action).
    BINDINGS = list(bindings.EMAILS_TABLE)

    emails: reactive[tuple[OutboxEmail, ...] | None] = reactive(None, init=False)

    def __init__(self, *, agent: str, id: str | None = None) -> None:
        super().__init__(id=id)
        self.agent = agent

    def compose(self) -> ComposeResult:
        yield Label("Loading…", id="emails-status", classes="muted")
        table = RowTable(id="emails-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("Status", "When", "Email", "Error", "To")
        yield table
        yield Static("", id="email-detail", markup=False)

    def watch_emails(self, emails: tuple[OutboxEmail, ...] | None) -> None:
        table = self.query_one("#emails-table", DataTable)
        keep = table.cursor_row
        table.clear()
        for email in emails or ():
            error = email.last_error or ""
            table.add_row(
                email.status.value, when(email.sent_at or email.created_at), KIND_WORDS[email.kind],
                error if len(error) <= ERROR_SHOWN else error[: ERROR_SHOWN - 1] + "…",
                ", ".join(email.to), key=str(email.id),
            )
        if emails:
            table.move_cursor(row=min(keep, len(emails) - 1), animate=False)
        self._show_detail()
        failed = sum(1 for e in emails or () if e.status is OutboxStatus.failed)
        status = self.query_one("#emails-status", Label)
        if emails is None:
            status.update("Loading…")
        elif not emails:
            status.update("No emails yet for this customer.")
        else:
            status.update(f"{len(emails)} email{'s' if len(emails) != 1 else ''}"
                          + (f", {failed} failed: press r on one to send it again." if failed else "."))

    @on(DataTable.RowHighlighted, "#emails-table")
    def _show_detail(self) -> None:
        """The highlighted email in full: the table cuts long errors and address lists."""
        email = self.selected
        # Retry is offered while a failed email is highlighted, and only then.
        if self.is_attached:
            self.screen.refresh_bindings()
        detail = self.query_one("#email-detail", Static)
        if email is None:
            detail.update("")
            return
        parts = [f"Email {email.id}, {email.kind.type_name}, {email.status.value}",
                 f"to {', '.join(email.to)}", f"queued by {email.queued_by}"]
        if email.attempts:
            parts.append(f"{email.attempts} attempt{'s' if email.attempts != 1 else ''}")
        if email.refused:
            parts.append(f"refused: {', '.join(email.refused)}")
        if email.last_error:
            parts.append(f"error: {email.last_error}")
        detail.update("; ".join(parts))

    @property
    def can_retry(self) -> bool:
        """True when the highlighted email may be sent again (the store's rule)."""
        email = self.selected if self.is_mounted else None
        return email is not None and email.can_retry

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "retry":
            return self.can_retry
        return True

    def action_retry(self) -> None:
        self.retry_selected()

    @property
    def selected(self) -> OutboxEmail | None:
        """The email under the cursor."""
        emails = self.emails or ()
        row = self.query_one("#emails-table", DataTable).cursor_row
        return emails[row] if 0 <= row < len(emails) else None

    def retry_selected(self) -> None:
        """Queue the highlighted email again. Whether it may be is the store's answer (as on the
        Outbox screen): a refusal comes back with its reason in the error modal."""
        email = self.selected
        if email is None:
            self.notify("There is no email to send again.", severity="warning")
        else:
            self._retry(email.id)

    @work(thread=True, exclusive=True, group="email-retry", exit_on_error=False)
    def _retry(self, outbox_id: int) -> None:
        try:
            email = call(outbox.retry_email, outbox_id, actor=self.agent)
        except PortalError as error:
            self.post_message(ShowError(error))
        else:
            self.post_message(self.Retried(email))
        self.post_message(CustomerChanged())

    @on(Retried)
    def _retried(self, message: Retried) -> None:
        message.stop()
        self.notify(f"Email {message.email.id} queued again to {', '.join(message.email.to)}.")
