"""Edit customer: name, company and Primary Email Address of an open customer.

The form keeps the details it was opened with as the basis of the edit. While it is
open it checks the customer as the dashboard does; when another agent changes a field
the agent is editing, the form says so under that field at once, and Save (made with
the version the edit began from) is refused by the service layer rather than overwriting.
A change elsewhere that leaves these fields alone (a username set, an email sent) moves
the basis along silently. A refused value is said under its field and nothing is written.
"""
from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from store.customer_values import CustomerDetail, CustomerUpdate, details_changed_since
from store.customers import get_customer, update_customer
from store.errors import PortalError, StaleEdit
from tui import bindings
from tui.calls import call
from tui.messages import CustomerEdited, CustomerRead, FormRefused
from tui.screens.customer_form import CustomerForm
from tui.widgets.footer import Footer

# field id (as store errors name it), label, placeholder
FIELDS = (
    ("name", "Name", "e.g. Ada Lovelace"),
    ("company", "Company", "optional"),
    ("primary_email", "Primary Email Address", "one or more, separated by , ; or spaces"),
)


class EditCustomerScreen(CustomerForm[CustomerUpdate | None]):
    """Edit one customer's details; dismisses with what the save did, or None when cancelled."""

    AUTO_FOCUS = "#field-primary_email"

    CSS_PATH = "edit_customer.tcss"
    BINDINGS = list(bindings.EDIT_CUSTOMER)
    FIELDS = FIELDS
    SAVE_GROUP = "edit-customer"

    def __init__(self, detail: CustomerDetail) -> None:
        super().__init__()
        # The details the agent's edit is based on (see the module docstring).
        self.base = detail
        # Set after a refused stale Save: the next read replaces what the fields hold.
        self._reset_fields = False

    def compose(self) -> ComposeResult:
        with Vertical(id="edit-customer-dialog"):
            yield Label(f"Edit customer {self.base.reference}", id="edit-customer-title")
            for field, label, placeholder in FIELDS:
                with Horizontal(classes="form-row"):
                    yield Label(label, classes="form-label")
                    yield Input(getattr(self.base, field), placeholder=placeholder, id=f"field-{field}",
                                max_length=2000, select_on_focus=False)
                yield Label("", id=f"error-{field}", classes="field-error")
                yield Static("", id=f"changed-{field}", classes="field-warning", markup=False)
            yield Static("A new Primary Email Address stops the setup and reset links sent to the old one.",
                         id="edit-customer-note", classes="muted")
            with Horizontal(id="edit-customer-buttons"):
                yield Label("ctrl+s saves · esc cancels", classes="muted", id="edit-customer-hint")
                yield Button("Save", id="save-button", variant="primary", compact=True)
                yield Button("Cancel", id="cancel-button", compact=True)
        # The form's own keys, not the dashboard's underneath.
        yield Footer()

    def on_mount(self) -> None:
        for field, _, _ in FIELDS:
            self.query_one(f"#changed-{field}", Static).display = False
        self.set_interval(self.app.poll_seconds, self._check)

    # --- changes made elsewhere while the form is open ------------------------

    @work(thread=True, exclusive=True, group="edit-customer-check", exit_on_error=False)
    def _check(self) -> None:
        try:
            self.post_message(CustomerRead(call(get_customer, self.base.reference)))
        except PortalError:
            pass  # the next tick tries again; Save reports a lasting failure

    @on(CustomerRead)
    def _compare(self, message: CustomerRead) -> None:
        message.stop()
        stored = message.detail
        if self._reset_fields:
            self._reset_fields = False
            for field, _, _ in FIELDS:
                self.query_one(f"#field-{field}", Input).value = getattr(stored, field)
            self.base = stored
        changed = details_changed_since(self.base, stored)
        if not changed:
            self.base = stored
        for field, _, _ in FIELDS:
            note = self.query_one(f"#changed-{field}", Static)
            if field in changed:
                now = changed[field] or "(empty)"
                note.update(f"Changed elsewhere to {now!r} while you were editing; Save will be refused.")
            note.display = field in changed

    # --- saving -----------------------------------------------------------------

    def action_save(self) -> None:
        if self.begin_save():
            self._save(self.base.reference, self.base.version, self.values(), self.app.agent)

    @work(thread=True, exclusive=True, group="edit-customer", exit_on_error=False)
    def _save(self, reference: str, version: int, values: dict[str, str], agent: str) -> None:
        try:
            update = call(update_customer, reference, expected_version=version, actor=agent, **values)
        except PortalError as error:
            self.post_message(FormRefused(error))
        else:
            self.post_message(CustomerEdited(update))

    @on(FormRefused)
    def _refused(self, message: FormRefused) -> None:
        message.stop()
        error = message.error
        if self.show_refusal(error):
            return
        if isinstance(error, StaleEdit):
            # The error modal says the screen now shows the current values: the form reads
            # them into its fields, and the next Save starts from them.
            self._reset_fields = True
            self._check()
        self.app.show_error(error)

    @on(CustomerEdited)
    def _saved(self, message: CustomerEdited) -> None:
        message.stop()
        self.dismiss(message.update)
