"""New customer: name, company, Primary Email Address (several allowed), reference.

A refused value is said under its field and nothing is written; on success the
console says whether the Customer Credential Create email was queued, and opens
the new customer's dashboard.
"""
from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label

from store.customers import add_customer
from store.errors import PortalError
from tui import bindings
from tui.calls import call
from tui.messages import CustomerAdded, FormRefused
from tui.screens.customer_form import CustomerForm

# field id (as store errors name it), label, placeholder
FIELDS = (
    ("name", "Name", "e.g. Ada Lovelace"),
    ("company", "Company", "optional"),
    ("primary_email", "Primary Email Address", "one or more, separated by , ; or spaces"),
    ("reference", "Reference", "blank: the next C number"),
)


class NewCustomerScreen(CustomerForm[str | None]):
    """Add a customer; dismisses with the new reference, or None when cancelled."""

    # Focused when the screen opens (Textual's auto focus), so keys typed meanwhile land here (tui/typeahead.py).
    AUTO_FOCUS = "#field-name"

    CSS_PATH = "new_customer.tcss"
    BINDINGS = list(bindings.NEW_CUSTOMER)
    FIELDS = FIELDS
    SAVE_GROUP = "new-customer"

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

    def action_save(self) -> None:
        if self.begin_save():
            self._add(self.values(), self.app.agent)

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

    @on(FormRefused)
    def _refused(self, message: FormRefused) -> None:
        message.stop()
        if not self.show_refusal(message.error):
            self.app.show_error(message.error)

    @on(CustomerAdded)
    def _saved(self, message: CustomerAdded) -> None:
        message.stop()
        self.app.notify(message.text, title=f"Customer {message.reference} added")
        self.dismiss(message.reference)
