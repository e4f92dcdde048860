"""New customer: name, company, Primary Email Address (several allowed), reference.

A refused value is said under its field and nothing is written; on success the
console says whether the Customer Credential Create email was queued, and opens
the new customer's dashboard.
"""
from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label
from textual.worker import Worker, WorkerState

from store.customers import add_customer
from store.errors import PortalError
from tui import bindings
from tui.calls import call
from tui.messages import CustomerAdded, FormRefused
from tui.workers import ReportsWorkerErrors

# field id (as store errors name it), label, placeholder
FIELDS = (
    ("name", "Name", "e.g. Ada Lovelace"),
    ("company", "Company", "optional"),
    ("primary_email", "Primary Email Address", "one or more, separated by , ; or spaces"),
    ("reference", "Reference", "blank: the next C number"),
)


class NewCustomerScreen(ReportsWorkerErrors, ModalScreen[str | None]):
    """Add a customer; dismisses with the new reference, or None when cancelled."""

    # Focused when the screen opens (Textual's auto focus), so keys typed meanwhile land here (tui/typeahead.py).
    AUTO_FOCUS = "#field-name"

    CSS_PATH = "new_customer.tcss"
    BINDINGS = list(bindings.NEW_CUSTOMER)

    def __init__(self) -> None:
        super().__init__()
        self._saving = False

    def compose(self) -> ComposeResult:
        with Vertical(id="new-customer-dialog"):
            yield Label("New customer", id="new-customer-title")
            with VerticalScroll(id="new-customer-fields"):
                for field, label, placeholder in FIELDS:
                    with Horizontal(classes="form-row"):
                        yield Label(label, classes="form-label")
                        yield Input(placeholder=placeholder, id=f"field-{field}", max_length=2000,
                                    select_on_focus=False)
                    yield Label("", id=f"error-{field}", classes="field-error")
            with Horizontal(id="new-customer-buttons"):
                yield Label("ctrl+s saves · esc cancels", classes="muted", id="new-customer-hint")
                yield Button("Save", id="save-button", variant="primary", compact=True)
                yield Button("Cancel", id="cancel-button", compact=True)

    def _value(self, field: str) -> str:
        return self.query_one(f"#field-{field}", Input).value

    def show_error(self, field: str, message: str | None) -> None:
        """Say (or clear, with None) what is wrong under one field."""
        label = self.query_one(f"#error-{field}", Label)
        label.update(message or "")
        label.set_class(message is not None, "-shown")
        self.query_one(f"#field-{field}", Input).set_class(message is not None, "-invalid")

    @on(Input.Changed)
    def _edited(self, event: Input.Changed) -> None:
        if event.input.id and event.input.id.startswith("field-"):
            self.show_error(event.input.id.removeprefix("field-"), None)

    @on(Input.Submitted)
    def _next_or_save(self, event: Input.Submitted) -> None:
        if event.input.id == f"field-{FIELDS[-1][0]}":
            self.action_save()
        else:
            self.focus_next()

    @on(Button.Pressed, "#save-button")
    def action_save(self) -> None:
        if self._saving:
            return
        self._saving = True
        self.query_one("#save-button", Button).disabled = True
        self._add({field: self._value(field) for field, _, _ in FIELDS}, self.app.agent)

    @on(Button.Pressed, "#cancel-button")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @work(thread=True, exclusive=True, group="new-customer", exit_on_error=False)
    def _add(self, values: dict[str, str], agent: str) -> None:
        try:
            new = call(add_customer, name=values["name"], company=values["company"],
                       primary_email=values["primary_email"], reference=values["reference"] or None, actor=agent)
            # Nothing more is read after the save: a failure now would look as if nothing was saved.
            if new.credential_create_queued:
                text = f"Customer Credential Create email queued to {', '.join(new.queued_to)}."
            else:
                text = f"No Customer Credential Create email: {new.not_queued_reason}"
        except PortalError as error:
            self.post_message(FormRefused(error))
        else:
            self.post_message(CustomerAdded(new.reference, text))

    @on(Worker.StateChanged)
    def _save_broke(self, event: Worker.StateChanged) -> None:
        # An unexpected error (the app shows it): Save works again, what was typed stays.
        if event.worker.group == "new-customer" and event.state is WorkerState.ERROR:
            self._saving = False
            self.query_one("#save-button", Button).disabled = False

    @on(FormRefused)
    def _refused(self, message: FormRefused) -> None:
        message.stop()
        self._saving = False
        self.query_one("#save-button", Button).disabled = False
        error = message.error
        if error.field in {field for field, _, _ in FIELDS}:
            self.show_error(error.field, error.message)
            self.query_one(f"#field-{error.field}", Input).focus()
        else:
            self.app.show_error(error)

    @on(CustomerAdded)
    def _saved(self, message: CustomerAdded) -> None:
        message.stop()
        self.app.notify(message.text, title=f"Customer {message.reference} added")
        self.dismiss(message.reference)
